//! Building the service: state, routes and middleware. `main` and the tests use the same
//! [`build`], so what the tests exercise is what runs.

use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{middleware, web, App};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::token::TokenKeys;
use crate::config::Config;
use crate::db::{self, Db};
use crate::http::{errors, extract::BodyLimit, fallback};
use crate::openapi::ApiDocument;
pub use crate::state::{AppState, Work};
use crate::telemetry::metrics::Metrics;
use crate::{api, auth, units, users};

/// The application, ready for `HttpServer::new` or `actix_web::test::init_service`.
pub fn build(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.config.max_body_bytes;
    let body_timeout = state.config.body_timeout;
    let cors = crate::http::cors(&state.config.cors_allowed_origins);
    let metrics = state.metrics.clone();
    let api = ApiDocument::shared();
    let tokens = state.tokens.clone();
    // The routes register through utoipa's wrapper (it is what the route macros speak);
    // the document it would assemble is dropped: the one built at start is served.
    App::new()
        .into_utoipa_app()
        .configure(api::configure)
        .into_app()
        .app_data(web::Data::new(state))
        // The caller's token is verified by its extractor, before any handler runs.
        .app_data(web::Data::new(tokens))
        .app_data(web::Data::new(BodyLimit {
            bytes: limit,
            timeout: body_timeout,
        }))
        .app_data(web::Data::new(metrics))
        .app_data(web::Data::new(api.routes.clone()))
        .app_data(errors::json_config(limit))
        .app_data(errors::form_config(limit))
        .app_data(errors::query_config())
        .app_data(errors::path_config())
        // `/swagger-ui` without the slash: where people type it.
        .route(
            "/swagger-ui",
            web::get().to(|| async {
                actix_web::HttpResponse::PermanentRedirect()
                    .insert_header((actix_web::http::header::LOCATION, "/swagger-ui/"))
                    .finish()
            }),
        )
        .service(
            SwaggerUi::new("/swagger-ui/{_:.*}")
                .external_url_unchecked("/api-docs/openapi.json", api.json.clone()),
        )
        .default_service(web::to(fallback::not_found))
        .wrap(middleware::Compress::default())
        .wrap(middleware::from_fn(fallback::refuse_unknown_parameters))
        .wrap(middleware::from_fn(crate::http::middleware::head_as_get))
        .wrap(cors)
        .wrap(middleware::from_fn(
            crate::http::middleware::security_headers,
        ))
        .wrap(middleware::from_fn(crate::http::middleware::observe))
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("DATABASE_URL: cannot connect to {backend}: {message}")]
    Connect {
        backend: &'static str,
        message: String,
    },
    #[error("DATABASE_URL: migrations failed: {0}")]
    Migrate(String),
    #[error("{0}")]
    Other(String),
}

/// Connects (one direct connection first, so a bad URL or password fails at once with the
/// driver's message), migrates, creates the first admin if there is no user yet, and builds
/// the state.
pub fn prepare(config: Config) -> Result<AppState, StartupError> {
    let backend = config.database.backend_name();
    let mut conn = config
        .database
        .connect()
        // libpq's messages span lines; start-up failures are reported as one line.
        .map_err(|message| StartupError::Connect {
            backend,
            message: message.split_whitespace().collect::<Vec<_>>().join(" "),
        })?;
    let applied = db::run_migrations(&mut conn).map_err(StartupError::Migrate)?;
    if applied > 0 {
        tracing::info!(applied, backend, "migrations applied");
    }
    bootstrap_admin(&mut conn, &config)?;
    if let Err(e) = db::refresh_statistics(&mut conn) {
        tracing::warn!(error = %e, "could not refresh the planner's statistics");
    }
    drop(conn);

    let secret = match &config.jwt_secret {
        Some(secret) => secret.clone(),
        None => auth::token::random_secret(),
    };
    let metrics = Metrics::new();
    let db = Db::new(
        &config.database,
        config.database_pool_size,
        config.database_timeout,
        metrics.clone(),
    );
    let tokens = TokenKeys::new(&secret, config.access_token_ttl, config.refresh_token_ttl);
    let config_hash_concurrency = config.password_hash_concurrency;
    let attachments = crate::attachments::store::Store {
        dir: config.attachments_dir.clone(),
        max_bytes: config.max_upload_bytes,
    };
    Ok(AppState {
        attachments,
        db,
        tokens,
        config: Arc::new(config),
        metrics,
        hasher: auth::password::HashGate::new(config_hash_concurrency),
        clock: crate::clock::Clock::system(),
    })
}

/// The unit that holds the bootstrap admin when the database is empty.
pub const ROOT_UNIT_CODE: &str = "ROOT";

fn bootstrap_admin(conn: &mut db::DbConnection, config: &Config) -> Result<(), StartupError> {
    let other =
        |e: crate::error::AppError| StartupError::Other(format!("creating the first admin: {e}"));
    if users::model::count(conn).map_err(other)? > 0 {
        if config.admin_username.is_some() {
            tracing::info!(
                "ADMIN_USERNAME and ADMIN_PASSWORD are set but ignored: users exist already \
                 (use `campaign-tracker user reset-password` to regain access)"
            );
        }
        return Ok(());
    }
    let (Some(username), Some(password)) = (&config.admin_username, &config.admin_password) else {
        tracing::warn!(
            "no user exists and ADMIN_USERNAME/ADMIN_PASSWORD are not set: nobody can log in. \
             Set them, or run `campaign-tracker user create --role admin ...`"
        );
        return Ok(());
    };
    let hash = auth::password::hash(password).map_err(other)?;
    db::write_tx(conn, |conn| {
        let unit = match units::model::find_by_code(conn, ROOT_UNIT_CODE)? {
            Some(unit) => unit,
            None => {
                let root = units::forms::UnitDraft {
                    code: ROOT_UNIT_CODE.into(),
                    name: "平台管理".into(),
                    kind: units::UnitKind::District,
                    parent_id: None,
                    boundary: None,
                    leader_id: None,
                };
                units::model::create(conn, &root)?
            }
        };
        let input = users::forms::NewUser {
            username: username.clone(),
            display_name: "管理员".into(),
            password: String::new(),
            role: auth::Role::Admin,
            unit_id: unit.id,
        };
        users::model::create(conn, &input, hash)
    })
    .map_err(other)?;
    tracing::info!(username = %username, "created the first admin from ADMIN_USERNAME");
    Ok(())
}

/// Runs the HTTP server until SIGTERM or SIGINT, then drains in-flight requests.
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let bind = state.config.bind;
    if state.config.jwt_secret.is_none() {
        tracing::warn!(
            "JWT_SECRET is not set: using a random secret. Tokens will not survive a restart \
             and will not work across replicas. Set JWT_SECRET (32+ bytes) in production."
        );
    }
    crate::jobs::spawn(state.clone());
    // Connections are capped per worker; the setting is the total.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_worker = state.config.max_connections.div_ceil(workers).max(1);
    let server = actix_web::HttpServer::new(move || build(state.clone()))
        .workers(workers)
        .max_connections(per_worker)
        // The request line and headers must arrive within 5 s (actix's default, made
        // explicit); the body within BODY_TIMEOUT_SECONDS (the JSON extractor).
        .client_request_timeout(std::time::Duration::from_secs(5))
        .bind(bind)
        .map_err(|e| std::io::Error::new(e.kind(), format!("BIND: cannot listen on {bind}: {e}")))?
        .shutdown_timeout(30);
    for addr in server.addrs() {
        tracing::info!(%addr, "listening; API docs at http://{addr}/swagger-ui/");
    }
    // actix handles SIGTERM/SIGINT itself: stops accepting, finishes in-flight requests.
    server.run().await
}
