//! `/api/v1/tasks`: the units' side works on tasks (start, progress, submit, ask for more
//! time); the issuer's side checks and manages them (accept, reject, decide extensions,
//! reassign, cancel). Everyone reads the tasks of the units they see.

use actix_web::{get, post, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Actor, Caller};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::events::{self, Entity, Event};
use crate::http::pagination::NoFilter;
use crate::http::{Id, IfMatch, Json, ListQuery, Page, PageParams, Reply};
use crate::idempotency::{self, IdempotencyKey, Safe};
use crate::ids::TaskId;
use crate::openapi::{TransitionHeaders, Transitions};
use crate::state::{AppState, Work};
use crate::tasks::forms::{ProgressReport, TaskQuery, TaskTransition};
use crate::tasks::model::{self, Task};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/tasks")
            .service(list_tasks)
            .service(get_task)
            .service(transition_task)
            .service(report_progress)
            .service(task_events),
    );
}

/// List the tasks of the units the caller sees.
#[utoipa::path(
    tag = "tasks",
    params(PageParams, TaskQuery),
    responses((status = 200, description = "A page of tasks", body = Page<Task>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<TaskQuery>,
) -> AppResult<web::Json<Page<Task>>> {
    let work = state.work();
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            let (paging, filter) = (query.page.validate()?, query.filter.validate()?);
            let now = work.clock.now();
            let listed = model::list(conn, actor, &filter, &paging, now, &work.warnings)?;
            let listed =
                listed.try_map_all(|rows| model::views(conn, rows, now, &work.warnings))?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Get a task, with its `ETag`.
#[utoipa::path(
    tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses((status = 200, description = "The task", body = Task, headers(("ETag" = String)))),
    security(("bearer_auth" = []))
)]
#[get("/{id}")]
pub async fn get_task(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<TaskId>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "task")?;
            let view = model::view(conn, placed.row, work.clock.now(), &work.warnings)?;
            Reply::ok(&view, Some(view.version))
        })
        .await
}

/// Move a task through its workflow: `start`, `submit` (the task's unit); `accept`,
/// `reject` (the issuer's side, never whoever submitted); `request_extension` (the unit,
/// before the deadline); `approve_extension`, `deny_extension`, `reassign`, `cancel` (the
/// issuer's side).
#[utoipa::path(
    tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id"), TransitionHeaders),
    request_body = TaskTransition,
    responses(
        (status = 200, description = "The task after the transition", body = Task, headers(("ETag" = String))),
        (status = 403, description = "Not this task's side of the action (`own_submission`: you submitted it)", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/transitions")]
pub async fn transition_task(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<TaskId>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<TaskTransition>,
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

/// Moves a task through its workflow: `POST /tasks/{id}/transitions`, alone or in a batch.
pub(crate) fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    work: &Work,
    safe: Safe<'_>,
    id: TaskId,
    input: AppResult<TaskTransition>,
) -> AppResult<Reply> {
    let now = work.clock.now();
    safe.once(conn, actor.id, (now, work.idempotency_ttl), |conn| {
        let placed = model::find(conn, id)?;
        actor.require_on(Action::ReadWork, &placed.resource(), "task")?;
        let input = input?;
        actor.require_on(input.action.needs(), &placed.resource(), "task")?;
        let draft = input.validate()?;
        crate::work::ensure_open(conn, placed.row.campaign_id)?;
        let current = &placed.row;
        safe.if_match.check(current.version, || {
            model::view(conn, current.clone(), now, &work.warnings)
        })?;
        let row = model::transition(conn, actor, &placed, &draft, now)?;
        let view = model::view(conn, row, now, &work.warnings)?;
        Reply::ok(&view, Some(view.version))
    })
}

/// Report progress on a task in progress (the task's unit). Progress never goes down
/// without a note.
#[utoipa::path(
    tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id"), TransitionHeaders),
    request_body = ProgressReport,
    responses(
        (status = 200, description = "The task with its new progress", body = Task, headers(("ETag" = String))),
        (status = 403, description = "Not the task's unit", body = crate::error::Problem, content_type = "application/problem+json"),
        Transitions,
    ),
    security(("bearer_auth" = []))
)]
#[post("/{id}/progress")]
pub async fn report_progress(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<TaskId>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<ProgressReport>,
) -> AppResult<Reply> {
    let work = state.work();
    caller
        .write(&state.db, move |conn, actor| {
            let now = work.clock.now();
            let (input, digest) = body.into_parts();
            idempotency::once(
                conn,
                actor.id,
                &key,
                &digest,
                (now, work.idempotency_ttl),
                |conn| {
                    let placed = model::find(conn, id.0)?;
                    actor.require_on(Action::WorkOnTask, &placed.resource(), "task")?;
                    let report = input?.validate()?;
                    crate::work::ensure_open(conn, placed.row.campaign_id)?;
                    let current = &placed.row;
                    if_match.check(current.version, || {
                        model::view(conn, current.clone(), now, &work.warnings)
                    })?;
                    let row = model::report_progress(conn, actor, current, &report, now)?;
                    let view = model::view(conn, row, now, &work.warnings)?;
                    Reply::ok(&view, Some(view.version))
                },
            )
        })
        .await
}

/// The history of a task: every transition and progress report, oldest first.
#[utoipa::path(
    tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id"), PageParams),
    responses((status = 200, description = "A page of events", body = Page<Event>)),
    security(("bearer_auth" = []))
)]
#[get("/{id}/events")]
pub async fn task_events(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<TaskId>,
    query: ListQuery<NoFilter>,
) -> AppResult<web::Json<Page<Event>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            let placed = model::find(conn, id.0)?;
            actor.require_on(Action::ReadWork, &placed.resource(), "task")?;
            let paging = query.page.validate()?;
            let listed = events::list(conn, Entity::Task, placed.row.id.as_str(), &paging)?;
            Ok((listed, paging))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}
