//! Storage: one diesel connection type over PostgreSQL and SQLite, its pool, migrations,
//! and the two helpers every domain module uses — [`Db::read`]/[`Db::write`] run diesel
//! off the async executor, and [`write_tx`] opens a transaction that SQLite begins
//! IMMEDIATE (a deferred one that reads and then writes fails under load).
//!
//! Look a row up by a unique key with `.get_result(conn)`, never `.first(conn)`: `first`
//! adds `LIMIT ?`, and SQLite (3.45 and later) treats a bound LIMIT as a constant of the
//! plan, so rebinding it expires the cached statement and every call parses the SQL again
//! (a quarter of the CPU of a single-record GET, measured with perf).

pub mod in_list;
pub mod page;
pub mod schema;
pub mod stats;
pub mod types;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;
use crate::telemetry::metrics::Metrics;
pub use in_list::{in_list, in_subquery, InList, InSubquery};
pub use stats::{Counts, Stats};

/// SQLite is listed last: the derive tries variants in order when it establishes from a
/// URL, and SQLite would accept any string as a file name.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// The backend type of [`DbConnection`], for boxed queries and expressions.
pub type Backend = <DbConnection as Connection>::Backend;

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Each connection's page cache. SQLite's default (2 MiB) holds a few hundred pages; a
/// district's year of items is hundreds of MiB, so every request read its index pages
/// back from the operating system (a `pread` each; measured with perf on the benchmark's
/// reports). Pages are shared with the OS cache through the memory map below as well.
const SQLITE_CACHE_KIB: u32 = 32 * 1024;
/// Reads through a memory map of the file instead of a copy per page.
const SQLITE_MMAP_BYTES: u64 = 1 << 30;

/// How long SQLite waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Where the data lives, parsed once from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Postgres(String),
    Sqlite(String),
}

impl Target {
    /// `sqlite://relative/file.db`, `sqlite:///absolute/file.db` or `sqlite:file.db` select
    /// SQLite; `postgres://` or `postgresql://` select PostgreSQL. A connect timeout is
    /// added to PostgreSQL URLs that lack one, so a wrong host fails fast instead of hanging.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err(
                    "the SQLite URL names no file (expected sqlite://path/to/file.db)".into(),
                );
            }
            if rest == ":memory:" {
                return Err("an in-memory SQLite database would be empty for every pooled connection; name a file".into());
            }
            return Ok(Target::Sqlite(rest.to_string()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let url = if url.contains("connect_timeout=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&connect_timeout=5")
            } else {
                format!("{url}?connect_timeout=5")
            };
            return Ok(Target::Postgres(url));
        }
        Err("expected a URL starting with sqlite:// or postgres://".into())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Target::Postgres(_) => "postgres",
            Target::Sqlite(_) => "sqlite",
        }
    }

    /// Opens one connection, set up as every pooled connection is. The error is the
    /// driver's own message (libpq's for PostgreSQL), which is what an operator needs.
    pub fn connect(&self) -> Result<DbConnection, String> {
        self.connect_counted(None)
    }

    /// [`Target::connect`], reporting what the connection runs to `stats`.
    pub fn connect_counted(&self, stats: Option<&Stats>) -> Result<DbConnection, String> {
        match self {
            Target::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(|e| e.to_string().trim().to_string())?;
                if let Some(stats) = stats {
                    conn.set_instrumentation(stats.instrument());
                }
                Ok(DbConnection::Pg(conn))
            }
            Target::Sqlite(path) => {
                private_file(Path::new(path))?;
                let mut conn = SqliteConnection::establish(path).map_err(|e| e.to_string())?;
                // busy_timeout first: the pragmas after it may themselves wait for a lock.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA temp_store = MEMORY;
                     PRAGMA cache_size = -{SQLITE_CACHE_KIB};
                     PRAGMA mmap_size = {SQLITE_MMAP_BYTES};"
                ))
                .map_err(|e| e.to_string())?;
                // After the set-up, so that a request's count does not depend on whether
                // its connection was new.
                if let Some(stats) = stats {
                    conn.set_instrumentation(stats.instrument());
                }
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// The database holds password hashes: its folder is created for the owner only (0700) and
/// its file made readable by the owner only (0600) before SQLite opens it — SQLite gives the
/// `-wal` and `-shm` files it creates the database file's permissions.
fn private_file(path: &Path) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(parent)
                .map_err(|e| format!("cannot create folder {}: {e}", parent.display()))?;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let metadata = file.metadata().map_err(|e| e.to_string())?;
        if metadata.permissions().mode() & 0o077 != 0 {
            // Made by an earlier version, under the usual umask: tighten it.
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// r2d2 manager that knows our [`Target`] (the derived `establish` would try PostgreSQL on
/// a SQLite URL and report a confusing error).
#[derive(Debug)]
pub struct ConnectionManager {
    target: Target,
    stats: Stats,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.target
            .connect_counted(Some(&self.stats))
            .map_err(|e| diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(e)))
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// Applies the pending migrations of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, String> {
    let applied = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| e.to_string())?;
    Ok(applied.len())
}

/// Keeps the query planner's statistics current. SQLite plans without statistics by rules
/// of thumb, and with a status index beside the unit indexes those chose to read a town's
/// open items by status across the whole district (33 ms against 2.8 ms at 100,000 items,
/// measured on the benchmark's district): `PRAGMA optimize` analyses the tables whose
/// statistics are missing or stale, reading a bounded sample of each. Run at start and
/// by the periodic sweep; PostgreSQL's autovacuum does the same on its own.
pub fn refresh_statistics(conn: &mut DbConnection) -> Result<(), diesel::result::Error> {
    match conn {
        DbConnection::Sqlite(c) => {
            c.batch_execute("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
        }
        DbConnection::Pg(_) => Ok(()),
    }
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (take the write lock up
/// front, so the busy timeout applies instead of a "database is locked" failure at the
/// first write), a plain `BEGIN` on PostgreSQL.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConnection as Connection>::TransactionManager;
    take_writer_turn();
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(_) => Tm::begin_transaction(conn)?,
    }
    let result = match f(conn) {
        Ok(value) => Tm::commit_transaction(conn)
            .map(|()| value)
            .map_err(E::from),
        Err(e) => {
            if let Err(rollback) = Tm::rollback_transaction(conn) {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    };
    give_up_writer_turn();
    result
}

/// The pool plus the metrics it feeds; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    metrics: Metrics,
    stats: Stats,
    backend: &'static str,
    /// One permit per pooled connection. A request waits for one on the executor, where
    /// waiting costs no thread, before it hops to the blocking pool: so at most as many
    /// blocking threads work the database as there are connections, and a checkout
    /// never waits on a blocking thread.
    slots: Arc<tokio::sync::Semaphore>,
    /// How long a request waits for a slot before it is told 503.
    timeout: Duration,
    /// SQLite only: one permit for the one writer SQLite allows ([`Db::writing`]).
    writer: Option<Arc<tokio::sync::Semaphore>>,
}

/// This blocking thread's place in the writers' queue, while it does work that writes
/// ([`Db::writing`]).
enum Turn {
    /// Work that does not write through the queue (reads, the CLI, tests' connections).
    Outside,
    /// The turn is held: this thread may write.
    Held(tokio::sync::OwnedSemaphorePermit),
    /// Given up at the end of a transaction; a further transaction of the same work
    /// queues again.
    GivenUp(Arc<tokio::sync::Semaphore>),
}

thread_local! {
    /// Held by [`Db::writing`]'s work and given up by [`write_tx`] as soon as its
    /// transaction ends: what the work does after its commit (building a view,
    /// serialising an answer) does not keep the next writer waiting, and work that
    /// writes several times queues once per transaction.
    static WRITER_TURN: std::cell::RefCell<Turn> = const { std::cell::RefCell::new(Turn::Outside) };
}

/// A hop's hold on [`WRITER_TURN`]: whatever the work leaves there is dropped when the
/// hop ends, even by a panic, so a turn never outlives its work.
struct TurnScope;

impl TurnScope {
    fn enter(turn: Option<tokio::sync::OwnedSemaphorePermit>) -> TurnScope {
        WRITER_TURN.with(|held| *held.borrow_mut() = turn.map_or(Turn::Outside, Turn::Held));
        TurnScope
    }
}

impl Drop for TurnScope {
    fn drop(&mut self) {
        WRITER_TURN.with(|held| *held.borrow_mut() = Turn::Outside);
    }
}

/// Before a write transaction: a thread that gave its turn up queues again (rare: work
/// with two transactions in one hop, such as a job's claim and its run).
fn take_writer_turn() {
    WRITER_TURN.with(|turn| {
        let mut turn = turn.borrow_mut();
        if let Turn::GivenUp(queue) = &*turn {
            let queue = queue.clone();
            // On a blocking thread of the runtime: blocking here is allowed.
            let acquired = tokio::runtime::Handle::try_current()
                .ok()
                .and_then(|rt| rt.block_on(queue.acquire_owned()).ok());
            *turn = match acquired {
                Some(permit) => Turn::Held(permit),
                None => Turn::Outside,
            };
        }
    });
}

/// After a write transaction: gives the turn to the next writer.
fn give_up_writer_turn() {
    WRITER_TURN.with(|turn| {
        let mut turn = turn.borrow_mut();
        if let Turn::Held(permit) = &*turn {
            let queue = permit.semaphore().clone();
            *turn = Turn::GivenUp(queue);
        }
    });
}

impl Db {
    pub fn new(target: &Target, size: u32, timeout: Duration, metrics: Metrics) -> Self {
        let stats = Stats::default();
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .connection_timeout(timeout)
            // Connections are opened on demand; start-up has already proved one works.
            .min_idle(Some(0))
            // No `SELECT 1` before every checkout (a round trip per request on PostgreSQL):
            // diesel marks a connection that lost its server as broken when a query fails
            // on it, and `has_broken` drops it then (tests/api/ops.rs kills one to check).
            .test_on_check_out(false)
            .build_unchecked(ConnectionManager {
                target: target.clone(),
                stats: stats.clone(),
            });
        Db {
            pool,
            metrics,
            stats,
            backend: target.backend_name(),
            slots: Arc::new(tokio::sync::Semaphore::new(size as usize)),
            timeout,
            writer: matches!(target, Target::Sqlite(_))
                .then(|| Arc::new(tokio::sync::Semaphore::new(1))),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// What this pool's connections have been asked (statements, transactions).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    pub fn max_size(&self) -> u32 {
        self.pool.max_size()
    }

    /// A pooled connection, for code already off the executor (CLI, tests, blocking jobs).
    pub fn get(&self) -> Result<PooledConnection, AppError> {
        let started = Instant::now();
        let result = self.pool.get();
        self.metrics
            .observe_pool_wait(started.elapsed(), result.is_err());
        result.map_err(|e| {
            tracing::warn!(error = %e, "database pool exhausted");
            AppError::Unavailable
        })
    }

    /// Waits, on the executor, for a connection slot (at most the pool timeout).
    async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        let started = Instant::now();
        let acquired = tokio::time::timeout(self.timeout, self.slots.clone().acquire_owned()).await;
        match acquired {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(AppError::internal("the connection slots are closed")),
            Err(_) => {
                self.metrics.observe_pool_wait(started.elapsed(), true);
                tracing::warn!("database pool exhausted: no connection slot in time");
                Err(AppError::Unavailable)
            }
        }
    }

    /// Runs diesel work on one pooled connection, in one trip to the blocking thread pool.
    /// A request resolves its caller and does its work inside one such call (see
    /// [`crate::auth::Caller::run`]): one hop, one connection.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.hop(None, f).await
    }

    async fn hop<T, F>(
        &self,
        turn: Option<tokio::sync::OwnedSemaphorePermit>,
        f: F,
    ) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let slot = self.slot().await?;
        let db = self.clone();
        // The request's span goes along, so what the work logs carries the request id.
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            let _slot = slot;
            let _turn = TurnScope::enter(turn);
            db.get().and_then(|mut conn| f(&mut conn))
        })
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
    }

    /// Runs work that writes, like [`Db::read`], after waiting its turn among this
    /// process's writers on SQLite. The turn ends when the work's write transaction
    /// ([`write_tx`]) commits or rolls back, so one turn covers one transaction: work
    /// that writes several times (a batch) takes a turn for each.
    ///
    /// Why: SQLite allows one writer; a second one waits in SQLite's busy handler, which
    /// sleeps in steps of up to 100 ms, so under concurrent writes the slowest ones waited
    /// far longer than the writes took (creates: p99 of 70–150 ms at 5,000/s). Queued
    /// here, each starts as soon as the one before commits. The wait is async, so queued
    /// writers hold no thread and no connection. (Another process — the CLI — still meets
    /// the busy handler, as before.)
    pub async fn writing<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let turn = match &self.writer {
            Some(writer) => Some(
                writer
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| AppError::internal("the writer queue is closed"))?,
            ),
            None => None,
        };
        self.hop(turn, f).await
    }

    /// Runs diesel work in a write transaction ([`write_tx`]) on the blocking thread pool.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.writing(move |conn| write_tx(conn, f)).await
    }
}

/// Runs `$body` with `$c` bound to the concrete connection inside a [`DbConnection`], so
/// the query is built for that backend alone.
///
/// Why: the multi-backend connection serialises every query to SQL text to find its
/// cached prepared statement (about 15 % of the CPU of a single-record GET on SQLite,
/// measured with perf); a concrete connection keys a query of static shape by its type.
/// Worth it for the lookups every request makes (the caller, a record by id); boxed and
/// dynamic queries (lists) gain nothing.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// What a transaction returns when it must commit even though the request is refused:
/// a failed login's counter, a replayed refresh token's revoked family. The refusal is
/// reported after the commit, with [`Committed::into_result`].
/// A refusal may carry more than the error (what it locked, to log after the commit).
#[derive(Debug)]
pub enum Committed<T, R = AppError> {
    Granted(T),
    Refused(R),
}

impl<T> Committed<T> {
    pub fn into_result(self) -> Result<T, AppError> {
        match self {
            Committed::Granted(value) => Ok(value),
            Committed::Refused(error) => Err(error),
        }
    }
}

/// Current time as stored: UTC without offset, truncated to microseconds so that both
/// backends round-trip exactly what was written.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

/// When `error` is a unique violation: the name of the index or constraint (PostgreSQL) or
/// the columns (SQLite, "UNIQUE constraint failed: units.code") that refused the row, for
/// telling one conflict from another.
pub fn unique_violation(error: &diesel::result::Error) -> Option<String> {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        ) => Some(
            info.constraint_name()
                .map_or_else(|| info.message().to_string(), str::to_string),
        ),
        _ => None,
    }
}

/// A versioned update found the row changed by another request between its read and its
/// write (PostgreSQL runs READ COMMITTED): the client retries with a fresh read.
pub fn concurrent_change(what: &'static str) -> AppError {
    AppError::conflict(
        crate::error::Code::ConcurrentChange,
        format!(
            "the {what} was changed by another request at the same moment; read it again and retry"
        ),
    )
}

diesel::define_sql_function! {
    /// SQL `lower()`, which both backends have.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// LIKE pattern for a case-insensitive substring search, to compare with `lower(column)`
/// and `.escape('\\')`. SQLite's LIKE ignores ASCII case and PostgreSQL's does not;
/// lowering both sides makes the two backends answer alike.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", like_escape(&text.to_lowercase()))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `.escape('\\')`.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            Target::parse("sqlite://data/x.db"),
            Ok(Target::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            Target::parse("sqlite:///tmp/x.db"),
            Ok(Target::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(
            Target::parse("postgres://u@h/db"),
            Ok(Target::Postgres(
                "postgres://u@h/db?connect_timeout=5".into()
            ))
        );
        assert_eq!(
            Target::parse("postgresql://u@h/db?sslmode=disable"),
            Ok(Target::Postgres(
                "postgresql://u@h/db?sslmode=disable&connect_timeout=5".into()
            ))
        );
        assert!(Target::parse("mysql://x").is_err());
        assert!(Target::parse("sqlite://").is_err());
        assert!(Target::parse("sqlite::memory:").is_err());
    }

    /// See the module docs: `.first(conn)` re-prepares on SQLite at every call.
    #[test]
    fn no_query_uses_first() {
        fn visit(dir: &Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let code = text.lines().filter(|l| !l.trim_start().starts_with("//"));
                    if code
                        .into_iter()
                        .any(|l| l.contains(concat!(".first", "(conn)")))
                    {
                        found.push(path.display().to_string());
                    }
                }
            }
        }
        let mut found = Vec::new();
        visit(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.is_empty(),
            "use .get_result(conn) for unique lookups: {found:?}"
        );
    }

    #[test]
    fn escapes_like_patterns() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(like_escape("马岭岗"), "马岭岗");
        assert_eq!(contains_pattern("MLGZ_1"), "%mlgz\\_1%");
    }
}
