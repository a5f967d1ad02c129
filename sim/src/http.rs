//! How the simulator speaks to the platform: as the administrator (registry) and as devices
//! (events, filling decisions and records), counting what it sent per kind and per second and
//! what the platform acknowledged.

use anyhow::Context;
use cylwatch_client::{Client, Error};
use serde::Serialize;
use serde_json::{json, Value};
use shared::auth::NewDevice;
use shared::events::{Event, IngestResponse};
use shared::filling::{AuthorizeRequest, AuthorizeResponse, FillingResponse, NewFilling};
use shared::registry::{CylinderBatch, ImportReport};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The platform, as the administrator sees it.
pub struct Api {
    pub client: Client,
    pub report: Mutex<Report>,
    started: Instant,
}

/// What was sent and acknowledged.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Events and calls sent, per kind (`gps`, `ble`, `scan:deliver`, `check`, `authorize`,
    /// `filling`...), counting resends.
    pub sent: BTreeMap<String, u64>,
    /// Events sent in each second since the start (wall clock), all kinds together.
    pub per_second: Vec<u64>,
    /// Events the platform acknowledged (accepted or known already), per kind.
    pub acknowledged: BTreeMap<String, u64>,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// The first few rejections, for the log.
    pub rejections: Vec<Value>,
    pub failed_requests: u64,
    pub resent_batches: u64,
    /// Guns asked although the pre-fill check was not yet in the platform's history after a
    /// minute (the platform lagging behind its intake).
    pub asked_before_check_applied: u64,
    pub fillings_allowed: u64,
    pub fillings_refused: u64,
    pub filling_records: u64,
    pub flagged_records: BTreeMap<String, u64>,
}

impl Api {
    /// Signs in as the administrator.
    pub async fn login(base: &str, user: &str, password: &str) -> anyhow::Result<Self> {
        let client = Client::new(base)
            .context("building the HTTP client")?
            .sign_in(user, password)
            .await
            .context("signing in as the administrator")?;
        Ok(Self {
            client,
            report: Mutex::new(Report::default()),
            started: Instant::now(),
        })
    }

    /// Registers a record as the administrator; an existing record (409) is fine.
    pub async fn create<B: Serialize + ?Sized>(
        &self,
        path: &str,
        record: &B,
    ) -> anyhow::Result<()> {
        match self.client.create(path, record).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_conflict() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Registers many records at `path`, `concurrency` at a time; the first failure fails.
    pub async fn create_all<B: Serialize>(
        &self,
        path: &str,
        records: &[B],
        concurrency: usize,
    ) -> anyhow::Result<()> {
        use futures_util::StreamExt;
        let mut results = futures_util::stream::iter(records.iter().map(|r| self.create(path, r)))
            .buffer_unordered(concurrency.max(1));
        while let Some(result) = results.next().await {
            result?;
        }
        Ok(())
    }

    /// Registers cylinder archives, `concurrency` batches at a time; each batch's report.
    pub async fn create_cylinders(
        &self,
        batches: &[CylinderBatch],
        concurrency: usize,
    ) -> anyhow::Result<Vec<ImportReport>> {
        use futures_util::StreamExt;
        let results: Vec<Result<ImportReport, Error>> =
            futures_util::stream::iter(batches.iter().map(|b| self.client.create_cylinders(b)))
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
        Ok(results.into_iter().collect::<Result<_, _>>()?)
    }

    /// Whether the cylinder's history (as the platform has applied it) holds a check dated
    /// `at` or later.
    pub async fn shows_check(&self, code: &str, at: chrono::DateTime<chrono::Utc>) -> bool {
        let Ok(page) = self.client.history(code, 1000).await else {
            return false;
        };
        page.items
            .iter()
            .any(|e| e.kind == "check" && e.occurred_at >= at - chrono::Duration::milliseconds(1))
    }

    /// Whether the enterprise is registered.
    pub async fn has_enterprise(&self, code: &str) -> anyhow::Result<bool> {
        match self
            .client
            .get::<Value>(&format!("/api/v1/enterprises/{code}"))
            .await
        {
            Ok(_) => Ok(true),
            Err(Error::Status { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Registers a device; its key.
    pub async fn device(&self, device: &NewDevice) -> anyhow::Result<String> {
        Ok(self.client.create_device(device).await?.key)
    }

    fn count(&self, kind: &str, n: u64) {
        if let Ok(mut r) = self.report.lock() {
            *r.sent.entry(kind.to_owned()).or_default() += n;
            let second = usize::try_from(self.started.elapsed().as_secs()).unwrap_or(usize::MAX);
            if second < 86_400 * 7 {
                if r.per_second.len() <= second {
                    r.per_second.resize(second + 1, 0);
                }
                r.per_second[second] += n;
            }
        }
    }

    /// POSTs events as the device with `key`; counted per kind. Errors are retried by the
    /// caller with the same events (the same ids).
    pub async fn events(&self, key: &str, events: &[Event]) -> anyhow::Result<IngestResponse> {
        self.count_events(events);
        let answer = match self.client.post_events(key, events).await {
            Ok(a) => Some(a),
            Err(e @ Error::Status { .. }) => {
                tracing::warn!(error = %e, "events refused");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "events not sent");
                None
            }
        };
        self.tally(events, answer)
    }

    /// Publishes events over the device's MQTT connection (`--transport mqtt`); counted and
    /// tallied as [`Self::events`] does.
    pub async fn events_over_mqtt(
        &self,
        link: &tokio::sync::Mutex<crate::mqtt::Link>,
        events: &[Event],
    ) -> anyhow::Result<IngestResponse> {
        self.count_events(events);
        let answer = match link.lock().await.send(events).await {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "events not published");
                None
            }
        };
        self.tally(events, answer)
    }

    fn kinds(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Scan(scan) => format!("scan:{}", scan.op.name()),
                other => other.kind().to_owned(),
            })
            .collect()
    }

    fn count_events(&self, events: &[Event]) {
        for kind in &Self::kinds(events) {
            self.count(kind, 1);
        }
    }

    /// Notes the platform's answer to a batch (`None`: none came).
    fn tally(
        &self,
        events: &[Event],
        answer: Option<IngestResponse>,
    ) -> anyhow::Result<IngestResponse> {
        let kinds = Self::kinds(events);
        let mut r = self
            .report
            .lock()
            .map_err(|_| anyhow::anyhow!("report poisoned"))?;
        match answer {
            Some(a) => {
                r.accepted += u64::try_from(a.accepted).unwrap_or(0);
                r.duplicates += u64::try_from(a.duplicates).unwrap_or(0);
                r.rejected += u64::try_from(a.rejected.len()).unwrap_or(0);
                let refused: std::collections::HashSet<usize> =
                    a.rejected.iter().map(|x| x.index).collect();
                for (i, kind) in kinds.iter().enumerate() {
                    if !refused.contains(&i) {
                        *r.acknowledged.entry(kind.clone()).or_default() += 1;
                    }
                }
                for rej in &a.rejected {
                    if r.rejections.len() < 20 {
                        let event = events.get(rej.index).map(Event::to_wire);
                        r.rejections
                            .push(json!({"event": event, "error": rej.error}));
                    }
                }
                Ok(a)
            }
            None => {
                r.failed_requests += 1;
                anyhow::bail!("the events were not acknowledged")
            }
        }
    }

    /// Asks the gun's question as the controller with `key`: the status and the answer (a
    /// refusal's error body, or `null` when there was no answer).
    pub async fn authorize(
        &self,
        key: &str,
        question: &AuthorizeRequest,
    ) -> (u16, Option<AuthorizeResponse>, Value) {
        self.count("fillings/authorize", 1);
        let result = self.client.authorize(key, question).await;
        self.outcome(result, 200)
    }

    /// Files a filling record as the controller with `key`: the status and the answer.
    pub async fn filling(
        &self,
        key: &str,
        record: &NewFilling,
    ) -> (u16, Option<FillingResponse>, Value) {
        self.count("fillings", 1);
        let result = self.client.post_filling(key, record).await;
        self.outcome(result, 201)
    }

    /// A device call's status, typed answer and the answer as JSON (for the log and the
    /// ledger); a call that got no answer counts as failed.
    fn outcome<T: Serialize>(&self, result: Result<T, Error>, ok: u16) -> (u16, Option<T>, Value) {
        match result {
            Ok(answer) => {
                let json = serde_json::to_value(&answer).unwrap_or(Value::Null);
                (ok, Some(answer), json)
            }
            Err(Error::Status { status, text, .. }) => (
                status,
                None,
                serde_json::from_str(&text).unwrap_or(Value::Null),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "request failed");
                if let Ok(mut r) = self.report.lock() {
                    r.failed_requests += 1;
                }
                (0, None, Value::Null)
            }
        }
    }

    /// Events the platform holds but has not applied yet (outbox, stream lag and pending),
    /// from `GET /api/v1/health`; `None` when it does not say.
    pub async fn backlog(&self) -> Option<u64> {
        let stream = self.client.health().await.ok()?.stream;
        let outbox = stream
            .outbox
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        Some(outbox + stream.lag.unwrap_or(0) + stream.pending.unwrap_or(0))
    }

    /// Waits (up to `limit`) until the platform has applied everything it acknowledged.
    pub async fn caught_up(&self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.backlog().await == Some(0) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }

    /// Notes a filling decision or record.
    /// Counts `n` events of `kind` sent by another path than `events` (a JT/T 808 terminal).
    pub fn count_sent(&self, kind: &str, n: usize) {
        self.count(kind, u64::try_from(n).unwrap_or(0));
    }

    pub fn note(&self, f: impl FnOnce(&mut Report)) {
        if let Ok(mut r) = self.report.lock() {
            f(&mut r);
        }
    }

    /// Seconds since the simulator signed in.
    pub fn elapsed_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}
