//! The daily licence pass (issue 21 item 3): every licence and certificate of an active holder
//! (the view `licence_validity`) judged on today's Beijing date (`rules::licences`). A licence
//! ending within `licence_warn_days` raises a low `licence_expiring` notice, once per licence
//! and end date; one past its end raises a high `licence_expired` alert, once per licence and
//! end date (the first pass of the first day without a valid licence, or the first pass after
//! it when the server was down that day). The alert is about the holder (an enterprise, a staff
//! member ...) in the holder's enterprise; an open one no longer holds once no licence of its
//! holder is in its condition (renewed: its end date moved beyond the window, or beyond today).
//!
//! It runs at start-up and then just after each Beijing midnight, or every
//! `licence_pass_every_s` when that is set, and at once after a registry edit or status change
//! on this instance (a renewal's open alert ends then, not the next day). Several instances may run it: each notice is
//! written once (`licence_notices`' key), with its alert in the same transaction.

use crate::bus::publish::Publisher;
use crate::rules::compliance::{to_beijing, today_in_shanghai};
use crate::rules::licences::{holds, standing, Policy, Standing};
use crate::store;
use crate::store::alerts::NewAlert;
use crate::store::licences::Licence;
use chrono::{Duration as Days, NaiveDate, NaiveTime, Utc};
use shared::alert::AlertKind;
use shared::place::SubjectKind;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// When the pass runs and what it warns of.
#[derive(Debug, Clone)]
pub struct LicenceOptions {
    /// `None`: just after each Beijing midnight; else this often.
    pub every: Option<Duration>,
    /// Rung by a registry edit: a pass now (a renewal's alert ends at once, not the next day).
    pub wakeup: Arc<Notify>,
    pub policy: Policy,
}

/// Runs a pass now and then on the schedule of `options` until shutdown.
pub async fn run(
    pool: PgPool,
    publisher: Publisher,
    options: LicenceOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = pass(&pool, &publisher, &options.policy, today_in_shanghai()).await {
            tracing::warn!(error = %format!("{e:#}"), "licence pass failed");
        }
        let wait = options.every.unwrap_or_else(until_after_midnight);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = options.wakeup.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// From now until a few seconds into the next Beijing day.
fn until_after_midnight() -> Duration {
    let now = to_beijing(Utc::now());
    let next = (now.date_naive() + Days::days(1)).and_time(NaiveTime::MIN) + Days::seconds(5);
    (next - now.naive_local())
        .to_std()
        .unwrap_or(Duration::from_secs(60))
        .max(Duration::from_secs(1))
}

/// The licences of one holder with where each stands today.
type Holder<'a> = Vec<(&'a Licence, Standing)>;

/// One pass on `today`: raises what is due, ends what no longer holds.
pub async fn pass(
    pool: &PgPool,
    publisher: &Publisher,
    policy: &Policy,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let licences = store::licences::all(pool).await?;
    let mut holders: BTreeMap<(SubjectKind, &str), Holder> = BTreeMap::new();
    for licence in &licences {
        let at = standing(&licence.licence_kind, licence.valid_to, today, policy);
        holders
            .entry((licence.subject_kind, &licence.subject_key))
            .or_default()
            .push((licence, at));
    }
    let now = Utc::now();
    let mut raised = 0_usize;
    for (&(subject_type, _), held) in &holders {
        for &(licence, at) in held {
            let Some(kind) = at.alert().filter(|&k| !licence.noticed(k)) else {
                continue;
            };
            let alert = new_alert(kind, subject_type, licence, held, today, now);
            if let Some(row) = store::licences::notice(pool, licence, &alert).await? {
                raised += 1;
                crate::alerts::push(publisher, row);
            }
        }
    }
    // Renewed (or no longer active): the holder has no licence in the alert's condition.
    let mut ended = 0_usize;
    for kind in [AlertKind::LicenceExpiring, AlertKind::LicenceExpired] {
        let holding: HashSet<(SubjectKind, &str)> = holders
            .iter()
            .filter(|(_, held)| held.iter().any(|&(_, at)| holds(kind, at)))
            .map(|(&holder, _)| holder)
            .collect();
        for (subject_type, subject_id) in store::licences::open_subjects(pool, kind).await? {
            if holding.contains(&(subject_type, subject_id.as_str())) {
                continue;
            }
            let subject = subject_type;
            if let Some(row) =
                store::alerts::condition_ended(pool, kind, subject, &subject_id, now).await?
            {
                ended += 1;
                crate::alerts::push(publisher, row);
            }
        }
    }
    tracing::info!(%today, licences = licences.len(), raised, ended, "licence pass");
    Ok(())
}

/// The alert about `licence`: its own facts, and every licence of the holder in the same
/// condition (one alert per kind and holder stays open: an enterprise's two licences share it).
fn new_alert(
    kind: AlertKind,
    subject_type: SubjectKind,
    licence: &Licence,
    held: &Holder,
    today: NaiveDate,
    now: chrono::DateTime<Utc>,
) -> NewAlert {
    let facts = |l: &Licence| {
        serde_json::json!({
            "licence_kind": l.licence_kind, "number": l.number, "valid_to": l.valid_to,
            "days_left": (l.valid_to - today).num_days(),
        })
    };
    let same: Vec<serde_json::Value> = held
        .iter()
        .filter(|(_, at)| at.alert() == Some(kind))
        .map(|(l, _)| facts(l))
        .collect();
    let mut evidence = facts(licence);
    evidence["licences"] = serde_json::Value::Array(same);
    evidence["today"] = serde_json::json!(today);
    NewAlert {
        kind,
        severity: kind.severity(),
        subject_type,
        subject_id: licence.subject_key.clone(),
        enterprise_code: Some(licence.enterprise_code.clone()),
        district_code: licence.district_code.clone(),
        place: None,
        place_name: None,
        seen_at: now,
        evidence,
        sighting: format!(
            "{}:{}:{}:{}:{}",
            kind.name(),
            licence.subject_kind.name(),
            licence.subject_key,
            licence.licence_kind,
            licence.valid_to
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn the_daily_pass_waits_until_just_after_the_next_beijing_midnight() {
        let wait = until_after_midnight();
        assert!(wait >= Duration::from_secs(1));
        assert!(wait <= Duration::from_secs(24 * 3600 + 5), "{wait:?}");
        let at = to_beijing(Utc::now() + Days::from_std(wait).unwrap_or_default());
        assert_eq!(at.time().hour(), 0, "{at}");
    }
}
