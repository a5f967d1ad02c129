//! Versions and revisions of registry records (issue 21): every record carries a `version`; a
//! `PATCH` names the one it read (`If-Match`) and every change is kept as a revision — who,
//! when, and each changed field before → after.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One kept change of a record: `GET …/{code}/revisions` answers a list of these, oldest
/// first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revision {
    /// The record's version after this change.
    pub version: i64,
    pub at: DateTime<Utc>,
    /// Who made it (a user name).
    pub by: String,
    /// Why, when the change was a status change (suspend, reinstate, close) or carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Each changed field: `[before, after]`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub changes: Map<String, Value>,
}

/// The fields whose values differ between two JSON objects, as `{field: [before, after]}`
/// (a field missing on one side is `null` there). Not objects: no changes.
pub fn changes(before: &Value, after: &Value) -> Map<String, Value> {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return Map::new();
    };
    let mut changed = Map::new();
    for (field, new) in after {
        let old = before.get(field).unwrap_or(&Value::Null);
        if old != new {
            changed.insert(field.clone(), Value::Array(vec![old.clone(), new.clone()]));
        }
    }
    for (field, old) in before {
        if !after.contains_key(field) && !old.is_null() {
            changed.insert(field.clone(), Value::Array(vec![old.clone(), Value::Null]));
        }
    }
    changed
}

/// The version a client names in `If-Match`: `7` or `"7"` (an ETag's quotes), or `W/"7"`.
pub fn parse_if_match(header: &str) -> Option<i64> {
    let raw = header.trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    let raw = raw.trim_matches('"');
    raw.parse::<i64>().ok().filter(|v| *v >= 1)
}

/// The `ETag` of a record at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_each_changed_field_before_and_after() {
        let before = json!({"name": "甲", "radius_m": 100.0, "licence": "L1", "gone": "x"});
        let after = json!({"name": "乙", "radius_m": 100.0, "licence": "L1", "new": 3});
        let changed = changes(&before, &after);
        assert_eq!(
            Value::Object(changed),
            json!({"name": ["甲", "乙"], "new": [null, 3], "gone": ["x", null]})
        );
        assert!(changes(&before, &before).is_empty());
        assert!(changes(&json!(1), &after).is_empty());
    }

    #[test]
    fn if_match_takes_a_number_or_an_etag() {
        assert_eq!(parse_if_match("7"), Some(7));
        assert_eq!(parse_if_match("\"7\""), Some(7));
        assert_eq!(parse_if_match(" W/\"12\" "), Some(12));
        assert_eq!(parse_if_match(&etag(3)), Some(3));
        assert_eq!(parse_if_match("*"), None);
        assert_eq!(parse_if_match("0"), None);
        assert_eq!(parse_if_match("-1"), None);
        assert_eq!(parse_if_match("abc"), None);
    }
}
