//! The JT/T 808 gateway: a TCP listener (`jt808_addr`) for vehicle terminals speaking JT/T
//! 808-2013 or -2019 (the codec is the `cylwatch-jt808` crate). A terminal is a device of kind
//! `jt808` in the registry, known by its terminal number and bound to its vehicle.
//!
//! - Register (0x0100) → 0x8100: an active registered terminal gets a new authentication code
//!   (kept hashed; the previous one stops working); an unknown, suspended or closed one gets
//!   result 4 (no such terminal).
//! - Authenticate (0x0102) with that code → success; otherwise failure. Every location before
//!   authentication is refused (failure). One connection speaks for one terminal.
//! - Location (0x0200) and batch upload (0x0704): each positioned fix becomes the vehicle's GPS
//!   event with the terminal as the device, through the same parser and outbox as `POST
//!   /api/v1/events` (committed together with other terminals' fixes arriving at the same time:
//!   one statement, one WAL flush), and is answered with success **only after it is
//!   committed** (a terminal
//!   that gets no answer re-sends; the event id is derived from the terminal and the fix, so
//!   the re-sent fix is recognised as a duplicate). A fix with the "not positioned" status bit
//!   is answered and not stored: the vehicle keeps its last position. The named alarm bits
//!   travel with the fix (`alarms`); the emergency bit raises a critical `vehicle_emergency`
//!   alert in the pipeline. A fix the parser refuses
//!   (e.g. a speed above 400 km/h) is answered "message error" (the terminal does not re-send).
//! - A multi-packet message (分包, e.g. a long blind-area batch): each packet of an
//!   authenticated terminal is kept in the database (`jt808_packets`) before it is answered with
//!   success, so it survives a cut connection or a restarted server; the packet completing the
//!   message (on any connection, any instance) puts it together and is answered like a whole
//!   message. A packet before authentication is refused (failure).
//! - Heartbeat (0x0002), terminal general response (0x0001): success. Deregister (0x0003):
//!   success, and the code is forgotten. Other ids: "unsupported".
//! - Bad frames (check code, escapes, lengths, truncation, garbage) are counted: one whose
//!   header can be read is answered "message error"; after `MAX_BAD_FRAMES` in a row the
//!   connection is closed. A connection silent for `jt808_idle_s` is closed; at most
//!   `jt808_max_connections` are held.
//! - A terminal suspended, closed or revoked while connected is cut off: through this instance
//!   at once (`sweep` is woken), through another within `registry_cache_s`.

use crate::access;
use crate::store;
use crate::store::group_commit::GroupWriter;
use crate::store::held::Work;
use crate::store::terminals::{PacketKey, Terminal};
use cylwatch_jt808::message::{id, Body, Location, Message, ResultCode};
use cylwatch_jt808::reassembly::MAX_PACKETS;
use cylwatch_jt808::{bcd, decode_frame, Header, Splitter};
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::events::{parse_event, Event};
use shared::ids::{DeviceId, EnterpriseCode};
use shared::VehiclePlate;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

/// Bad frames in a row after which a connection is closed.
pub const MAX_BAD_FRAMES: u32 = 5;
const READ_BUFFER: usize = 4096;

/// The gateway's settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub idle: Duration,
    pub max_connections: usize,
    /// How often the statuses of connected terminals are read again.
    pub sweep_every: Duration,
}

/// Authenticated connections by device id, each with the flag that cuts it off.
type Online = HashMap<String, Vec<(u64, watch::Sender<bool>)>>;

/// One terminal message's fixes, committed with others arriving at the same time (group
/// commit: one statement and one WAL flush for many terminals).
struct Written {
    events: Vec<Event>,
    device_id: DeviceId,
    enterprise_code: EnterpriseCode,
}

fn write_fixes(conn: &mut sqlx::PgConnection, batches: Vec<Written>) -> Work<'_, ()> {
    Box::pin(async move {
        let events: Vec<Event> = batches
            .iter()
            .flat_map(|b| b.events.iter().cloned())
            .collect();
        let writers: Vec<_> = batches
            .iter()
            .flat_map(|b| std::iter::repeat_n((&b.device_id, &b.enterprise_code), b.events.len()))
            .collect();
        store::events::insert_written(conn, &events, &writers).await?;
        Ok(())
    })
}

/// One listener's shared state.
pub struct Gateway {
    pool: PgPool,
    writer: GroupWriter<Written>,
    relay_wakeup: Arc<Notify>,
    options: Options,
    connections: AtomicUsize,
    next_connection: AtomicU64,
    online: Mutex<Online>,
    /// Woken when a device's status changes through this instance.
    sweep: Arc<Notify>,
}

/// The terminal a connection authenticated as.
#[derive(Debug, Clone)]
struct Authenticated {
    terminal_no: String,
    device_id: DeviceId,
    enterprise_code: EnterpriseCode,
    vehicle_plate: VehiclePlate,
}

/// One connection's state.
struct Connection {
    id: u64,
    splitter: Splitter,
    terminal: Option<Authenticated>,
    cut: Option<watch::Receiver<bool>>,
    serial: u16,
    bad_in_a_row: u32,
}

impl Gateway {
    pub fn new(
        pool: PgPool,
        relay_wakeup: Arc<Notify>,
        sweep: Arc<Notify>,
        options: Options,
    ) -> Arc<Self> {
        Arc::new(Self {
            writer: GroupWriter::spawn(pool.clone(), "jt808 fixes", write_fixes),
            pool,
            relay_wakeup,
            options,
            connections: AtomicUsize::new(0),
            next_connection: AtomicU64::new(1),
            online: Mutex::new(HashMap::new()),
            sweep,
        })
    }

    /// Connections held now.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Accepts connections until `stop`.
    pub async fn accept(
        self: Arc<Self>,
        listener: Arc<TcpListener>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        if self.connections() >= self.options.max_connections {
                            tracing::warn!(max = self.options.max_connections, "jt808: connection refused, at the limit");
                            drop(stream);
                            continue;
                        }
                        self.connections.fetch_add(1, Ordering::Relaxed);
                        let gateway = self.clone();
                        let stop = stop.clone();
                        tokio::spawn(async move {
                            let id = gateway.next_connection.fetch_add(1, Ordering::Relaxed);
                            let device = gateway.serve(id, stream, stop).await;
                            gateway.forget(id, device.as_deref());
                            gateway.connections.fetch_sub(1, Ordering::Relaxed);
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "jt808: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                _ = stop.changed() => return,
            }
        }
    }

    /// Cuts off connected terminals that are no longer active: every `sweep_every`, and at
    /// once when woken.
    pub async fn sweep(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.options.sweep_every) => {}
                _ = self.sweep.notified() => {}
                _ = stop.changed() => return,
            }
            let ids: Vec<String> = match self.online.lock() {
                Ok(online) => online.keys().cloned().collect(),
                Err(_) => return,
            };
            if ids.is_empty() {
                continue;
            }
            match store::terminals::inactive(&self.pool, &ids).await {
                Ok(gone) => {
                    if let Ok(mut online) = self.online.lock() {
                        for device in gone {
                            for (_, cut) in online.remove(&device).unwrap_or_default() {
                                let _ = cut.send(true);
                            }
                            tracing::info!(device, "jt808: terminal no longer active, cut off");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = format!("{e:#}"), "jt808: sweep failed"),
            }
        }
    }

    fn forget(&self, connection: u64, device: Option<&str>) {
        let (Some(device), Ok(mut online)) = (device, self.online.lock()) else {
            return;
        };
        if let Some(list) = online.get_mut(device) {
            list.retain(|(id, _)| *id != connection);
            if list.is_empty() {
                online.remove(device);
            }
        }
    }

    /// Serves one connection until it closes; the device it authenticated as.
    async fn serve(
        &self,
        id: u64,
        mut stream: TcpStream,
        mut stop: watch::Receiver<bool>,
    ) -> Option<String> {
        let _ = stream.set_nodelay(true);
        let mut conn = Connection {
            id,
            splitter: Splitter::new(),
            terminal: None,
            cut: None,
            serial: 0,
            bad_in_a_row: 0,
        };
        let mut buf = vec![0u8; READ_BUFFER];
        loop {
            let mut cut = conn.cut.clone();
            let cut_off = async move {
                match cut.as_mut() {
                    Some(rx) => {
                        let _ = rx.wait_for(|c| *c).await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let n = tokio::select! {
                read = tokio::time::timeout(self.options.idle, stream.read(&mut buf)) => match read {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => break,
                },
                _ = stop.changed() => break,
                _ = cut_off => break,
            };
            let mut frames = Vec::new();
            conn.splitter.push(buf.get(..n).unwrap_or_default(), |f| {
                frames.push(f.map(<[u8]>::to_vec))
            });
            let mut out = Vec::new();
            for frame in frames {
                self.frame(&mut conn, frame, &mut out).await;
            }
            if !out.is_empty() && stream.write_all(&out).await.is_err() {
                break;
            }
            if conn.bad_in_a_row >= MAX_BAD_FRAMES {
                tracing::info!(
                    terminal = conn.terminal.as_ref().map(|t| t.terminal_no.as_str()),
                    "jt808: too many bad frames, closing"
                );
                break;
            }
        }
        let _ = stream.shutdown().await;
        conn.terminal.map(|t| t.device_id.into())
    }

    /// Handles one frame; answers go to `out`.
    async fn frame(
        &self,
        conn: &mut Connection,
        frame: Result<Vec<u8>, cylwatch_jt808::Error>,
        out: &mut Vec<u8>,
    ) {
        let Ok(message) = frame.and_then(|f| decode_frame(&f)) else {
            conn.bad_in_a_row += 1;
            return;
        };
        let Ok((header, body)) = Header::parse(&message) else {
            conn.bad_in_a_row += 1;
            return;
        };
        let packet = header.clone();
        let (header, body, kept) = match header.packet {
            None => (header, body.to_vec(), None),
            Some(_) => match self.packet(conn, header, body).await {
                Ok(Some((header, body, key))) => (header, body, Some(key)),
                Ok(None) => {
                    conn.bad_in_a_row = 0;
                    answer(conn, &packet, ResultCode::Success, out);
                    return;
                }
                Err(result) => {
                    conn.bad_in_a_row += 1;
                    answer(conn, &packet, result, out);
                    return;
                }
            },
        };
        let result = self.message(conn, &header, &body, out).await;
        if let (Some(key), Some(result)) = (kept, result) {
            // Handled (a failure leaves the packets for the terminal's next try).
            if result != ResultCode::Failure {
                if let Err(e) = store::terminals::forget_packets(&self.pool, &key).await {
                    tracing::warn!(error = format!("{e:#}"), "jt808: forgetting packets failed");
                }
            }
        }
        if let Some(result) = result {
            answer(conn, &packet, result, out);
        }
    }

    /// Keeps a packet of a multi-packet message (分包) in the database before it is answered,
    /// so a packet answered with success survives a cut connection or a restarted server; the
    /// packet completing its message returns the message (the first packet's header, packet
    /// item cleared, and the body put together). Only an authenticated terminal's packets are
    /// kept.
    async fn packet(
        &self,
        conn: &Connection,
        mut header: Header,
        body: &[u8],
    ) -> Result<Option<(Header, Vec<u8>, PacketKey)>, ResultCode> {
        let (Some(t), Some(p)) = (conn.terminal.as_ref(), header.packet) else {
            return Err(ResultCode::Failure);
        };
        if t.terminal_no != header.terminal_no {
            return Err(ResultCode::Failure);
        }
        if p.total > MAX_PACKETS {
            return Err(ResultCode::MessageError);
        }
        let key = PacketKey {
            device_id: t.device_id.clone(),
            msg_id: header.msg_id,
            first_serial: header.serial.wrapping_sub(p.seq.saturating_sub(1)),
            total: p.total,
        };
        match store::terminals::keep_packet(&self.pool, &key, p.seq, body).await {
            Ok(Some(whole)) => {
                header.serial = key.first_serial;
                header.packet = None;
                Ok(Some((header, whole, key)))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                // Not answered with success: the terminal sends the packet again.
                tracing::warn!(error = format!("{e:#}"), "jt808: keeping a packet failed");
                Err(ResultCode::Failure)
            }
        }
    }

    /// Handles one whole message; the result to answer with (`None`: answered already).
    async fn message(
        &self,
        conn: &mut Connection,
        header: &Header,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<ResultCode> {
        let Ok(body) = Body::parse(header, body) else {
            conn.bad_in_a_row += 1;
            return Some(ResultCode::MessageError);
        };
        conn.bad_in_a_row = 0;
        if conn
            .terminal
            .as_ref()
            .is_some_and(|t| t.terminal_no != header.terminal_no)
        {
            // One connection speaks for the terminal that authenticated on it only.
            conn.bad_in_a_row += 1;
            return Some(ResultCode::Failure);
        }
        let result = match body {
            Body::Register(_) => {
                self.register(conn, header, out).await;
                return None;
            }
            Body::Authenticate { code, .. } => self.authenticate(conn, header, &code).await,
            Body::Heartbeat | Body::TerminalResponse { .. } => ResultCode::Success,
            Body::Deregister => self.deregister(conn).await,
            Body::Location(fix) => self.store(conn, &[fix]).await,
            Body::LocationBatch { fixes, .. } => self.store(conn, &fixes).await,
            Body::PlatformResponse { .. }
            | Body::RegisterResponse { .. }
            | Body::Unsupported(_) => ResultCode::Unsupported,
        };
        if result == ResultCode::Failure && conn.terminal.is_none() {
            conn.bad_in_a_row += 1;
        }
        Some(result)
    }

    async fn register(&self, conn: &mut Connection, header: &Header, out: &mut Vec<u8>) {
        let terminal = match store::terminals::find(&self.pool, &header.terminal_no).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "jt808: register failed");
                answer(conn, header, ResultCode::Failure, out);
                return;
            }
        };
        let (result, auth_code) = match terminal.filter(Terminal::active) {
            Some(t) => {
                let code = uuid::Uuid::new_v4().simple().to_string();
                if let Err(e) =
                    store::terminals::set_auth(&self.pool, &t.device_id, &access::digest(&code))
                        .await
                {
                    tracing::warn!(error = format!("{e:#}"), "jt808: register failed");
                    answer(conn, header, ResultCode::Failure, out);
                    return;
                }
                (0, Some(code))
            }
            None => {
                conn.bad_in_a_row += 1;
                (4, None)
            }
        };
        let reply = Message {
            header: reply_header(conn, header, id::REGISTER_RESPONSE),
            body: Body::RegisterResponse {
                reply_serial: header.serial,
                result,
                auth_code,
            },
        };
        push_frame(&reply, out);
    }

    async fn authenticate(&self, conn: &mut Connection, header: &Header, code: &str) -> ResultCode {
        let terminal = match store::terminals::find(&self.pool, &header.terminal_no).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "jt808: authenticate failed");
                return ResultCode::Failure;
            }
        };
        let Some(t) = terminal.filter(|t| {
            t.active() && t.auth_hash.as_deref() == Some(access::digest(code).as_str())
        }) else {
            return ResultCode::Failure;
        };
        let Some(plate) = t.vehicle_plate else {
            return ResultCode::Failure;
        };
        let (tx, rx) = watch::channel(false);
        if let Ok(mut online) = self.online.lock() {
            online
                .entry(t.device_id.to_string())
                .or_default()
                .push((conn.id, tx));
        }
        conn.cut = Some(rx);
        conn.terminal = Some(Authenticated {
            terminal_no: header.terminal_no.clone(),
            device_id: t.device_id,
            enterprise_code: t.enterprise_code,
            vehicle_plate: plate,
        });
        ResultCode::Success
    }

    async fn deregister(&self, conn: &mut Connection) -> ResultCode {
        let Some(t) = conn.terminal.take() else {
            return ResultCode::Success;
        };
        self.forget(conn.id, Some(&t.device_id));
        conn.cut = None;
        match store::terminals::clear_auth(&self.pool, &t.device_id).await {
            Ok(()) => ResultCode::Success,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "jt808: deregister failed");
                ResultCode::Failure
            }
        }
    }

    /// Commits the positioned fixes as GPS events; success only once they are durable.
    async fn store(&self, conn: &mut Connection, fixes: &[Location]) -> ResultCode {
        let Some(t) = conn.terminal.as_ref() else {
            return ResultCode::Failure;
        };
        let mut events = Vec::with_capacity(fixes.len());
        let mut refused = 0usize;
        for fix in fixes.iter().filter(|f| f.positioned()) {
            match gps_event(t, fix) {
                Ok(event) => events.push(event),
                Err(_) => refused += 1,
            }
        }
        if events.is_empty() {
            // Nothing positioned (the vehicle keeps its last position), or nothing valid.
            return if refused > 0 {
                ResultCode::MessageError
            } else {
                ResultCode::Success
            };
        }
        let batch = Written {
            events,
            device_id: t.device_id.clone(),
            enterprise_code: t.enterprise_code.clone(),
        };
        match self.writer.write(batch).await {
            Ok(_) => {
                self.relay_wakeup.notify_one();
                ResultCode::Success
            }
            Err(e) => {
                // Not answered with success: the terminal sends it again.
                tracing::warn!(error = format!("{e:#}"), "jt808: storing fixes failed");
                ResultCode::Failure
            }
        }
    }
}

/// The GPS event of one fix, through the same parser as `POST /api/v1/events`. Its id is
/// derived from the terminal and the fix, so a fix sent again is the same event.
fn gps_event(t: &Authenticated, fix: &Location) -> Result<Event, shared::ErrorDetail> {
    let id = fix_id(&t.device_id, fix);
    let occurred_at = fix.time.with_timezone(&bcd::beijing());
    parse_event(json!({
        "id": id,
        "kind": "gps",
        "occurred_at": occurred_at.to_rfc3339(),
        "vehicle_plate": t.vehicle_plate,
        "lon": fix.longitude(),
        "lat": fix.latitude(),
        "speed_kmh": fix.speed_kmh(),
        "heading": f64::from(fix.direction % 360),
        "alarms": fix.alarms(),
    }))
}

/// The event id of a terminal's fix: derived from the device and every field of the fix, so
/// the same fix sent again is the same event (the fault suite's terminals compute it too).
pub fn fix_id(device_id: &str, fix: &Location) -> uuid::Uuid {
    let mut hash = Sha256::new();
    hash.update(device_id.as_bytes());
    hash.update(fix.time.timestamp().to_be_bytes());
    for v in [fix.lat_e6, fix.lon_e6, fix.status, fix.alarm] {
        hash.update(v.to_be_bytes());
    }
    for v in [fix.speed_dkmh, fix.direction, fix.altitude_m] {
        hash.update(v.to_be_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    for (b, d) in bytes.iter_mut().zip(digest.iter()) {
        *b = *d;
    }
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

fn reply_header(conn: &mut Connection, to: &Header, msg_id: u16) -> Header {
    conn.serial = conn.serial.wrapping_add(1);
    Header {
        msg_id,
        serial: conn.serial,
        packet: None,
        encryption: 0,
        ..to.clone()
    }
}

fn answer(conn: &mut Connection, to: &Header, result: ResultCode, out: &mut Vec<u8>) {
    conn.serial = conn.serial.wrapping_add(1);
    push_frame(&Message::platform_response(to, conn.serial, result), out);
}

fn push_frame(message: &Message, out: &mut Vec<u8>) {
    match message.to_frame() {
        Ok(frame) => out.extend_from_slice(&frame),
        Err(e) => tracing::warn!(error = %e, "jt808: an answer could not be encoded"),
    }
}

/// Binds the listener; its port.
pub async fn bind(addr: &str) -> anyhow::Result<(Arc<TcpListener>, u16)> {
    use anyhow::Context;
    let listener = TcpListener::bind(addr.trim())
        .await
        .with_context(|| format!("binding jt808_addr {addr}"))?;
    let port = listener
        .local_addr()
        .context("jt808 listener address")?
        .port();
    Ok((Arc::new(listener), port))
}

#[cfg(test)]
mod tests {
    use cylwatch_jt808::message::alarm;
    use shared::events::VehicleAlarm;

    #[test]
    fn every_alarm_bit_the_codec_names_is_an_alarm_the_parser_knows() {
        for (_, name) in alarm::NAMES {
            assert!(VehicleAlarm::from_name(name).is_some(), "{name}");
        }
    }
}
