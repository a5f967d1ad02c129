//! `cylwatch-sim load-recall`: how soon a recall takes effect at the guns (`bench/incidents.sh`,
//! issue 22).
//!
//! The sample cylinders are asked at the gun first (`POST /api/v1/fillings/authorize` as the
//! controller with `--device-key`): each must be allowed. Then the clock starts, the recall of
//! every code in `--codes-file` (the sample among them) is posted with the administrator's
//! `--token`, and at the same time `--pollers` workers keep asking the gun about the sample
//! cylinders not yet refused with `R16`, until all are (or `--timeout-s` passes). Printed as
//! one line of JSON: when the `POST` was answered (`201`), when each sample cylinder was first
//! refused with `R16` (p50, max = all refused), the polls made.

use crate::measure::millis;
use crate::wire;
use anyhow::Context;
use cylwatch_client::{reqwest, Auth, Client, Method};
use serde_json::{json, Value};
use shared::filling::{AuthorizeRequest, AuthorizeResponse};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// `cylwatch-sim load-recall` options.
#[derive(Debug, Clone, clap::Args)]
pub struct RecallArgs {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// An administrator's or regulator's bearer token (issues the recall).
    #[arg(long, env = "CYLWATCH_LOAD_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The key of a controller device of `--station`.
    #[arg(long, env = "CYLWATCH_LOAD_DEVICE_KEY", hide_env_values = true)]
    pub device_key: String,
    #[arg(long, default_value = "ST1")]
    pub station: String,
    #[arg(long, default_value = "S1")]
    pub staff: String,
    /// The codes to recall, comma or newline separated (at most 100,000).
    #[arg(long)]
    pub codes_file: PathBuf,
    /// The sample asked at the gun (comma separated); each must be in the codes file and
    /// allowed before the recall.
    #[arg(long, value_delimiter = ',', required = true)]
    pub sample: Vec<String>,
    /// Workers asking the gun at once.
    #[arg(long, default_value_t = 4)]
    pub pollers: usize,
    #[arg(long, default_value = "基准召回")]
    pub reason: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout_s: f64,
}

fn question(args: &RecallArgs, code: &str) -> anyhow::Result<AuthorizeRequest> {
    Ok(AuthorizeRequest {
        cylinder_code: Some(wire::id(code)?),
        tag_id: None,
        station_code: wire::id(&args.station)?,
        gun_no: wire::id("G1")?,
        medium: wire::id("LPG")?,
        staff_no: wire::id(&args.staff)?,
    })
}

/// Runs the measurement and prints one line of JSON.
pub async fn run(args: RecallArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.codes_file)
        .with_context(|| format!("reading {}", args.codes_file.display()))?;
    let codes: Vec<&str> = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    anyhow::ensure!(
        (1..=100_000).contains(&codes.len()),
        "the codes file names 1 to 100,000 codes"
    );
    let recalled: std::collections::HashSet<&str> = codes.iter().copied().collect();
    for s in &args.sample {
        anyhow::ensure!(recalled.contains(s.as_str()), "sample {s} is not recalled");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")?;
    let client = Client::with_http(http, &args.api);
    let questions: Vec<AuthorizeRequest> = args
        .sample
        .iter()
        .map(|c| question(&args, c))
        .collect::<anyhow::Result<_>>()?;
    for (q, code) in questions.iter().zip(&args.sample) {
        let answer = client
            .authorize(&args.device_key, q)
            .await
            .with_context(|| format!("asking about {code}"))?;
        anyhow::ensure!(
            answer.allowed,
            "{code} is refused before the recall: {:?}",
            answer.reasons
        );
    }
    let body = json!({"reason": args.reason, "cylinder_codes": codes});
    let body = serde_json::to_vec(&body).context("serializing the recall")?;
    drop(text);

    // Which sample cylinders are not yet refused with R16, and when each was.
    let refused_at: Arc<Mutex<Vec<Option<Duration>>>> =
        Arc::new(Mutex::new(vec![None; questions.len()]));
    let questions = Arc::new(questions);
    let polls = Arc::new(AtomicUsize::new(0));
    let limit = Duration::try_from_secs_f64(args.timeout_s).context("--timeout-s")?;
    let start = Instant::now();
    let mut workers: JoinSet<anyhow::Result<()>> = JoinSet::new();
    for w in 0..args.pollers.max(1) {
        let (client, key) = (client.clone(), args.device_key.clone());
        let (questions, refused_at, polls) = (
            Arc::clone(&questions),
            Arc::clone(&refused_at),
            Arc::clone(&polls),
        );
        let pollers = args.pollers.max(1);
        workers.spawn(async move {
            loop {
                let open: Vec<usize> = {
                    let done = refused_at
                        .lock()
                        .map_err(|_| anyhow::anyhow!("a poller panicked"))?;
                    (0..done.len())
                        .filter(|i| i % pollers == w && done.get(*i).is_some_and(Option::is_none))
                        .collect()
                };
                if open.is_empty() || start.elapsed() > limit {
                    return Ok(());
                }
                for i in open {
                    let Some(q) = questions.get(i) else { continue };
                    let answer: AuthorizeResponse = client
                        .authorize(&key, q)
                        .await
                        .context("asking the gun during the recall")?;
                    polls.fetch_add(1, Ordering::Relaxed);
                    if answer.reasons.iter().any(|r| r.rule == "R16") {
                        let at = start.elapsed();
                        if let Ok(mut done) = refused_at.lock() {
                            if let Some(slot) = done.get_mut(i) {
                                slot.get_or_insert(at);
                            }
                        }
                    }
                }
            }
        });
    }
    let response = client
        .request(Method::POST, "/api/v1/recalls", Auth::Bearer(&args.token))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .context("POST /api/v1/recalls")?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    let posted = start.elapsed();
    anyhow::ensure!(
        status == 201,
        "recall: {status} {:.400}",
        answer.to_string()
    );
    while let Some(done) = workers.join_next().await {
        done.context("a poller failed")??;
    }
    let mut times: Vec<Duration> = refused_at
        .lock()
        .map_err(|_| anyhow::anyhow!("a poller panicked"))?
        .iter()
        .flatten()
        .copied()
        .collect();
    times.sort_unstable();
    let all = times.len() == args.sample.len();
    let out = json!({
        "recalled": answer.get("count"),
        "sample": args.sample.len(),
        "refused": times.len(),
        "post_ms": millis(posted),
        "first_refused_ms": times.first().map(|d| millis(*d)),
        "p50_refused_ms": times.get(times.len() / 2).map(|d| millis(*d)),
        "all_refused_ms": if all { times.last().map(|d| millis(*d)) } else { None },
        "polls": polls.load(Ordering::Relaxed),
    });
    println!("{out}");
    Ok(())
}
