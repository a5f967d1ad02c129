//! Custody (SPEC §2) as a state machine over a cylinder's events in event-time order.
//!
//! `apply` gives the state after one step and, when the step was impossible from the state
//! before it (a `deliver` of a cylinder in stock empty), a flag. The step is still applied: the
//! current state is what the newest event says; the flag is evidence for the alerts. A scrapped
//! cylinder stays scrapped: later steps are flagged and change nothing.

use chrono::{DateTime, Duration, Utc};
use shared::cylinder::{Custody, ScanOp};
use shared::events::Conclusion;
use shared::history::HistoryOp;
use shared::ids::{CustomerCode, StationCode};
use shared::place::PlaceKind;
use shared::VehiclePlate;

/// Where a cylinder is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Station(StationCode),
    Customer(CustomerCode),
    Vehicle(VehiclePlate),
}

/// A stored place whose code is not a valid one for its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored {} place code {code:?} is not a valid one", kind.name())]
pub struct BadPlace {
    pub kind: PlaceKind,
    pub code: String,
}

impl Place {
    /// Its kind and code.
    pub fn parts(&self) -> (PlaceKind, &str) {
        match self {
            Self::Station(c) => (PlaceKind::Station, c),
            Self::Customer(c) => (PlaceKind::Customer, c),
            Self::Vehicle(c) => (PlaceKind::Vehicle, c),
        }
    }

    /// The place of a stored kind and code.
    pub fn from_parts(kind: PlaceKind, code: String) -> Result<Self, BadPlace> {
        let bad = |code: String| BadPlace { kind, code };
        match kind {
            PlaceKind::Station => StationCode::try_from(code.clone())
                .map(Self::Station)
                .map_err(|_| bad(code)),
            PlaceKind::Customer => CustomerCode::try_from(code.clone())
                .map(Self::Customer)
                .map_err(|_| bad(code)),
            PlaceKind::Vehicle => VehiclePlate::try_from(code.clone())
                .map(Self::Vehicle)
                .map_err(|_| bad(code)),
        }
    }
}

/// A cylinder's custody and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub custody: Custody,
    pub place: Option<Place>,
    /// False until the first event: before it we know nothing of its past, so the first
    /// event is never flagged.
    pub seen: bool,
}

impl State {
    /// A newly archived cylinder: empty, in stock at the station where it is registered.
    pub fn registered(station_code: &StationCode) -> Self {
        Self {
            custody: Custody::InStockEmpty,
            place: Some(Place::Station(station_code.clone())),
            seen: false,
        }
    }
}

/// What one history row does to custody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Scan {
        op: ScanOp,
        station: Option<StationCode>,
        customer: Option<CustomerCode>,
        to_station: Option<StationCode>,
        vehicle: Option<VehiclePlate>,
    },
    /// A vehicle's reader saw the tag.
    BleSeen { vehicle: VehiclePlate },
    /// The tag stopped being seen on the vehicle; where it was left, if a site was there.
    BleLeft { place: Option<Place> },
    /// A filling check: evidence, no movement.
    Check,
    /// A periodic-inspection result.
    Inspection { pass: bool },
}

impl Step {
    /// The step of a `cylinder_events` row (its op and codes); `None` for a `ble`/`seen` row
    /// naming no vehicle.
    pub fn from_row(
        op: HistoryOp,
        station: Option<&StationCode>,
        customer: Option<&CustomerCode>,
        to_station: Option<&StationCode>,
        vehicle: Option<&VehiclePlate>,
    ) -> Option<Self> {
        match op {
            HistoryOp::Scan(op) => Some(Self::Scan {
                op,
                station: station.cloned(),
                customer: customer.cloned(),
                to_station: to_station.cloned(),
                vehicle: vehicle.cloned(),
            }),
            HistoryOp::BleSeen => Some(Self::BleSeen {
                vehicle: vehicle?.clone(),
            }),
            HistoryOp::BleLeft => Some(Self::BleLeft {
                place: station
                    .map(|s| Place::Station(s.clone()))
                    .or_else(|| customer.map(|c| Place::Customer(c.clone()))),
            }),
            // A filling record fills, like a `fill` scan at its station.
            HistoryOp::Filling => Some(Self::Scan {
                op: ScanOp::Fill,
                station: station.cloned(),
                customer: None,
                to_station: None,
                vehicle: None,
            }),
            HistoryOp::Check(_) => Some(Self::Check),
            HistoryOp::Inspection(conclusion) => Some(Self::Inspection {
                pass: conclusion == Conclusion::Pass,
            }),
            // An archive operation moves nothing.
            HistoryOp::TagReplaced | HistoryOp::OwnerChanged => None,
        }
    }
}

/// Full cylinders are in stock full, on the way out, or at the customer (in use).
fn is_full(custody: Custody) -> bool {
    matches!(
        custody,
        Custody::InStockFull | Custody::InTransitDelivery | Custody::AtCustomer
    )
}

fn in_stock(full: bool) -> Custody {
    if full {
        Custody::InStockFull
    } else {
        Custody::InStockEmpty
    }
}

fn in_transit(full: bool) -> Custody {
    if full {
        Custody::InTransitDelivery
    } else {
        Custody::InTransitReturn
    }
}

use Custody::{
    AtCustomer, AtInspection, InStockEmpty, InStockFull, InTransitDelivery, InTransitReturn,
};

/// The state after `step`, and a flag when the step was impossible from `state`.
pub fn apply(state: &State, step: &Step) -> (State, Option<String>) {
    let from = state.custody;
    if from == Custody::Scrapped && state.seen {
        let what = match step {
            Step::Scan { op, .. } => op.name(),
            Step::BleSeen { .. } | Step::BleLeft { .. } => "ble",
            Step::Check => "check",
            Step::Inspection { .. } => "inspection",
        };
        return (state.clone(), Some(format!("{what} after scrapped")));
    }
    let full = is_full(from);
    let station = |s: &Option<StationCode>| s.clone().map(Place::Station);
    let (custody, place, allowed): (Custody, Option<Place>, &[Custody]) = match step {
        Step::Check => return (seen(state.clone()), None),
        Step::Inspection { pass: true } => (
            AtInspection,
            state.place.clone(),
            &[AtInspection, InStockEmpty, InTransitReturn],
        ),
        Step::Inspection { pass: false } => (Custody::Scrapped, state.place.clone(), &[]),
        Step::BleSeen { vehicle } => {
            // Seen on a vehicle: loaded. From a customer it is being collected (empty).
            let full = full && from != AtCustomer;
            (
                in_transit(full),
                Some(Place::Vehicle(vehicle.clone())),
                &[
                    InStockEmpty,
                    InStockFull,
                    InTransitDelivery,
                    InTransitReturn,
                    AtCustomer,
                ],
            )
        }
        Step::BleLeft { place } => {
            let custody = match place {
                Some(Place::Station(_)) => in_stock(full),
                Some(Place::Customer(_)) => AtCustomer,
                Some(Place::Vehicle(_)) | None => {
                    if full {
                        AtCustomer
                    } else {
                        InTransitReturn
                    }
                }
            };
            (
                custody,
                place.clone(),
                &[InTransitDelivery, InTransitReturn],
            )
        }
        Step::Scan {
            op,
            station: at,
            customer,
            to_station,
            vehicle,
        } => {
            let vehicle_place = vehicle.clone().map(Place::Vehicle);
            match op {
                ScanOp::Fill => (
                    InStockFull,
                    station(at),
                    &[InStockEmpty, InStockFull, InTransitReturn],
                ),
                ScanOp::StoreIn => (
                    in_stock(full),
                    station(at),
                    &[
                        InStockEmpty,
                        InStockFull,
                        InTransitDelivery,
                        InTransitReturn,
                        AtInspection,
                    ],
                ),
                ScanOp::StoreOut => (
                    in_transit(full),
                    vehicle_place,
                    &[InStockEmpty, InStockFull],
                ),
                ScanOp::Load => {
                    let full = full && from != AtCustomer;
                    (
                        in_transit(full),
                        vehicle_place,
                        &[InStockEmpty, InStockFull, AtCustomer],
                    )
                }
                ScanOp::Unload => {
                    let (custody, place) = match (customer, at) {
                        (Some(c), _) => (AtCustomer, Some(Place::Customer(c.clone()))),
                        (None, Some(s)) => (in_stock(full), Some(Place::Station(s.clone()))),
                        (None, None) => (from, state.place.clone()),
                    };
                    (custody, place, &[InTransitDelivery, InTransitReturn])
                }
                ScanOp::Deliver => {
                    let (custody, place) = match (customer, to_station) {
                        (Some(c), _) => (AtCustomer, Some(Place::Customer(c.clone()))),
                        (None, Some(s)) => (InStockFull, Some(Place::Station(s.clone()))),
                        (None, None) => (AtCustomer, None),
                    };
                    (custody, place, &[InStockFull, InTransitDelivery])
                }
                ScanOp::CollectEmpty => (InTransitReturn, vehicle_place, &[AtCustomer]),
                ScanOp::ReturnIn => (InStockEmpty, station(at), &[InTransitReturn, AtCustomer]),
                ScanOp::SendInspection => {
                    (AtInspection, station(at), &[InStockEmpty, InTransitReturn])
                }
                ScanOp::Inspect => (
                    AtInspection,
                    station(at).or_else(|| state.place.clone()),
                    &[AtInspection, InStockEmpty, InTransitReturn],
                ),
                ScanOp::Scrap => (Custody::Scrapped, station(at), &[]),
                ScanOp::Transfer => (
                    in_stock(full),
                    station(to_station).or_else(|| station(at)),
                    &[
                        InStockEmpty,
                        InStockFull,
                        InTransitDelivery,
                        InTransitReturn,
                    ],
                ),
            }
        }
    };
    let scrapping = custody == Custody::Scrapped;
    let flag = (state.seen && !scrapping && !allowed.contains(&from)).then(|| {
        let what = match step {
            Step::Scan { op, .. } => op.name(),
            Step::BleSeen { .. } => "ble seen",
            Step::BleLeft { .. } => "ble left",
            Step::Check => "check",
            Step::Inspection { .. } => "inspection",
        };
        format!("{what} from {}", from.name())
    });
    (
        State {
            custody,
            place,
            seen: true,
        },
        flag,
    )
}

fn seen(mut state: State) -> State {
    state.seen = true;
    state
}

/// The states after each step, in order, from `initial`.
pub fn replay(initial: State, steps: &[Step]) -> Vec<(State, Option<String>)> {
    let mut state = initial;
    steps
        .iter()
        .map(|step| {
            let (next, flag) = apply(&state, step);
            state = next.clone();
            (next, flag)
        })
        .collect()
}

/// One stored history row, as a replay of the stored history sees it.
#[derive(Debug, Clone)]
pub struct Recorded<'a> {
    /// Its step; `None` for a row with no custody meaning (skipped).
    pub step: Option<Step>,
    /// What the last replay wrote on it.
    pub custody_after: Custody,
    pub flag: Option<&'a str>,
}

/// A stored row whose replay differs from what is stored: its index, custody and flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub index: usize,
    pub custody: Custody,
    pub flag: Option<String>,
}

/// Replays a stored history (in event-time order) from registration at `station`: the state
/// it ends in, and the rows whose custody or flag must be rewritten.
pub fn replay_stored(station: &StationCode, rows: &[Recorded<'_>]) -> (State, Vec<Rewrite>) {
    let mut state = State::registered(station);
    let mut rewrites = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let Some(step) = &row.step else { continue };
        let (next, flag) = apply(&state, step);
        if next.custody != row.custody_after || flag.as_deref() != row.flag {
            rewrites.push(Rewrite {
                index,
                custody: next.custody,
                flag,
            });
        }
        state = next;
    }
    (state, rewrites)
}

/// The custody to report now: `lost` when the cylinder has not been seen for `loss_after`
/// while outside its owner's sites (not in stock at one of them, not scrapped).
pub fn effective(
    custody: Custody,
    at_owner_site: bool,
    last_seen_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    loss_after: Duration,
) -> Custody {
    let outside = custody != Custody::Scrapped && !at_owner_site;
    match last_seen_at {
        Some(seen) if outside && now - seen > loss_after => Custody::Lost,
        _ => custody,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station(code: &str) -> StationCode {
        code.parse().unwrap()
    }

    fn customer(code: &str) -> CustomerCode {
        code.parse().unwrap()
    }

    fn plate(plate: &str) -> VehiclePlate {
        VehiclePlate::try_from(plate.to_owned()).unwrap()
    }

    fn scan(op: ScanOp) -> Step {
        Step::Scan {
            op,
            station: Some(station("ST1")),
            customer: (op == ScanOp::Deliver).then(|| customer("C1")),
            to_station: None,
            vehicle: Some(plate("豫A1")),
        }
    }

    fn run(steps: &[Step]) -> Vec<(Custody, Option<String>)> {
        replay(State::registered(&station("ST1")), steps)
            .into_iter()
            .map(|(s, f)| (s.custody, f))
            .collect()
    }

    #[test]
    fn a_stored_replay_rewrites_only_rows_that_changed() {
        let rows = [
            Recorded {
                step: Some(scan(ScanOp::Fill)),
                custody_after: Custody::InStockFull,
                flag: None,
            },
            // No custody meaning: skipped, never rewritten.
            Recorded {
                step: None,
                custody_after: Custody::Lost,
                flag: None,
            },
            // Stored before an earlier `load` arrived late: now it follows the load.
            Recorded {
                step: Some(scan(ScanOp::Load)),
                custody_after: Custody::InStockFull,
                flag: Some("impossible"),
            },
        ];
        let (state, rewrites) = replay_stored(&station("ST1"), &rows);
        assert_eq!(state.custody, Custody::InTransitDelivery);
        assert_eq!(
            rewrites,
            [Rewrite {
                index: 2,
                custody: Custody::InTransitDelivery,
                flag: None,
            }]
        );
    }

    #[test]
    fn a_normal_round_trip_is_never_flagged() {
        let out = run(&[
            scan(ScanOp::Fill),
            scan(ScanOp::Load),
            scan(ScanOp::Deliver),
            scan(ScanOp::CollectEmpty),
            scan(ScanOp::ReturnIn),
            scan(ScanOp::SendInspection),
            Step::Inspection { pass: true },
            scan(ScanOp::StoreIn),
            Step::Check,
            scan(ScanOp::Fill),
        ]);
        let custody: Vec<_> = out.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            custody,
            [
                InStockFull,
                InTransitDelivery,
                AtCustomer,
                InTransitReturn,
                InStockEmpty,
                AtInspection,
                AtInspection,
                InStockEmpty,
                InStockEmpty,
                InStockFull
            ]
        );
        assert!(out.iter().all(|(_, f)| f.is_none()), "{out:?}");
    }

    #[test]
    fn impossible_steps_are_applied_and_flagged() {
        let out = run(&[scan(ScanOp::ReturnIn), scan(ScanOp::Deliver)]);
        assert_eq!(out[0], (InStockEmpty, None));
        assert_eq!(
            out[1],
            (AtCustomer, Some("deliver from in_stock_empty".into()))
        );
    }

    #[test]
    fn the_first_event_is_never_flagged() {
        assert_eq!(run(&[scan(ScanOp::Deliver)]), [(AtCustomer, None)]);
    }

    #[test]
    fn scrapped_is_for_ever() {
        let out = run(&[
            scan(ScanOp::Fill),
            scan(ScanOp::Scrap),
            scan(ScanOp::Fill),
            Step::BleSeen {
                vehicle: plate("豫A1"),
            },
        ]);
        assert_eq!(out[1], (Custody::Scrapped, None));
        assert_eq!(
            out[2],
            (Custody::Scrapped, Some("fill after scrapped".into()))
        );
        assert_eq!(out[3].0, Custody::Scrapped);
        assert!(out[3].1.is_some());
    }

    #[test]
    fn ble_sightings_load_and_unload() {
        let out = run(&[
            scan(ScanOp::Fill),
            Step::BleSeen {
                vehicle: plate("豫A1"),
            },
            Step::BleLeft {
                place: Some(Place::Customer(customer("C1"))),
            },
            Step::BleSeen {
                vehicle: plate("豫A1"),
            },
            Step::BleLeft {
                place: Some(Place::Station(station("ST1"))),
            },
        ]);
        let custody: Vec<_> = out.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            custody,
            [
                InStockFull,
                InTransitDelivery,
                AtCustomer,
                InTransitReturn,
                InStockEmpty
            ]
        );
        assert!(out.iter().all(|(_, f)| f.is_none()), "{out:?}");
    }

    #[test]
    fn lost_only_outside_the_owners_sites_and_only_until_seen() {
        let now = Utc::now();
        let ninety = Duration::days(90);
        let long_ago = Some(now - Duration::days(91));
        assert_eq!(
            effective(AtCustomer, false, long_ago, now, ninety),
            Custody::Lost
        );
        assert_eq!(
            effective(InStockFull, true, long_ago, now, ninety),
            InStockFull
        );
        assert_eq!(
            effective(Custody::Scrapped, false, long_ago, now, ninety),
            Custody::Scrapped
        );
        assert_eq!(
            effective(
                AtCustomer,
                false,
                Some(now - Duration::days(89)),
                now,
                ninety
            ),
            AtCustomer
        );
    }
}
