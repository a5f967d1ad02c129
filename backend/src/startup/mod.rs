//! `Application`: build (connect, migrate, bind, spawn the workers), `port`, `run_until_stopped`.
//! The HTTP server and the workers (relay, consumer, live hub ...) run under one shutdown signal;
//! the workers under supervision (a worker that stops is restarted), and the metrics listener
//! beside the public one when `metrics_addr` is set.

mod supervisor;

use crate::api;
use crate::api::state::{AppState, DecisionLane};
use crate::bus::publish::{Publisher, Queue};
use crate::bus::StreamKeys;
use crate::cache::TtlCache;
use crate::config::Settings;
use crate::live::LiveHub;
use crate::pipeline::{consumer, relay};
use crate::store;
use crate::store::group_commit::GroupWriter;
use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use sqlx::PgPool;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use supervisor::supervise;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// The running server and its workers.
pub struct Application {
    port: u16,
    server: Server,
    /// The metrics listener, when `metrics_addr` is set: its port and server.
    metrics: Option<(u16, Server)>,
    /// The JT/T 808 gateway's port, when `jt808_addr` is set.
    jt808_port: Option<u16>,
    workers: Vec<JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
}

impl Application {
    /// Connects to PostgreSQL (applying migrations) and Redis, binds the listener and starts
    /// the workers. Redis may be down: the workers retry and health says so.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let http_workers = match settings.http_workers {
            0 => default_http_workers(std::thread::available_parallelism().map_or(1, usize::from)),
            n => n,
        };
        let pool = database(&settings, http_workers).await?;
        let redis = crate::bus::Redis::open(
            settings.redis_url.expose(),
            settings.redis_cluster_urls.expose(),
        )
        .context("parsing redis_url or redis_cluster_urls")?;
        let (basemap, districts) = base_map(&settings, &pool).await?;
        let keys = StreamKeys::new(
            &settings.redis_prefix,
            &settings.pipeline_group,
            settings.pipeline_partitions,
        );
        let hub = LiveHub::new();
        let (publisher, published) = crate::bus::publish::Publisher::new();
        let relay_wakeup = Arc::new(Notify::new());
        let licence_wakeup = Arc::new(Notify::new());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut workers = Workers {
            settings: &settings,
            pool: &pool,
            redis: &redis,
            keys: &keys,
            shutdown: &shutdown_rx,
            licence_wakeup: &licence_wakeup,
        }
        .spawn(&hub, &publisher, &published, &relay_wakeup);

        let audit = GroupWriter::spawn(pool.clone(), "audit log", |conn, rows| {
            Box::pin(store::auth::audit_many(conn, rows))
        });
        let terminal_sweep = Arc::new(Notify::new());
        let jt808_port = jt808_gateway(
            &settings,
            &pool,
            &relay_wakeup,
            &terminal_sweep,
            &shutdown_rx,
            &mut workers,
        )
        .await?;
        let broker = mqtt_gateway(&settings, &pool, &relay_wakeup, &shutdown_rx, &mut workers)?;
        let refusals = Arc::new(api::refusals::RefusalTally::default());
        let window = Duration::from_secs(settings.refusal_tally_s);
        let (tally, writer, stop) = (refusals.clone(), audit.clone(), shutdown_rx.clone());
        workers.push(supervise("refusal tally", shutdown_rx.clone(), move || {
            api::refusals::run(tally.clone(), writer.clone(), window, stop.clone())
        }));
        let reads = read_pools(&settings, &pool)?;
        let (watched, max_lag) = (
            reads.clone(),
            Duration::from_millis(settings.database_replica_max_lag_ms),
        );
        if reads.has_replica() {
            workers.push(supervise("replica lag", shutdown_rx.clone(), move || {
                watched.clone().watch(max_lag)
            }));
        }
        let state = web::Data::new(AppState {
            settings: settings.clone(),
            pool: pool.clone(),
            reads,
            redis,
            keys,
            hub,
            publisher,
            relay_wakeup,
            terminal_sweep,
            broker,
            licence_wakeup,
            basemap: basemap.into(),
            districts,
            limiter: api::limiter::RateLimiter::new(settings.public_rate_per_minute),
            exports: api::paged::ExportSlots::new(settings.exports_per_user),
            audit,
            refusals,
            devices: TtlCache::new(Duration::from_secs(settings.registry_cache_s)),
            key_set: crate::cache::KeySet::new(Duration::from_secs(1)),
            stations: TtlCache::new(Duration::from_secs(settings.registry_cache_s)),
            authorize_in_flight: std::sync::atomic::AtomicUsize::new(0),
        });
        api::auth::ensure_admin(&state).await?;
        let metrics = metrics_server(&settings.metrics_addr, &pool)?;
        let (server, port) = http_server(state, &settings, http_workers)?;
        Ok(Self {
            port,
            server,
            metrics,
            jt808_port,
            workers,
            shutdown,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JT/T 808 gateway's port, when `jt808_addr` is set.
    pub fn jt808_port(&self) -> Option<u16> {
        self.jt808_port
    }

    /// The metrics listener's port, when `metrics_addr` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until the process is told to stop (SIGINT/SIGTERM), then stops the workers.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await.context("HTTP server");
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        result
    }
}

/// What the background workers are started with.
struct Workers<'a> {
    settings: &'a Settings,
    pool: &'a PgPool,
    redis: &'a crate::bus::Redis,
    keys: &'a StreamKeys,
    shutdown: &'a watch::Receiver<bool>,
    /// Rung by registry edits: the licence pass looks again at once.
    licence_wakeup: &'a Arc<Notify>,
}

impl Workers<'_> {
    /// Starts every background worker under supervision (`supervisor`).
    fn spawn(
        &self,
        hub: &LiveHub,
        publisher: &Publisher,
        published: &Queue,
        relay_wakeup: &Arc<Notify>,
    ) -> Vec<JoinHandle<()>> {
        let (settings, pool, redis, keys) = (self.settings, self.pool, self.redis, self.keys);
        let consumer_options = consumer_options(settings);
        let lookout_options = lookout_options(settings);
        let licence_options = licence_options(settings, self.licence_wakeup);
        let (loss_days, due_days) = (settings.loss_after_days, settings.due_soon_days);
        let stats_refresh = Duration::from_millis(settings.stats_refresh_every_ms.max(50));
        let stats_every = Duration::from_secs(settings.stats_every_s.max(1));
        let escalate_after = Duration::from_secs(settings.escalate_critical_after_s);
        let relay_again = Duration::from_secs(settings.pipeline_relay_again_s.max(1));
        macro_rules! worker {
            ($name:expr, ($($var:ident),*), |$stop:ident| $body:expr) => {{
                $(let $var = $var.clone();)*
                let stop_rx = self.shutdown.clone();
                supervise($name, self.shutdown.clone(), move || {
                    $(let $var = $var.clone();)*
                    let $stop = stop_rx.clone();
                    $body
                })
            }};
        }
        vec![
            worker!(
                "relay",
                (pool, redis, keys, relay_wakeup, relay_again),
                |stop| relay::run(pool, redis, keys, relay_wakeup, relay_again, stop)
            ),
            worker!("consumer", (pool, redis, keys, consumer_options), |stop| {
                consumer::run(pool, redis, keys, consumer_options, stop)
            }),
            worker!("live hub", (hub, redis, keys), |stop| hub
                .run(redis, keys, stop)),
            worker!("live publisher", (published, redis, keys), |stop| {
                crate::bus::publish::run(published, redis, keys, stop)
            }),
            worker!("lookout", (pool, publisher, lookout_options), |stop| {
                crate::pipeline::lookout::run(pool, publisher, lookout_options, stop)
            }),
            worker!("licence pass", (pool, publisher, licence_options), |stop| {
                crate::pipeline::licences::run(pool, publisher, licence_options, stop)
            }),
            worker!("stats refresh", (pool), |stop| {
                crate::live::stats::refresh(pool, stats_refresh, loss_days, due_days, stop)
            }),
            worker!("stats push", (pool, publisher), |stop| {
                crate::live::stats::run(pool, publisher, stats_every, loss_days, due_days, stop)
            }),
            worker!("escalation", (pool, publisher), |stop| {
                crate::alerts::escalation(pool, publisher, escalate_after, stop)
            }),
            worker!("incident progress", (pool, publisher), |stop| {
                crate::incidents::progress(pool, publisher, stop)
            }),
        ]
    }
}

/// Seconds from a setting, capped where chrono would overflow.
fn seconds(s: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(s).unwrap_or(3_000_000_000).min(3_000_000_000))
}

fn consumer_options(settings: &Settings) -> consumer::ConsumerOptions {
    consumer::ConsumerOptions {
        name: settings.instance_id.clone(),
        max_attempts: settings.pipeline_max_attempts.max(1),
        claim_idle: Duration::from_secs(settings.pipeline_claim_idle_s),
        trim_every: Duration::from_secs(settings.pipeline_trim_every_s),
        gps: crate::rules::gps::Policy {
            enabled: settings.gps_filters,
            max_future: seconds(settings.gps_max_future_s),
            max_age: chrono::Duration::hours(
                i64::try_from(settings.gps_max_age_h)
                    .unwrap_or(1_000_000)
                    .min(1_000_000),
            ),
            max_speed_kmh: settings.gps_max_speed_kmh,
            noise_m: settings.gps_noise_m,
        },
        fence_reload: Duration::from_secs(settings.fence_reload_s),
        stops: crate::rules::stops::Policy {
            radius_m: settings.stop_radius_m,
            limit: seconds(settings.suspicious_stop_s),
        },
        custody: crate::rules::history_alerts::Policy {
            delivery_max_distance_m: settings.delivery_max_distance_m,
        },
        lease: Duration::from_millis(settings.pipeline_lease_ms.max(300)),
        dwell: seconds(settings.fence_dwell_s),
    }
}

fn lookout_options(settings: &Settings) -> crate::pipeline::lookout::LookoutOptions {
    crate::pipeline::lookout::LookoutOptions {
        every: Duration::from_secs(settings.lookout_every_s.max(1)),
        sightings_kept: chrono::Duration::days(i64::from(settings.sighting_retention_days.max(1))),
        device_silent_after: seconds(settings.device_silent_s),
        loss_after: chrono::Duration::days(i64::from(settings.loss_after_days)),
    }
}

fn licence_options(
    settings: &Settings,
    wakeup: &Arc<Notify>,
) -> crate::pipeline::licences::LicenceOptions {
    let kinds = settings.licence_warn_kinds.trim();
    crate::pipeline::licences::LicenceOptions {
        wakeup: wakeup.clone(),
        every: (settings.licence_pass_every_s > 0)
            .then(|| Duration::from_secs(settings.licence_pass_every_s)),
        policy: crate::rules::licences::Policy {
            warn_days: settings.licence_warn_days,
            warned_kinds: (kinds != "all").then(|| {
                kinds
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
        },
    }
}

/// The public HTTP server: the API under `/api/v1` and the dashboard; its port.
fn http_server(
    state: web::Data<AppState>,
    settings: &Settings,
    http_workers: usize,
) -> anyhow::Result<(Server, u16)> {
    let listener = TcpListener::bind(&settings.http_addr)
        .with_context(|| format!("binding {}", settings.http_addr))?;
    let port = listener
        .local_addr()
        .context("reading the bound address")?
        .port();
    let frontend_dir = settings.frontend_dir.clone();
    let server = HttpServer::new(move || {
        // Called on each worker's thread: its decision lane runs there.
        let lane = web::Data::new(DecisionLane::spawn(&state.pool));
        App::new()
            .wrap(from_fn(api::headers::security_headers))
            .wrap(from_fn(api::trace::trace))
            .app_data(state.clone())
            .app_data(lane)
            .configure(api::configure)
            .service(frontend(&frontend_dir))
    })
    .workers(http_workers)
    .listen(listener)
    .context("listening")?
    .run();
    Ok((server, port))
}

/// The metrics listener on `addr` (one worker, `GET /metrics` only), or none when `addr` is
/// empty. It stops with the public server.
/// The primary, and the replica of `database_replica_url` when set (connected lazily: a
/// replica down at start only sends the reads to the primary).
fn read_pools(settings: &Settings, pool: &PgPool) -> anyhow::Result<store::replica::ReadPools> {
    let url = settings.database_replica_url.expose();
    if url.trim().is_empty() {
        return Ok(store::replica::ReadPools::primary_only(pool.clone()));
    }
    let replica = sqlx::postgres::PgPoolOptions::new()
        .max_connections(settings.database_max_connections)
        // Short: a replica that died is noticed by the lag watcher within a round or two, and
        // a read caught in between fails fast (503, retry) rather than hanging.
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy(url)
        .context("parsing database_replica_url")?;
    Ok(store::replica::ReadPools::with_replica(
        pool.clone(),
        replica,
    ))
}

fn metrics_server(addr: &str, pool: &PgPool) -> anyhow::Result<Option<(u16, Server)>> {
    if addr.trim().is_empty() {
        return Ok(None);
    }
    let listener =
        TcpListener::bind(addr.trim()).with_context(|| format!("binding metrics_addr {addr}"))?;
    let port = listener
        .local_addr()
        .context("reading the metrics address")?
        .port();
    let pool = web::Data::new(pool.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .route("/metrics", web::get().to(api::metrics::scrape))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .context("listening for metrics")?
    .run();
    Ok(Some((port, server)))
}

/// The built dashboard at `/`, with every unknown non-API path answered by `index.html` so
/// the frontend's router can handle deep links.
fn frontend(dir: &std::path::Path) -> Files {
    let index: PathBuf = dir.join("index.html");
    Files::new("/", dir)
        .index_file("index.html")
        .default_handler(fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let response = match NamedFile::open(&index) {
                    Ok(file) => file.into_response(&req),
                    Err(_) => HttpResponse::NotFound()
                        .content_type("text/plain; charset=utf-8")
                        .body("The dashboard is not built: run `make demo` (or `trunk build`)."),
                };
                Ok(ServiceResponse::new(req, response))
            }
        }))
}

/// HTTP workers when `http_workers` is 0: half the CPUs, at least one. A filling decision
/// mostly waits on PostgreSQL, which (with the load generator, on the bench) shares the
/// machine: on two cores one worker mostly answered more decisions per second than two (at most
/// 14,656–16,297/s in four of five full bench runs, 11,666 in one, against 11,877–13,780 with
/// two) and sooner at fixed rates (p50 at 1,000/s 0.90–1.16 ms against 1.16–1.28), as fewer
/// threads compete for the cores PostgreSQL needs (BENCHMARKS.md, issue 5).
pub fn default_http_workers(cpus: usize) -> usize {
    (cpus / 2).max(1)
}

/// The pool (the shared connections and each HTTP worker's decision lane's), migrated and its
/// statistics' counters reconciled.
async fn database(settings: &Settings, http_workers: usize) -> anyhow::Result<PgPool> {
    // Each HTTP worker's decision lane keeps its connections on top of the shared ones.
    let lane_connections = u32::try_from(http_workers * DecisionLane::CONNECTIONS)
        .context("http_workers is too large")?;
    let pool = store::connect(
        settings.database_url.expose(),
        settings
            .database_max_connections
            .saturating_add(lane_connections),
    )
    .await?;
    store::migrate(&pool).await?;
    store::stats::reconcile(&pool, settings.loss_after_days, settings.due_soon_days).await?;
    Ok(pool)
}

/// The base map and its districts; the stations' and customers' districts recomputed from it
/// when it changed.
async fn base_map(
    settings: &Settings,
    pool: &PgPool,
) -> anyhow::Result<(Vec<u8>, Arc<crate::rules::districts::Districts>)> {
    let basemap = std::fs::read(&settings.basemap_path)
        .with_context(|| format!("reading basemap_path {}", settings.basemap_path.display()))?;
    let districts = Arc::new(
        crate::rules::districts::Districts::from_geojson(&basemap).with_context(|| {
            format!(
                "reading districts from basemap_path {}",
                settings.basemap_path.display()
            )
        })?,
    );
    let fingerprint = {
        use sha2::Digest;
        sha2::Sha256::digest(&basemap)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let recomputed = store::districts::recompute(pool, &districts, &fingerprint).await?;
    if !recomputed.already {
        tracing::info!(
            districts = districts.len(),
            changed = recomputed.changed,
            outside = recomputed.outside,
            "stations' and customers' districts recomputed from the base map"
        );
    }
    if recomputed.outside > 0 {
        tracing::warn!(
            outside = recomputed.outside,
            "sites lie outside every district of the base map; their district is left as registered"
        );
    }
    Ok((basemap, districts))
}

/// The JT/T 808 gateway and its sweep, supervised, when `jt808_addr` is set: its port.
async fn jt808_gateway(
    settings: &Settings,
    pool: &PgPool,
    relay_wakeup: &Arc<Notify>,
    terminal_sweep: &Arc<Notify>,
    shutdown_rx: &watch::Receiver<bool>,
    workers: &mut Vec<JoinHandle<()>>,
) -> anyhow::Result<Option<u16>> {
    Ok(if settings.jt808_addr.trim().is_empty() {
        None
    } else {
        let (listener, port) = crate::gateway::jt808::bind(&settings.jt808_addr).await?;
        let gateway = crate::gateway::jt808::Gateway::new(
            pool.clone(),
            relay_wakeup.clone(),
            terminal_sweep.clone(),
            crate::gateway::jt808::Options {
                idle: Duration::from_secs(settings.jt808_idle_s.max(1)),
                max_connections: settings.jt808_max_connections,
                sweep_every: Duration::from_secs(settings.registry_cache_s.max(1)),
            },
        );
        let (g, stop) = (gateway.clone(), shutdown_rx.clone());
        workers.push(supervise("jt808 gateway", shutdown_rx.clone(), move || {
            g.clone().accept(listener.clone(), stop.clone())
        }));
        let (g, stop) = (gateway, shutdown_rx.clone());
        workers.push(supervise("jt808 sweep", shutdown_rx.clone(), move || {
            g.clone().sweep(stop.clone())
        }));
        Some(port)
    })
}

/// The MQTT broker's reconciliation and the MQTT sessions, supervised, when `mqtt_url` is set:
/// the broker's side of the registry.
fn mqtt_gateway(
    settings: &Settings,
    pool: &PgPool,
    relay_wakeup: &Arc<Notify>,
    shutdown_rx: &watch::Receiver<bool>,
    workers: &mut Vec<JoinHandle<()>>,
) -> anyhow::Result<Option<Arc<crate::gateway::mqtt::control::Broker>>> {
    Ok(if settings.mqtt_url.trim().is_empty() {
        None
    } else {
        let (broker, source) = mqtt(settings, pool, relay_wakeup)?;
        let (b, stop) = (broker.clone(), shutdown_rx.clone());
        workers.push(supervise("mqtt broker", shutdown_rx.clone(), move || {
            b.clone().run(stop.clone())
        }));
        let stop = shutdown_rx.clone();
        workers.push(supervise("mqtt sessions", shutdown_rx.clone(), move || {
            source.clone().run(stop.clone())
        }));
        Some(broker)
    })
}

/// The MQTT source and the broker's side of the registry, from the `mqtt_*` settings.
fn mqtt(
    settings: &Settings,
    pool: &PgPool,
    relay_wakeup: &Arc<Notify>,
) -> anyhow::Result<(
    Arc<crate::gateway::mqtt::control::Broker>,
    Arc<crate::gateway::mqtt::Source>,
)> {
    use crate::gateway::mqtt::{control, Options, Source};
    let password = settings
        .mqtt_admin_password
        .as_ref()
        .map(|p| p.expose().clone())
        .context("mqtt_url is set: mqtt_admin_password is needed too")?;
    let endpoint =
        control::Endpoint::parse(&settings.mqtt_url, &settings.mqtt_admin_user, &password)?;
    let broker = control::Broker::new(
        pool.clone(),
        endpoint.clone(),
        Duration::from_secs(settings.mqtt_reconcile_s.max(1)),
    );
    let source = Source::new(
        pool.clone(),
        endpoint,
        Options {
            client_id: format!("cylwatch-{}", settings.instance_id),
            lease: Duration::from_secs(settings.mqtt_lease_s.max(1)),
            in_flight: settings.mqtt_in_flight,
            max_message_bytes: settings.max_body_bytes,
            registry_cache: Duration::from_secs(settings.registry_cache_s),
        },
        relay_wakeup.clone(),
    );
    Ok((broker, source))
}

#[cfg(test)]
mod tests {
    use super::default_http_workers;

    #[test]
    fn half_the_cpus_serve_http_and_never_none() {
        assert_eq!(default_http_workers(1), 1);
        assert_eq!(default_http_workers(2), 1);
        assert_eq!(default_http_workers(3), 1);
        assert_eq!(default_http_workers(8), 4);
    }
}
