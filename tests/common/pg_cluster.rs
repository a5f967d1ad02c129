//! A PostgreSQL cluster of a test's own (Debian's PostgreSQL 15 binaries, `initdb` into a temp
//! dir, its own port), and a streaming replica of it (`pg_basebackup -R`): so that a test can
//! pause, stop or lag them without touching the cluster the other tests share. PostgreSQL does
//! not run as root: as root the clusters belong to the `postgres` user. Killed when dropped.

use sqlx::{Connection, Executor, PgConnection};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const BIN: &str = "/usr/lib/postgresql/15/bin";
/// The superuser `initdb` makes (trusted on loopback: a throwaway cluster).
pub const USER: &str = "cylwatch";

pub struct PgCluster {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// The `postgres` user's uid and gid when this process is root (PostgreSQL refuses root).
fn run_as() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid_line = status.lines().find(|l| l.starts_with("Uid:"))?;
    if uid_line.split_whitespace().nth(1)? != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let entry = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let fields: Vec<&str> = entry.split(':').collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

fn command(program: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(Path::new(BIN).join(program));
    if let Some((uid, gid)) = run_as() {
        cmd.uid(uid).gid(gid);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

fn own_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir for PostgreSQL");
    if let Some((uid, gid)) = run_as() {
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown to postgres");
    }
    dir
}

fn run(mut cmd: std::process::Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgCluster {
    /// A new primary with database `db` holding PostGIS.
    pub async fn primary(db: &str) -> Self {
        let dir = own_dir();
        let data = dir.path().join("data");
        let mut initdb = command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C"]);
        run(initdb, "initdb");
        let cluster = Self::start(dir, data).await;
        let mut conn = PgConnection::connect(&cluster.url("postgres"))
            .await
            .unwrap();
        conn.execute(format!("CREATE DATABASE \"{db}\"").as_str())
            .await
            .unwrap();
        let mut conn = PgConnection::connect(&cluster.url(db)).await.unwrap();
        conn.execute("CREATE EXTENSION postgis").await.unwrap();
        cluster
    }

    /// A streaming replica of `primary` (hot standby: it answers reads).
    pub async fn replica_of(primary: &PgCluster) -> Self {
        let dir = own_dir();
        let data = dir.path().join("data");
        let mut backup = command("pg_basebackup");
        backup
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                USER,
            ])
            .arg("-D")
            .arg(&data)
            .args(["-R", "-X", "stream", "-c", "fast"]);
        run(backup, "pg_basebackup");
        Self::start(dir, data).await
    }

    async fn start(dir: tempfile::TempDir, data: PathBuf) -> Self {
        let port = super::free_port();
        let mut cmd = command("postgres");
        cmd.arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(["-c", "fsync=off", "-c", "max_connections=60"]);
        cmd.stderr(Stdio::null());
        let child = Command::from(cmd)
            .kill_on_drop(true)
            .spawn()
            .expect("starting postgres");
        let cluster = Self {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..200 {
            if PgConnection::connect(&cluster.url("postgres"))
                .await
                .is_ok()
            {
                return cluster;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("postgres did not start on {port}");
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Stops it at once (SIGKILL of the postmaster).
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}
