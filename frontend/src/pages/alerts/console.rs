//! What the duty console holds and decides, without the browser: its state and reducer, which
//! alerts the feed shows and in what order, which alert is in view, which critical alerts are
//! news, what is asked of the server, and who may handle alerts.

use crate::components::alert_filters::AlertFilters;
use crate::hooks::Basemap;
use crate::i18n::Lang;
use crate::labels;
use crate::services::api::{AlertQuery, Fetch};
use crate::session::Session;
use chrono::{DateTime, FixedOffset};
use shared::alert::{Alert, AlertStatus, Severity};
use shared::auth::Role;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use uuid::Uuid;
use yew::prelude::*;

/// How many resolved alerts the page asks for.
const RESOLVED_LIMIT: u32 = 200;

/// Roles that acknowledge and resolve alerts (the server answers 403 to the others).
const HANDLERS: [Role; 4] = [
    Role::Admin,
    Role::CityRegulator,
    Role::DistrictRegulator,
    Role::DutyOfficer,
];

/// An alert list as the feed shows it.
pub(super) type Alerts = Rc<Vec<Rc<Alert>>>;

/// What the console holds besides the live feed.
#[derive(PartialEq)]
pub(super) struct Console {
    pub filters: AlertFilters,
    pub selected: Option<Uuid>,
    /// The newest answer to a handling from this page: an alert just resolved leaves the live
    /// feed but stays in view.
    pub handled: Option<Rc<Alert>>,
    /// Critical alerts that arrived or were escalated and that nobody has opened yet.
    pub flashing: Rc<HashSet<Uuid>>,
    pub muted: bool,
    /// How many beeps were asked for (each change plays one).
    pub beeps: u32,
    /// The resolved alerts, while that filter is chosen.
    pub resolved: Fetch<Alerts>,
}

impl Console {
    /// A console with nothing chosen yet, the sound as the officer left it.
    pub fn new(muted: bool) -> Self {
        Self {
            filters: AlertFilters::default(),
            selected: None,
            handled: None,
            flashing: Rc::default(),
            muted,
            beeps: 0,
            resolved: Fetch::Loading,
        }
    }

    /// Whether the feed shows the resolved alerts (asked of the server) instead of the live ones.
    pub fn showing_resolved(&self) -> bool {
        self.filters.status == Some(AlertStatus::Resolved)
    }
}

/// What changes the console.
pub(super) enum ConsoleAction {
    Filter(AlertFilters),
    /// The officer opened an alert (it stops flashing).
    Open(Uuid),
    /// Nothing was selected: show this one, flashing or not.
    Show(Uuid),
    Handled(Rc<Alert>),
    /// Critical alerts that just arrived or were escalated.
    Arrived(Vec<Uuid>),
    Mute(bool),
    Resolved(Fetch<Alerts>),
}

impl Reducible for Console {
    type Action = ConsoleAction;

    fn reduce(self: Rc<Self>, action: ConsoleAction) -> Rc<Self> {
        let mut next = Self {
            filters: self.filters.clone(),
            selected: self.selected,
            handled: self.handled.clone(),
            flashing: self.flashing.clone(),
            muted: self.muted,
            beeps: self.beeps,
            resolved: self.resolved.clone(),
        };
        match action {
            ConsoleAction::Filter(filters) => {
                if filters.status != next.filters.status {
                    next.resolved = Fetch::Loading;
                }
                next.filters = filters;
            }
            ConsoleAction::Open(id) => {
                next.selected = Some(id);
                next.flashing = without(&next.flashing, id);
            }
            ConsoleAction::Show(id) => next.selected = Some(id),
            ConsoleAction::Handled(alert) => {
                next.flashing = without(&next.flashing, alert.id);
                next.handled = Some(alert);
            }
            ConsoleAction::Arrived(ids) => {
                let mut flashing = (*next.flashing).clone();
                flashing.extend(ids);
                next.flashing = Rc::new(flashing);
                if !next.muted {
                    next.beeps = next.beeps.wrapping_add(1);
                }
            }
            ConsoleAction::Mute(muted) => next.muted = muted,
            ConsoleAction::Resolved(fetch) => next.resolved = fetch,
        }
        Rc::new(next)
    }
}

fn without(set: &Rc<HashSet<Uuid>>, id: Uuid) -> Rc<HashSet<Uuid>> {
    if !set.contains(&id) {
        return set.clone();
    }
    let mut set = (**set).clone();
    set.remove(&id);
    Rc::new(set)
}

/// A counter bumped by the resolved list's timer and after a resolution.
#[derive(Default, PartialEq)]
pub(super) struct Tick(pub u32);

impl Reducible for Tick {
    type Action = ();

    fn reduce(self: Rc<Self>, _: ()) -> Rc<Self> {
        Rc::new(Self(self.0.wrapping_add(1)))
    }
}

/// Whether the signed-in user may acknowledge and resolve alerts.
pub(super) fn may_handle(session: &Session) -> bool {
    match session {
        Session::SignedIn(user) => HANDLERS.contains(&user.role),
        _ => false,
    }
}

/// What of an alert the feed shows: when it changes, the list is rebuilt (a vehicle moving, which
/// also changes the live state, rebuilds nothing).
type Signature = (
    Uuid,
    AlertStatus,
    Severity,
    i64,
    DateTime<FixedOffset>,
    Option<DateTime<FixedOffset>>,
    Option<DateTime<FixedOffset>>,
);

fn signature(a: &Alert) -> Signature {
    (
        a.id,
        a.status,
        a.severity,
        a.count,
        a.last_seen_at,
        a.escalated_at,
        a.condition_ended_at,
    )
}

/// The unresolved alerts of the live feed, newest first, rebuilt only when one of them changed.
#[derive(Default)]
pub(super) struct UnresolvedList {
    signatures: Vec<Signature>,
    list: Alerts,
    /// Changes with every rebuild.
    generation: u64,
}

impl UnresolvedList {
    /// Takes in the live feed's alerts (rebuilding the list only if one of them changed).
    pub fn update(&mut self, alerts: &HashMap<Uuid, Alert>) {
        let mut sig: Vec<Signature> = alerts.values().map(signature).collect();
        sig.sort_unstable_by_key(|s| s.0);
        if sig != self.signatures {
            self.signatures = sig;
            self.list = newest_first(alerts.values().cloned());
            self.generation = self.generation.wrapping_add(1);
        }
    }

    /// The list and its generation.
    pub fn current(&self) -> (Alerts, u64) {
        (self.list.clone(), self.generation)
    }
}

/// Newest activity first (the API's order), then by id so that equal times keep their places.
pub(super) fn newest_first(alerts: impl IntoIterator<Item = Alert>) -> Alerts {
    let mut list: Vec<Rc<Alert>> = alerts.into_iter().map(Rc::new).collect();
    list.sort_by(|a, b| {
        b.last_seen_at
            .cmp(&a.last_seen_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    Rc::new(list)
}

/// What each unresolved alert was (severity, escalated) when last seen here, to tell critical
/// news from what is already known.
#[derive(Default)]
pub(super) struct Known(Option<HashMap<Uuid, (Severity, bool)>>);

impl Known {
    /// The critical alerts in `list` that are news since the last call, remembering `list`.
    /// The first picture (what was already there when the page opened) is taken as known.
    pub fn arrivals(&mut self, list: &[Rc<Alert>]) -> Vec<Uuid> {
        let first = self.0.is_none();
        let map = self.0.get_or_insert_with(HashMap::new);
        let arrived: Vec<Uuid> = list
            .iter()
            .filter(|a| !first && is_news(map.get(&a.id), a))
            .map(|a| a.id)
            .collect();
        *map = list
            .iter()
            .map(|a| (a.id, (a.severity, a.escalated_at.is_some())))
            .collect();
        arrived
    }
}

/// A critical alert worth a flash and a beep: new, newly critical, or newly escalated.
fn is_news(before: Option<&(Severity, bool)>, now: &Alert) -> bool {
    if now.severity != Severity::Critical || now.status == AlertStatus::Resolved {
        return false;
    }
    match before {
        None => true,
        Some((severity, escalated)) => {
            *severity != Severity::Critical || (!escalated && now.escalated_at.is_some())
        }
    }
}

/// What `GET /api/v1/alerts` is asked for the resolved list under these filters.
pub(super) fn resolved_query(filters: &AlertFilters) -> AlertQuery {
    AlertQuery {
        status: filters.status,
        kind: filters.kind,
        severity: filters.severity,
        district_code: filters.district.clone(),
        limit: Some(RESOLVED_LIMIT),
        ..AlertQuery::default()
    }
}

/// The feed's rows: the resolved list (once it came) when that filter is chosen, else the
/// unresolved ones; either way only those passing the filters, in the list's order.
pub(super) fn shown_alerts(console: &Console, unresolved: &Alerts) -> Alerts {
    let source = if console.showing_resolved() {
        match &console.resolved {
            Fetch::Ready(list) => list.clone(),
            _ => Alerts::default(),
        }
    } else {
        unresolved.clone()
    };
    Rc::new(
        source
            .iter()
            .filter(|a| console.filters.matches(a))
            .cloned()
            .collect(),
    )
}

/// The alert in view: the selected one as the live feed, the resolved list or the last
/// handling from this page knows it (in that order).
pub(super) fn selected_alert(console: &Console, unresolved: &Alerts) -> Option<Rc<Alert>> {
    let id = console.selected?;
    let in_list = |list: &Alerts| list.iter().find(|a| a.id == id).cloned();
    in_list(unresolved)
        .or_else(|| match &console.resolved {
            Fetch::Ready(list) => in_list(list),
            _ => None,
        })
        .or_else(|| console.handled.clone().filter(|a| a.id == id))
}

/// The head's counts of unresolved alerts: (open, critical).
pub(super) fn tally(unresolved: &[Rc<Alert>]) -> (usize, usize) {
    let open = unresolved
        .iter()
        .filter(|a| a.status == AlertStatus::Open)
        .count();
    let critical = unresolved
        .iter()
        .filter(|a| a.severity == Severity::Critical)
        .count();
    (open, critical)
}

/// The districts to filter by: the base map's, then any code an alert names that the map lacks.
pub(super) fn district_options(
    basemap: &Basemap,
    alerts: &[Rc<Alert>],
) -> Rc<Vec<(String, String)>> {
    let mut options: Vec<(String, String)> = match basemap {
        Basemap::Ready(districts) => districts
            .iter()
            .filter_map(|d| Some((d.code.clone()?, d.name.clone())))
            .collect(),
        _ => Vec::new(),
    };
    for code in alerts.iter().filter_map(|a| a.district_code.as_ref()) {
        if !options.iter().any(|(c, _)| c == code) {
            options.push((code.to_string(), code.to_string()));
        }
    }
    Rc::new(options)
}

/// The label of an alert's mark on the map: its place's name, else what it is about.
pub(super) fn place_label(lang: Lang, alert: Option<&Alert>) -> String {
    alert.map_or_else(String::new, |a| {
        a.place_name.clone().unwrap_or_else(|| {
            format!(
                "{} {}",
                labels::subject_type(lang, &a.subject.kind),
                a.subject.id
            )
        })
    })
}

/// A severity's colour on the map, and its halo's (the same as the feed's, in app.css).
pub(super) fn severity_colours(severity: Option<Severity>) -> (&'static str, &'static str) {
    match severity {
        Some(Severity::Critical) => ("#ff4d4f", "rgba(255, 77, 79, 0.3)"),
        Some(Severity::High) => ("#ff8c1a", "rgba(255, 140, 26, 0.3)"),
        Some(Severity::Medium) => ("#f5d90a", "rgba(245, 217, 10, 0.3)"),
        Some(Severity::Low) | None => ("#5b9bd5", "rgba(91, 155, 213, 0.3)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::District;
    use crate::session::User;
    use serde_json::json;
    use shared::alert::AlertKind;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// An alert raised by the test: its id, severity and status, last seen at `seen` seconds
    /// past 10:00 on a fixed day.
    fn alert(n: u128, severity: &str, status: &str, seen: u32) -> Alert {
        serde_json::from_value(json!({
            "id": id(n), "kind": "overfill", "severity": severity, "status": status,
            "subject": {"type": "cylinder", "id": format!("CYL-{n}")},
            "district_code": "410105",
            "opened_at": "2026-05-01T09:00:00+08:00",
            "last_seen_at": format!("2026-05-01T10:00:{seen:02}+08:00"),
            "count": 1, "evidence": {}
        }))
        .unwrap()
    }

    fn escalated(mut a: Alert) -> Alert {
        a.escalated_at = Some(a.last_seen_at);
        a
    }

    fn ids(list: &[Rc<Alert>]) -> Vec<Uuid> {
        list.iter().map(|a| a.id).collect()
    }

    fn by_id(alerts: &[Alert]) -> HashMap<Uuid, Alert> {
        alerts.iter().map(|a| (a.id, a.clone())).collect()
    }

    fn list(alerts: &[Alert]) -> Alerts {
        Rc::new(alerts.iter().cloned().map(Rc::new).collect())
    }

    #[test]
    fn newest_activity_comes_first_and_equal_times_keep_their_places_by_id() {
        let sorted = newest_first([
            alert(1, "low", "open", 5),
            alert(2, "low", "open", 9),
            alert(3, "low", "open", 5),
        ]);
        assert_eq!(ids(&sorted), [id(2), id(3), id(1)]);
    }

    #[test]
    fn the_unresolved_list_is_rebuilt_only_when_an_alert_changed() {
        let mut cache = UnresolvedList::default();
        assert_eq!(cache.current().1, 0);
        let mut alerts = vec![alert(1, "high", "open", 1), alert(2, "low", "open", 2)];
        cache.update(&by_id(&alerts));
        let (first, generation) = cache.current();
        assert_eq!((ids(&first), generation), (vec![id(2), id(1)], 1));

        // The same alerts again (a vehicle moved): the very same list.
        cache.update(&by_id(&alerts));
        let (again, generation) = cache.current();
        assert!(Rc::ptr_eq(&first, &again));
        assert_eq!(generation, 1);

        // Evidence is not shown in the feed; a count is.
        alerts[0].evidence = json!({"kg": 16});
        cache.update(&by_id(&alerts));
        assert_eq!(cache.current().1, 1);
        alerts[0].count = 2;
        cache.update(&by_id(&alerts));
        assert_eq!(cache.current().1, 2);
        alerts[0] = escalated(alerts[0].clone());
        cache.update(&by_id(&alerts));
        assert_eq!(cache.current().1, 3);
        cache.update(&HashMap::new());
        assert_eq!((cache.current().0.len(), cache.current().1), (0, 4));
    }

    #[test]
    fn critical_news_is_what_arrives_turns_critical_or_is_escalated_after_the_first_picture() {
        let mut known = Known::default();
        // What was there when the page opened is known, critical or not.
        let opening = list(&[alert(1, "critical", "open", 1), alert(2, "high", "open", 1)]);
        assert!(known.arrivals(&opening).is_empty());
        assert!(known.arrivals(&opening).is_empty());

        let later = list(&[
            alert(1, "critical", "open", 2),
            alert(2, "critical", "open", 2),
            alert(3, "critical", "open", 2),
            alert(4, "medium", "open", 2),
            alert(5, "critical", "resolved", 2),
        ]);
        assert_eq!(known.arrivals(&later), [id(2), id(3)]);
        assert!(known.arrivals(&later).is_empty());

        // Escalation is news once; an acknowledgement is not.
        let escalation = list(&[
            escalated(alert(1, "critical", "acknowledged", 3)),
            alert(2, "critical", "acknowledged", 3),
        ]);
        assert_eq!(known.arrivals(&escalation), [id(1)]);
        assert!(known.arrivals(&escalation).is_empty());

        // An alert that left and came back is news again.
        assert!(known.arrivals(&list(&[])).is_empty());
        assert_eq!(known.arrivals(&escalation), [id(1), id(2)]);
    }

    #[test]
    fn the_resolved_list_is_asked_with_the_filters_and_a_limit() {
        let filters = AlertFilters {
            status: Some(AlertStatus::Resolved),
            kind: Some(AlertKind::Overfill),
            severity: Some(Severity::High),
            district: Some("410105".into()),
        };
        assert_eq!(
            resolved_query(&filters),
            AlertQuery {
                status: Some(AlertStatus::Resolved),
                kind: Some(AlertKind::Overfill),
                severity: Some(Severity::High),
                district_code: Some("410105".into()),
                limit: Some(200),
                ..AlertQuery::default()
            }
        );
        let any = resolved_query(&AlertFilters::default());
        assert_eq!(
            (any.status, any.district_code, any.limit),
            (None, None, Some(200))
        );
    }

    #[test]
    fn the_feed_shows_the_live_alerts_or_the_resolved_list_through_the_filters() {
        let unresolved = list(&[
            alert(1, "critical", "open", 3),
            alert(2, "low", "acknowledged", 2),
            alert(3, "critical", "acknowledged", 1),
        ]);
        let mut console = Console::new(false);
        assert_eq!(
            ids(&shown_alerts(&console, &unresolved)),
            [id(1), id(2), id(3)]
        );
        console.filters.severity = Some(Severity::Critical);
        assert_eq!(ids(&shown_alerts(&console, &unresolved)), [id(1), id(3)]);
        console.filters.status = Some(AlertStatus::Acknowledged);
        assert_eq!(ids(&shown_alerts(&console, &unresolved)), [id(3)]);

        // The resolved filter never shows the live alerts, even before the list came.
        console.filters = AlertFilters {
            status: Some(AlertStatus::Resolved),
            ..AlertFilters::default()
        };
        assert!(shown_alerts(&console, &unresolved).is_empty());
        console.resolved = Fetch::Ready(list(&[
            alert(7, "low", "resolved", 5),
            alert(8, "high", "resolved", 4),
        ]));
        assert_eq!(ids(&shown_alerts(&console, &unresolved)), [id(7), id(8)]);
        console.filters.severity = Some(Severity::High);
        assert_eq!(ids(&shown_alerts(&console, &unresolved)), [id(8)]);
    }

    #[test]
    fn the_alert_in_view_is_found_live_then_resolved_then_as_just_handled() {
        let unresolved = list(&[alert(1, "high", "open", 1)]);
        let mut console = Console::new(false);
        assert_eq!(selected_alert(&console, &unresolved), None);
        console.selected = Some(id(1));
        assert_eq!(
            selected_alert(&console, &unresolved).map(|a| a.id),
            Some(id(1))
        );

        console.selected = Some(id(2));
        assert_eq!(selected_alert(&console, &unresolved), None);
        // Just resolved here: it left the live feed but stays in view.
        let handled = Rc::new(alert(2, "high", "resolved", 2));
        console.handled = Some(handled.clone());
        assert_eq!(selected_alert(&console, &unresolved), Some(handled));
        // The resolved list's copy is preferred to the handling's answer.
        let listed = Rc::new(alert(2, "high", "resolved", 3));
        console.resolved = Fetch::Ready(Rc::new(vec![listed.clone()]));
        assert_eq!(selected_alert(&console, &unresolved), Some(listed));
        // The live feed's copy is preferred to both.
        let live = list(&[alert(2, "high", "open", 4)]);
        assert_eq!(selected_alert(&console, &live), Some(live[0].clone()));

        console.selected = Some(id(9));
        assert_eq!(selected_alert(&console, &live), None);
    }

    #[test]
    fn the_head_counts_open_and_critical_alerts() {
        let unresolved = list(&[
            alert(1, "critical", "open", 1),
            alert(2, "critical", "acknowledged", 1),
            alert(3, "low", "open", 1),
            alert(4, "medium", "acknowledged", 1),
        ]);
        assert_eq!(tally(&unresolved), (2, 2));
        assert_eq!(tally(&[]), (0, 0));
    }

    #[test]
    fn districts_are_the_base_maps_then_codes_only_alerts_name() {
        let district = |code: Option<&str>, name: &str| District {
            name: name.into(),
            code: code.map(Into::into),
            polygons: Vec::new(),
            label: (0.0, 0.0),
            bbox: (0.0, 0.0, 0.0, 0.0),
        };
        let basemap = Basemap::Ready(Rc::new(vec![
            district(Some("410102"), "中原区"),
            district(None, "无编码"),
            district(Some("410105"), "金水区"),
        ]));
        let mut alerts = vec![
            alert(1, "low", "open", 1),
            alert(2, "low", "open", 1),
            alert(3, "low", "open", 1),
            alert(4, "low", "open", 1),
        ];
        alerts[1].district_code = Some("419999".parse().unwrap());
        alerts[2].district_code = None;
        alerts[3].district_code = Some("419999".parse().unwrap());
        let alerts = list(&alerts);
        let options = |b: &Basemap| {
            let o = district_options(b, &alerts);
            o.iter()
                .map(|(c, n)| format!("{c}={n}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            options(&basemap),
            ["410102=中原区", "410105=金水区", "419999=419999"]
        );
        assert_eq!(
            options(&Basemap::Loading),
            ["410105=410105", "419999=419999"]
        );
    }

    #[test]
    fn only_regulators_duty_officers_and_admins_may_handle_alerts() {
        let signed_in = |role| {
            Session::SignedIn(Rc::new(User {
                username: "u".into(),
                role,
                enterprise_code: None,
                district_code: None,
            }))
        };
        let allowed: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| may_handle(&signed_in(*r)))
            .collect();
        assert_eq!(allowed, HANDLERS);
        assert!(!may_handle(&Session::Checking));
        assert!(!may_handle(&Session::SignedOut));
    }

    #[test]
    fn the_console_flashes_news_beeps_unless_muted_and_forgets_a_stale_resolved_list() {
        let console = Rc::new(Console::new(false));
        let console = console.reduce(ConsoleAction::Arrived(vec![id(1), id(2)]));
        assert_eq!((console.flashing.len(), console.beeps), (2, 1));
        // Opening an alert stops its flash; merely showing one does not.
        let console = console.reduce(ConsoleAction::Show(id(2)));
        assert_eq!((console.selected, console.flashing.len()), (Some(id(2)), 2));
        let console = console.reduce(ConsoleAction::Open(id(1)));
        assert_eq!((console.selected, console.flashing.len()), (Some(id(1)), 1));
        let console = console.reduce(ConsoleAction::Handled(Rc::new(alert(
            2,
            "critical",
            "acknowledged",
            1,
        ))));
        assert!(console.flashing.is_empty());
        assert_eq!(console.handled.as_ref().map(|a| a.id), Some(id(2)));

        let console = console.reduce(ConsoleAction::Mute(true));
        let console = console.reduce(ConsoleAction::Arrived(vec![id(3)]));
        assert_eq!((console.flashing.len(), console.beeps), (1, 1));

        let resolved = AlertFilters {
            status: Some(AlertStatus::Resolved),
            ..AlertFilters::default()
        };
        let console = console.reduce(ConsoleAction::Filter(resolved.clone()));
        assert!(console.showing_resolved());
        let console = console.reduce(ConsoleAction::Resolved(Fetch::Ready(Alerts::default())));
        // Another kind keeps the list until the answer comes; another status drops it.
        let console = console.reduce(ConsoleAction::Filter(AlertFilters {
            kind: Some(AlertKind::Overfill),
            ..resolved
        }));
        assert!(matches!(console.resolved, Fetch::Ready(_)));
        let console = console.reduce(ConsoleAction::Filter(AlertFilters::default()));
        assert!(matches!(console.resolved, Fetch::Loading));
        assert!(!console.showing_resolved());
    }

    #[test]
    fn the_map_labels_an_alert_by_its_place_else_its_subject_and_colours_it_by_severity() {
        let mut a = alert(1, "critical", "open", 1);
        assert_eq!(place_label(Lang::Zh, Some(&a)), "气瓶 CYL-1");
        assert_eq!(place_label(Lang::En, Some(&a)), "Cylinder CYL-1");
        a.place_name = Some("金水站".into());
        assert_eq!(place_label(Lang::En, Some(&a)), "金水站");
        assert_eq!(place_label(Lang::En, None), "");
        assert_eq!(severity_colours(Some(a.severity)).0, "#ff4d4f");
        assert_eq!(
            severity_colours(None),
            severity_colours(Some(Severity::Low))
        );
    }
}
