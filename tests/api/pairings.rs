//! `/api/v1/pairings` (部门包联): which department helps which town, street, village or
//! community; who sees a pairing; and how pairings hold on to their units.

use serde_json::{json, Value};

use crate::common::*;

const PAIRINGS: &str = "/api/v1/pairings";

fn url(id: &str) -> String {
    format!("{PAIRINGS}/{id}")
}

fn unit_url(id: &str) -> String {
    format!("/api/v1/units/{id}")
}

fn pairing(department: &str, partner: &str) -> Value {
    json!({"department_id": department, "partner_id": partner, "note": "网格巡查、入户宣传"})
}

/// Creates a unit as the admin; returns its id.
async fn new_unit(app: &TestApp, w: &World, code: &str, kind: &str, parent: &str) -> String {
    let body =
        json!({"code": code, "name": format!("{code}单位"), "kind": kind, "parent_id": parent});
    app.post("/api/v1/units", w.token("admin"), &body)
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_string()
}

/// Pairing ids of a list response, sorted (for comparing as sets); checks the envelope.
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let page = app
        .get(&format!("{PAIRINGS}?per_page=100&{query}"), token)
        .await
        .ok(200);
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(page["total"], ids.len(), "total of {page}");
    assert_eq!(
        (page["page"].as_i64(), page["per_page"].as_i64()),
        (Some(1), Some(100))
    );
    ids.sort();
    ids
}

/// Fixture pairing ids by key, sorted.
fn pairing_ids(w: &World, keys: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = keys.iter().map(|k| w.pairings[*k].clone()).collect();
    ids.sort();
    ids
}

#[actix_web::test]
async fn create_answers_201_with_location_and_the_stored_pairing() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let body = json!({"department_id": w.unit("P"), "partner_id": w.unit("VA"), "note": "创城包联：寨庄村环境整治"});
    let resp = app.post(PAIRINGS, admin, &body).await;
    let created = resp.ok(201);
    let id = created["id"].as_str().expect("id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "id {id}");
    assert_eq!(resp.header("location"), Some(url(id).as_str()));
    assert_eq!(created["department_id"], w.unit("P"));
    assert_eq!(created["partner_id"], w.unit("VA"));
    assert_eq!(created["note"], "创城包联：寨庄村环境整治");
    assert!(created["created_at"].is_string(), "{created}");

    assert_eq!(app.get(&url(id), admin).await.ok(200), created);
    let mut expected = pairing_ids(&w, &["PA", "PB"]);
    expected.push(id.to_string());
    expected.sort();
    assert_eq!(listed(&app, admin, "").await, expected);
}

#[actix_web::test]
async fn the_note_is_optional() {
    let (app, w) = TestApp::with_world().await;
    let body = json!({"department_id": w.unit("P"), "partner_id": w.unit("VB")});
    let created = app.post(PAIRINGS, w.token("admin"), &body).await.ok(201);
    assert_eq!(created["note"], "");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.get(&url(id), w.token("admin")).await.ok(200)["note"],
        ""
    );
}

#[actix_web::test]
async fn a_too_long_note_is_422_naming_note() {
    let (app, w) = TestApp::with_world().await;
    let mut body = pairing(w.unit("P"), w.unit("VA"));
    body["note"] = json!("包".repeat(501));
    app.post(PAIRINGS, w.token("admin"), &body)
        .await
        .names_field(422, "note");
    assert_eq!(
        listed(&app, w.token("admin"), "").await,
        pairing_ids(&w, &["PA", "PB"])
    );
}

#[actix_web::test]
async fn every_partner_kind_can_be_paired() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let street = new_unit(&app, &w, "HZGX-WSJD", "street", w.unit("D")).await;
    let community = new_unit(&app, &w, "HZGX-WSJD-HY", "community", &street).await;
    // Towns are covered by the fixture (PA, PB).
    for partner in [street.as_str(), community.as_str(), w.unit("VA")] {
        let created = app
            .post(PAIRINGS, admin, &pairing(w.unit("P"), partner))
            .await
            .ok(201);
        assert_eq!(created["partner_id"], partner);
    }
    assert_eq!(
        listed(&app, admin, &format!("department_id={}", w.unit("P")))
            .await
            .len(),
        5
    );
}

#[actix_web::test]
async fn the_department_side_must_be_a_department() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let unknown = uuid::Uuid::now_v7().to_string();
    for department in [
        w.unit("A"),
        w.unit("D"),
        w.unit("GA"),
        unknown.as_str(),
        "not-a-uuid",
    ] {
        let resp = app
            .post(PAIRINGS, admin, &pairing(department, w.unit("VA")))
            .await;
        assert_eq!(
            resp.status.as_u16(),
            422,
            "department {department}: {}",
            resp.text
        );
        resp.names_field(422, "department_id");
    }
    assert_eq!(
        listed(&app, admin, "").await,
        pairing_ids(&w, &["PA", "PB"])
    );
}

#[actix_web::test]
async fn the_partner_must_be_a_town_street_village_or_community() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let other_department = new_unit(&app, &w, "HZGX-XCB", "department", w.unit("D")).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for partner in [
        w.unit("GA"),
        w.unit("D"),
        other_department.as_str(),
        unknown.as_str(),
        "x",
    ] {
        let resp = app
            .post(PAIRINGS, admin, &pairing(w.unit("P"), partner))
            .await;
        assert_eq!(
            resp.status.as_u16(),
            422,
            "partner {partner}: {}",
            resp.text
        );
        resp.names_field(422, "partner_id");
    }
    // A department cannot be paired with itself either.
    app.post(PAIRINGS, admin, &pairing(w.unit("P"), w.unit("P")))
        .await
        .names_field(422, "partner_id");
    assert_eq!(
        listed(&app, admin, "").await,
        pairing_ids(&w, &["PA", "PB"])
    );
}

#[actix_web::test]
async fn missing_fields_are_422_naming_them() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let body = json!({"partner_id": w.unit("A")});
    app.post(PAIRINGS, admin, &body)
        .await
        .names_field(422, "department_id");
    let body = json!({"department_id": w.unit("P")});
    app.post(PAIRINGS, admin, &body)
        .await
        .names_field(422, "partner_id");
}

#[actix_web::test]
async fn pairing_the_same_units_twice_is_409_already_paired() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    app.post(PAIRINGS, admin, &pairing(w.unit("P"), w.unit("A")))
        .await
        .problem(409, "already_paired");
    assert_eq!(
        listed(&app, admin, "").await,
        pairing_ids(&w, &["PA", "PB"])
    );
    // Once the pairing is gone the two can be paired again.
    app.delete(&url(&w.pairings["PA"]), admin).await.ok(204);
    app.post(PAIRINGS, admin, &pairing(w.unit("P"), w.unit("A")))
        .await
        .ok(201);
}

#[actix_web::test]
async fn list_filters_by_department_and_partner() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let q = new_unit(&app, &w, "HZGX-XCB", "department", w.unit("D")).await;
    let qa = app
        .post(PAIRINGS, admin, &pairing(&q, w.unit("A")))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let p = w.unit("P");
    let a = w.unit("A");
    assert_eq!(
        listed(&app, admin, &format!("department_id={p}")).await,
        pairing_ids(&w, &["PA", "PB"])
    );
    assert_eq!(
        listed(&app, admin, &format!("department_id={q}")).await,
        [qa.as_str()]
    );
    assert_eq!(
        listed(&app, admin, &format!("partner_id={a}")).await,
        sorted(vec![w.pairings["PA"].clone(), qa.clone()])
    );
    assert_eq!(
        listed(&app, admin, &format!("department_id={p}&partner_id={a}")).await,
        pairing_ids(&w, &["PA"])
    );
    assert_eq!(
        listed(
            &app,
            admin,
            &format!("department_id={q}&partner_id={}", w.unit("B"))
        )
        .await,
        pairing_ids(&w, &[])
    );
    assert_eq!(
        listed(&app, admin, "").await,
        sorted(vec![w.pairings["PA"].clone(), w.pairings["PB"].clone(), qa])
    );
}

#[actix_web::test]
async fn list_is_paged_with_the_full_total() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let mut seen = Vec::new();
    for (page, len) in [(1, 1), (2, 1), (3, 0)] {
        let body = app
            .get(&format!("{PAIRINGS}?per_page=1&page={page}"), admin)
            .await
            .ok(200);
        assert_eq!(body["total"], 2);
        assert_eq!(
            (body["page"].as_i64(), body["per_page"].as_i64()),
            (Some(page), Some(1))
        );
        let items = body["items"].as_array().unwrap();
        assert_eq!(items.len(), len, "page {page}");
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_string()));
    }
    seen.sort();
    assert_eq!(seen, pairing_ids(&w, &["PA", "PB"]));
}

#[actix_web::test]
async fn a_pairing_is_visible_to_whoever_sees_either_side() {
    let (app, w) = TestApp::with_world().await;
    // A pairing of a village: visible through the village, i.e. to town A's users.
    let p_va = app
        .post(
            PAIRINGS,
            w.token("admin"),
            &pairing(w.unit("P"), w.unit("VA")),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut a_side = vec![w.pairings["PA"].clone(), p_va.clone()];
    a_side.sort();
    let all = {
        let mut all = a_side.clone();
        all.push(w.pairings["PB"].clone());
        all.sort();
        all
    };
    for (role, expected) in [
        ("admin", all.clone()),
        ("leader", all.clone()),
        ("office", a_side.clone()),
        ("officer", a_side.clone()),
        ("officer_b", pairing_ids(&w, &["PB"])),
        ("inspector", Vec::new()),
    ] {
        assert_eq!(
            listed(&app, w.token(role), "").await,
            expected,
            "{role} lists"
        );
        for id in &all {
            let resp = app.get(&url(id), w.token(role)).await;
            if expected.contains(id) {
                assert_eq!(resp.ok(200)["id"], id.as_str());
            } else {
                assert_eq!(
                    resp.status.as_u16(),
                    404,
                    "{role} reads {id}: {}",
                    resp.text
                );
                resp.problem(404, "not_found");
            }
        }
    }
    // Filtering by a department outside the scope still shows the pairings that touch it.
    let by_p = listed(
        &app,
        w.token("office"),
        &format!("department_id={}", w.unit("P")),
    )
    .await;
    assert_eq!(by_p, a_side);
}

/// 包联: the department's users read what their partners hold (the unit, its subtree),
/// but do not act on it.
#[actix_web::test]
async fn a_department_user_sees_its_pairings_and_reads_its_partners() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let body = json!({
        "username": "dqgzb_officer", "display_name": "党群工作部干事", "password": PASSWORD,
        "role": "officer", "unit_id": w.unit("P"),
    });
    let user = app.post("/api/v1/users", admin, &body).await.ok(201);
    let token = app.token_for(user["id"].as_str().unwrap());
    assert_eq!(
        listed(&app, &token, "").await,
        pairing_ids(&w, &["PA", "PB"])
    );
    app.get(&url(&w.pairings["PB"]), &token).await.ok(200);
    // The partner towns and what is under them are readable…
    for key in ["A", "VA", "GA", "B", "VB", "GB"] {
        app.get(&unit_url(w.unit(key)), &token).await.ok(200);
    }
    // …the rest of the district is not.
    app.get(&unit_url(w.unit("D")), &token)
        .await
        .problem(404, "not_found");
    // Without the pairing, the partner is out of sight again, at once.
    app.delete(&url(&w.pairings["PB"]), admin).await.ok(204);
    app.get(&unit_url(w.unit("B")), &token)
        .await
        .problem(404, "not_found");
    app.get(&unit_url(w.unit("A")), &token).await.ok(200);
}

#[actix_web::test]
async fn only_admins_create_or_delete_pairings() {
    let (app, w) = TestApp::with_world().await;
    for role in ["leader", "office", "officer", "inspector", "officer_b"] {
        let token = w.token(role);
        app.post(PAIRINGS, token, &pairing(w.unit("P"), w.unit("VA")))
            .await
            .problem(403, "forbidden");
        app.delete(&url(&w.pairings["PA"]), token)
            .await
            .problem(403, "forbidden");
    }
    assert_eq!(
        listed(&app, w.token("admin"), "").await,
        pairing_ids(&w, &["PA", "PB"])
    );
}

#[actix_web::test]
async fn deleting_a_pairing_is_204_then_it_is_gone() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    let pa = url(&w.pairings["PA"]);
    let resp = app.delete(&pa, admin).await;
    assert_eq!(resp.status.as_u16(), 204, "{}", resp.text);
    assert!(resp.text.is_empty(), "{}", resp.text);
    app.get(&pa, admin).await.problem(404, "not_found");
    app.delete(&pa, admin).await.problem(404, "not_found");
    assert_eq!(listed(&app, admin, "").await, pairing_ids(&w, &["PB"]));
    // The units it joined are untouched.
    app.get(&unit_url(w.unit("P")), admin).await.ok(200);
    app.get(&unit_url(w.unit("A")), admin).await.ok(200);
}

#[actix_web::test]
async fn a_paired_unit_cannot_be_deleted_until_its_pairings_are() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // P has no children and no users: only its two pairings hold it.
    let p = unit_url(w.unit("P"));
    app.delete(&p, admin).await.problem(409, "unit_in_use");
    app.delete(&url(&w.pairings["PA"]), admin).await.ok(204);
    app.delete(&p, admin).await.problem(409, "unit_in_use");
    app.get(&p, admin).await.ok(200);
    app.delete(&url(&w.pairings["PB"]), admin).await.ok(204);
    app.delete(&p, admin).await.ok(204);
    app.get(&p, admin).await.problem(404, "not_found");

    // The partner side holds too: a childless street with a pairing.
    let q = new_unit(&app, &w, "HZGX-XCB", "department", w.unit("D")).await;
    let street = new_unit(&app, &w, "HZGX-WSJD", "street", w.unit("D")).await;
    let joined = app
        .post(PAIRINGS, admin, &pairing(&q, &street))
        .await
        .ok(201);
    app.delete(&unit_url(&street), admin)
        .await
        .problem(409, "unit_in_use");
    app.delete(&url(joined["id"].as_str().unwrap()), admin)
        .await
        .ok(204);
    app.delete(&unit_url(&street), admin).await.ok(204);
    app.get(&unit_url(&street), admin)
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn a_pairing_of_an_unknown_id_is_404() {
    let (app, w) = TestApp::with_world().await;
    let id = uuid::Uuid::now_v7().to_string();
    app.get(&url(&id), w.token("admin"))
        .await
        .problem(404, "not_found");
    app.delete(&url(&id), w.token("admin"))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn concurrent_duplicates_get_one_pairing_and_already_paired() {
    let (app, w) = TestApp::with_world().await;
    let admin = w.token("admin");
    // On PostgreSQL the requests race past the duplicate check; the answer must not depend
    // on who wins.
    for round in 0..8 {
        let village = new_unit(&app, &w, &format!("RACE-{round}"), "village", w.unit("A")).await;
        let body = pairing(w.unit("P"), &village);
        let answers =
            futures_util::future::join_all((0..4).map(|_| app.post(PAIRINGS, admin, &body))).await;
        let created = answers.iter().filter(|r| r.status.as_u16() == 201).count();
        assert_eq!(created, 1, "round {round}: {answers:?}");
        for refused in answers.iter().filter(|r| r.status.as_u16() != 201) {
            refused.problem(409, "already_paired");
        }
        assert_eq!(
            listed(&app, admin, &format!("partner_id={village}"))
                .await
                .len(),
            1
        );
    }
}

#[actix_web::test]
async fn list_sorts_by_creation_either_way() {
    let (app, w) = TestApp::with_world().await;
    let order = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    let oldest_first = vec![w.pairings["PA"].clone(), w.pairings["PB"].clone()];
    let asc = app
        .get("/api/v1/pairings?sort=created_at", w.token("admin"))
        .await
        .ok(200);
    assert_eq!(order(asc), oldest_first);
    let desc = app
        .get("/api/v1/pairings?sort=-created_at", w.token("admin"))
        .await
        .ok(200);
    assert_eq!(
        order(desc),
        oldest_first.into_iter().rev().collect::<Vec<_>>()
    );
    app.get("/api/v1/pairings?sort=note", w.token("admin"))
        .await
        .names_field(400, "sort");
}
