//! `cylwatch-sim load-authorize`: a load generator for `POST /api/v1/fillings/authorize`.
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
//! of JSON is printed on stdout. The open loop also reports how late its requests started
//! (`schedule_lag_*`: the generator shares the machine) and the p99 counted from the start
//! (`p99_after_sent_ms`); the percentiles themselves count from the time due.

use crate::measure::{millis, percentile, seconds};
use crate::wire;
use anyhow::Context;
use serde_json::{json, Value};
use shared::filling::AuthorizeRequest;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// `cylwatch-sim load-authorize` options.
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

/// The server and the question; requests go over plain HTTP/1.1 keep-alive connections written
/// by hand: a general client (reqwest) cost about as much CPU per request as the server's own
/// handling, on the same two cores (BENCHMARKS.md, issue 5), where pgbench's client is lean C.
struct Target {
    /// `host:port` to connect to.
    addr: String,
    /// The whole request for each cylinder, built once: asked round-robin.
    requests: Vec<Vec<u8>>,
    next: AtomicUsize,
    timeout: Duration,
    /// Idle connections, the most recently used last.
    idle: std::sync::Mutex<Vec<(TcpStream, std::time::Instant)>>,
}

/// A connection after its exchange, with the answer's status and body.
type Exchanged = (TcpStream, (u16, Vec<u8>));

/// A connection idle this long may be closed by the server (actix's keep-alive is 5 s): it is
/// dropped rather than reused.
const IDLE_AT_MOST: Duration = Duration::from_secs(2);

impl Target {
    fn new(
        api: &str,
        key: &str,
        station: &str,
        cylinders: Vec<String>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let rest = api
            .strip_prefix("http://")
            .context("--api must be an http:// URL")?;
        let (addr, base) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!addr.is_empty(), "--api names no host");
        anyhow::ensure!(
            !key.contains(['\r', '\n']),
            "the device key must be one line"
        );
        let base = base.trim_end_matches('/');
        let path = if base.is_empty() {
            "/api/v1/fillings/authorize".to_owned()
        } else {
            format!("/{base}/api/v1/fillings/authorize")
        };
        let requests = cylinders
            .iter()
            .map(|code| {
                let question = AuthorizeRequest {
                    cylinder_code: Some(wire::id(code)?),
                    tag_id: None,
                    station_code: wire::id(station)?,
                    gun_no: wire::id("G1")?,
                    medium: wire::id("LPG")?,
                    staff_no: wire::id("S1")?,
                };
                let body = serde_json::to_string(&question)?;
                anyhow::Ok(
                    format!(
                        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nx-device-key: {key}\r\n\
                     content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .into_bytes(),
                )
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            addr: addr.to_owned(),
            requests,
            next: AtomicUsize::new(0),
            timeout,
            idle: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The index of the next cylinder's request (round-robin).
    fn next(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.requests.len().max(1)
    }

    fn request(&self, i: usize) -> &[u8] {
        self.requests.get(i).map_or(&[], Vec::as_slice)
    }

    /// Sends the next request and classifies its answer; the caller times it.
    async fn ask(&self) -> Outcome {
        self.ask_with(self.next()).await
    }

    /// Sends request `i` on an idle connection (or a new one) and classifies its answer.
    async fn ask_with(&self, i: usize) -> Outcome {
        let request = self.request(i);
        let asked = async {
            let mut conn = match self.take_idle() {
                Some(conn) => conn,
                None => {
                    let conn = TcpStream::connect(&self.addr).await?;
                    conn.set_nodelay(true)?;
                    conn
                }
            };
            conn.write_all(request).await?;
            let answer = read_response(&mut conn).await?;
            anyhow::Ok((conn, answer))
        };
        self.finish(tokio::time::timeout(self.timeout, asked).await)
    }

    /// Writes request `i` on an idle connection from the calling thread (the open loop's
    /// pacing thread, when the request is due) without waiting: the connection when the whole
    /// request went out; `None` when no connection was idle or its socket would not take the
    /// request at once (the caller then asks with `ask_with`).
    fn send_now(&self, i: usize) -> Option<TcpStream> {
        let request = self.request(i);
        let conn = self.take_idle()?;
        match conn.try_write(request) {
            Ok(n) if n == request.len() => Some(conn),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                self.give_back(conn);
                None
            }
            // Part of a request (or an error): the connection is unusable and is dropped.
            _ => None,
        }
    }

    /// Reads and classifies the answer to a request `send_now` sent.
    async fn answer(&self, mut conn: TcpStream) -> Outcome {
        let read = async {
            let answer = read_response(&mut conn).await?;
            anyhow::Ok((conn, answer))
        };
        self.finish(tokio::time::timeout(self.timeout, read).await)
    }

    fn finish(
        &self,
        done: Result<anyhow::Result<Exchanged>, tokio::time::error::Elapsed>,
    ) -> Outcome {
        match done {
            Err(_) => Outcome::Timeout,
            Ok(Err(_)) => Outcome::Error,
            Ok(Ok((conn, (status, body)))) => {
                self.give_back(conn);
                if status != 200 {
                    return Outcome::Error;
                }
                classify(&body)
            }
        }
    }

    fn give_back(&self, conn: TcpStream) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push((conn, std::time::Instant::now()));
        }
    }

    /// The most recently used idle connection, dropping those idle too long.
    fn take_idle(&self) -> Option<TcpStream> {
        let mut idle = self.idle.lock().ok()?;
        idle.retain(|(_, since)| since.elapsed() < IDLE_AT_MOST);
        idle.pop().map(|(conn, _)| conn)
    }
}

/// Reads one response with a `content-length` body: (status, body).
async fn read_response(conn: &mut TcpStream) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some((status, head_len, body_len)) = parse_head(&buf)? else {
            anyhow::ensure!(buf.len() < 64 * 1024, "a response head over 64 KiB");
            continue;
        };
        while buf.len() < head_len + body_len {
            let n = conn.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "the server closed the connection mid-body");
            buf.extend_from_slice(&chunk[..n]);
        }
        anyhow::ensure!(buf.len() == head_len + body_len, "bytes after the response");
        return Ok((status, buf.split_off(head_len)));
    }
}

/// A complete response head in `buf`: (status, the head's length, `content-length`); `None`
/// while the head is incomplete.
fn parse_head(buf: &[u8]) -> anyhow::Result<Option<(u16, usize, usize)>> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end]).context("a response head not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.strip_prefix("HTTP/1.1 "))
        .and_then(|l| l.get(..3))
        .and_then(|s| s.parse().ok())
        .context("no HTTP/1.1 status line")?;
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .context("a response without content-length")?;
    Ok(Some((status, end + 4, length)))
}

/// The part of an answer the generator looks at (read without building a JSON tree).
#[derive(serde::Deserialize)]
struct Answer<'a> {
    allowed: bool,
    #[serde(default, borrow)]
    reasons: Vec<AnswerReason<'a>>,
}

#[derive(serde::Deserialize)]
struct AnswerReason<'a> {
    #[serde(borrow)]
    rule: std::borrow::Cow<'a, str>,
}

fn classify(body: &[u8]) -> Outcome {
    match serde_json::from_slice::<Answer>(body) {
        Ok(Answer { allowed: true, .. }) => Outcome::Allowed,
        Ok(Answer { reasons, .. }) if reasons.iter().any(|r| r.rule == "E01") => Outcome::Unsure,
        Ok(_) => Outcome::Refused,
        Err(_) => Outcome::Error,
    }
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
    let target = Arc::new(Target::new(
        &args.api,
        &args.device_key,
        &args.station,
        args.cylinders.clone(),
        timeout,
    )?);
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
/// count that against the server, and writes each on an idle connection itself; the runtime
/// reads the answers (and sends when no connection is idle). How late each was sent is
/// reported (`schedule_lag_*`).
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
                // Sent from this thread when due if a connection is idle: the runtime's thread
                // (woken to read the answer) may be busy, and its lateness would count.
                let which = target.next();
                let sent = target.send_now(which);
                let sent_lag = std::time::Instant::now().saturating_duration_since(due);
                let target = Arc::clone(&target);
                let task = runtime.spawn(async move {
                    let (lag, outcome) = match sent {
                        Some(conn) => (sent_lag, target.answer(conn).await),
                        None => {
                            let lag = std::time::Instant::now().saturating_duration_since(due);
                            (lag, target.ask_with(which).await)
                        }
                    };
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
    let mut after_sent: Vec<Duration> = samples
        .iter()
        .map(|s| s.latency.saturating_sub(s.lag))
        .collect();
    after_sent.sort_unstable();
    let mut lags: Vec<Duration> = samples.iter().map(|s| s.lag).collect();
    lags.sort_unstable();
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
        // Apart: what the generator's own lateness adds (its sending thread shares the cores).
        "p99_after_sent_ms": millis(percentile(&after_sent, 990)),
        "schedule_lag_p99_ms": millis(percentile(&lags, 990)),
        "schedule_lag_mean_ms": millis(mean(lags.iter().copied())),
        "schedule_lag_max_ms": millis(lags.last().copied().unwrap_or_default()),
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
    fn response_heads_are_read_once_complete() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-type: x\r\n\r\n{}";
        assert_eq!(parse_head(ok).unwrap(), Some((200, ok.len() - 2, 2)));
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(parse_head(b"SSH-2.0\r\n\r\n").is_err());
        assert!(Target::new("https://x", "k", "S", vec![], Duration::ZERO).is_err());
        let t = Target::new("http://h:1/", "k", "S", vec!["C".into()], Duration::ZERO).unwrap();
        let request = String::from_utf8(t.request(t.next()).to_vec()).unwrap();
        let (head, body) = request.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("POST /api/v1/fillings/authorize HTTP/1.1\r\nhost: h:1\r\n"));
        assert!(head.ends_with(&format!("content-length: {}", body.len())));
        assert_eq!(
            serde_json::from_str::<Value>(body).unwrap()["cylinder_code"],
            "C"
        );
        let two = Target::new(
            "http://h:1",
            "k",
            "S",
            vec!["A".into(), "B".into()],
            Duration::ZERO,
        )
        .unwrap();
        let codes: Vec<bool> = (0..4)
            .map(|_| String::from_utf8_lossy(two.request(two.next())).contains("\"A\""))
            .collect();
        assert_eq!(codes, [true, false, true, false]);
    }

    #[tokio::test]
    async fn a_request_written_from_the_pacing_thread_is_answered_on_the_runtime() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    // One request per read: each is written whole, one at a time.
                    while socket.read(&mut buf).await.is_ok_and(|n| n > 0) {
                        let body = r#"{"allowed":true,"reasons":[]}"#;
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let target = Arc::new(
            Target::new(
                &format!("http://{addr}"),
                "k",
                "S",
                vec!["C".into()],
                Duration::from_secs(5),
            )
            .unwrap(),
        );
        assert!(target.send_now(0).is_none(), "no connection is idle yet");
        assert_eq!(target.ask().await, Outcome::Allowed);
        let pacer = Arc::clone(&target);
        let conn = std::thread::spawn(move || pacer.send_now(0))
            .join()
            .unwrap()
            .expect("written on the idle connection");
        assert!(target.idle.lock().unwrap().is_empty(), "taken while in use");
        assert_eq!(target.answer(conn).await, Outcome::Allowed);
        assert_eq!(
            target.idle.lock().unwrap().len(),
            1,
            "given back after the answer"
        );
    }

    #[test]
    fn answers_are_told_apart() {
        let of = |answer: Value| classify(answer.to_string().as_bytes());
        assert_eq!(
            of(json!({"allowed": true, "reasons": []})),
            Outcome::Allowed
        );
        assert_eq!(
            of(json!({"allowed": false, "reasons": [{"rule": "R10"}]})),
            Outcome::Refused
        );
        assert_eq!(
            of(json!({"allowed": false, "reasons": [{"rule": "E01"}]})),
            Outcome::Unsure
        );
        assert_eq!(of(json!({"error": {}})), Outcome::Error);
        let answer = json!({"decision_id": "d", "allowed": false,
                            "reasons": [{"rule": "R10", "message": "充装前检查\"未通过\""}]});
        assert_eq!(of(answer), Outcome::Refused);
        assert_eq!(classify(b"{\"allowed\": tru"), Outcome::Error);
    }
}
