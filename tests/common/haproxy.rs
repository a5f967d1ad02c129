//! An HAProxy of a test's own (Debian's `haproxy`, installed by `scripts/setup`) in front of
//! several server instances on loopback: its own port, its own config in a temp dir, killed
//! when dropped. Its health check asks `GET /api/v1/health/ready` (PostgreSQL only), as
//! `scripts/cluster` configures it; every answer names the instance that served it in
//! `X-Served-By` (HAProxy's name for the server: `s0`, `s1`...).

use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct Haproxy {
    child: Child,
    /// Where clients connect.
    pub port: u16,
    /// HAProxy's statistics page (`/stats;csv`).
    pub stats_port: u16,
    _dir: tempfile::TempDir,
}

/// The configuration `scripts/cluster` writes too (keep the two alike): round robin, a failed
/// connection retried on another instance, an instance out after two failed checks 300 ms
/// apart, WebSocket tunnels kept open for an hour.
pub fn config(port: u16, stats_port: u16, backends: &[u16]) -> String {
    let servers: String = backends
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server s{i} 127.0.0.1:{p} check inter 300ms fall 2 rise 1\n"))
        .collect();
    format!(
        "global\n    maxconn 4000\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    \
         timeout server 60s\n    timeout tunnel 1h\n    retries 3\n    option redispatch\n\
         frontend cylwatch\n    bind 127.0.0.1:{port}\n    default_backend instances\n\
         frontend stats\n    bind 127.0.0.1:{stats_port}\n    stats enable\n    stats uri /stats\n\
         backend instances\n    balance roundrobin\n    option httpchk GET /api/v1/health/ready\n    \
         http-check expect status 200\n    http-response set-header X-Served-By %s\n{servers}"
    )
}

impl Haproxy {
    /// Starts HAProxy in front of the instances listening on `backends`, and waits until it
    /// accepts connections.
    pub async fn start(backends: &[u16]) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir for HAProxy");
        let (port, stats_port) = (super::free_port(), super::free_port());
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config(port, stats_port, backends)).expect("writing haproxy.cfg");
        let child = Command::new("haproxy")
            .arg("-db") // foreground, no daemon
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("haproxy (installed by scripts/setup)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self {
                    child,
                    port,
                    stats_port,
                    _dir: dir,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("haproxy did not start on {port}");
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Each server's name and check status (`UP`, `DOWN`, ...), from the statistics page.
    pub async fn servers(&self) -> Vec<(String, String)> {
        let url = format!("http://127.0.0.1:{}/stats;csv", self.stats_port);
        let Ok(answer) = reqwest::get(&url).await else {
            return Vec::new();
        };
        let text = answer.text().await.unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with("instances,s"))
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                Some((cells.get(1)?.to_string(), cells.get(17)?.to_string()))
            })
            .collect()
    }

    /// Waits until every server named is in `status` (15 s at most).
    pub async fn wait_for(&self, names: &[&str], status: &str) {
        for _ in 0..150 {
            let servers = self.servers().await;
            if names.iter().all(|n| {
                servers
                    .iter()
                    .any(|(s, st)| s == n && st.starts_with(status))
            }) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "servers {names:?} not {status} after 15 s: {:?}",
            self.servers().await
        );
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
