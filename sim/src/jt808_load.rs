//! `cylwatch-sim load-jt808`: many JT/T 808 terminals against the server's gateway
//! (`bench/jt808.sh`, issue 23).
//!
//! 1. With `--register` (and an administrator's `--token`): `--terminals` vehicles are
//!    registered in one CSV import per 10,000 (`POST /api/v1/vehicles/import`), then one
//!    `jt808` device per vehicle (`POST /api/v1/devices`, `--register-concurrency` at once;
//!    terminal numbers `--terminal-prefix` + 6 digits, 12 in all: JT/T 808-2013).
//! 2. The server's resident memory (`VmRSS` of `/proc/<--server-pid>/status`) is read before
//!    any terminal connects, then half of the terminals connect, register (0x0100) and
//!    authenticate (0x0102), `--connect-concurrency` at a time; after `--settle-s` the memory
//!    is read again, the other half connect, and after `--settle-s` with all of them
//!    connected and idle it is read a third time. Memory per connected terminal: all minus
//!    before, divided by the terminals; and all minus half, divided by the second half (the
//!    steadier figure: the allocator may give back memory of the registrations meanwhile).
//! 3. Steady load: every terminal reports a location (0x0200) every `--interval-s`, the
//!    terminals' phases spread evenly over the interval (N / interval fixes per second). The
//!    latency of a report runs from the time it was due until its general answer (0x8001)
//!    with success — which the gateway gives only once the fix is committed; a report not
//!    answered success counts as failed. The first interval is a warm-up.
//! 4. Maximum: every terminal keeps `--window` reports outstanding, sending the next as each
//!    answer comes, for `--max-duration-s` (after 2 s of warm-up): committed fixes per second.
//!
//! Fix k of a terminal is stamped `--start-at` + k seconds (default two hours before the run;
//! the gateway's times are whole seconds and a fix stamped like another would be the same
//! event), each a step of a few metres. One line of JSON is printed on stdout.

use crate::jt808::Link;
use crate::measure::{millis, percentile, seconds};
use anyhow::Context;
use chrono::{DateTime, Utc};
use cylwatch_client::{reqwest, Auth, Client, Method};
use cylwatch_jt808::message::{status, Location, ResultCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// `cylwatch-sim load-jt808` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Jt808Args {
    /// Base URL of the server (for `--register`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// An administrator's bearer token (for `--register`).
    #[arg(long, env = "CYLWATCH_LOAD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// host:port of the server's JT/T 808 gateway (`jt808_addr`).
    #[arg(long)]
    pub jt808_addr: String,
    /// Terminals (each its own TCP connection).
    #[arg(long, default_value_t = 10_000)]
    pub terminals: usize,
    /// Register the vehicles and the terminals first, for this enterprise.
    #[arg(long)]
    pub register: bool,
    #[arg(long, default_value = "ENT1")]
    pub enterprise: String,
    /// Device registrations in flight at once.
    #[arg(long, default_value_t = 16)]
    pub register_concurrency: usize,
    /// The first six digits of the terminal numbers (the last six are the terminal's index).
    #[arg(long, default_value = "013900")]
    pub terminal_prefix: String,
    /// Terminals connecting (register + authenticate) at once.
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// The server's process id: its resident memory is read before and after the terminals
    /// connect.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Seconds to wait, all connected and idle, before reading the memory again.
    #[arg(long, default_value_t = 3.0)]
    pub settle_s: f64,
    /// Seconds between two reports of a terminal in the steady load.
    #[arg(long, default_value_t = 5.0)]
    pub interval_s: f64,
    /// Seconds of steady load measured (after one interval of warm-up); 0 skips it.
    #[arg(long, default_value_t = 30.0)]
    pub duration_s: f64,
    /// Seconds of maximum load measured (after 2 s of warm-up); 0 skips it.
    #[arg(long, default_value_t = 15.0)]
    pub max_duration_s: f64,
    /// Reports each terminal keeps outstanding in the maximum load.
    #[arg(long, default_value_t = 1)]
    pub window: usize,
    /// Event time of every terminal's first fix (RFC 3339); default two hours ago.
    #[arg(long)]
    pub start_at: Option<DateTime<Utc>>,
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
}

/// One terminal: its connection and where its vehicle is.
struct Terminal {
    link: Link,
    lon: f64,
    lat: f64,
    /// Fixes made so far (the next one's time is `start_at` + this many seconds).
    made: i64,
    rng: StdRng,
}

impl Terminal {
    /// The next fix: a few metres on, one second later.
    fn next_fix(&mut self, start_at: DateTime<Utc>) -> anyhow::Result<Location> {
        self.lon += self.rng.random_range(-0.00005..0.00005);
        self.lat += self.rng.random_range(-0.00005..0.00005);
        let time = start_at + chrono::Duration::seconds(self.made);
        self.made += 1;
        let e6 = |v: f64| {
            format!("{:.0}", v * 1e6)
                .parse::<u32>()
                .context("a coordinate out of range")
        };
        Ok(Location {
            alarm: 0,
            status: status::POSITIONED | status::ACC_ON,
            lat_e6: e6(self.lat)?,
            lon_e6: e6(self.lon)?,
            altitude_m: 100,
            speed_dkmh: 180,
            direction: 90,
            time,
            extras: Vec::new(),
        })
    }
}

/// One report: how long until its answer, how late it went out, whether it was success.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// When it was answered, from the start of the phase.
    at: Duration,
    latency: Duration,
    lag: Duration,
    ok: bool,
}

/// The resident memory of a process, in kB.
fn vm_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

fn terminal_no(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:06}")
}

fn plate(i: usize) -> String {
    format!("豫J{i:06}")
}

/// Registers the vehicles (CSV imports) and a `jt808` device for each.
async fn register(args: &Jt808Args) -> anyhow::Result<()> {
    let token = args.token.as_deref().context("--register needs --token")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .context("building the HTTP client")?;
    let client = Client::with_http(http, &args.api).with_token(token);
    let indexes: Vec<usize> = (0..args.terminals).collect();
    for chunk in indexes.chunks(10_000) {
        let mut csv = String::from("plate,enterprise_code\n");
        for i in chunk {
            csv.push_str(&format!("{},{}\n", plate(*i), args.enterprise));
        }
        let (status, answer) = client
            .send_bytes(
                "/api/v1/vehicles/import",
                csv.into_bytes(),
                "text/csv",
                Auth::Bearer(token),
            )
            .await
            .context("POST /api/v1/vehicles/import")?;
        anyhow::ensure!(
            status == 200,
            "vehicles import: {status} {:.400}",
            answer.to_string()
        );
    }
    let gate = Arc::new(Semaphore::new(args.register_concurrency.max(1)));
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    for i in 0..args.terminals {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let client = client.clone();
        let body = json!({
            "device_id": format!("jt-{i}"),
            "kind": "jt808",
            "terminal_no": terminal_no(&args.terminal_prefix, i),
            "enterprise_code": args.enterprise,
            "vehicle_plate": plate(i),
        });
        let token = token.to_owned();
        tasks.spawn(async move {
            let _permit = permit;
            let (status, answer) = client
                .send_json(
                    Method::POST,
                    "/api/v1/devices",
                    Some(&body),
                    Auth::Bearer(&token),
                )
                .await
                .context("POST /api/v1/devices")?;
            anyhow::ensure!(
                status == 201,
                "device jt-{i}: {status} {:.300}",
                answer.to_string()
            );
            Ok(())
        });
        while let Some(done) = tasks.try_join_next() {
            done.context("a registration failed")??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.context("a registration failed")??;
    }
    Ok(())
}

/// Connects, registers and authenticates the terminals of `range`.
async fn connect_all(
    args: &Jt808Args,
    range: std::ops::Range<usize>,
) -> anyhow::Result<Vec<Terminal>> {
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let mut tasks: JoinSet<anyhow::Result<(usize, Terminal)>> = JoinSet::new();
    let mut rng = StdRng::seed_from_u64(args.seed ^ u64::try_from(range.start).unwrap_or(0));
    let first = range.start;
    let n = range.len();
    for i in range {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let mut terminal = Terminal {
            link: Link::new(&args.jt808_addr, &terminal_no(&args.terminal_prefix, i)),
            lon: rng.random_range(113.55..113.75),
            lat: rng.random_range(34.70..34.80),
            made: 0,
            rng: StdRng::seed_from_u64(rng.random()),
        };
        tasks.spawn(async move {
            let _permit = permit;
            terminal
                .link
                .connect()
                .await
                .with_context(|| format!("terminal {i} connecting"))?;
            Ok((i, terminal))
        });
    }
    let mut out: Vec<Option<Terminal>> = (0..n).map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        let (i, t) = done.context("a terminal failed")??;
        if let Some(slot) = out.get_mut(i - first) {
            *slot = Some(t);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Waits for the answer to `serial`; whether it was success.
async fn answered(link: &mut Link, serial: u16) -> anyhow::Result<bool> {
    loop {
        let (reply, result) = link.next_answer().await?;
        if reply == serial {
            return Ok(result == ResultCode::Success);
        }
    }
}

/// Steady load: each terminal reports every `interval`, its phase `i / n` of the interval.
async fn steady(
    terminals: Vec<Terminal>,
    interval: Duration,
    until: Duration,
    start_at: DateTime<Utc>,
) -> anyhow::Result<(Vec<Terminal>, Vec<Sample>, usize)> {
    let n = u32::try_from(terminals.len().max(1)).unwrap_or(u32::MAX);
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks: JoinSet<(Option<Terminal>, Vec<Sample>)> = JoinSet::new();
    for (i, mut t) in terminals.into_iter().enumerate() {
        let phase = interval / n * u32::try_from(i).unwrap_or(0);
        tasks.spawn(async move {
            let mut samples = Vec::new();
            let mut due = start + phase;
            while due.saturating_duration_since(start) < until {
                tokio::time::sleep_until(due).await;
                let sent = Instant::now();
                let ok = match t.next_fix(start_at) {
                    Ok(fix) => match t.link.report(fix).await {
                        Ok(serial) => answered(&mut t.link, serial).await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                let now = Instant::now();
                let ok = match ok {
                    Ok(ok) => ok,
                    Err(e) => {
                        tracing::warn!(error = format!("{e:#}"), "a terminal failed");
                        samples.push(Sample {
                            at: now.saturating_duration_since(start),
                            latency: now.saturating_duration_since(due),
                            lag: sent.saturating_duration_since(due),
                            ok: false,
                        });
                        return (None, samples);
                    }
                };
                samples.push(Sample {
                    at: now.saturating_duration_since(start),
                    latency: now.saturating_duration_since(due),
                    lag: sent.saturating_duration_since(due),
                    ok,
                });
                due += interval;
            }
            (Some(t), samples)
        });
    }
    collect(tasks).await
}

/// Maximum load: each terminal keeps `window` reports outstanding until `until`.
async fn flat_out(
    terminals: Vec<Terminal>,
    window: usize,
    until: Duration,
    start_at: DateTime<Utc>,
) -> anyhow::Result<(Vec<Terminal>, Vec<Sample>, usize)> {
    let start = Instant::now();
    let mut tasks: JoinSet<(Option<Terminal>, Vec<Sample>)> = JoinSet::new();
    for mut t in terminals {
        tasks.spawn(async move {
            let mut samples = Vec::new();
            let mut outstanding: std::collections::VecDeque<(u16, Instant)> =
                std::collections::VecDeque::new();
            let run = async {
                loop {
                    while outstanding.len() < window.max(1)
                        && Instant::now().saturating_duration_since(start) < until
                    {
                        let fix = t.next_fix(start_at)?;
                        let sent = Instant::now();
                        let serial = t.link.report(fix).await?;
                        outstanding.push_back((serial, sent));
                    }
                    if outstanding.is_empty() {
                        return anyhow::Ok(());
                    }
                    let (reply, result) = t.link.next_answer().await?;
                    if let Some(k) = outstanding.iter().position(|(s, _)| *s == reply) {
                        if let Some((_, sent)) = outstanding.remove(k) {
                            let now = Instant::now();
                            samples.push(Sample {
                                at: now.saturating_duration_since(start),
                                latency: now.saturating_duration_since(sent),
                                lag: Duration::ZERO,
                                ok: result == ResultCode::Success,
                            });
                        }
                    }
                }
            }
            .await;
            match run {
                Ok(()) => (Some(t), samples),
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "a terminal failed");
                    (None, samples)
                }
            }
        });
    }
    collect(tasks).await
}

/// The terminals still connected, every sample, and how many terminals failed.
async fn collect(
    mut tasks: JoinSet<(Option<Terminal>, Vec<Sample>)>,
) -> anyhow::Result<(Vec<Terminal>, Vec<Sample>, usize)> {
    let mut alive = Vec::new();
    let mut samples = Vec::new();
    let mut failed = 0usize;
    while let Some(done) = tasks.join_next().await {
        let (t, s) = done.context("a terminal's task")?;
        samples.extend(s);
        match t {
            Some(t) => alive.push(t),
            None => failed += 1,
        }
    }
    Ok((alive, samples, failed))
}

/// The figures of the samples answered at or after `from`.
fn summary(samples: &[Sample], from: Duration, to: Duration) -> serde_json::Value {
    let counted: Vec<&Sample> = samples.iter().filter(|s| s.at >= from).collect();
    let ok = counted.iter().filter(|s| s.ok).count();
    let mut latencies: Vec<Duration> = counted.iter().map(|s| s.latency).collect();
    latencies.sort_unstable();
    let mut lags: Vec<Duration> = counted.iter().map(|s| s.lag).collect();
    lags.sort_unstable();
    let span = to.saturating_sub(from).as_secs_f64();
    let per_s = if span > 0.0 {
        f64::from(u32::try_from(ok).unwrap_or(u32::MAX)) / span
    } else {
        0.0
    };
    json!({
        "reports": counted.len(),
        "ok": ok,
        "failed": counted.len() - ok,
        "fixes_per_s": (per_s * 10.0).round() / 10.0,
        "p50_ms": millis(percentile(&latencies, 500)),
        "p90_ms": millis(percentile(&latencies, 900)),
        "p99_ms": millis(percentile(&latencies, 990)),
        "max_ms": millis(latencies.last().copied().unwrap_or_default()),
        "lag_p99_ms": millis(percentile(&lags, 990)),
    })
}

/// Runs the phases and prints one line of JSON.
pub async fn run(args: Jt808Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.terminals > 0, "--terminals must be above 0");
    anyhow::ensure!(
        args.terminals <= 1_000_000,
        "--terminals is at most 1,000,000"
    );
    anyhow::ensure!(
        args.terminal_prefix.len() == 6 && args.terminal_prefix.bytes().all(|b| b.is_ascii_digit()),
        "--terminal-prefix is six digits"
    );
    let interval = seconds(args.interval_s, "--interval-s")?;
    anyhow::ensure!(!interval.is_zero(), "--interval-s must be above 0");
    let duration = seconds(args.duration_s, "--duration-s")?;
    let max_duration = seconds(args.max_duration_s, "--max-duration-s")?;
    let settle = seconds(args.settle_s, "--settle-s")?;
    let start_at = args
        .start_at
        .unwrap_or_else(|| Utc::now() - chrono::Duration::hours(2));
    let rss = |pid: Option<u32>| pid.map(vm_rss_kb).transpose();

    let t0 = Instant::now();
    if args.register {
        register(&args).await?;
    }
    let registered_s = t0.elapsed().as_secs_f64();
    tokio::time::sleep(settle).await;
    let rss_before = rss(args.server_pid)?;

    // Half of them, then the rest: the growth from half to all is the memory of the second
    // half alone (the allocator's state after the registrations, which may give memory back
    // meanwhile, cancels out).
    let half = args.terminals / 2;
    let t0 = Instant::now();
    let mut terminals = connect_all(&args, 0..half).await?;
    let half_s = t0.elapsed();
    tokio::time::sleep(settle).await;
    let rss_half = rss(args.server_pid)?;
    let t1 = Instant::now();
    terminals.extend(connect_all(&args, half..args.terminals).await?);
    let connected_s = (half_s + t1.elapsed()).as_secs_f64();
    let connected = terminals.len();
    tokio::time::sleep(settle).await;
    let rss_connected = rss(args.server_pid)?;
    // kB per terminal between two readings of `n` terminals apart (negative: memory given
    // back meanwhile).
    let per = |from: Option<u64>, to: Option<u64>, n: usize| match (from, to) {
        (Some(a), Some(b)) => {
            let kb = |v: u64| f64::from(u32::try_from(v).unwrap_or(u32::MAX));
            let n = f64::from(u32::try_from(n.max(1)).unwrap_or(u32::MAX));
            Some(((kb(b) - kb(a)) / n * 100.0).round() / 100.0)
        }
        _ => None,
    };
    let per_terminal_kb = per(rss_before, rss_connected, connected);
    let per_terminal_second_half_kb = per(rss_half, rss_connected, args.terminals - half);

    let (terminals, steady_json, steady_failed) = if duration.is_zero() {
        (terminals, serde_json::Value::Null, 0)
    } else {
        let until = interval + duration;
        let (alive, samples, failed) = steady(terminals, interval, until, start_at).await?;
        (alive, summary(&samples, interval, until), failed)
    };
    let rss_after_steady = rss(args.server_pid)?;

    let (max_json, max_failed) = if max_duration.is_zero() {
        (serde_json::Value::Null, 0)
    } else {
        let warmup = Duration::from_secs(2);
        let until = warmup + max_duration;
        let (_alive, samples, failed) = flat_out(terminals, args.window, until, start_at).await?;
        (summary(&samples, warmup, until), failed)
    };

    let out = json!({
        "terminals": args.terminals,
        "connected": connected,
        "registered_s": (registered_s * 1000.0).round() / 1000.0,
        "connect_s": (connected_s * 1000.0).round() / 1000.0,
        "interval_s": args.interval_s,
        "window": args.window,
        "rss_before_kb": rss_before,
        "rss_half_kb": rss_half,
        "rss_connected_kb": rss_connected,
        "rss_after_steady_kb": rss_after_steady,
        "per_terminal_kb": per_terminal_kb,
        "per_terminal_second_half_kb": per_terminal_second_half_kb,
        "steady": steady_json,
        "steady_failed_terminals": steady_failed,
        "max": max_json,
        "max_failed_terminals": max_failed,
    });
    println!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_numbers_are_twelve_digits_and_fixes_step_a_second() {
        assert_eq!(terminal_no("013900", 42), "013900000042");
        assert!(shared::auth::valid_terminal_no(&terminal_no(
            "013900", 999_999
        )));
        let mut t = Terminal {
            link: Link::new("127.0.0.1:1", "013900000001"),
            lon: 113.6,
            lat: 34.75,
            made: 0,
            rng: StdRng::seed_from_u64(1),
        };
        let start: DateTime<Utc> = "2026-12-07T00:00:00Z".parse().unwrap();
        let a = t.next_fix(start).unwrap();
        let b = t.next_fix(start).unwrap();
        assert_eq!((b.time - a.time).num_seconds(), 1);
        assert!((113_590_000..113_610_000).contains(&a.lon_e6));
    }

    #[test]
    fn the_summary_counts_only_after_the_warm_up() {
        let s = |at: u64, ms: u64, ok: bool| Sample {
            at: Duration::from_secs(at),
            latency: Duration::from_millis(ms),
            lag: Duration::ZERO,
            ok,
        };
        let v = summary(
            &[s(0, 500, true), s(2, 10, true), s(3, 20, false)],
            Duration::from_secs(1),
            Duration::from_secs(3),
        );
        assert_eq!(v["reports"], 2);
        assert_eq!(v["ok"], 1);
        assert_eq!(v["fixes_per_s"], 0.5);
        assert_eq!(v["max_ms"], 20.0);
    }
}
