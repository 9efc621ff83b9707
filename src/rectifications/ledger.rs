//! The ledger (整改台账): the filtered list of items as the table offices keep and hand
//! to assessors, in CSV (UTF-8 with a BOM, so Excel reads the Chinese) or XLSX (a header
//! row, frozen panes, dates as dates).
//!
//! A year's ledger may hold 100,000 rows, so it is never built in memory: rows are read in
//! batches by keyset (reported time, then id — both never change, so no row is read twice
//! or skipped while others are written) on a blocking thread, and each batch is sent to
//! the response as soon as it is written. CSV goes out batch by batch; XLSX is a zip whose
//! rows `rust_xlsxwriter` keeps in a temporary file (its constant-memory mode) until the
//! archive is written out at the end.

use std::collections::HashMap;
use std::io::Write;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures_util::Stream;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::scope::Subject;
use crate::db::schema::{categories, rectifications};
use crate::db::{DbConnection, PooledConnection};
use crate::deadlines::{self, WarningRules};
use crate::error::{AppError, AppResult};
use crate::ids::{AttachmentId, CategoryId, RectificationId};
use crate::names::Names;
use crate::rectifications::forms::ItemFilter;
use crate::rectifications::model::{self, ItemRow};
use crate::rectifications::rules::{local_offset, ItemStatus, Source, Stage};

/// What the ledger comes as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LedgerFormat {
    /// UTF-8 with a byte-order mark.
    #[default]
    Csv,
    Xlsx,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// `csv` (default) or `xlsx`.
    #[param(inline)]
    pub format: Option<LedgerFormat>,
}

/// An XLSX file, as the spec shows it.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // describes the download for the spec; the handler streams the bytes
pub struct XlsxBody(Vec<u8>);

/// The columns, as offices name them.
pub const HEADERS: [&str; 14] = [
    "编号",
    "问题类别",
    "位置",
    "发现时间",
    "发现人",
    "来源",
    "责任单位",
    "整改期限",
    "状态",
    "超期天数",
    "返工次数",
    "办结时间",
    "整改前照片",
    "整改后照片",
];

pub fn source_label(source: Source) -> &'static str {
    match source {
        Source::Patrol => "巡查",
        Source::Inspection => "检查",
        Source::Unannounced => "暗访",
        Source::Public => "群众反映",
        Source::Directive => "交办",
        Source::Other => "其他",
    }
}

pub fn status_label(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Reported => "待分派",
        ItemStatus::Assigned => "已派遣",
        ItemStatus::InProgress => "整改中",
        ItemStatus::Submitted => "待核查",
        ItemStatus::Accepted => "已办结",
        ItemStatus::Cancelled => "已撤销",
        ItemStatus::Duplicate => "重复",
    }
}

/// One line of the ledger. Times are the district's local time (China Standard Time).
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub number: String,
    pub category: String,
    pub place: String,
    pub reported_at: NaiveDateTime,
    pub reporter: String,
    pub source: &'static str,
    pub unit: String,
    pub due_at: NaiveDateTime,
    pub status: &'static str,
    pub days_overdue: i64,
    pub rework_count: i32,
    pub closed_at: Option<NaiveDateTime>,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

fn local(t: NaiveDateTime) -> NaiveDateTime {
    t.and_utc().with_timezone(&local_offset()).naive_local()
}

/// What an export needs: whose ledger, which items, and how to link the photos.
#[derive(Debug, Clone)]
pub struct Export {
    pub subject: Subject,
    pub filter: ItemFilter,
    pub now: NaiveDateTime,
    pub warnings: WarningRules,
    /// `https://host`, for the photos' links.
    pub base_url: String,
}

/// The ledger lines of a batch of rows (names, categories and photos loaded together).
fn lines(
    conn: &mut DbConnection,
    rows: Vec<ItemRow>,
    export: &Export,
) -> AppResult<Vec<LedgerRow>> {
    let names = Names::load(
        conn,
        rows.iter()
            .flat_map(|r| std::iter::once(r.grid_id).chain(r.unit_id)),
        rows.iter().map(|r| r.reported_by),
    )?;
    let mut category_ids: Vec<CategoryId> = rows.iter().map(|r| r.category_id).collect();
    category_ids.sort();
    category_ids.dedup();
    let category_names: HashMap<CategoryId, String> = categories::table
        .filter(crate::db::in_list(categories::id, category_ids))
        .select((categories::id, categories::name))
        .load::<(CategoryId, String)>(conn)?
        .into_iter()
        .collect();
    let ids: Vec<RectificationId> = rows.iter().map(|r| r.id).collect();
    let mut files = model::attachments_of(conn, &ids)?;
    let link = |id: &AttachmentId| format!("{}/api/v1/attachments/{id}", export.base_url);
    Ok(rows
        .into_iter()
        .map(|row| {
            let grid = names.unit(row.grid_id);
            let before = files.remove(&(row.id, Stage::Report)).unwrap_or_default();
            let after = files.remove(&(row.id, Stage::Evidence)).unwrap_or_default();
            LedgerRow {
                category: category_names
                    .get(&row.category_id)
                    .cloned()
                    .unwrap_or_default(),
                place: if row.address.trim().is_empty() {
                    grid
                } else {
                    format!("{}（{grid}）", row.address.trim())
                },
                reported_at: local(row.created_at),
                reporter: names.user(row.reported_by),
                source: source_label(row.source),
                unit: row.unit_id.map(|u| names.unit(u)).unwrap_or_default(),
                due_at: local(row.due_at),
                status: status_label(row.status),
                days_overdue: if row.status.is_open() || row.status == ItemStatus::Accepted {
                    deadlines::days_overdue(row.original_due_at, row.closed_at, export.now)
                } else {
                    0
                },
                rework_count: row.rework_count,
                closed_at: row.accepted_at().map(local),
                before: before.iter().map(link).collect(),
                after: after.iter().map(link).collect(),
                number: row.number,
            }
        })
        .collect())
}

/// Rows per batch read.
const BATCH: i64 = 500;

/// Reads the export's items in batches, oldest first, handing each batch's lines to
/// `sink`; stops early when `sink` says so (the client went away).
pub fn read(
    conn: &mut DbConnection,
    export: &Export,
    mut sink: impl FnMut(Vec<LedgerRow>) -> bool,
) -> AppResult<()> {
    let Some(under) = model::unit_filter_path(conn, &export.filter)? else {
        return Ok(());
    };
    let mut after: Option<(NaiveDateTime, RectificationId)> = None;
    loop {
        let mut q = model::filtered(
            &export.subject,
            &export.filter,
            under.as_deref(),
            export.now,
            &export.warnings,
        )
        // What is reported while the export runs is for the next one.
        .filter(rectifications::created_at.le(export.now));
        if let Some((at, id)) = after {
            // `created_at >= at` alone is what an index range starts from; the rest drops
            // what the last batch already had at that moment.
            q = q.filter(rectifications::created_at.ge(at)).filter(
                rectifications::created_at
                    .gt(at)
                    .or(rectifications::id.gt(id)),
            );
        }
        let rows: Vec<ItemRow> = q
            .order((rectifications::created_at.asc(), rectifications::id.asc()))
            .limit(BATCH)
            .select(ItemRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some((last.created_at, last.id));
        let full = rows.len() as i64 == BATCH;
        if !sink(lines(conn, rows, export)?) || !full {
            return Ok(());
        }
    }
}

/// A CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, return)
/// is prefixed with `'`, so a report's text never executes on an assessor's machine.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The CSV of some lines (with the BOM and the header first when `first`).
pub fn csv_bytes(lines: &[LedgerRow], first: bool) -> AppResult<Vec<u8>> {
    let failed = |e: csv::Error| AppError::internal(format!("writing the ledger: {e}"));
    let mut out = Vec::new();
    if first {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    if first {
        w.write_record(HEADERS).map_err(failed)?;
    }
    for l in lines {
        w.write_record([
            cell(&l.number),
            cell(&l.category),
            cell(&l.place),
            stamp(l.reported_at),
            cell(&l.reporter),
            l.source.to_string(),
            cell(&l.unit),
            stamp(l.due_at),
            l.status.to_string(),
            l.days_overdue.to_string(),
            l.rework_count.to_string(),
            l.closed_at.map(stamp).unwrap_or_default(),
            l.before.join("\n"),
            l.after.join("\n"),
        ])
        .map_err(failed)?;
    }
    w.into_inner()
        .map_err(|e| AppError::internal(format!("writing the ledger: {e}")))
}

type Chunk = Result<actix_web::web::Bytes, std::io::Error>;

/// Sends what is written to it to the response, a chunk at a time; fails once the client
/// has gone.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Chunk>,
    buffer: Vec<u8>,
}

const CHUNK_BYTES: usize = 64 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = actix_web::web::Bytes::from(std::mem::take(&mut self.buffer));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

fn xlsx_failed(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(format!("writing the ledger: {e}"))
}

/// Writes the whole ledger as an XLSX workbook into `out`.
fn write_xlsx(conn: &mut DbConnection, export: &Export, out: &mut ChannelWriter) -> AppResult<()> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name("整改台账").map_err(xlsx_failed)?;
    let widths = [16, 14, 30, 17, 10, 8, 18, 17, 8, 9, 9, 17, 40, 40];
    for (col, width) in (0u16..).zip(widths) {
        sheet.set_column_width(col, width).map_err(xlsx_failed)?;
    }
    sheet.set_freeze_panes(1, 1).map_err(xlsx_failed)?;
    for (col, title) in (0u16..).zip(HEADERS) {
        sheet
            .write_string_with_format(0, col, title, &bold)
            .map_err(xlsx_failed)?;
    }
    let mut row: u32 = 0;
    let mut failure: Option<AppError> = None;
    read(conn, export, |lines| {
        for l in lines {
            row += 1;
            let written = (|| -> Result<(), rust_xlsxwriter::XlsxError> {
                sheet.write_string(row, 0, &l.number)?;
                sheet.write_string(row, 1, &l.category)?;
                sheet.write_string(row, 2, &l.place)?;
                sheet.write_datetime_with_format(row, 3, l.reported_at, &date)?;
                sheet.write_string(row, 4, &l.reporter)?;
                sheet.write_string(row, 5, l.source)?;
                sheet.write_string(row, 6, &l.unit)?;
                sheet.write_datetime_with_format(row, 7, l.due_at, &date)?;
                sheet.write_string(row, 8, l.status)?;
                sheet.write_number(row, 9, l.days_overdue as f64)?;
                sheet.write_number(row, 10, f64::from(l.rework_count))?;
                if let Some(closed) = l.closed_at {
                    sheet.write_datetime_with_format(row, 11, closed, &date)?;
                }
                for (col, links) in [(12u16, &l.before), (13, &l.after)] {
                    match links.as_slice() {
                        [] => {}
                        [one] => {
                            sheet.write_url_with_text(row, col, one.as_str(), "照片")?;
                        }
                        many => {
                            sheet.write_string_with_format(row, col, many.join("\n"), &wrap)?;
                        }
                    }
                }
                Ok(())
            })();
            if let Err(e) = written {
                failure = Some(xlsx_failed(e));
                return false;
            }
        }
        true
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    workbook.save_to_writer(out).map_err(xlsx_failed)
}

/// The ledger as a response body. The work runs on a blocking thread with `conn`, a
/// connection of its own (taken before the answer starts, so a busy pool is a 503, not a
/// truncated file); a bounded channel paces it to the client, and a client that goes away
/// stops it. A failure half-way ends the body early (the status is already sent), and is
/// logged.
pub fn stream(
    mut conn: PooledConnection,
    export: Export,
    format: LedgerFormat,
) -> impl Stream<Item = Chunk> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(4);
    let span = tracing::Span::current();
    actix_web::rt::task::spawn_blocking(move || {
        let _entered = span.enter();
        let fail = tx.clone();
        let outcome = (|| -> AppResult<()> {
            match format {
                LedgerFormat::Csv => {
                    let mut first = true;
                    let mut failure: Option<AppError> = None;
                    read(&mut conn, &export, |lines| {
                        let bytes = match csv_bytes(&lines, first) {
                            Ok(bytes) => bytes,
                            Err(e) => {
                                failure = Some(e);
                                return false;
                            }
                        };
                        first = false;
                        tx.blocking_send(Ok(bytes.into())).is_ok()
                    })?;
                    if let Some(e) = failure {
                        return Err(e);
                    }
                    if first {
                        // Nothing matched: the header alone.
                        let _ = tx.blocking_send(Ok(csv_bytes(&[], true)?.into()));
                    }
                    Ok(())
                }
                LedgerFormat::Xlsx => {
                    let mut out = ChannelWriter {
                        tx: tx.clone(),
                        buffer: Vec::new(),
                    };
                    write_xlsx(&mut conn, &export, &mut out)?;
                    out.flush()
                        .map_err(|e| AppError::internal(format!("sending the ledger: {e}")))
                }
            }
        })();
        if let Err(e) = outcome {
            tracing::error!(error = %e, "the ledger export failed half-way");
            let _ = fail.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> LedgerRow {
        let at = chrono::NaiveDate::from_ymd_opt(2020, 7, 24)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        LedgerRow {
            number: "ZG-2020-000001".into(),
            category: "公益广告牌破损".into(),
            place: "国道106沿线（马岭岗镇第一网格）".into(),
            reported_at: at,
            reporter: "=HYPERLINK(\"http://x\")".into(),
            source: "巡查",
            unit: "马岭岗镇".into(),
            due_at: at,
            status: "已办结",
            days_overdue: 2,
            rework_count: 1,
            closed_at: Some(at),
            before: vec!["https://h/api/v1/attachments/a".into()],
            after: vec!["https://h/a/1".into(), "https://h/a/2".into()],
        }
    }

    #[test]
    fn csv_starts_with_a_bom_and_the_header_and_defuses_formulas() {
        let bytes = csv_bytes(&[line()], true).unwrap();
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let mut rows = text.split("\r\n");
        assert_eq!(rows.next().unwrap(), HEADERS.join(","));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(&bytes[3..]);
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[0], "ZG-2020-000001");
        assert_eq!(&record[3], "2020-07-24 09:30");
        // A formula in a name is text, not a formula.
        assert_eq!(&record[4], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&record[9], "2");
        // Two photos in one cell, one per line.
        assert_eq!(&record[13], "https://h/a/1\nhttps://h/a/2");
        // A later batch has no BOM and no header.
        let later = csv_bytes(&[line()], false).unwrap();
        assert!(later.starts_with(b"ZG-2020-000001,"));
    }

    #[test]
    fn labels_are_chinese() {
        assert_eq!(status_label(ItemStatus::Submitted), "待核查");
        assert_eq!(source_label(Source::Unannounced), "暗访");
        for status in ItemStatus::ALL {
            assert!(!status_label(*status).is_ascii());
        }
    }
}
