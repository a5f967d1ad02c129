//! Incidents as answered and pushed (issue 22 items 4–5): the whole incident — timeline,
//! responder tasks, acknowledgements, recalls with their progress — as one viewer may see it,
//! for `GET /api/v1/incidents/{id}` and the live `incident` topic alike; publishing every
//! change; and the worker that pushes recall progress as scans move it.
//!
//! The live topic: each change is PUBLISHed once, as the system's (unredacted) view. A session
//! of system scope whose user may see personal fields forwards it as is; every other session
//! reads the incident again within its own scope (`view`), so it gets exactly what its GET
//! would answer, or nothing when the incident is outside its scope.

use crate::access::{Scope, User};
use crate::bus::publish::Publisher;
use crate::rules::compliance::to_beijing;
use crate::store;
use crate::store::incident_ops::{AckRow, TaskRow};
use crate::store::incidents::{IncidentRow, TimelineRow};
use shared::auth::Role;
use shared::incident::{
    Caller, Incident, IncidentAck, IncidentRecall, IncidentTask, TimelineEntry,
};
use shared::live::{LiveMessage, Topic};
use shared::GeoPoint;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// Who looks: the scope of records they see, and whether they see callers' and customers'
/// personal fields (regulators, duty officers and administrators).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub scope: Scope,
    pub privileged: bool,
}

/// Roles that open and handle incidents and see callers' and customers' personal fields.
pub const HANDLERS: [Role; 4] = [
    Role::Admin,
    Role::CityRegulator,
    Role::DistrictRegulator,
    Role::DutyOfficer,
];

/// Whether `user` sees personal fields.
pub fn privileged(user: &User) -> bool {
    HANDLERS.contains(&user.role)
}

impl Viewer {
    /// What `user` sees.
    pub fn of(user: &User) -> Self {
        Self {
            scope: user.scope(),
            privileged: privileged(user),
        }
    }

    /// The whole city with every field (what is published).
    pub fn system() -> Self {
        Self {
            scope: Scope::system(),
            privileged: true,
        }
    }
}

/// What the single-incident answer adds to the row.
#[derive(Debug, Default)]
pub struct Parts {
    pub timeline: Vec<TimelineEntry>,
    pub tasks: Vec<IncidentTask>,
    pub acks: Vec<IncidentAck>,
    pub recalls: Vec<IncidentRecall>,
}

/// The incident row as `viewer` may see it, with `parts`.
pub fn assemble(row: IncidentRow, parts: Parts, viewer: &Viewer) -> Incident {
    let caller = match (row.caller_name, row.caller_phone) {
        (Some(name), Some(phone)) if viewer.privileged => Some(Caller { name, phone }),
        _ => None,
    };
    let unacknowledged = row
        .enterprise_codes
        .iter()
        .filter(|e| !parts.acks.iter().any(|a| a.enterprise_code == **e))
        .map(|e| e.to_string())
        .collect();
    Incident {
        id: row.id,
        kind: row.kind,
        level: row.level,
        status: row.status,
        description: row.description,
        cylinder_code: row.cylinder_code,
        alert_id: row.alert_id,
        place: match (row.lon, row.lat) {
            (Some(lon), Some(lat)) => GeoPoint::new(lon, lat).ok(),
            _ => None,
        },
        district_code: row.district_code,
        enterprise_codes: row.enterprise_codes.into_iter().map(String::from).collect(),
        caller,
        opened_by: row.opened_by,
        opened_at: to_beijing(row.opened_at),
        updated_at: to_beijing(row.updated_at),
        timeline: parts.timeline,
        tasks: parts.tasks,
        acks: parts.acks,
        unacknowledged,
        recalls: parts.recalls,
    }
}

fn entry(t: TimelineRow) -> TimelineEntry {
    TimelineEntry {
        seq: t.seq,
        at: to_beijing(t.at),
        by: t.by_user,
        what: t.what,
        status: t.status,
        note: t.note,
        task_id: t.task_id,
        unit_code: t.unit_code,
        task_status: t.task_status,
        enterprise_code: t.enterprise_code,
        recall_id: t.recall_id,
    }
}

fn task(t: TaskRow) -> IncidentTask {
    IncidentTask {
        id: t.id,
        unit_code: t.unit_code,
        unit_name: t.unit_name,
        unit_kind: t.unit_kind,
        what: t.what,
        due_at: to_beijing(t.due_at),
        status: t.status,
        note: t.note,
        created_at: to_beijing(t.created_at),
        created_by: t.created_by,
        updated_at: to_beijing(t.updated_at),
        updated_by: t.updated_by,
    }
}

fn ack(a: AckRow) -> IncidentAck {
    IncidentAck {
        enterprise_code: a.enterprise_code,
        by: a.by_user,
        at: to_beijing(a.at),
    }
}

/// The acknowledgements of listed incidents, by incident.
pub async fn acks_of(
    pool: &PgPool,
    ids: &[Uuid],
) -> anyhow::Result<HashMap<Uuid, Vec<IncidentAck>>> {
    let mut out: HashMap<Uuid, Vec<IncidentAck>> = HashMap::new();
    for a in store::incident_ops::acks(pool, ids).await? {
        out.entry(a.incident_id).or_default().push(ack(a));
    }
    Ok(out)
}

/// The parts of the single-incident answer, within `viewer`'s scope (recall progress over its
/// share; recalls it has no share of left out).
pub async fn parts(pool: &PgPool, id: Uuid, viewer: &Viewer) -> anyhow::Result<Parts> {
    let timeline = store::incidents::timeline(pool, id)
        .await?
        .into_iter()
        .map(entry)
        .collect();
    let tasks = store::incident_ops::tasks(pool, id)
        .await?
        .into_iter()
        .map(task)
        .collect();
    let acks = store::incident_ops::acks(pool, &[id])
        .await?
        .into_iter()
        .map(ack)
        .collect();
    let mut recalls = Vec::new();
    for recall in store::incident_ops::recalls_of(pool, id).await? {
        if let Some((row, progress)) = store::recalls::find(pool, recall, &viewer.scope).await? {
            recalls.push(IncidentRecall {
                id: row.id,
                reason: row.reason,
                created_by: row.created_by,
                created_at: to_beijing(row.created_at),
                progress,
            });
        }
    }
    Ok(Parts {
        timeline,
        tasks,
        acks,
        recalls,
    })
}

/// The whole incident as `viewer` may see it; `None` outside its scope.
pub async fn view(pool: &PgPool, viewer: &Viewer, id: Uuid) -> anyhow::Result<Option<Incident>> {
    let Some(row) = store::incidents::get(pool, &viewer.scope, id).await? else {
        return Ok(None);
    };
    let parts = parts(pool, id, viewer).await?;
    Ok(Some(assemble(row, parts, viewer)))
}

/// Pushes the incident's new state on the `incident` topic. Failures are logged, not
/// returned: the change stands, and clients read the incident again when they reconnect.
pub async fn publish(pool: &PgPool, publisher: &Publisher, id: Uuid) {
    match view(pool, &Viewer::system(), id).await {
        Ok(Some(incident)) => {
            publisher.send(Topic::Incident, &LiveMessage::Incident(Box::new(incident)));
        }
        Ok(None) => tracing::warn!(%id, "incident to publish not found"),
        Err(e) => tracing::warn!(error = %format!("{e:#}"), %id, "incident not published"),
    }
}

/// How often the progress worker looks.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Every second, the progress of the recalls of incidents that are not closed (scans move it
/// through a trigger, regulators clear cylinders); each incident whose progress changed since
/// the last look (or that has a recall new since then) is published again. The first look, at
/// start, only remembers.
pub async fn progress(pool: PgPool, publisher: Publisher, mut shutdown: watch::Receiver<bool>) {
    let mut seen: Option<HashMap<Uuid, [i64; 4]>> = None;
    loop {
        match store::incident_ops::watched_progress(&pool).await {
            Ok(now) => {
                let mut changed: Vec<Uuid> = Vec::new();
                let mut next = HashMap::with_capacity(now.len());
                for (incident, recall, counts) in now {
                    if let Some(before) = &seen {
                        if before.get(&recall) != Some(&counts) && !changed.contains(&incident) {
                            changed.push(incident);
                        }
                    }
                    next.insert(recall, counts);
                }
                seen = Some(next);
                for id in changed {
                    publish(&pool, &publisher, id).await;
                }
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "recall progress pass failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(PROGRESS_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}
