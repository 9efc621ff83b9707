//! What the database was asked, counted per pool: statements, transactions and statement
//! preparations, through diesel's connection instrumentation. Counting costs an atomic add
//! per statement; the statement texts are kept only when a test asks for them
//! ([`Stats::capture`]) — the plan checks explain every statement a request ran, and the
//! statement budgets fail when a change adds one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// Counters shared by every connection of one pool; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    statements: AtomicU64,
    transactions: AtomicU64,
    prepares: AtomicU64,
    capturing: AtomicBool,
    captured: Mutex<Vec<String>>,
}

/// The counters at one moment; subtract two to see what happened between them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every statement sent, `BEGIN` and `COMMIT` included.
    pub statements: u64,
    /// Outermost transactions begun.
    pub transactions: u64,
    /// Statements prepared (a miss of the connection's statement cache).
    pub prepares: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, before: Counts) -> Counts {
        Counts {
            statements: self.statements - before.statements,
            transactions: self.transactions - before.transactions,
            prepares: self.prepares - before.prepares,
        }
    }
}

impl Stats {
    pub fn counts(&self) -> Counts {
        Counts {
            statements: self.inner.statements.load(Ordering::Relaxed),
            transactions: self.inner.transactions.load(Ordering::Relaxed),
            prepares: self.inner.prepares.load(Ordering::Relaxed),
        }
    }

    /// Starts keeping the text of every statement (with its bind values) until
    /// [`Stats::take_captured`]; for tests.
    pub fn capture(&self, on: bool) {
        self.inner.capturing.store(on, Ordering::Relaxed);
    }

    /// The statements kept since capturing began (or since the last call).
    pub fn take_captured(&self) -> Vec<String> {
        match self.inner.captured.lock() {
            Ok(mut captured) => std::mem::take(&mut *captured),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    /// The instrumentation a connection of this pool reports to.
    pub fn instrument(&self) -> impl Instrumentation {
        let stats = self.clone();
        move |event: InstrumentationEvent<'_>| stats.observe(event)
    }

    fn observe(&self, event: InstrumentationEvent<'_>) {
        let inner = &self.inner;
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                inner.statements.fetch_add(1, Ordering::Relaxed);
                if inner.capturing.load(Ordering::Relaxed) {
                    let text = query.to_string();
                    if let Ok(mut captured) = inner.captured.lock() {
                        captured.push(text);
                    }
                }
            }
            InstrumentationEvent::BeginTransaction { depth, .. } if depth.get() == 1 => {
                inner.transactions.fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::CacheQuery { .. } => {
                inner.prepares.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    #[test]
    fn counts_statements_transactions_and_prepares() {
        let stats = Stats::default();
        let mut conn = SqliteConnection::establish(":memory:").expect("sqlite");
        conn.set_instrumentation(stats.instrument());
        let before = stats.counts();
        conn.batch_execute("CREATE TABLE t (x INTEGER)")
            .expect("create");
        stats.capture(true);
        for x in 0..3 {
            diesel::sql_query("INSERT INTO t (x) VALUES (?)")
                .bind::<diesel::sql_types::Integer, _>(x)
                .execute(&mut conn)
                .expect("insert");
        }
        conn.transaction(|c| diesel::sql_query("DELETE FROM t").execute(c))
            .expect("delete");
        let done = stats.counts() - before;
        // CREATE, three INSERTs, BEGIN, DELETE, COMMIT.
        assert_eq!(done.statements, 7);
        assert_eq!(done.transactions, 1);
        let captured = stats.take_captured();
        assert_eq!(captured.len(), 6, "{captured:?}");
        assert!(captured[0].starts_with("INSERT INTO t"), "{captured:?}");
        assert!(stats.take_captured().is_empty());
    }
}
