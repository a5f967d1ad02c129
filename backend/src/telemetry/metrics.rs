//! The process's metrics, typed and named in one place, rendered in the Prometheus (OpenMetrics)
//! text format by the `/metrics` listener (`metrics_addr`, apart from the public port).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The route's pattern (`/api/v1/cylinders/{code}`), never the raw path.
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    result: String,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabels {
    worker: String,
}

type Timings<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    // 0.1 ms to ~3.3 s.
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

fn lag() -> Histogram {
    // 1 ms to ~9 h: a backlog after an outage is measured too.
    Histogram::new(exponential_buckets(0.001, 3.0, 16))
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    requests: Timings<RequestLabels>,
    decisions: Family<DecisionLabels, Counter>,
    stage_seconds: Timings<StageLabels>,
    stage_failures: Family<StageLabels, Counter>,
    pipeline_lag: Histogram,
    pipeline_entries: Family<OutcomeLabels, Counter>,
    outbox: Gauge,
    dead_letters: Gauge,
    ws_sessions: Gauge,
    relayed: Counter,
    relay_connected: Gauge,
    partitions_held: Gauge,
    worker_restarts: Family<WorkerLabels, Counter>,
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("cylwatch");
        let requests: Timings<RequestLabels> = Family::new_with_constructor(latency);
        let decisions = Family::<DecisionLabels, Counter>::default();
        let stage_seconds: Timings<StageLabels> = Family::new_with_constructor(latency);
        let stage_failures = Family::<StageLabels, Counter>::default();
        let pipeline_lag = lag();
        let pipeline_entries = Family::<OutcomeLabels, Counter>::default();
        let (outbox, dead_letters, ws_sessions) =
            (Gauge::default(), Gauge::default(), Gauge::default());
        let relayed = Counter::default();
        let (relay_connected, partitions_held) = (Gauge::default(), Gauge::default());
        let worker_restarts = Family::<WorkerLabels, Counter>::default();
        registry.register(
            "http_request_duration_seconds",
            "HTTP requests by route pattern, method and status: time to the response",
            requests.clone(),
        );
        registry.register(
            "authorize_decisions",
            "Filling decisions answered, by result and rule",
            decisions.clone(),
        );
        registry.register(
            "pipeline_stage_duration_seconds",
            "Time of each pipeline stage over one batch",
            stage_seconds.clone(),
        );
        registry.register(
            "pipeline_stage_failures",
            "Batches a pipeline stage failed on",
            stage_failures.clone(),
        );
        registry.register(
            "pipeline_lag_seconds",
            "From an event's receipt (202) to its being applied by the pipeline",
            pipeline_lag.clone(),
        );
        registry.register(
            "pipeline_entries",
            "Stream entries done with: applied or dead_lettered",
            pipeline_entries.clone(),
        );
        registry.register(
            "outbox_events",
            "Events committed and not yet relayed to the stream (read at scrape time)",
            outbox.clone(),
        );
        registry.register(
            "dead_letters",
            "Stream entries in the dead-letter table (read at scrape time)",
            dead_letters.clone(),
        );
        registry.register(
            "websocket_sessions",
            "Live-feed sessions open on this instance",
            ws_sessions.clone(),
        );
        registry.register(
            "relay_events",
            "Events the relay moved from the outbox to the stream",
            relayed.clone(),
        );
        registry.register(
            "relay_connected",
            "1 while the relay is connected to Redis",
            relay_connected.clone(),
        );
        registry.register(
            "partitions_held",
            "Event stream partitions this instance holds a lease on",
            partitions_held.clone(),
        );
        registry.register(
            "worker_restarts",
            "Background workers restarted after they stopped or panicked",
            worker_restarts.clone(),
        );
        Self {
            registry,
            requests,
            decisions,
            stage_seconds,
            stage_failures,
            pipeline_lag,
            pipeline_entries,
            outbox,
            dead_letters,
            ws_sessions,
            relayed,
            relay_connected,
            partitions_held,
            worker_restarts,
        }
    }

    /// One HTTP request answered.
    pub fn request_done(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .observe(took.as_secs_f64());
    }

    /// One filling decision answered (`allowed`/`refused`, its rule or error code).
    pub fn decision(&self, result: &str, rule: &str) {
        self.decisions
            .get_or_create(&DecisionLabels {
                result: result.to_owned(),
                rule: rule.to_owned(),
            })
            .inc();
    }

    /// One pipeline stage over one batch.
    pub fn stage_done(&self, stage: &str, took: Duration, ok: bool) {
        let labels = StageLabels {
            stage: stage.to_owned(),
        };
        self.stage_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if !ok {
            self.stage_failures.get_or_create(&labels).inc();
        }
    }

    /// Entries applied, each received `lag` before.
    pub fn applied(&self, lags: impl IntoIterator<Item = Duration>) {
        let mut n = 0;
        for lag in lags {
            self.pipeline_lag.observe(lag.as_secs_f64());
            n += 1;
        }
        self.entries("applied", n);
    }

    /// Entries done with `outcome` (`applied`, `dead_lettered`).
    pub fn entries(&self, outcome: &str, n: u64) {
        self.pipeline_entries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc_by(n);
    }

    /// The outbox's and the dead-letter table's sizes, read just before a scrape.
    pub fn set_backlog(&self, outbox: i64, dead_letters: i64) {
        self.outbox.set(outbox);
        self.dead_letters.set(dead_letters);
    }

    /// A live-feed session opened (`+1`) or closed (`-1`).
    pub fn ws_session(&self, delta: i64) {
        self.ws_sessions.inc_by(delta);
    }

    /// Events relayed to the stream.
    pub fn relayed(&self, n: u64) {
        self.relayed.inc_by(n);
    }

    /// Whether the relay has a Redis connection.
    pub fn relay_connected(&self, connected: bool) {
        self.relay_connected.set(i64::from(connected));
    }

    /// How many partitions this instance holds.
    pub fn partitions_held(&self, n: usize) {
        self.partitions_held
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// A background worker restarted.
    pub fn worker_restarted(&self, worker: &str) {
        self.worker_restarts
            .get_or_create(&WorkerLabels {
                worker: worker.to_owned(),
            })
            .inc();
    }

    /// Every metric in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics not rendered");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_with_their_labels() {
        let m = Metrics::new();
        m.decision("refused", "R04");
        m.decision("refused", "R04");
        m.stage_done("fences", Duration::from_millis(3), false);
        m.request_done(
            "/api/v1/cylinders/{code}",
            "GET",
            200,
            Duration::from_millis(1),
        );
        let text = m.render();
        assert!(
            text.contains(r#"cylwatch_authorize_decisions_total{result="refused",rule="R04"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"cylwatch_pipeline_stage_failures_total{stage="fences"} 1"#));
        assert!(text.contains(r#"route="/api/v1/cylinders/{code}",method="GET",status="200""#));
        assert!(text.ends_with("# EOF\n"));
    }

    /// Every series the Grafana dashboard charts is one the server keeps.
    #[test]
    fn the_dashboard_charts_only_metrics_that_exist() {
        let m = Metrics::new();
        m.request_done("/x", "GET", 200, Duration::from_millis(1));
        m.decision("allowed", "none");
        m.stage_done("fences", Duration::from_millis(1), false);
        m.applied([Duration::from_millis(5)]);
        m.worker_restarted("relay");
        let text = m.render();
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grafana-dashboard.json");
        let dashboard = std::fs::read_to_string(path).unwrap();
        let mut charted = 0;
        for (at, _) in dashboard.match_indices("cylwatch_") {
            let name: String = dashboard[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let family = ["_bucket", "_count", "_sum", "_total"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(&name);
            assert!(
                families.contains(&family),
                "the dashboard charts {name}, which no metric is"
            );
            charted += 1;
        }
        assert!(charted >= 10);
    }
}
