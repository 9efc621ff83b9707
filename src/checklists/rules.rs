//! What a checklist is and how an inspection against it is scored, as plain functions:
//! the items of a template (yes/no, number, text, choice; points; a pass rule; the
//! category a failure raises), the check of an inspection's answers, and the score.
//! Tested here without a database; `inspections::model` applies them.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::ids::CategoryId;
use crate::text_enum;

text_enum! {
    /// What an item of a checklist asks for.
    pub enum ItemType {
        /// `"yes"` or `"no"`.
        YesNo = "yes_no",
        Number = "number",
        Text = "text",
        /// One of `choices`.
        Choice = "choice",
    }
}

/// How an answer passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PassRule {
    /// A number compared: `{"op": "<=", "value": 3.5}` (`<`, `<=`, `>`, `>=`, `==`).
    Compare { op: String, value: f64 },
    /// The answer equals this: `{"equals": "yes"}`.
    Equals {
        /// Any JSON value: `"yes"`, a choice, a number.
        equals: Value,
    },
}

/// One item of a checklist, e.g. 闸门启闭是否正常 (yes/no, 10 points, passes on "yes", a
/// failure raises a 节制闸故障 item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Its key in an inspection's `answers`: 1–32 ASCII letters, digits or `_`.
    #[schema(example = "gate_operation")]
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    #[schema(value_type = ItemType)]
    pub kind: ItemType,
    /// What passing it is worth (0–100).
    #[serde(default)]
    pub points: i32,
    #[serde(default)]
    pub required: bool,
    /// Without one, any answer passes.
    #[serde(default, rename = "pass", skip_serializing_if = "Option::is_none")]
    pub pass_rule: Option<PassRule>,
    /// `choice` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// The category of the rectification item a failure raises; none: a failure only
    /// costs points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub category_id: Option<CategoryId>,
}

pub const MAX_ITEMS: usize = 100;
pub const MAX_POINTS: i32 = 100;
pub const MAX_TEXT_CHARS: usize = 500;
const OPS: [&str; 5] = ["<", "<=", ">", ">=", "=="];

/// A template's items, each problem named by its path (`items[2].pass`).
pub fn check_items(items: &[ChecklistItem]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if items.is_empty() || items.len() > MAX_ITEMS {
        problems.push(("items".into(), format!("1 to {MAX_ITEMS} items")));
        return problems;
    }
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let at = |f: &str| format!("items[{i}].{f}");
        let key_ok = !item.key.is_empty()
            && item.key.len() <= 32
            && item
                .key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            problems.push((
                at("key"),
                "must be 1 to 32 ASCII letters, digits or `_`".into(),
            ));
        } else if !seen.insert(item.key.as_str()) {
            problems.push((at("key"), format!("`{}` is listed twice", item.key)));
        }
        if let Err(m) = crate::validate::text_rule(&item.label, 200) {
            problems.push((at("label"), m));
        }
        if !(0..=MAX_POINTS).contains(&item.points) {
            problems.push((at("points"), format!("must be from 0 to {MAX_POINTS}")));
        }
        match (item.kind, item.choices.is_empty()) {
            (ItemType::Choice, true) => {
                problems.push((at("choices"), "a choice needs choices".into()))
            }
            (ItemType::Choice, false) => {}
            (_, false) => problems.push((at("choices"), "only a `choice` item has choices".into())),
            _ => {}
        }
        match (&item.pass_rule, item.kind) {
            (None, _) => {}
            (Some(PassRule::Compare { op, value }), ItemType::Number) => {
                if !OPS.contains(&op.as_str()) {
                    problems.push((at("pass"), format!("op must be one of {}", OPS.join(" "))));
                } else if !value.is_finite() {
                    problems.push((at("pass"), "value must be a number".into()));
                }
            }
            (Some(PassRule::Compare { .. }), _) => {
                problems.push((at("pass"), "only a number item compares".into()));
            }
            (Some(PassRule::Equals { equals }), kind) => {
                if let Err(m) = check_answer(item, equals) {
                    problems.push((at("pass"), format!("equals: {m} (for a {kind} item)")));
                }
            }
        }
    }
    problems
}

/// One answer against its item's type.
fn check_answer(item: &ChecklistItem, answer: &Value) -> Result<(), String> {
    match (item.kind, answer) {
        (ItemType::YesNo, Value::String(s)) if s == "yes" || s == "no" => Ok(()),
        (ItemType::YesNo, _) => Err("must be \"yes\" or \"no\"".into()),
        (ItemType::Number, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => Ok(()),
        (ItemType::Number, _) => Err("must be a number".into()),
        (ItemType::Text, Value::String(s)) => crate::validate::long_text_rule(s, MAX_TEXT_CHARS),
        (ItemType::Text, _) => Err("must be text".into()),
        (ItemType::Choice, Value::String(s)) if item.choices.contains(s) => Ok(()),
        (ItemType::Choice, _) => Err(format!("must be one of: {}", item.choices.join(", "))),
    }
}

/// Does an answer (of the right type) pass its item?
pub fn passes(item: &ChecklistItem, answer: &Value) -> bool {
    match &item.pass_rule {
        None => true,
        Some(PassRule::Equals { equals }) => answer == equals,
        Some(PassRule::Compare { op, value }) => {
            let Some(x) = answer.as_f64() else {
                return false;
            };
            match op.as_str() {
                "<" => x < *value,
                "<=" => x <= *value,
                ">" => x > *value,
                ">=" => x >= *value,
                "==" => x == *value,
                _ => false,
            }
        }
    }
}

/// An inspection's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Score {
    pub score: i32,
    /// Points of the items answered.
    pub max_score: i32,
    /// 0–100 with one decimal; 100 when nothing scored was answered.
    pub percent: f64,
    /// Keys of the items that failed, in the template's order.
    pub failed_items: Vec<String>,
}

/// Checks `answers` against the template (every required item answered, each of its type,
/// no unknown key: problems named `answers.<key>`) and scores them.
pub fn score(
    items: &[ChecklistItem],
    answers: &BTreeMap<String, Value>,
) -> Result<Score, Vec<(String, String)>> {
    let mut problems = Vec::new();
    let (mut score, mut max) = (0, 0);
    let mut failed = Vec::new();
    for item in items {
        let field = format!("answers.{}", item.key);
        match answers.get(&item.key) {
            None | Some(Value::Null) => {
                if item.required {
                    problems.push((field, format!("{} is required", item.label)));
                }
            }
            Some(answer) => match check_answer(item, answer) {
                Err(m) => problems.push((field, m)),
                Ok(()) => {
                    max += item.points;
                    if passes(item, answer) {
                        score += item.points;
                    } else {
                        failed.push(item.key.clone());
                    }
                }
            },
        }
    }
    for key in answers.keys() {
        if !items.iter().any(|i| &i.key == key) {
            problems.push((
                format!("answers.{key}"),
                "the checklist has no such item".into(),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let percent = if max == 0 {
        100.0
    } else {
        (f64::from(score) * 1000.0 / f64::from(max)).round() / 10.0
    };
    Ok(Score {
        score,
        max_score: max,
        percent,
        failed_items: failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flood_gate() -> Vec<ChecklistItem> {
        serde_json::from_value(json!([
            {"key": "gate_operation", "label": "闸门启闭是否正常", "type": "yes_no", "points": 40,
             "required": true, "pass": {"equals": "yes"}},
            {"key": "water_level", "label": "水位（米）", "type": "number", "points": 30,
             "required": true, "pass": {"op": "<=", "value": 3.5}},
            {"key": "sandbags", "label": "沙袋储备", "type": "choice", "points": 30,
             "choices": ["充足", "不足"], "pass": {"equals": "充足"}},
            {"key": "remarks", "label": "备注", "type": "text"}
        ]))
        .unwrap()
    }

    fn answers(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_flood_gate_template_is_valid_and_bad_ones_are_named() {
        assert!(check_items(&flood_gate()).is_empty());
        let mut bad = flood_gate();
        bad[1].pass_rule = Some(PassRule::Compare {
            op: "~".into(),
            value: 1.0,
        });
        bad[0].pass_rule = Some(PassRule::Compare {
            op: "<".into(),
            value: 1.0,
        });
        bad[2].choices.clear();
        bad[3].key = "gate_operation".into();
        let fields: Vec<String> = check_items(&bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "items[0].pass",
                "items[1].pass",
                "items[2].choices",
                "items[2].pass",
                "items[3].key"
            ]
        );
        assert_eq!(check_items(&[]).len(), 1);
    }

    #[test]
    fn scores_count_what_was_answered() {
        let all_good =
            answers(json!({"gate_operation": "yes", "water_level": 2.8, "sandbags": "充足"}));
        let s = score(&flood_gate(), &all_good).unwrap();
        assert_eq!((s.score, s.max_score, s.percent), (100, 100, 100.0));
        assert!(s.failed_items.is_empty());
        let failing =
            answers(json!({"gate_operation": "no", "water_level": 3.9, "remarks": "启闭机异响"}));
        let s = score(&flood_gate(), &failing).unwrap();
        // Sandbags unanswered (optional): not in the maximum.
        assert_eq!((s.score, s.max_score, s.percent), (0, 70, 0.0));
        assert_eq!(s.failed_items, ["gate_operation", "water_level"]);
        let one = answers(json!({"gate_operation": "yes", "water_level": 3.6}));
        let s = score(&flood_gate(), &one).unwrap();
        assert_eq!(s.percent, 57.1);
    }

    #[test]
    fn answers_that_do_not_fit_are_named() {
        let bad = answers(json!({"gate_operation": "maybe", "sandbags": "很多", "speed": 3}));
        let fields: Vec<String> = score(&flood_gate(), &bad)
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            fields,
            [
                "answers.gate_operation",
                "answers.water_level",
                "answers.sandbags",
                "answers.speed"
            ]
        );
    }
}
