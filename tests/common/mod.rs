//! Shared by the end-to-end tests: each test gets its own database (cloned from the PostGIS
//! template `scripts/setup` makes), its own Redis key prefix, and the real `cylwatch` binary
//! listening on a free port. They speak to it through `cylwatch-client`, the simulator's typed
//! client (`app.client` is its HTTP client, for requests a test shapes by hand).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cylwatch_client::{Auth, Client};
use serde_json::{json, Value};
use shared::auth::LoginRequest;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

pub mod broker;
pub mod haproxy;
pub mod pg_cluster;
pub mod redis_cluster;

/// The server's administrative database URL (a role that may CREATE DATABASE).
pub fn admin_database_url() -> String {
    std::env::var("CYLWATCH_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres".into())
}

/// The Redis every test shares (keys are prefixed per test).
pub fn redis_url() -> String {
    std::env::var("CYLWATCH_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The simulator's binary, `cylwatch-sim`: a bin of another package of the workspace, so
/// cargo names no `CARGO_BIN_EXE_` for it here; it lands beside the server's binary (the
/// profile's directory). `cargo test --workspace` builds it (its package has a test of the
/// binary); a narrower run needs `cargo build -p cylwatch-sim` first.
pub fn sim_binary() -> PathBuf {
    let server = PathBuf::from(env!("CARGO_BIN_EXE_cylwatch"));
    let sim = server.with_file_name(format!("cylwatch-sim{}", std::env::consts::EXE_SUFFIX));
    assert!(
        sim.is_file(),
        "{} is missing: run `cargo build -p cylwatch-sim` (cargo test --workspace builds it)",
        sim.display()
    );
    sim
}

/// Where tests write logs and screenshots.
pub fn output_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cylwatch-tests");
    std::fs::create_dir_all(&dir).expect("creating the test output directory");
    dir
}

/// A database of its own for one test, dropped when the test ends.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("cylwatch_test_{}", Uuid::new_v4().simple());
        let admin = admin_database_url();
        let mut conn = PgConnection::connect(&admin)
            .await
            .expect("connecting as the test admin; did scripts/setup run?");
        let mut tries = 0;
        // Concurrent clones of one template may collide for a moment.
        while let Err(e) = conn
            .execute(format!("CREATE DATABASE \"{name}\" TEMPLATE cylwatch_template").as_str())
            .await
        {
            tries += 1;
            assert!(tries < 20, "creating {name}: {e}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .expect("database URL");
        let url = format!("{base}/{name}");
        let pool = PgPool::connect(&url)
            .await
            .expect("connecting to the test database");
        Self { name, url, pool }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop needs async work: do it on a runtime of its own, off the test's runtime (whose
        // thread this blocks). FORCE ends the pool's connections, which belong to that runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let mut conn = PgConnection::connect(&admin_database_url()).await.ok()?;
                conn.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// The administrator every test server starts with.
pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "Admin-Test-2026!";

/// How to start the binary.
#[derive(Clone)]
pub struct AppConfig {
    pub redis_url: String,
    pub redis_prefix: String,
    pub instance_id: String,
    pub http_addr: String,
    /// More `CYLWATCH_*` settings.
    pub env: Vec<(String, String)>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            redis_url: redis_url(),
            redis_prefix: format!("cylwatch-test:{}", Uuid::new_v4().simple()),
            instance_id: "test-instance".into(),
            http_addr: "127.0.0.1:0".into(),
            // Fixtures are not real tracks (fixed dates, positions far apart): the GPS
            // plausibility filters stay off unless a test turns them on (`tests/api/fusion.rs`).
            env: vec![("CYLWATCH_GPS_FILTERS".into(), "false".into())],
        }
    }
}

/// A running `cylwatch serve`.
pub struct TestApp {
    // Fields drop in order: the server dies before its database.
    child: Child,
    pub base: String,
    pub port: u16,
    /// The metrics listener's port (`metrics_addr`).
    pub metrics_port: Option<u16>,
    /// The JT/T 808 gateway's port, when the test set `CYLWATCH_JT808_ADDR`.
    pub jt808_port: Option<u16>,
    pub config: AppConfig,
    pub db: TestDb,
    /// The typed client of the server (no token: helpers say who speaks).
    pub api: Client,
    /// `api`'s HTTP client.
    pub client: reqwest::Client,
    pub log: PathBuf,
    /// The administrator's bearer token: `post_json`, `get_json`... send it.
    pub admin_token: String,
    /// A key of an unbound device of enterprise `ENT1` (created at start): `post_events` sends it.
    pub device_key: String,
}

/// Starts the binary on its own database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppConfig::default(), TestDb::new().await).await
}

/// Starts the binary with `config` on `db`, signs the administrator in and gives enterprise
/// `ENT1` a device.
pub async fn spawn_app_with(config: AppConfig, db: TestDb) -> TestApp {
    let mut app = spawn_bare(config, db).await;
    app.admin_token = app.login(ADMIN_USER, ADMIN_PASSWORD).await;
    let (status, answer) = app
        .post_json("/api/v1/enterprises", &enterprise("ENT1"))
        .await;
    assert!(status == 201 || status == 409, "creating ENT1: {answer}");
    app.device_key = app.new_device("ENT1", json!({})).await;
    app
}

/// Starts the binary with `config` on `db` and waits until it answers; nothing else.
pub async fn spawn_bare(config: AppConfig, db: TestDb) -> TestApp {
    let log = output_dir().join(format!("{}.log", db.name));
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .expect("opening the server log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cylwatch"))
        .arg("serve")
        .env("CYLWATCH_DATABASE_URL", &db.url)
        .env("CYLWATCH_REDIS_URL", &config.redis_url)
        .env("CYLWATCH_REDIS_PREFIX", &config.redis_prefix)
        .env("CYLWATCH_INSTANCE_ID", &config.instance_id)
        .env("CYLWATCH_HTTP_ADDR", &config.http_addr)
        // Every test server has its metrics listener (`tests/api/metrics.rs` scrapes it).
        .env("CYLWATCH_METRICS_ADDR", "127.0.0.1:0")
        .env("CYLWATCH_FRONTEND_DIR", workspace().join("dist"))
        .env(
            "CYLWATCH_BASEMAP_PATH",
            workspace().join("assets/basemap/zhengzhou_districts.wgs84.geojson"),
        )
        .env("CYLWATCH_LOG", "info")
        .env("CYLWATCH_ADMIN_USER", ADMIN_USER)
        .env("CYLWATCH_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .envs(config.env.clone())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("starting the cylwatch binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut metrics_port = None;
    let mut jt808_port = None;
    let port = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(port) = line.strip_prefix("cylwatch metrics on port ") {
                metrics_port = port.trim().parse::<u16>().ok();
            }
            if let Some(port) = line.strip_prefix("cylwatch jt808 on port ") {
                jt808_port = port.trim().parse::<u16>().ok();
            }
            if let Some(port) = line.strip_prefix("cylwatch listening on port ") {
                return port.trim().parse::<u16>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(|| panic!("the server did not start; log: {}", log.display()));
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base = format!("http://127.0.0.1:{port}");
    let api = Client::with_http(reqwest::Client::new(), &base);
    let app = TestApp {
        client: api.http().clone(),
        api,
        base,
        port,
        metrics_port,
        jt808_port,
        config,
        db,
        log,
        child,
        admin_token: String::new(),
        device_key: String::new(),
    };
    app.wait_until(|| async { app.api.get_text("/api/v1/health", Auth::None).await.is_ok() })
        .await;
    app
}

impl TestApp {
    /// Kills the server at once (SIGKILL: no shutdown, nothing more acknowledged) and starts it
    /// again on the same database, Redis prefix and instance id. Tokens and keys stay valid.
    pub async fn kill_and_restart(self) -> TestApp {
        let TestApp {
            mut child,
            config,
            db,
            admin_token,
            device_key,
            ..
        } = self;
        child.start_kill().expect("killing the server");
        child.wait().await.expect("waiting for the killed server");
        let mut app = spawn_bare(config, db).await;
        app.admin_token = admin_token;
        app.device_key = device_key;
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The live feed's URL with a fresh single-use ticket of the administrator.
    pub async fn ws_url(&self) -> String {
        self.live_url_for(&self.admin_token).await
    }

    /// The live feed's URL with a fresh single-use ticket of the user signed in with `token`
    /// (`POST /api/v1/live/ticket`: no token in the URL).
    pub async fn live_url_for(&self, token: &str) -> String {
        let (status, answer) = self
            .send_json(
                reqwest::Method::POST,
                "/api/v1/live/ticket",
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, 201, "live ticket: {answer}");
        format!(
            "ws://127.0.0.1:{}/api/v1/live?ticket={}",
            self.port,
            answer["ticket"].as_str().expect("ticket")
        )
    }

    /// Signs in; returns the token (panics on failure).
    pub async fn login(&self, username: &str, password: &str) -> String {
        let request = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        let answer = self
            .api
            .login(&request)
            .await
            .unwrap_or_else(|e| panic!("login {username}: {e}"));
        answer.token
    }

    /// Registers a device of `enterprise` (binding fields in `extra`); returns its key.
    pub async fn new_device(&self, enterprise: &str, extra: Value) -> String {
        let mut body = json!({"device_id": format!("dev-{}", Uuid::new_v4().simple()),
                              "kind": "gps", "enterprise_code": enterprise});
        if let (Some(b), Value::Object(more)) = (body.as_object_mut(), extra) {
            b.extend(more);
        }
        let (status, answer) = self.post_json("/api/v1/devices", &body).await;
        assert_eq!(status, 201, "device: {answer}");
        answer["key"].as_str().expect("key").to_owned()
    }

    /// Any JSON request with an optional bearer token; status and JSON answer.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let auth = token.map_or(Auth::None, Auth::Bearer);
        self.api
            .send_json(method, path, body, auth)
            .await
            .expect("request")
    }

    /// POSTs events with a given device key.
    pub async fn post_events_as(&self, key: &str, body: &Value) -> (u16, Value) {
        self.post_as_device("/api/v1/events", key, body).await
    }

    /// POSTs a JSON body to `path` as the device with `key`: status and answer.
    pub async fn post_as_device(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.api
            .send_json(reqwest::Method::POST, path, Some(body), Auth::Device(key))
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// `POST /api/v1/fillings/authorize` as the controller with `key`.
    pub async fn authorize(&self, key: &str, body: Value) -> (u16, Value) {
        self.post_as_device("/api/v1/fillings/authorize", key, &body)
            .await
    }

    /// `POST /api/v1/fillings` as the controller with `key`.
    pub async fn post_filling(&self, key: &str, body: &Value) -> (u16, Value) {
        self.post_as_device("/api/v1/fillings", key, body).await
    }

    /// POSTs a JSON body to /api/v1/events with the ENT1 device's key.
    pub async fn post_events(&self, body: &Value) -> (u16, Value) {
        self.post_events_as(&self.device_key, body).await
    }

    /// POSTs raw bytes with a content type.
    pub async fn post_raw(&self, body: Vec<u8>, content_type: &str) -> (u16, Value) {
        let device = Auth::Device(&self.device_key);
        self.api
            .send_bytes("/api/v1/events", body, content_type, device)
            .await
            .expect("POST events")
    }

    /// POSTs a JSON body to `path` as the administrator.
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send_json(
            reqwest::Method::POST,
            path,
            Some(body),
            Some(&self.admin_token),
        )
        .await
    }

    /// POSTs raw bytes with a content type to `path`.
    pub async fn post_bytes(&self, path: &str, body: Vec<u8>, content_type: &str) -> (u16, Value) {
        let admin = Auth::Bearer(&self.admin_token);
        self.api
            .send_bytes(path, body, content_type, admin)
            .await
            .expect("POST")
    }

    /// GETs `path` as text, as the administrator.
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        self.api
            .get_text(path, Auth::Bearer(&self.admin_token))
            .await
            .expect("GET")
    }

    /// `seed_registry`, then a filling-gun controller of `ENT1` bound to station `ST1`; returns
    /// its key.
    pub async fn seed_registry_with_controller(&self) -> String {
        self.seed_registry().await;
        self.new_device("ENT1", json!({"kind": "controller", "station_code": "ST1"}))
            .await
    }

    /// Registers enterprise `ENT1` with station `ST1` (and `ST2`), customer `C1`, staff `S1`.
    pub async fn seed_registry(&self) {
        // ENT1 itself exists from the start (its device sends `post_events`).
        let posts = [
            (
                "/api/v1/stations",
                station("ST1", "ENT1", "一号充装站", 113.62, 34.75),
            ),
            (
                "/api/v1/stations",
                station("ST2", "ENT1", "二号门店", 113.70, 34.78),
            ),
            (
                "/api/v1/customers",
                json!({"code": "C1", "enterprise_code": "ENT1", "name": "四仙包子店",
                "kind": "restaurant", "phone": "13800000000", "address": "金水路1号",
                "location": {"lon": 113.66, "lat": 34.76}, "district_code": "410105"}),
            ),
            (
                "/api/v1/staff",
                json!({"staff_no": "S1", "enterprise_code": "ENT1", "name": "陈荣华",
                "role": "filler", "certificate_no": "TS-1", "certificate_expires": "2030-01-01"}),
            ),
        ];
        for (path, body) in posts {
            let (status, answer) = self.post_json(path, &body).await;
            assert_eq!(status, 201, "{path}: {answer}");
        }
    }

    /// Registers the inspection body `INSP` (检验机构): the administrator registers its station
    /// `INSP-I` of kind `inspection`, which grants it. Its devices report inspections of other
    /// enterprises' cylinders.
    pub async fn add_inspection_body(&self) {
        let (status, answer) = self
            .post_json("/api/v1/enterprises", &enterprise("INSP"))
            .await;
        assert_eq!(status, 201, "{answer}");
        let mut body = station("INSP-I", "INSP", "郑州市特种设备检验所", 113.64, 34.74);
        body["kind"] = json!("inspection");
        let (status, answer) = self.post_json("/api/v1/stations", &body).await;
        assert_eq!(status, 201, "{answer}");
    }

    /// A new device of the inspection body (`add_inspection_body`), bound to its station.
    pub async fn inspector_key(&self) -> String {
        self.new_device("INSP", json!({"kind": "reader", "station_code": "INSP-I"}))
            .await
    }

    /// POSTs the batch's inspections with a key of the inspection body (`add_inspection_body`),
    /// then the other events with the ENT1 device's key: each answer, status and body.
    pub async fn post_events_and_inspections(&self, events: Vec<Value>) -> Vec<(u16, Value)> {
        let (inspections, rest): (Vec<Value>, Vec<Value>) =
            events.into_iter().partition(|e| e["kind"] == "inspection");
        let mut answers = Vec::new();
        if !inspections.is_empty() {
            let key = self.inspector_key().await;
            let body = json!({ "events": inspections });
            answers.push(self.post_events_as(&key, &body).await);
        }
        if !rest.is_empty() {
            answers.push(self.post_events(&json!({ "events": rest })).await);
        }
        answers
    }

    /// GETs `path` as the administrator.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        self.send_json(reqwest::Method::GET, path, None, Some(&self.admin_token))
            .await
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.db.pool)
            .await
            .expect("count")
    }

    /// Polls `check` every 100 ms for up to 20 s; panics with the log path when it never holds.
    pub async fn wait_until<F, Fut>(&self, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..200 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "condition not met within 20 s; server log: {}",
            self.log.display()
        );
    }

    /// Stops the server (SIGKILL: as abrupt as a crash); the database stays.
    pub async fn kill(mut self) -> (AppConfig, TestDb) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        (self.config, self.db)
    }
}

/// A valid GPS event.
pub fn gps(plate: &str, lon: f64, lat: f64, occurred_at: &str) -> Value {
    json!({"id": Uuid::new_v4(), "kind": "gps", "occurred_at": occurred_at,
           "vehicle_plate": plate, "lon": lon, "lat": lat, "speed_kmh": 36.5, "heading": 90})
}

/// An enterprise record.
pub fn enterprise(code: &str) -> Value {
    json!({"code": code, "name": format!("{code} 燃气有限公司"), "credit_code": "91410100MA000000X1",
           "district_code": "410105", "address": "郑州市金水区", "filling_licence_no": "豫充-001",
           "filling_licence_expires": "2030-12-31", "gas_licence_no": "豫燃-001",
           "gas_licence_expires": "2030-12-31", "media": ["LPG"]})
}

/// A station record.
pub fn station(code: &str, enterprise: &str, name: &str, lon: f64, lat: f64) -> Value {
    json!({"code": code, "enterprise_code": enterprise, "name": name, "kind": "filling",
           "location": {"lon": lon, "lat": lat}, "radius_m": 150, "full_stock_limit": 200})
}

/// A valid, registered LPG cylinder archive of `ENT1` at `ST1`.
pub fn archive(code: &str, tag: &str) -> Value {
    json!({"code": code, "tag_id": tag, "medium": "LPG", "tare_kg": 16.4, "volume_l": 35.5,
           "working_pressure_mpa": 2.1, "test_pressure_mpa": 3.2, "wall_thickness_mm": 2.6,
           "max_fill_kg": 14.5, "design_life_years": 15, "manufacturer": "江苏民生重工有限公司",
           "manufactured_on": "2020-04-01", "product_standard": "GB 5842",
           "manufacture_licence_no": "TS2210001", "last_inspected_on": "2024-04-01",
           "next_inspection_on": "2028-04-01", "registration_no": "豫A-LPG-0001",
           "registered_on": "2020-05-01", "registration_authority": "郑州市市场监督管理局",
           "owner_enterprise_code": "ENT1", "station_code": "ST1"})
}

/// A scan event.
pub fn scan(op: &str, cylinder: &str, occurred_at: &str, extra: Value) -> Value {
    let mut event = json!({"id": Uuid::new_v4(), "kind": "scan", "op": op,
                           "cylinder_code": cylinder, "occurred_at": occurred_at});
    if let (Some(e), Value::Object(more)) = (event.as_object_mut(), extra) {
        e.extend(more);
    }
    event
}

/// A free TCP port on loopback (closed again; fine for a test that binds it right away).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The filling facts kept on every cylinder's state row equal those its whole history implies
/// now (`filling_facts`): no write path left them behind. Returns the cylinders that differ.
pub async fn stale_filling_facts(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.code FROM cylinders c LEFT JOIN cylinder_state s ON s.cylinder_id = c.id \
         CROSS JOIN LATERAL filling_facts(c.id) f \
         WHERE (s.last_filled_at, s.last_fill_started_at, coalesce(s.circulated_since_fill, false), \
                s.last_pre_check_at, coalesce(s.post_checked, false)) \
               IS DISTINCT FROM \
               (f.last_filled_at, f.last_fill_started_at, f.circulated, f.last_pre_check_at, \
                f.post_checked) \
         ORDER BY c.code",
    )
    .fetch_all(pool)
    .await
    .expect("comparing kept filling facts with the history")
}
