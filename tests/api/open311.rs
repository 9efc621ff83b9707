//! Open311 GeoReport v2 (`/open311/v2`, discovery at `/open311/discovery`): every method in
//! JSON and XML, checked against the element names and nesting of the spec's examples;
//! public reports with an API key, routed like any report with source `public`; contact
//! details never shown; and the admins' keys (`/api/v1/open311/keys`).

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::common::*;

const V2: &str = "/open311/v2";
const KEYS: &str = "/api/v1/open311/keys";
/// Friday 24 July 2020, 09:00 in the district.
const START: &str = "2020-07-24T09:00:00+08:00";
/// Inside grid GB (程楼第一网格), below 马岭岗镇.
const IN_GB: (f64, f64) = (115.505, 35.215);

/// The fixture world with the poster-board category (to the town above the grid; a
/// choice and a number attribute) and an API key for an app.
async fn world() -> (TestApp, World, String) {
    let (app, w) = TestApp::with_world().await;
    app.set_clock(START);
    app.post(
        "/api/v1/categories",
        w.token("admin"),
        &json!({
            "code": "GGP-PS",
            "name": "公益广告牌破损",
            "description": "公益广告牌面板破损、立柱倾斜",
            "default_severity": "normal",
            "deadline_hours": 72,
            "routing": {"unit_kind": "town"},
            "attributes": [
                {"code": "damage", "label": "损坏情况", "type": "choice",
                    "required": true, "choices": ["面板破损", "立柱倾斜"]},
                {"code": "height", "label": "高度（米）", "type": "number"}
            ]
        }),
    )
    .await
    .ok(201);
    let issued = app
        .post(KEYS, w.token("admin"), &json!({"name": "城市随手拍"}))
        .await
        .ok(201);
    let key = issued["api_key"].as_str().expect("api_key").to_string();
    (app, w, key)
}

async fn get(app: &TestApp, path: &str) -> Resp {
    app.send(Method::GET, path, None, None).await
}

async fn post_form(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> Resp {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    app.send_raw(
        "POST",
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        &body,
    )
    .await
}

fn report<'a>(key: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![
        ("api_key", key),
        ("service_code", "GGP-PS"),
        ("lat", "35.215"),
        ("long", "115.505"),
        ("address_string", "马岭岗镇程楼村东口"),
        ("description", "程楼村口公益广告牌面板破损，边角翘起"),
        ("attribute[damage]", "面板破损"),
        ("attribute[height]", "2.5"),
        ("email", "zhang.san@example.cn"),
        ("first_name", "三"),
        ("last_name", "张"),
        ("phone", "13800138000"),
        ("device_id", "device-4711"),
        ("account_id", "acct-42"),
        ("media_url", "https://app.example.cn/photos/1.jpg"),
    ];
    pairs.extend_from_slice(extra);
    pairs
}

/// Parses an XML answer; asserts it is UTF-8 XML with this root.
#[track_caller]
fn xml<'a>(resp: &'a Resp, root: &str) -> roxmltree::Document<'a> {
    assert!(
        resp.header("content-type")
            .is_some_and(|t| t.starts_with("text/xml")),
        "{:?}",
        resp.headers
    );
    let doc = roxmltree::Document::parse(&resp.text)
        .unwrap_or_else(|e| panic!("not XML ({e}): {}", resp.text));
    assert_eq!(doc.root_element().tag_name().name(), root, "{}", resp.text);
    doc
}

/// The element children's names of `node`.
fn names<'a>(node: roxmltree::Node<'a, 'a>) -> Vec<&'a str> {
    node.children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name())
        .collect()
}

fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    node.children()
        .find(|n| n.has_tag_name(name))
        .unwrap_or_else(|| panic!("no <{name}> in <{}>", node.tag_name().name()))
}

fn text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> &'a str {
    child(node, name).text().unwrap_or_default()
}

/// An Open311 error list with this status, in JSON; answers the descriptions.
#[track_caller]
fn errors(resp: &Resp, status: u16) -> String {
    assert_eq!(resp.status.as_u16(), status, "{}", resp.text);
    let body = resp.json();
    let list = body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", resp.text));
    assert!(!list.is_empty());
    for e in list {
        assert_eq!(e["code"], status, "{}", resp.text);
    }
    list.iter()
        .filter_map(|e| e["description"].as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The same, in XML (`<errors><error><code/><description/></error></errors>`).
#[track_caller]
fn xml_errors(resp: &Resp, status: u16) -> String {
    assert_eq!(resp.status.as_u16(), status, "{}", resp.text);
    let doc = xml(resp, "errors");
    let mut all = Vec::new();
    for error in doc.root_element().children().filter(|n| n.is_element()) {
        assert_eq!(error.tag_name().name(), "error");
        assert_eq!(names(error), ["code", "description"]);
        assert_eq!(text(error, "code"), status.to_string());
        all.push(text(error, "description").to_string());
    }
    assert!(!all.is_empty());
    all.join("; ")
}

#[actix_web::test]
async fn discovery_says_where_the_endpoint_is_in_both_formats() {
    let (app, _, _) = world().await;
    let json = get(&app, "/open311/discovery.json").await.ok(200);
    assert_eq!(
        json["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert!(json["endpoints"][0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/open311/v2"));
    assert_eq!(
        json["endpoints"][0]["formats"],
        json!(["text/xml", "application/json"])
    );
    let resp = get(&app, "/open311/discovery.xml").await;
    let doc = xml(&resp, "discovery");
    let root = doc.root_element();
    assert_eq!(
        names(root),
        ["changeset", "contact", "key_service", "endpoints"]
    );
    let endpoint = child(child(root, "endpoints"), "endpoint");
    assert_eq!(
        names(endpoint),
        ["specification", "url", "changeset", "type", "formats"]
    );
    assert_eq!(names(child(endpoint, "formats")), ["format", "format"]);
    errors(&get(&app, "/open311/discovery.html").await, 404);
    let long = "0".repeat(101);
    errors(
        &get(
            &app,
            &format!("/open311/v2/discovery.json?jurisdiction_id={long}"),
        )
        .await,
        400,
    );
    // The same document under the versioned endpoint.
    let v2 = get(&app, "/open311/v2/discovery.json").await.ok(200);
    assert_eq!(v2, json);
    let v2 = get(&app, "/open311/v2/discovery.xml").await;
    assert_eq!(
        names(xml(&v2, "discovery").root_element()),
        ["changeset", "contact", "key_service", "endpoints"]
    );
}

#[actix_web::test]
async fn services_are_the_active_categories_with_their_fields() {
    let (app, w, _) = world().await;
    let list = get(&app, &format!("{V2}/services.json")).await.ok(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let service = &list[0];
    assert_eq!(service["service_code"], "GGP-PS");
    assert_eq!(service["service_name"], "公益广告牌破损");
    assert_eq!(service["metadata"], true);
    assert_eq!(service["type"], "realtime");
    assert_eq!(service["group"], "菏泽高新区");

    let resp = get(&app, &format!("{V2}/services.xml")).await;
    let doc = xml(&resp, "services");
    let service = child(doc.root_element(), "service");
    assert_eq!(
        names(service),
        [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group"
        ]
    );
    assert_eq!(text(service, "service_name"), "公益广告牌破损");
    assert_eq!(text(service, "metadata"), "true");

    let definition = get(&app, &format!("{V2}/services/ggp-ps.json"))
        .await
        .ok(200);
    assert_eq!(definition["service_code"], "GGP-PS");
    let damage = &definition["attributes"][0];
    assert_eq!(damage["code"], "damage");
    assert_eq!(damage["datatype"], "singlevaluelist");
    assert_eq!(damage["required"], true);
    assert_eq!(damage["variable"], true);
    assert_eq!(damage["order"], 1);
    assert_eq!(damage["description"], "损坏情况");
    assert_eq!(
        damage["values"][1],
        json!({"key": "立柱倾斜", "name": "立柱倾斜"})
    );
    assert_eq!(definition["attributes"][1]["datatype"], "number");
    assert_eq!(definition["attributes"][1]["order"], 2);

    let resp = get(&app, &format!("{V2}/services/GGP-PS.xml")).await;
    let doc = xml(&resp, "service_definition");
    let root = doc.root_element();
    assert_eq!(names(root), ["service_code", "attributes"]);
    let attribute = child(child(root, "attributes"), "attribute");
    assert_eq!(
        names(attribute),
        [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values"
        ]
    );
    let value = child(child(attribute, "values"), "value");
    assert_eq!(names(value), ["key", "name"]);
    assert_eq!(text(value, "name"), "面板破损");

    // Unknown codes and formats are 404, in the format asked for (JSON for an unknown one).
    let missing = errors(&get(&app, &format!("{V2}/services/NOPE.json")).await, 404);
    assert!(missing.contains("NOPE"), "{missing}");
    xml_errors(&get(&app, &format!("{V2}/services/NOPE.xml")).await, 404);
    errors(&get(&app, &format!("{V2}/services.csv")).await, 404);
    errors(&get(&app, &format!("{V2}/services/GGP-PS.yaml")).await, 404);
    // An unknown query parameter is a 400 in Open311's form, not a problem.
    let bad = xml_errors(&get(&app, &format!("{V2}/services.xml?page=2")).await, 400);
    assert!(bad.contains("page"), "{bad}");
    // A retired category is no longer a service.
    let category = app
        .get("/api/v1/categories?q=GGP", w.token("admin"))
        .await
        .ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch(
        &format!("/api/v1/categories/{category}"),
        w.token("admin"),
        &json!({"active": false}),
    )
    .await
    .ok(200);
    assert_eq!(
        get(&app, &format!("{V2}/services.json")).await.ok(200),
        json!([])
    );
    errors(&get(&app, &format!("{V2}/services/GGP-PS.json")).await, 404);
}

#[actix_web::test]
async fn a_public_report_is_routed_like_any_other_and_never_shows_its_contact() {
    let (app, w, key) = world().await;
    let resp = post_form(&app, &format!("{V2}/requests.json"), &report(&key, &[])).await;
    let created = resp.ok(200);
    let created = &created[0];
    let number = created["service_request_id"].as_str().unwrap().to_string();
    assert!(number.starts_with("ZG-2020-"), "{number}");
    assert_eq!(created["account_id"], "acct-42");
    assert!(created["service_notice"]
        .as_str()
        .unwrap()
        .contains("马岭岗镇"));
    let token = created["token"].as_str().unwrap().to_string();

    // The item, as staff see it: routed to the town above the grid, source public, filed
    // as the key's account, with its attributes typed.
    let item = app
        .get(&format!("/api/v1/rectifications/{token}"), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(item["source"], "public");
    assert_eq!(item["unit_id"], w.unit("B"));
    assert_eq!(item["grid_id"], w.unit("GB"));
    assert_eq!(item["status"], "assigned");
    assert_eq!(item["description"], "程楼村口公益广告牌面板破损，边角翘起");
    assert_eq!(
        item["attributes"],
        json!({"damage": "面板破损", "height": 2.5})
    );
    assert!(item["reported_by_name"]
        .as_str()
        .unwrap()
        .contains("城市随手拍"));
    assert_eq!(item["due_at"], "2020-07-27T01:00:00Z");

    // The request, in both formats, by id and in a search.
    let by_id = get(&app, &format!("{V2}/requests/{number}.json"))
        .await
        .ok(200);
    let request = &by_id[0];
    assert_eq!(request["service_request_id"], number.as_str());
    assert_eq!(request["status"], "open");
    assert_eq!(request["service_code"], "GGP-PS");
    assert_eq!(request["service_name"], "公益广告牌破损");
    assert_eq!(request["agency_responsible"], "马岭岗镇");
    assert_eq!(request["requested_datetime"], "2020-07-24T09:00:00+08:00");
    assert_eq!(request["expected_datetime"], "2020-07-27T09:00:00+08:00");
    assert_eq!(request["lat"], IN_GB.1);
    assert_eq!(request["long"], IN_GB.0);
    assert_eq!(request["address"], "马岭岗镇程楼村东口");
    assert_eq!(request["media_url"], "https://app.example.cn/photos/1.jpg");
    assert_eq!(request["status_notes"], Value::Null);
    let search = get(
        &app,
        &format!("{V2}/requests.json?service_request_id={number}&status=closed"),
    )
    .await
    .ok(200);
    assert_eq!(search, by_id, "ids override the other filters");

    let resp = get(&app, &format!("{V2}/requests/{number}.xml")).await;
    let doc = xml(&resp, "service_requests");
    let request = child(doc.root_element(), "request");
    assert_eq!(
        names(request),
        [
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url"
        ]
    );
    assert_eq!(
        text(request, "description"),
        "程楼村口公益广告牌面板破损，边角翘起"
    );
    assert_eq!(text(request, "lat"), "35.215");

    // The token leads to the request.
    let tokens = get(&app, &format!("{V2}/tokens/{token}.json"))
        .await
        .ok(200);
    assert_eq!(
        tokens,
        json!([{"service_request_id": number, "token": token}])
    );
    let resp = get(&app, &format!("{V2}/tokens/{token}.xml")).await;
    let doc = xml(&resp, "service_requests");
    assert_eq!(
        names(child(doc.root_element(), "request")),
        ["service_request_id", "token"]
    );
    errors(&get(&app, &format!("{V2}/tokens/nonsense.json")).await, 404);

    // The POST's XML answer.
    let resp = post_form(&app, &format!("{V2}/requests.xml"), &report(&key, &[])).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.text);
    let doc = xml(&resp, "service_requests");
    assert_eq!(
        names(child(doc.root_element(), "request")),
        [
            "service_request_id",
            "token",
            "service_notice",
            "account_id"
        ]
    );

    // Contact details are shown nowhere: not by Open311, not by the API.
    let everything = [
        get(&app, &format!("{V2}/requests.json")).await.text,
        get(&app, &format!("{V2}/requests.xml")).await.text,
        app.get(&format!("/api/v1/rectifications/{token}"), w.token("admin"))
            .await
            .text,
        app.get("/api/v1/rectifications", w.token("admin"))
            .await
            .text,
        app.get(
            &format!("/api/v1/rectifications/{token}/events"),
            w.token("admin"),
        )
        .await
        .text,
    ];
    for text in everything {
        for secret in ["zhang.san", "13800138000", "device-4711", "acct-42", "张"] {
            assert!(!text.contains(secret), "{secret} shown in {text}");
        }
    }
}

#[actix_web::test]
async fn reports_need_a_working_key_and_name_every_bad_field() {
    let (app, w, key) = world().await;
    let url = format!("{V2}/requests.json");
    // No key, a wrong key: 403, and nothing about the form.
    let no_key: Vec<_> = report(&key, &[]).into_iter().skip(1).collect();
    let said = errors(&post_form(&app, &url, &no_key).await, 403);
    assert!(said.contains("api_key"), "{said}");
    let mut wrong = report("ct311_wrong", &[]);
    wrong.push(("colour", "red"));
    errors(&post_form(&app, &url, &wrong).await, 403);
    xml_errors(
        &post_form(&app, &format!("{V2}/requests.xml"), &report("nope", &[])).await,
        403,
    );

    // Bad fields, each named.
    /// A form, the status it gets, and what its error must name.
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("attribute[damage]", "面板破损"),
            ],
            400,
            "lat",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("address_string", "程楼村"),
                ("attribute[damage]", "面板破损"),
            ],
            400,
            "geocode",
        ),
        (
            vec![("api_key", &key), ("lat", "35.215"), ("long", "115.505")],
            400,
            "service_code",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "NOPE"),
                ("lat", "35.215"),
                ("long", "115.505"),
            ],
            404,
            "NOPE",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "35.215"),
                ("long", "115.505"),
            ],
            400,
            "attribute[damage]",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "35.215"),
                ("long", "115.505"),
                ("attribute[damage]", "烧毁"),
            ],
            400,
            "attribute[damage]",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "35.215"),
                ("long", "115.505"),
                ("attribute[damage]", "面板破损"),
                ("attribute[height]", "高"),
            ],
            400,
            "attribute[height]",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "35.215"),
                ("long", "115.505"),
                ("attribute[damage]", "面板破损"),
                ("attribute[colour]", "red"),
            ],
            400,
            "attribute[colour]",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "35.215"),
                ("long", "115.505"),
                ("attribute[damage][]", "面板破损"),
            ],
            400,
            "attribute[damage]",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "95"),
                ("long", "115.505"),
            ],
            400,
            "lat",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "north"),
                ("long", "115.505"),
            ],
            400,
            "lat",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "30.0"),
                ("long", "110.0"),
                ("attribute[damage]", "面板破损"),
            ],
            400,
            "lat/long",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "35.215"),
                ("long", "115.505"),
                ("media_url", "javascript:alert(1)"),
            ],
            400,
            "media_url",
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "GGP-PS"),
                ("lat", "35.215"),
                ("long", "115.505"),
                ("colour", "red"),
            ],
            400,
            "colour",
        ),
    ];
    for (pairs, status, field) in cases {
        let said = errors(&post_form(&app, &url, &pairs).await, status);
        assert!(said.contains(field), "{field} in {said} for {pairs:?}");
    }
    let long = "长".repeat(4001);
    let said = errors(
        &post_form(&app, &url, &report(&key, &[("description", &long)])[..]).await,
        400,
    );
    assert!(said.contains("description"), "{said}");
    let resp = app
        .send_raw(
            "POST",
            &url,
            &[("content-type", "application/json")],
            &json!({"api_key": key}).to_string(),
        )
        .await;
    assert!(errors(&resp, 400).contains("Content-Type"));
    // A description of exactly 4000 characters is taken; nothing above was filed.
    let longest = "长".repeat(4000);
    let mut pairs = report(&key, &[]);
    pairs.retain(|(k, _)| *k != "description");
    pairs.push(("description", &longest));
    post_form(&app, &url, &pairs).await.ok(200);
    let items = app
        .get("/api/v1/rectifications?source=public", w.token("admin"))
        .await
        .ok(200);
    assert_eq!(items["total"], 1);
}

#[actix_web::test]
async fn keys_are_shown_once_listed_by_admins_and_revoked() {
    let (app, w, key) = world().await;
    for role in ["leader", "office", "officer", "inspector"] {
        app.post(KEYS, w.token(role), &json!({"name": "x"}))
            .await
            .problem(403, "forbidden");
        app.get(KEYS, w.token(role)).await.problem(403, "forbidden");
    }
    app.post(KEYS, w.token("admin"), &json!({"name": ""}))
        .await
        .names_field(422, "name");
    let list = app.get(KEYS, w.token("admin")).await.ok(200);
    assert_eq!(list["total"], 1);
    let listed = &list["items"][0];
    assert_eq!(listed["name"], "城市随手拍");
    assert_eq!(listed["active"], true);
    assert!(key.starts_with(listed["key_prefix"].as_str().unwrap()));
    assert!(!list.to_string().contains(&key), "the key is shown once");
    let id = listed["id"].as_str().unwrap().to_string();
    assert!(!app
        .get(&format!("{KEYS}/{id}"), w.token("admin"))
        .await
        .text
        .contains(&key));
    // Its account cannot log in.
    let reporter = listed["reporter_id"].as_str().unwrap();
    let account = app
        .get(&format!("/api/v1/users/{reporter}"), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(account["active"], false);

    post_form(&app, &format!("{V2}/requests.json"), &report(&key, &[]))
        .await
        .ok(200);
    app.delete(&format!("{KEYS}/{id}"), w.token("officer"))
        .await
        .problem(403, "forbidden");
    assert_eq!(
        app.delete(&format!("{KEYS}/{id}"), w.token("admin"))
            .await
            .status
            .as_u16(),
        204
    );
    let said = errors(
        &post_form(&app, &format!("{V2}/requests.json"), &report(&key, &[])).await,
        403,
    );
    assert!(said.contains("revoked"), "{said}");
    let revoked = app
        .get(&format!("{KEYS}/{id}"), w.token("admin"))
        .await
        .ok(200);
    assert_eq!(revoked["active"], false);
    assert!(revoked["revoked_at"].is_string());
    // Its reports stay readable.
    let requests = get(&app, &format!("{V2}/requests.json")).await.ok(200);
    assert_eq!(requests.as_array().unwrap().len(), 1);
    app.get(
        &format!("{KEYS}/0193a0b2-0000-7000-8000-000000000000"),
        w.token("admin"),
    )
    .await
    .problem(404, "not_found");
}

#[actix_web::test]
async fn searches_check_their_dates_and_filter_by_status_service_and_time() {
    let (app, w, key) = world().await;
    let url = format!("{V2}/requests.json");
    let first = post_form(&app, &url, &report(&key, &[])).await.ok(200)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.set_clock("2020-09-01T09:00:00+08:00");
    let second = post_form(&app, &url, &report(&key, &[])).await.ok(200)[0]["token"]
        .as_str()
        .unwrap()
        .to_string();
    // Cancelled with a note: closed, and the note is its status_notes.
    app.post(
        &format!("/api/v1/rectifications/{second}/transitions"),
        w.token("admin"),
        &json!({"action": "cancel", "note": "已核实，广告牌完好"}),
    )
    .await
    .ok(200);

    // The default window is the last 90 days: both (24 July is 39 days before).
    let all = get(&app, &url).await.ok(200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["status"], "closed", "newest first");
    assert_eq!(all[0]["status_notes"], "已核实，广告牌完好");
    assert_eq!(all[0]["service_notice"], Value::Null);
    let open = get(&app, &format!("{url}?status=open")).await.ok(200);
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["service_request_id"], first.as_str());
    let both = get(
        &app,
        &format!("{url}?status=open,closed&service_code=ggp-ps"),
    )
    .await
    .ok(200);
    assert_eq!(both.as_array().unwrap().len(), 2);
    let window = format!(
        "{url}?start_date={}&end_date={}",
        encode("2020-07-01T00:00:00+08:00"),
        encode("2020-08-01T00:00:00Z")
    );
    let july = get(&app, &window).await.ok(200);
    assert_eq!(july.as_array().unwrap().len(), 1);
    assert_eq!(july[0]["service_request_id"], first.as_str());
    let start_only = format!("{url}?start_date={}", encode("2020-08-15T00:00:00+08:00"));
    assert_eq!(
        get(&app, &start_only)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Bad dates, a window over 90 days, a bad status, unknown services and parameters.
    for (query, status, field) in [
        ("start_date=2020-07-01", 400, "start_date"),
        ("end_date=yesterday", 400, "end_date"),
        (
            "start_date=2020-01-01T00:00:00Z&end_date=2020-07-01T00:00:00Z",
            400,
            "90 days",
        ),
        (
            "start_date=2020-07-01T00:00:00Z&end_date=2020-06-01T00:00:00Z",
            400,
            "end_date",
        ),
        ("status=pending", 400, "status"),
        ("service_code=NOPE", 404, "NOPE"),
        ("page=2", 400, "page"),
        ("status=open&status=closed", 400, "status"),
    ] {
        let said = errors(&get(&app, &format!("{url}?{query}")).await, status);
        assert!(said.contains(field), "{field} in {said} for {query}");
        xml_errors(
            &get(&app, &format!("{V2}/requests.xml?{query}")).await,
            status,
        );
    }
    errors(
        &get(&app, &format!("{V2}/requests/ZG-1999-000001.json")).await,
        404,
    );
    xml_errors(
        &get(&app, &format!("{V2}/requests/ZG-1999-000001.xml")).await,
        404,
    );
    // Lists and empty lists in XML keep their wrapper.
    let resp = get(
        &app,
        &format!("{V2}/requests.xml?service_request_id=ZG-1999-000001"),
    )
    .await;
    let doc = xml(&resp, "service_requests");
    assert!(names(doc.root_element()).is_empty());
    // A method the path does not take: 405 with Allow, as an Open311 error.
    let resp = app
        .send(Method::DELETE, &format!("{V2}/requests.json"), None, None)
        .await;
    errors(&resp, 405);
    assert!(resp.header("allow").is_some_and(|a| a.contains("GET")));
}

#[actix_web::test]
async fn markup_in_reports_is_escaped_in_xml() {
    let (app, _, key) = world().await;
    let description = "<b>破损</b> & \"翘起\" 'x' ]]>";
    let pairs = report(&key, &[]);
    let mut pairs: Vec<_> = pairs
        .into_iter()
        .filter(|(k, _)| *k != "description")
        .collect();
    pairs.push(("description", description));
    let number = post_form(&app, &format!("{V2}/requests.json"), &pairs)
        .await
        .ok(200)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = get(&app, &format!("{V2}/requests/{number}.xml")).await;
    let doc = xml(&resp, "service_requests");
    let request = child(doc.root_element(), "request");
    assert_eq!(text(request, "description"), description);
    assert!(!resp.text.contains("<b>"));
}
