//! The incident routes (应急联动) and the recalls an incident issues, in `shared` types.

use crate::services::api::{encode, get_json, send_json, ApiError};
use gloo_net::http::Method;
use shared::cylinder::Page;
use shared::incident::{
    Incident, IncidentContext, IncidentKind, IncidentNote, IncidentStatus, IncidentStatusChange,
    NewIncident,
};
use shared::recall::{NewRecall, Recall, RecallCreated};

/// The radii the context offers, in metres (the server takes 50..5000; 500 by default).
pub const RADII: [u32; 4] = [200, 500, 1000, 2000];

/// The radius of the context and of the wall's ring unless one is chosen.
pub const DEFAULT_RADIUS_M: u32 = 500;

/// What `GET /api/v1/incidents` is asked for; `None` fields are not filtered on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentQuery {
    pub kind: Option<IncidentKind>,
    pub status: Option<IncidentStatus>,
    pub enterprise_code: Option<String>,
    /// RFC 3339.
    pub from: Option<String>,
    /// RFC 3339.
    pub to: Option<String>,
    pub limit: Option<u32>,
}

impl IncidentQuery {
    /// The query string, `?` included (empty when nothing is asked).
    pub fn to_query(&self) -> String {
        let pairs: Vec<String> = [
            ("kind", self.kind.map(|k| k.name().to_owned())),
            ("status", self.status.map(|s| s.name().to_owned())),
            ("enterprise_code", self.enterprise_code.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("limit", self.limit.map(|l| l.to_string())),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", encode(&v?))))
        .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// One page of incidents, newest first.
pub async fn list(query: &IncidentQuery) -> Result<Page<Incident>, ApiError> {
    get_json(&format!("/api/v1/incidents{}", query.to_query())).await
}

/// Every incident not closed (open, responding, contained), newest first.
pub async fn active() -> Result<Vec<Incident>, ApiError> {
    let ask = |status| async move {
        list(&IncidentQuery {
            status: Some(status),
            limit: Some(100),
            ..IncidentQuery::default()
        })
        .await
    };
    let (open, responding, contained) = futures::join!(
        ask(IncidentStatus::Open),
        ask(IncidentStatus::Responding),
        ask(IncidentStatus::Contained)
    );
    let mut all: Vec<Incident> = open?
        .items
        .into_iter()
        .chain(responding?.items)
        .chain(contained?.items)
        .collect();
    all.sort_by_key(|i| std::cmp::Reverse(i.opened_at));
    Ok(all)
}

/// One incident with its timeline.
pub async fn get(id: uuid::Uuid) -> Result<Incident, ApiError> {
    get_json(&format!("/api/v1/incidents/{id}")).await
}

/// Opens an incident; the answer is the incident.
pub async fn create(new: &NewIncident) -> Result<Incident, ApiError> {
    send_json(Method::POST, "/api/v1/incidents", new).await
}

/// Adds a note to the timeline.
pub async fn note(id: uuid::Uuid, note: &str) -> Result<Incident, ApiError> {
    let body = IncidentNote {
        note: note.to_owned(),
    };
    send_json(
        Method::POST,
        &format!("/api/v1/incidents/{id}/timeline"),
        &body,
    )
    .await
}

/// Moves the incident forward (or reopens it with `Responding`).
pub async fn set_status(
    id: uuid::Uuid,
    status: IncidentStatus,
    note: Option<String>,
) -> Result<Incident, ApiError> {
    let body = IncidentStatusChange { status, note };
    send_json(
        Method::POST,
        &format!("/api/v1/incidents/{id}/status"),
        &body,
    )
    .await
}

/// The incident's context, assembled now, within `radius_m`.
pub async fn context(id: uuid::Uuid, radius_m: u32) -> Result<IncidentContext, ApiError> {
    get_json(&format!(
        "/api/v1/incidents/{id}/context?radius_m={radius_m}"
    ))
    .await
}

/// Issues a recall.
pub async fn recall(new: &NewRecall) -> Result<RecallCreated, ApiError> {
    send_json(Method::POST, "/api/v1/recalls", new).await
}

/// How many of the newest recalls are looked through for an incident's.
const RECALLS_LOOKED_AT: usize = 20;

/// The recalls issued for incident `id`, newest first: the newest recalls the user sees,
/// kept when they name the incident.
pub async fn recalls_of(id: uuid::Uuid) -> Result<Vec<Recall>, ApiError> {
    let ids: Vec<uuid::Uuid> = get_json("/api/v1/recalls").await?;
    let asked = ids
        .into_iter()
        .take(RECALLS_LOOKED_AT)
        .map(|r| async move { get_json::<Recall>(&format!("/api/v1/recalls/{r}")).await });
    let answers = futures::future::join_all(asked).await;
    let mut mine = Vec::new();
    for answer in answers {
        let recall = answer?;
        if recall.incident_id == Some(id) {
            mine.push(recall);
        }
    }
    Ok(mine)
}
