//! JT/T 808 (道路运输车辆卫星定位系统 终端通讯协议), the 2013 and 2019 editions: what a vehicle
//! terminal and a platform exchange over TCP. This crate is the codec only — bytes in, typed
//! messages out and back — so it can be tested exhaustively without sockets; the server's
//! gateway and the simulator's terminals both use it.
//!
//! The layers, as the standard writes them:
//! - [`frame`]: a message travels between two `0x7e` flags; `0x7e` and `0x7d` inside are
//!   escaped (`0x7d 0x02`, `0x7d 0x01`); the last byte before the closing flag is the XOR of
//!   every byte of the header and body (the check code). [`frame::Splitter`] cuts a TCP byte
//!   stream into frames, whatever the reads' boundaries, skipping garbage between frames and
//!   refusing oversized ones.
//! - [`header`]: message id, body attributes (length, encryption, packet flag, the 2019
//!   version flag), the terminal number in BCD (6 bytes: 12 digits in 2013; 10 bytes: 20 digits
//!   in 2019), the serial number, and the packet item of a multi-packet message.
//! - [`message`]: the bodies (register, authenticate, heartbeat, deregister, location report,
//!   batch upload, the general responses, register response), big-endian, times in BCD as
//!   Beijing time.
//! - [`reassembly`]: the packets of a multi-packet message put back together, bounded.
//!
//! Nothing here panics on input: every malformed byte sequence is an [`Error`].

pub mod bcd;
pub mod frame;
pub mod header;
pub mod message;
mod reader;
pub mod reassembly;

pub use frame::{decode_frame, encode_frame, Splitter};
pub use header::{Header, Packet, Version};
pub use message::{Body, Extra, Location, Message, Register, ResultCode};
pub use reassembly::Reassembler;

/// What can be wrong with bytes claiming to be a JT/T 808 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("frame longer than {0} bytes")]
    TooLong(usize),
    #[error("frame too short: {0} bytes")]
    TooShort(usize),
    #[error("bad escape sequence at byte {0}")]
    BadEscape(usize),
    #[error("check code {found:#04x}, computed {computed:#04x}")]
    CheckCode { found: u8, computed: u8 },
    #[error("body length {declared} declared, {actual} present")]
    Length { declared: usize, actual: usize },
    #[error("message truncated: {0}")]
    Truncated(&'static str),
    #[error("not BCD: {0}")]
    Bcd(&'static str),
    #[error("invalid field: {0}")]
    Field(&'static str),
    #[error("encrypted bodies are not supported")]
    Encrypted,
    #[error("packet {seq} of {total} is out of range")]
    Packet { seq: u16, total: u16 },
}
