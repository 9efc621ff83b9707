//! What offices send about categories, and the only place it is checked.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::categories::rules::{
    check_attribute_specs, check_deadline_hours, check_routing, AttributeSpec, Routing, Severity,
    MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS,
};
use crate::error::AppResult;
use crate::http::extract::not_null;
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "GGP-PS",
    "name": "公益广告牌破损",
    "description": "公益广告牌、宣传栏画面破损、褪色或缺失",
    "default_severity": "normal",
    "deadline_hours": 72,
    "routing": {"unit_kind": "town"},
    "attributes": [
        {"code": "damage", "label": "损坏情况", "type": "choice", "required": true, "choices": ["破损", "褪色", "缺失"]}
    ]
}))]
pub struct NewCategory {
    /// Unique whatever its case: 1–32 ASCII letters, digits, `-` or `_`.
    #[schema(min_length = 1, max_length = 32, example = "GGP-PS")]
    pub code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    #[schema(value_type = Severity)]
    pub default_severity: Severity,
    /// How long the responsible unit has, from the report.
    #[schema(minimum = 1, maximum = 8784)]
    pub deadline_hours: i32,
    pub routing: Routing,
    #[serde(default)]
    pub attributes: Vec<AttributeSpec>,
}

/// A checked category (new, or the result of a change).
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryDraft {
    pub code: String,
    pub name: String,
    pub description: String,
    pub default_severity: Severity,
    pub deadline_hours: i32,
    pub routing: Routing,
    pub attributes: Vec<AttributeSpec>,
    pub active: bool,
}

fn check(c: &mut Checks, d: &CategoryDraft) {
    c.check("code", crate::units::rules::check_code(&d.code));
    c.text("name", &d.name, MAX_NAME_CHARS);
    c.long_text("description", &d.description, MAX_DESCRIPTION_CHARS);
    c.check("deadline_hours", check_deadline_hours(d.deadline_hours));
    c.check("routing", check_routing(&d.routing));
    for (field, message) in check_attribute_specs(&d.attributes) {
        c.fail(field, message);
    }
}

impl NewCategory {
    pub fn validate(self) -> AppResult<CategoryDraft> {
        let draft = CategoryDraft {
            code: self.code,
            name: self.name,
            description: self.description,
            default_severity: self.default_severity,
            deadline_hours: self.deadline_hours,
            routing: self.routing,
            attributes: self.attributes,
            active: true,
        };
        let mut c = Checks::new();
        check(&mut c, &draft);
        c.finish()?;
        Ok(draft)
    }
}

/// Changes to a category. Absent fields stay as they are; `active: false` retires it (no
/// new reports; its items keep it).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"deadline_hours": 48, "default_severity": "high"}))]
pub struct CategoryUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 32)]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, max_length = 2000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, value_type = Option<Severity>)]
    pub default_severity: Option<Severity>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, minimum = 1, maximum = 8784)]
    pub deadline_hours: Option<i32>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub routing: Option<Routing>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub attributes: Option<Vec<AttributeSpec>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

impl CategoryUpdate {
    /// The category as it will be after the change, checked whole.
    pub fn apply(self, current: CategoryDraft) -> AppResult<CategoryDraft> {
        let draft = CategoryDraft {
            code: self.code.unwrap_or(current.code),
            name: self.name.unwrap_or(current.name),
            description: self.description.unwrap_or(current.description),
            default_severity: self.default_severity.unwrap_or(current.default_severity),
            deadline_hours: self.deadline_hours.unwrap_or(current.deadline_hours),
            routing: self.routing.unwrap_or(current.routing),
            attributes: self.attributes.unwrap_or(current.attributes),
            active: self.active.unwrap_or(current.active),
        };
        let mut c = Checks::new();
        check(&mut c, &draft);
        c.finish()?;
        Ok(draft)
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryQuery {
    /// `true`: only categories open for new reports; `false`: only retired ones.
    pub active: Option<bool>,
    /// Text in the code or the name (Chinese works).
    #[param(max_length = 100)]
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CategoryFilter {
    pub active: Option<bool>,
    pub q: Option<String>,
}

impl CategoryQuery {
    pub fn validate(self) -> AppResult<CategoryFilter> {
        Ok(CategoryFilter {
            active: self.active,
            q: validate::search_text(self.q)?,
        })
    }
}
