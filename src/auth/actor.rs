//! The authenticated caller, extracted from the bearer token on every protected request.
//! The user is re-read from the database each time, so a deactivated account or a changed
//! role takes effect at once rather than when the token expires.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use diesel::prelude::*;

use crate::app::AppState;
use crate::auth::policy::{self, Action, Denial, Subject};
use crate::auth::Role;
use crate::db::schema::units;
use crate::error::{AppError, AppResult};
use crate::users::model as users;

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub unit_id: String,
    pub subject: Subject,
}

impl Actor {
    /// Asks the policy about an action on a collection or a new resource.
    pub fn require(&self, action: Action) -> AppResult<()> {
        self.require_on(action, None, "resource")
    }

    /// Asks the policy about an action on a resource of the unit at `unit_path`; a denial
    /// for scope answers "`what` not found".
    pub fn require_on(
        &self,
        action: Action,
        unit_path: Option<&str>,
        what: &'static str,
    ) -> AppResult<()> {
        policy::authorize(&self.subject, action, unit_path).map_err(|denial| match denial {
            Denial::Forbidden => AppError::Forbidden,
            Denial::Hidden => AppError::NotFound(what),
        })
    }
}

fn bearer(req: &HttpRequest) -> AppResult<String> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        AppError::unauthenticated(
            "missing_token",
            "send `Authorization: Bearer <access token>`",
        )
    })?;
    let text = value.to_str().map_err(|_| {
        AppError::unauthenticated("invalid_token", "the Authorization header is not valid")
    })?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(AppError::unauthenticated(
            "invalid_token",
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

impl FromRequest for Actor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Actor>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("AppState missing"))?;
            let claims = state.tokens.verify(&token?)?;
            state
                .db
                .read(move |conn| {
                    let rejected = || {
                        AppError::unauthenticated("invalid_token", "the access token is not valid")
                    };
                    let user = users::find(conn, &claims.sub).map_err(|e| match e {
                        AppError::NotFound(_) => rejected(),
                        other => other,
                    })?;
                    if !user.active {
                        return Err(AppError::unauthenticated(
                            "account_inactive",
                            "this account has been deactivated",
                        ));
                    }
                    let role = user.role()?;
                    let own_path: String = units::table
                        .find(&user.unit_id)
                        .select(units::path)
                        .first(conn)?;
                    let mut scope_roots = vec![own_path];
                    if role == Role::Inspector {
                        let led: Vec<String> = units::table
                            .filter(units::leader_id.eq(&user.id))
                            .select(units::path)
                            .load(conn)?;
                        scope_roots.extend(led);
                    }
                    Ok(Actor {
                        user_id: user.id,
                        username: user.username,
                        role,
                        unit_id: user.unit_id,
                        subject: Subject { role, scope_roots },
                    })
                })
                .await
        })
    }
}
