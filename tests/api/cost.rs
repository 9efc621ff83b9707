//! What a request costs the database, checked where it is deterministic:
//!
//! - **plans at size**: on a district of 10,000 units and 100,000 items, every statement
//!   the caller, a GET, a list page and the writes run is explained, and none may read a
//!   whole `units`, `rectifications` or `tasks` table (a sequential scan) — the defect a
//!   benchmark on the 29-unit demo hid;
//! - **statement budgets**: how many statements and transactions each kind of request
//!   sends. A change that adds one fails here, and has to say why in this file.

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{json, Value};

use campaign_tracker::db::{Counts, DbConnection};
use campaign_tracker::world::bulk::{self, Generated, Scale};

use crate::common::TestApp;

/// A generated district in `app`'s database, with a token per role.
struct District {
    made: Generated,
    admin: String,
    /// The district's office (sees the whole district), and a town's.
    district_office: String,
    office: String,
    officer: String,
    inspector: String,
}

fn district(app: &TestApp, scale: Scale) -> District {
    let hash = campaign_tracker::auth::password::hash("bulk-password-1").expect("hash");
    let now = app.state.clock.now();
    let made = app
        .db(|conn| bulk::generate(conn, scale, now, "bulk-password-1", &hash))
        .expect("generate");
    District {
        admin: app.token_for(made.admin.id.as_str()),
        district_office: app.token_for(made.office.id.as_str()),
        office: app.token_for(made.town_office.id.as_str()),
        officer: app.token_for(made.town_officer.id.as_str()),
        inspector: app.token_for(made.inspector.id.as_str()),
        made,
    }
}

/// The requests whose cost is checked, as (name, method, path, who, body).
fn requests(d: &District) -> Vec<(&'static str, &'static str, String, &str, Option<Value>)> {
    let m = &d.made;
    let (lon, lat) = m.grid_point;
    vec![
        (
            "get an item",
            "GET",
            format!("/api/v1/rectifications/{}", m.item),
            &d.officer,
            None,
        ),
        (
            "list items",
            "GET",
            "/api/v1/rectifications?per_page=20".into(),
            &d.office,
            None,
        ),
        (
            "list the district's open items",
            "GET",
            "/api/v1/rectifications?per_page=20&status=in_progress".into(),
            &d.district_office,
            None,
        ),
        (
            "list a unit's open items",
            "GET",
            format!(
                "/api/v1/rectifications?unit_id={}&status=assigned&status=in_progress",
                m.village
            ),
            &d.office,
            None,
        ),
        (
            "get a task",
            "GET",
            format!("/api/v1/tasks/{}", m.task),
            &d.officer,
            None,
        ),
        (
            "list tasks",
            "GET",
            "/api/v1/tasks?per_page=20".into(),
            &d.officer,
            None,
        ),
        (
            "list units",
            "GET",
            "/api/v1/units?per_page=50".into(),
            &d.office,
            None,
        ),
        (
            "report",
            "POST",
            "/api/v1/rectifications".into(),
            &d.inspector,
            Some(
                json!({"source": "patrol", "category_id": m.category, "description": "宣传栏破损",
                        "lat": lat, "lon": lon}),
            ),
        ),
        (
            "task transition",
            "POST",
            format!("/api/v1/tasks/{}/transitions", m.task),
            &d.officer,
            Some(json!({"action": "submit", "note": "已整改完毕"})),
        ),
        (
            "create a unit",
            "POST",
            "/api/v1/units".into(),
            &d.admin,
            Some(
                json!({"code": "BD-NEW-1", "name": "新设社区", "kind": "community", "parent_id": m.town}),
            ),
        ),
    ]
}

async fn send(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> Value {
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
    let resp = app.send(method, path, Some(token), body).await;
    assert!(
        resp.status.is_success(),
        "{path}: {} {}",
        resp.status,
        resp.text
    );
    resp.json()
}

#[derive(QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct SqlitePlanLine {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// The lines of the plan of `sql` (as the connection logged it: the text with its
/// placeholders, then ` -- binds: …`) that read a whole table of interest.
fn full_scans(conn: &mut DbConnection, logged: &str) -> Vec<String> {
    let sql = logged.split(" -- binds: ").next().unwrap_or(logged).trim();
    let upper = sql.to_ascii_uppercase();
    if !(upper.starts_with("SELECT")
        || upper.starts_with("INSERT")
        || upper.starts_with("UPDATE")
        || upper.starts_with("DELETE")
        || upper.starts_with("WITH"))
    {
        return Vec::new();
    }
    let watched = ["units", "rectifications", "tasks"];
    match conn {
        DbConnection::Pg(c) => {
            // The generic plan: what PostgreSQL runs for any values once it stops planning
            // per call; NULLs stand for the parameters.
            let params = (1..=200)
                .rev()
                .find(|n| sql.contains(&format!("${n}")))
                .unwrap_or(0);
            let nulls = vec!["NULL"; params].join(", ");
            // (Only this statement is deallocated: the connection's own cache stays valid.)
            diesel::sql_query("SET plan_cache_mode = force_generic_plan")
                .execute(c)
                .expect("set");
            diesel::sql_query(format!("PREPARE checked AS {sql}"))
                .execute(c)
                .unwrap_or_else(|e| panic!("cannot prepare {sql}: {e}"));
            let execute = if params == 0 {
                "EXPLAIN EXECUTE checked".to_string()
            } else {
                format!("EXPLAIN EXECUTE checked({nulls})")
            };
            let plan: Vec<PgPlanLine> = diesel::sql_query(execute)
                .load(c)
                .unwrap_or_else(|e| panic!("cannot explain {sql}: {e}"));
            diesel::sql_query("DEALLOCATE checked")
                .execute(c)
                .expect("deallocate");
            diesel::sql_query("RESET plan_cache_mode")
                .execute(c)
                .expect("reset");
            plan.into_iter()
                .map(|p| p.line)
                .filter(|line| {
                    watched.iter().any(|t| {
                        line.contains(&format!("Seq Scan on {t} "))
                            || line.trim_end().ends_with(&format!("Seq Scan on {t}"))
                    })
                })
                .collect()
        }
        DbConnection::Sqlite(c) => {
            let plan: Vec<SqlitePlanLine> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load(c)
                .unwrap_or_else(|e| panic!("cannot explain {sql}: {e}"));
            plan.into_iter()
                .map(|p| p.detail)
                .filter(|detail| {
                    watched.iter().any(|t| {
                        let scan = format!("SCAN {t}");
                        detail == &scan
                            || detail.starts_with(&format!("{scan} ")) && !detail.contains("INDEX")
                    })
                })
                .collect()
        }
    }
}

#[actix_web::test]
async fn no_request_reads_a_whole_table_at_ten_thousand_units() {
    let app = TestApp::new().await;
    let d = district(&app, Scale::PLAN_CHECK);
    app.db(|conn| {
        use diesel::connection::SimpleConnection;
        conn.batch_execute("ANALYZE").expect("analyze");
    });
    let mut found = Vec::new();
    for (name, method, path, token, body) in requests(&d) {
        app.state.db.stats().capture(true);
        send(&app, method, &path, token, body.as_ref()).await;
        app.state.db.stats().capture(false);
        let statements = app.state.db.stats().take_captured();
        assert!(!statements.is_empty(), "{name}: nothing captured");
        app.db(|conn| {
            for statement in &statements {
                for scan in full_scans(conn, statement) {
                    found.push(format!("{name}: {scan}\n    in {statement}"));
                }
            }
        });
    }
    assert!(found.is_empty(), "full scans:\n{}", found.join("\n"));
}

/// Statements (BEGIN and COMMIT included) and transactions per request, on the small
/// generated district. Each figure is what the request needs today; raise one only with
/// a reason written here.
#[actix_web::test]
async fn requests_keep_to_their_statement_budgets() {
    let app = TestApp::new().await;
    let small = Scale {
        towns: 3,
        departments: 2,
        villages: 6,
        grids: 12,
        users: 12,
        campaigns: 1,
        items: 300,
        tasks: 200,
        seed: 3,
    };
    let d = district(&app, small);
    let postgres = app.state.db.backend() == "postgres";
    let budgets: &[(&str, u64, u64)] = &[
        // The caller (1), the item with its units' paths and every name its view shows
        // (1), its photos (1).
        ("get an item", 3, 0),
        // The caller, the page, its view (4); 20 of 300 rows: a capped count (1).
        ("list items", 7, 0),
        // The caller, the page, its view (4), the capped count.
        ("list the district's open items", 7, 0),
        // The caller, the unit's path, the page, its view (4); the page is not full.
        ("list a unit's open items", 7, 0),
        // The caller, the task with its units, its view: names, directive.
        ("get a task", 4, 0),
        // The caller, the page, its view (2), the capped count.
        ("list tasks", 5, 0),
        // The caller, the page, the names; the page is not full.
        ("list units", 3, 0),
        // The caller; BEGIN; category, grid, routing, nearby duplicates; the insert; the
        // view (4); then the number (upsert, write), the event, and the unit's people
        // told (who they are, their notifications); COMMIT.
        ("report", 17, 1),
        // The caller; BEGIN; the task with its units, its directive's unit; the versioned
        // update, the event, the notification's recipients and the notification; the
        // view (2); COMMIT.
        ("task transition", 10, 1),
        // The caller; BEGIN; the parent, the insert; the view's names; COMMIT. On
        // PostgreSQL one more: the tree's shared lock (creates and moves take turns).
        ("create a unit", if postgres { 7 } else { 6 }, 1),
    ];
    let mut spent: Vec<(String, Counts)> = Vec::new();
    for (name, method, path, token, body) in requests(&d) {
        // A first call warms what a connection prepares once; the second is measured.
        if method == "GET" {
            send(&app, method, &path, token, body.as_ref()).await;
        }
        let before = app.state.db.stats().counts();
        send(&app, method, &path, token, body.as_ref()).await;
        spent.push((name.to_string(), app.state.db.stats().counts() - before));
    }
    let over: Vec<String> = spent
        .iter()
        .filter_map(|(name, counts)| {
            let (_, statements, transactions) = budgets
                .iter()
                .find(|(n, _, _)| n == name)
                .unwrap_or_else(|| panic!("no budget for {name}"));
            (counts.statements != *statements || counts.transactions != *transactions).then(|| {
                format!(
                    "{name}: {} statements and {} transactions (budget {statements} and {transactions})",
                    counts.statements, counts.transactions
                )
            })
        })
        .collect();
    assert!(over.is_empty(), "{}", over.join("\n"));
    // A second page is the same statement again: SQLite prepares nothing anew.
    let path = "/api/v1/rectifications?per_page=20&page=2";
    send(&app, "GET", path, &d.office, None).await;
    let before = app.state.db.stats().counts();
    send(&app, "GET", path, &d.office, None).await;
    let again = app.state.db.stats().counts() - before;
    if app.state.db.backend() == "sqlite" {
        assert_eq!(again.prepares, 0, "statements prepared again: {again:?}");
    }
}

/// A batch of ten offline operations: each in its own transaction.
#[actix_web::test]
async fn a_batch_of_ten_keeps_to_its_budget() {
    let app = TestApp::new().await;
    let small = Scale {
        towns: 2,
        departments: 1,
        villages: 2,
        grids: 4,
        users: 8,
        campaigns: 1,
        items: 20,
        tasks: 10,
        seed: 4,
    };
    let d = district(&app, small);
    let (lon, lat) = d.made.grid_point;
    let operations: Vec<Value> = (0..10)
        .map(|i| {
            json!({"method": "POST", "path": "/api/v1/rectifications", "idempotency_key": format!("budget-{i}"),
                   "body": {"source": "patrol", "category_id": d.made.category,
                            "description": format!("离线上报{i}"), "lat": lat, "lon": lon}})
        })
        .collect();
    let before = app.state.db.stats().counts();
    let answer = send(
        &app,
        "POST",
        "/api/v1/sync/batch",
        &d.inspector,
        Some(&json!({"operations": operations})),
    )
    .await;
    let spent = app.state.db.stats().counts() - before;
    let statuses: Vec<i64> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, vec![201; 10], "{answer}");
    assert_eq!(
        spent.transactions, 10,
        "one transaction per operation: {spent:?}"
    );
    // The caller once; per operation: a report (16, as alone, with its BEGIN and COMMIT)
    // and its Idempotency-Key claimed and its answer stored (2).
    assert_eq!(spent.statements, 1 + 10 * 18, "{spent:?}");
}
