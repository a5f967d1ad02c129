//! A Redis Cluster of a test's own: three masters on loopback (Debian's `redis-server`,
//! installed by `scripts/setup`), no replicas, no persistence, each in a temp dir holding its
//! `nodes.conf`, killed when dropped. `restart_empty` kills one master and starts it again on
//! the same port and cluster config: it takes back its slots with no data (its streams lost,
//! the other masters' kept: `cluster-require-full-coverage no`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct RedisCluster {
    /// Each master's client port, in the order given to `redis-cli --cluster create`.
    pub ports: Vec<u16>,
    bus_ports: Vec<u16>,
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

async fn start_node(dir: &Path, port: u16, bus_port: u16) -> Child {
    let node_dir: PathBuf = dir.join(port.to_string());
    std::fs::create_dir_all(&node_dir).expect("a node's dir");
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            &bus_port.to_string(),
        ])
        .args(["--cluster-config-file", "nodes.conf"])
        .args(["--cluster-node-timeout", "2000"])
        .args(["--cluster-require-full-coverage", "no"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&node_dir)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server (installed by scripts/setup)");
    for _ in 0..100 {
        if node(port).await.is_some() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not start on {port}");
}

/// A plain connection to one node (no cluster routing: a key of another master's slot is
/// answered with MOVED).
pub async fn node(port: u16) -> Option<redis::aio::MultiplexedConnection> {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .ok()?
        .get_multiplexed_async_connection()
        .await
        .ok()
}

async fn cluster_ok(port: u16) -> bool {
    let Some(mut conn) = node(port).await else {
        return false;
    };
    let info: String = redis::cmd("CLUSTER")
        .arg("INFO")
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    info.contains("cluster_state:ok")
}

impl RedisCluster {
    /// Three masters sharing the 16,384 slots, every node agreeing the cluster is up.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir for the cluster");
        let ports: Vec<u16> = (0..3).map(|_| super::free_port()).collect();
        let bus_ports: Vec<u16> = (0..3).map(|_| super::free_port()).collect();
        let mut children = Vec::new();
        for (port, bus) in ports.iter().zip(&bus_ports) {
            children.push(start_node(dir.path(), *port, *bus).await);
        }
        let addresses: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .await
            .expect("redis-cli (installed with redis-server)");
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        let cluster = Self {
            ports,
            bus_ports,
            children,
            dir,
        };
        cluster.wait_ok().await;
        cluster
    }

    async fn wait_ok(&self) {
        for _ in 0..300 {
            let mut all = true;
            for port in &self.ports {
                all &= cluster_ok(*port).await;
            }
            if all {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the Redis Cluster did not come up in 30 s");
    }

    /// The seed URLs, starting with master `first`.
    pub fn urls_from(&self, first: usize) -> String {
        let n = self.ports.len();
        (0..n)
            .map(|i| format!("redis://127.0.0.1:{}", self.ports[(first + i) % n]))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Which master holds `key`'s slot (the one not answering MOVED).
    pub async fn owner(&self, key: &str) -> usize {
        for (i, port) in self.ports.iter().enumerate() {
            let mut conn = node(*port).await.expect("a cluster node");
            let answer: redis::RedisResult<i64> =
                redis::cmd("EXISTS").arg(key).query_async(&mut conn).await;
            if answer.is_ok() {
                return i;
            }
        }
        panic!("no master holds {key}");
    }

    /// Kills master `i` (SIGKILL) and starts it again on its port and cluster config, with no
    /// data; waits until the cluster is up again.
    pub async fn restart_empty(&mut self, i: usize) {
        let child = &mut self.children[i];
        child.kill().await.expect("killing a master");
        child.wait().await.expect("reaping a master");
        self.children[i] = start_node(self.dir.path(), self.ports[i], self.bus_ports[i]).await;
        self.wait_ok().await;
    }
}
