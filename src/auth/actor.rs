//! The caller of a protected request. [`Caller`] is the verified bearer token, extracted
//! without touching the database; [`Caller::run`] then does the request's work in one trip
//! to the blocking pool on one connection: it loads the user with its scope in one query
//! ([`Actor`]) and hands both to the handler's closure. The user is re-read on every
//! request, so a deactivated account or a changed role takes effect at once.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use diesel::prelude::*;

use crate::auth::policy::{self, Action, Denial, OwnerCheck, OwnerRole, Resource, Role};
use crate::auth::scope::{self, Subject};
use crate::auth::token::Claims;
use crate::db::schema::{pairings, sessions, units, users};
use crate::db::{Db, DbConnection};
use crate::error::{AppError, AppResult};
use crate::ids::{SessionId, UnitId, UserId};
use crate::tree::UnitKind;
use chrono::NaiveDateTime;

/// A request's verified access token.
#[derive(Debug, Clone)]
pub struct Caller {
    claims: Claims,
}

impl Caller {
    pub fn user_id(&self) -> UserId {
        self.claims.sub
    }

    /// Runs `f` as this caller: resolves the [`Actor`] and does the work on one pooled
    /// connection in one blocking call.
    pub async fn run<T, F>(self, db: &Db, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection, &Actor) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        db.read(move |conn| {
            let actor = self.resolve(conn)?;
            f(conn, &actor)
        })
        .await
    }

    /// [`Caller::run`] for work that writes: it waits its turn among writers first (see
    /// [`Db::writing`]).
    pub async fn write<T, F>(self, db: &Db, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection, &Actor) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        db.writing(move |conn| {
            let actor = self.resolve(conn)?;
            f(conn, &actor)
        })
        .await
    }

    pub fn session(&self) -> SessionId {
        self.claims.sid
    }

    /// The caller of work done on a user's behalf outside a request (the world loader acts
    /// as each of its users), in a session of its own that [`Caller::resolve`] checks as
    /// it checks a token's.
    pub fn of_session(user: UserId, session: SessionId) -> Caller {
        Caller {
            claims: Claims {
                sub: user,
                sid: session,
                iat: 0,
                nbf: 0,
                exp: 0,
            },
        }
    }

    /// The user behind the token, with its session and scope: the user joined to the
    /// token's session and to every unit that roots its scope — its own unit and the
    /// grids it leads (one query), and for a department's user the units it is paired
    /// with (a second query; each row says whether it came through a pairing).
    ///
    /// Each part is a lookup by primary key or index, so the caller costs the same at 30
    /// units as at 30,000. (One join on `own OR led OR paired` made PostgreSQL scan every
    /// unit, with a pairings lookup per row: 5.8 ms at 6,300 units.)
    pub fn resolve(&self, conn: &mut DbConnection) -> AppResult<Actor> {
        let (user, session) = (self.claims.sub, self.claims.sid);
        let caller = || {
            users::table
                .inner_join(
                    sessions::table.on(sessions::user_id
                        .eq(users::id)
                        .and(sessions::id.eq(session))),
                )
                .filter(users::id.eq(user))
        };
        // Built in each arm of `on_backend!`: a selection by a struct is of one backend.
        macro_rules! own_and_led {
            () => {{
                let own = caller()
                    .inner_join(units::table.on(units::id.eq(users::unit_id)))
                    .select((
                        ActorRow::as_select(),
                        sessions::revoked_at,
                        ScopeRoot::as_select(),
                    ));
                let led = caller()
                    .inner_join(units::table.on(units::leader_id.eq(users::id.nullable())))
                    .select((
                        ActorRow::as_select(),
                        sessions::revoked_at,
                        ScopeRoot::as_select(),
                    ));
                own.union_all(led)
            }};
        }
        type Row = (ActorRow, Option<NaiveDateTime>, ScopeRoot);
        let mut rows: Vec<(ActorRow, Option<NaiveDateTime>, ScopeRoot, bool)> =
            crate::on_backend!(conn, |c| own_and_led!().load::<Row>(c))?
                .into_iter()
                .map(|(user, revoked, unit)| (user, revoked, unit, false))
                .collect();
        let department = rows
            .iter()
            .any(|(user, _, unit, _)| unit.id == user.unit_id && unit.kind == UnitKind::Department);
        if department {
            if let Some((row, revoked, _, _)) = rows.first().cloned() {
                let partners: Vec<ScopeRoot> = crate::on_backend!(conn, |c| pairings::table
                    .inner_join(units::table.on(units::id.eq(pairings::partner_id)))
                    .filter(pairings::department_id.eq(row.unit_id))
                    .select(ScopeRoot::as_select())
                    .load(c))?;
                rows.extend(
                    partners
                        .into_iter()
                        .map(|unit| (row.clone(), revoked, unit, true)),
                );
            }
        }
        let Some((user, revoked, _, _)) = rows.first() else {
            return Err(AppError::unauthenticated(
                crate::error::Code::InvalidToken,
                "the access token is not valid",
            ));
        };
        if !user.active {
            return Err(AppError::unauthenticated(
                crate::error::Code::AccountInactive,
                "this account has been deactivated",
            ));
        }
        if revoked.is_some() {
            return Err(AppError::unauthenticated(
                crate::error::Code::SessionEnded,
                "this session has ended (logged out, or ended by a password change); log in again",
            ));
        }
        let roots = rows.iter().map(|(_, _, unit, paired)| scope::Root {
            unit_id: unit.id,
            path: &unit.path,
            leader_id: unit.leader_id,
            paired: *paired,
        });
        let subject = scope::subject(user.id, user.role, user.unit_id, roots);
        let unit_path = rows
            .iter()
            .find(|(_, _, unit, _)| unit.id == user.unit_id)
            .map(|(_, _, unit, _)| unit.path.clone())
            .unwrap_or_default();
        Ok(Actor {
            unit_id: user.unit_id,
            unit_path,
            id: user.id,
            username: user.username.clone(),
            role: user.role,
            session,
            must_change_password: user.must_change_password,
            subject,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
struct ActorRow {
    id: UserId,
    username: String,
    role: Role,
    unit_id: UnitId,
    active: bool,
    must_change_password: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
struct ScopeRoot {
    id: UnitId,
    kind: UnitKind,
    path: String,
    leader_id: Option<UserId>,
}

/// The authenticated user a request runs as.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    /// The user's own unit, and its path: what they issue and record is issued from it.
    pub unit_id: UnitId,
    pub unit_path: String,
    pub username: String,
    pub role: Role,
    /// The session the request's token belongs to.
    pub session: SessionId,
    /// Set by an admin's password reset: until the user changes it, every operation but
    /// reading and changing one's own account answers 403 `password_change_required`.
    pub must_change_password: bool,
    pub subject: Subject,
}

impl Actor {
    /// Asks the policy about an action on a collection or a new resource.
    pub fn require(&self, action: Action) -> AppResult<()> {
        self.require_on(action, &Resource::collection(), "resource")
    }

    /// Asks the policy about an action on `resource`; a resource the caller may not see
    /// answers "`what` not found".
    pub fn require_on(
        &self,
        action: Action,
        resource: &Resource,
        what: &'static str,
    ) -> AppResult<()> {
        if self.must_change_password {
            return Err(AppError::forbidden_because(
                crate::error::Code::PasswordChangeRequired,
                "your password was reset: change it (POST /api/v1/me/password) first",
            ));
        }
        policy::authorize(&self.subject, action, resource).map_err(|d| denial(d, what))
    }

    /// [`Actor::require_on`] for a resource the caller is already known to see by another
    /// route (a campaign it has tasks in): refused as read-only (403), never as absent.
    pub fn require_on_seen(
        &self,
        action: Action,
        resource: &Resource,
        what: &'static str,
    ) -> AppResult<()> {
        self.require_on(action, resource, what)
            .map_err(|e| match e {
                AppError::NotFound(_) => denial(Denial::ReadOnly, what),
                other => other,
            })
    }

    /// True when the policy allows it (for filtering, not for answering).
    pub fn may(&self, action: Action, resource: &Resource) -> bool {
        policy::authorize(&self.subject, action, resource).is_ok()
    }
}

/// The answer to a refusal.
fn denial(denial: Denial, what: &'static str) -> AppError {
    match denial {
        Denial::Hidden => AppError::NotFound(what),
        Denial::RoleMayNot => AppError::forbidden(),
        Denial::ReadOnly => AppError::forbidden_because(
            crate::error::Code::OutsideYourUnits,
            format!("this {what} belongs to a unit you may read but not act on"),
        ),
        Denial::Owner(OwnerCheck::IsNot(OwnerRole::Submitter)) => AppError::forbidden_because(
            crate::error::Code::OwnSubmission,
            format!("you submitted this {what}; someone else must verify it"),
        ),
        Denial::Owner(OwnerCheck::IsNot(_)) => AppError::forbidden_because(
            crate::error::Code::OwnerExcluded,
            format!("your part in this {what} excludes you from this action"),
        ),
        Denial::Owner(OwnerCheck::Is(_)) => AppError::forbidden_because(
            crate::error::Code::NotOwner,
            format!("only the owner of this {what} may do this"),
        ),
    }
}

fn bearer(req: &HttpRequest) -> AppResult<&str> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        AppError::unauthenticated(
            crate::error::Code::MissingToken,
            "send `Authorization: Bearer <access token>`",
        )
    })?;
    let text = value.to_str().map_err(|_| {
        AppError::unauthenticated(
            crate::error::Code::InvalidToken,
            "the Authorization header is not valid",
        )
    })?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(AppError::unauthenticated(
            crate::error::Code::InvalidToken,
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Caller>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = match req.app_data::<web::Data<crate::auth::token::TokenKeys>>() {
            Some(keys) => bearer(req).and_then(|token| keys.verify(token)),
            None => Err(AppError::internal("the token keys are not registered")),
        };
        std::future::ready(verified.map(|claims| Caller { claims }))
    }
}
