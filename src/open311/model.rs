//! What Open311 shows and does over the rectification domain: categories as services
//! (their attribute specs as a service definition), items as service requests (never
//! with contact details), a posted report filed through `rectifications::model::create`
//! with source `public`, and the API keys apps post with.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::scope::Subject;
use crate::auth::{Actor, Role};
use crate::categories::model::CategoryRow;
use crate::categories::rules::AttributeType;
use crate::db::page::{paginate, Listed, Order, Paging};
use crate::db::schema::{
    categories, events, open311_keys, open311_reports, rectifications, units, users,
};
use crate::db::{self, DbConnection};
use crate::error::{AppError, AppResult};
use crate::events::Entity;
use crate::ids::{CategoryId, Open311KeyId, RectificationId, SessionId, UnitId, UserId};
use crate::names::Names;
use crate::open311::error::Failure;
use crate::open311::forms::{RequestDraft, RequestFilter};
use crate::open311::rules::{self, Datatype, RequestStatus};
use crate::rectifications::forms::ItemDraft;
use crate::rectifications::model::Reporting;
use crate::rectifications::rules::{ItemStatus, Source};

crate::text_enum! {
    /// How a service answers a report (GeoReport v2).
    pub enum ServiceType {
        /// The report is filed at once and its id answered: every service here.
        Realtime = "realtime",
        Batch = "batch",
        Blackbox = "blackbox",
    }
}

/// A service: an active category of problem.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Service {
    /// The category's code (`GGP-PS`).
    pub service_code: String,
    /// The category's name (公益广告牌破损).
    pub service_name: String,
    pub description: String,
    /// The category asks for extra fields: see `GET services/{service_code}`.
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: ServiceType,
    /// The category's code, to search by.
    pub keywords: String,
    /// The unit that manages the category.
    pub group: String,
}

/// One value of a list attribute.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

/// One extra field of a service's reports.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceAttribute {
    /// Always true: every field is the user's input.
    pub variable: bool,
    /// Sent as `attribute[<code>]`.
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: Option<String>,
    /// From 1, in the category's order.
    pub order: u32,
    /// The field's label (损坏情况).
    pub description: String,
    /// The choices of a `singlevaluelist` (empty otherwise).
    pub values: Vec<AttributeValue>,
}

/// What a service's reports carry besides the standard fields.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<ServiceAttribute>,
}

/// A service request: a rectification item as the public may see it (no contact
/// details, no internal fields).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceRequest {
    /// The item's number (`ZG-2020-000123`).
    pub service_request_id: String,
    pub status: RequestStatus,
    /// The note of the item's last change of status, if it had one.
    pub status_notes: Option<String>,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    /// The responsible unit; none while the item waits to be routed.
    pub agency_responsible: Option<String>,
    /// Where it went and by when, while it is open.
    pub service_notice: Option<String>,
    /// ISO 8601 with the district's offset.
    pub requested_datetime: String,
    pub updated_datetime: String,
    /// The deadline.
    pub expected_datetime: Option<String>,
    pub address: String,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    /// WGS-84.
    pub lat: f64,
    pub long: f64,
    /// The photo URL a public report was sent with (the service's own photos need a
    /// login and are not linked).
    pub media_url: Option<String>,
}

/// The answer to a report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Created {
    /// The new item's number.
    pub service_request_id: String,
    /// The item's id, for `GET tokens/{token}`.
    pub token: String,
    pub service_notice: Option<String>,
    /// As the app sent it.
    pub account_id: Option<String>,
}

/// The answer of `GET tokens/{token}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenAnswer {
    pub service_request_id: Option<String>,
    pub token: String,
}

/// Service discovery: where the endpoint is and what it speaks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Discovery {
    pub changeset: String,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<DiscoveryEndpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiscoveryEndpoint {
    pub specification: String,
    pub url: String,
    pub changeset: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub formats: Vec<String>,
}

/// When this endpoint last changed what it speaks.
pub const CHANGESET: &str = "2026-12-05T00:00:00Z";

pub fn discovery(base_url: &str) -> Discovery {
    Discovery {
        changeset: CHANGESET.into(),
        contact: "The district's rectification office (整改办) administers this service.".into(),
        key_service: "API keys are issued by an administrator (POST /api/v1/open311/keys).".into(),
        endpoints: vec![DiscoveryEndpoint {
            specification: "http://wiki.open311.org/GeoReport_v2".into(),
            url: format!("{base_url}/open311/v2"),
            changeset: CHANGESET.into(),
            kind: "production".into(),
            formats: vec!["text/xml".into(), "application/json".into()],
        }],
    }
}

// ---- services -----------------------------------------------------------------------

/// The active categories, by code.
pub fn services(conn: &mut DbConnection) -> AppResult<Vec<Service>> {
    let rows: Vec<CategoryRow> = categories::table
        .filter(categories::active.eq(true))
        .order(categories::code.asc())
        .select(CategoryRow::as_select())
        .load(conn)?;
    let names = Names::load(conn, rows.iter().map(|r| r.managed_by), [])?;
    rows.into_iter()
        .map(|row| {
            Ok(Service {
                metadata: !row.attribute_specs()?.is_empty(),
                kind: ServiceType::Realtime,
                keywords: row.code.clone(),
                group: names.unit(row.managed_by),
                service_code: row.code,
                service_name: row.name,
                description: row.description,
            })
        })
        .collect()
}

/// The active category with this code (codes ignore case), or 404.
fn service(conn: &mut DbConnection, code: &str) -> Result<CategoryRow, Failure> {
    match crate::categories::model::find_by_code(conn, code)? {
        Some(row) if row.active => Ok(row),
        _ => Err(Failure::not_found(format!(
            "service_code `{code}` not found"
        ))),
    }
}

pub fn service_definition(
    conn: &mut DbConnection,
    code: &str,
) -> Result<ServiceDefinition, Failure> {
    let row = service(conn, code)?;
    let attributes = row
        .attribute_specs()?
        .into_iter()
        .enumerate()
        .map(|(i, spec)| ServiceAttribute {
            variable: true,
            datatype: rules::datatype(spec.kind),
            required: spec.required,
            datatype_description: None,
            order: u32::try_from(i + 1).unwrap_or(u32::MAX),
            description: spec.label,
            values: spec
                .choices
                .iter()
                .map(|c| AttributeValue {
                    key: c.clone(),
                    name: c.clone(),
                })
                .collect(),
            code: spec.code,
        })
        .collect();
    Ok(ServiceDefinition {
        service_code: row.code,
        attributes,
    })
}

// ---- requests -----------------------------------------------------------------------

type RequestRow = (
    RectificationId,
    String,
    ItemStatus,
    String,
    String,
    f64,
    f64,
    NaiveDateTime,
    NaiveDateTime,
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The notes of the items' last changes of status (a transition that moved the item; a
/// request for more time or a report keeps the status and is not told).
fn status_notes(
    conn: &mut DbConnection,
    ids: &[RectificationId],
) -> AppResult<HashMap<String, Option<String>>> {
    let mut notes = HashMap::new();
    if ids.is_empty() {
        return Ok(notes);
    }
    let keys: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    type NoteRow = (String, Option<String>, Option<String>, Option<String>);
    let rows: Vec<NoteRow> = events::table
        .filter(events::entity.eq(Entity::Rectification))
        .filter(crate::db::in_list(events::entity_id, &keys))
        .filter(events::from_status.is_not_null())
        .filter(events::to_status.is_not_null())
        .order((events::at.asc(), events::id.asc()))
        .select((
            events::entity_id,
            events::from_status,
            events::to_status,
            events::note,
        ))
        .load(conn)?;
    for (item, from, to, note) in rows {
        if from != to {
            notes.insert(item, note);
        }
    }
    Ok(notes)
}

fn to_requests(conn: &mut DbConnection, rows: Vec<RequestRow>) -> AppResult<Vec<ServiceRequest>> {
    let ids: Vec<RectificationId> = rows.iter().map(|r| r.0).collect();
    let mut notes = status_notes(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                number,
                status,
                description,
                address,
                lat,
                lon,
                created_at,
                updated_at,
                due_at,
                code,
                name,
                unit,
                media_url,
                address_id,
            )| ServiceRequest {
                service_request_id: number,
                status: RequestStatus::of(status),
                status_notes: notes.remove(id.as_str()).flatten(),
                service_name: name,
                service_code: code,
                description,
                service_notice: rules::notice(status, unit.as_deref(), due_at),
                agency_responsible: unit,
                requested_datetime: rules::datetime(created_at),
                updated_datetime: rules::datetime(updated_at),
                expected_datetime: Some(rules::datetime(due_at)),
                address,
                address_id,
                zipcode: None,
                lat,
                long: lon,
                media_url,
            },
        )
        .collect())
}

/// The requests a search asks for, newest first, at most [`rules::MAX_RESULTS`]. Every
/// item is public here; what is shown of it is [`ServiceRequest`].
pub fn requests(
    conn: &mut DbConnection,
    filter: &RequestFilter,
) -> Result<Vec<ServiceRequest>, Failure> {
    let mut query = rectifications::table
        .inner_join(categories::table.on(categories::id.eq(rectifications::category_id)))
        .left_join(units::table.on(rectifications::unit_id.eq(units::id.nullable())))
        .left_join(
            open311_reports::table.on(open311_reports::rectification_id.eq(rectifications::id)),
        )
        .select((
            rectifications::id,
            rectifications::number,
            rectifications::status,
            rectifications::description,
            rectifications::address,
            rectifications::lat,
            rectifications::lon,
            rectifications::created_at,
            rectifications::updated_at,
            rectifications::due_at,
            categories::code,
            categories::name,
            units::name.nullable(),
            open311_reports::media_url.nullable(),
            open311_reports::address_id.nullable(),
        ))
        .into_boxed();
    match filter {
        RequestFilter::Ids(ids) => {
            let numbers: Vec<String> = ids.iter().map(|id| id.to_uppercase()).collect();
            query = query.filter(crate::db::in_list(rectifications::number, numbers));
        }
        RequestFilter::Search {
            service_codes,
            from,
            to,
            statuses,
        } => {
            if !service_codes.is_empty() {
                let lowered: Vec<String> = service_codes.iter().map(|c| c.to_lowercase()).collect();
                let found: Vec<(CategoryId, String)> = categories::table
                    .filter(crate::db::in_list(db::lower(categories::code), &lowered))
                    .select((categories::id, categories::code))
                    .load(conn)?;
                if let Some(missing) = service_codes.iter().find(|c| {
                    !found
                        .iter()
                        .any(|(_, f)| f.to_lowercase() == c.to_lowercase())
                }) {
                    return Err(Failure::not_found(format!(
                        "service_code `{missing}` not found"
                    )));
                }
                let ids: Vec<CategoryId> = found.into_iter().map(|(id, _)| id).collect();
                query = query.filter(crate::db::in_list(rectifications::category_id, ids));
            }
            if !statuses.is_empty() {
                let wanted: Vec<ItemStatus> =
                    statuses.iter().flat_map(|s| s.item_statuses()).collect();
                query = query.filter(crate::db::in_list(rectifications::status, wanted));
            }
            query = query
                .filter(rectifications::created_at.ge(crate::validate::stored(*from)))
                .filter(rectifications::created_at.le(crate::validate::stored(*to)));
        }
    }
    let rows: Vec<RequestRow> = query
        .order((rectifications::created_at.desc(), rectifications::id.desc()))
        .limit(rules::MAX_RESULTS)
        .load(conn)?;
    Ok(to_requests(conn, rows)?)
}

/// One request by its number, or 404.
pub fn request(conn: &mut DbConnection, number: &str) -> Result<ServiceRequest, Failure> {
    requests(conn, &RequestFilter::Ids(vec![number.to_string()]))?
        .pop()
        .ok_or_else(|| Failure::not_found(format!("service_request_id `{number}` not found")))
}

/// The request a token (the item's id, answered by `POST requests`) became: only reports
/// posted through Open311 have tokens.
pub fn token(conn: &mut DbConnection, token: &str) -> Result<TokenAnswer, Failure> {
    let missing = || Failure::not_found(format!("token `{token}` not found"));
    let id = RectificationId::parse(token).ok_or_else(missing)?;
    let number: Option<String> = rectifications::table
        .inner_join(
            open311_reports::table.on(open311_reports::rectification_id.eq(rectifications::id)),
        )
        .filter(rectifications::id.eq(id))
        .select(rectifications::number)
        .get_result(conn)
        .optional()?;
    let number = number.ok_or_else(missing)?;
    Ok(TokenAnswer {
        service_request_id: Some(number),
        token: id.to_string(),
    })
}

// ---- keys ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = open311_keys)]
pub struct KeyRow {
    pub id: Open311KeyId,
    pub name: String,
    pub key_hash: String,
    pub key_prefix: String,
    pub reporter_id: UserId,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// An API key as an admin sees it (never the key itself, which is shown once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Key {
    #[schema(value_type = String, format = Uuid)]
    pub id: Open311KeyId,
    /// Who the key is for.
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub key_prefix: String,
    /// The account its reports are filed as (it cannot log in).
    #[schema(value_type = String, format = Uuid)]
    pub reporter_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    /// When it stopped working; null while it works.
    pub revoked_at: Option<DateTime<Utc>>,
    pub active: bool,
}

/// A key just issued: the only answer that holds the key itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedKey {
    #[serde(flatten)]
    pub key: Key,
    /// The key: send it as `api_key`. Shown once; only its hash is kept.
    pub api_key: String,
}

pub fn key_views(conn: &mut DbConnection, rows: Vec<KeyRow>) -> AppResult<Vec<Key>> {
    let names = Names::load(conn, [], rows.iter().map(|r| r.created_by))?;
    Ok(rows
        .into_iter()
        .map(|row| Key {
            created_by_name: names.user(row.created_by),
            active: row.revoked_at.is_none(),
            id: row.id,
            name: row.name,
            key_prefix: row.key_prefix,
            reporter_id: row.reporter_id,
            created_by: row.created_by,
            created_at: row.created_at.and_utc(),
            revoked_at: row.revoked_at.map(|t| t.and_utc()),
        })
        .collect())
}

pub fn key_view(conn: &mut DbConnection, row: KeyRow) -> AppResult<Key> {
    key_views(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::internal("a key without its view"))
}

/// Issues a key named `name`, with the account its reports are filed as: a user of the
/// issuing admin's unit that cannot log in (inactive, no usable password), named after
/// the key so offices see where a report came from. Answers the row and the key.
pub fn issue_key(
    conn: &mut DbConnection,
    (issuer, unit): (UserId, UnitId),
    name: &str,
    now: NaiveDateTime,
) -> AppResult<(KeyRow, String)> {
    let key = rules::new_key();
    let id = Open311KeyId::new();
    let reporter = UserId::new();
    let id_text = id.to_string();
    // The id's last characters are random (UUIDv7), so the account's name is unique.
    let tail = &id_text[id_text.len().saturating_sub(12)..];
    diesel::insert_into(users::table)
        .values((
            users::id.eq(reporter),
            users::username.eq(format!("open311-{tail}")),
            users::display_name.eq(format!("Open311 · {name}")),
            // Not a hash: no password ever verifies against it.
            users::password_hash.eq("!open311"),
            users::role.eq(Role::Officer),
            users::unit_id.eq(unit),
            users::active.eq(false),
            users::created_at.eq(now),
            users::updated_at.eq(now),
            users::must_change_password.eq(false),
            users::version.eq(1),
        ))
        .execute(conn)?;
    let row = KeyRow {
        id,
        name: name.to_string(),
        key_hash: rules::key_hash(&key),
        key_prefix: rules::key_prefix(&key),
        reporter_id: reporter,
        created_by: issuer,
        created_at: now,
        revoked_at: None,
    };
    diesel::insert_into(open311_keys::table)
        .values(&row)
        .execute(conn)?;
    tracing::info!(target: "security", key_id = %row.id, key_name = %row.name, by = %issuer, "open311 key issued");
    Ok((row, key))
}

pub fn find_key(conn: &mut DbConnection, id: Open311KeyId) -> AppResult<KeyRow> {
    open311_keys::table
        .filter(open311_keys::id.eq(id))
        .select(KeyRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("open311 key"))
}

/// Revokes a key: its reports stay, their account stays; the key stops working at once.
/// Revoking a revoked key changes nothing.
pub fn revoke_key(
    conn: &mut DbConnection,
    actor: &Actor,
    id: Open311KeyId,
    now: NaiveDateTime,
) -> AppResult<KeyRow> {
    let row = find_key(conn, id)?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    diesel::update(open311_keys::table.filter(open311_keys::id.eq(id)))
        .set(open311_keys::revoked_at.eq(Some(now)))
        .execute(conn)?;
    tracing::info!(target: "security", key_id = %row.id, key_name = %row.name, by = %actor.username, "open311 key revoked");
    Ok(KeyRow {
        revoked_at: Some(now),
        ..row
    })
}

/// The keys, newest first.
pub fn list_keys(conn: &mut DbConnection, paging: &Paging) -> AppResult<Listed<KeyRow>> {
    let query = || open311_keys::table.select(KeyRow::as_select()).into_boxed();
    let order = Order::new("created_at_desc")
        .desc(open311_keys::created_at, |r: &KeyRow| r.created_at)
        .desc(open311_keys::id, |r| r.id);
    paginate(conn, query, &order, paging)
}

/// A key that works, with the account its reports are filed as.
#[derive(Debug, Clone)]
pub struct Reporter {
    pub key_id: Open311KeyId,
    pub user_id: UserId,
    pub username: String,
    pub unit_id: UnitId,
    pub unit_path: String,
}

impl Reporter {
    /// The caller a public report is filed as: the key's account, which finds the grid of
    /// a point among every grid of the district (a citizen may report anywhere in it) — a
    /// reach no request can use otherwise, since the account cannot log in.
    fn actor(&self) -> Actor {
        Actor {
            id: self.user_id,
            unit_id: self.unit_id,
            unit_path: self.unit_path.clone(),
            username: self.username.clone(),
            role: Role::Officer,
            // Not a stored session: the report is filed within this request only.
            session: SessionId::new(),
            must_change_password: false,
            subject: Subject {
                user_id: self.user_id,
                // Sees every grid: only `locate` and the duplicate search read it.
                role: Role::Leader,
                roots: Vec::new(),
                read_roots: Vec::new(),
                ancestors: Vec::new(),
            },
        }
    }
}

/// The key's account, or 403: a missing, unknown or revoked key cannot report.
pub fn authenticate(conn: &mut DbConnection, key: Option<&str>) -> Result<Reporter, Failure> {
    let Some(key) = key else {
        return Err(Failure::forbidden(
            "api_key: missing: a key is required to report",
        ));
    };
    let found: Option<(
        Open311KeyId,
        Option<NaiveDateTime>,
        UserId,
        String,
        UnitId,
        String,
    )> = open311_keys::table
        .inner_join(users::table.on(users::id.eq(open311_keys::reporter_id)))
        .inner_join(units::table.on(units::id.eq(users::unit_id)))
        .filter(open311_keys::key_hash.eq(rules::key_hash(key)))
        .select((
            open311_keys::id,
            open311_keys::revoked_at,
            users::id,
            users::username,
            units::id,
            units::path,
        ))
        .get_result(conn)
        .optional()?;
    match found {
        Some((key_id, None, user_id, username, unit_id, unit_path)) => Ok(Reporter {
            key_id,
            user_id,
            username,
            unit_id,
            unit_path,
        }),
        _ => Err(Failure::forbidden("api_key: invalid or revoked")),
    }
}

/// The attribute values as the category's specs type them: a number field's value must
/// read as a number; anything else is text (an unknown code is refused by the category's
/// check, naming it).
fn typed_attributes(
    specs: &[crate::categories::rules::AttributeSpec],
    draft: &RequestDraft,
) -> Result<std::collections::BTreeMap<String, Value>, Failure> {
    let mut values = std::collections::BTreeMap::new();
    let mut problems = Vec::new();
    for input in &draft.attributes {
        let kind = specs.iter().find(|s| s.code == input.code).map(|s| s.kind);
        let value = match kind {
            Some(AttributeType::Number) => match input.value.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => serde_json::Number::from_f64(n).map(Value::Number),
                _ => None,
            },
            _ => Some(Value::String(input.value.clone())),
        };
        match value {
            Some(v) => {
                values.insert(input.code.clone(), v);
            }
            None => problems.push((
                format!("attribute[{}]", input.code),
                format!("`{}` is not a number", input.value),
            )),
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(Failure::many(problems))
    }
}

/// Files a public report: the service must be an active category; the item is created by
/// `rectifications::model::create` like any report (grid from the point, routed by grid
/// and category, numbered, given its deadline) with source `public`, filed as the key's
/// account; the contact details are kept beside it, for the units, and shown nowhere.
pub fn create_request(
    conn: &mut DbConnection,
    reporter: &Reporter,
    draft: &RequestDraft,
    at: Reporting,
) -> Result<Created, Failure> {
    let category = service(conn, &draft.service_code)?;
    let attributes = typed_attributes(&category.attribute_specs()?, draft)?;
    let item = ItemDraft {
        id: RectificationId::new(),
        source: Source::Public,
        category_id: category.id,
        description: draft
            .description
            .clone()
            .unwrap_or_else(|| category.name.clone()),
        lat: draft.lat,
        lon: draft.lon,
        address: draft.address.clone(),
        grid_id: None,
        severity: None,
        due_at: None,
        attributes,
        attachment_ids: Vec::new(),
        campaign_id: None,
        site_id: None,
        patrol_id: None,
    };
    let (row, _) = crate::rectifications::model::create(conn, &reporter.actor(), &item, at)
        .and_then(|reported| reported.numbered(conn, at.now))
        .map_err(|e| match e {
            AppError::Validation(errors) if errors.iter().any(|e| e.field == "grid_id") => {
                Failure::bad(
                    "lat/long",
                    "the point lies outside every grid of the district",
                )
            }
            other => Failure::from(other),
        })?;
    let contact = &draft.contact;
    diesel::insert_into(open311_reports::table)
        .values((
            open311_reports::rectification_id.eq(row.id),
            open311_reports::key_id.eq(reporter.key_id),
            open311_reports::email.eq(&contact.email),
            open311_reports::device_id.eq(&contact.device_id),
            open311_reports::account_id.eq(&contact.account_id),
            open311_reports::first_name.eq(&contact.first_name),
            open311_reports::last_name.eq(&contact.last_name),
            open311_reports::phone.eq(&contact.phone),
            open311_reports::media_url.eq(&draft.media_url),
            open311_reports::address_id.eq(&draft.address_id),
        ))
        .execute(conn)?;
    let unit: Option<String> = match row.unit_id {
        Some(id) => units::table
            .filter(units::id.eq(id))
            .select(units::name)
            .get_result(conn)
            .optional()?,
        None => None,
    };
    Ok(Created {
        service_notice: rules::notice(row.status, unit.as_deref(), row.due_at),
        service_request_id: row.number,
        token: row.id.to_string(),
        account_id: contact.account_id.clone(),
    })
}

/// The name of the demo's key.
pub const DEMO_KEY_NAME: &str = "城市随手拍（演示）";

/// The demo app's key, issued by `issuer` of `unit` when the demo has none that works
/// yet: answers the key (to print once), or `None` when one exists (its key was shown
/// when it was issued; revoke it and load the demo again for another).
pub fn demo_key(
    conn: &mut DbConnection,
    issuer: (UserId, UnitId),
    now: NaiveDateTime,
) -> AppResult<Option<String>> {
    let existing: i64 = open311_keys::table
        .filter(open311_keys::name.eq(DEMO_KEY_NAME))
        .filter(open311_keys::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    if existing > 0 {
        return Ok(None);
    }
    let (_, key) = issue_key(conn, issuer, DEMO_KEY_NAME, now)?;
    Ok(Some(key))
}
