//! Framing: `0x7e` flags, the `0x7d` escapes and the XOR check code.

use crate::Error;

/// The flag that opens and closes every frame.
pub const FLAG: u8 = 0x7e;
/// The escape byte: `0x7d 0x02` is `0x7e`, `0x7d 0x01` is `0x7d`.
pub const ESCAPE: u8 = 0x7d;

/// The largest unescaped message: a 2019 header with its packet item (21 bytes), the largest
/// body (1023 bytes, the length field's 10 bits) and the check code.
pub const MAX_MESSAGE: usize = 21 + 1023 + 1;
/// The most bytes between two flags the splitter keeps: every byte of the largest message
/// escaped.
pub const MAX_FRAME: usize = 2 * MAX_MESSAGE;

/// The XOR of every byte.
pub fn check_code(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// A message (header and body, without check code) as it goes on the wire: check code
/// appended, escaped, between flags.
pub fn encode_frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 4);
    out.push(FLAG);
    for &b in message.iter().chain(std::iter::once(&check_code(message))) {
        match b {
            FLAG => out.extend_from_slice(&[ESCAPE, 0x02]),
            ESCAPE => out.extend_from_slice(&[ESCAPE, 0x01]),
            b => out.push(b),
        }
    }
    out.push(FLAG);
    out
}

/// The bytes between two flags, unescaped and their check code verified: the message
/// (header and body) without the check code.
pub fn decode_frame(escaped: &[u8]) -> Result<Vec<u8>, Error> {
    if escaped.len() > MAX_FRAME {
        return Err(Error::TooLong(MAX_FRAME));
    }
    let mut out = Vec::with_capacity(escaped.len());
    let mut bytes = escaped.iter().enumerate();
    while let Some((i, &b)) = bytes.next() {
        match b {
            ESCAPE => match bytes.next() {
                Some((_, 0x01)) => out.push(ESCAPE),
                Some((_, 0x02)) => out.push(FLAG),
                _ => return Err(Error::BadEscape(i)),
            },
            FLAG => return Err(Error::BadEscape(i)),
            b => out.push(b),
        }
    }
    let Some(found) = out.pop() else {
        return Err(Error::TooShort(0));
    };
    let computed = check_code(&out);
    if found != computed {
        return Err(Error::CheckCode { found, computed });
    }
    Ok(out)
}

/// Cuts a byte stream into frames, whatever the boundaries of the reads: a frame split
/// across reads waits for its end, several frames in one read all come out. Bytes before the
/// first flag are skipped (and counted). Every flag closes what came before it and opens what
/// follows, so two flags in a row (one frame's end, the next one's start) and a single shared
/// flag both separate frames, and bytes between two frames come out as one more "frame" that
/// fails its decoding (the gateway counts it as a message error) — which also puts a stream
/// that lost its place back in step at the next flag. A frame longer than [`MAX_FRAME`] is
/// dropped whole with one error.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
    state: State,
    skipped: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the first flag; bytes here are garbage.
    #[default]
    Between,
    /// After an opening flag.
    InFrame,
    /// In a frame grown too long: dropped up to its closing flag.
    Dropping,
}

impl Splitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `bytes`; each complete frame's content (escaped, between the flags) or an
    /// oversize error is handed to `out` in order.
    pub fn push(&mut self, bytes: &[u8], mut out: impl FnMut(Result<&[u8], Error>)) {
        for &b in bytes {
            match (self.state, b) {
                (State::Between, FLAG) => self.state = State::InFrame,
                (State::Between, _) => self.skipped += 1,
                // An empty frame is a closing flag followed by an opening one.
                (State::InFrame, FLAG) if self.buf.is_empty() => {}
                (State::InFrame, FLAG) => {
                    out(Ok(&self.buf));
                    self.buf.clear();
                }
                (State::InFrame, b) => {
                    if self.buf.len() >= MAX_FRAME {
                        self.buf.clear();
                        self.state = State::Dropping;
                        out(Err(Error::TooLong(MAX_FRAME)));
                    } else {
                        self.buf.push(b);
                    }
                }
                // The dropped frame's closing flag may be the next one's opening flag too.
                (State::Dropping, FLAG) => self.state = State::InFrame,
                (State::Dropping, _) => {}
            }
        }
    }

    /// Bytes skipped outside any frame so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Bytes held of an unfinished frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_both_special_bytes_and_verifies_the_check_code() {
        let msg = [0x01, 0x7e, 0x02, 0x7d, 0x03];
        let wire = encode_frame(&msg);
        assert_eq!(wire.first(), Some(&FLAG));
        assert_eq!(wire.last(), Some(&FLAG));
        let inner = &wire[1..wire.len() - 1];
        assert!(!inner.contains(&FLAG));
        assert_eq!(&inner[..7], &[0x01, 0x7d, 0x02, 0x02, 0x7d, 0x01, 0x03]);
        assert_eq!(decode_frame(inner).unwrap(), msg);
        let mut bad = inner.to_vec();
        bad[0] ^= 0x10;
        assert!(matches!(decode_frame(&bad), Err(Error::CheckCode { .. })));
        assert_eq!(decode_frame(&[0x01, 0x7d]), Err(Error::BadEscape(1)));
        assert_eq!(decode_frame(&[0x7d, 0x03, 0x00]), Err(Error::BadEscape(0)));
        assert_eq!(decode_frame(&[]), Err(Error::TooShort(0)));
    }

    fn split(chunks: &[&[u8]]) -> (Vec<Result<Vec<u8>, Error>>, u64) {
        let mut s = Splitter::new();
        let mut got = Vec::new();
        for c in chunks {
            s.push(c, |f| got.push(f.map(<[u8]>::to_vec)));
        }
        (got, s.skipped())
    }

    #[test]
    fn frames_come_out_whole_whatever_the_reads() {
        let a = encode_frame(&[1, 2, 3]);
        let b = encode_frame(&[4, 0x7e, 5]);
        let mut both = a.clone();
        both.extend_from_slice(&b);
        let (one_read, _) = split(&[&both]);
        let (byte_by_byte, _) = split(&both.iter().map(std::slice::from_ref).collect::<Vec<_>>());
        assert_eq!(one_read.len(), 2);
        assert_eq!(one_read, byte_by_byte);
        // A shared flag separates frames too.
        let mut shared = a[..a.len() - 1].to_vec();
        shared.extend_from_slice(&b);
        let (got, _) = split(&[&shared]);
        assert_eq!(got, one_read);
        // Bytes before the first flag are skipped and counted; bytes between frames come out
        // as a frame that does not decode, and the next frame is whole.
        let (_, skipped) = split(&[b"junk", &a]);
        assert_eq!(skipped, 4);
        let (got, _) = split(&[&a, b"junk", &b]);
        assert_eq!(got.len(), 3);
        assert!(decode_frame(got[1].as_ref().unwrap()).is_err());
        assert_eq!(got[2], one_read[1]);
    }

    #[test]
    fn an_oversized_frame_is_one_error_and_the_next_frame_survives() {
        let mut wire = vec![FLAG];
        wire.extend(std::iter::repeat_n(0x11u8, MAX_FRAME + 500));
        wire.push(FLAG);
        wire.extend_from_slice(&encode_frame(&[9, 9, 9]));
        let (got, _) = split(&[&wire]);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], Err(Error::TooLong(MAX_FRAME)));
        assert_eq!(
            decode_frame(got[1].as_ref().unwrap()).unwrap(),
            vec![9, 9, 9]
        );
    }
}
