//! The incident routes (应急联动) and the recalls an incident issues, in `shared` types.

use crate::services::api::{encode, get_json, send_json, ApiError};
use gloo_net::http::Method;
use shared::cylinder::Page;
use shared::incident::{
    Incident, IncidentContext, IncidentKind, IncidentNote, IncidentStatus, IncidentStatusChange,
    IncidentTask, NewIncident, NewResponderUnit, NewTask, ResponderUnit, TaskStatus,
    TaskStatusChange,
};
use shared::recall::{NewRecall, RecallCreated};
use std::collections::HashMap;
use std::rc::Rc;

/// The radii the context offers, in metres (the server takes 50..5000; 500 by default).
pub const RADII: [u32; 4] = [200, 500, 1000, 2000];

/// The radius of the context and of the wall's ring unless one is chosen.
pub const DEFAULT_RADIUS_M: u32 = 500;

/// What `GET /api/v1/incidents` is asked for; `None` fields are not filtered on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentQuery {
    pub kind: Option<IncidentKind>,
    /// A status, several separated by commas, or `active` (all but closed).
    pub status: Option<String>,
    pub enterprise_code: Option<String>,
    pub district_code: Option<String>,
    /// Words of the description, the cylinder's code or a note.
    pub q: Option<String>,
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
            ("status", self.status.clone()),
            ("enterprise_code", self.enterprise_code.clone()),
            ("district_code", self.district_code.clone()),
            ("q", self.q.clone()),
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
    let page = list(&IncidentQuery {
        status: Some("active".to_owned()),
        limit: Some(200),
        ..IncidentQuery::default()
    })
    .await?;
    Ok(page.items)
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

/// The registered responder units, by code.
pub async fn units() -> Result<Vec<ResponderUnit>, ApiError> {
    get_json("/api/v1/responder-units").await
}

/// Registers a responder unit; the answer is the unit.
pub async fn create_unit(unit: &NewResponderUnit) -> Result<ResponderUnit, ApiError> {
    send_json(Method::POST, "/api/v1/responder-units", unit).await
}

/// Assigns a task to a unit.
pub async fn assign(id: uuid::Uuid, task: &NewTask) -> Result<IncidentTask, ApiError> {
    send_json(Method::POST, &format!("/api/v1/incidents/{id}/tasks"), task).await
}

/// Records what a unit reported about its task.
pub async fn task_status(
    id: uuid::Uuid,
    task: uuid::Uuid,
    status: TaskStatus,
    note: Option<String>,
) -> Result<IncidentTask, ApiError> {
    let body = TaskStatusChange { status, note };
    send_json(
        Method::POST,
        &format!("/api/v1/incidents/{id}/tasks/{task}/status"),
        &body,
    )
    .await
}

/// Acknowledges the incident for the user's enterprise.
pub async fn ack(id: uuid::Uuid) -> Result<Incident, ApiError> {
    crate::services::api::post_empty(&format!("/api/v1/incidents/{id}/ack")).await
}

/// A download of the incident (`report.csv` or `timeline.json`) as text, with the token.
pub async fn download(id: uuid::Uuid, file: &str) -> Result<String, ApiError> {
    crate::services::api::get_text(&format!("/api/v1/incidents/{id}/{file}")).await
}

/// The freshest of the same incident's versions: the latest `updated_at`; on a tie the
/// earlier candidate (pass the live feed's first, then a fetched one, then a listed one: a
/// list leaves the timeline out).
pub fn freshest(candidates: &[Option<&Rc<Incident>>]) -> Option<Rc<Incident>> {
    let mut best: Option<&Rc<Incident>> = None;
    for c in candidates.iter().flatten() {
        if best.is_none_or(|b| c.updated_at > b.updated_at) {
            best = Some(c);
        }
    }
    best.cloned()
}

/// The incidents not closed, from a listing and the live feed (the fresher of each), newest
/// first.
pub fn merge_active(
    listed: &[Incident],
    live: &HashMap<uuid::Uuid, Rc<Incident>>,
) -> Vec<Rc<Incident>> {
    let mut all: Vec<Rc<Incident>> = live
        .values()
        .filter(|l| !listed.iter().any(|i| i.id == l.id))
        .cloned()
        .collect();
    for i in listed {
        let listed = Rc::new(i.clone());
        if let Some(best) = freshest(&[live.get(&i.id), Some(&listed)]) {
            all.push(best);
        }
    }
    all.retain(|i| i.status != IncidentStatus::Closed);
    all.sort_by_key(|i| std::cmp::Reverse(i.opened_at));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn incident(n: u128, status: &str, updated: &str, opened: &str) -> Incident {
        serde_json::from_value(json!({
            "id": uuid::Uuid::from_u128(n), "kind": "leak", "level": "general", "status": status,
            "description": "x", "cylinder_code": null, "alert_id": null, "place": null,
            "district_code": null, "enterprise_codes": [], "caller": null, "opened_by": "d",
            "opened_at": opened, "updated_at": updated, "timeline": []
        }))
        .unwrap()
    }

    #[test]
    fn the_fresher_version_wins_and_a_tie_goes_to_the_first() {
        let old = Rc::new(incident(
            1,
            "open",
            "2026-12-07T01:00:00Z",
            "2026-12-07T01:00:00Z",
        ));
        let new = Rc::new(incident(
            1,
            "responding",
            "2026-12-07T02:00:00Z",
            "2026-12-07T01:00:00Z",
        ));
        let same = Rc::new(incident(
            1,
            "contained",
            "2026-12-07T02:00:00Z",
            "2026-12-07T01:00:00Z",
        ));
        assert_eq!(freshest(&[Some(&old), Some(&new)]), Some(new.clone()));
        assert_eq!(freshest(&[Some(&new), None, Some(&same)]), Some(new));
        assert_eq!(freshest(&[None, None]), None);
    }

    #[test]
    fn the_active_ones_are_the_listed_and_the_live_less_those_closed_since() {
        let t = |h: u8| format!("2026-12-07T0{h}:00:00Z");
        let listed = vec![
            incident(1, "open", &t(1), &t(1)),
            incident(2, "responding", &t(2), &t(2)),
        ];
        let mut live = HashMap::new();
        // 1 closed since the listing; 3 opened since.
        live.insert(
            uuid::Uuid::from_u128(1),
            Rc::new(incident(1, "closed", &t(3), &t(1))),
        );
        live.insert(
            uuid::Uuid::from_u128(3),
            Rc::new(incident(3, "open", &t(4), &t(4))),
        );
        // An older live version of 2 loses to the listing.
        live.insert(
            uuid::Uuid::from_u128(2),
            Rc::new(incident(2, "open", &t(1), &t(2))),
        );
        let active = merge_active(&listed, &live);
        let ids: Vec<(u128, IncidentStatus)> =
            active.iter().map(|i| (i.id.as_u128(), i.status)).collect();
        assert_eq!(
            ids,
            [(3, IncidentStatus::Open), (2, IncidentStatus::Responding)]
        );
    }
}
