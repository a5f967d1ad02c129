//! How the simulator speaks to the platform: as the administrator (registry) and as devices
//! (events, filling decisions and records), counting what it sent per kind and per second and
//! what the platform acknowledged.

use anyhow::Context;
use serde::Serialize;
use serde_json::{json, Value};
use shared::events::IngestResponse;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The platform, as the administrator sees it.
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    token: String,
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
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            // Below the server's keep-alive (5 s), so that no request goes out on a connection
            // the server is closing.
            .pool_idle_timeout(Duration::from_secs(3))
            .build()
            .context("building the HTTP client")?;
        let base = base.trim_end_matches('/').to_owned();
        let login: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .context("signing in")?
            .error_for_status()
            .context("signing in as the administrator")?
            .json()
            .await
            .context("reading the login answer")?;
        let token = login["token"]
            .as_str()
            .context("no token in the login answer")?
            .to_owned();
        Ok(Self {
            client,
            base,
            token,
            report: Mutex::new(Report::default()),
            started: Instant::now(),
        })
    }

    /// POSTs a registry record as the administrator; an existing record (409) is fine.
    pub async fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(
            status.is_success() || status.as_u16() == 409,
            "POST {path}: {status} {answer}"
        );
        Ok(answer)
    }

    /// POSTs many records to `path`, `concurrency` at a time; the first failure fails.
    pub async fn admin_post_all(
        &self,
        path: &str,
        bodies: &[Value],
        concurrency: usize,
    ) -> anyhow::Result<()> {
        use futures_util::StreamExt;
        let mut results =
            futures_util::stream::iter(bodies.iter().map(|b| self.admin_post(path, b)))
                .buffer_unordered(concurrency.max(1));
        while let Some(result) = results.next().await {
            result?;
        }
        Ok(())
    }

    /// Whether the cylinder's history (as the platform has applied it) holds a check dated
    /// `at` or later.
    pub async fn shows_check(&self, code: &str, at: chrono::DateTime<chrono::Utc>) -> bool {
        let url = format!("{}/api/v1/cylinders/{code}/history?limit=1000", self.base);
        let Ok(response) = self.client.get(url).bearer_auth(&self.token).send().await else {
            return false;
        };
        let Ok(page) = response.json::<Value>().await else {
            return false;
        };
        page["items"].as_array().into_iter().flatten().any(|e| {
            e["kind"] == "check"
                && e["occurred_at"]
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .is_some_and(|d| d >= at - chrono::Duration::milliseconds(1))
        })
    }

    /// GETs `path` as the administrator; the status.
    pub async fn get(&self, path: &str) -> anyhow::Result<u16> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        Ok(response.status().as_u16())
    }

    /// Registers a device; its key.
    pub async fn device(&self, body: Value) -> anyhow::Result<String> {
        let answer = self.admin_post("/api/v1/devices", &body).await?;
        Ok(answer["key"]
            .as_str()
            .context("no key in the device answer")?
            .to_owned())
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
    /// caller with the same body (the same ids).
    pub async fn events(&self, key: &str, events: &[Value]) -> anyhow::Result<IngestResponse> {
        let kinds: Vec<String> = events
            .iter()
            .map(|e| match (e["kind"].as_str(), e["op"].as_str()) {
                (Some("scan"), Some(op)) => format!("scan:{op}"),
                (Some(k), _) => k.to_owned(),
                _ => "?".into(),
            })
            .collect();
        for kind in &kinds {
            self.count(kind, 1);
        }
        let response = self
            .client
            .post(format!("{}/api/v1/events", self.base))
            .header("x-device-key", key)
            .json(&json!({ "events": events }))
            .send()
            .await;
        let answer = match response {
            Ok(r) if r.status().as_u16() == 202 => r.json::<IngestResponse>().await.ok(),
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                tracing::warn!(%status, text, "events refused");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "events not sent");
                None
            }
        };
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
                        let index = rej.index;
                        r.rejections
                            .push(json!({"event": events.get(index), "error": rej.error}));
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

    /// POSTs a JSON body as a device (filling decisions and records): status and answer.
    pub async fn as_device(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.count(path.trim_start_matches("/api/v1/"), 1);
        match self
            .client
            .post(format!("{}{path}", self.base))
            .header("x-device-key", key)
            .json(body)
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(e) => {
                tracing::warn!(error = %e, path, "request failed");
                if let Ok(mut r) = self.report.lock() {
                    r.failed_requests += 1;
                }
                (0, Value::Null)
            }
        }
    }

    /// Events the platform holds but has not applied yet (outbox, stream lag and pending),
    /// from `GET /api/v1/health`; `None` when it does not say.
    pub async fn backlog(&self) -> Option<u64> {
        let health: Value = self
            .client
            .get(format!("{}/api/v1/health", self.base))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let s = &health["stream"];
        Some(
            ["outbox", "lag", "pending"]
                .iter()
                .map(|k| s[k].as_u64().unwrap_or(0))
                .sum(),
        )
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
