//! What a category is: how severe its problems are by default, how long the responsible
//! unit has, who fixes them (routing), and the extra fields a report of it carries. Pure
//! rules, tested without a database; the rectification items check their attributes here.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::text_enum;
use crate::units::UnitKind;

text_enum! {
    /// How serious a problem is; the category's default, an item may differ.
    pub enum Severity {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

text_enum! {
    /// The type of an extra field of a report.
    pub enum AttributeType {
        String = "string",
        Number = "number",
        /// One of `choices`.
        Choice = "choice",
    }
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// A year: longer deadlines are not rectification but planning.
pub const MAX_DEADLINE_HOURS: i32 = 24 * 366;
pub const MAX_ATTRIBUTES: usize = 30;
pub const MAX_CHOICES: usize = 50;
pub const MAX_LABEL_CHARS: usize = 100;
/// The longest string value a report may give an attribute.
pub const MAX_ATTRIBUTE_TEXT_CHARS: usize = 500;

/// One extra field a report of the category must or may carry, e.g. the water level at a
/// sluice gate (`number`) or the kind of damage to a poster board (`choice`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    /// Its key in a report's `attributes`: 1–32 ASCII letters, digits or `_`.
    #[schema(example = "damage")]
    pub code: String,
    /// What the form shows, e.g. 损坏情况.
    pub label: String,
    #[serde(rename = "type")]
    #[schema(value_type = AttributeType)]
    pub kind: AttributeType,
    #[serde(default)]
    pub required: bool,
    /// `choice` only: the values it may take.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// Who fixes the category's problems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    /// The kind of unit that fixes it: the item goes to the unit of this kind above its
    /// grid (`town` for a damaged poster board), or to `unit_id` when given (a department
    /// for a sluice gate fault).
    #[schema(value_type = UnitKind)]
    pub unit_kind: UnitKind,
    /// One named unit of `unit_kind` that fixes every item of the category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<crate::ids::UnitId>,
}

/// Routing must be able to find a unit: a kind that stands above grids (found from the
/// item's grid), or a named unit. A department stands beside the towns, never above a grid,
/// so it must be named.
pub fn check_routing(routing: &Routing) -> Result<(), String> {
    match (routing.unit_kind, routing.unit_id) {
        (UnitKind::Grid, _) => {
            Err("a grid does not fix problems: route to the unit above it".into())
        }
        (UnitKind::Department, None) => Err(
            "a department stands beside the towns, not above a grid: name it in `unit_id`".into(),
        ),
        _ => Ok(()),
    }
}

pub fn check_deadline_hours(hours: i32) -> Result<(), String> {
    if (1..=MAX_DEADLINE_HOURS).contains(&hours) {
        Ok(())
    } else {
        Err(format!("must be from 1 to {MAX_DEADLINE_HOURS} hours"))
    }
}

fn check_attribute_code(code: &str) -> Result<(), String> {
    let ok = !code.is_empty()
        && code.len() <= 32
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err("must be 1 to 32 ASCII letters, digits or `_`".into())
    }
}

/// The attribute specs of a category, each problem named by its field path
/// (`attributes[2].choices`).
pub fn check_attribute_specs(specs: &[AttributeSpec]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if specs.len() > MAX_ATTRIBUTES {
        problems.push((
            "attributes".to_string(),
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
        return problems;
    }
    let mut seen = HashSet::new();
    for (i, spec) in specs.iter().enumerate() {
        let at = |field: &str| format!("attributes[{i}].{field}");
        if let Err(m) = check_attribute_code(&spec.code) {
            problems.push((at("code"), m));
        } else if !seen.insert(spec.code.as_str()) {
            problems.push((at("code"), format!("`{}` is listed twice", spec.code)));
        }
        if let Err(m) = crate::validate::text_rule(&spec.label, MAX_LABEL_CHARS) {
            problems.push((at("label"), m));
        }
        match spec.kind {
            AttributeType::Choice => {
                let distinct: HashSet<&str> = spec.choices.iter().map(String::as_str).collect();
                if spec.choices.is_empty() || spec.choices.len() > MAX_CHOICES {
                    problems.push((
                        at("choices"),
                        format!("a choice needs 1 to {MAX_CHOICES} choices"),
                    ));
                } else if distinct.len() != spec.choices.len() {
                    problems.push((at("choices"), "choices must differ".into()));
                } else if let Some(bad) = spec
                    .choices
                    .iter()
                    .find(|c| crate::validate::text_rule(c, MAX_LABEL_CHARS).is_err())
                {
                    problems.push((at("choices"), format!("`{bad}` is not a valid choice")));
                }
            }
            _ if !spec.choices.is_empty() => {
                problems.push((
                    at("choices"),
                    "only a `choice` attribute has choices".into(),
                ));
            }
            _ => {}
        }
    }
    problems
}

/// A report's attribute values against its category's specs: every required one present,
/// each of its type, none unknown. Problems are named `attributes.<code>`.
pub fn check_attribute_values(
    specs: &[AttributeSpec],
    values: &BTreeMap<String, Value>,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for spec in specs {
        let field = format!("attributes.{}", spec.code);
        match values.get(&spec.code) {
            None | Some(Value::Null) => {
                if spec.required {
                    problems.push((field, format!("{} is required", spec.label)));
                }
            }
            Some(value) => {
                if let Err(m) = check_value(spec, value) {
                    problems.push((field, m));
                }
            }
        }
    }
    for code in values.keys() {
        if !specs.iter().any(|s| &s.code == code) {
            problems.push((
                format!("attributes.{code}"),
                "the category has no such attribute".into(),
            ));
        }
    }
    problems
}

fn check_value(spec: &AttributeSpec, value: &Value) -> Result<(), String> {
    match (spec.kind, value) {
        (AttributeType::Number, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {
            Ok(())
        }
        (AttributeType::Number, _) => Err("must be a number".into()),
        (AttributeType::String, Value::String(s)) => {
            crate::validate::long_text_rule(s, MAX_ATTRIBUTE_TEXT_CHARS)
        }
        (AttributeType::String, _) => Err("must be text".into()),
        (AttributeType::Choice, Value::String(s)) if spec.choices.contains(s) => Ok(()),
        (AttributeType::Choice, _) => Err(format!("must be one of: {}", spec.choices.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(code: &str, kind: AttributeType, required: bool, choices: &[&str]) -> AttributeSpec {
        AttributeSpec {
            code: code.into(),
            label: format!("{code}标签"),
            kind,
            required,
            choices: choices.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn routing_must_find_a_unit() {
        let town = Routing {
            unit_kind: UnitKind::Town,
            unit_id: None,
        };
        assert!(check_routing(&town).is_ok());
        let department = Routing {
            unit_kind: UnitKind::Department,
            unit_id: None,
        };
        assert!(check_routing(&department).is_err());
        let named = Routing {
            unit_id: Some(crate::ids::UnitId::new()),
            ..department
        };
        assert!(check_routing(&named).is_ok());
        let grid = Routing {
            unit_kind: UnitKind::Grid,
            unit_id: None,
        };
        assert!(check_routing(&grid).is_err());
    }

    #[test]
    fn deadlines_are_from_an_hour_to_a_year() {
        assert!(check_deadline_hours(72).is_ok());
        assert!(check_deadline_hours(0).is_err());
        assert!(check_deadline_hours(-24).is_err());
        assert!(check_deadline_hours(MAX_DEADLINE_HOURS + 1).is_err());
    }

    #[test]
    fn specs_name_each_bad_item() {
        let specs = vec![
            spec("water_level", AttributeType::Number, true, &[]),
            spec("water_level", AttributeType::String, false, &[]),
            spec("damage", AttributeType::Choice, false, &[]),
            spec("bad code", AttributeType::String, false, &["x"]),
        ];
        let problems: Vec<String> = check_attribute_specs(&specs)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            problems,
            [
                "attributes[1].code",
                "attributes[2].choices",
                "attributes[3].code",
                "attributes[3].choices"
            ]
        );
        let fine = vec![spec(
            "damage",
            AttributeType::Choice,
            true,
            &["破损", "褪色"],
        )];
        assert!(check_attribute_specs(&fine).is_empty());
    }

    #[test]
    fn values_fit_their_specs() {
        let specs = vec![
            spec("water_level", AttributeType::Number, true, &[]),
            spec("damage", AttributeType::Choice, false, &["破损", "褪色"]),
            spec("remark", AttributeType::String, false, &[]),
        ];
        let values = |v: serde_json::Value| -> BTreeMap<String, Value> {
            serde_json::from_value(v).expect("a map")
        };
        assert!(check_attribute_values(&specs, &values(json!({"water_level": 3.2}))).is_empty());
        assert!(check_attribute_values(
            &specs,
            &values(json!({"water_level": 3, "damage": "破损", "remark": "东侧"}))
        )
        .is_empty());
        let fields = |v| -> Vec<String> {
            check_attribute_values(&specs, &values(v))
                .into_iter()
                .map(|(f, _)| f)
                .collect()
        };
        assert_eq!(fields(json!({})), ["attributes.water_level"]);
        assert_eq!(
            fields(json!({"water_level": "高", "damage": "倒塌", "colour": "red"})),
            [
                "attributes.water_level",
                "attributes.damage",
                "attributes.colour"
            ]
        );
        assert_eq!(
            fields(json!({"water_level": 1, "remark": 5})),
            ["attributes.remark"]
        );
        assert_eq!(
            fields(json!({"water_level": null})),
            ["attributes.water_level"]
        );
    }
}
