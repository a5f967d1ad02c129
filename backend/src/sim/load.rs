//! `cylwatch load-authorize`: a load generator for `POST /api/v1/fillings/authorize`.
//!
//! Open loop (`--rate N`, N > 0): request i is due at `start + i/N` whatever earlier requests
//! are doing, each in its own task, and its latency is measured from the time it was due, so
//! queueing (in the server, the connection pool or this generator) is part of the figure
//! rather than hidden by a slower sender. Closed loop (`--rate 0`): `--concurrency` workers,
//! each sending its next request when the previous one answers, as fast as the server allows.
//!
//! The cylinder codes are used round-robin. Every attempt counts in the percentiles, failures
//! and timeouts included (a timeout counts as the time it took to give up). `ok` counts `200`
//! answers; `achieved_rps` counts only decisions per second: a `200` refusal with rule `E01`
//! (the server could not decide within its deadline) is counted apart (`unsure_e01`). One line
//! of JSON is printed on stdout.

use anyhow::Context;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// `cylwatch load-authorize` options.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// The key of a controller device of the station's enterprise.
    #[arg(long, env = "CYLWATCH_LOAD_DEVICE_KEY", hide_env_values = true)]
    pub device_key: String,
    /// Requests started per second (open loop); 0: closed loop with `--concurrency` workers.
    #[arg(long)]
    pub rate: u32,
    /// Workers of the closed loop (`--rate 0`).
    #[arg(long, default_value_t = 16)]
    pub concurrency: u32,
    /// Seconds measured (after the warm-up).
    #[arg(long, default_value_t = 20.0)]
    pub duration_s: f64,
    /// Seconds of the same load before the measurement (connections are opened then); their
    /// answers are not counted.
    #[arg(long, default_value_t = 2.0)]
    pub warmup_s: f64,
    /// Cylinder codes to ask about, round-robin (comma separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub cylinders: Vec<String>,
    /// The station the gun belongs to.
    #[arg(long, default_value = "ST1")]
    pub station: String,
    /// A request not answered within this many seconds counts as a timeout.
    #[arg(long, default_value_t = 5.0)]
    pub timeout_s: f64,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 200 and `allowed: true`.
    Allowed,
    /// 200, refused by a rule of the registry or history.
    Refused,
    /// 200, refused with `E01` (the server could not decide within its deadline).
    Unsure,
    /// Any other status, an unreadable answer or a transport error.
    Error,
    /// No answer within `--timeout-s`.
    Timeout,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    /// When it was due (open loop) or sent (closed loop), from the start of the measurement.
    at: Duration,
    latency: Duration,
    /// How late it was sent (open loop: after it was due; closed loop: zero).
    lag: Duration,
    outcome: Outcome,
}

struct Target {
    client: reqwest::Client,
    url: String,
    key: String,
    station: String,
    cylinders: Vec<String>,
    next: AtomicUsize,
}

impl Target {
    fn body(&self) -> Value {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let code = self
            .cylinders
            .get(i % self.cylinders.len().max(1))
            .map_or("", String::as_str);
        json!({"cylinder_code": code, "station_code": self.station, "gun_no": "G1",
               "medium": "LPG", "staff_no": "S1"})
    }

    /// Sends one request and classifies its answer; the caller times it.
    async fn ask(&self) -> Outcome {
        let sent = self
            .client
            .post(&self.url)
            .header("x-device-key", &self.key)
            .json(&self.body())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Outcome::Timeout,
            Err(_) => return Outcome::Error,
        };
        if response.status() != reqwest::StatusCode::OK {
            return Outcome::Error;
        }
        match response.json::<Value>().await {
            Ok(answer) => classify(&answer),
            Err(e) if e.is_timeout() => Outcome::Timeout,
            Err(_) => Outcome::Error,
        }
    }
}

fn classify(answer: &Value) -> Outcome {
    match answer["allowed"].as_bool() {
        Some(true) => Outcome::Allowed,
        Some(false) => {
            let unsure = answer["reasons"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["rule"] == "E01"));
            if unsure {
                Outcome::Unsure
            } else {
                Outcome::Refused
            }
        }
        None => Outcome::Error,
    }
}

fn seconds(value: f64, name: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value).with_context(|| format!("{name} must be a number ≥ 0"))
}

/// Runs the load and prints its summary as one line of JSON.
pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        !args.cylinders.is_empty(),
        "give at least one cylinder code"
    );
    anyhow::ensure!(args.rate <= 100_000, "--rate is at most 100000");
    anyhow::ensure!(
        args.rate > 0 || args.concurrency > 0,
        "--rate 0 needs --concurrency above 0"
    );
    let duration = seconds(args.duration_s, "--duration-s")?;
    let warmup = seconds(args.warmup_s, "--warmup-s")?;
    let timeout = seconds(args.timeout_s, "--timeout-s")?;
    anyhow::ensure!(!duration.is_zero(), "--duration-s must be above 0");
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(4096)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")?;
    let target = Arc::new(Target {
        client,
        url: format!(
            "{}/api/v1/fillings/authorize",
            args.api.trim_end_matches('/')
        ),
        key: args.device_key.clone(),
        station: args.station.clone(),
        cylinders: args.cylinders.clone(),
        next: AtomicUsize::new(0),
    });
    let (samples, elapsed) = if args.rate > 0 {
        open_loop(&target, args.rate, warmup, duration).await?
    } else {
        closed_loop(&target, args.concurrency, warmup, duration).await?
    };
    let summary = summarize(&args, &samples, elapsed);
    println!("{summary}");
    Ok(())
}

/// Request i is due at `start + i/rate`; its latency runs from then. A thread of its own paces
/// the requests with the system's sleep (tens of microseconds late) rather than the runtime's
/// timer, whose 1 ms ticks would send each request up to a millisecond after it was due and
/// count that against the server; how late each was sent is reported (`schedule_lag_*`).
async fn open_loop(
    target: &Arc<Target>,
    rate: u32,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<(Vec<Sample>, Duration)> {
    let period_ns = 1_000_000_000 / u64::from(rate);
    let start = std::time::Instant::now() + Duration::from_millis(50);
    let measured_from = start + warmup;
    let end = measured_from + duration;
    let runtime = tokio::runtime::Handle::current();
    let (started, mut tasks) = tokio::sync::mpsc::unbounded_channel();
    let pacer = {
        let target = Arc::clone(target);
        std::thread::spawn(move || {
            for i in 0u64.. {
                let due = start + Duration::from_nanos(i.saturating_mul(period_ns));
                if due >= end {
                    break;
                }
                let now = std::time::Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let target = Arc::clone(&target);
                let task = runtime.spawn(async move {
                    let lag = std::time::Instant::now().saturating_duration_since(due);
                    let outcome = target.ask().await;
                    let latency = std::time::Instant::now().saturating_duration_since(due);
                    (due >= measured_from).then(|| Sample {
                        at: due - measured_from,
                        latency,
                        lag,
                        outcome,
                    })
                });
                if started.send(task).is_err() {
                    break;
                }
            }
        })
    };
    let mut samples = Vec::new();
    while let Some(task) = tasks.recv().await {
        samples.extend(task.await.context("a request task failed")?);
    }
    pacer
        .join()
        .map_err(|_| anyhow::anyhow!("the pacing thread panicked"))?;
    // The measured window, or longer when the last answers came late.
    let elapsed = std::time::Instant::now()
        .saturating_duration_since(measured_from)
        .max(duration);
    Ok((samples, elapsed))
}

/// `concurrency` workers, each one request at a time, until the window ends.
async fn closed_loop(
    target: &Arc<Target>,
    concurrency: u32,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<(Vec<Sample>, Duration)> {
    let start = Instant::now();
    let measured_from = start + warmup;
    let end = measured_from + duration;
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let target = Arc::clone(target);
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let outcome = target.ask().await;
                if sent >= measured_from {
                    mine.push(Sample {
                        at: sent - measured_from,
                        latency: sent.elapsed(),
                        lag: Duration::ZERO,
                        outcome,
                    });
                }
            }
            mine
        });
    }
    let mut samples = Vec::new();
    while let Some(done) = workers.join_next().await {
        samples.extend(done.context("a worker failed")?);
    }
    let elapsed = Instant::now()
        .saturating_duration_since(measured_from)
        .max(duration);
    Ok((samples, elapsed))
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The value at `per_mille`/1000 of the sorted latencies (nearest rank).
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted
        .get(rank.min(sorted.len()) - 1)
        .copied()
        .unwrap_or_default()
}

fn mean(values: impl Iterator<Item = Duration>) -> Duration {
    let (sum, n) = values.fold((Duration::ZERO, 0u32), |(sum, n), v| (sum + v, n + 1));
    sum.checked_div(n).unwrap_or_default()
}

fn count(samples: &[Sample], wanted: &[Outcome]) -> u64 {
    let n = samples
        .iter()
        .filter(|s| wanted.contains(&s.outcome))
        .count();
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn summarize(args: &LoadArgs, samples: &[Sample], elapsed: Duration) -> Value {
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort_unstable();
    let ok = count(
        samples,
        &[Outcome::Allowed, Outcome::Refused, Outcome::Unsure],
    );
    // Throughput counts decisions: an E01 refusal is the server giving up, not an answer.
    let decided = count(samples, &[Outcome::Allowed, Outcome::Refused]);
    let secs = elapsed.as_secs_f64();
    let achieved = if secs > 0.0 {
        f64::from(u32::try_from(decided).unwrap_or(u32::MAX)) / secs
    } else {
        0.0
    };
    json!({
        "mode": if args.rate > 0 { "open" } else { "closed" },
        "rate": args.rate,
        "concurrency": if args.rate > 0 { Value::Null } else { json!(args.concurrency) },
        "duration_s": (secs * 1000.0).round() / 1000.0,
        "sent": latencies.len(),
        "ok": ok,
        "decided": decided,
        "allowed": count(samples, &[Outcome::Allowed]),
        "refused": count(samples, &[Outcome::Refused]),
        "unsure_e01": count(samples, &[Outcome::Unsure]),
        "errors": count(samples, &[Outcome::Error, Outcome::Timeout]),
        "timeouts": count(samples, &[Outcome::Timeout]),
        "achieved_rps": (achieved * 10.0).round() / 10.0,
        "p50_ms": millis(percentile(&latencies, 500)),
        "p90_ms": millis(percentile(&latencies, 900)),
        "p99_ms": millis(percentile(&latencies, 990)),
        "max_ms": millis(latencies.last().copied().unwrap_or_default()),
        "schedule_lag_mean_ms": millis(mean(samples.iter().map(|s| s.lag))),
        "schedule_lag_max_ms": millis(samples.iter().map(|s| s.lag).max().unwrap_or_default()),
        "worst_seconds": worst_seconds(samples),
    })
}

/// The three seconds of the measurement with the slowest answers (where a stall was): the
/// second, its slowest answer and how many took over 5 ms.
fn worst_seconds(samples: &[Sample]) -> Value {
    let mut seconds: std::collections::BTreeMap<u64, (Duration, u64)> = Default::default();
    for s in samples {
        let second = seconds.entry(s.at.as_secs()).or_default();
        second.0 = second.0.max(s.latency);
        second.1 += u64::from(s.latency > Duration::from_millis(5));
    }
    let mut worst: Vec<_> = seconds.into_iter().collect();
    worst.sort_by_key(|b| std::cmp::Reverse(b.1 .0));
    worst
        .iter()
        .take(3)
        .map(|(second, (max, over))| json!({"s": second, "max_ms": millis(*max), "over_5ms": over}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 500), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 990), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 1000), Duration::from_millis(100));
        assert_eq!(percentile(&[], 500), Duration::ZERO);
        assert_eq!(
            percentile(&[Duration::from_millis(7)], 990),
            Duration::from_millis(7)
        );
    }

    #[test]
    fn the_mean_of_nothing_is_zero() {
        let ms = Duration::from_millis;
        assert_eq!(mean([ms(1), ms(2), ms(6)].into_iter()), ms(3));
        assert_eq!(mean(std::iter::empty()), Duration::ZERO);
    }

    #[test]
    fn answers_are_told_apart() {
        assert_eq!(
            classify(&json!({"allowed": true, "reasons": []})),
            Outcome::Allowed
        );
        assert_eq!(
            classify(&json!({"allowed": false, "reasons": [{"rule": "R10"}]})),
            Outcome::Refused
        );
        assert_eq!(
            classify(&json!({"allowed": false, "reasons": [{"rule": "E01"}]})),
            Outcome::Unsure
        );
        assert_eq!(classify(&json!({"error": {}})), Outcome::Error);
    }
}
