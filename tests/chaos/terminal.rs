//! JT/T 808 vehicle terminals in the workload: each of a share of the vehicles has a terminal
//! (2013 framing, the codec crate) that registers, authenticates and reports one fix at a time
//! over TCP to an instance's gateway, and counts a fix acknowledged when the platform's general
//! response (0x8001) to it says success (result 0). A fix not acknowledged — the connection cut,
//! no answer within 10 s, any other result — is sent again, unchanged, after a reconnection (to
//! the next instance when there are several): the gateway derives the event id from the
//! terminal and the fix, so it is the same event.

use crate::workload::{Acked, Kind, Record};
use chrono::{DateTime, Utc};
// The event id the gateway gives a fix: the same fix sent again is the same event.
use cylwatch::gateway::jt808::fix_id;
use cylwatch_jt808::message::{id, status, Body, Location, Message, ResultCode};
use cylwatch_jt808::{decode_frame, Header, Register, Splitter, Version};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The device id and 12-digit terminal number of vehicle `v`'s terminal.
pub fn terminal(v: usize) -> (String, String) {
    (format!("jt-{}", v + 1), format!("0139{:08}", v + 1))
}

/// One TCP connection of a terminal.
struct Link {
    stream: TcpStream,
    splitter: Splitter,
    no: String,
    serial: u16,
    inbox: VecDeque<Message>,
}

impl Link {
    async fn connect(port: u16, no: &str) -> Option<Link> {
        let stream = tokio::time::timeout(
            Duration::from_secs(3),
            TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        .ok()?
        .ok()?;
        Some(Link {
            stream,
            splitter: Splitter::new(),
            no: no.into(),
            serial: 0,
            inbox: VecDeque::new(),
        })
    }

    async fn send(&mut self, msg_id: u16, body: Body) -> Option<u16> {
        self.serial = self.serial.wrapping_add(1);
        let header = Header {
            msg_id,
            version: Version::V2013,
            terminal_no: self.no.clone(),
            serial: self.serial,
            encryption: 0,
            packet: None,
        };
        let frame = Message { header, body }.to_frame().ok()?;
        self.stream.write_all(&frame).await.ok()?;
        Some(self.serial)
    }

    /// The next message from the platform within 10 s; `None` when closed or garbled.
    async fn recv(&mut self) -> Option<Message> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(m) = self.inbox.pop_front() {
                    return Some(m);
                }
                let mut buf = [0u8; 2048];
                let n = self.stream.read(&mut buf).await.ok()?;
                if n == 0 {
                    return None;
                }
                let mut frames = Vec::new();
                self.splitter
                    .push(&buf[..n], |f| frames.push(f.map(<[u8]>::to_vec)));
                for f in frames {
                    let inner = decode_frame(&f.ok()?).ok()?;
                    let (header, body) = Header::parse(&inner).ok()?;
                    let body = Body::parse(&header, body).ok()?;
                    self.inbox.push_back(Message { header, body });
                }
            }
        })
        .await
        .ok()?
    }

    /// Sends and reads the platform's general response to it.
    async fn ask(&mut self, msg_id: u16, body: Body) -> Option<ResultCode> {
        let serial = self.send(msg_id, body).await?;
        loop {
            if let Body::PlatformResponse {
                reply_serial,
                reply_id,
                result,
            } = self.recv().await?.body
            {
                if (reply_serial, reply_id) == (serial, msg_id) {
                    return Some(result);
                }
            }
        }
    }

    /// Registers (a new authentication code each time) and authenticates.
    async fn sign_in(&mut self) -> bool {
        let reg = Register {
            province: 41,
            city: 100,
            maker: b"CYLW".to_vec(),
            model: b"T-808".to_vec(),
            terminal_id: b"CHAOS".to_vec(),
            plate_colour: 2,
            plate: Vec::new(),
        };
        let Some(serial) = self.send(id::REGISTER, Body::Register(reg)).await else {
            return false;
        };
        let code = loop {
            match self.recv().await.map(|m| m.body) {
                Some(Body::RegisterResponse {
                    reply_serial,
                    result: 0,
                    auth_code: Some(code),
                }) if reply_serial == serial => break code,
                Some(Body::RegisterResponse { .. }) | None => return false,
                Some(_) => {}
            }
        };
        let body = Body::Authenticate {
            code,
            imei: None,
            software: None,
        };
        self.ask(id::AUTHENTICATE, body).await == Some(ResultCode::Success)
    }
}

/// Vehicle `v`'s terminal: one fix about every `every` until `more()` says no, each sent until
/// acknowledged; the gateways listen on `ports` (tried in turn from `v`'s).
pub async fn run(
    v: usize,
    ports: Vec<u16>,
    every: Duration,
    seed: u64,
    record: &Record,
    more: impl Fn(u64) -> bool,
    give_up: Instant,
) {
    let (device_id, no) = terminal(v);
    let mut rng = StdRng::seed_from_u64(seed ^ (0x5000 + v as u64));
    let mut link: Option<Link> = None;
    let mut attempt = v;
    let mut last: Option<DateTime<Utc>> = None;
    let mut pace = tokio::time::interval(every);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while more(1) {
        pace.tick().await;
        // BCD times are whole seconds: strictly increasing ones per vehicle.
        let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_else(Utc::now);
        let at = match last {
            Some(l) if l >= now => l + chrono::Duration::seconds(1),
            _ => now,
        };
        last = Some(at);
        let fix = Location {
            alarm: 0,
            status: status::POSITIONED | status::ACC_ON,
            lat_e6: 34_600_000 + rng.random_range(0..300_000),
            lon_e6: 113_500_000 + rng.random_range(0..300_000),
            altitude_m: 100,
            speed_dkmh: 300,
            direction: 90,
            time: at,
            extras: Vec::new(),
        };
        let event = fix_id(&device_id, &fix);
        let kind = Kind::Gps {
            vehicle: v,
            lon: f64::from(fix.lon_e6) / 1e6,
            lat: f64::from(fix.lat_e6) / 1e6,
        };
        loop {
            if link.is_none() {
                let port = ports[attempt % ports.len()];
                if let Some(mut l) = Link::connect(port, &no).await {
                    if l.sign_in().await {
                        link = Some(l);
                    }
                }
            }
            let answer = match link.as_mut() {
                Some(l) => l.ask(id::LOCATION, Body::Location(fix.clone())).await,
                None => None,
            };
            if answer == Some(ResultCode::Success) {
                record.acked.lock().expect("record").push(Acked {
                    id: event,
                    occurred_at: at,
                    acked: Instant::now(),
                    kind,
                });
                break;
            }
            // Another instance next time; the same fix again.
            link = None;
            attempt += 1;
            if Instant::now() > give_up {
                record.unacked.lock().expect("record").push(event);
                break;
            }
            record.jt808_retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
