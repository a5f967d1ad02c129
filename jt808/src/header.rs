//! The message header (消息头).

use crate::reader::Reader;
use crate::{bcd, Error};

/// Which edition of the standard a message is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// JT/T 808-2013 (and 2011): a 6-byte BCD terminal number, no version byte.
    V2013,
    /// JT/T 808-2019: the version flag (bit 14) set, a protocol version byte, a 10-byte BCD
    /// terminal number.
    V2019 { protocol: u8 },
}

impl Version {
    /// Bytes of the BCD terminal number.
    pub fn terminal_no_len(self) -> usize {
        match self {
            Self::V2013 => 6,
            Self::V2019 { .. } => 10,
        }
    }
}

/// One packet of a multi-packet message (消息包封装项): `seq` counts from 1 to `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Packet {
    pub total: u16,
    pub seq: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub msg_id: u16,
    pub version: Version,
    /// The BCD digits: 12 (2013) or 20 (2019), leading zeros kept.
    pub terminal_no: String,
    pub serial: u16,
    /// The encryption bits (10–12); only 0 (none) is decoded.
    pub encryption: u8,
    pub packet: Option<Packet>,
}

const LENGTH_MASK: u16 = 0x03ff;
const PACKET_BIT: u16 = 1 << 13;
const VERSION_BIT: u16 = 1 << 14;

impl Header {
    /// A header and the body it declares, from an unescaped message without its check code.
    pub fn parse(message: &[u8]) -> Result<(Header, &[u8]), Error> {
        let mut r = Reader::new(message, "header");
        let msg_id = r.u16()?;
        let attr = r.u16()?;
        let version = if attr & VERSION_BIT != 0 {
            Version::V2019 { protocol: r.u8()? }
        } else {
            Version::V2013
        };
        let terminal_no = bcd::digits(r.take(version.terminal_no_len())?, "terminal number")?;
        let serial = r.u16()?;
        let packet = if attr & PACKET_BIT != 0 {
            let total = r.u16()?;
            let seq = r.u16()?;
            if total == 0 || seq == 0 || seq > total {
                return Err(Error::Packet { seq, total });
            }
            Some(Packet { total, seq })
        } else {
            None
        };
        let declared = usize::from(attr & LENGTH_MASK);
        let body = r.rest();
        if body.len() != declared {
            return Err(Error::Length {
                declared,
                actual: body.len(),
            });
        }
        let encryption = u8::try_from((attr >> 10) & 0x7).unwrap_or(0x7);
        let header = Header {
            msg_id,
            version,
            terminal_no,
            serial,
            encryption,
            packet,
        };
        Ok((header, body))
    }

    /// The header bytes for a body of `body_len` bytes (at most 1023).
    pub fn write(&self, body_len: usize, out: &mut Vec<u8>) -> Result<(), Error> {
        let len = u16::try_from(body_len)
            .ok()
            .filter(|l| *l <= LENGTH_MASK)
            .ok_or(Error::Field("body longer than 1023 bytes"))?;
        let mut attr = len | (u16::from(self.encryption & 0x7) << 10);
        if self.packet.is_some() {
            attr |= PACKET_BIT;
        }
        if matches!(self.version, Version::V2019 { .. }) {
            attr |= VERSION_BIT;
        }
        out.extend_from_slice(&self.msg_id.to_be_bytes());
        out.extend_from_slice(&attr.to_be_bytes());
        if let Version::V2019 { protocol } = self.version {
            out.push(protocol);
        }
        let no = bcd::encode(&self.terminal_no, self.version.terminal_no_len())
            .ok_or(Error::Field("terminal number"))?;
        out.extend_from_slice(&no);
        out.extend_from_slice(&self.serial.to_be_bytes());
        if let Some(p) = self.packet {
            out.extend_from_slice(&p.total.to_be_bytes());
            out.extend_from_slice(&p.seq.to_be_bytes());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: Version, no: &str, packet: Option<Packet>) -> Header {
        Header {
            msg_id: 0x0200,
            version,
            terminal_no: no.into(),
            serial: 7,
            encryption: 0,
            packet,
        }
    }

    #[test]
    fn both_editions_round_trip() {
        for h in [
            header(Version::V2013, "013800138000", None),
            header(Version::V2019 { protocol: 1 }, "00000000013800138000", None),
            header(
                Version::V2013,
                "013800138000",
                Some(Packet { total: 3, seq: 2 }),
            ),
        ] {
            let mut bytes = Vec::new();
            h.write(3, &mut bytes).unwrap();
            bytes.extend_from_slice(&[1, 2, 3]);
            let (back, body) = Header::parse(&bytes).unwrap();
            assert_eq!(back, h);
            assert_eq!(body, &[1, 2, 3]);
        }
    }

    #[test]
    fn a_wrong_length_or_packet_item_is_refused() {
        let mut bytes = Vec::new();
        header(Version::V2013, "1", None)
            .write(4, &mut bytes)
            .unwrap();
        bytes.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            Header::parse(&bytes),
            Err(Error::Length {
                declared: 4,
                actual: 3
            })
        );
        let mut bytes = Vec::new();
        header(Version::V2013, "1", Some(Packet { total: 2, seq: 3 }))
            .write(0, &mut bytes)
            .unwrap();
        assert_eq!(
            Header::parse(&bytes),
            Err(Error::Packet { seq: 3, total: 2 })
        );
        assert!(Header::parse(&[0x02, 0x00]).is_err());
    }
}
