//! `/api/v1/units`: the unit tree and its rules, grid boundaries and point lookup, and who
//! sees and changes what. Every write is checked by reading back through the API.

use std::collections::HashMap;

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

const UNITS: &str = "/api/v1/units";

/// The fixture units, in the order the fixture creates them.
const FIXTURE: [&str; 8] = ["D", "A", "VA", "GA", "B", "VB", "GB", "P"];

fn url(id: &str) -> String {
    format!("{UNITS}/{id}")
}

fn new_unit(code: &str, name: &str, kind: &str, parent: Option<&str>) -> Value {
    json!({"code": code, "name": name, "kind": kind, "parent_id": parent})
}

fn new_grid(code: &str, parent: &str, boundary: Value) -> Value {
    json!({"code": code, "name": format!("新网格{code}"), "kind": "grid", "parent_id": parent, "boundary": boundary})
}

/// One string field of every item of a list page, in order.
fn column(page: &Value, name: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|item| {
            item[name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name} in {item}"))
                .to_string()
        })
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    column(page, "id")
}

/// Fixture unit ids by key, in the order given.
fn unit_ids(w: &World, keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| w.unit(k).to_string()).collect()
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

async fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let page = app.get(&format!("{UNITS}?{query}"), token).await.ok(200);
    assert_no_secrets(&page.to_string());
    page
}

/// Ids of every unit the caller can list, sorted (for comparing as sets).
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let page = list(app, token, &format!("per_page=100&{query}")).await;
    let found = ids(&page);
    assert_eq!(page["total"], found.len(), "total of {page}");
    sorted(found)
}

/// The unit as the admin reads it back.
async fn stored(app: &TestApp, w: &World, id: &str) -> Value {
    app.get(&url(id), w.token("admin")).await.ok(200)
}

/// Creates a unit as `token`, expecting 201; returns its id.
async fn created_id(app: &TestApp, token: &str, body: Value) -> String {
    app.post(UNITS, token, &body).await.ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string()
}

async fn subtree(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    ids(&app
        .get(&format!("{}/subtree?per_page=100", url(id)), token)
        .await
        .ok(200))
}

async fn locate(app: &TestApp, token: &str, (lon, lat): (f64, f64)) -> Resp {
    app.get(&format!("{UNITS}/locate?lat={lat}&lon={lon}"), token)
        .await
}

async fn located_id(app: &TestApp, token: &str, point: (f64, f64)) -> String {
    locate(app, token, point).await.ok(200)["id"]
        .as_str()
        .expect("id")
        .to_string()
}

/// Boundaries come back exactly as sent: serde_json's `float_roundtrip` parses long
/// decimals such as 115.49000000000001 to the nearest double.
#[track_caller]
fn assert_same_boundary(actual: &Value, expected: &Value) {
    assert_eq!(actual, expected, "boundary {actual} is not {expected}");
}

// ---- create, read, list ----

#[actix_web::test]
async fn create_answers_201_with_location_and_the_stored_unit() {
    let (app, w) = TestApp::with_world().await;
    let body = new_unit("HZGX-DXJD", "丹阳街道", "street", Some(w.unit("D")));
    let resp = app.post(UNITS, w.token("admin"), &body).await;
    let created = resp.ok(201);
    let id = created["id"].as_str().expect("id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "id {id}");
    assert_eq!(resp.header("location"), Some(url(id).as_str()));
    assert_eq!(created["code"], "HZGX-DXJD");
    assert_eq!(created["name"], "丹阳街道");
    assert_eq!(created["kind"], "street");
    assert_eq!(created["parent_id"], w.unit("D"));
    assert_eq!(created["boundary"], Value::Null);
    assert_eq!(created["leader_id"], Value::Null);
    assert!(created["created_at"]
        .as_str()
        .is_some_and(|t| t.parse::<chrono::DateTime<chrono::Utc>>().is_ok()));

    assert_eq!(
        app.get(resp.header("location").unwrap(), w.token("admin"))
            .await
            .ok(200),
        created
    );
    assert_eq!(
        list(&app, w.token("admin"), "").await["total"],
        FIXTURE.len() + 1
    );
}

#[actix_web::test]
async fn every_kind_can_be_created_where_the_tree_allows_it() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let create = |body: Value| created_id(&app, admin, body);
    let district = create(new_unit("D2", "牡丹区", "district", None)).await;
    let town = create(new_unit("D2-T", "沙土镇", "town", Some(&district))).await;
    let street = create(new_unit("D2-S", "牡丹街道", "street", Some(&district))).await;
    create(new_unit("D2-DEPT", "宣传部", "department", Some(&district))).await;
    create(new_unit("D2-T-V", "沙土村", "village", Some(&town))).await;
    let community = create(new_unit("D2-S-C", "花园社区", "community", Some(&street))).await;
    create(new_grid("D2-S-C-G", &community, square(100.0, 30.0, 0.01))).await;
    // A grid may also hang directly under a town or street.
    create(new_grid("D2-T-G", &town, square(100.1, 30.0, 0.01))).await;

    assert_eq!(listed(&app, admin, "kind=grid").await.len(), 4);
    let under_district = listed(&app, admin, &format!("parent_id={district}")).await;
    assert_eq!(under_district.len(), 3);
    assert_eq!(subtree(&app, admin, &district).await.len(), 8);
}

#[actix_web::test]
async fn chinese_names_round_trip_exactly() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // Full-width punctuation, a middle dot and a character outside the BMP (four UTF-8 bytes).
    let name = "佃户屯街道（筹）·𠀾社区";
    let created = app
        .post(
            UNITS,
            admin,
            &new_unit("HZGX-DHT", name, "street", Some(w.unit("D"))),
        )
        .await
        .ok(201);
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["name"], name);
    assert_eq!(stored(&app, &w, id).await["name"], name);
    assert_eq!(
        column(
            &list(&app, admin, &format!("q={}", encode("𠀾社区"))).await,
            "name"
        ),
        [name]
    );

    let renamed = "佃户屯街道办事处";
    assert_eq!(
        app.patch(&url(id), admin, &json!({"name": renamed}))
            .await
            .ok(200)["name"],
        renamed
    );
    assert_eq!(stored(&app, &w, id).await["name"], renamed);
}

#[actix_web::test]
async fn name_length_counts_characters_not_bytes() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // 100 characters, 300 UTF-8 bytes: at the limit.
    let longest = "镇".repeat(100);
    let body = new_unit("LONG-100", &longest, "town", Some(w.unit("D")));
    let id = created_id(&app, admin, body).await;
    assert_eq!(stored(&app, &w, &id).await["name"], longest.as_str());
    let body = new_unit("LONG-101", &"镇".repeat(101), "town", Some(w.unit("D")));
    app.post(UNITS, admin, &body).await.names_field(422, "name");
    assert_eq!(listed(&app, admin, "q=LONG").await, [id]);
}

#[actix_web::test]
async fn requests_without_a_token_are_401() {
    let (app, w) = TestApp::with_world().await;
    let body = new_unit("ANON", "匿名镇", "town", Some(w.unit("D")));
    app.send(Method::GET, UNITS, None, None)
        .await
        .problem_status(401);
    app.send(Method::GET, &url(w.unit("A")), None, None)
        .await
        .problem_status(401);
    app.send(Method::POST, UNITS, None, Some(&body))
        .await
        .problem_status(401);
    app.send(Method::DELETE, &url(w.unit("A")), None, None)
        .await
        .problem_status(401);
    assert_eq!(
        list(&app, w.token("admin"), "").await["total"],
        FIXTURE.len()
    );
}

#[actix_web::test]
async fn get_shows_a_grid_with_its_boundary_and_leader() {
    let (app, w) = TestApp::with_world().await;
    let ga = app.get(&url(w.unit("GA")), w.token("admin")).await.ok(200);
    assert_eq!(ga["id"], w.unit("GA"));
    assert_eq!(ga["kind"], "grid");
    assert_eq!(ga["name"], "寨庄第一网格");
    assert_eq!(ga["parent_id"], w.unit("VA"));
    assert_same_boundary(&ga["boundary"], &square(115.48, 35.25, 0.01));
    assert_eq!(ga["leader_id"], w.user("inspector"));
}

#[actix_web::test]
async fn list_is_a_page_envelope_sorted_by_code() {
    let (app, w) = TestApp::with_world().await;
    let page = list(&app, w.token("admin"), "").await;
    assert_eq!(page["page"], 1);
    assert_eq!(page["per_page"], 20);
    assert_eq!(page["total"], FIXTURE.len());
    assert_eq!(sorted(ids(&page)), sorted(unit_ids(&w, &FIXTURE)));
    let codes = column(&page, "code");
    assert_eq!(codes, sorted(codes.clone()));
}

#[actix_web::test]
async fn list_filters_by_parent_kind_and_text() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let expect = |keys: &[&str]| sorted(unit_ids(&w, keys));
    assert_eq!(
        listed(&app, admin, &format!("parent_id={}", w.unit("D"))).await,
        expect(&["A", "B", "P"])
    );
    assert_eq!(
        listed(&app, admin, &format!("parent_id={}", w.unit("GA"))).await,
        expect(&[])
    );
    assert_eq!(
        listed(&app, admin, "kind=grid").await,
        expect(&["GA", "GB"])
    );
    assert_eq!(listed(&app, admin, "kind=department").await, expect(&["P"]));
    assert_eq!(listed(&app, admin, "kind=street").await, expect(&[]));
    // Chinese text must be URL-encoded; it matches names.
    assert_eq!(
        listed(&app, admin, &format!("q={}", encode("马岭岗"))).await,
        expect(&["B"])
    );
    assert_eq!(
        listed(&app, admin, &format!("q={}", encode("程楼"))).await,
        expect(&["VB", "GB"])
    );
    assert_eq!(
        listed(&app, admin, &format!("q={}", encode("网格"))).await,
        expect(&["GA", "GB"])
    );
    // Codes match too.
    assert_eq!(
        listed(&app, admin, "q=MLGZ").await,
        expect(&["B", "VB", "GB"])
    );
    assert_eq!(listed(&app, admin, "q=LLZ-ZZ").await, expect(&["VA", "GA"]));
    // LIKE wildcards are taken literally.
    assert_eq!(listed(&app, admin, "q=%25").await, expect(&[]));
    assert_eq!(listed(&app, admin, "q=_").await, expect(&[]));
    // Filters combine.
    let both = format!("parent_id={}&kind=town&q={}", w.unit("D"), encode("吕陵"));
    assert_eq!(listed(&app, admin, &both).await, expect(&["A"]));
    assert_eq!(
        listed(&app, admin, &format!("kind=village&q={}", encode("马岭岗"))).await,
        expect(&[])
    );
}

#[actix_web::test]
async fn list_sorts_by_code_name_and_creation_either_way() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // A unit created after the fixture: last by creation, and first by code ("0…" < "H…").
    let late = created_id(
        &app,
        admin,
        new_unit("0-LATE", "阿城街道", "street", Some(w.unit("D"))),
    )
    .await;

    let codes = column(&list(&app, admin, "sort=code").await, "code");
    assert_eq!(codes.first().map(String::as_str), Some("0-LATE"));
    assert_eq!(codes, sorted(codes.clone()));
    let codes_desc = column(&list(&app, admin, "sort=-code").await, "code");
    assert_eq!(codes_desc, codes.iter().rev().cloned().collect::<Vec<_>>());

    let names = column(&list(&app, admin, "sort=name").await, "name");
    assert_eq!(names.len(), FIXTURE.len() + 1);
    assert_eq!(names, sorted(names.clone()), "names in code point order");
    let names_desc = column(&list(&app, admin, "sort=-name").await, "name");
    assert_eq!(names_desc, names.iter().rev().cloned().collect::<Vec<_>>());

    let mut by_creation = unit_ids(&w, &FIXTURE);
    by_creation.push(late);
    assert_eq!(
        ids(&list(&app, admin, "sort=created_at").await),
        by_creation
    );
    by_creation.reverse();
    assert_eq!(
        ids(&list(&app, admin, "sort=-created_at").await),
        by_creation
    );
}

#[actix_web::test]
async fn list_pages_keep_the_total_and_cover_every_unit_once() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let all = ids(&list(&app, admin, "sort=code").await);
    let mut seen = Vec::new();
    for (page, expected_len) in [(1, 3), (2, 3), (3, 2), (4, 0)] {
        let body = list(&app, admin, &format!("sort=code&per_page=3&page={page}")).await;
        assert_eq!(body["page"], page);
        assert_eq!(body["per_page"], 3);
        assert_eq!(body["total"], FIXTURE.len());
        assert_eq!(
            body["items"].as_array().unwrap().len(),
            expected_len,
            "page {page}"
        );
        seen.extend(ids(&body));
    }
    assert_eq!(seen, all);
    // The total counts the filtered set, not the page.
    let grids = list(&app, admin, "kind=grid&per_page=1").await;
    assert_eq!(
        (
            grids["total"].as_i64(),
            grids["items"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
}

// ---- update ----

#[actix_web::test]
async fn update_changes_name_and_code_and_frees_the_old_code() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let before = stored(&app, &w, w.unit("A")).await;
    let resp = app
        .patch(
            &url(w.unit("A")),
            admin,
            &json!({"code": "HZGX-LLZ2", "name": "吕陵镇人民政府"}),
        )
        .await;
    let updated = resp.ok(200);
    assert_eq!(updated["code"], "HZGX-LLZ2");
    assert_eq!(updated["name"], "吕陵镇人民政府");
    // Everything else stays.
    for field in ["id", "kind", "parent_id", "created_at"] {
        assert_eq!(updated[field], before[field], "{field}");
    }
    assert_eq!(stored(&app, &w, w.unit("A")).await, updated);
    assert_eq!(listed(&app, admin, "q=HZGX-LLZ2").await, [w.unit("A")]);
    // The old code can be reused.
    let body = new_unit("HZGX-LLZ", "吕陵镇（新）", "town", Some(w.unit("D")));
    app.post(UNITS, admin, &body).await.ok(201);
}

#[actix_web::test]
async fn update_cannot_change_the_kind() {
    let (app, w) = TestApp::with_world().await;
    app.patch(
        &url(w.unit("A")),
        w.token("admin"),
        &json!({"kind": "street"}),
    )
    .await
    .names_field(422, "kind");
    assert_eq!(stored(&app, &w, w.unit("A")).await["kind"], "town");
}

#[actix_web::test]
async fn update_of_an_unknown_unit_is_404() {
    let (app, w) = TestApp::with_world().await;
    let id = uuid::Uuid::now_v7();
    app.patch(
        &url(&id.to_string()),
        w.token("admin"),
        &json!({"name": "无"}),
    )
    .await
    .problem(404, "not_found");
}

#[actix_web::test]
async fn update_rejects_bad_names_and_codes_naming_them() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    app.patch(&url(w.unit("A")), admin, &json!({"name": ""}))
        .await
        .names_field(422, "name");
    app.patch(&url(w.unit("A")), admin, &json!({"code": "吕陵"}))
        .await
        .names_field(422, "code");
    let a = stored(&app, &w, w.unit("A")).await;
    assert_eq!(
        (a["name"].as_str(), a["code"].as_str()),
        (Some("吕陵镇"), Some("HZGX-LLZ"))
    );
}

#[actix_web::test]
async fn a_taken_code_is_409_on_create_and_on_update() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let body = new_unit("HZGX-LLZ", "另一个镇", "town", Some(w.unit("D")));
    app.post(UNITS, admin, &body)
        .await
        .problem(409, "code_taken");
    assert_eq!(list(&app, admin, "").await["total"], FIXTURE.len());

    app.patch(&url(w.unit("B")), admin, &json!({"code": "HZGX-LLZ"}))
        .await
        .problem(409, "code_taken");
    assert_eq!(stored(&app, &w, w.unit("B")).await["code"], "HZGX-MLGZ");
    // A unit keeping its own code is no conflict.
    app.patch(&url(w.unit("A")), admin, &json!({"code": "HZGX-LLZ"}))
        .await
        .ok(200);
}

// ---- tree rules ----

#[actix_web::test]
async fn create_outside_the_tree_rules_is_422_naming_parent_id() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let unknown = uuid::Uuid::now_v7().to_string();
    let cases = [
        ("town", None, "a town needs a parent"),
        ("town", Some(w.unit("A")), "a town under a town"),
        ("district", Some(w.unit("D")), "a district has no parent"),
        ("department", Some(w.unit("A")), "a department under a town"),
        ("village", Some(w.unit("D")), "a village under the district"),
        (
            "community",
            Some(w.unit("VA")),
            "a community under a village",
        ),
        ("grid", Some(w.unit("P")), "a grid under a department"),
        ("grid", Some(w.unit("GA")), "a grid under a grid"),
        ("grid", Some(w.unit("D")), "a grid under the district"),
        ("town", Some(unknown.as_str()), "an unknown parent"),
        ("town", Some("not-a-uuid"), "a malformed parent id"),
    ];
    for (kind, parent, why) in cases {
        let resp = app
            .post(UNITS, admin, &new_unit("NEW-1", "新单位", kind, parent))
            .await;
        assert_eq!(resp.status.as_u16(), 422, "{why}: {}", resp.text);
        resp.names_field(422, "parent_id");
    }
    assert_eq!(list(&app, admin, "").await["total"], FIXTURE.len());
}

#[actix_web::test]
async fn moves_outside_the_tree_rules_are_422_naming_parent_id() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let district2 = created_id(&app, admin, new_unit("D2", "牡丹区", "district", None)).await;
    let cases = [
        ("VA", json!(w.unit("D")), "a village under the district"),
        ("A", Value::Null, "a town without a parent"),
        ("GB", json!(w.unit("P")), "a grid under a department"),
        ("P", json!(w.unit("B")), "a department under a town"),
        (
            "B",
            json!(uuid::Uuid::now_v7().to_string()),
            "an unknown parent",
        ),
    ];
    for (key, parent, why) in cases {
        let resp = app
            .patch(&url(w.unit(key)), admin, &json!({"parent_id": parent}))
            .await;
        assert_eq!(resp.status.as_u16(), 422, "{why}: {}", resp.text);
        resp.names_field(422, "parent_id");
    }
    app.patch(&url(&district2), admin, &json!({"parent_id": w.unit("D")}))
        .await
        .names_field(422, "parent_id");
    // Nothing moved.
    for (key, parent) in [
        ("VA", "A"),
        ("A", "D"),
        ("GB", "VB"),
        ("P", "D"),
        ("B", "D"),
    ] {
        assert_eq!(
            stored(&app, &w, w.unit(key)).await["parent_id"],
            w.unit(parent),
            "{key}"
        );
    }
    assert_eq!(stored(&app, &w, &district2).await["parent_id"], Value::Null);
}

#[actix_web::test]
async fn moving_a_unit_under_itself_or_its_descendant_is_unit_cycle() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    for (key, target) in [
        ("A", "A"),
        ("A", "VA"),
        ("A", "GA"),
        ("VA", "GA"),
        ("D", "B"),
    ] {
        let resp = app
            .patch(
                &url(w.unit(key)),
                admin,
                &json!({"parent_id": w.unit(target)}),
            )
            .await;
        resp.problem(422, "unit_cycle");
    }
    assert_eq!(
        subtree(&app, admin, w.unit("A")).await,
        unit_ids(&w, &["A", "VA", "GA"])
    );
    assert_eq!(
        stored(&app, &w, w.unit("D")).await["parent_id"],
        Value::Null
    );
    assert_eq!(
        stored(&app, &w, w.unit("A")).await["parent_id"],
        w.unit("D")
    );
}

#[actix_web::test]
async fn moving_a_village_moves_its_subtree_and_who_sees_it() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let moved = app
        .patch(
            &url(w.unit("VA")),
            admin,
            &json!({"parent_id": w.unit("B")}),
        )
        .await
        .ok(200);
    assert_eq!(moved["parent_id"], w.unit("B"));
    assert_eq!(
        stored(&app, &w, w.unit("GA")).await["parent_id"],
        w.unit("VA"),
        "the grid stays under its village"
    );

    let under_b = subtree(&app, admin, w.unit("B")).await;
    assert_eq!(
        sorted(under_b),
        sorted(unit_ids(&w, &["B", "VA", "GA", "VB", "GB"]))
    );
    assert_eq!(subtree(&app, admin, w.unit("A")).await, [w.unit("A")]);

    for unit in ["VA", "GA"] {
        app.get(&url(w.unit(unit)), w.token("office"))
            .await
            .problem(404, "not_found");
        app.get(&url(w.unit(unit)), w.token("officer_b"))
            .await
            .ok(200);
    }
    assert_eq!(listed(&app, w.token("office"), "").await, [w.unit("A")]);
    assert_eq!(
        listed(&app, w.token("officer_b"), "").await,
        sorted(unit_ids(&w, &["B", "VA", "GA", "VB", "GB"]))
    );
    locate(&app, w.token("office"), GA_POINT)
        .await
        .problem(404, "not_found");
    assert_eq!(
        located_id(&app, w.token("officer_b"), GA_POINT).await,
        w.unit("GA")
    );

    // Units created under the moved village afterwards land in the new subtree too.
    let body = new_grid("HZGX-LLZ-ZZ-G02", w.unit("VA"), square(115.60, 35.30, 0.01));
    let g2 = created_id(&app, admin, body).await;
    app.get(&url(&g2), w.token("officer_b")).await.ok(200);
    app.get(&url(&g2), w.token("office"))
        .await
        .problem(404, "not_found");
    assert!(subtree(&app, admin, w.unit("B")).await.contains(&g2));
}

// ---- subtree ----

/// Asserts `order` (unit ids) is a pre-order walk of a tree given by `parent_of`: each unit
/// comes right after its parent or after the last unit of an earlier sibling's subtree.
#[track_caller]
fn assert_tree_order(order: &[String], parent_of: &HashMap<String, Option<String>>) {
    for pair in order.windows(2) {
        let (previous, unit) = (&pair[0], &pair[1]);
        let parent = parent_of[unit]
            .as_ref()
            .expect("only the root has no parent");
        // Climb from the previous unit: the parent must be on its path to the root.
        let mut at = Some(previous);
        while at.is_some_and(|a| a != parent) {
            at = at.and_then(|a| parent_of.get(a).and_then(Option::as_ref));
        }
        assert!(
            at.is_some(),
            "{unit} is not in tree order after {previous}: {order:?}"
        );
    }
}

#[actix_web::test]
async fn subtree_is_the_unit_then_its_descendants_in_tree_order() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // Created last and coded first ("0…" < "H…"): tree order is neither creation nor
    // code order.
    let late_village = created_id(
        &app,
        admin,
        new_unit("0-V", "晚建村", "village", Some(w.unit("A"))),
    )
    .await;
    let late_grid = created_id(
        &app,
        admin,
        new_grid("0-V-G", &late_village, square(116.0, 36.0, 0.01)),
    )
    .await;

    let a_subtree = subtree(&app, admin, w.unit("A")).await;
    assert_eq!(a_subtree.first(), Some(&w.unit("A").to_string()));
    let mut expected = unit_ids(&w, &["A", "VA", "GA"]);
    expected.extend([late_village.clone(), late_grid.clone()]);
    assert_eq!(sorted(a_subtree), sorted(expected));
    assert_eq!(subtree(&app, admin, w.unit("GB")).await, [w.unit("GB")]);

    let page = app
        .get(&format!("{}/subtree?per_page=100", url(w.unit("D"))), admin)
        .await
        .ok(200);
    assert_eq!(page["total"], FIXTURE.len() + 2);
    let order = ids(&page);
    assert_eq!(order[0], w.unit("D"), "the root first");
    let parent_of: HashMap<String, Option<String>> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_string(),
                u["parent_id"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        parent_of[&late_grid].as_deref(),
        Some(late_village.as_str())
    );
    assert_eq!(parent_of[w.unit("GA")].as_deref(), Some(w.unit("VA")));
    assert_tree_order(&order, &parent_of);
}

#[actix_web::test]
async fn subtree_is_paged() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let whole = subtree(&app, admin, w.unit("D")).await;
    let mut pages = Vec::new();
    for page in 1..=3 {
        let body = app
            .get(
                &format!("{}/subtree?per_page=3&page={page}", url(w.unit("D"))),
                admin,
            )
            .await
            .ok(200);
        assert_eq!(
            (body["page"].as_i64(), body["per_page"].as_i64()),
            (Some(page), Some(3))
        );
        assert_eq!(body["total"], FIXTURE.len());
        pages.extend(ids(&body));
    }
    assert_eq!(pages, whole);
}

#[actix_web::test]
async fn subtree_is_limited_to_the_callers_scope() {
    let (app, w) = TestApp::with_world().await;
    assert_eq!(
        subtree(&app, w.token("office"), w.unit("A")).await,
        unit_ids(&w, &["A", "VA", "GA"])
    );
    assert_eq!(
        subtree(&app, w.token("inspector"), w.unit("GA")).await,
        [w.unit("GA")]
    );
    assert_eq!(
        subtree(&app, w.token("leader"), w.unit("D")).await.len(),
        FIXTURE.len()
    );
    // An inspector reads the units above its grid, but not their other children.
    assert_eq!(
        subtree(&app, w.token("inspector"), w.unit("D")).await,
        unit_ids(&w, &["D", "A", "VA", "GA"])
    );
    for (role, key) in [
        ("office", "D"),
        ("office", "B"),
        ("inspector", "B"),
        ("officer_b", "A"),
    ] {
        let resp = app
            .get(&format!("{}/subtree", url(w.unit(key))), w.token(role))
            .await;
        resp.problem(404, "not_found");
    }
}

// ---- grids: boundary and leader ----

#[actix_web::test]
async fn bad_boundaries_are_422_naming_the_precise_field() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let ring = |positions: Value| json!({"type": "Polygon", "coordinates": [positions]});
    let cases = [
        (
            ring(json!([[0, 0], [1, 0], [1, 1], [0, 1]])),
            "boundary.coordinates[0]",
        ),
        (
            ring(json!([[0, 0], [1, 0], [0, 0]])),
            "boundary.coordinates[0]",
        ),
        (
            ring(json!([[0, 0], ["1", 0], [1, 1], [0, 0]])),
            "boundary.coordinates[0][1]",
        ),
        (
            ring(json!([[0, 0], [1, 0], [181, 1], [0, 0]])),
            "boundary.coordinates[0][2]",
        ),
        (
            ring(json!([[0, 0], [1, -91], [1, 1], [0, 0]])),
            "boundary.coordinates[0][1]",
        ),
        (
            ring(json!([[0, 0], [1], [1, 1], [0, 0]])),
            "boundary.coordinates[0][1]",
        ),
        (
            ring(json!([[0, 0], [1, 0], [1, 1], null])),
            "boundary.coordinates[0][3]",
        ),
        (
            json!({"type": "Polygon", "coordinates": []}),
            "boundary.coordinates",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 0]], [[1, 1], [1.5, 1], [1, 1.5]]]}),
            "boundary.coordinates[1]",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [square(0.0, 0.0, 1.0)["coordinates"], [[[5, 5], [6, 5], [6, 6], [5, 6]]]]}),
            "boundary.coordinates[1][0]",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": []}),
            "boundary.coordinates",
        ),
        (
            json!({"type": "Point", "coordinates": [115.0, 35.0]}),
            "boundary.type",
        ),
        (
            json!({"type": "polygon", "coordinates": square(0.0, 0.0, 1.0)["coordinates"]}),
            "boundary.type",
        ),
        (
            json!({"coordinates": square(0.0, 0.0, 1.0)["coordinates"]}),
            "boundary.type",
        ),
        (json!({"type": "Polygon"}), "boundary.coordinates"),
    ];
    for (boundary, field) in cases {
        let resp = app
            .post(
                UNITS,
                admin,
                &new_grid("G-BAD", w.unit("VB"), boundary.clone()),
            )
            .await;
        assert_eq!(
            resp.status.as_u16(),
            422,
            "create with {boundary}: {}",
            resp.text
        );
        resp.names_field(422, field);
        let resp = app
            .patch(&url(w.unit("GB")), admin, &json!({"boundary": boundary}))
            .await;
        assert_eq!(
            resp.status.as_u16(),
            422,
            "update with {boundary}: {}",
            resp.text
        );
        resp.names_field(422, field);
    }
    assert_eq!(
        listed(&app, admin, "kind=grid").await,
        sorted(unit_ids(&w, &["GA", "GB"]))
    );
    let gb = stored(&app, &w, w.unit("GB")).await;
    assert_same_boundary(&gb["boundary"], &square(115.50, 35.21, 0.01));
}

#[actix_web::test]
async fn only_grids_have_a_boundary_or_a_leader() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let mut town = new_unit("T-BOUNDARY", "有边界的镇", "town", Some(w.unit("D")));
    town["boundary"] = square(100.0, 30.0, 1.0);
    app.post(UNITS, admin, &town)
        .await
        .names_field(422, "boundary");
    let mut village = new_unit("V-LEADER", "有网格长的村", "village", Some(w.unit("A")));
    village["leader_id"] = json!(w.user("officer"));
    app.post(UNITS, admin, &village)
        .await
        .names_field(422, "leader_id");
    assert_eq!(list(&app, admin, "").await["total"], FIXTURE.len());

    app.patch(
        &url(w.unit("A")),
        admin,
        &json!({"boundary": square(100.0, 30.0, 1.0)}),
    )
    .await
    .names_field(422, "boundary");
    app.patch(
        &url(w.unit("VA")),
        admin,
        &json!({"leader_id": w.user("officer")}),
    )
    .await
    .names_field(422, "leader_id");
    let a = stored(&app, &w, w.unit("A")).await;
    let va = stored(&app, &w, w.unit("VA")).await;
    assert_eq!(
        (&a["boundary"], &va["leader_id"]),
        (&Value::Null, &Value::Null)
    );
}

#[actix_web::test]
async fn a_grid_leader_must_be_an_existing_active_user() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let with_leader = |code: &str, leader: Value| {
        let mut body = new_grid(code, w.unit("VB"), square(100.0, 30.0, 0.01));
        body["leader_id"] = leader;
        body
    };
    let unknown = uuid::Uuid::now_v7().to_string();
    app.post(UNITS, admin, &with_leader("G-1", json!(unknown)))
        .await
        .names_field(422, "leader_id");
    app.post(UNITS, admin, &with_leader("G-1", json!("nobody")))
        .await
        .names_field(422, "leader_id");
    app.patch(&url(w.unit("GB")), admin, &json!({"leader_id": unknown}))
        .await
        .names_field(422, "leader_id");

    app.post(
        &format!("/api/v1/users/{}/deactivate", w.user("officer_b")),
        admin,
        &json!({}),
    )
    .await
    .ok(200);
    app.post(
        UNITS,
        admin,
        &with_leader("G-1", json!(w.user("officer_b"))),
    )
    .await
    .names_field(422, "leader_id");
    app.patch(
        &url(w.unit("GB")),
        admin,
        &json!({"leader_id": w.user("officer_b")}),
    )
    .await
    .names_field(422, "leader_id");
    assert_eq!(
        stored(&app, &w, w.unit("GB")).await["leader_id"],
        Value::Null
    );
    assert_eq!(listed(&app, admin, "kind=grid").await.len(), 2);

    let created = app
        .post(UNITS, admin, &with_leader("G-1", json!(w.user("officer"))))
        .await
        .ok(201);
    assert_eq!(
        stored(&app, &w, created["id"].as_str().unwrap()).await["leader_id"],
        w.user("officer")
    );
}

#[actix_web::test]
async fn a_grid_leader_can_be_set_and_cleared() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let gb = url(w.unit("GB"));
    assert_eq!(
        app.patch(&gb, admin, &json!({"leader_id": w.user("officer_b")}))
            .await
            .ok(200)["leader_id"],
        w.user("officer_b")
    );
    assert_eq!(
        stored(&app, &w, w.unit("GB")).await["leader_id"],
        w.user("officer_b")
    );
    // An absent field leaves the leader alone; null clears it.
    app.patch(&gb, admin, &json!({"name": "程楼一网格"}))
        .await
        .ok(200);
    assert_eq!(
        stored(&app, &w, w.unit("GB")).await["leader_id"],
        w.user("officer_b")
    );
    assert_eq!(
        app.patch(&gb, admin, &json!({"leader_id": null}))
            .await
            .ok(200)["leader_id"],
        Value::Null
    );
    assert_eq!(
        stored(&app, &w, w.unit("GB")).await["leader_id"],
        Value::Null
    );
}

#[actix_web::test]
async fn an_inspector_also_sees_the_grids_it_leads() {
    let (app, w) = TestApp::with_world().await;
    let inspector = w.token("inspector");
    app.get(&url(w.unit("GB")), inspector)
        .await
        .problem(404, "not_found");
    app.patch(
        &url(w.unit("GB")),
        w.token("admin"),
        &json!({"leader_id": w.user("inspector")}),
    )
    .await
    .ok(200);
    app.get(&url(w.unit("GB")), inspector).await.ok(200);
    // Both grids, and (by name) the units above them: not their other children.
    assert_eq!(
        listed(&app, inspector, "").await,
        sorted(unit_ids(&w, &["D", "A", "VA", "GA", "B", "VB", "GB"]))
    );
    assert_eq!(located_id(&app, inspector, GB_POINT).await, w.unit("GB"));
}

// ---- locate ----

#[actix_web::test]
async fn locate_finds_the_grid_containing_the_point() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let ga = locate(&app, admin, GA_POINT).await.ok(200);
    assert_eq!(
        (&ga["id"], &ga["kind"]),
        (&json!(w.unit("GA")), &json!("grid"))
    );
    assert_eq!(located_id(&app, admin, GB_POINT).await, w.unit("GB"));
    // Between the two grids, and far away: no grid.
    locate(&app, admin, (115.495, 35.235))
        .await
        .problem(404, "not_found");
    locate(&app, admin, (0.0, 0.0))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn locate_finds_a_multipolygon_grid_by_either_part() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let parts = json!({"type": "MultiPolygon", "coordinates": [
        square(116.0, 36.0, 0.01)["coordinates"],
        square(116.1, 36.1, 0.01)["coordinates"],
    ]});
    let created = app
        .post(
            UNITS,
            admin,
            &new_grid("HZGX-MLGZ-CL-G02", w.unit("VB"), parts.clone()),
        )
        .await
        .ok(201);
    let id = created["id"].as_str().unwrap();
    assert_same_boundary(&stored(&app, &w, id).await["boundary"], &parts);
    assert_eq!(located_id(&app, admin, (116.005, 36.005)).await, id);
    assert_eq!(located_id(&app, admin, (116.105, 36.105)).await, id);
    // Inside the bounding box of the parts but in neither part.
    locate(&app, admin, (116.05, 36.05))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn locate_follows_a_changed_or_cleared_boundary() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let moved = square(116.5, 36.5, 0.02);
    let updated = app
        .patch(&url(w.unit("GA")), admin, &json!({"boundary": moved}))
        .await
        .ok(200);
    assert_same_boundary(&updated["boundary"], &moved);
    assert_same_boundary(&stored(&app, &w, w.unit("GA")).await["boundary"], &moved);
    locate(&app, admin, GA_POINT)
        .await
        .problem(404, "not_found");
    assert_eq!(located_id(&app, admin, (116.51, 36.51)).await, w.unit("GA"));

    let cleared = app
        .patch(&url(w.unit("GA")), admin, &json!({"boundary": null}))
        .await
        .ok(200);
    assert_eq!(cleared["boundary"], Value::Null);
    assert_eq!(
        stored(&app, &w, w.unit("GA")).await["boundary"],
        Value::Null
    );
    locate(&app, admin, (116.51, 36.51))
        .await
        .problem(404, "not_found");
    assert_eq!(located_id(&app, admin, GB_POINT).await, w.unit("GB"));
}

#[actix_web::test]
async fn locate_only_finds_grids_in_the_callers_scope() {
    let (app, w) = TestApp::with_world().await;
    for role in ["office", "officer", "inspector"] {
        assert_eq!(
            located_id(&app, w.token(role), GA_POINT).await,
            w.unit("GA"),
            "{role}"
        );
        locate(&app, w.token(role), GB_POINT)
            .await
            .problem(404, "not_found");
    }
    assert_eq!(
        located_id(&app, w.token("officer_b"), GB_POINT).await,
        w.unit("GB")
    );
    locate(&app, w.token("officer_b"), GA_POINT)
        .await
        .problem(404, "not_found");
    assert_eq!(
        located_id(&app, w.token("leader"), GB_POINT).await,
        w.unit("GB")
    );
}

// ---- scope and permissions ----

#[actix_web::test]
async fn each_role_sees_exactly_its_scope() {
    let (app, w) = TestApp::with_world().await;
    let scopes: [(&str, &[&str]); 6] = [
        ("admin", &FIXTURE),
        ("leader", &FIXTURE),
        ("office", &["A", "VA", "GA"]),
        ("officer", &["A", "VA", "GA"]),
        // Its grid, and the units above it (so it can say where it works).
        ("inspector", &["D", "A", "VA", "GA"]),
        ("officer_b", &["B", "VB", "GB"]),
    ];
    for (role, visible) in scopes {
        let token = w.token(role);
        assert_eq!(
            listed(&app, token, "").await,
            sorted(unit_ids(&w, visible)),
            "{role} lists"
        );
        for key in FIXTURE {
            let resp = app.get(&url(w.unit(key)), token).await;
            if visible.contains(&key) {
                assert_eq!(resp.ok(200)["id"], w.unit(key));
            } else {
                assert_eq!(
                    resp.status.as_u16(),
                    404,
                    "{role} reads {key}: {}",
                    resp.text
                );
                resp.problem(404, "not_found");
            }
        }
    }
    // Filters apply within the scope: the office sees only its own town under the district.
    assert_eq!(
        listed(
            &app,
            w.token("office"),
            &format!("parent_id={}", w.unit("D"))
        )
        .await,
        [w.unit("A")]
    );
    assert_eq!(
        listed(&app, w.token("office"), "kind=grid").await,
        [w.unit("GA")]
    );
}

#[actix_web::test]
async fn only_admins_write_units() {
    let (app, w) = TestApp::with_world().await;
    let body = new_unit("SPARE", "备用街道", "street", Some(w.unit("D")));
    let spare = created_id(&app, w.token("admin"), body).await;
    for role in ["leader", "office", "officer", "inspector", "officer_b"] {
        let token = w.token(role);
        let body = new_unit(
            &format!("BY-{role}"),
            "越权单位",
            "village",
            Some(w.unit("A")),
        );
        app.post(UNITS, token, &body)
            .await
            .problem(403, "forbidden");
        app.patch(&url(w.unit("A")), token, &json!({"name": "越权改名"}))
            .await
            .problem(403, "forbidden");
        app.patch(&url(w.unit("GA")), token, &json!({"boundary": null}))
            .await
            .problem(403, "forbidden");
        app.delete(&url(&spare), token)
            .await
            .problem(403, "forbidden");
    }
    assert_eq!(
        list(&app, w.token("admin"), "").await["total"],
        FIXTURE.len() + 1
    );
    assert_eq!(stored(&app, &w, w.unit("A")).await["name"], "吕陵镇");
    let ga = stored(&app, &w, w.unit("GA")).await;
    assert_same_boundary(&ga["boundary"], &square(115.48, 35.25, 0.01));
    stored(&app, &w, &spare).await;
}

// ---- delete ----

#[actix_web::test]
async fn deleting_an_unused_unit_is_204_and_it_is_gone() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let created = app
        .post(
            UNITS,
            admin,
            &new_unit("HZGX-TMP", "临时街道", "street", Some(w.unit("D"))),
        )
        .await
        .ok(201);
    let id = created["id"].as_str().unwrap();
    let resp = app.delete(&url(id), admin).await;
    assert_eq!(resp.status.as_u16(), 204);
    assert!(resp.text.is_empty(), "{}", resp.text);
    app.get(&url(id), admin).await.problem(404, "not_found");
    assert_eq!(list(&app, admin, "").await["total"], FIXTURE.len());
    app.delete(&url(id), admin).await.problem(404, "not_found");
    // Its code is free again.
    app.post(
        UNITS,
        admin,
        &new_unit("HZGX-TMP", "临时街道", "street", Some(w.unit("D"))),
    )
    .await
    .ok(201);
}

#[actix_web::test]
async fn a_unit_with_children_users_or_pairings_is_409_unit_in_use() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // VB has a child (GB) only; GA has a user (the inspector) only; P has pairings only.
    for key in ["D", "VB", "GA", "P"] {
        app.delete(&url(w.unit(key)), admin)
            .await
            .problem(409, "unit_in_use");
    }
    assert_eq!(
        listed(&app, admin, "").await,
        sorted(unit_ids(&w, &FIXTURE))
    );
    // A grid with nothing under it, no users and no pairings goes; then its village can.
    app.delete(&url(w.unit("GB")), admin).await.ok(204);
    app.delete(&url(w.unit("VB")), admin).await.ok(204);
    app.get(&url(w.unit("VB")), admin)
        .await
        .problem(404, "not_found");
}

// ---- concurrent writers ----

/// Sends `count` requests at once (the i-th made by `request(i)`); returns every response.

#[actix_web::test]
async fn concurrent_creates_with_one_code_get_one_unit_and_code_taken() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // On PostgreSQL the requests race past the code check; the answer must not depend on
    // who wins.
    for round in 0..8 {
        let code = format!("RACE-{round}");
        // One code, four names: only the code collides.
        let bodies: Vec<Value> = (0..4)
            .map(|i| {
                new_unit(
                    &code,
                    &format!("竞争镇{round}-{i}"),
                    "town",
                    Some(w.unit("D")),
                )
            })
            .collect();
        let answers = at_once(4, |i| app.post(UNITS, admin, &bodies[i])).await;
        let created = answers.iter().filter(|r| r.status.as_u16() == 201).count();
        assert_eq!(created, 1, "round {round}: {answers:?}");
        for refused in answers.iter().filter(|r| r.status.as_u16() != 201) {
            refused.problem(409, "code_taken");
        }
        assert_eq!(listed(&app, admin, &format!("q={code}")).await.len(), 1);
    }
}

#[actix_web::test]
async fn concurrent_renames_to_one_code_get_one_winner_and_code_taken() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let targets: Vec<String> = ["A", "B", "VA", "VB"]
        .iter()
        .map(|k| url(w.unit(k)))
        .collect();
    for round in 0..8 {
        let code = format!("RACE-{round}");
        let body = json!({"code": code});
        let answers = at_once(targets.len(), |i| app.patch(&targets[i], admin, &body)).await;
        let renamed = answers.iter().filter(|r| r.status.as_u16() == 200).count();
        assert_eq!(renamed, 1, "round {round}: {answers:?}");
        for refused in answers.iter().filter(|r| r.status.as_u16() != 200) {
            refused.problem(409, "code_taken");
        }
        assert_eq!(listed(&app, admin, &format!("q={code}")).await.len(), 1);
    }
}

#[actix_web::test]
async fn a_unit_created_while_its_parent_moves_follows_the_parent() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let va = url(w.unit("VA"));
    // On PostgreSQL the create read the village's old path while the move rewrote it.
    for round in 0..8 {
        let (to, from) = if round % 2 == 0 {
            ("B", "A")
        } else {
            ("A", "B")
        };
        let body = new_grid(
            &format!("RACE-{round}"),
            w.unit("VA"),
            square(100.0 + f64::from(round), 30.0, 0.01),
        );
        let patch = json!({"parent_id": w.unit(to)});
        let (moved, created) = futures_util::future::join(
            app.patch(&va, admin, &patch),
            app.post(UNITS, admin, &body),
        )
        .await;
        moved.ok(200);
        let grid = created.ok(201)["id"].as_str().unwrap().to_string();
        assert!(
            subtree(&app, admin, w.unit(to)).await.contains(&grid),
            "round {round}: grid left behind"
        );
        assert!(
            !subtree(&app, admin, w.unit(from)).await.contains(&grid),
            "round {round}"
        );
        let (insider, outsider) = if to == "B" {
            ("officer_b", "officer")
        } else {
            ("officer", "officer_b")
        };
        app.get(&url(&grid), w.token(insider)).await.ok(200);
        app.get(&url(&grid), w.token(outsider))
            .await
            .problem(404, "not_found");
    }
}

#[actix_web::test]
async fn text_search_ignores_ascii_case_on_every_backend() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // Codes are upper case (HZGX-MLGZ…); a lower-case query finds them on SQLite and PostgreSQL alike.
    assert_eq!(
        sorted(listed(&app, admin, "q=mlgz").await),
        sorted(unit_ids(&w, &["B", "VB", "GB"]))
    );
    assert_eq!(
        listed(&app, admin, "q=hzgx-mlgz-cl-g01").await,
        unit_ids(&w, &["GB"])
    );
    // LIKE wildcards in the query are literal characters.
    assert!(listed(&app, admin, "q=%25").await.is_empty());
    assert!(listed(&app, admin, "q=_").await.is_empty());
}
