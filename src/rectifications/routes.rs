//! `/api/v1/rectifications` and `/api/v1/triage`: whoever sees a grid reports problems in
//! it; the responsible unit fixes them with evidence; the reporter, offices and leaders
//! check the fix (never whoever submitted it); offices route what no rule could, and keep
//! the ledger.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Actor, Caller};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::events::{self, Entity, Event};
use crate::http::extract::Query;
use crate::http::pagination::NoFilter;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{IdempotencyKey, Safe};
use crate::ids::RectificationId;
use crate::openapi::{CreateHeaders, TransitionHeaders, Transitions};
use crate::rectifications::forms::{ItemQuery, ItemTransition, NewItem};
use crate::rectifications::ledger::{self, LedgerFormat, LedgerQuery};
use crate::rectifications::model::{self, Item, Reporting};
use crate::state::{AppState, Work};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/rectifications")
            .service(create_item)
            .service(list_items)
            // Before `/{id}`, which would take `ledger` for an id.
            .service(item_ledger)
            .service(get_item)
            .service(transition_item)
            .service(item_events),
    )
    .service(scope::scope("/triage").service(list_triage));
}

/// Report a problem. Its grid is found from the point (unless named), it is routed by grid
/// and category to the unit that fixes it (or left in triage), numbered, and given the
/// category's deadline. Open items of the same category nearby come back as
/// `possible_duplicates`.
#[utoipa::path(
    tag = "rectifications",
    params(CreateHeaders),
    request_body = NewItem,
    responses(
        (status = 201, description = "Reported", body = Item, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "An item with this client id exists (`already_exists`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[post("")]
pub async fn create_item(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewItem>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let (input, digest) = body.into_parts();
            let safe = Safe {
                key: &key,
                digest: &digest,
                if_match: &IfMatch::Absent,
            };
            create(conn, actor, &work, safe, input)
        })
        .await
}

/// Reports a problem: `POST /rectifications`, alone or in a batch.
pub(crate) fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    safe: Safe<'_>,
    input: AppResult<NewItem>,
) -> AppResult<Reply> {
    actor.require(Action::ReportProblem)?;
    let now = work.clock.now();
    safe.once(conn, actor.id, (now, work.idempotency_ttl), |conn| {
        let draft = input?.validate()?;
        let at = Reporting {
            now,
            duplicate_radius_m: work.duplicate_radius_m,
        };
        let reported = model::create(conn, actor, &draft, at)?;
        // The view first, the number last: see `model::Reported`.
        let mut view = model::view(conn, reported.row.clone(), now, &work.warnings)?;
        view.possible_duplicates = Some(reported.nearby.clone());
        view.number = reported.number(conn, now)?.number;
        Reply::created("rectifications", view.id, &view, Some(view.version))
    })
}

/// A point on the map with an item's fields, for `Accept: application/geo+json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemFeature {
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[schema(value_type = String, format = Uuid)]
    pub id: RectificationId,
    /// `{"type": "Point", "coordinates": [lon, lat]}` (WGS-84).
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    pub properties: Item,
}

/// A page of items as GeoJSON (RFC 7946), with the page's numbers beside the features.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemFeatures {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub features: Vec<ItemFeature>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

impl From<Page<Item>> for ItemFeatures {
    fn from(page: Page<Item>) -> Self {
        ItemFeatures {
            kind: "FeatureCollection",
            features: page
                .items
                .into_iter()
                .map(|item| ItemFeature {
                    kind: "Feature",
                    id: item.id,
                    geometry: serde_json::json!({
                        "type": "Point",
                        "coordinates": [item.lon, item.lat],
                    }),
                    properties: item,
                })
                .collect(),
            page: page.page,
            per_page: page.per_page,
            total: page.total,
        }
    }
}

fn listing(req: &HttpRequest, page: Page<Item>) -> AppResult<HttpResponse> {
    let (content_type, body) = if crate::http::wants_geojson(req) {
        (
            "application/geo+json",
            serde_json::to_string(&ItemFeatures::from(page)),
        )
    } else {
        ("application/json", serde_json::to_string(&page))
    };
    let body = body.map_err(|e| AppError::internal(format!("serialising a list: {e}")))?;
    Ok(HttpResponse::Ok().content_type(content_type).body(body))
}

/// List the items the caller sees (those of its units and in its grids), newest first.
/// With `Accept: application/geo+json` the same page is a GeoJSON FeatureCollection.
#[utoipa::path(
    tag = "rectifications",
    params(PageParams, ItemQuery),
    responses((status = 200, description = "A page of items", content(
        (Page<Item> = "application/json"),
        (ItemFeatures = "application/geo+json"),
    ))),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_items(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<ItemQuery>,
) -> AppResult<HttpResponse> {
    let work = state.work();
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let now = work.clock.now();
            let listed = model::list(conn, &actor.subject, &filter, &paging, now, &work.warnings)?;
            let listed =
                listed.try_map_all(|rows| model::views(conn, rows, now, &work.warnings))?;
            Ok((listed, paging))
        })
        .await?;
    listing(&req, Page::new(listed, &paging))
}

/// Items no rule could route, waiting for an office to `assign` them (offices, leaders and
/// admins), oldest first.
#[utoipa::path(
    tag = "rectifications",
    params(PageParams, ItemQuery),
    responses(
        (status = 200, description = "A page of items in triage", body = Page<Item>),
        (status = 403, description = "Only offices, leaders and admins triage", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_triage(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<ItemQuery>,
) -> AppResult<HttpResponse> {
    let work = state.work();
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ManageItem)?;
            let paging = query.page.validate()?;
            let mut filter = query.filter.validate()?;
            filter.triage = true;
            if filter.sort == Default::default() {
                filter.sort = crate::rectifications::forms::ItemSort::CreatedAt;
            }
            let now = work.clock.now();
            let listed = model::list(conn, &actor.subject, &filter, &paging, now, &work.warnings)?;
            let listed =
                listed.try_map_all(|rows| model::views(conn, rows, now, &work.warnings))?;
            Ok((listed, paging))
        })
        .await?;
    listing(&req, Page::new(listed, &paging))
}

/// The ledger (整改台账): the filtered list as the table offices keep, as CSV (UTF-8 with
/// a BOM, for Excel) or XLSX, streamed row by row.
#[utoipa::path(
    tag = "rectifications",
    params(ItemQuery, LedgerQuery),
    responses((status = 200, description = "The ledger", content(
        (String = "text/csv"),
        (ledger::XlsxBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ))),
    security(("bearer_auth" = []))
)]
#[get("/ledger")]
pub async fn item_ledger(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<ItemQuery>,
    format: Query<LedgerQuery>,
) -> AppResult<HttpResponse> {
    let work = state.work();
    let filter = filter.0.validate()?;
    let format = format.0.format.unwrap_or_default();
    let subject = caller
        .run(&state.db, move |_, actor| {
            actor.require(Action::ReadWork)?;
            Ok(actor.subject.clone())
        })
        .await?;
    let base = {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    };
    let export = ledger::Export {
        subject,
        filter,
        now: work.clock.now(),
        warnings: work.warnings,
        base_url: base,
    };
    let db = state.db.clone();
    let conn = web::block(move || db.get())
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))??;
    let stream = ledger::stream(conn, export, format);
    let (content_type, extension) = match format {
        LedgerFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        LedgerFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"rectification-ledger.{extension}\""),
        ))
        .streaming(stream))
}

/// Get an item, with its `ETag`.
#[utoipa::path(
    tag = "rectifications",
    params(("id" = uuid::Uuid, Path, description = "Item id")),
    responses((status = 200, description = "The item", body = Item, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<RectificationId>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .run(&state.db, move |conn, actor| {
            let (placed, view) = model::find_viewed(conn, id.0, work.clock.now(), &work.warnings)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "rectification item")?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// Move an item through its workflow: `assign` (from triage), `reassign`,
/// `approve_extension`, `deny_extension`, `cancel` (offices over the item, leaders);
/// `start`, `submit` with evidence, `request_extension` (the responsible unit); `accept`,
/// `reject` (the reporter, offices, leaders — never whoever submitted the fix);
/// `mark_duplicate` (those who manage it, and its reporter).
#[utoipa::path(
    tag = "rectifications",
    params(("id" = uuid::Uuid, Path, description = "Item id"), TransitionHeaders),
    request_body = ItemTransition,
    responses(
        (status = 200, description = "The item after the transition", body = Item, headers(("ETag" = String))),
        (status = 403, description = "Not this item's side of the action (`own_submission`: you submitted the fix)", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/transitions")]
pub async fn transition_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<RectificationId>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<ItemTransition>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let (input, digest) = body.into_parts();
            let safe = Safe {
                key: &key,
                digest: &digest,
                if_match: &if_match,
            };
            transition(conn, actor, &work, safe, id.0, input)
        })
        .await
}

/// Moves an item through its workflow: `POST /rectifications/{id}/transitions`, alone or
/// in a batch.
pub(crate) fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    safe: Safe<'_>,
    id: RectificationId,
    input: AppResult<ItemTransition>,
) -> AppResult<Reply> {
    let now = work.clock.now();
    safe.once(conn, actor.id, (now, work.idempotency_ttl), |conn| {
        let placed = model::find(conn, id)?;
        actor.require_on(Action::ReadWork, &placed.resource(), "rectification item")?;
        let input = input?;
        let needs = input.action.needs();
        actor.require_on(needs, &placed.for_action(needs), "rectification item")?;
        let draft = input.validate()?;
        let current = &placed.row;
        safe.if_match.check(current.version, || {
            model::view(conn, current.clone(), now, &work.warnings)
        })?;
        let row = model::transition(conn, actor, &placed, &draft, now)?;
        let view = model::view(conn, row, now, &work.warnings)?;
        Reply::ok(&view, Some(view.version))
    })
}

/// The history of an item: its report and every transition, oldest first.
#[utoipa::path(
    tag = "rectifications",
    params(("id" = uuid::Uuid, Path, description = "Item id"), PageParams),
    responses((status = 200, description = "A page of events", body = Page<Event>)),
    security(("bearer_auth" = []))
)]
#[get("/{id}/events")]
pub async fn item_events(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<RectificationId>,
    query: ListQuery<NoFilter>,
) -> AppResult<web::Json<Page<Event>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "rectification item")?;
            let paging = query.page.validate()?;
            let listed =
                events::list(conn, Entity::Rectification, placed.row.id.as_str(), &paging)?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}
