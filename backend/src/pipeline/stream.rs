//! Stream I/O of one partition: the consumer group, reading (own pending entries or new ones),
//! claiming a silent consumer's entries, acknowledging, trimming, and publishing what the
//! stages changed to the live channels.

use crate::bus::{Conn, StreamKeys};
use anyhow::Context;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamInfoGroupsReply,
    StreamPendingReply, StreamReadOptions, StreamReadReply,
};
use redis::AsyncCommands;
use shared::live::LiveMessage;
use std::time::Duration;

/// Entries read or claimed at once.
pub const COUNT: usize = 500;
/// How long a read waits for new entries.
pub const BLOCK_MS: usize = 1000;

/// Creates the consumer group (and the stream) unless it exists.
pub async fn ensure_group(conn: &mut Conn, keys: &StreamKeys) -> anyhow::Result<()> {
    let created: redis::RedisResult<()> = conn
        .xgroup_create_mkstream(&keys.events, &keys.group, "0")
        .await;
    match created {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        Err(e) => Err(e).context("XGROUP CREATE"),
    }
}

/// Takes over entries idle longer than `idle` on any consumer of the group (this one's
/// included: they come back to be processed).
pub async fn claim(
    conn: &mut Conn,
    keys: &StreamKeys,
    consumer: &str,
    idle: Duration,
) -> anyhow::Result<Vec<StreamId>> {
    let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
    let reply: StreamAutoClaimReply = conn
        .xautoclaim_options(
            &keys.events,
            &keys.group,
            consumer,
            idle_ms,
            "0-0",
            StreamAutoClaimOptions::default().count(COUNT),
        )
        .await
        .context("XAUTOCLAIM")?;
    Ok(reply.claimed)
}

/// Removes the entries every group is done with: those below the oldest entry still pending
/// in, or not yet delivered to, any group.
pub async fn trim(conn: &mut Conn, keys: &StreamKeys) -> anyhow::Result<()> {
    let groups: StreamInfoGroupsReply = conn
        .xinfo_groups(&keys.events)
        .await
        .context("XINFO GROUPS")?;
    let mut keep_from: Option<(u64, u64)> = None;
    for group in &groups.groups {
        let pending: StreamPendingReply = conn
            .xpending(&keys.events, &group.name)
            .await
            .context("XPENDING")?;
        let oldest = match &pending {
            StreamPendingReply::Data(data) => data.start_id.as_str(),
            _ => group.last_delivered_id.as_str(),
        };
        let Some(id) = parse_id(oldest) else {
            return Ok(()); // unreadable: trim nothing
        };
        keep_from = Some(keep_from.map_or(id, |k| k.min(id)));
    }
    let Some((ms, seq)) = keep_from else {
        return Ok(());
    };
    let removed: usize = redis::cmd("XTRIM")
        .arg(&keys.events)
        .arg("MINID")
        .arg(format!("{ms}-{seq}"))
        .query_async(conn)
        .await
        .context("XTRIM")?;
    if removed > 0 {
        tracing::debug!(removed, "processed entries trimmed from the stream");
    }
    Ok(())
}

fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// Reads up to `COUNT` entries for `consumer`: from its own pending list (`pending`), else new
/// ones, waiting up to `block_ms` for them.
pub async fn read(
    conn: &mut Conn,
    keys: &StreamKeys,
    consumer: &str,
    pending: bool,
    block_ms: usize,
) -> anyhow::Result<Vec<StreamId>> {
    let mut read = StreamReadOptions::default()
        .group(&keys.group, consumer)
        .count(COUNT);
    if !pending {
        read = read.block(block_ms);
    }
    let start = if pending { "0" } else { ">" };
    let (streams, ids) = ([keys.events.as_str()], [start]);
    let reply: Option<StreamReadReply> = conn
        .xread_options(&streams, &ids, &read)
        .await
        .context("XREADGROUP")?;
    Ok(reply
        .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
        .unwrap_or_default())
}

/// Acknowledges entries done with (applied or dead-lettered).
pub async fn ack(conn: &mut Conn, keys: &StreamKeys, ids: &[&str]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let _: usize = conn
        .xack(&keys.events, &keys.group, ids)
        .await
        .context("XACK")?;
    Ok(())
}

/// Publishes the stages' changes to the live channels.
pub async fn publish(
    conn: &mut Conn,
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
            LiveMessage::Alert(_) => "alerts",
            LiveMessage::Cylinder(_) | LiveMessage::Site(_) => "cylinders",
            LiveMessage::Stats(_) => "stats",
            LiveMessage::Incident(_) => "incident",
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
