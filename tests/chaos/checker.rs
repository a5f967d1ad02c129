//! The checker: once the faults stop and the backlog drains, the final state against the record
//! of acknowledged operations.
//!
//! The custody reference is written here, apart from the server's `rules::custody`, as the
//! README's custody rules say it for the steps the workload sends (fill → in stock full at the
//! station; load → in transit, full unless it came from a customer; deliver → at the customer;
//! collect_empty → returning on the vehicle; return_in → in stock empty; scrap → scrapped for
//! good; a check moves nothing), folded over each cylinder's acknowledged events in event-time
//! order from the registered state (in stock empty at its station).

use crate::workload::{
    customer_code, cylinder_code, illegal_tag, plate, Acked, Kind, Op, Plan, Record, STATION,
};
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;
use uuid::Uuid;

/// A cylinder's state as the reference says: custody, place kind, place code.
pub type Custody = (&'static str, &'static str, String);

fn registered() -> Custody {
    ("in_stock_empty", "station", STATION.to_owned())
}

fn full(custody: &str) -> bool {
    matches!(
        custody,
        "in_stock_full" | "in_transit_delivery" | "at_customer"
    )
}

/// The plain reference of the custody rules (see the module's comment).
pub fn step(state: Custody, op: Op) -> Custody {
    if state.0 == "scrapped" {
        return state;
    }
    match op {
        Op::Fill => ("in_stock_full", "station", STATION.to_owned()),
        Op::Load(v) => {
            let custody = if full(state.0) && state.0 != "at_customer" {
                "in_transit_delivery"
            } else {
                "in_transit_return"
            };
            (custody, "vehicle", plate(v))
        }
        Op::Deliver(c) => ("at_customer", "customer", customer_code(c)),
        Op::Collect(v) => ("in_transit_return", "vehicle", plate(v)),
        Op::ReturnIn => ("in_stock_empty", "station", STATION.to_owned()),
        Op::Scrap => ("scrapped", "station", STATION.to_owned()),
    }
}

/// What the checker found; `failures` empty means the run passed.
#[derive(Debug, Default)]
pub struct Report {
    pub acknowledged: usize,
    pub lost: Vec<String>,
    pub doubled: Vec<String>,
    pub failures: Vec<String>,
    pub allows: usize,
    pub refusals_by_rule: BTreeMap<String, usize>,
}

impl Report {
    fn fail(&mut self, what: String) {
        if self.failures.len() < 200 {
            self.failures.push(what);
        }
    }
}

pub async fn check(pool: &PgPool, plan: &Plan, record: &Record) -> Report {
    let acked: Vec<Acked> = record.acked.lock().expect("record").clone();
    let unacked: HashSet<Uuid> = record
        .unacked
        .lock()
        .expect("record")
        .iter()
        .copied()
        .collect();
    let mut report = Report {
        acknowledged: acked.len(),
        ..Report::default()
    };

    // 1. Every acknowledged event stored exactly once.
    let stored: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM events")
        .fetch_all(pool)
        .await
        .expect("events");
    let mut seen: HashMap<Uuid, u32> = HashMap::new();
    for id in stored {
        *seen.entry(id).or_default() += 1;
    }
    let ids: HashSet<Uuid> = acked.iter().map(|a| a.id).collect();
    // Filling records: each kept exactly once, under the id its answer gave.
    let fillings: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM fillings")
        .fetch_all(pool)
        .await
        .expect("fillings");
    let fillings: HashSet<Uuid> = fillings.into_iter().collect();
    let recorded = acked
        .iter()
        .filter(|a| matches!(a.kind, Kind::Filling { .. }))
        .inspect(|a| {
            if !fillings.contains(&a.id) {
                report
                    .lost
                    .push(format!("filling record {} ({:?}) not kept", a.id, a.kind));
            }
        })
        .count();
    let unanswered = usize::try_from(
        record
            .unacked_fillings
            .load(std::sync::atomic::Ordering::Relaxed),
    )
    .unwrap_or(0);
    if fillings.len() > recorded + unanswered {
        report.doubled.push(format!(
            "{} filling records kept for {recorded} answered ({unanswered} never answered): a record sent again was kept twice",
            fillings.len()
        ));
    }
    if ids.len() != acked.len() {
        report.fail("the workload recorded an event id twice".into());
    }
    for a in acked
        .iter()
        .filter(|a| !matches!(a.kind, Kind::Filling { .. }))
    {
        match seen.get(&a.id) {
            None => report
                .lost
                .push(format!("event {} ({:?}) not stored", a.id, a.kind)),
            Some(n) if *n > 1 => report
                .doubled
                .push(format!("event {} stored {n} times", a.id)),
            Some(_) => {}
        }
    }
    let extra = seen
        .keys()
        .filter(|id| !ids.contains(id) && !unacked.contains(id))
        .count();
    if extra > 0 {
        report.fail(format!("{extra} stored events the workload never sent"));
    }

    // 2. Nothing left unapplied: the outbox is empty, nothing dead-lettered.
    let (outbox, dead): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE dead) FROM event_outbox")
            .fetch_one(pool)
            .await
            .expect("outbox");
    if outbox > 0 {
        report.fail(format!("{outbox} events still in the outbox ({dead} dead)"));
    }
    let letters: i64 = sqlx::query_scalar("SELECT count(*) FROM pipeline_dead_letters")
        .fetch_one(pool)
        .await
        .expect("dead letters");
    if letters > 0 {
        report.fail(format!("{letters} dead letters"));
    }

    // 3. Every scan and check of a known cylinder applied exactly once (one history row).
    let rows: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT event_id, count(*) FROM cylinder_events GROUP BY event_id")
            .fetch_all(pool)
            .await
            .expect("history rows");
    let applied: HashMap<Uuid, i64> = rows.into_iter().collect();
    for a in &acked {
        if matches!(
            a.kind,
            Kind::Scan { .. } | Kind::Check { .. } | Kind::Filling { .. }
        ) {
            match applied.get(&a.id).copied().unwrap_or(0) {
                0 => report.lost.push(format!(
                    "event {} ({:?}, acknowledged) stored but never applied to its cylinder's history",
                    a.id, a.kind
                )),
                1 => {}
                n => report.doubled.push(format!("event {} applied {n} times", a.id)),
            }
        }
    }

    // 4. Every vehicle at its newest acknowledged fix.
    let mut newest: HashMap<usize, &Acked> = HashMap::new();
    for a in &acked {
        if let Kind::Gps { vehicle, .. } = a.kind {
            let e = newest.entry(vehicle).or_insert(a);
            if a.occurred_at > e.occurred_at {
                *e = a;
            }
        }
    }
    let positions: Vec<(String, Uuid, f64, f64)> = sqlx::query_as(
        "SELECT plate, event_id, ST_X(location), ST_Y(location) FROM vehicle_positions",
    )
    .fetch_all(pool)
    .await
    .expect("positions");
    let positions: HashMap<String, (Uuid, f64, f64)> = positions
        .into_iter()
        .map(|(p, id, x, y)| (p, (id, x, y)))
        .collect();
    for (vehicle, a) in &newest {
        let Kind::Gps { lon, lat, .. } = a.kind else {
            continue;
        };
        match positions.get(&plate(*vehicle)) {
            Some((id, x, y)) if *id == a.id && (x - lon).abs() < 1e-9 && (y - lat).abs() < 1e-9 => {
            }
            other => report.fail(format!(
                "vehicle {} at {other:?}, its newest acknowledged fix is {} ({lon}, {lat}) at {}",
                plate(*vehicle),
                a.id,
                a.occurred_at
            )),
        }
    }

    // 5. Every cylinder's custody equals the reference replay of its acknowledged history.
    let mut history: HashMap<usize, Vec<&Acked>> = HashMap::new();
    for a in &acked {
        match a.kind {
            Kind::Scan { cylinder, .. } | Kind::Check { cylinder } | Kind::Filling { cylinder } => {
                history.entry(cylinder).or_default().push(a)
            }
            _ => {}
        }
    }
    let states: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT c.code, s.custody, s.place_kind, s.place_code FROM cylinders c \
         JOIN cylinder_state s ON s.cylinder_id = c.id",
    )
    .fetch_all(pool)
    .await
    .expect("states");
    let states: HashMap<String, (String, Option<String>, Option<String>)> = states
        .into_iter()
        .map(|(c, s, k, p)| (c, (s, k, p)))
        .collect();
    let mut expected_counts: BTreeMap<&'static str, i64> = BTreeMap::new();
    for c in 0..plan.cylinders + plan.gun_cylinders {
        let mut events = history.remove(&c).unwrap_or_default();
        events.sort_by_key(|a| (a.occurred_at, a.id));
        let mut state = registered();
        for a in &events {
            match a.kind {
                Kind::Scan { op, .. } => state = step(state, op),
                // A filling record fills, like a `fill` scan at its station.
                Kind::Filling { .. } => state = step(state, Op::Fill),
                _ => {}
            }
        }
        *expected_counts.entry(state.0).or_default() += 1;
        let code = cylinder_code(c);
        let got = states.get(&code);
        let want = (
            state.0.to_owned(),
            Some(state.1.to_owned()),
            Some(state.2.clone()),
        );
        let ok = match got {
            Some(g) => *g == want,
            // Never touched: no state row is the registered state.
            None => events.is_empty(),
        };
        if !ok {
            let last = events
                .last()
                .map(|a| format!("{} {:?} at {}", a.id, a.kind, a.occurred_at));
            report.fail(format!(
                "cylinder {code}: state {got:?}, its acknowledged history ({} events, last {last:?}) says {want:?}",
                events.len()
            ));
        }
    }

    // 6. Statistics counters equal a full recount, and the reference's.
    use cylwatch::store::stats::{counters, counters_by_scan, refresh, Classify};
    let c = Classify::now(90, 30);
    refresh(pool, c).await.expect("stats refresh");
    let kept = counters(pool).await.expect("counters");
    let recount = counters_by_scan(pool, c).await.expect("recount");
    if kept != recount {
        report.fail(format!(
            "statistics counters {kept:?} differ from a full recount {recount:?}"
        ));
    }
    let counted: BTreeMap<String, i64> = kept
        .inventory
        .iter()
        .map(|(_, _, _, custody, n)| (custody.clone(), *n))
        .fold(BTreeMap::new(), |mut m, (k, n)| {
            *m.entry(k).or_default() += n;
            m
        });
    let expected: BTreeMap<String, i64> = expected_counts
        .into_iter()
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
    if counted != expected {
        report.fail(format!(
            "inventory counters by custody {counted:?}, the reference replay counts {expected:?}"
        ));
    }

    // 7. No allow on facts a fault hid: an allow for a cylinder whose scrapping was
    //    acknowledged before the question was sent is a failure.
    let mut scrapped_at: HashMap<usize, Instant> = HashMap::new();
    for a in &acked {
        if let Kind::Scan {
            cylinder,
            op: Op::Scrap,
        } = a.kind
        {
            scrapped_at.insert(cylinder, a.acked);
        }
    }
    for answer in record.answers.lock().expect("record").iter() {
        if answer.allowed {
            report.allows += 1;
            if scrapped_at
                .get(&answer.cylinder)
                .is_some_and(|t| answer.sent > *t)
            {
                report.fail(format!(
                    "authorize ALLOWED {} asked {:?} after its scrapping was acknowledged",
                    cylinder_code(answer.cylinder),
                    answer.sent.duration_since(scrapped_at[&answer.cylinder])
                ));
            }
        } else {
            for r in &answer.rules {
                *report.refusals_by_rule.entry(r.clone()).or_default() += 1;
            }
        }
    }

    // 8. Alerts: each unknown tag scanned raises one `illegal_tag` alert counting each of its
    //    acknowledged scans once (by their sighting keys).
    let mut by_tag: BTreeMap<usize, Vec<Uuid>> = BTreeMap::new();
    for a in &acked {
        if let Kind::Illegal { tag } = a.kind {
            by_tag.entry(tag).or_default().push(a.id);
        }
    }
    for (tag, events) in &by_tag {
        let tag = illegal_tag(*tag);
        let alerts: Vec<i64> = sqlx::query_scalar(
            "SELECT count FROM alerts WHERE kind = 'illegal_tag' AND subject_id = $1",
        )
        .bind(&tag)
        .fetch_all(pool)
        .await
        .expect("alerts");
        let keys: Vec<String> = events
            .iter()
            .map(|id| format!("event:{id}:illegal_tag:{tag}"))
            .collect();
        let sightings: i64 =
            sqlx::query_scalar("SELECT count(*) FROM alert_sightings WHERE sighting = ANY($1)")
                .bind(&keys)
                .fetch_one(pool)
                .await
                .expect("sightings");
        let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
        if alerts.len() != 1 || alerts[0] != n || sightings != n {
            report.fail(format!(
                "illegal tag {tag}: alerts with counts {alerts:?}, {sightings} sightings; {n} acknowledged scans"
            ));
        }
    }
    report
}
