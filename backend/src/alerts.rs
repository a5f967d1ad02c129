//! Raising alerts and telling the screens: the store keeps them (one unresolved alert per kind
//! and subject), the live channel pushes every change; the escalation worker pushes critical
//! alerts nobody acknowledged in time again.

use crate::bus::publish::Publisher;
use crate::rules::compliance::to_beijing;
use crate::store;
use crate::store::alerts::{AlertRow, NewAlert};
use shared::alert::{Alert, Handling, Subject};
use shared::live::{LiveMessage, Topic};
use shared::GeoPoint;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;

/// An alert row as the wire type (the store has decoded its kind, severity and status: a row
/// this build cannot read fails its query, with the value named).
pub fn view(row: AlertRow) -> Alert {
    let handling = |by: Option<String>, at: Option<chrono::DateTime<chrono::Utc>>, note| {
        Some(Handling {
            by: by?,
            at: to_beijing(at?),
            note: Option::<String>::unwrap_or_default(note),
        })
    };
    Alert {
        id: row.id,
        kind: row.kind,
        severity: row.severity,
        status: row.status,
        subject: Subject {
            kind: row.subject_type.name().to_owned(),
            id: row.subject_id,
        },
        enterprise_code: row.enterprise_code,
        district_code: row.district_code,
        place: match (row.lon, row.lat) {
            (Some(lon), Some(lat)) => GeoPoint::new(lon, lat).ok(),
            _ => None,
        },
        place_name: row.place_name,
        opened_at: to_beijing(row.opened_at),
        last_seen_at: to_beijing(row.last_seen_at),
        count: row.count,
        evidence: row.evidence,
        condition_ended_at: row.condition_ended_at.map(to_beijing),
        escalated_at: row.escalated_at.map(to_beijing),
        ack: handling(row.ack_by, row.ack_at, row.ack_note),
        resolution: handling(row.resolved_by, row.resolved_at, row.resolution_note),
    }
}

/// Pushes an alert's new state to the screens.
pub fn push(publisher: &Publisher, row: AlertRow) {
    publisher.send(Topic::Alerts, &LiveMessage::Alert(Box::new(view(row))));
}

/// Raises (or counts again) an alert and pushes it. Failures are logged, not returned: the
/// caller's own work (a decision, a filling record) stands without its alert.
pub async fn raise(pool: &PgPool, publisher: &Publisher, alert: NewAlert) {
    match store::alerts::raise(pool, &alert).await {
        Ok(Some(row)) => push(publisher, row),
        Ok(None) => {}
        Err(e) => tracing::error!(
            error = %format!("{e:#}"), kind = alert.kind.name(), subject = alert.subject_id,
            "alert not raised"
        ),
    }
}

/// Every few seconds, critical alerts open longer than `after` are marked escalated and pushed
/// again, once.
pub async fn escalation(
    pool: PgPool,
    publisher: Publisher,
    after: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let every = (after / 10).clamp(Duration::from_millis(200), Duration::from_secs(10));
    let after = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        match store::alerts::escalate(&pool, after).await {
            Ok(rows) => {
                for row in rows {
                    tracing::warn!(id = %row.id, kind = row.kind.name(), "critical alert unacknowledged; escalated");
                    push(&publisher, row);
                }
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "escalation pass failed"),
        }
    }
}
