//! Configuration from the environment (and an optional `.env` file). Every setting is
//! listed in `.env.example`. A bad value stops start-up with one line naming the setting.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::db::Target;

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {setting}: {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

pub use crate::telemetry::LogFormat;

#[derive(Clone)]
pub struct Config {
    pub database: Target,
    pub database_pool_size: u32,
    pub database_timeout: Duration,
    pub bind: SocketAddr,
    /// The HS256 key `JWT_SECRET` stands for ([`crate::auth::token::secret_key`]); `None`
    /// when unset: a random key is generated at start.
    pub jwt_secret: Option<Vec<u8>>,
    pub admin_username: Option<String>,
    pub admin_password: Option<String>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub max_body_bytes: usize,
    pub login_max_failures: i32,
    pub login_max_failures_per_address: i32,
    pub login_lockout: Duration,
    /// Password hashes computed at once (argon2 takes 19 MiB each).
    pub password_hash_concurrency: usize,
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Browser origins allowed to call the API (CORS); empty: none.
    pub cors_allowed_origins: Vec<String>,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// Open connections at most, over all workers.
    pub max_connections: usize,
    /// Vertices a grid boundary may have at most.
    pub max_boundary_vertices: usize,
    /// When tasks turn blue, yellow and red.
    pub warnings: crate::deadlines::WarningRules,
    /// How long an `Idempotency-Key` and its answer are kept (at least 24 hours).
    pub idempotency_ttl: Duration,
    /// How often the deadline sweep (due-soon and overdue notifications, expired keys)
    /// runs.
    pub sweep_interval: Duration,
    /// Where uploaded files are kept, and how large one may be.
    pub attachments_dir: std::path::PathBuf,
    pub max_upload_bytes: u64,
    /// How near (metres) an open item of the same category must be to count as a possible
    /// duplicate of a new report.
    pub duplicate_radius_m: u32,
}

impl Config {
    pub fn login_limits(&self) -> crate::auth::throttle::Limits {
        crate::auth::throttle::Limits {
            account: self.login_max_failures,
            address: self.login_max_failures_per_address,
            lockout: self.login_lockout,
        }
    }
}

// Hand-written so that the secrets never reach a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &self.database.backend_name())
            .field("bind", &self.bind)
            .field("log_level", &self.log_level)
            .finish_non_exhaustive()
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/campaign-tracker.db";

impl Config {
    /// Reads `.env` (if present) and then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(ConfigError {
                    setting: ".env",
                    message: e.to_string(),
                })
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any key lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let database = Target::parse(&database_url).map_err(|message| ConfigError {
            setting: "DATABASE_URL",
            message,
        })?;
        // PostgreSQL: about twice the cores. More backends than that only queue for the
        // same cores (measured: 4, 8 and 16 alike on 2 cores) and cost memory on the server.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
        let default_pool = match database {
            Target::Sqlite(_) => 4,
            Target::Postgres(_) => (2 * cores).clamp(4, 32),
        };
        let jwt_secret = get("JWT_SECRET")
            .map(|text| crate::auth::token::secret_key(&text))
            .transpose()
            .map_err(|message| ConfigError {
                setting: "JWT_SECRET",
                message,
            })?;
        let admin_username = get("ADMIN_USERNAME");
        let admin_password = get("ADMIN_PASSWORD");
        if admin_username.is_some() != admin_password.is_some() {
            let setting = if admin_username.is_some() {
                "ADMIN_PASSWORD"
            } else {
                "ADMIN_USERNAME"
            };
            return Err(ConfigError {
                setting,
                message: "ADMIN_USERNAME and ADMIN_PASSWORD must be set together".into(),
            });
        }
        if let Some(password) = &admin_password {
            let username = admin_username.as_deref().unwrap_or_default();
            crate::auth::password::check_strength(password, username).map_err(|message| {
                ConfigError {
                    setting: "ADMIN_PASSWORD",
                    message,
                }
            })?;
        }
        if let Some(username) = &admin_username {
            crate::validate::check_username(username).map_err(|message| ConfigError {
                setting: "ADMIN_USERNAME",
                message,
            })?;
        }
        let log_format = match get("LOG_FORMAT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => {
                return Err(ConfigError {
                    setting: "LOG_FORMAT",
                    message: "must be `text` or `json`".into(),
                })
            }
        };
        let log_level = get("LOG_LEVEL").unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            return Err(ConfigError {
                setting: "LOG_LEVEL",
                message: "must be a level (error, warn, info, debug, trace) or a filter like `info,campaign_tracker=debug`".into(),
            });
        }

        Ok(Config {
            database,
            database_pool_size: number(&get, "DATABASE_POOL_SIZE", default_pool, 1..=200)?,
            database_timeout: Duration::from_secs(number(
                &get,
                "DATABASE_TIMEOUT_SECONDS",
                5,
                1..=300,
            )?),
            bind: parse(
                &get,
                "BIND",
                "127.0.0.1:8080",
                "must be host:port, e.g. 127.0.0.1:8080",
            )?,
            jwt_secret,
            admin_username,
            admin_password,
            log_level,
            log_format,
            access_token_ttl: Duration::from_secs(number(
                &get,
                "ACCESS_TOKEN_TTL_SECONDS",
                900,
                30..=86_400,
            )?),
            refresh_token_ttl: Duration::from_secs(number(
                &get,
                "REFRESH_TOKEN_TTL_SECONDS",
                30 * 86_400,
                300..=365 * 86_400,
            )?),
            max_body_bytes: number(&get, "MAX_BODY_BYTES", 1 << 20, 1024..=64 << 20)?,
            login_max_failures: number(&get, "LOGIN_MAX_FAILURES", 5, 1..=1000)?,
            login_max_failures_per_address: number(
                &get,
                "LOGIN_MAX_FAILURES_PER_ADDRESS",
                100,
                1..=100_000,
            )?,
            login_lockout: Duration::from_secs(number(
                &get,
                "LOGIN_LOCKOUT_SECONDS",
                300,
                1..=86_400,
            )?),
            password_hash_concurrency: number(
                &get,
                "PASSWORD_HASH_CONCURRENCY",
                std::thread::available_parallelism().map_or(1, |n| n.get()),
                1..=256,
            )?,
            trusted_proxies: list(&get, "TRUSTED_PROXIES", |item| {
                item.parse::<ipnet::IpNet>()
                    .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("`{item}` is not an IP address or CIDR range"))
            })?,
            cors_allowed_origins: list(&get, "CORS_ALLOWED_ORIGINS", |item| {
                let ok = (item.starts_with("https://") || item.starts_with("http://"))
                    && !item.ends_with('/')
                    && !item.contains('*');
                ok.then(|| item.to_string()).ok_or_else(|| {
                    format!("`{item}` is not an origin like https://dashboard.example.org")
                })
            })?,
            body_timeout: Duration::from_secs(number(&get, "BODY_TIMEOUT_SECONDS", 30, 1..=3600)?),
            max_connections: number(&get, "MAX_CONNECTIONS", 4096, 1..=1_000_000)?,
            max_boundary_vertices: number(&get, "MAX_BOUNDARY_VERTICES", 10_000, 4..=1_000_000)?,
            warnings: crate::deadlines::WarningRules {
                due_soon: chrono::TimeDelta::hours(number(
                    &get,
                    "WARNING_DUE_SOON_HOURS",
                    72,
                    1..=24 * 90,
                )?),
                time_left_percent: number(&get, "WARNING_TIME_LEFT_PERCENT", 10, 0..=100)?,
                pace_tolerance: number(&get, "WARNING_PACE_TOLERANCE_POINTS", 10, 0..=100)?,
            },
            idempotency_ttl: Duration::from_secs(
                3600 * number(&get, "IDEMPOTENCY_KEY_TTL_HOURS", 24, 24..=24 * 30)?,
            ),
            sweep_interval: Duration::from_secs(number(
                &get,
                "DEADLINE_SWEEP_SECONDS",
                60,
                5..=86_400,
            )?),
            attachments_dir: get("ATTACHMENTS_DIR")
                .unwrap_or_else(|| "data/attachments".into())
                .into(),
            max_upload_bytes: number(&get, "MAX_UPLOAD_BYTES", 10 * 1024 * 1024, 1..=1 << 30)?,
            duplicate_radius_m: number(&get, "DUPLICATE_RADIUS_METRES", 50, 1..=5_000)?,
        })
    }
}

fn parse<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    default: &str,
    hint: &str,
) -> Result<T, ConfigError> {
    let raw = get(setting).unwrap_or_else(|| default.to_string());
    raw.trim().parse().map_err(|_| ConfigError {
        setting,
        message: format!("`{raw}` is invalid: {hint}"),
    })
}

/// A comma-separated list, each item checked by `item`.
fn list<T>(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    item: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    get(setting)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|i| item(i).map_err(|message| ConfigError { setting, message }))
        .collect()
}

fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = get(setting) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(ConfigError {
            setting,
            message: format!(
                "`{raw}` is invalid: must be a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    /// Every setting the code reads is documented in `.env.example`, and nothing else is.
    #[test]
    fn env_example_lists_every_setting() {
        let read = std::cell::RefCell::new(std::collections::BTreeSet::new());
        Config::from_lookup(|name| {
            read.borrow_mut().insert(name.to_string());
            None
        })
        .unwrap();
        let documented: std::collections::BTreeSet<String> = include_str!("../.env.example")
            .lines()
            .filter_map(|l| l.trim_start_matches(['#', ' ']).split_once('='))
            .map(|(name, _)| name.to_string())
            .filter(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            })
            .collect();
        assert_eq!(*read.borrow(), documented);
    }

    #[test]
    fn defaults_to_embedded_sqlite() {
        let c = config(&[]).unwrap();
        assert_eq!(
            c.database,
            Target::Sqlite("data/campaign-tracker.db".into())
        );
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert!(c.jwt_secret.is_none());
    }

    #[test]
    fn bad_settings_name_the_setting() {
        for (pairs, setting) in [
            (vec![("BIND", "nowhere")], "BIND"),
            (vec![("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (vec![("JWT_SECRET", "short")], "JWT_SECRET"),
            (vec![("JWT_SECRET", &"a".repeat(32))], "JWT_SECRET"),
            (vec![("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (
                vec![("ACCESS_TOKEN_TTL_SECONDS", "-1")],
                "ACCESS_TOKEN_TTL_SECONDS",
            ),
            (vec![("ADMIN_USERNAME", "root")], "ADMIN_PASSWORD"),
            (
                vec![("ADMIN_USERNAME", "root"), ("ADMIN_PASSWORD", "short")],
                "ADMIN_PASSWORD",
            ),
            (vec![("MAX_BODY_BYTES", "lots")], "MAX_BODY_BYTES"),
            (
                vec![("TRUSTED_PROXIES", "10.0.0.1, nowhere")],
                "TRUSTED_PROXIES",
            ),
            (vec![("CORS_ALLOWED_ORIGINS", "*")], "CORS_ALLOWED_ORIGINS"),
        ] {
            let err = config(&pairs)
                .err()
                .unwrap_or_else(|| panic!("{setting} accepted"));
            assert_eq!(err.setting, setting);
            assert!(err.to_string().contains(setting));
        }
    }
}
