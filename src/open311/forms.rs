//! The input of the Open311 endpoints and the only place it is checked: the format a path
//! asks for, the query of a search, and the form of a report
//! (`application/x-www-form-urlencoded`, with a category's extra fields as
//! `attribute[<code>]`). Open311 clients send forms and query strings, not JSON, so these
//! are read from their pairs here, each problem named by the spec's field name.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::open311::error::Failure;
use crate::open311::rules::{self, RequestStatus};
use crate::text_enum;

text_enum! {
    /// The format an answer is written in, from the path's extension.
    pub enum Format {
        Json = "json",
        Xml = "xml",
    }
}

impl Format {
    /// The path's extension: an unknown one is a 404 (there is no such resource).
    pub fn from_extension(extension: &str) -> Result<Format, Failure> {
        Format::parse(extension).ok_or_else(|| {
            Failure::not_found(format!("no such format `.{extension}`: use .json or .xml"))
        })
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// The query pairs of `query`, each of `known` at most once; another name is a 400.
/// The longest value each query parameter takes (as the OpenAPI document declares).
const QUERY_LIMITS: &[(&str, usize)] = &[
    ("service_request_id", 50_000),
    ("service_code", 5_000),
    ("start_date", 64),
    ("end_date", 64),
    ("status", 20),
    ("jurisdiction_id", 100),
];

fn query_pairs(query: &str, known: &[&str]) -> Result<BTreeMap<String, String>, Failure> {
    let mut found = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let limit = QUERY_LIMITS.iter().find(|(n, _)| *n == name.as_ref());
        if let Some((_, max)) = limit {
            if value.chars().count() > *max {
                return Err(Failure::bad(
                    &name,
                    format!("must be at most {max} characters"),
                ));
            }
        }
        if !known.contains(&name.as_ref()) {
            return Err(Failure::bad(
                &name,
                format!(
                    "unknown parameter: this operation takes {}",
                    known.join(", ")
                ),
            ));
        }
        if found.insert(name.to_string(), value.to_string()).is_some() {
            return Err(Failure::bad(
                &name,
                "given twice: list several values in one, comma delimited",
            ));
        }
    }
    Ok(found)
}

/// The query every Open311 read takes: `jurisdiction_id`, which a server of one
/// jurisdiction ignores.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JurisdictionQuery {
    /// Only needed where a server serves several jurisdictions; this one serves one, and
    /// ignores it.
    #[param(max_length = 100)]
    pub jurisdiction_id: Option<String>,
}

impl JurisdictionQuery {
    pub fn parse(query: &str) -> Result<JurisdictionQuery, Failure> {
        let mut pairs = query_pairs(query, &["jurisdiction_id"])?;
        Ok(JurisdictionQuery {
            jurisdiction_id: pairs.remove("jurisdiction_id"),
        })
    }
}

/// The query of `GET requests`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// Comma-delimited request ids (`ZG-2020-000001,ZG-2020-000002`): when given, every
    /// other filter is ignored.
    #[param(max_length = 50000)]
    pub service_request_id: Option<String>,
    /// Comma-delimited service codes.
    #[param(max_length = 5000)]
    pub service_code: Option<String>,
    /// Requested at or after: a W3C datetime with a zone (`2020-07-01T00:00:00+08:00`).
    #[param(max_length = 64)]
    pub start_date: Option<String>,
    /// Requested at or before; at most 90 days after `start_date`. Without dates, the last
    /// 90 days.
    #[param(max_length = 64)]
    pub end_date: Option<String>,
    /// `open`, `closed`, or both comma delimited.
    #[param(max_length = 20)]
    pub status: Option<String>,
    /// Ignored: this server serves one jurisdiction.
    #[param(max_length = 100)]
    pub jurisdiction_id: Option<String>,
}

/// A checked search.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestFilter {
    /// These requests, whatever else was asked.
    Ids(Vec<String>),
    Search {
        service_codes: Vec<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        statuses: Vec<RequestStatus>,
    },
}

impl RequestQuery {
    pub fn parse(query: &str) -> Result<RequestQuery, Failure> {
        let mut pairs = query_pairs(
            query,
            &[
                "service_request_id",
                "service_code",
                "start_date",
                "end_date",
                "status",
                "jurisdiction_id",
            ],
        )?;
        Ok(RequestQuery {
            service_request_id: pairs.remove("service_request_id"),
            service_code: pairs.remove("service_code"),
            start_date: pairs.remove("start_date"),
            end_date: pairs.remove("end_date"),
            status: pairs.remove("status"),
            jurisdiction_id: pairs.remove("jurisdiction_id"),
        })
    }

    pub fn validate(self, now: DateTime<Utc>) -> Result<RequestFilter, Failure> {
        if let Some(ids) = &self.service_request_id {
            let ids = rules::comma_list(ids);
            if ids.is_empty() {
                return Err(Failure::bad("service_request_id", "must name a request"));
            }
            if ids.len() as i64 > rules::MAX_RESULTS {
                return Err(Failure::bad(
                    "service_request_id",
                    format!("at most {} ids", rules::MAX_RESULTS),
                ));
            }
            return Ok(RequestFilter::Ids(ids));
        }
        let mut problems = Vec::new();
        let mut date = |field: &str, value: &Option<String>| match value {
            None => None,
            Some(v) => match rules::parse_datetime(v) {
                Ok(t) => Some(t),
                Err(m) => {
                    problems.push((field.to_string(), m));
                    None
                }
            },
        };
        let start = date("start_date", &self.start_date);
        let end = date("end_date", &self.end_date);
        let mut statuses = Vec::new();
        for status in self
            .status
            .as_deref()
            .map(rules::comma_list)
            .unwrap_or_default()
        {
            match RequestStatus::parse(&status) {
                Some(s) if !statuses.contains(&s) => statuses.push(s),
                Some(_) => {}
                None => problems.push((
                    "status".to_string(),
                    format!("`{status}` is not a status: open or closed"),
                )),
            }
        }
        if self.status.is_some() && statuses.is_empty() && problems.is_empty() {
            problems.push(("status".to_string(), "must be open or closed".to_string()));
        }
        let service_codes = self
            .service_code
            .as_deref()
            .map(rules::comma_list)
            .unwrap_or_default();
        if self.service_code.is_some() && service_codes.is_empty() {
            problems.push((
                "service_code".to_string(),
                "must name a service".to_string(),
            ));
        }
        if !problems.is_empty() {
            return Err(Failure::many(problems));
        }
        let (from, to) = rules::window(start, end, now)
            .map_err(|(field, message)| Failure::bad(field, message))?;
        Ok(RequestFilter::Search {
            service_codes,
            from,
            to,
            statuses,
        })
    }
}

/// The form of `POST requests` (`application/x-www-form-urlencoded`). A category's extra
/// fields come as `attribute[<code>]=<value>` (see the service's definition).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct NewRequest {
    /// The key an admin issued to the app (required: 403 without a valid one).
    #[schema(max_length = 200)]
    pub api_key: String,
    /// The service (category) code, from `GET services`.
    #[schema(max_length = 100)]
    pub service_code: String,
    /// WGS-84 latitude; with `long`, required (this server does not geocode addresses).
    #[schema(value_type = f64, minimum = -90.0, maximum = 90.0)]
    pub lat: Option<f64>,
    /// WGS-84 longitude.
    #[schema(value_type = f64, minimum = -180.0, maximum = 180.0)]
    pub long: Option<f64>,
    /// Where it is, in words (kept as the item's address).
    #[schema(max_length = 200)]
    pub address_string: Option<String>,
    /// The app's own id of the address (kept, shown back).
    #[schema(max_length = 200)]
    pub address_id: Option<String>,
    /// Contact details: kept for the responsible unit, never shown by a read.
    #[schema(max_length = 200)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub device_id: Option<String>,
    #[schema(max_length = 200)]
    pub account_id: Option<String>,
    #[schema(max_length = 200)]
    pub first_name: Option<String>,
    #[schema(max_length = 200)]
    pub last_name: Option<String>,
    #[schema(max_length = 200)]
    pub phone: Option<String>,
    /// What is wrong (at most 4000 characters; Chinese works).
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// A photo of the problem the app hosts (http or https).
    #[schema(max_length = 2000)]
    pub media_url: Option<String>,
    /// Ignored: this server serves one jurisdiction.
    #[schema(max_length = 100)]
    pub jurisdiction_id: Option<String>,
}

/// One value of a category's extra field, as the form sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeInput {
    pub code: String,
    pub value: String,
}

/// Contact details of a report: kept, never shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
}

/// A checked report (the service code is looked up, and the attribute values typed by
/// its definition, in the model).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestDraft {
    pub service_code: String,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub address_id: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    pub attributes: Vec<AttributeInput>,
    pub contact: Contact,
}

/// A report's form as sent: its pairs, read once.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    fields: BTreeMap<String, String>,
    attributes: Vec<AttributeInput>,
    problems: Vec<(String, String)>,
}

const FIELDS: &[&str] = &[
    "api_key",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
    "jurisdiction_id",
];

impl RawRequest {
    /// Reads the form's pairs; problems of its shape (an unknown field, one given twice,
    /// a list value) are kept for [`RawRequest::validate`], so a caller without a valid key
    /// learns nothing about them.
    pub fn parse(body: &[u8]) -> RawRequest {
        let mut raw = RawRequest::default();
        for (name, value) in form_urlencoded::parse(body) {
            let (name, value) = (name.to_string(), value.to_string());
            if let Some(inner) = name
                .strip_prefix("attribute[")
                .and_then(|rest| rest.strip_suffix(']'))
            {
                if inner.ends_with("][") || inner.contains('[') || inner.contains(']') {
                    // `attribute[code][]`: a multivaluelist's values.
                    let code = inner.split(']').next().unwrap_or_default();
                    raw.problems.push((
                        format!("attribute[{code}]"),
                        "takes one value: no service here has a multivaluelist".into(),
                    ));
                } else if raw.attributes.iter().any(|a| a.code == inner) {
                    raw.problems.push((name.clone(), "given twice".into()));
                } else {
                    raw.attributes.push(AttributeInput {
                        code: inner.to_string(),
                        value,
                    });
                }
            } else if !FIELDS.contains(&name.as_str()) {
                raw.problems.push((
                    name.clone(),
                    "unknown field (a category's extra field is sent as attribute[<code>])".into(),
                ));
            } else if raw.fields.insert(name.clone(), value).is_some() {
                raw.problems.push((name, "given twice".into()));
            }
        }
        raw
    }

    pub fn api_key(&self) -> Option<&str> {
        self.fields
            .get("api_key")
            .map(String::as_str)
            .filter(|k| !k.is_empty())
    }

    pub fn validate(mut self) -> Result<RequestDraft, Failure> {
        let mut problems = std::mem::take(&mut self.problems);
        let mut take = |name: &str| self.fields.remove(name).filter(|v| !v.trim().is_empty());
        let service_code = take("service_code");
        let (lat, long) = (take("lat"), take("long"));
        let address = take("address_string");
        let address_id = take("address_id");
        let description = take("description");
        let media_url = take("media_url");
        let contact = Contact {
            email: take("email"),
            device_id: take("device_id"),
            account_id: take("account_id"),
            first_name: take("first_name"),
            last_name: take("last_name"),
            phone: take("phone"),
        };
        let mut fail = |field: &str, message: String| problems.push((field.to_string(), message));
        if service_code.is_none() {
            fail("service_code", "is required".into());
        }
        let number = |field: &str, value: &Option<String>, fail: &mut dyn FnMut(&str, String)| {
            value
                .as_deref()
                .and_then(|v| match v.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() => Some(n),
                    _ => {
                        fail(field, format!("`{v}` is not a number"));
                        None
                    }
                })
        };
        let lat_n = number("lat", &lat, &mut fail);
        let lon_n = number("long", &long, &mut fail);
        match (&lat, &long) {
            (None, None) if address.is_some() || address_id.is_some() => fail(
                "lat",
                "lat and long are required: this server places a report by its point and does not geocode address_string or address_id".into(),
            ),
            (None, None) => fail(
                "lat",
                "a location is required: lat and long".into(),
            ),
            (Some(_), None) => fail("long", "is required with lat".into()),
            (None, Some(_)) => fail("lat", "is required with long".into()),
            _ => {}
        }
        if let (Some(lat), Some(lon)) = (lat_n, lon_n) {
            for (field, message) in crate::coords::check_point(lon, lat) {
                fail(
                    if field == "lon" { "long" } else { field },
                    message.to_string(),
                );
            }
        }
        let mut check = |field: &str, value: &Option<String>, max: usize, multiline: bool| {
            if let Some(v) = value {
                let checked = if multiline {
                    crate::validate::long_text_rule(v, max)
                } else {
                    crate::validate::text_rule(v.trim(), max)
                        .and_then(|()| crate::validate::check_no_format_characters(v))
                };
                if let Err(m) = checked {
                    fail(field, m);
                }
            }
        };
        check("service_code", &service_code, 100, false);
        check(
            "address_string",
            &address,
            crate::rectifications::rules::MAX_ADDRESS_CHARS,
            true,
        );
        check("address_id", &address_id, rules::MAX_CONTACT_CHARS, false);
        check(
            "description",
            &description,
            rules::MAX_DESCRIPTION_CHARS,
            true,
        );
        check("media_url", &media_url, rules::MAX_MEDIA_URL_CHARS, false);
        for (field, value) in [
            ("email", &contact.email),
            ("device_id", &contact.device_id),
            ("account_id", &contact.account_id),
            ("first_name", &contact.first_name),
            ("last_name", &contact.last_name),
            ("phone", &contact.phone),
        ] {
            check(field, value, rules::MAX_CONTACT_CHARS, false);
        }
        if let Some(email) = &contact.email {
            if !email.contains('@') {
                fail("email", "is not an email address".into());
            }
        }
        if let Some(url) = &media_url {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://"))
                || url.chars().any(char::is_whitespace)
            {
                fail("media_url", "must be an http or https URL".into());
            }
        }
        for attribute in &self.attributes {
            if let Err(m) = crate::validate::long_text_rule(
                &attribute.value,
                crate::categories::rules::MAX_ATTRIBUTE_TEXT_CHARS,
            ) {
                fail(&format!("attribute[{}]", attribute.code), m);
            }
        }
        if !problems.is_empty() {
            return Err(Failure::many(problems));
        }
        let trimmed = |v: Option<String>| v.map(|v| v.trim().to_string());
        Ok(RequestDraft {
            service_code: service_code.unwrap_or_default().trim().to_string(),
            lat: lat_n.unwrap_or_default(),
            lon: lon_n.unwrap_or_default(),
            address: address.unwrap_or_default(),
            address_id: trimmed(address_id),
            description,
            media_url: trimmed(media_url),
            attributes: self.attributes,
            contact: Contact {
                email: trimmed(contact.email),
                device_id: trimmed(contact.device_id),
                account_id: trimmed(contact.account_id),
                first_name: trimmed(contact.first_name),
                last_name: trimmed(contact.last_name),
                phone: trimmed(contact.phone),
            },
        })
    }
}

/// The body of `POST /api/v1/open311/keys`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "城市随手拍"}))]
pub struct NewKey {
    /// Who the key is for (an app, a portal): 1–100 characters.
    pub name: String,
}

impl NewKey {
    pub fn validate(self) -> crate::error::AppResult<String> {
        let mut c = crate::validate::Checks::new();
        c.text("name", &self.name, 100);
        c.finish()?;
        Ok(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_form_is_read_with_its_attributes() {
        let body = "api_key=k&service_code=GGP&lat=35.2&long=115.4&description=%E7%A0%B4%E6%8D%9F\
                    &attribute%5Bdamage%5D=faded&email=a%40b.cn";
        let raw = RawRequest::parse(body.as_bytes());
        assert_eq!(raw.api_key(), Some("k"));
        let draft = raw.validate().unwrap();
        assert_eq!(draft.description.as_deref(), Some("破损"));
        assert_eq!(draft.attributes[0].code, "damage");
        assert_eq!(draft.contact.email.as_deref(), Some("a@b.cn"));
        assert_eq!((draft.lat, draft.lon), (35.2, 115.4));
    }

    #[test]
    fn a_bad_form_names_each_field() {
        let body = "service_code=X&address_string=somewhere&attribute[a][]=1&color=red&email=x";
        let err = RawRequest::parse(body.as_bytes()).validate().unwrap_err();
        let text = err.to_string();
        for field in ["lat:", "attribute[a]:", "color:", "email:"] {
            assert!(text.contains(field), "{field} in {text}");
        }
        let long = format!(
            "service_code=X&lat=1&long=1&description={}",
            "长".repeat(4001)
        );
        assert!(RawRequest::parse(long.as_bytes())
            .validate()
            .unwrap_err()
            .to_string()
            .contains("description"));
        let ok = format!(
            "service_code=X&lat=1&long=1&description={}",
            "长".repeat(4000)
        );
        assert!(RawRequest::parse(ok.as_bytes()).validate().is_ok());
    }

    #[test]
    fn searches_check_their_dates_and_statuses() {
        let now = Utc::now();
        let q = RequestQuery::parse("start_date=2020-01-01&status=open").unwrap();
        assert!(q.validate(now).is_err());
        let q = RequestQuery::parse("status=open,closed&service_code=A,B").unwrap();
        match q.validate(now).unwrap() {
            RequestFilter::Search {
                statuses,
                service_codes,
                ..
            } => {
                assert_eq!(statuses.len(), 2);
                assert_eq!(service_codes, ["A", "B"]);
            }
            other => panic!("{other:?}"),
        }
        let q = RequestQuery::parse("service_request_id=A,B&status=nonsense").unwrap();
        assert_eq!(
            q.validate(now).unwrap(),
            RequestFilter::Ids(vec!["A".into(), "B".into()])
        );
        assert!(RequestQuery::parse("status=open&status=closed").is_err());
        assert!(RequestQuery::parse("page=2").is_err());
    }
}
