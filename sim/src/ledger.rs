//! The simulator's ground truth: every anomaly it injected (the alert it must cause, on which
//! subject), the alerts its world may cause without an injection (a route that grazed a
//! restricted zone, a device that fell idle), and the inventory it knows to be true.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One alert the platform must (or may) raise: kind, subject type and id, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cause {
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub why: String,
}

/// The inventory columns of one medium (the platform's `/stats/inventory` row).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Inventory {
    pub shipped: i64,
    pub in_transit: i64,
    pub delivered: i64,
    pub returning: i64,
    pub total: i64,
    pub lost: i64,
}

/// Wall-clock stretches (Unix seconds) during which a device sent nothing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Quiet {
    pub first_sent: Option<f64>,
    pub last_sent: Option<f64>,
    /// Gaps between two sends longer than the ledger's `gap_s`.
    pub gaps: Vec<(f64, f64)>,
}

#[derive(Debug, Default, Serialize)]
pub struct Ledger {
    /// Anomalies that happened: each must have raised its alert.
    pub injected: BTreeSet<Cause>,
    /// Alerts that may appear without being required (anomalies cut short by the end of the
    /// run, zones grazed by a regular route).
    pub allowed: BTreeSet<Cause>,
    /// How many times each kind happened (an injection of a kind whose subject repeats, a
    /// station or a device, counts each time; `injected` keeps the subject once).
    pub injections: BTreeMap<String, u64>,
    /// Cylinders registered during the run to replenish a kind's reserve, per kind.
    pub replenished: BTreeMap<String, u64>,
    /// Incidents opened (issue 22, `--incident-after-s`): their ids.
    pub incidents: Vec<String>,
    /// Anomalies the scheduler could not inject (no candidate at that moment), per kind.
    pub skipped: BTreeMap<String, u64>,
    /// The inventory per medium at the end, as the simulator knows it.
    pub inventory: BTreeMap<String, Inventory>,
    /// Full cylinders in stock per station (by code) at the end, as the simulator knows it.
    pub station_full: BTreeMap<String, i64>,
    /// Full cylinders brought to distribution points and warehouses (`restocked`) and taken
    /// from their stock for customers (`taken`).
    pub depot_moves: BTreeMap<String, u64>,
    /// Devices by id: when they sent.
    pub devices: BTreeMap<String, Quiet>,
    /// Each cylinder's custody at the end, when not in stock empty (small cities only).
    pub custody: BTreeMap<String, &'static str>,
    /// Cylinders handed over at a customer, by the truck that brought them (the last time).
    pub handovers: BTreeMap<String, String>,
    /// Refusals the simulator did not provoke (a bug in it or in the platform).
    pub unexpected_refusals: Vec<serde_json::Value>,
}

/// Gaps shorter than this are not kept (seconds).
const GAP_S: f64 = 10.0;

impl Ledger {
    pub fn inject(&mut self, kind: &str, subject_type: &str, subject_id: &str, why: &str) {
        let cause = cause(kind, subject_type, subject_id, why);
        *self.injections.entry(kind.to_owned()).or_default() += 1;
        self.allowed.remove(&cause);
        self.injected.insert(cause);
    }

    pub fn allow(&mut self, kind: &str, subject_type: &str, subject_id: &str, why: &str) {
        let cause = cause(kind, subject_type, subject_id, why);
        if !self.injected.contains(&cause) {
            self.allowed.insert(cause);
        }
    }

    pub fn skip(&mut self, kind: &str) {
        *self.skipped.entry(kind.to_owned()).or_default() += 1;
    }

    /// A device sent at `unix_s`.
    pub fn sent(&mut self, device_id: &str, unix_s: f64) {
        let q = self.devices.entry(device_id.to_owned()).or_default();
        if let Some(last) = q.last_sent {
            if unix_s - last > GAP_S {
                q.gaps.push((last, unix_s));
            }
        }
        q.first_sent.get_or_insert(unix_s);
        q.last_sent = Some(unix_s);
    }
}

fn cause(kind: &str, subject_type: &str, subject_id: &str, why: &str) -> Cause {
    Cause {
        kind: kind.to_owned(),
        subject_type: subject_type.to_owned(),
        subject_id: subject_id.to_owned(),
        why: why.to_owned(),
    }
}
