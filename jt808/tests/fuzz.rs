//! Property tests of the codec over thousands of generated cases (a fixed-seed generator, so a
//! failure reproduces): random bytes, valid messages cut at random read boundaries, flipped
//! bits and cut frames. Nothing panics; a valid stream decodes to what was sent whatever the
//! reads; a corrupted frame never decodes to a different message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use cylwatch_jt808::message::{id, Body, Extra, Location, Message};
use cylwatch_jt808::{decode_frame, Header, Reassembler, Splitter, Version};

/// xorshift64*: small, deterministic, good enough to spread cases.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn usize(&mut self, n: usize) -> usize {
        usize::try_from(self.below(u64::try_from(n).unwrap())).unwrap()
    }
    fn byte(&mut self) -> u8 {
        self.next().to_be_bytes()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::try_from(self.below(1 << 16)).unwrap()
    }
    fn u32(&mut self) -> u32 {
        u32::try_from(self.below(1 << 32)).unwrap()
    }
}

/// Everything the gateway does with bytes, minus the sockets: split, unframe, parse the
/// header, reassemble, parse the body. Returns the messages decoded and the errors counted.
fn decode_stream(chunks: &[&[u8]]) -> (Vec<Message>, usize) {
    let mut splitter = Splitter::new();
    let mut reassembler = Reassembler::new(4);
    let mut messages = Vec::new();
    let mut errors = 0;
    for chunk in chunks {
        let mut frames = Vec::new();
        splitter.push(chunk, |f| frames.push(f.map(<[u8]>::to_vec)));
        for f in frames {
            let decoded = f
                .and_then(|f| decode_frame(&f))
                .and_then(|m| Header::parse(&m).map(|(h, b)| (h, b.to_vec())))
                .and_then(|(h, b)| reassembler.push(h, &b))
                .and_then(|whole| {
                    whole
                        .map(|(h, b)| Body::parse(&h, &b).map(|body| Message { header: h, body }))
                        .transpose()
                });
            match decoded {
                Ok(Some(m)) => messages.push(m),
                Ok(None) => {}
                Err(_) => errors += 1,
            }
        }
    }
    (messages, errors)
}

fn location(g: &mut Gen) -> Location {
    let extras = (0..g.below(4))
        .map(|_| {
            let len = g.usize(8);
            Extra {
                id: g.byte(),
                value: (0..len).map(|_| g.byte()).collect(),
            }
        })
        .collect();
    Location {
        alarm: g.u32(),
        status: g.u32(),
        lat_e6: u32::try_from(g.below(90_000_001)).unwrap(),
        lon_e6: u32::try_from(g.below(180_000_001)).unwrap(),
        altitude_m: g.u16(),
        speed_dkmh: g.u16(),
        direction: u16::try_from(g.below(360)).unwrap(),
        time: Utc
            .timestamp_opt(
                946_684_800 + i64::try_from(g.below(3_000_000_000)).unwrap(),
                0,
            )
            .unwrap(),
        extras,
    }
}

fn message(g: &mut Gen) -> Message {
    let version = if g.below(2) == 0 {
        Version::V2013
    } else {
        Version::V2019 { protocol: 1 }
    };
    let digits = version.terminal_no_len() * 2;
    let terminal_no: String = (0..digits)
        .map(|_| char::from(b'0' + u8::try_from(g.below(10)).unwrap()))
        .collect();
    let (msg_id, body) = match g.below(5) {
        0 => (id::HEARTBEAT, Body::Heartbeat),
        1 => (id::LOCATION, Body::Location(location(g))),
        2 => {
            let n = 1 + g.below(60);
            (
                id::LOCATION_BATCH,
                Body::LocationBatch {
                    blind_area: g.below(2) == 1,
                    fixes: (0..n).map(|_| location(g)).collect(),
                },
            )
        }
        3 => (
            id::AUTHENTICATE,
            Body::Authenticate {
                code: format!("code{}", g.below(1_000_000)),
                imei: matches!(version, Version::V2019 { .. }).then(|| "860000000000001".into()),
                software: matches!(version, Version::V2019 { .. }).then(|| "2.1.0".into()),
            },
        ),
        _ => (
            0x0f00 | u16::from(g.byte() & 0x0f),
            Body::Unsupported((0..g.usize(40)).map(|_| g.byte()).collect()),
        ),
    };
    Message {
        header: Header {
            msg_id,
            version,
            terminal_no,
            serial: g.u16(),
            encryption: 0,
            packet: None,
        },
        body,
    }
}

/// Cuts `bytes` at random places.
fn chunks<'a>(g: &mut Gen, bytes: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = 1 + g.usize(rest.len().min(300));
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
    }
    out
}

#[test]
fn random_bytes_never_panic() {
    let mut g = Gen(0x5eed_0001);
    for _ in 0..5_000 {
        let len = g.usize(3_000);
        let mut bytes: Vec<u8> = (0..len).map(|_| g.byte()).collect();
        // Plenty of flags and escapes, so frames and escapes are really exercised.
        for b in bytes.iter_mut() {
            match g.below(16) {
                0 => *b = 0x7e,
                1 => *b = 0x7d,
                _ => {}
            }
        }
        let parts = chunks(&mut g, &bytes);
        let (_, _) = decode_stream(&parts);
    }
}

#[test]
fn valid_streams_decode_to_what_was_sent_whatever_the_reads() {
    let mut g = Gen(0x5eed_0002);
    for _ in 0..2_000 {
        let sent: Vec<Message> = (0..1 + g.below(5)).map(|_| message(&mut g)).collect();
        let mut wire = Vec::new();
        for m in &sent {
            // Long batches go out in packets of a random size.
            let max_body = 64 + g.usize(960);
            for f in m.encode(max_body).unwrap() {
                wire.extend_from_slice(&f);
            }
        }
        let parts = chunks(&mut g, &wire);
        let (got, errors) = decode_stream(&parts);
        assert_eq!(errors, 0);
        assert_eq!(got.len(), sent.len());
        for (a, b) in got.iter().zip(&sent) {
            assert_eq!(a.body, b.body);
            assert_eq!(a.header.msg_id, b.header.msg_id);
            assert_eq!(a.header.terminal_no, b.header.terminal_no);
        }
    }
}

#[test]
fn flipped_bits_and_cut_frames_never_decode_to_another_message() {
    let mut g = Gen(0x5eed_0003);
    for _ in 0..5_000 {
        let m = message(&mut g);
        let Ok(frame) = m.to_frame() else { continue };
        let mut bad = frame.clone();
        match g.below(3) {
            // One bit flipped inside, leaving flags and escapes alone.
            0 => {
                let i = 1 + g.usize(bad.len() - 2);
                let bit = 1u8 << g.below(8);
                let flipped = bad[i] ^ bit;
                if [0x7e, 0x7d].contains(&bad[i]) || [0x7e, 0x7d].contains(&flipped) {
                    continue;
                }
                bad[i] = flipped;
            }
            // Cut short, then the next frame starts.
            1 => {
                bad.truncate(1 + g.usize(bad.len() - 1));
            }
            // A random byte inserted.
            _ => {
                let i = 1 + g.usize(bad.len() - 2);
                let b = g.byte();
                if b == 0x7e {
                    continue;
                }
                bad.insert(i, b);
            }
        }
        let mut wire = bad;
        wire.extend_from_slice(&frame);
        let parts = chunks(&mut g, &wire);
        let (got, _) = decode_stream(&parts);
        // Whatever happened to the first copy, no message other than the one sent comes out,
        // and the intact copy after it is decoded.
        assert!(
            !got.is_empty(),
            "the intact frame after the damaged one is lost"
        );
        for d in &got {
            assert_eq!(d.body, m.body);
        }
    }
}
