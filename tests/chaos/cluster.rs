//! The suite's own cluster: a PostgreSQL 15 cluster (initdb into a temp dir, PostGIS), a Redis
//! without persistence, the real `cylwatch` binary, and TCP proxies between the server and each
//! of them that can cut every connection at once. All are child processes of the test: it can
//! `kill -9`, pause and restart them without touching the PostgreSQL and Redis other tests use.
//! Dropping the cluster kills every process and removes the directory.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::{AbortHandle, JoinHandle};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn output(cmd: &mut StdCommand) -> String {
    let out = cmd.output().expect("running a command");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The uid and gid to run PostgreSQL as: `postgres`'s when the test runs as root (initdb refuses
/// root), none otherwise.
fn postgres_ids() -> Option<(u32, u32)> {
    if output(StdCommand::new("id").arg("-u")) != "0" {
        return None;
    }
    let uid = output(StdCommand::new("id").args(["-u", "postgres"]))
        .parse()
        .ok()?;
    let gid = output(StdCommand::new("id").args(["-g", "postgres"]))
        .parse()
        .ok()?;
    Some((uid, gid))
}

/// A PostgreSQL cluster of the test's own.
pub struct Postgres {
    pub port: u16,
    data: PathBuf,
    log: PathBuf,
    ids: Option<(u32, u32)>,
}

impl Postgres {
    fn command(&self, program: &str) -> StdCommand {
        let mut cmd = StdCommand::new(Path::new(PG_BIN).join(program));
        if let Some((uid, gid)) = self.ids {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        cmd
    }

    /// initdb into `root/pg`, started.
    pub fn init(root: &Path) -> Self {
        let ids = postgres_ids();
        let dir = root.join("pg");
        std::fs::create_dir_all(&dir).expect("pg dir");
        if let Some((uid, gid)) = ids {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown pg dir");
        }
        let pg = Self {
            port: free_port(),
            data: dir.join("data"),
            log: dir.join("postgres.log"),
            ids,
        };
        let status = pg
            .command("initdb")
            .arg("-D")
            .arg(&pg.data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .status()
            .expect("initdb");
        assert!(status.success(), "initdb failed");
        pg.start();
        pg
    }

    pub fn start(&self) {
        // fsync off: the faults kill processes, never the machine (the page cache survives).
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 \
             -c shared_buffers=64MB",
            self.port,
            self.data
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        let status = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-o", &opts, "-w", "-t", "60", "start"])
            .status()
            .expect("pg_ctl start");
        assert!(
            status.success(),
            "pg_ctl start failed; log {}",
            self.log.display()
        );
    }

    /// `pg_ctl stop -m immediate`: a crash of the database (recovery at the next start).
    pub fn stop_immediate(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .status();
    }

    pub fn url(&self, port: u16, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{db}")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop_immediate();
    }
}

/// A Redis of the test's own, no persistence: a restart is an empty Redis.
pub struct Redis {
    pub port: u16,
    child: Option<std::process::Child>,
    log: PathBuf,
}

impl Redis {
    pub fn start(root: &Path) -> Self {
        let mut r = Self {
            port: free_port(),
            child: None,
            log: root.join("redis.log"),
        };
        r.restart();
        r
    }

    /// Starts it (again), empty.
    pub fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("redis log");
        let child = StdCommand::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        // Wait until it accepts.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis did not start on {}", self.port);
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = StdCommand::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.signal("-CONT");
        self.kill9();
    }
}

/// A TCP proxy on loopback to `target`; `cut` drops every connection through it at once.
pub struct Proxy {
    pub port: u16,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let port = listener.local_addr().expect("proxy addr").port();
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let kept = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                let mut list = kept.lock().expect("proxy list");
                list.retain(|h| !h.is_finished());
                list.push(task.abort_handle());
            }
        });
        Self {
            port,
            conns,
            accept,
        }
    }

    /// Drops every open connection (both ends see them closed).
    pub fn cut(&self) -> usize {
        let list: Vec<AbortHandle> = std::mem::take(&mut *self.conns.lock().expect("proxy list"));
        let n = list.iter().filter(|h| !h.is_finished()).count();
        for h in list {
            h.abort();
        }
        n
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// The `cylwatch serve` binary, restartable on the same port.
pub struct Server {
    pub port: u16,
    env: Vec<(String, String)>,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Server {
    pub fn new(log: PathBuf, env: Vec<(String, String)>) -> Self {
        Self {
            port: free_port(),
            env,
            child: None,
            log,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts it and waits until it listens; retries while it cannot start (its database
    /// away), up to `within`.
    pub async fn start(&mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.try_start().await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server did not start; log {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn try_start(&mut self) -> bool {
        self.kill9().await;
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let ws = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cylwatch"))
            .arg("serve")
            .env("CYLWATCH_HTTP_ADDR", format!("127.0.0.1:{}", self.port))
            .env("CYLWATCH_METRICS_ADDR", "127.0.0.1:0")
            .env("CYLWATCH_FRONTEND_DIR", ws.join("dist"))
            .env(
                "CYLWATCH_BASEMAP_PATH",
                ws.join("assets/basemap/zhengzhou_districts.wgs84.geojson"),
            )
            .env("CYLWATCH_LOG", "info")
            .envs(self.env.clone())
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("starting cylwatch");
        let Some(stdout) = child.stdout.take() else {
            return false;
        };
        let mut lines = BufReader::new(stdout).lines();
        let listening = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.starts_with("cylwatch listening on port ") {
                    return true;
                }
            }
            false
        })
        .await
        .unwrap_or(false);
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
        if !listening {
            self.kill9().await;
        }
        listening
    }

    /// SIGKILL: nothing more is answered or acknowledged.
    pub async fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }
}

/// Everything of one run, removed on drop (processes first).
pub struct Cluster {
    /// HAProxy in front of the instances, when there is more than one.
    pub lb: Option<crate::haproxy::Haproxy>,
    /// The server instances (`chaos-1`, `chaos-2`...), each restartable on its own port.
    pub servers: Vec<Server>,
    /// The suite's own Mosquitto, when devices publish over MQTT (never faulted).
    pub broker: Option<crate::broker::Broker>,
    /// Each instance's JT/T 808 gateway port (fixed: a restart listens there again), when on.
    pub jt808_ports: Vec<u16>,
    /// One proxy to PostgreSQL and one to Redis that every instance goes through: a cut drops
    /// the connections of all of them at once.
    pub pg_proxy: Proxy,
    pub redis_proxy: Proxy,
    pub redis: Redis,
    pub pg: Postgres,
    pub _root: tempfile::TempDir,
}

impl Cluster {
    /// One instance, clients straight to it.
    pub async fn start(extra_env: Vec<(String, String)>) -> Self {
        Self::start_instances(extra_env, 1, false, false).await
    }

    /// `instances` server processes on the same PostgreSQL and Redis (the same `redis_prefix`,
    /// each its own `instance_id`); with more than one, HAProxy in front of them and the
    /// pipeline cut into `max(6, instances)` partitions that move to the survivors.
    /// `mqtt`: a Mosquitto of the run's own, the instances reading the devices' messages from
    /// it (a dead instance's MQTT session drained by a live one after 3 s). `jt808`: each
    /// instance's JT/T 808 gateway on a port of its own.
    pub async fn start_instances(
        extra_env: Vec<(String, String)>,
        instances: usize,
        mqtt: bool,
        jt808: bool,
    ) -> Self {
        let instances = instances.max(1);
        let root = tempfile::Builder::new()
            .prefix("cylwatch-chaos-")
            .tempdir()
            .expect("temp dir");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod temp dir");
        }
        let pg = tokio::task::block_in_place(|| Postgres::init(root.path()));
        // The database and PostGIS, as scripts/setup makes the template.
        let admin = pg.url(pg.port, "postgres");
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("connecting to the suite's PostgreSQL");
        sqlx::Executor::execute(&mut conn, "CREATE DATABASE cylwatch")
            .await
            .expect("create database");
        drop(conn);
        let mut conn =
            <sqlx::PgConnection as sqlx::Connection>::connect(&pg.url(pg.port, "cylwatch"))
                .await
                .expect("connecting to cylwatch");
        sqlx::Executor::execute(&mut conn, "CREATE EXTENSION postgis")
            .await
            .expect("postgis");
        drop(conn);
        let redis = tokio::task::block_in_place(|| Redis::start(root.path()));
        let pg_proxy = Proxy::start(pg.port).await;
        let redis_proxy = Proxy::start(redis.port).await;
        let mut env: Vec<(String, String)> = vec![
            (
                "CYLWATCH_DATABASE_URL".into(),
                pg.url(pg_proxy.port, "cylwatch"),
            ),
            (
                "CYLWATCH_REDIS_URL".into(),
                format!("redis://127.0.0.1:{}", redis_proxy.port),
            ),
            ("CYLWATCH_REDIS_PREFIX".into(), "chaos".into()),
            ("CYLWATCH_ADMIN_USER".into(), crate::ADMIN_USER.into()),
            (
                "CYLWATCH_ADMIN_PASSWORD".into(),
                crate::ADMIN_PASSWORD.into(),
            ),
            ("CYLWATCH_GPS_FILTERS".into(), "false".into()),
        ];
        if instances > 1 {
            env.push((
                "CYLWATCH_PIPELINE_PARTITIONS".into(),
                instances.max(6).to_string(),
            ));
            // A killed instance's partitions go to the survivors after 3 s.
            env.push(("CYLWATCH_PIPELINE_LEASE_MS".into(), "3000".into()));
        }
        let broker = if mqtt {
            let broker = crate::broker::Broker::start().await;
            env.extend(broker.env());
            env.push(("CYLWATCH_MQTT_LEASE_S".into(), "3".into()));
            Some(broker)
        } else {
            None
        };
        env.extend(extra_env);
        let mut servers = Vec::new();
        let mut jt808_ports = Vec::new();
        for i in 0..instances {
            let mut env = env.clone();
            if jt808 {
                let port = free_port();
                env.push(("CYLWATCH_JT808_ADDR".into(), format!("127.0.0.1:{port}")));
                jt808_ports.push(port);
            }
            env.push(("CYLWATCH_INSTANCE_ID".into(), format!("chaos-{}", i + 1)));
            let log = if instances == 1 {
                root.path().join("server.log")
            } else {
                root.path().join(format!("server-{}.log", i + 1))
            };
            let mut server = Server::new(log, env);
            // One after the other: the first runs the migrations.
            server.start(Duration::from_secs(120)).await;
            servers.push(server);
        }
        let lb = if instances > 1 {
            let ports: Vec<u16> = servers.iter().map(|s| s.port).collect();
            let lb = crate::haproxy::Haproxy::start(&ports).await;
            let names: Vec<String> = (0..instances).map(|i| format!("s{i}")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            lb.wait_for(&names, "UP").await;
            Some(lb)
        } else {
            None
        };
        Self {
            lb,
            servers,
            broker,
            jt808_ports,
            pg_proxy,
            redis_proxy,
            redis,
            pg,
            _root: root,
        }
    }

    /// Where the devices and controllers connect: HAProxy, or the one instance.
    pub fn base(&self) -> String {
        match &self.lb {
            Some(lb) => lb.base(),
            None => self.servers[0].base(),
        }
    }

    /// The broker's port, when devices publish over MQTT.
    pub fn mqtt_port(&self) -> Option<u16> {
        self.broker.as_ref().map(|b| b.port)
    }

    /// Each instance's log.
    pub fn logs(&self) -> Vec<PathBuf> {
        self.servers.iter().map(|s| s.log.clone()).collect()
    }

    /// The test's own connection string (not through the proxy).
    pub fn direct_url(&self) -> String {
        self.pg.url(self.pg.port, "cylwatch")
    }
}
