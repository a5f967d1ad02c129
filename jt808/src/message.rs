//! Message bodies (消息体) and whole messages.

use crate::header::{Header, Packet, Version};
use crate::reader::Reader;
use crate::{bcd, frame, Error};
use chrono::{DateTime, Utc};

/// Message ids.
pub mod id {
    pub const TERMINAL_RESPONSE: u16 = 0x0001;
    pub const HEARTBEAT: u16 = 0x0002;
    pub const DEREGISTER: u16 = 0x0003;
    pub const REGISTER: u16 = 0x0100;
    pub const AUTHENTICATE: u16 = 0x0102;
    pub const LOCATION: u16 = 0x0200;
    pub const LOCATION_BATCH: u16 = 0x0704;
    pub const PLATFORM_RESPONSE: u16 = 0x8001;
    pub const REGISTER_RESPONSE: u16 = 0x8100;
}

/// The result of a general response (通用应答结果).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultCode {
    Success,
    Failure,
    MessageError,
    Unsupported,
    /// 0x8001 only: an alarm was received and is being handled.
    AlarmAcknowledged,
    Other(u8),
}

impl ResultCode {
    pub fn byte(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::MessageError => 2,
            Self::Unsupported => 3,
            Self::AlarmAcknowledged => 4,
            Self::Other(b) => b,
        }
    }

    pub fn from_byte(b: u8) -> Self {
        match b {
            0 => Self::Success,
            1 => Self::Failure,
            2 => Self::MessageError,
            3 => Self::Unsupported,
            4 => Self::AlarmAcknowledged,
            b => Self::Other(b),
        }
    }
}

/// Terminal registration (0x0100). Text fields are the bytes as sent, NULs trimmed; the plate
/// is GBK, kept as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub province: u16,
    pub city: u16,
    pub maker: Vec<u8>,
    pub model: Vec<u8>,
    pub terminal_id: Vec<u8>,
    pub plate_colour: u8,
    pub plate: Vec<u8>,
}

/// One extra item of a location report (位置附加信息项): id and raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extra {
    pub id: u8,
    pub value: Vec<u8>,
}

/// A location report body (0x0200), raw as the standard writes it; the accessors interpret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub alarm: u32,
    pub status: u32,
    /// Degrees × 10⁶, unsigned; the status bit 2 makes it south.
    pub lat_e6: u32,
    /// Degrees × 10⁶, unsigned; the status bit 3 makes it west.
    pub lon_e6: u32,
    pub altitude_m: u16,
    /// 1/10 km/h.
    pub speed_dkmh: u16,
    /// 0–359, clockwise from north.
    pub direction: u16,
    pub time: DateTime<Utc>,
    pub extras: Vec<Extra>,
}

/// Alarm flag bits (报警标志位) the platform acts on.
pub mod alarm {
    pub const EMERGENCY: u32 = 1 << 0;
    pub const OVERSPEED: u32 = 1 << 1;
    pub const FATIGUE: u32 = 1 << 2;
    pub const DANGER: u32 = 1 << 3;
    pub const GNSS_FAULT: u32 = 1 << 4;
    pub const GNSS_ANTENNA_CUT: u32 = 1 << 5;
    pub const GNSS_ANTENNA_SHORT: u32 = 1 << 6;
    pub const POWER_LOW: u32 = 1 << 7;
    pub const POWER_CUT: u32 = 1 << 8;
    pub const COLLISION: u32 = 1 << 29;
    pub const ROLLOVER: u32 = 1 << 30;

    /// The named bits with their stable names, in bit order.
    pub const NAMES: [(u32, &str); 11] = [
        (EMERGENCY, "emergency"),
        (OVERSPEED, "overspeed"),
        (FATIGUE, "fatigue"),
        (DANGER, "danger"),
        (GNSS_FAULT, "gnss_fault"),
        (GNSS_ANTENNA_CUT, "gnss_antenna_cut"),
        (GNSS_ANTENNA_SHORT, "gnss_antenna_short"),
        (POWER_LOW, "power_low"),
        (POWER_CUT, "power_cut"),
        (COLLISION, "collision"),
        (ROLLOVER, "rollover"),
    ];
}

/// Status bits (状态位).
pub mod status {
    pub const ACC_ON: u32 = 1 << 0;
    pub const POSITIONED: u32 = 1 << 1;
    pub const SOUTH: u32 = 1 << 2;
    pub const WEST: u32 = 1 << 3;
}

/// Extra item ids.
pub mod extra {
    /// Mileage, DWORD, 1/10 km.
    pub const MILEAGE: u8 = 0x01;
}

impl Location {
    /// Whether the fix is valid (status bit 1); a terminal without a fix sends its last or zero
    /// coordinates with this bit clear.
    pub fn positioned(&self) -> bool {
        self.status & status::POSITIONED != 0
    }

    /// Signed degrees.
    pub fn latitude(&self) -> f64 {
        let v = f64::from(self.lat_e6) / 1e6;
        if self.status & status::SOUTH != 0 {
            -v
        } else {
            v
        }
    }

    /// Signed degrees.
    pub fn longitude(&self) -> f64 {
        let v = f64::from(self.lon_e6) / 1e6;
        if self.status & status::WEST != 0 {
            -v
        } else {
            v
        }
    }

    pub fn speed_kmh(&self) -> f64 {
        f64::from(self.speed_dkmh) / 10.0
    }

    /// The names of the alarm bits set that this crate names.
    pub fn alarms(&self) -> Vec<&'static str> {
        alarm::NAMES
            .iter()
            .filter(|(bit, _)| self.alarm & bit != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    /// Mileage in km, if the terminal sent it.
    pub fn mileage_km(&self) -> Option<f64> {
        let v = self.extras.iter().find(|e| e.id == extra::MILEAGE)?;
        let b: [u8; 4] = v.value.as_slice().try_into().ok()?;
        Some(f64::from(u32::from_be_bytes(b)) / 10.0)
    }

    fn parse(r: &mut Reader) -> Result<Self, Error> {
        let alarm = r.u32()?;
        let status = r.u32()?;
        let lat_e6 = r.u32()?;
        let lon_e6 = r.u32()?;
        if lat_e6 > 90_000_000 {
            return Err(Error::Field("latitude"));
        }
        if lon_e6 > 180_000_000 {
            return Err(Error::Field("longitude"));
        }
        let altitude_m = r.u16()?;
        let speed_dkmh = r.u16()?;
        let direction = r.u16()?;
        let time = bcd::time(r.take(6)?)?;
        let mut extras = Vec::new();
        while r.remaining() > 0 {
            let id = r.u8()?;
            let len = r.u8()?;
            extras.push(Extra {
                id,
                value: r.take(usize::from(len))?.to_vec(),
            });
        }
        Ok(Self {
            alarm,
            status,
            lat_e6,
            lon_e6,
            altitude_m,
            speed_dkmh,
            direction,
            time,
            extras,
        })
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        for v in [self.alarm, self.status, self.lat_e6, self.lon_e6] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        for v in [self.altitude_m, self.speed_dkmh, self.direction] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&bcd::encode_time(self.time).ok_or(Error::Field("time"))?);
        for e in &self.extras {
            out.push(e.id);
            out.push(u8::try_from(e.value.len()).map_err(|_| Error::Field("extra item"))?);
            out.extend_from_slice(&e.value);
        }
        Ok(())
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// 0x0001 and 0x8001: the answer to the message `reply_serial` of id `reply_id`.
    TerminalResponse {
        reply_serial: u16,
        reply_id: u16,
        result: ResultCode,
    },
    PlatformResponse {
        reply_serial: u16,
        reply_id: u16,
        result: ResultCode,
    },
    Heartbeat,
    Deregister,
    Register(Register),
    /// 0x8100: 0 success (with the auth code), 1 vehicle registered already, 2 no such vehicle,
    /// 3 terminal registered already, 4 no such terminal.
    RegisterResponse {
        reply_serial: u16,
        result: u8,
        auth_code: Option<String>,
    },
    /// 0x0102; the 2019 edition adds the IMEI and software version.
    Authenticate {
        code: String,
        imei: Option<String>,
        software: Option<String>,
    },
    Location(Location),
    /// 0x0704: `blind_area` is type 1 (补报), otherwise a normal batch.
    LocationBatch {
        blind_area: bool,
        fixes: Vec<Location>,
    },
    /// Any other id: the body kept, answered "unsupported".
    Unsupported(Vec<u8>),
}

/// A header and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub header: Header,
    pub body: Body,
}

fn text(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    bytes.get(..end).unwrap_or_default().to_vec()
}

fn ascii(bytes: &[u8], what: &'static str) -> Result<String, Error> {
    let t = text(bytes);
    if t.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        Ok(t.into_iter().map(char::from).collect())
    } else {
        Err(Error::Field(what))
    }
}

fn fixed(out: &mut Vec<u8>, bytes: &[u8], len: usize) {
    let mut b = bytes.to_vec();
    b.resize(len, 0);
    out.extend_from_slice(&b);
}

impl Body {
    /// The body of message `header.msg_id` (a whole message: packets reassembled first).
    pub fn parse(header: &Header, body: &[u8]) -> Result<Self, Error> {
        if header.encryption != 0 {
            return Err(Error::Encrypted);
        }
        let mut r = Reader::new(body, "body");
        let v2019 = matches!(header.version, Version::V2019 { .. });
        let out = match header.msg_id {
            id::TERMINAL_RESPONSE | id::PLATFORM_RESPONSE => {
                let reply_serial = r.u16()?;
                let reply_id = r.u16()?;
                let result = ResultCode::from_byte(r.u8()?);
                if header.msg_id == id::TERMINAL_RESPONSE {
                    Self::TerminalResponse {
                        reply_serial,
                        reply_id,
                        result,
                    }
                } else {
                    Self::PlatformResponse {
                        reply_serial,
                        reply_id,
                        result,
                    }
                }
            }
            id::HEARTBEAT => Self::Heartbeat,
            id::DEREGISTER => Self::Deregister,
            id::REGISTER => {
                let (maker, model, tid) = if v2019 { (11, 30, 30) } else { (5, 20, 7) };
                Self::Register(Register {
                    province: r.u16()?,
                    city: r.u16()?,
                    maker: text(r.take(maker)?),
                    model: text(r.take(model)?),
                    terminal_id: text(r.take(tid)?),
                    plate_colour: r.u8()?,
                    plate: r.rest().to_vec(),
                })
            }
            id::REGISTER_RESPONSE => {
                let reply_serial = r.u16()?;
                let result = r.u8()?;
                let rest = r.rest();
                let auth_code = (result == 0)
                    .then(|| ascii(rest, "auth code"))
                    .transpose()?;
                Self::RegisterResponse {
                    reply_serial,
                    result,
                    auth_code,
                }
            }
            id::AUTHENTICATE if v2019 => {
                let len = r.u8()?;
                let code = ascii(r.take(usize::from(len))?, "auth code")?;
                let imei = ascii(r.take(15)?, "imei")?;
                let software = ascii(r.take(20)?, "software version")?;
                Self::Authenticate {
                    code,
                    imei: Some(imei),
                    software: Some(software),
                }
            }
            id::AUTHENTICATE => Self::Authenticate {
                code: ascii(r.rest(), "auth code")?,
                imei: None,
                software: None,
            },
            id::LOCATION => Self::Location(Location::parse(&mut r)?),
            id::LOCATION_BATCH => {
                let count = r.u16()?;
                let kind = r.u8()?;
                let mut fixes = Vec::with_capacity(usize::from(count.min(256)));
                for _ in 0..count {
                    let len = r.u16()?;
                    let mut item = Reader::new(r.take(usize::from(len))?, "batch item");
                    fixes.push(Location::parse(&mut item)?);
                }
                Self::LocationBatch {
                    blind_area: kind == 1,
                    fixes,
                }
            }
            _ => Self::Unsupported(body.to_vec()),
        };
        Ok(out)
    }

    /// The body's bytes in `version`'s layout.
    pub fn write(&self, version: Version, out: &mut Vec<u8>) -> Result<(), Error> {
        let v2019 = matches!(version, Version::V2019 { .. });
        match self {
            Self::TerminalResponse {
                reply_serial,
                reply_id,
                result,
            }
            | Self::PlatformResponse {
                reply_serial,
                reply_id,
                result,
            } => {
                out.extend_from_slice(&reply_serial.to_be_bytes());
                out.extend_from_slice(&reply_id.to_be_bytes());
                out.push(result.byte());
            }
            Self::Heartbeat | Self::Deregister => {}
            Self::Register(reg) => {
                let (maker, model, tid) = if v2019 { (11, 30, 30) } else { (5, 20, 7) };
                out.extend_from_slice(&reg.province.to_be_bytes());
                out.extend_from_slice(&reg.city.to_be_bytes());
                fixed(out, &reg.maker, maker);
                fixed(out, &reg.model, model);
                fixed(out, &reg.terminal_id, tid);
                out.push(reg.plate_colour);
                out.extend_from_slice(&reg.plate);
            }
            Self::RegisterResponse {
                reply_serial,
                result,
                auth_code,
            } => {
                out.extend_from_slice(&reply_serial.to_be_bytes());
                out.push(*result);
                if let Some(code) = auth_code {
                    out.extend_from_slice(code.as_bytes());
                }
            }
            Self::Authenticate {
                code,
                imei,
                software,
            } => {
                if v2019 {
                    out.push(u8::try_from(code.len()).map_err(|_| Error::Field("auth code"))?);
                    out.extend_from_slice(code.as_bytes());
                    fixed(out, imei.as_deref().unwrap_or_default().as_bytes(), 15);
                    fixed(out, software.as_deref().unwrap_or_default().as_bytes(), 20);
                } else {
                    out.extend_from_slice(code.as_bytes());
                }
            }
            Self::Location(loc) => loc.write(out)?,
            Self::LocationBatch { blind_area, fixes } => {
                let count = u16::try_from(fixes.len()).map_err(|_| Error::Field("batch"))?;
                out.extend_from_slice(&count.to_be_bytes());
                out.push(u8::from(*blind_area));
                for f in fixes {
                    let mut item = Vec::new();
                    f.write(&mut item)?;
                    let len = u16::try_from(item.len()).map_err(|_| Error::Field("batch"))?;
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(&item);
                }
            }
            Self::Unsupported(b) => out.extend_from_slice(b),
        }
        Ok(())
    }
}

/// The largest body of one packet the encoder writes.
pub const MAX_BODY: usize = 1023;

impl Message {
    /// The message on the wire: one frame, or one frame per packet when the body is longer than
    /// `max_body` (at most [`MAX_BODY`]); packets take consecutive serial numbers from the
    /// header's.
    pub fn encode(&self, max_body: usize) -> Result<Vec<Vec<u8>>, Error> {
        let max_body = max_body.clamp(1, MAX_BODY);
        let mut body = Vec::new();
        self.body.write(self.header.version, &mut body)?;
        if body.len() <= max_body && self.header.packet.is_none() {
            let mut m = Vec::with_capacity(body.len() + 20);
            self.header.write(body.len(), &mut m)?;
            m.extend_from_slice(&body);
            return Ok(vec![frame::encode_frame(&m)]);
        }
        let parts: Vec<&[u8]> = body.chunks(max_body).collect();
        let total = u16::try_from(parts.len()).map_err(|_| Error::Field("too many packets"))?;
        let mut out = Vec::with_capacity(parts.len());
        for (seq, (i, part)) in (1u16..).zip(parts.into_iter().enumerate()) {
            let offset = u16::try_from(i).map_err(|_| Error::Field("too many packets"))?;
            let header = Header {
                serial: self.header.serial.wrapping_add(offset),
                packet: Some(Packet { total, seq }),
                ..self.header.clone()
            };
            let mut m = Vec::with_capacity(part.len() + 24);
            header.write(part.len(), &mut m)?;
            m.extend_from_slice(part);
            out.push(frame::encode_frame(&m));
        }
        Ok(out)
    }

    /// The one-frame encoding (bodies up to [`MAX_BODY`]).
    pub fn to_frame(&self) -> Result<Vec<u8>, Error> {
        let mut frames = self.encode(MAX_BODY)?;
        match (frames.pop(), frames.is_empty()) {
            (Some(f), true) => Ok(f),
            _ => Err(Error::Field("body longer than one packet")),
        }
    }

    /// A general answer from the platform to `to`.
    pub fn platform_response(to: &Header, serial: u16, result: ResultCode) -> Self {
        Self {
            header: Header {
                msg_id: id::PLATFORM_RESPONSE,
                serial,
                packet: None,
                encryption: 0,
                ..to.clone()
            },
            body: Body::PlatformResponse {
                reply_serial: to.serial,
                reply_id: to.msg_id,
                result,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn fix(seconds: i64) -> Location {
        Location {
            alarm: alarm::EMERGENCY,
            status: status::POSITIONED | status::ACC_ON,
            lat_e6: 31_230_416,
            lon_e6: 121_473_701,
            altitude_m: 12,
            speed_dkmh: 456,
            direction: 270,
            time: Utc
                .timestamp_opt(1_796_000_000 + seconds, 0)
                .single()
                .unwrap_or_default(),
            extras: vec![Extra {
                id: extra::MILEAGE,
                value: 12345u32.to_be_bytes().to_vec(),
            }],
        }
    }

    fn header(msg_id: u16, version: Version) -> Header {
        let terminal_no = match version {
            Version::V2013 => "013912345678".to_string(),
            Version::V2019 { .. } => "00000000013912345678".to_string(),
        };
        Header {
            msg_id,
            version,
            terminal_no,
            serial: 42,
            encryption: 0,
            packet: None,
        }
    }

    fn round_trip(m: &Message) -> Message {
        let wire = m.to_frame().unwrap();
        let inner = frame::decode_frame(&wire[1..wire.len() - 1]).unwrap();
        let (h, b) = Header::parse(&inner).unwrap();
        Message {
            body: Body::parse(&h, b).unwrap(),
            header: h,
        }
    }

    #[test]
    fn every_message_round_trips_in_both_editions() {
        for v in [Version::V2013, Version::V2019 { protocol: 1 }] {
            let reg = Register {
                province: 31,
                city: 100,
                maker: b"MAKER".to_vec(),
                model: b"M1".to_vec(),
                terminal_id: b"T000001".to_vec(),
                plate_colour: 2,
                plate: vec![0xbb, 0xa6, b'A', b'1', b'2', b'3', b'4', b'5'],
            };
            let auth = Body::Authenticate {
                code: "abc123".into(),
                imei: matches!(v, Version::V2019 { .. }).then(|| "860000000000001".into()),
                software: matches!(v, Version::V2019 { .. }).then(|| "1.0".into()),
            };
            for (msg_id, body) in [
                (id::HEARTBEAT, Body::Heartbeat),
                (id::DEREGISTER, Body::Deregister),
                (id::REGISTER, Body::Register(reg.clone())),
                (id::AUTHENTICATE, auth),
                (id::LOCATION, Body::Location(fix(0))),
                (
                    id::LOCATION_BATCH,
                    Body::LocationBatch {
                        blind_area: true,
                        fixes: vec![fix(0), fix(5)],
                    },
                ),
                (
                    id::TERMINAL_RESPONSE,
                    Body::TerminalResponse {
                        reply_serial: 9,
                        reply_id: 0x8001,
                        result: ResultCode::Success,
                    },
                ),
                (
                    id::REGISTER_RESPONSE,
                    Body::RegisterResponse {
                        reply_serial: 9,
                        result: 0,
                        auth_code: Some("tok".into()),
                    },
                ),
                (0x0900, Body::Unsupported(vec![1, 2, 3])),
            ] {
                let m = Message {
                    header: header(msg_id, v),
                    body,
                };
                assert_eq!(round_trip(&m), m, "{msg_id:#06x} {v:?}");
            }
        }
    }

    #[test]
    fn a_location_reads_as_the_standard_writes_it() {
        let mut f = fix(0);
        f.status |= status::SOUTH | status::WEST;
        assert!((f.latitude() + 31.230416).abs() < 1e-9);
        assert!((f.longitude() + 121.473701).abs() < 1e-9);
        assert!((f.speed_kmh() - 45.6).abs() < 1e-9);
        assert_eq!(f.mileage_km(), Some(1234.5));
        assert_eq!(f.alarms(), ["emergency"]);
        assert!(f.positioned());
        f.status &= !status::POSITIONED;
        assert!(!f.positioned());
    }

    #[test]
    fn a_platform_response_answers_the_message_it_names() {
        let to = header(id::LOCATION, Version::V2019 { protocol: 1 });
        let r = Message::platform_response(&to, 5, ResultCode::MessageError);
        let back = round_trip(&r);
        assert_eq!(back.header.terminal_no, to.terminal_no);
        assert_eq!(back.header.version, to.version);
        assert_eq!(
            back.body,
            Body::PlatformResponse {
                reply_serial: 42,
                reply_id: id::LOCATION,
                result: ResultCode::MessageError
            }
        );
    }

    #[test]
    fn out_of_range_coordinates_and_encrypted_bodies_are_refused() {
        let mut body = Vec::new();
        let mut f = fix(0);
        f.lat_e6 = 91_000_000;
        f.write(&mut body).unwrap();
        let h = header(id::LOCATION, Version::V2013);
        assert_eq!(Body::parse(&h, &body), Err(Error::Field("latitude")));
        let enc = Header { encryption: 1, ..h };
        assert_eq!(Body::parse(&enc, &[]), Err(Error::Encrypted));
    }
}
