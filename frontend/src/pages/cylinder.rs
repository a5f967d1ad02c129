//! One cylinder for a supervisor: compliance and custody at a glance, the archive, the history
//! table and the trajectory. Refreshed every 30 s; the date the compliance is judged on can be
//! changed (what was its status on the day of an incident?).

use crate::app::Route;
use crate::components::archive::Archive;
use crate::components::timeline::Timeline;
use crate::components::trajectory::Trajectory;
use crate::errors;
use crate::format::{date, minute_or_dash};
use crate::geo::contains;
use crate::hooks::{use_basemap, Basemap};
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use crate::services::api::{self, ApiError, Fetch};
use chrono::NaiveDate;
use gloo_timers::callback::Interval;
use shared::cylinder::{CylinderView, HistoryEntry, Light};
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// How often the page fetches the cylinder again, in milliseconds.
const REFRESH_MS: u32 = 30_000;

/// Page properties: the cylinder's code, from the URL.
#[derive(Properties, PartialEq)]
pub struct CylinderPageProps {
    pub code: String,
}

/// A cylinder's history, and whether it was cut at `api::HISTORY_CAP`.
#[derive(Clone, PartialEq)]
struct History {
    entries: Rc<Vec<HistoryEntry>>,
    cut: bool,
}

/// A counter bumped by the refresh timer and the retry button.
#[derive(Default, PartialEq)]
struct Tick(u32);

impl Reducible for Tick {
    type Action = ();

    fn reduce(self: Rc<Self>, _: ()) -> Rc<Self> {
        Rc::new(Self(self.0.wrapping_add(1)))
    }
}

/// The cylinder page.
#[component]
pub fn CylinderPage(props: &CylinderPageProps) -> Html {
    let lang = use_lang().lang;
    let view = use_state(|| Fetch::<Rc<CylinderView>>::Loading);
    let history = use_state(|| Fetch::<History>::Loading);
    let as_of = use_state(|| None::<NaiveDate>);
    let tick = use_reducer(Tick::default);
    let basemap = use_basemap();
    // What each panel last asked for: the same again is a refresh, anything else a new page.
    let view_key = use_mut_ref(|| None::<(String, Option<NaiveDate>)>);
    let history_key = use_mut_ref(|| None::<String>);

    {
        let tick = tick.clone();
        use_effect_with((), move |_| {
            let timer = Interval::new(REFRESH_MS, move || tick.dispatch(()));
            move || drop(timer)
        });
    }
    {
        let (view, shown) = (view.clone(), view_key.clone());
        let deps = (props.code.clone(), *as_of, tick.0);
        use_effect_with(deps, move |(code, as_of, _)| {
            let key = (code.clone(), *as_of);
            let refresh = shown.replace(Some(key.clone())).as_ref() == Some(&key);
            fetch_into(view, refresh, async move {
                api::cylinder(&key.0, key.1).await.map(Rc::new)
            })
        });
    }
    {
        let (history, shown) = (history.clone(), history_key.clone());
        use_effect_with((props.code.clone(), tick.0), move |(code, _)| {
            let refresh = shown.replace(Some(code.clone())).as_ref() == Some(code);
            let code = code.clone();
            fetch_into(history, refresh, async move {
                let (entries, cut) = api::history(&code).await?;
                Ok(History {
                    entries: Rc::new(entries),
                    cut,
                })
            })
        });
    }

    let retry = {
        let tick = tick.clone();
        Callback::from(move |_: MouseEvent| tick.dispatch(()))
    };
    let on_as_of = {
        let as_of = as_of.clone();
        Callback::from(move |e: Event| {
            let value = e.target_dyn_into::<HtmlInputElement>().map(|i| i.value());
            as_of.set(value.and_then(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok()));
        })
    };

    let body = match &*view {
        Fetch::Loading => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
        Fetch::NotFound => html! {
            <p class="notice bad" id="cylinder-not-found">
                { lang.t(Key::CylinderNotFound) }{ "：" }{ props.code.clone() }
            </p>
        },
        Fetch::Failed(e) => html! {
            <p class="notice bad" data-code={e.name()}>
                { errors::failed(lang, Key::LoadFailed, e) }{ " " }
                <button class="lang" onclick={retry}>{ lang.t(Key::Retry) }</button>
            </p>
        },
        Fetch::Ready(v) => html! {
            <>
                { summary(lang, v, on_as_of) }
                <div class="cyl-body">
                    <aside class="panel cyl-archive">
                        <h2>{ lang.t(Key::Archive) }</h2>
                        <Archive view={v.clone()} />
                    </aside>
                    <div class="cyl-main">
                        { trajectory(lang, &basemap, &history, v) }
                        { timeline(lang, &history) }
                    </div>
                </div>
            </>
        },
    };
    html! {
        <section id="cylinder-page" class="cylinder" data-code={props.code.clone()}>{ body }</section>
    }
}

/// Fetches into `state`. A new question shows "loading" first; a refresh keeps what is shown if
/// it fails (a network blip should not blank a wall). An answer that comes after the page
/// moved on (the returned cleanup ran) is dropped.
fn fetch_into<T: 'static>(
    state: UseStateHandle<Fetch<T>>,
    refresh: bool,
    answer: impl Future<Output = Result<T, ApiError>> + 'static,
) -> impl FnOnce() {
    if !refresh {
        state.set(Fetch::Loading);
    }
    let current = Rc::new(Cell::new(true));
    let live = current.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let answer = answer.await;
        if !live.get() {
            return;
        }
        match answer {
            Err(e) if refresh && !e.is_not_found() => {
                web_sys::console::warn_1(&format!("refresh failed: {e}").into());
            }
            answer => state.set(answer.into()),
        }
    });
    move || current.set(false)
}

/// The strip above everything: number, medium, compliance, custody, when last filled and seen.
fn summary(lang: Lang, v: &CylinderView, on_as_of: Callback<Event>) -> Html {
    let light = match v.compliance.light() {
        Light::Green => "green",
        Light::Amber => "amber",
        Light::Red => "red",
    };
    let others = v.compliance_all.iter().skip(1).map(|c| {
        html! { <span class="chip">{ labels::compliance(lang, *c) }</span> }
    });
    let place = v
        .custody_place
        .as_ref()
        .map(|p| p.name.clone().unwrap_or_else(|| p.code.clone()));
    let code = v.archive.code.to_string();
    html! {
        <div class="cyl-summary">
            <div class="cyl-id">
                <span class="cyl-code">{ code.clone() }</span>
                <span class="cyl-medium">{ labels::medium(lang, v.archive.medium) }</span>
            </div>
            <div class="cyl-status">
                <span class="cyl-label">{ lang.t(Key::Compliance) }</span>
                <span id="compliance-badge" class={classes!("badge", light)}
                    data-compliance={v.compliance.name()} data-light={light}>
                    { labels::compliance(lang, v.compliance) }
                </span>
                { for others }
            </div>
            <div class="cyl-status">
                <span class="cyl-label">{ lang.t(Key::Custody) }</span>
                <span id="custody" class="custody" data-custody={v.custody.name()}>
                    { labels::custody(lang, v.custody) }
                </span>
                if let Some(place) = place {
                    <span class="cyl-place" title={lang.t(Key::HeldAt)}>{ "@ " }{ place }</span>
                }
            </div>
            <div class="cyl-fact">
                <span class="cyl-label">{ lang.t(Key::LastFilled) }</span>
                <span>{ minute_or_dash(v.last_filled_at.as_ref()) }</span>
            </div>
            <div class="cyl-fact">
                <span class="cyl-label">{ lang.t(Key::LastSeen) }</span>
                <span>{ minute_or_dash(v.last_seen_at.as_ref()) }</span>
            </div>
            <div class={classes!("cyl-fact", (v.flagged_events > 0).then_some("bad"))} id="flagged-events">
                <span class="cyl-label">{ lang.t(Key::FlaggedEvents) }</span>
                <span>{ v.flagged_events }</span>
            </div>
            <label class="cyl-fact">
                <span class="cyl-label">{ lang.t(Key::AsOf) }</span>
                <input id="as-of" type="date" value={date(v.as_of)} onchange={on_as_of} />
            </label>
            <Link<Route> classes="cyl-public" to={Route::Public { code }}>{ lang.t(Key::PublicView) }</Link<Route>>
        </div>
    }
}

/// The trajectory panel: the history's located entries in time order, and the position now.
fn trajectory(lang: Lang, basemap: &Basemap, history: &Fetch<History>, v: &CylinderView) -> Html {
    let track: Vec<(f64, f64)> = match history {
        Fetch::Ready(h) => h
            .entries
            .iter()
            .filter_map(|e| e.location.map(|p| (p.lon(), p.lat())))
            .collect(),
        _ => Vec::new(),
    };
    let position = v.position.map(|p| (p.lon(), p.lat()));
    let empty = track.is_empty() && position.is_none();
    // Zoomed in, the district names may be off the map: name the one it is in now.
    let district = match (basemap, position.or_else(|| track.last().copied())) {
        (Basemap::Ready(d), Some((lon, lat))) => d
            .iter()
            .find(|d| contains(d, lon, lat))
            .map(|d| d.name.clone()),
        _ => None,
    };
    let map = match basemap {
        Basemap::Loading => {
            html! { <div class="map placeholder">{ lang.t(Key::MapLoading) }</div> }
        }
        Basemap::Failed(e) => html! {
            <div class="map placeholder error">{ errors::failed(lang, Key::MapFailed, e) }</div>
        },
        Basemap::Ready(d) => html! {
            <Trajectory districts={d.clone()} track={Rc::new(track)} {position}
                start_label={lang.t(Key::Start)} position_label={lang.t(Key::CurrentPosition)} />
        },
    };
    html! {
        <div class="panel cyl-map">
            <h2>
                { lang.t(Key::Trajectory) }
                if empty { <small>{ " · " }{ lang.t(Key::NoTrajectory) }</small> }
                if let Some(d) = district { <small id="trajectory-district">{ " · " }{ d }</small> }
            </h2>
            <div class="cyl-map-body">{ map }</div>
        </div>
    }
}

/// The history panel.
fn timeline(lang: Lang, history: &Fetch<History>) -> Html {
    let (count, body) = match history {
        Fetch::Loading => (
            None,
            html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
        ),
        Fetch::NotFound => (None, html! {}),
        Fetch::Failed(e) => (
            None,
            html! { <p class="notice bad" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p> },
        ),
        Fetch::Ready(h) => {
            let (entries, cut) = (&h.entries, h.cut);
            let body = html! {
                <>
                    if cut { <p class="notice warn">{ lang.t(Key::HistoryTruncated) }</p> }
                    <Timeline entries={entries.clone()} />
                    if entries.is_empty() { <p class="notice">{ lang.t(Key::NoHistory) }</p> }
                </>
            };
            (Some(entries.len()), body)
        }
    };
    html! {
        <div class="panel cyl-timeline">
            <h2>
                { lang.t(Key::History) }
                if let Some(n) = count { <small id="history-count">{ format!(" · {n}") }</small> }
            </h2>
            <div class="cyl-scroll">{ body }</div>
        </div>
    }
}
