//! One Redis or a Redis Cluster, behind one connection type. In a cluster the keys of one
//! partition share a hash tag (one slot, one master: the partition's pipelines and scripts stay
//! on one node); live channels share one too, and pub/sub reaches every node's subscribers
//! (a PUBLISH on any master is broadcast over the cluster bus), so the live hub subscribes on
//! one node and moves to the next when it fails.

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};
use std::time::Duration;

/// Blocking reads wait up to a second; every answer is given more than that.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the bus is: one Redis, or the seed nodes of a Redis Cluster.
#[derive(Clone)]
pub enum Redis {
    Single(redis::Client),
    Cluster {
        client: Box<ClusterClient>,
        /// Each seed node on its own, for pub/sub (tried in turn).
        nodes: Vec<redis::Client>,
    },
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Single(_) => f.write_str("Redis::Single"),
            Self::Cluster { nodes, .. } => write!(f, "Redis::Cluster({} seed nodes)", nodes.len()),
        }
    }
}

impl Redis {
    /// One Redis at `url`, or, when `cluster_urls` (comma-separated) names any node, the
    /// cluster those nodes belong to.
    pub fn open(url: &str, cluster_urls: &str) -> RedisResult<Self> {
        let seeds: Vec<&str> = cluster_urls
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if seeds.is_empty() {
            return Ok(Self::Single(redis::Client::open(url)?));
        }
        let client = ClusterClient::builder(seeds.clone())
            .response_timeout(RESPONSE_TIMEOUT)
            .connection_timeout(Duration::from_secs(5))
            .build()?;
        let nodes = seeds
            .into_iter()
            .map(redis::Client::open)
            .collect::<RedisResult<Vec<_>>>()?;
        Ok(Self::Cluster {
            client: Box::new(client),
            nodes,
        })
    }

    /// Whether this is a cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster { .. })
    }

    /// A new connection (in a cluster: to every master, commands routed by key).
    pub async fn connect(&self) -> RedisResult<Conn> {
        match self {
            Self::Single(client) => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_response_timeout(Some(RESPONSE_TIMEOUT));
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map(Conn::Single)
            }
            Self::Cluster { client, .. } => client.get_async_connection().await.map(Conn::Cluster),
        }
    }

    /// The node to subscribe on after `attempt` failures (in a cluster the seed nodes in
    /// turn, so that a dead one is not tried forever).
    pub fn pubsub_node(&self, attempt: usize) -> Option<&redis::Client> {
        match self {
            Self::Single(client) => Some(client),
            Self::Cluster { nodes, .. } => nodes.get(attempt % nodes.len().max(1)),
        }
    }
}

/// A connection to one Redis or to a cluster.
#[derive(Clone)]
pub enum Conn {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}
