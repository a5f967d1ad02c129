//! The stream consumer: XREADGROUP in the pipeline's group, stages in order, PUBLISH, XACK.
//! On start it first finishes the entries it had been given before a restart (its own pending
//! list), then reads new ones.

use super::{connect_redis, custody, positions, sleep_or_shutdown, StreamKeys};
use crate::store;
use anyhow::Context;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use shared::events::Event;
use shared::live::LiveMessage;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;

const COUNT: usize = 500;
const BLOCK_MS: usize = 1000;

/// Runs until shutdown.
pub async fn run(
    pool: PgPool,
    client: redis::Client,
    keys: StreamKeys,
    consumer: String,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let Some(mut conn) = connect_redis(&client, "consumer", &mut shutdown).await else {
            return;
        };
        match consume(&pool, &mut conn, &keys, &consumer, &mut shutdown).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "pipeline consumer failed; restarting");
                if sleep_or_shutdown(Duration::from_secs(1), &mut shutdown).await {
                    return;
                }
            }
        }
    }
}

async fn consume(
    pool: &PgPool,
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
    consumer: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    ensure_group(conn, keys).await?;
    // Own pending entries first ("0"), then new ones (">").
    let mut from_pending = true;
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let start = if from_pending { "0" } else { ">" };
        let mut options = StreamReadOptions::default()
            .group(&keys.group, consumer)
            .count(COUNT);
        if !from_pending {
            options = options.block(BLOCK_MS);
        }
        let (streams, ids) = ([keys.events.as_str()], [start]);
        let reply: Option<StreamReadReply> = tokio::select! {
            r = conn.xread_options(&streams, &ids, &options) => r.context("XREADGROUP")?,
            _ = shutdown.changed() => return Ok(()),
        };
        let entries: Vec<StreamId> = reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default();
        if entries.is_empty() {
            if from_pending {
                tracing::info!(consumer, "pending entries done; reading new entries");
            }
            from_pending = false;
            continue;
        }
        process(pool, conn, keys, &entries).await?;
    }
}

async fn ensure_group(conn: &mut MultiplexedConnection, keys: &StreamKeys) -> anyhow::Result<()> {
    let created: redis::RedisResult<()> = conn
        .xgroup_create_mkstream(&keys.events, &keys.group, "0")
        .await;
    match created {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        Err(e) => Err(e).context("XGROUP CREATE"),
    }
}

/// Runs the stages over one batch, publishes the changes, then acknowledges the entries.
async fn process(
    pool: &PgPool,
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
    entries: &[StreamId],
) -> anyhow::Result<()> {
    let mut events = Vec::with_capacity(entries.len());
    let mut enterprises = Vec::with_capacity(entries.len());
    for entry in entries {
        let payload: Option<String> = entry.get("event");
        let parsed = payload
            .as_deref()
            .ok_or_else(|| "entry has no \"event\" field".to_owned())
            .and_then(|p| serde_json::from_str::<Event>(p).map_err(|e| e.to_string()));
        match parsed {
            Ok(event) => {
                events.push(event);
                enterprises.push(entry.get::<String>("enterprise"));
            }
            Err(error) => {
                tracing::error!(id = %entry.id, error, "undecodable stream entry; dead-lettered");
                store::events::dead_letter(
                    pool,
                    &entry.id,
                    payload.as_deref().unwrap_or(""),
                    &error,
                )
                .await?;
            }
        }
    }
    let messages = positions::apply(pool, &events, &enterprises).await?;
    custody::apply(pool, &events, &enterprises).await?;
    publish(conn, keys, &messages).await?;
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    let _: usize = conn
        .xack(&keys.events, &keys.group, &ids)
        .await
        .context("XACK")?;
    Ok(())
}

async fn publish(
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
    messages: &[LiveMessage],
) -> anyhow::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut pipe = redis::pipe();
    for message in messages {
        let topic = match message {
            LiveMessage::Vehicle(_) | LiveMessage::Snapshot { .. } => "vehicles",
        };
        let text = serde_json::to_string(message).context("serializing a live message")?;
        pipe.cmd("PUBLISH")
            .arg(format!("{}{topic}", keys.live))
            .arg(text)
            .ignore();
    }
    let _: () = pipe
        .query_async(conn)
        .await
        .context("PUBLISH live messages")?;
    Ok(())
}
