//! BCD: two decimal digits per byte, high nibble first — the terminal number and the times.

use crate::Error;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, TimeZone, Timelike, Utc};

/// The digits of `bytes`; a nibble above 9 is an error.
pub fn digits(bytes: &[u8], what: &'static str) -> Result<String, Error> {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            let c = char::from_digit(u32::from(nibble), 10).ok_or(Error::Bcd(what))?;
            out.push(c);
        }
    }
    Ok(out)
}

/// `digits` written into exactly `len` bytes, left-padded with zeros; `None` when a character
/// is not a digit or there are more digits than fit.
pub fn encode(digits: &str, len: usize) -> Option<Vec<u8>> {
    let width = len.checked_mul(2)?;
    if digits.len() > width || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let padded: Vec<u8> = std::iter::repeat_n(0u8, width - digits.len())
        .chain(digits.bytes().map(|c| c - b'0'))
        .collect();
    Some(padded.chunks(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// Beijing time (UTC+8), in which the standard writes every time.
pub fn beijing() -> FixedOffset {
    // 8 h east of UTC is always a valid offset.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// `YYMMDDhhmmss` in BCD, Beijing time, as an instant. Years are 2000–2099.
pub fn time(bytes: &[u8]) -> Result<DateTime<Utc>, Error> {
    let d = digits(bytes, "time")?;
    let field = |i: usize| -> Result<u32, Error> {
        d.get(i..i + 2)
            .and_then(|s| s.parse().ok())
            .ok_or(Error::Bcd("time"))
    };
    if bytes.len() != 6 {
        return Err(Error::Bcd("time"));
    }
    let date = NaiveDate::from_ymd_opt(
        2000 + i32::try_from(field(0)?).map_err(|_| Error::Bcd("time"))?,
        field(2)?,
        field(4)?,
    )
    .ok_or(Error::Field("time"))?;
    let naive = date
        .and_hms_opt(field(6)?, field(8)?, field(10)?)
        .ok_or(Error::Field("time"))?;
    beijing()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(Error::Field("time"))
}

/// An instant as `YYMMDDhhmmss` BCD in Beijing time; `None` outside 2000–2099.
pub fn encode_time(at: DateTime<Utc>) -> Option<[u8; 6]> {
    let t = at.with_timezone(&beijing());
    let year = u32::try_from(t.year().checked_sub(2000)?)
        .ok()
        .filter(|y| *y < 100)?;
    let parts = [year, t.month(), t.day(), t.hour(), t.minute(), t.second()];
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(parts) {
        let p = u8::try_from(p).ok()?;
        *o = ((p / 10) << 4) | (p % 10);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_round_trip_and_refuse_hex() {
        assert_eq!(
            digits(&[0x01, 0x38, 0x00, 0x13, 0x80, 0x00], "t").unwrap(),
            "013800138000"
        );
        assert_eq!(
            encode("13800138000", 6).unwrap(),
            vec![0x01, 0x38, 0x00, 0x13, 0x80, 0x00]
        );
        assert_eq!(digits(&[0x1a], "t"), Err(Error::Bcd("t")));
        assert_eq!(encode("12a", 6), None);
        assert_eq!(encode("1234567890123", 6), None);
    }

    #[test]
    fn times_are_beijing_time() {
        // 2026-12-07 08:30:15 in Beijing is 00:30:15 UTC.
        let at = time(&[0x26, 0x12, 0x07, 0x08, 0x30, 0x15]).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-07T00:30:15+00:00");
        assert_eq!(
            encode_time(at).unwrap(),
            [0x26, 0x12, 0x07, 0x08, 0x30, 0x15]
        );
        assert!(
            time(&[0x26, 0x13, 0x07, 0x08, 0x30, 0x15]).is_err(),
            "month 13"
        );
        assert!(
            time(&[0x26, 0x12, 0x07, 0x24, 0x30, 0x15]).is_err(),
            "hour 24"
        );
        assert!(time(&[0x26, 0x12, 0x07]).is_err(), "short");
    }
}
