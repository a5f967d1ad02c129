//! Whether a licence or certificate is valid on a day, as the gun's rules count it: valid
//! through its end date, expired from the day after; a record without a date is treated as
//! expired by R01/R02, so it is shown as missing, in the same colour.

use crate::i18n::Lang;
use chrono::NaiveDate;

/// How many days ahead an end date counts as expiring (the daily notices' 30 days).
pub const EXPIRING_DAYS: i64 = 30;

/// A licence's or certificate's state on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Valid, and more than [`EXPIRING_DAYS`] days left.
    Valid,
    /// Valid, ending within [`EXPIRING_DAYS`] days (0: today is its last day).
    Expiring { days_left: i64 },
    /// Its end date has passed.
    Expired,
    /// No end date recorded.
    Missing,
}

/// The state of a licence ending on `expires`, on `today`.
pub fn validity(expires: Option<NaiveDate>, today: NaiveDate) -> Validity {
    let Some(expires) = expires else {
        return Validity::Missing;
    };
    let days_left = (expires - today).num_days();
    if days_left < 0 {
        Validity::Expired
    } else if days_left <= EXPIRING_DAYS {
        Validity::Expiring { days_left }
    } else {
        Validity::Valid
    }
}

impl Validity {
    /// A stable name, for CSS classes and `data-validity`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expiring { .. } => "expiring",
            Self::Expired => "expired",
            Self::Missing => "missing",
        }
    }

    /// In words: `有效`, `30天内到期（剩12天）`, `已过期`, `未登记`.
    pub fn text(self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Valid, Lang::Zh) => "有效".to_owned(),
            (Self::Valid, Lang::En) => "valid".to_owned(),
            (Self::Expiring { days_left: 0 }, Lang::Zh) => "今日到期".to_owned(),
            (Self::Expiring { days_left: 0 }, Lang::En) => "expires today".to_owned(),
            (Self::Expiring { days_left }, Lang::Zh) => format!("即将到期（剩{days_left}天）"),
            (Self::Expiring { days_left }, Lang::En) => {
                format!("expiring ({days_left} days left)")
            }
            (Self::Expired, Lang::Zh) => "已过期".to_owned(),
            (Self::Expired, Lang::En) => "expired".to_owned(),
            (Self::Missing, Lang::Zh) => "未登记".to_owned(),
            (Self::Missing, Lang::En) => "none recorded".to_owned(),
        }
    }
}

/// Today in Beijing by the browser's clock (UTC+8 all year).
pub fn beijing_today() -> NaiveDate {
    let beijing = js_sys::Date::new(&(js_sys::Date::now() + 8.0 * 3_600_000.0).into());
    NaiveDate::from_ymd_opt(
        i32::try_from(beijing.get_utc_full_year()).unwrap_or(1970),
        beijing.get_utc_month() + 1,
        beijing.get_utc_date(),
    )
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_licence_is_valid_through_its_end_date_and_expired_from_the_day_after() {
        let end = Some(day("2026-12-31"));
        assert_eq!(
            validity(end, day("2026-12-31")),
            Validity::Expiring { days_left: 0 }
        );
        assert_eq!(validity(end, day("2027-01-01")), Validity::Expired);
        assert_eq!(validity(end, day("2030-01-01")), Validity::Expired);
    }

    #[test]
    fn thirty_days_ahead_is_expiring_and_thirty_one_is_valid() {
        let end = Some(day("2026-12-31"));
        assert_eq!(
            validity(end, day("2026-12-01")),
            Validity::Expiring { days_left: 30 }
        );
        assert_eq!(validity(end, day("2026-11-30")), Validity::Valid);
        assert_eq!(validity(None, day("2026-12-01")), Validity::Missing);
    }

    #[test]
    fn states_read_in_both_languages() {
        assert_eq!(Validity::Valid.text(Lang::Zh), "有效");
        assert_eq!(Validity::Expired.text(Lang::En), "expired");
        assert_eq!(
            Validity::Expiring { days_left: 12 }.text(Lang::Zh),
            "即将到期（剩12天）"
        );
        assert_eq!(Validity::Expiring { days_left: 0 }.name(), "expiring");
        assert_eq!(Validity::Missing.text(Lang::Zh), "未登记");
    }
}
