//! A simulated vehicle's JT/T 808 terminal (`--transport jt808`): one TCP connection to the
//! server's gateway, registered and authenticated on first use (and again after a broken
//! connection); its GPS fixes go out as location reports (a batch upload when several wait)
//! and count as sent only once the platform answered success — the terminal keeps them and
//! sends them again otherwise, as a real one does.

use chrono::{DateTime, Utc};
use cylwatch_jt808::message::{id, status, Body, Location, Message, ResultCode};
use cylwatch_jt808::{decode_frame, Header, Register, Splitter, Version};
use shared::events::GpsFix;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long an answer may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// One terminal.
pub struct Link {
    addr: String,
    terminal_no: String,
    stream: Option<TcpStream>,
    splitter: Splitter,
    inbox: VecDeque<Message>,
    serial: u16,
}

impl Link {
    pub fn new(addr: &str, terminal_no: &str) -> Self {
        Self {
            addr: addr.to_owned(),
            terminal_no: terminal_no.to_owned(),
            stream: None,
            splitter: Splitter::new(),
            inbox: VecDeque::new(),
            serial: 0,
        }
    }

    fn message(&mut self, msg_id: u16, body: Body) -> Message {
        self.serial = self.serial.wrapping_add(1);
        let header = Header {
            msg_id,
            version: Version::V2013,
            terminal_no: self.terminal_no.clone(),
            serial: self.serial,
            encryption: 0,
            packet: None,
        };
        Message { header, body }
    }

    async fn write(&mut self, frames: &[Vec<u8>]) -> anyhow::Result<()> {
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("not connected"))?;
        for f in frames {
            stream.write_all(f).await?;
        }
        Ok(())
    }

    async fn recv(&mut self) -> anyhow::Result<Message> {
        loop {
            if let Some(m) = self.inbox.pop_front() {
                return Ok(m);
            }
            let stream = self
                .stream
                .as_mut()
                .ok_or_else(|| anyhow::anyhow!("not connected"))?;
            let mut buf = [0u8; 2048];
            let n = tokio::time::timeout(ANSWER_WITHIN, stream.read(&mut buf)).await??;
            anyhow::ensure!(n > 0, "the gateway closed the connection");
            let mut frames = Vec::new();
            self.splitter.push(buf.get(..n).unwrap_or_default(), |f| {
                frames.push(f.map(<[u8]>::to_vec))
            });
            for f in frames {
                let inner = decode_frame(&f?)?;
                let (header, body) = Header::parse(&inner)?;
                let body = Body::parse(&header, body)?;
                self.inbox.push_back(Message { header, body });
            }
        }
    }

    /// The general answer to the message `serial`.
    async fn answer_to(&mut self, serial: u16) -> anyhow::Result<ResultCode> {
        loop {
            if let Body::PlatformResponse {
                reply_serial,
                result,
                ..
            } = self.recv().await?.body
            {
                if reply_serial == serial {
                    return Ok(result);
                }
            }
        }
    }

    /// Connects, registers and authenticates.
    pub async fn connect(&mut self) -> anyhow::Result<()> {
        self.stream = Some(TcpStream::connect(&self.addr).await?);
        self.splitter = Splitter::new();
        self.inbox.clear();
        let reg = self.message(
            id::REGISTER,
            Body::Register(Register {
                province: 41,
                city: 100,
                maker: b"CYLWS".to_vec(),
                model: b"SIM-808".to_vec(),
                terminal_id: b"SIM".to_vec(),
                plate_colour: 2,
                plate: Vec::new(),
            }),
        );
        self.write(&[reg.to_frame()?]).await?;
        let code = loop {
            if let Body::RegisterResponse {
                reply_serial,
                result,
                auth_code,
            } = self.recv().await?.body
            {
                if reply_serial == reg.header.serial {
                    anyhow::ensure!(
                        result == 0,
                        "terminal {} refused: {result}",
                        self.terminal_no
                    );
                    break auth_code.unwrap_or_default();
                }
            }
        };
        let auth = self.message(
            id::AUTHENTICATE,
            Body::Authenticate {
                code,
                imei: None,
                software: None,
            },
        );
        self.write(&[auth.to_frame()?]).await?;
        let result = self.answer_to(auth.header.serial).await?;
        anyhow::ensure!(
            result == ResultCode::Success,
            "terminal {} not authenticated",
            self.terminal_no
        );
        Ok(())
    }

    /// Writes one location report (0x0200) without waiting for its answer; its serial
    /// (`cylwatch-sim load-jt808`, which keeps a window of reports outstanding).
    pub async fn report(&mut self, fix: Location) -> anyhow::Result<u16> {
        let m = self.message(id::LOCATION, Body::Location(fix));
        self.write(&[m.to_frame()?]).await?;
        Ok(m.header.serial)
    }

    /// The next platform general answer (0x8001): the serial it answers and its result.
    pub async fn next_answer(&mut self) -> anyhow::Result<(u16, ResultCode)> {
        loop {
            if let Body::PlatformResponse {
                reply_serial,
                result,
                ..
            } = self.recv().await?.body
            {
                return Ok((reply_serial, result));
            }
        }
    }

    /// Sends the fixes and waits for the platform's success (committed). Reconnects once on
    /// a broken connection. `Ok(false)`: answered, but not with success.
    pub async fn send(&mut self, fixes: &[GpsFix]) -> anyhow::Result<bool> {
        let locations: Vec<Location> = fixes.iter().filter_map(location).collect();
        if locations.is_empty() {
            return Ok(true);
        }
        for attempt in 0..2 {
            if self.stream.is_none() {
                if let Err(e) = self.connect().await {
                    self.stream = None;
                    if attempt == 1 {
                        return Err(e);
                    }
                    continue;
                }
            }
            let body = if locations.len() == 1 {
                (id::LOCATION, Body::Location(locations[0].clone()))
            } else {
                (
                    id::LOCATION_BATCH,
                    Body::LocationBatch {
                        blind_area: false,
                        fixes: locations.clone(),
                    },
                )
            };
            let m = self.message(body.0, body.1);
            let frames = m.encode(900)?;
            // Packets take consecutive serials: the last one's answer says it was committed.
            let last = m
                .header
                .serial
                .wrapping_add(u16::try_from(frames.len().saturating_sub(1)).unwrap_or(0));
            self.serial = last;
            let sent = async {
                self.write(&frames).await?;
                self.answer_to(last).await
            }
            .await;
            match sent {
                Ok(result) => return Ok(result == ResultCode::Success),
                Err(e) if attempt == 1 => return Err(e),
                Err(_) => self.stream = None,
            }
        }
        Ok(false)
    }
}

/// A fix as the standard writes it.
fn location(fix: &GpsFix) -> Option<Location> {
    let (lon, lat) = (fix.point.lon(), fix.point.lat());
    let e6 = |v: f64| format!("{:.0}", (v.abs() * 1e6)).parse::<u32>().ok();
    let mut st = status::POSITIONED | status::ACC_ON;
    if lat < 0.0 {
        st |= status::SOUTH;
    }
    if lon < 0.0 {
        st |= status::WEST;
    }
    let speed = fix
        .speed_kmh
        .and_then(|s| format!("{:.0}", s * 10.0).parse::<u16>().ok())
        .unwrap_or(0);
    let direction = fix
        .heading
        .and_then(|h| format!("{:.0}", h).parse::<u16>().ok())
        .map_or(0, |d| d % 360);
    let alarm = fix.alarms.iter().fold(0u32, |acc, a| {
        acc | cylwatch_jt808::message::alarm::NAMES
            .iter()
            .find(|(_, n)| *n == a.name())
            .map_or(0, |(bit, _)| *bit)
    });
    let time: DateTime<Utc> = fix.occurred_at.with_timezone(&Utc);
    Some(Location {
        alarm,
        status: st,
        lat_e6: e6(lat)?,
        lon_e6: e6(lon)?,
        altitude_m: 100,
        speed_dkmh: speed,
        direction,
        time,
        extras: Vec::new(),
    })
}
