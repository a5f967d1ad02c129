//! How instants, dates and masses read on screen. Times are Beijing time (Asia/Shanghai, UTC+8
//! all year) whatever zone the browser is in, so a wall and a phone show the same minute.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};

/// China Standard Time.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// `YYYY-MM-DD HH:MM` in Beijing time.
pub fn minute(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%d %H:%M").to_string()
}

/// `HH:MM:SS` in Beijing time.
pub fn clock(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&cst()).format("%H:%M:%S").to_string()
}

/// `MM-DD HH:MM:SS` in Beijing time (a feed of the last days: the year goes without saying).
pub fn moment(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&cst()).format("%m-%d %H:%M:%S").to_string()
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time.
pub fn second(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&cst())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `YYYY-MM-DD HH:MM`, or a dash.
pub fn minute_or_dash(t: Option<&DateTime<FixedOffset>>) -> String {
    t.map_or_else(|| "—".to_owned(), minute)
}

/// `YYYY-MM-DD`.
pub fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// `YYYY-MM` (制造年月).
pub fn month(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// A measured number with at most two decimals and no trailing zeros (17.34, 30.8, 16).
pub fn number(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// A number, or nothing (an empty cell reads better than a dash in a long table).
pub fn number_or_blank(v: Option<f64>) -> String {
    v.map(number).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masses_read_like_the_paper_history() {
        assert_eq!(number(17.34), "17.34");
        assert_eq!(number(30.80), "30.8");
        assert_eq!(number(31.0), "31");
        assert_eq!(number(100.0), "100");
        assert_eq!(number(0.0), "0");
        assert_eq!(number_or_blank(None), "");
    }

    #[test]
    fn instants_are_shown_in_beijing_time() {
        let t = DateTime::parse_from_rfc3339("2026-11-01T01:00:00Z").unwrap();
        assert_eq!(minute(&t), "2026-11-01 09:00");
        let t = DateTime::parse_from_rfc3339("2026-11-01T23:30:00-05:00").unwrap();
        assert_eq!(minute(&t), "2026-11-02 12:30");
        assert_eq!(clock(&t), "12:30:00");
        assert_eq!(moment(&t), "11-02 12:30:00");
        assert_eq!(second(&t), "2026-11-02 12:30:00");
    }
}
