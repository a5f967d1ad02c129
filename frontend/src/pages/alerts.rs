//! 值班台, the duty console: the live alert feed beside the selected alert (its facts, evidence
//! and handling) and a small map of where it was raised.
//!
//! Unresolved alerts come from the live feed (`LiveState.alerts`: the snapshot, then every
//! `{"type":"alert"}` push) and are filtered here; resolved ones are asked of the server
//! (`GET /api/v1/alerts?status=resolved`) whenever that filter is chosen, and every 30 s while
//! it is. A critical alert that arrives, turns critical or is escalated flashes until someone
//! opens it, and beeps unless the sound is off.

mod console;
mod hooks;

use crate::beep;
use crate::components::alert_detail::AlertDetail;
use crate::components::alert_feed::AlertFeed;
use crate::components::alert_filters::{AlertFilterBar, AlertFilters};
use crate::components::alert_map::AlertMap;
use crate::errors;
use crate::hooks::{use_basemap, Basemap};
use crate::i18n::{use_lang, Key, Lang};
use crate::services::api::Fetch;
use crate::session::use_session;
use crate::state::{LiveAction, LiveContext};
use console::{
    district_options, may_handle, place_label, selected_alert, severity_colours, shown_alerts,
    tally, Alerts, Console, ConsoleAction, Tick,
};
use hooks::{use_critical_news, use_resolved, use_show_first, use_unresolved};
use shared::alert::{Alert, AlertStatus};
use shared::live::LiveMessage;
use std::rc::Rc;
use uuid::Uuid;
use yew::prelude::*;

/// Where the sound choice is kept in the browser.
const MUTE_KEY: &str = "cylwatch.alerts.muted";

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

/// The duty console.
#[component]
pub fn AlertsPage() -> Html {
    let lang = use_lang().lang;
    let live = use_context::<LiveContext>();
    let session = use_session();
    let basemap = use_basemap();
    let console = use_reducer(|| Console::new(load_muted()));
    let tick = use_reducer(Tick::default);
    let can_handle = may_handle(&session.session);

    let (unresolved, generation) = use_unresolved(live.as_ref());
    let snapshot_seen = live.as_ref().is_some_and(|l| l.last_update.is_some());
    use_critical_news(&console, &unresolved, generation, snapshot_seen);
    use_resolved(&console, &tick);
    let shown = shown_alerts(&console, &unresolved);
    use_show_first(&console, &shown);
    let selected = selected_alert(&console, &unresolved);

    let on_filter = {
        let console = console.clone();
        Callback::from(move |f: AlertFilters| console.dispatch(ConsoleAction::Filter(f)))
    };
    let on_select = {
        let console = console.clone();
        Callback::from(move |id: Uuid| console.dispatch(ConsoleAction::Open(id)))
    };
    let on_handled = on_handled(&console, live.as_ref(), &tick);
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
    html! {
        <section id="alerts-page" class="alerts" onclick={on_any_click}
            data-beeps={console.beeps.to_string()} data-shown={shown.len().to_string()}>
            { head(lang, &console, tally(&unresolved), districts, on_filter, on_sound) }
            <div class="alerts-body">
                <div class="panel alerts-feed-panel">
                    <h2>{ lang.t(Key::AlertFeed) }<small>{ format!(" · {}", shown.len()) }</small></h2>
                    <div class="cyl-scroll">{ feed(lang, &console, &shown, on_select) }</div>
                </div>
                <div class="panel alerts-detail-panel cyl-scroll">
                    { detail(lang, selected.as_ref(), can_handle, on_handled) }
                </div>
                <div class="panel alerts-map-panel">
                    <h2>{ lang.t(Key::AlertLocation) }</h2>
                    <div class="cyl-map-body">{ map(lang, &basemap, selected.as_deref()) }</div>
                </div>
            </div>
        </section>
    }
}

/// What a handling's answer does: the live feed and the console take the alert's new state at
/// once (the server pushes it too; showing it does not wait), and a resolution asks the
/// resolved list again.
fn on_handled(
    console: &UseReducerHandle<Console>,
    live: Option<&LiveContext>,
    tick: &UseReducerHandle<Tick>,
) -> Callback<Alert> {
    let (console, live, tick) = (console.clone(), live.cloned(), tick.clone());
    Callback::from(move |alert: Alert| {
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
}

/// The head: the console's name, its counts, the filters and the sound switch.
fn head(
    lang: Lang,
    console: &Console,
    (open, critical): (usize, usize),
    districts: Rc<Vec<(String, String)>>,
    on_filter: Callback<AlertFilters>,
    on_sound: Callback<MouseEvent>,
) -> Html {
    let sound_key = if console.muted {
        Key::SoundOff
    } else {
        Key::SoundOn
    };
    html! {
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
            <AlertFilterBar filters={console.filters.clone()} {districts} on_change={on_filter} />
            <button id="alert-sound" class={classes!("lang", "sound", console.muted.then_some("muted"))}
                type="button" data-muted={console.muted.to_string()} onclick={on_sound}>
                { lang.t(sound_key) }
            </button>
        </div>
    }
}

/// The feed: the rows, or why the resolved list is not there yet.
fn feed(lang: Lang, console: &Console, shown: &Alerts, on_select: Callback<Uuid>) -> Html {
    match (&console.resolved, console.showing_resolved()) {
        (Fetch::Loading, true) => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
        (Fetch::Failed(e), true) => html! {
            <p class="notice bad" id="alert-feed-failed" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
        },
        _ => html! {
            <AlertFeed alerts={shown.clone()} selected={console.selected}
                flashing={console.flashing.clone()} {on_select} />
        },
    }
}

/// The alert in view, with its handling, or a hint to pick one.
fn detail(
    lang: Lang,
    selected: Option<&Rc<Alert>>,
    can_handle: bool,
    on_handled: Callback<Alert>,
) -> Html {
    match selected {
        Some(alert) => html! {
            <AlertDetail key={alert.id.to_string()} alert={alert.clone()} {can_handle} {on_handled} />
        },
        None => html! { <p class="notice">{ lang.t(Key::PickAlert) }</p> },
    }
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
            let text = place_label(lang, alert);
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
