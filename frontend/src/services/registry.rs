//! The registry as the directory and profile pages read and edit it: a directory's pages,
//! one record with its version, a `PATCH` naming that version in `If-Match`, a record's
//! revisions and its status changes. Records stay JSON objects: a field the server adds
//! (a licence's start date, a list of certificates) reaches the pages without a new type here.

use crate::services::api::{encode, get_json, send_with_headers, ApiError};
use gloo_net::http::Method;
use serde_json::{Map, Value};
use shared::cylinder::Page;
use shared::record::Proposal;
use shared::revision::Revision;

/// The directories the pages list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directory {
    Enterprises,
    Stations,
    Staff,
    Vehicles,
    Customers,
}

impl Directory {
    /// Every directory, in the order of the tabs.
    pub const ALL: [Self; 5] = [
        Self::Enterprises,
        Self::Stations,
        Self::Staff,
        Self::Vehicles,
        Self::Customers,
    ];

    /// The collection's path segment (`/api/v1/{collection}` and the page's path).
    pub fn collection(self) -> &'static str {
        match self {
            Self::Enterprises => "enterprises",
            Self::Stations => "stations",
            Self::Staff => "staff",
            Self::Vehicles => "vehicles",
            Self::Customers => "customers",
        }
    }

    /// The field that names a record.
    pub fn key_field(self) -> &'static str {
        match self {
            Self::Staff => "staff_no",
            Self::Vehicles => "plate",
            _ => "code",
        }
    }

    /// Whether the directory takes `licence_expiring_within_days`.
    pub fn has_licences(self) -> bool {
        matches!(self, Self::Enterprises | Self::Staff)
    }
}

/// What a directory is asked for; empty fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryQuery {
    /// A code's prefix or part of a name.
    pub q: String,
    pub district_code: String,
    pub enterprise_code: String,
    /// `active`, `suspended` or `closed`.
    pub status: String,
    /// Licences or certificates ending within this many days (expired ones included).
    pub expiring_within_days: String,
}

impl DirectoryQuery {
    /// The query pairs, unencoded, in a fixed order.
    pub fn pairs(&self, kind: Directory) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("q", self.q.trim().to_owned()),
            ("district_code", self.district_code.clone()),
            ("enterprise_code", self.enterprise_code.clone()),
            ("status", self.status.clone()),
        ];
        if kind.has_licences() {
            pairs.push((
                "licence_expiring_within_days",
                self.expiring_within_days.trim().to_owned(),
            ));
        }
        pairs.retain(|(_, v)| !v.is_empty());
        pairs
    }
}

/// One page of a directory after `cursor`.
pub async fn directory(
    kind: Directory,
    query: &DirectoryQuery,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<Value>, ApiError> {
    let mut pairs: Vec<String> = query
        .pairs(kind)
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode(&v)))
        .collect();
    pairs.push(format!("limit={limit}"));
    if let Some(c) = cursor {
        pairs.push(format!("cursor={}", encode(c)));
    }
    get_json(&format!(
        "/api/v1/{}?{}",
        kind.collection(),
        pairs.join("&")
    ))
    .await
}

/// A record's path: `/api/v1/{collection}/{key}`.
fn record_path(collection: &str, key: &str) -> String {
    format!("/api/v1/{collection}/{}", encode(key))
}

/// One record as `GET` answers it (with `version` and `status`).
pub async fn record(collection: &str, key: &str) -> Result<Value, ApiError> {
    get_json(&record_path(collection, key)).await
}

/// Changes some fields of a record read at `version`: the record as it is now, or `412
/// version_stale` when someone changed it since, `400`/`403` naming the field refused.
pub async fn patch(
    collection: &str,
    key: &str,
    version: i64,
    changes: &Value,
) -> Result<Value, ApiError> {
    let etag = shared::revision::etag(version);
    send_with_headers(
        Method::PATCH,
        &record_path(collection, key),
        Some(changes),
        &[("If-Match", &etag)],
    )
    .await?
    .json::<Value>()
    .await
    .map_err(|e| ApiError::Decode(e.to_string()))
}

/// A record's revisions, oldest first.
pub async fn revisions(collection: &str, key: &str) -> Result<Vec<Revision>, ApiError> {
    get_json(&format!("{}/revisions", record_path(collection, key))).await
}

/// `suspend` or `reinstate` a record, with the reason.
pub async fn set_status(
    collection: &str,
    key: &str,
    action: &str,
    reason: &str,
) -> Result<Value, ApiError> {
    let body = serde_json::json!({ "reason": reason });
    send_with_headers(
        Method::POST,
        &format!("{}/{action}", record_path(collection, key)),
        Some(&body),
        &[],
    )
    .await?
    .json::<Value>()
    .await
    .map_err(|e| ApiError::Decode(e.to_string()))
}

/// An enterprise proposes a change of fields a regulator writes, with its document: the
/// proposal, pending.
pub async fn propose(
    collection: &str,
    key: &str,
    changes: Map<String, Value>,
    document_ref: &str,
) -> Result<Proposal, ApiError> {
    let body = serde_json::json!({ "changes": changes, "document_ref": document_ref });
    send_with_headers(
        Method::POST,
        &format!("{}/proposals", record_path(collection, key)),
        Some(&body),
        &[],
    )
    .await?
    .json::<Proposal>()
    .await
    .map_err(|e| ApiError::Decode(e.to_string()))
}

/// The pending proposals about one record, newest first.
pub async fn pending_proposals(collection: &str, key: &str) -> Result<Vec<Proposal>, ApiError> {
    let all: Vec<Proposal> = get_json("/api/v1/proposals?status=pending").await?;
    Ok(all
        .into_iter()
        .filter(|p| p.record_kind == collection && p.record_key == key)
        .collect())
}

/// A regulator approves (the change is made) or rejects (`reason` required) a proposal.
pub async fn decide(id: i64, approve: bool, reason: &str) -> Result<Proposal, ApiError> {
    let reason = reason.trim();
    let body = if reason.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::json!({ "reason": reason })
    };
    let step = if approve { "approve" } else { "reject" };
    send_with_headers(
        Method::POST,
        &format!("/api/v1/proposals/{id}/{step}"),
        Some(&body),
        &[],
    )
    .await?
    .json::<Proposal>()
    .await
    .map_err(|e| ApiError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_sends_only_what_was_filled_in_and_expiry_only_where_there_are_licences() {
        let query = DirectoryQuery {
            q: " 燃气 ".to_owned(),
            status: "active".to_owned(),
            expiring_within_days: "30".to_owned(),
            ..DirectoryQuery::default()
        };
        assert_eq!(
            query.pairs(Directory::Enterprises),
            [
                ("q", "燃气".to_owned()),
                ("status", "active".to_owned()),
                ("licence_expiring_within_days", "30".to_owned())
            ]
        );
        assert_eq!(
            query.pairs(Directory::Vehicles),
            [("q", "燃气".to_owned()), ("status", "active".to_owned())]
        );
        assert!(DirectoryQuery::default().pairs(Directory::Staff).is_empty());
    }
}
