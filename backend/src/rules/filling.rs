//! Filling control (充装控枪, seed 004 Appendix B): whether a gun may open for a cylinder. A pure
//! function of the facts; every failing rule is named. Fail closed: facts that are missing
//! refuse (an unknown cylinder is R00 and nothing else is judged), and so do facts that may be
//! stale (events about the cylinder acknowledged and not yet applied: E02 alone).
//!
//! Boundaries (server time; calendar dates in Asia/Shanghai):
//! - R01/R02: a licence is valid through its expiry date, expired the day after; a filling
//!   licence with a first day is not valid before it.
//! - R14: a filler's certificate likewise, from its first day (if any) through its last.
//! - R04: due on its next-inspection date, overdue the day after. R05 likewise for the end of
//!   design life.
//! - R08: refused while less than 24 h have passed since the last filling ended; exactly 24 h
//!   later it is allowed.
//! - R10: a passed pre-fill check counts for 16 h: exactly 16 h old still counts, a second
//!   more does not. A check dated up to 2 minutes in the future (a device clock slightly ahead)
//!   counts; further ahead it does not.
//! - R09 and R12 judge the time since the previous filling; a cylinder never filled before
//!   passes both.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use shared::alert::{AlertKind, Severity};
use shared::auth::RecordStatus;
use shared::filling::{FillingFlag, FillingRule};
use shared::ids::StationCode;
use shared::medium::Medium;
use shared::place::SubjectKind;

/// The enterprise that runs the station, and the station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseFacts {
    pub filling_licence_expires: Option<NaiveDate>,
    /// The filling licence's first valid day, if it names one.
    pub filling_licence_valid_from: Option<NaiveDate>,
    /// The media the filling licence covers (R15).
    pub licensed_media: Vec<Medium>,
    pub gas_licence_expires: Option<NaiveDate>,
    /// The enterprise's status: only an active one fills (R13).
    pub enterprise_status: RecordStatus,
    /// The station's status: only an active one fills (R13).
    pub station_status: RecordStatus,
    /// The filler's (the question's `staff_no` in the station's enterprise): only an active
    /// one fills (R13). A number the registry does not know counts as active here.
    pub filler_status: RecordStatus,
    /// The filler holds a filling operator certificate valid today (R14). A number the
    /// registry does not know holds none.
    pub filler_certified: bool,
}

/// What is known about the cylinder at the gun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CylinderFacts {
    pub medium: Medium,
    pub registered: bool,
    pub next_inspection_on: NaiveDate,
    pub life_ends_on: NaiveDate,
    pub scrapped: bool,
    pub registered_station: StationCode,
    /// When the previous filling ended (or its scan), if it was ever filled.
    pub last_filled_at: Option<DateTime<Utc>>,
    /// Since the previous filling: an outbound move (`load`/`deliver`) followed later by an
    /// inbound one (`collect_empty`/`return_in`).
    pub circulated_since_last_filling: bool,
    /// The newest passed pre-fill check.
    pub last_passed_pre_check_at: Option<DateTime<Utc>>,
    /// Whether the previous filling has a post-fill check after it.
    pub previous_filling_post_checked: bool,
    /// Events about it were acknowledged and are not yet applied (Redis away, the pipeline
    /// behind, or dead-lettered): the facts above may be stale.
    pub pending_events: bool,
    /// Under a recall neither inspected nor cleared (R16).
    pub recalled: bool,
}

/// Everything a decision depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub station_code: StationCode,
    pub gun_medium: Medium,
    pub enterprise: EnterpriseFacts,
    /// `None`: no such tag or code.
    pub cylinder: Option<CylinderFacts>,
}

/// One failing rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub rule: FillingRule,
    pub message: String,
}

fn reason(rule: FillingRule, message: impl Into<String>) -> Reason {
    Reason {
        rule,
        message: message.into(),
    }
}

/// How long after the previous filling the next may start.
pub const REFILL_AFTER: Duration = Duration::hours(24);
/// How long a passed pre-fill check counts.
pub const PRE_CHECK_VALID: Duration = Duration::hours(16);
/// How far in the future a check may be dated and still count.
pub const CLOCK_SKEW: Duration = Duration::minutes(2);

/// Every failing rule, in rule order; empty means the gun may open.
pub fn decide(facts: &Facts) -> Vec<Reason> {
    let Some(c) = &facts.cylinder else {
        return vec![reason(
            FillingRule::R00,
            "未登记的气瓶标签或编号（非法标签），拒绝充装",
        )];
    };
    if c.pending_events {
        // Never an allow on stale facts: what is acknowledged and not applied may scrap,
        // fill or move the cylinder. Judged alone, as the other rules read those facts.
        return vec![reason(
            FillingRule::E02,
            "该气瓶有已接收但尚未处理的记录，请稍后重试",
        )];
    }
    let mut out = Vec::new();
    let expired = |expires: Option<NaiveDate>| expires.is_none_or(|d| facts.today > d);
    let not_yet = facts
        .enterprise
        .filling_licence_valid_from
        .is_some_and(|from| facts.today < from);
    if expired(facts.enterprise.filling_licence_expires) || not_yet {
        out.push(reason(FillingRule::R01, "燃气气瓶充装许可证过期或缺失"));
    }
    if expired(facts.enterprise.gas_licence_expires) {
        out.push(reason(FillingRule::R02, "燃气经营许可证过期或缺失"));
    }
    if !c.registered {
        out.push(reason(FillingRule::R03, "未办理使用登记的气瓶"));
    }
    if facts.today > c.next_inspection_on {
        out.push(reason(
            FillingRule::R04,
            format!("超期未检验气瓶（下次检验日期 {}）", c.next_inspection_on),
        ));
    }
    if facts.today > c.life_ends_on {
        out.push(reason(
            FillingRule::R05,
            format!("超过设计使用年限的气瓶（至 {}）", c.life_ends_on),
        ));
    }
    if c.scrapped {
        out.push(reason(FillingRule::R06, "已报废气瓶"));
    }
    if c.registered_station != facts.station_code {
        out.push(reason(
            FillingRule::R07,
            format!(
                "非本站办理使用登记的气瓶（登记站点 {}）",
                c.registered_station
            ),
        ));
    }
    if let Some(last) = c.last_filled_at {
        if facts.now - last < REFILL_AFTER {
            out.push(reason(FillingRule::R08, "距上次充装不足 24 小时"));
        }
        if !c.circulated_since_last_filling {
            out.push(reason(
                FillingRule::R09,
                "两次充装间流转数据不全（缺少送出与回收记录）",
            ));
        }
        if !c.previous_filling_post_checked {
            out.push(reason(FillingRule::R12, "前次充装未录入充装后复检记录"));
        }
    }
    let pre_check_ok = c.last_passed_pre_check_at.is_some_and(|at| {
        let age = facts.now - at;
        age <= PRE_CHECK_VALID && age >= -CLOCK_SKEW
    });
    if !pre_check_ok {
        out.push(reason(FillingRule::R10, "无 16 小时内的充装前检查合格记录"));
    }
    if c.medium != facts.gun_medium {
        out.push(reason(
            FillingRule::R11,
            format!(
                "气瓶介质（{}）与所充介质（{}）不符",
                c.medium.name_zh(),
                facts.gun_medium.name_zh()
            ),
        ));
    }
    let inactive = |what: &str, status: RecordStatus| match status {
        RecordStatus::Active => None,
        RecordStatus::Suspended => Some(format!("{what}已暂停")),
        RecordStatus::Closed => Some(format!("{what}已注销")),
    };
    let halted: Vec<String> = [
        inactive("充装单位", facts.enterprise.enterprise_status),
        inactive("充装站点", facts.enterprise.station_status),
        inactive("充装人员", facts.enterprise.filler_status),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !halted.is_empty() {
        out.push(reason(
            FillingRule::R13,
            format!("{}，不得充装", halted.join("，")),
        ));
    }
    if !facts.enterprise.filler_certified {
        out.push(reason(
            FillingRule::R14,
            "充装人员无有效的充装作业人员证，不得充装",
        ));
    }
    if !facts.enterprise.licensed_media.contains(&c.medium) {
        out.push(reason(
            FillingRule::R15,
            format!("气瓶介质（{}）不在充装许可范围内", c.medium.name_zh()),
        ));
    }
    if c.recalled {
        out.push(reason(
            FillingRule::R16,
            "气瓶处于召回中（未经检验或解除），拒绝充装",
        ));
    }
    // Rule order for the reader: R12 was pushed with R08/R09; sort by rule name.
    out.sort_by_key(|r| r.rule);
    out
}

/// What a filling record is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFacts {
    /// The gun's decision the record names, if it names one: allowed or not.
    pub decision_allowed: Option<bool>,
    pub tare_kg: f64,
    /// The cylinder's tare as its own recent fillings measured it.
    pub historical_tare_kg: Option<f64>,
    pub max_fill_kg: f64,
    pub mass_before_kg: f64,
    pub mass_after_kg: f64,
    /// Seconds between the end of filling and the record's arrival.
    pub late_s: f64,
    /// The station or its enterprise was suspended or closed when the record arrived.
    pub station_inactive: bool,
}

/// The limits a filling record is held to, from the settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordPolicy {
    pub tare_tolerance_kg: f64,
    pub late_filling_s: f64,
}

/// What a filling record reveals, in a fixed order.
pub fn record_flags(f: &RecordFacts, policy: &RecordPolicy) -> Vec<FillingFlag> {
    let mut flags = Vec::new();
    if f.decision_allowed == Some(false) {
        flags.push(FillingFlag::FilledDespiteRefusal);
    }
    if f.station_inactive {
        flags.push(FillingFlag::InactiveStation);
    }
    let tolerance = policy.tare_tolerance_kg;
    let off_archive = (f.mass_before_kg - f.tare_kg).abs() > tolerance;
    let off_history = f
        .historical_tare_kg
        .is_some_and(|h| (f.mass_before_kg - h).abs() > tolerance);
    if off_archive || off_history {
        flags.push(FillingFlag::TareMismatch);
    }
    if f.mass_after_kg - f.mass_before_kg > f.max_fill_kg {
        flags.push(FillingFlag::Overfill);
    }
    if f.late_s > policy.late_filling_s {
        flags.push(FillingFlag::LateRecord);
    }
    flags
}

/// The alert a flag raises, its severity and what it is about. Filling a cylinder the gun
/// refused is the station's refusal alert, made critical.
pub fn flag_alert(flag: FillingFlag) -> (AlertKind, Severity, SubjectKind) {
    match flag {
        FillingFlag::Overfill => (
            AlertKind::Overfill,
            AlertKind::Overfill.severity(),
            SubjectKind::Cylinder,
        ),
        FillingFlag::TareMismatch => (
            AlertKind::TareMismatch,
            AlertKind::TareMismatch.severity(),
            SubjectKind::Cylinder,
        ),
        FillingFlag::LateRecord => (
            AlertKind::LateFillingRecord,
            AlertKind::LateFillingRecord.severity(),
            SubjectKind::Station,
        ),
        FillingFlag::FilledDespiteRefusal => (
            AlertKind::FillingRefused,
            Severity::Critical,
            SubjectKind::Station,
        ),
        // Filling where R13 refuses every cylinder: the station's refusal alert, made high.
        FillingFlag::InactiveStation => (
            AlertKind::FillingRefused,
            Severity::High,
            SubjectKind::Station,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    pub(crate) fn good() -> Facts {
        Facts {
            now: at("2026-11-22T10:00:00+08:00"),
            today: day("2026-11-22"),
            station_code: "ST1".parse().unwrap(),
            gun_medium: Medium::Lpg,
            enterprise: EnterpriseFacts {
                filling_licence_expires: Some(day("2030-01-01")),
                filling_licence_valid_from: None,
                licensed_media: vec![Medium::Lpg, Medium::Dme],
                gas_licence_expires: Some(day("2030-01-01")),
                enterprise_status: RecordStatus::Active,
                station_status: RecordStatus::Active,
                filler_status: RecordStatus::Active,
                filler_certified: true,
            },
            cylinder: Some(CylinderFacts {
                medium: Medium::Lpg,
                registered: true,
                next_inspection_on: day("2028-01-01"),
                life_ends_on: day("2035-01-01"),
                scrapped: false,
                registered_station: "ST1".parse().unwrap(),
                last_filled_at: Some(at("2026-11-20T10:00:00+08:00")),
                circulated_since_last_filling: true,
                last_passed_pre_check_at: Some(at("2026-11-22T09:00:00+08:00")),
                previous_filling_post_checked: true,
                pending_events: false,
                recalled: false,
            }),
        }
    }

    fn rules(f: &Facts) -> Vec<&'static str> {
        decide(f).into_iter().map(|r| r.rule.name()).collect()
    }

    #[test]
    fn a_sound_cylinder_is_allowed_and_unknown_is_r00_only() {
        assert_eq!(rules(&good()), Vec::<&str>::new());
        let unknown = Facts {
            cylinder: None,
            ..good()
        };
        assert_eq!(rules(&unknown), ["R00"]);
    }

    /// Facts that may be stale refuse, whatever they say: a sound cylinder and one that fails
    /// other rules alike answer E02 alone.
    #[test]
    fn events_not_yet_applied_refuse_with_e02_alone() {
        let mut f = good();
        if let Some(c) = f.cylinder.as_mut() {
            c.pending_events = true;
        }
        assert_eq!(rules(&f), ["E02"]);
        if let Some(c) = f.cylinder.as_mut() {
            c.scrapped = true;
        }
        assert_eq!(rules(&f), ["E02"]);
    }

    /// A suspended or closed enterprise or station refuses every cylinder (R13), one reason
    /// naming both when both are halted; a sound cylinder is allowed again once active.
    #[test]
    fn a_suspended_or_closed_enterprise_or_station_is_r13() {
        let mut f = good();
        f.enterprise.station_status = RecordStatus::Suspended;
        assert_eq!(rules(&f), ["R13"]);
        f.enterprise.enterprise_status = RecordStatus::Closed;
        let reasons = decide(&f);
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].message.contains("充装单位已注销"), "{reasons:?}");
        assert!(reasons[0].message.contains("充装站点已暂停"), "{reasons:?}");
        f.enterprise.station_status = RecordStatus::Active;
        f.enterprise.enterprise_status = RecordStatus::Active;
        assert_eq!(rules(&f), Vec::<&str>::new());
    }

    /// A suspended or closed filler is R13 too.
    #[test]
    fn a_suspended_or_closed_filler_is_r13() {
        let mut f = good();
        for (status, word) in [
            (RecordStatus::Suspended, "充装人员已暂停"),
            (RecordStatus::Closed, "充装人员已注销"),
        ] {
            f.enterprise.filler_status = status;
            let reasons = decide(&f);
            assert_eq!(rules(&f), ["R13"]);
            assert!(reasons[0].message.contains(word), "{reasons:?}");
        }
        f.enterprise.filler_status = RecordStatus::Active;
        assert_eq!(rules(&f), Vec::<&str>::new());
    }

    /// R01 refuses before the licence's first day and after its last; on each, allowed.
    /// R14: a filler without a valid certificate; R15: a medium the licence does not cover.
    #[test]
    fn licence_period_certificate_and_media() {
        let mut f = good();
        f.enterprise.filling_licence_valid_from = Some(f.today + Duration::days(1));
        assert_eq!(rules(&f), ["R01"]);
        f.enterprise.filling_licence_valid_from = Some(f.today);
        f.enterprise.filling_licence_expires = Some(f.today);
        assert_eq!(rules(&f), Vec::<&str>::new());
        f.enterprise.filler_certified = false;
        assert_eq!(rules(&f), ["R14"]);
        f.enterprise.filler_certified = true;
        f.enterprise.licensed_media = vec![Medium::Dme];
        let reasons = decide(&f);
        assert_eq!(rules(&f), ["R15"]);
        assert!(reasons[0].message.contains("液化石油气"), "{reasons:?}");
    }

    #[test]
    fn boundaries() {
        let mut f = good();
        let c = f.cylinder.as_mut().unwrap();
        c.last_filled_at = Some(f.now - REFILL_AFTER);
        c.last_passed_pre_check_at = Some(f.now - PRE_CHECK_VALID);
        c.next_inspection_on = f.today;
        c.life_ends_on = f.today;
        f.enterprise.filling_licence_expires = Some(f.today);
        assert_eq!(
            rules(&f),
            Vec::<&str>::new(),
            "exactly on every boundary: allowed"
        );
        let c = f.cylinder.as_mut().unwrap();
        c.last_filled_at = Some(f.now - REFILL_AFTER + Duration::seconds(1));
        c.last_passed_pre_check_at = Some(f.now - PRE_CHECK_VALID - Duration::seconds(1));
        assert_eq!(rules(&f), ["R08", "R10"]);
        let c = f.cylinder.as_mut().unwrap();
        c.last_passed_pre_check_at = Some(f.now + CLOCK_SKEW + Duration::seconds(1));
        assert_eq!(rules(&f), ["R08", "R10"]);
    }

    /// The rules again, written plainly and independently: seconds and day numbers.
    fn reference(f: &Facts) -> Vec<&'static str> {
        use chrono::Datelike;
        let Some(c) = &f.cylinder else {
            return vec!["R00"];
        };
        let today = f.today.num_days_from_ce();
        let now = f.now.timestamp();
        let mut out = Vec::new();
        let started = f
            .enterprise
            .filling_licence_valid_from
            .is_none_or(|d| today >= d.num_days_from_ce());
        match f.enterprise.filling_licence_expires {
            Some(d) if today <= d.num_days_from_ce() && started => {}
            _ => out.push("R01"),
        }
        match f.enterprise.gas_licence_expires {
            Some(d) if today <= d.num_days_from_ce() => {}
            _ => out.push("R02"),
        }
        if !c.registered {
            out.push("R03");
        }
        if today > c.next_inspection_on.num_days_from_ce() {
            out.push("R04");
        }
        if today > c.life_ends_on.num_days_from_ce() {
            out.push("R05");
        }
        if c.scrapped {
            out.push("R06");
        }
        if c.registered_station != f.station_code {
            out.push("R07");
        }
        if let Some(last) = c.last_filled_at {
            if now - last.timestamp() < 24 * 3600 {
                out.push("R08");
            }
            if !c.circulated_since_last_filling {
                out.push("R09");
            }
        }
        let check_ok = match c.last_passed_pre_check_at {
            Some(t) => {
                let age = now - t.timestamp();
                (-120..=16 * 3600).contains(&age)
            }
            None => false,
        };
        if !check_ok {
            out.push("R10");
        }
        if c.medium != f.gun_medium {
            out.push("R11");
        }
        if c.last_filled_at.is_some() && !c.previous_filling_post_checked {
            out.push("R12");
        }
        if f.enterprise.enterprise_status != RecordStatus::Active
            || f.enterprise.station_status != RecordStatus::Active
            || f.enterprise.filler_status != RecordStatus::Active
        {
            out.push("R13");
        }
        if !f.enterprise.filler_certified {
            out.push("R14");
        }
        if !f.enterprise.licensed_media.contains(&c.medium) {
            out.push("R15");
        }
        out
    }

    #[test]
    fn agrees_with_a_plain_reference_on_100_000_fact_sets() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(20_261_122);
        let base = good();
        // Offsets around every boundary (seconds or days), exact boundaries included.
        let secs = |rng: &mut StdRng, boundary: i64| {
            boundary + rng.random_range(-3..=3) * [1, 60, 3600][rng.random_range(0..3)]
        };
        let days = |rng: &mut StdRng| rng.random_range(-3..=3_i64);
        let mut disagreements = 0;
        let mut refused = [0_u32; 16];
        for _ in 0..100_000 {
            let mut f = base.clone();
            f.gun_medium = if rng.random_bool(0.9) {
                Medium::Lpg
            } else {
                Medium::Dme
            };
            let date = |rng: &mut StdRng, f: &Facts| f.today + Duration::days(days(rng));
            f.enterprise.filling_licence_expires =
                rng.random_bool(0.97).then(|| date(&mut rng, &f));
            f.enterprise.filling_licence_valid_from =
                rng.random_bool(0.2).then(|| date(&mut rng, &f));
            f.enterprise.gas_licence_expires = rng.random_bool(0.97).then(|| date(&mut rng, &f));
            f.enterprise.filler_certified = rng.random_bool(0.95);
            f.enterprise.licensed_media = if rng.random_bool(0.95) {
                vec![Medium::Lpg, Medium::N2o]
            } else {
                vec![Medium::Dme]
            };
            let status = |rng: &mut StdRng| match rng.random_range(0..40) {
                0 => RecordStatus::Suspended,
                1 => RecordStatus::Closed,
                _ => RecordStatus::Active,
            };
            f.enterprise.enterprise_status = status(&mut rng);
            f.enterprise.station_status = status(&mut rng);
            f.enterprise.filler_status = status(&mut rng);
            if rng.random_bool(0.02) {
                f.cylinder = None;
            }
            let now = f.now;
            let next = date(&mut rng, &f);
            let life = date(&mut rng, &f);
            if let Some(c) = f.cylinder.as_mut() {
                c.medium = if rng.random_bool(0.9) {
                    Medium::Lpg
                } else {
                    Medium::N2o
                };
                c.registered = rng.random_bool(0.9);
                c.next_inspection_on = next;
                c.life_ends_on = life;
                c.scrapped = rng.random_bool(0.05);
                c.registered_station = if rng.random_bool(0.9) {
                    "ST1".parse().unwrap()
                } else {
                    "ST2".parse().unwrap()
                };
                c.last_filled_at = rng
                    .random_bool(0.8)
                    .then(|| now - Duration::seconds(secs(&mut rng, 24 * 3600)));
                c.circulated_since_last_filling = rng.random_bool(0.85);
                c.last_passed_pre_check_at = rng.random_bool(0.9).then(|| {
                    let boundary = if rng.random_bool(0.8) {
                        16 * 3600
                    } else {
                        -120
                    };
                    now - Duration::seconds(secs(&mut rng, boundary))
                });
                c.previous_filling_post_checked = rng.random_bool(0.85);
            }
            let ours = rules(&f);
            if ours != reference(&f) {
                disagreements += 1;
            }
            for rule in ours {
                if let Ok(n) = rule[1..].parse::<usize>() {
                    refused[n] += 1;
                }
            }
        }
        assert_eq!(disagreements, 0);
        // Every rule was exercised, both ways.
        assert!(refused.iter().all(|n| *n > 100), "{refused:?}");
    }

    fn record(decision: Option<bool>, before: f64, after: f64, late_s: f64) -> Vec<FillingFlag> {
        let facts = RecordFacts {
            decision_allowed: decision,
            tare_kg: 15.0,
            historical_tare_kg: Some(15.2),
            max_fill_kg: 14.5,
            mass_before_kg: before,
            mass_after_kg: after,
            late_s,
            station_inactive: false,
        };
        let policy = RecordPolicy {
            tare_tolerance_kg: 1.0,
            late_filling_s: 10.0,
        };
        record_flags(&facts, &policy)
    }

    #[test]
    fn a_filling_at_an_inactive_station_is_flagged_and_raises_a_high_refusal() {
        let policy = RecordPolicy {
            tare_tolerance_kg: 1.0,
            late_filling_s: 10.0,
        };
        let facts = RecordFacts {
            decision_allowed: None,
            tare_kg: 15.0,
            historical_tare_kg: None,
            max_fill_kg: 14.5,
            mass_before_kg: 15.0,
            mass_after_kg: 29.0,
            late_s: 1.0,
            station_inactive: true,
        };
        assert_eq!(
            record_flags(&facts, &policy),
            [FillingFlag::InactiveStation]
        );
        assert_eq!(
            flag_alert(FillingFlag::InactiveStation),
            (
                AlertKind::FillingRefused,
                Severity::High,
                SubjectKind::Station
            )
        );
    }

    #[test]
    fn a_record_is_flagged_for_each_thing_it_reveals_and_only_those() {
        assert!(record(Some(true), 15.1, 29.5, 3.0).is_empty());
        assert_eq!(record(None, 15.1, 29.7, 3.0), [FillingFlag::Overfill]);
        // Off the archive by more than the tolerance; exactly the tolerance is not.
        assert_eq!(record(None, 16.5, 30.0, 3.0), [FillingFlag::TareMismatch]);
        assert!(record(None, 16.0, 30.0, 3.0).is_empty());
        assert_eq!(record(None, 15.1, 29.0, 10.5), [FillingFlag::LateRecord]);
        assert_eq!(
            record(Some(false), 17.0, 40.0, 60.0),
            [
                FillingFlag::FilledDespiteRefusal,
                FillingFlag::TareMismatch,
                FillingFlag::Overfill,
                FillingFlag::LateRecord
            ]
        );
        assert_eq!(
            flag_alert(FillingFlag::FilledDespiteRefusal).1,
            Severity::Critical
        );
        assert_eq!(flag_alert(FillingFlag::LateRecord).2, SubjectKind::Station);
    }
}
