//! Multi-packet messages (分包) put back together. Each packet carries the total and its
//! sequence number; packets of one message take consecutive serial numbers, so a message is
//! known by its id, its total and the serial of its first packet. Bounded: at most
//! `max_messages` unfinished messages per connection (the oldest is dropped when a new one
//! starts) and at most [`MAX_PACKETS`] packets in one.

use crate::header::Header;
use crate::Error;

/// The most packets of one message accepted (a 0x0704 of 64 KB is already far above what
/// terminals send).
pub const MAX_PACKETS: u16 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    msg_id: u16,
    first_serial: u16,
    total: u16,
}

#[derive(Debug)]
struct Partial {
    key: Key,
    parts: Vec<Option<Vec<u8>>>,
    /// The header of the first packet, for the message's header.
    header: Header,
}

#[derive(Debug)]
pub struct Reassembler {
    partial: Vec<Partial>,
    max_messages: usize,
}

impl Reassembler {
    pub fn new(max_messages: usize) -> Self {
        Self {
            partial: Vec::new(),
            max_messages: max_messages.max(1),
        }
    }

    /// Feeds one packet. A message without a packet item comes straight back; a packet
    /// completing its message returns the whole body with the first packet's header (packet
    /// item cleared); other packets return `None`. A packet seen twice replaces the first.
    pub fn push(
        &mut self,
        header: Header,
        body: &[u8],
    ) -> Result<Option<(Header, Vec<u8>)>, Error> {
        let Some(p) = header.packet else {
            return Ok(Some((header, body.to_vec())));
        };
        if p.total > MAX_PACKETS {
            return Err(Error::Packet {
                seq: p.seq,
                total: p.total,
            });
        }
        let key = Key {
            msg_id: header.msg_id,
            first_serial: header.serial.wrapping_sub(p.seq - 1),
            total: p.total,
        };
        let at = match self.partial.iter().position(|x| x.key == key) {
            Some(at) => at,
            None => {
                if self.partial.len() >= self.max_messages {
                    self.partial.remove(0);
                }
                let mut first = header.clone();
                first.serial = key.first_serial;
                self.partial.push(Partial {
                    key,
                    parts: vec![None; usize::from(p.total)],
                    header: first,
                });
                self.partial.len() - 1
            }
        };
        let Some(partial) = self.partial.get_mut(at) else {
            return Ok(None);
        };
        if let Some(slot) = partial.parts.get_mut(usize::from(p.seq - 1)) {
            *slot = Some(body.to_vec());
        }
        if partial.parts.iter().any(Option::is_none) {
            return Ok(None);
        }
        let done = self.partial.remove(at);
        let body: Vec<u8> = done.parts.into_iter().flatten().flatten().collect();
        let mut header = done.header;
        header.packet = None;
        Ok(Some((header, body)))
    }

    /// Unfinished messages held.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{Packet, Version};

    fn packet(serial: u16, total: u16, seq: u16) -> Header {
        Header {
            msg_id: 0x0704,
            version: Version::V2013,
            terminal_no: "013912345678".into(),
            serial,
            encryption: 0,
            packet: Some(Packet { total, seq }),
        }
    }

    #[test]
    fn packets_in_any_order_make_one_message_and_bounds_hold() {
        let mut r = Reassembler::new(2);
        assert_eq!(r.push(packet(12, 3, 3), b"ef").unwrap(), None);
        assert_eq!(r.push(packet(10, 3, 1), b"ab").unwrap(), None);
        let (h, body) = r.push(packet(11, 3, 2), b"cd").unwrap().unwrap();
        assert_eq!(body, b"abcdef");
        assert_eq!(h.serial, 10);
        assert_eq!(h.packet, None);
        assert_eq!(r.pending(), 0);
        assert!(r.push(packet(1, MAX_PACKETS + 1, 1), b"x").is_err());
        for s in [100, 200, 300] {
            r.push(packet(s, 2, 1), b"x").unwrap();
        }
        assert_eq!(r.pending(), 2, "the oldest unfinished message was dropped");
    }
}
