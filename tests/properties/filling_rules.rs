//! The filling decision (`rules::filling::decide`) against a plain reference model of seed 004
//! Appendix B as SPEC.md §4 and the README's "Filling control" state it, written here apart from
//! the server's code: for thousands of generated facts (dates and times clustered on every
//! boundary), both name the same rules, in rule order, once each.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cylwatch::rules::filling::{decide, CylinderFacts, EnterpriseFacts, Facts};
use proptest::prelude::*;
use shared::auth::RecordStatus;
use shared::filling::FillingRule;
use shared::ids::StationCode;
use shared::medium::Medium;
use std::collections::BTreeSet;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

fn now() -> DateTime<Utc> {
    // Noon in Beijing on `today`.
    Utc.with_ymd_and_hms(2026, 12, 7, 4, 0, 0).unwrap()
}

/// The reference model: each rule as the documents word it.
fn model(f: &Facts) -> Vec<FillingRule> {
    use FillingRule::*;
    let Some(c) = &f.cylinder else {
        return vec![R00];
    };
    if c.pending_events {
        return vec![E02];
    }
    let mut out = BTreeSet::new();
    let e = &f.enterprise;
    // A licence is valid through its expiry date; no date at all is no licence.
    let lapsed = |d: Option<NaiveDate>| match d {
        None => true,
        Some(d) => d < f.today,
    };
    let before_first_day = matches!(e.filling_licence_valid_from, Some(from) if from > f.today);
    if lapsed(e.filling_licence_expires) || before_first_day {
        out.insert(R01);
    }
    if lapsed(e.gas_licence_expires) {
        out.insert(R02);
    }
    if !c.registered {
        out.insert(R03);
    }
    if c.next_inspection_on < f.today {
        out.insert(R04);
    }
    if c.life_ends_on < f.today {
        out.insert(R05);
    }
    if c.scrapped {
        out.insert(R06);
    }
    if c.registered_station != f.station_code {
        out.insert(R07);
    }
    if let Some(last) = c.last_filled_at {
        if f.now - last < Duration::hours(24) {
            out.insert(R08);
        }
        if !c.circulated_since_last_filling {
            out.insert(R09);
        }
        if !c.previous_filling_post_checked {
            out.insert(R12);
        }
    }
    let check_counts = match c.last_passed_pre_check_at {
        None => false,
        Some(at) => at >= f.now - Duration::hours(16) && at <= f.now + Duration::minutes(2),
    };
    if !check_counts {
        out.insert(R10);
    }
    if c.medium != f.gun_medium {
        out.insert(R11);
    }
    let active = |s: RecordStatus| s == RecordStatus::Active;
    if !active(e.enterprise_status) || !active(e.station_status) || !active(e.filler_status) {
        out.insert(R13);
    }
    if !e.filler_certified {
        out.insert(R14);
    }
    if !e.licensed_media.contains(&c.medium) {
        out.insert(R15);
    }
    if c.recalled {
        out.insert(R16);
    }
    out.into_iter().collect()
}

/// A day near `today()`: the boundaries are the day before, the day, the day after.
fn day() -> impl Strategy<Value = NaiveDate> {
    (-3i64..=3).prop_map(|d| today() + Duration::days(d))
}

/// An instant near `now()`, on and beside each boundary (24 h, 16 h, 2 min ahead) or anywhere
/// within the last two days.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let boundaries = [
        -Duration::hours(24) - Duration::seconds(1),
        -Duration::hours(24),
        -Duration::hours(24) + Duration::seconds(1),
        -Duration::hours(16) - Duration::seconds(1),
        -Duration::hours(16),
        -Duration::hours(16) + Duration::seconds(1),
        Duration::zero(),
        Duration::minutes(2),
        Duration::minutes(2) + Duration::seconds(1),
    ];
    prop_oneof![
        prop::sample::select(boundaries.to_vec()),
        (-48 * 3600i64..3600).prop_map(Duration::seconds),
    ]
    .prop_map(|d| now() + d)
}

fn status() -> impl Strategy<Value = RecordStatus> {
    prop_oneof![
        6 => Just(RecordStatus::Active),
        1 => Just(RecordStatus::Suspended),
        1 => Just(RecordStatus::Closed),
    ]
}

fn medium() -> impl Strategy<Value = Medium> {
    prop::sample::select(vec![Medium::Lpg, Medium::Dme, Medium::O2, Medium::N2o])
}

fn station() -> impl Strategy<Value = StationCode> {
    prop::sample::select(vec!["ST1", "ST2"])
        .prop_map(|s| StationCode::try_from(s.to_owned()).unwrap())
}

/// Mostly true: most generated cases should pass most rules, so that each rule is seen alone.
fn mostly() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.85)
}

fn enterprise() -> impl Strategy<Value = EnterpriseFacts> {
    (
        prop::option::weighted(0.9, day()),
        prop::option::weighted(0.3, day()),
        prop::collection::vec(medium(), 0..4),
        prop::option::weighted(0.9, day()),
        (status(), status(), status()),
        mostly(),
    )
        .prop_map(
            |(fl, from, media, gl, (es, ss, fs), certified)| EnterpriseFacts {
                filling_licence_expires: fl,
                filling_licence_valid_from: from,
                licensed_media: media,
                gas_licence_expires: gl,
                enterprise_status: es,
                station_status: ss,
                filler_status: fs,
                filler_certified: certified,
            },
        )
}

fn cylinder() -> impl Strategy<Value = CylinderFacts> {
    (
        (
            medium(),
            mostly(),
            day(),
            day(),
            prop::bool::weighted(0.1),
            station(),
        ),
        (
            prop::option::weighted(0.7, instant()),
            mostly(),
            prop::option::weighted(0.9, instant()),
            mostly(),
            prop::bool::weighted(0.05),
            prop::bool::weighted(0.1),
        ),
    )
        .prop_map(
            |(
                (
                    medium,
                    registered,
                    next_inspection_on,
                    life_ends_on,
                    scrapped,
                    registered_station,
                ),
                (last_filled_at, circulated, pre_check, post_checked, pending, recalled),
            )| CylinderFacts {
                medium,
                registered,
                next_inspection_on,
                life_ends_on,
                scrapped,
                registered_station,
                last_filled_at,
                circulated_since_last_filling: circulated,
                last_passed_pre_check_at: pre_check,
                previous_filling_post_checked: post_checked,
                pending_events: pending,
                recalled,
            },
        )
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        station(),
        medium(),
        enterprise(),
        prop::option::weighted(0.95, cylinder()),
        (mostly(), mostly(), mostly()),
    )
        .prop_map(
            |(station_code, gun_medium, mut enterprise, mut cylinder, (same, here, licensed))| {
                // Mostly a cylinder of the gun's medium, registered here, under the licence:
                // else R07, R11 and R15 would hide every other rule.
                if let Some(c) = cylinder.as_mut() {
                    if same {
                        c.medium = gun_medium;
                    }
                    if here {
                        c.registered_station = station_code.clone();
                    }
                    if licensed {
                        enterprise.licensed_media.push(c.medium);
                    }
                }
                Facts {
                    now: now(),
                    today: today(),
                    station_code,
                    gun_medium,
                    enterprise,
                    cylinder,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_decision_names_exactly_the_rules_the_model_names(f in facts()) {
        let decided: Vec<FillingRule> = decide(&f).into_iter().map(|r| r.rule).collect();
        prop_assert_eq!(&decided, &model(&f), "{:#?}", f);
    }
}

/// The generator reaches every rule both alone and not at all (else the property above would
/// prove little): counted over a fixed-seed sample.
#[test]
fn the_generator_reaches_every_rule() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = facts();
    let mut alone = BTreeSet::new();
    let mut allowed = 0;
    for _ in 0..20_000 {
        let f = strategy.new_tree(&mut runner).unwrap().current();
        match model(&f).as_slice() {
            [] => allowed += 1,
            [only] => {
                alone.insert(*only);
            }
            _ => {}
        }
    }
    use FillingRule::*;
    for rule in [
        R00, R01, R02, R03, R04, R05, R06, R07, R08, R09, R10, R11, R12, R13, R14, R15, R16, E02,
    ] {
        assert!(alone.contains(&rule), "{rule:?} never refused alone");
    }
    assert!(allowed > 0, "no case allowed");
}
