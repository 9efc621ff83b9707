//! Attachment rows: who uploaded what, and what it is.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::attachments::rules::ContentType;
use crate::attachments::store::Stored;
use crate::auth::{Action, Actor, OwnerRole, Resource};
use crate::db::schema::{
    attachments, patrol_visit_attachments, patrol_visits, patrols, rectification_attachments,
    rectifications, units,
};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{AttachmentId, UserId};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    pub sha256: String,
    pub content_type: ContentType,
    pub bytes: i64,
    pub file_name: String,
    pub taken_at: Option<NaiveDateTime>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub uploaded_by: UserId,
    pub created_at: NaiveDateTime,
}

impl AttachmentRow {
    /// As the policy sees it: owned by its uploader. (The items it is evidence for will
    /// let those who see them read it too.)
    pub fn resource(&self) -> Resource<'static> {
        Resource::collection().owned(OwnerRole::Creator, Some(self.uploaded_by))
    }
}

/// An attachment as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    #[schema(value_type = String, format = Uuid)]
    pub id: AttachmentId,
    /// The SHA-256 of the file, in hex.
    pub sha256: String,
    /// Recognised from the content: `image/jpeg`, `image/png`, `image/webp`,
    /// `application/pdf`.
    #[schema(value_type = ContentType)]
    pub content_type: ContentType,
    pub bytes: i64,
    /// The name it was sent with (shown only).
    pub file_name: String,
    /// When the photo was taken, from its EXIF (the camera's local time).
    pub taken_at: Option<NaiveDateTime>,
    /// Where, from its EXIF (WGS-84).
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[schema(value_type = String, format = Uuid)]
    pub uploaded_by: UserId,
    pub created_at: DateTime<Utc>,
}

impl From<AttachmentRow> for Attachment {
    fn from(row: AttachmentRow) -> Self {
        Attachment {
            id: row.id,
            sha256: row.sha256,
            content_type: row.content_type,
            bytes: row.bytes,
            file_name: row.file_name,
            taken_at: row.taken_at,
            lat: row.lat,
            lon: row.lon,
            uploaded_by: row.uploaded_by,
            created_at: row.created_at.and_utc(),
        }
    }
}

pub fn create(
    conn: &mut DbConnection,
    uploader: UserId,
    stored: &Stored,
    file_name: &str,
    now: NaiveDateTime,
) -> AppResult<AttachmentRow> {
    let row = AttachmentRow {
        id: AttachmentId::new(),
        sha256: stored.sha256.clone(),
        content_type: stored.content_type,
        bytes: i64::try_from(stored.bytes).unwrap_or(i64::MAX),
        file_name: file_name.to_string(),
        taken_at: stored.taken_at,
        lat: stored.lat,
        lon: stored.lon,
        uploaded_by: uploader,
        created_at: now,
    };
    diesel::insert_into(attachments::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: AttachmentId) -> AppResult<AttachmentRow> {
    attachments::table
        .find(id)
        .select(AttachmentRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("attachment"))
}

/// The attachments a form names in `field` (`attachment_ids`): each must exist and have
/// been uploaded by the caller — a report cannot borrow another user's photos.
pub fn own_attachments(
    conn: &mut DbConnection,
    actor: &Actor,
    ids: &[AttachmentId],
    field: &str,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mine: Vec<AttachmentId> = attachments::table
        .filter(crate::db::in_list(attachments::id, ids))
        .filter(attachments::uploaded_by.eq(actor.id))
        .select(attachments::id)
        .load(conn)?;
    let errors: Vec<FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !mine.contains(id))
        .map(|(i, _)| FieldError::new(format!("{field}[{i}]"), "no such attachment of yours"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// May the caller read this attachment through a record it belongs to: an item it is a
/// photo or evidence of, or a patrol visit it was taken on? Whoever sees the record does
/// (the policy decides, from the record's units), as the record's own page shows it.
pub fn readable_through_records(
    conn: &mut DbConnection,
    actor: &Actor,
    attachment: AttachmentId,
) -> AppResult<bool> {
    let (grids, owners) = diesel::alias!(units as grids, units as owners);
    let items: Vec<(String, Option<String>)> = rectification_attachments::table
        .inner_join(
            rectifications::table
                .on(rectifications::id.eq(rectification_attachments::rectification_id)),
        )
        .inner_join(grids.on(grids.field(units::id).eq(rectifications::grid_id)))
        .left_join(owners.on(rectifications::unit_id.eq(owners.field(units::id).nullable())))
        .filter(rectification_attachments::attachment_id.eq(attachment))
        .select((
            grids.field(units::path),
            owners.field(units::path).nullable(),
        ))
        .limit(20)
        .load(conn)?;
    let through_item = items.iter().any(|(grid, unit)| {
        let paths = std::iter::once(grid.as_str()).chain(unit.as_deref());
        actor.may(Action::ReadWork, &Resource::of_units(paths))
    });
    if through_item {
        return Ok(true);
    }
    let visits: Vec<String> = patrol_visit_attachments::table
        .inner_join(
            patrol_visits::table.on(patrol_visits::id.eq(patrol_visit_attachments::visit_id)),
        )
        .inner_join(patrols::table.on(patrols::id.eq(patrol_visits::patrol_id)))
        .inner_join(units::table.on(units::id.eq(patrols::grid_id)))
        .filter(patrol_visit_attachments::attachment_id.eq(attachment))
        .select(units::path)
        .limit(20)
        .load(conn)?;
    Ok(visits
        .iter()
        .any(|grid| actor.may(Action::ReadWork, &Resource::of_unit(grid))))
}
