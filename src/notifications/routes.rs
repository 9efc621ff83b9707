//! `/api/v1/notifications`: the caller's own inbox.

use actix_web::{get, post, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Action, Caller};
use crate::error::AppResult;
use crate::http::{Id, ListQuery, Page, PageParams};
use crate::ids::NotificationId;
use crate::notifications::{self, Notification, NotificationQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/notifications")
            .service(list_notifications)
            .service(read_all_notifications)
            .service(read_notification),
    );
}

/// The caller's notifications: unread first, newest first.
#[utoipa::path(
    tag = "notifications",
    params(PageParams, NotificationQuery),
    responses((status = 200, description = "A page of notifications", body = Page<Notification>)),
    security(("bearer_auth" = []))
)]
#[get("")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: ListQuery<NotificationQuery>,
) -> AppResult<web::Json<Page<Notification>>> {
    let (listed, paging) = caller
        .run(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            let paging = query.page.validate()?;
            let unread = query.filter.unread.unwrap_or(false);
            Ok((
                notifications::list(conn, actor.id, unread, &paging)?,
                paging,
            ))
        })
        .await?;
    Ok(web::Json(Page::new(listed, &paging)))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    params(("id" = uuid::Uuid, Path, description = "Notification id")),
    responses((status = 200, description = "The notification, read", body = Notification)),
    security(("bearer_auth" = []))
)]
#[post("/{id}/read")]
pub async fn read_notification(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id<NotificationId>,
) -> AppResult<web::Json<Notification>> {
    let clock = state.clock.clone();
    let read = caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            crate::db::write_tx(conn, |conn| {
                notifications::mark_read(conn, actor.id, id.0, clock.now())
            })
        })
        .await?;
    Ok(web::Json(read))
}

/// How many notifications were marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    pub marked: usize,
}

/// Mark all the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, description = "How many were unread", body = MarkedRead)),
    security(("bearer_auth" = []))
)]
#[post("/read-all")]
pub async fn read_all_notifications(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<MarkedRead>> {
    let clock = state.clock.clone();
    let marked = caller
        .write(&state.db, move |conn, actor| {
            actor.require(Action::ReadWork)?;
            crate::db::write_tx(conn, |conn| {
                notifications::mark_all_read(conn, actor.id, clock.now())
            })
        })
        .await?;
    Ok(web::Json(MarkedRead { marked }))
}
