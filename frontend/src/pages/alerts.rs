//! 值班台, the duty console: the live alert feed beside the selected alert (its facts, evidence
//! and handling) and a small map of where it was raised.
//!
//! Unresolved alerts come from the live feed (`LiveState.alerts`: the snapshot, then every
//! `{"type":"alert"}` push) and are filtered here; resolved ones are asked of the server
//! (`GET /api/v1/alerts?status=resolved`) whenever that filter is chosen, and every 30 s while
//! it is. A critical alert that arrives, turns critical or is escalated flashes until someone
//! opens it, and beeps unless the sound is off.

use crate::beep;
use crate::components::alert_detail::AlertDetail;
use crate::components::alert_feed::AlertFeed;
use crate::components::alert_filters::{AlertFilterBar, AlertFilters};
use crate::components::alert_map::AlertMap;
use crate::errors;
use crate::hooks::{use_basemap, Basemap};
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use crate::services::api::{self, AlertQuery, Fetch};
use crate::session::{use_session, Session};
use crate::state::{LiveAction, LiveContext};
use chrono::{DateTime, FixedOffset};
use gloo_timers::callback::Interval;
use shared::alert::{Alert, AlertStatus, Severity};
use shared::auth::Role;
use shared::live::LiveMessage;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use uuid::Uuid;
use yew::prelude::*;

/// How often the resolved list is asked again while shown, in milliseconds.
const RESOLVED_REFRESH_MS: u32 = 30_000;

/// How many resolved alerts the page asks for.
const RESOLVED_LIMIT: u32 = 200;

/// Where the sound choice is kept in the browser.
const MUTE_KEY: &str = "cylwatch.alerts.muted";

/// Roles that acknowledge and resolve alerts (the server answers 403 to the others).
const HANDLERS: [Role; 4] = [
    Role::Admin,
    Role::CityRegulator,
    Role::DistrictRegulator,
    Role::DutyOfficer,
];

/// An alert list as the feed shows it.
type Alerts = Rc<Vec<Rc<Alert>>>;

/// What the console holds besides the live feed.
#[derive(PartialEq)]
struct Console {
    filters: AlertFilters,
    selected: Option<Uuid>,
    /// The newest answer to a handling from this page: an alert just resolved leaves the live
    /// feed but stays in view.
    handled: Option<Rc<Alert>>,
    /// Critical alerts that arrived or were escalated and that nobody has opened yet.
    flashing: Rc<HashSet<Uuid>>,
    muted: bool,
    /// How many beeps were asked for (each change plays one).
    beeps: u32,
    /// The resolved alerts, while that filter is chosen.
    resolved: Fetch<Alerts>,
}

impl Default for Console {
    fn default() -> Self {
        Self {
            filters: AlertFilters::default(),
            selected: None,
            handled: None,
            flashing: Rc::default(),
            muted: load_muted(),
            beeps: 0,
            resolved: Fetch::Loading,
        }
    }
}

/// What changes the console.
enum ConsoleAction {
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

/// Whether the officer turned the sound off in this browser.
fn load_muted() -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(MUTE_KEY).ok().flatten())
        .is_some_and(|v| v == "1")
}

fn store_muted(muted: bool) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(MUTE_KEY, if muted { "1" } else { "0" });
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

/// Newest activity first (the API's order), then by id so that equal times keep their places.
fn newest_first(a: &Rc<Alert>, b: &Rc<Alert>) -> std::cmp::Ordering {
    b.last_seen_at
        .cmp(&a.last_seen_at)
        .then_with(|| b.id.cmp(&a.id))
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

/// A counter bumped by the resolved list's timer and after a resolution.
#[derive(Default, PartialEq)]
struct Tick(u32);

impl Reducible for Tick {
    type Action = ();

    fn reduce(self: Rc<Self>, _: ()) -> Rc<Self> {
        Rc::new(Self(self.0.wrapping_add(1)))
    }
}

/// The duty console.
#[component]
pub fn AlertsPage() -> Html {
    let lang = use_lang().lang;
    let live = use_context::<LiveContext>();
    let session = use_session();
    let basemap = use_basemap();
    let console = use_reducer(Console::default);
    let tick = use_reducer(Tick::default);
    let can_handle = match &session.session {
        Session::SignedIn(user) => HANDLERS.contains(&user.role),
        _ => false,
    };

    // The unresolved alerts, newest first, rebuilt only when one of them changed.
    let cache = use_mut_ref(|| (Vec::<Signature>::new(), Alerts::default(), 0_u64));
    let (unresolved, generation): (Alerts, u64) = {
        let mut cache = cache.borrow_mut();
        if let Some(live) = &live {
            let alerts = live.alerts.borrow();
            let mut sig: Vec<Signature> = alerts.values().map(signature).collect();
            sig.sort_unstable_by_key(|s| s.0);
            if sig != cache.0 {
                let mut list: Vec<Rc<Alert>> = alerts.values().cloned().map(Rc::new).collect();
                list.sort_by(newest_first);
                *cache = (sig, Rc::new(list), cache.2.wrapping_add(1));
            }
        }
        (cache.1.clone(), cache.2)
    };
    let snapshot_seen = live.as_ref().is_some_and(|l| l.last_update.is_some());

    // Critical news: what each unresolved alert was when last seen here. The first picture
    // (what was already there when the page opened) is taken as known.
    let known = use_mut_ref(|| None::<HashMap<Uuid, (Severity, bool)>>);
    {
        let console = console.clone();
        let list = unresolved.clone();
        use_effect_with((generation, snapshot_seen), move |(_, seen)| {
            if !*seen {
                return;
            }
            let mut known = known.borrow_mut();
            let first = known.is_none();
            let map = known.get_or_insert_with(HashMap::new);
            let arrived: Vec<Uuid> = list
                .iter()
                .filter(|a| !first && is_news(map.get(&a.id), a))
                .map(|a| a.id)
                .collect();
            *map = list
                .iter()
                .map(|a| (a.id, (a.severity, a.escalated_at.is_some())))
                .collect();
            if !arrived.is_empty() {
                console.dispatch(ConsoleAction::Arrived(arrived));
            }
        });
    }
    // The reducer counts a beep only when the sound is on.
    use_effect_with(console.beeps, |beeps| {
        if *beeps > 0 {
            beep::beep();
        }
    });

    // The resolved alerts, asked while that filter is chosen.
    let showing_resolved = console.filters.status == Some(AlertStatus::Resolved);
    {
        let tick = tick.clone();
        use_effect_with(showing_resolved, move |on| {
            let timer = on.then(|| Interval::new(RESOLVED_REFRESH_MS, move || tick.dispatch(())));
            move || drop(timer)
        });
    }
    let asked = use_mut_ref(|| None::<AlertFilters>);
    {
        let console = console.clone();
        let deps = (console.filters.clone(), tick.0);
        use_effect_with(deps, move |(filters, _)| {
            if filters.status != Some(AlertStatus::Resolved) {
                asked.replace(None);
                return;
            }
            asked.replace(Some(filters.clone()));
            let filters = filters.clone();
            let query = AlertQuery {
                status: filters.status,
                kind: filters.kind,
                severity: filters.severity,
                district_code: filters.district.clone(),
                limit: Some(RESOLVED_LIMIT),
                ..AlertQuery::default()
            };
            wasm_bindgen_futures::spawn_local(async move {
                let answer = api::alerts(&query).await;
                // The filters changed meanwhile: this answer is for another question.
                if asked.borrow().as_ref() != Some(&filters) {
                    return;
                }
                let fetch = match answer {
                    Ok(page) => {
                        let mut list: Vec<Rc<Alert>> =
                            page.items.into_iter().map(Rc::new).collect();
                        list.sort_by(newest_first);
                        Fetch::Ready(Rc::new(list))
                    }
                    Err(e) => {
                        web_sys::console::warn_1(&format!("resolved alerts: {e}").into());
                        Fetch::from(Err::<Alerts, _>(e))
                    }
                };
                console.dispatch(ConsoleAction::Resolved(fetch));
            });
        });
    }

    // What the feed shows.
    let filters = console.filters.clone();
    let source = if showing_resolved {
        match &console.resolved {
            Fetch::Ready(list) => list.clone(),
            _ => Alerts::default(),
        }
    } else {
        unresolved.clone()
    };
    let shown: Alerts = Rc::new(
        source
            .iter()
            .filter(|a| filters.matches(a))
            .cloned()
            .collect(),
    );
    // Nothing opened yet: show the newest.
    {
        let console = console.clone();
        let first = shown.first().map(|a| a.id);
        use_effect_with((console.selected.is_none(), first), move |(none, first)| {
            if let (true, Some(id)) = (*none, first) {
                console.dispatch(ConsoleAction::Show(*id));
            }
        });
    }
    let selected: Option<Rc<Alert>> = console.selected.and_then(|id| {
        let in_list = |list: &Alerts| list.iter().find(|a| a.id == id).cloned();
        in_list(&unresolved)
            .or_else(|| match &console.resolved {
                Fetch::Ready(list) => in_list(list),
                _ => None,
            })
            .or_else(|| console.handled.clone().filter(|a| a.id == id))
    });

    let on_filter = {
        let console = console.clone();
        Callback::from(move |f: AlertFilters| console.dispatch(ConsoleAction::Filter(f)))
    };
    let on_select = {
        let console = console.clone();
        Callback::from(move |id: Uuid| console.dispatch(ConsoleAction::Open(id)))
    };
    let on_handled = {
        let (console, live, tick) = (console.clone(), live.clone(), tick.clone());
        Callback::from(move |alert: Alert| {
            // The server pushes the new state too; showing the answer now does not wait for it.
            if let Some(live) = &live {
                live.dispatch(LiveAction::Message(LiveMessage::Alert(Box::new(
                    alert.clone(),
                ))));
            }
            let resolved = alert.status == AlertStatus::Resolved;
            console.dispatch(ConsoleAction::Handled(Rc::new(alert)));
            if resolved {
                tick.dispatch(());
            }
        })
    };
    let on_sound = {
        let console = console.clone();
        Callback::from(move |_: MouseEvent| {
            let muted = !console.muted;
            store_muted(muted);
            console.dispatch(ConsoleAction::Mute(muted));
        })
    };
    // Any click is the gesture browsers wait for before they let a page make a sound.
    let on_any_click = Callback::from(|_: MouseEvent| beep::unlock());

    let districts = district_options(&basemap, &unresolved);
    let open = unresolved
        .iter()
        .filter(|a| a.status == AlertStatus::Open)
        .count();
    let critical = unresolved
        .iter()
        .filter(|a| a.severity == Severity::Critical)
        .count();
    let feed = match (&console.resolved, showing_resolved) {
        (Fetch::Loading, true) => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
        (Fetch::Failed(e), true) => html! {
            <p class="notice bad" id="alert-feed-failed" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
        },
        _ => html! {
            <AlertFeed alerts={shown.clone()} selected={console.selected}
                flashing={console.flashing.clone()} on_select={on_select} />
        },
    };
    let detail = match &selected {
        Some(alert) => html! {
            <AlertDetail key={alert.id.to_string()} alert={alert.clone()} {can_handle} {on_handled} />
        },
        None => html! { <p class="notice">{ lang.t(Key::PickAlert) }</p> },
    };
    let sound_key = if console.muted {
        Key::SoundOff
    } else {
        Key::SoundOn
    };
    html! {
        <section id="alerts-page" class="alerts" onclick={on_any_click}
            data-beeps={console.beeps.to_string()} data-shown={shown.len().to_string()}>
            <div class="cyl-summary alerts-head">
                <div class="st-id">
                    <span class="st-name">{ lang.t(Key::DutyConsole) }</span>
                    <span class="alerts-tally">
                        <span class="cyl-label">{ lang.t(Key::OpenCount) }</span>
                        <b id="alerts-open">{ open }</b>
                        <span class="cyl-label">{ lang.t(Key::CriticalCount) }</span>
                        <b id="alerts-critical" class={classes!((critical > 0).then_some("bad"))}>{ critical }</b>
                    </span>
                </div>
                <AlertFilterBar filters={filters} {districts} on_change={on_filter} />
                <button id="alert-sound" class={classes!("lang", "sound", console.muted.then_some("muted"))}
                    type="button" data-muted={console.muted.to_string()} onclick={on_sound}>
                    { lang.t(sound_key) }
                </button>
            </div>
            <div class="alerts-body">
                <div class="panel alerts-feed-panel">
                    <h2>{ lang.t(Key::AlertFeed) }<small>{ format!(" · {}", shown.len()) }</small></h2>
                    <div class="cyl-scroll">{ feed }</div>
                </div>
                <div class="panel alerts-detail-panel cyl-scroll">{ detail }</div>
                <div class="panel alerts-map-panel">
                    <h2>{ lang.t(Key::AlertLocation) }</h2>
                    <div class="cyl-map-body">{ map(lang, &basemap, selected.as_deref()) }</div>
                </div>
            </div>
        </section>
    }
}

/// The districts to filter by: the base map's, then any code an alert names that the map lacks.
fn district_options(basemap: &Basemap, alerts: &[Rc<Alert>]) -> Rc<Vec<(String, String)>> {
    let mut options: Vec<(String, String)> = match basemap {
        Basemap::Ready(districts) => districts
            .iter()
            .filter_map(|d| Some((d.code.clone()?, d.name.clone())))
            .collect(),
        _ => Vec::new(),
    };
    for code in alerts.iter().filter_map(|a| a.district_code.as_ref()) {
        if !options.iter().any(|(c, _)| c == code) {
            options.push((code.clone(), code.clone()));
        }
    }
    Rc::new(options)
}

/// The selected alert's place on the base map.
fn map(lang: Lang, basemap: &Basemap, alert: Option<&Alert>) -> Html {
    match basemap {
        Basemap::Loading => {
            html! { <div class="map placeholder">{ lang.t(Key::MapLoading) }</div> }
        }
        Basemap::Failed(e) => html! {
            <div class="map placeholder error">{ errors::failed(lang, Key::MapFailed, e) }</div>
        },
        Basemap::Ready(districts) => {
            let place = alert
                .and_then(|a| a.place.as_ref())
                .map(|p| (p.lon(), p.lat()));
            let text = alert.map_or_else(String::new, |a| {
                a.place_name.clone().unwrap_or_else(|| {
                    format!(
                        "{} {}",
                        labels::subject_type(lang, &a.subject.kind),
                        a.subject.id
                    )
                })
            });
            let (colour, halo) = severity_colours(alert.map(|a| a.severity));
            html! {
                <>
                    <AlertMap districts={districts.clone()} {place} label={text}
                        colour={colour} halo={halo} />
                    if alert.is_some() && place.is_none() {
                        <p class="notice alerts-no-place">{ lang.t(Key::NoPlace) }</p>
                    }
                </>
            }
        }
    }
}

/// A severity's colour on the map, and its halo's (the same as the feed's, in app.css).
fn severity_colours(severity: Option<Severity>) -> (&'static str, &'static str) {
    match severity {
        Some(Severity::Critical) => ("#ff4d4f", "rgba(255, 77, 79, 0.3)"),
        Some(Severity::High) => ("#ff8c1a", "rgba(255, 140, 26, 0.3)"),
        Some(Severity::Medium) => ("#f5d90a", "rgba(245, 217, 10, 0.3)"),
        Some(Severity::Low) | None => ("#5b9bd5", "rgba(91, 155, 213, 0.3)"),
    }
}
