//! One filling station's day for a supervisor or the station's own wall: what the guns were
//! told (allowed, or refused with the rules), the day's counts, refusals by rule and late
//! filling records. Refreshed every 5 s; a refresh that fails keeps the last answer on screen,
//! marked as stale. Another day can be picked (what happened on the day of an incident?).

use crate::components::decision_table::DecisionTable;
use crate::components::gun_panel::GunPanel;
use crate::components::kpi::Kpi;
use crate::components::rule_chart::RuleChart;
use crate::components::station_record::StationRecord;
use crate::errors;
use crate::format::{date, number};
use crate::i18n::{use_lang, Key, Lang};
use crate::services::api::{self, ApiError};
use chrono::NaiveDate;
use gloo_timers::callback::Interval;
use shared::filling::{DecisionLine, StationFillingSummary};
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// How often the page asks again, in milliseconds.
const REFRESH_MS: u32 = 5_000;

/// Page properties: the station's code, from the URL.
#[derive(Properties, PartialEq)]
pub struct StationPageProps {
    pub code: String,
}

/// What the page shows: the last answer, and how the newest question went.
#[derive(Default, PartialEq)]
struct StationDay {
    /// The last answer, without its decisions (they are in `recent`).
    summary: Option<Rc<StationFillingSummary>>,
    recent: Rc<Vec<DecisionLine>>,
    /// When the last answer came, `HH:MM:SS` Beijing time.
    fetched_at: Option<String>,
    not_found: bool,
    /// Why the newest question failed; what is shown is then older.
    error: Option<ApiError>,
}

/// What changes the page's state.
enum DayAction {
    /// Another station or day: forget the old one.
    Reset,
    Loaded(StationFillingSummary, String),
    NotFound,
    Failed(ApiError),
}

impl Reducible for StationDay {
    type Action = DayAction;

    fn reduce(self: Rc<Self>, action: DayAction) -> Rc<Self> {
        let next = match action {
            DayAction::Reset => Self::default(),
            DayAction::Loaded(mut summary, at) => {
                let recent = Rc::new(std::mem::take(&mut summary.recent));
                Self {
                    summary: Some(Rc::new(summary)),
                    recent,
                    fetched_at: Some(at),
                    not_found: false,
                    error: None,
                }
            }
            DayAction::NotFound => Self {
                not_found: true,
                ..Self::default()
            },
            DayAction::Failed(error) => Self {
                summary: self.summary.clone(),
                recent: self.recent.clone(),
                fetched_at: self.fetched_at.clone(),
                not_found: self.not_found,
                error: Some(error),
            },
        };
        Rc::new(next)
    }
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

/// A question: the station and the day (`None`: the server's today).
type Question = (String, Option<NaiveDate>);

/// The station page.
#[component]
pub fn StationPage(props: &StationPageProps) -> Html {
    let lang = use_lang().lang;
    let day = use_reducer(StationDay::default);
    let picked = use_state(|| None::<NaiveDate>);
    let tick = use_reducer(Tick::default);
    // The question whose answers are shown (`None` once the page is gone), and how many asks
    // are under way: a slow server gets no second refresh on top of the first.
    let asked = use_mut_ref(|| None::<Question>);
    let in_flight = use_mut_ref(|| 0_u32);

    {
        let (tick, asked) = (tick.clone(), asked.clone());
        use_effect_with((), move |_| {
            let timer = Interval::new(REFRESH_MS, move || tick.dispatch(()));
            move || {
                drop(timer);
                asked.replace(None);
            }
        });
    }
    {
        let day = day.clone();
        let deps = (props.code.clone(), *picked, tick.0);
        use_effect_with(deps, move |(code, picked, _)| {
            let question = (code.clone(), *picked);
            let same = asked.borrow().as_ref() == Some(&question);
            if same && *in_flight.borrow() > 0 {
                return;
            }
            if !same {
                asked.replace(Some(question.clone()));
                day.dispatch(DayAction::Reset);
            }
            *in_flight.borrow_mut() += 1;
            wasm_bindgen_futures::spawn_local(async move {
                let answer = api::station_summary(&question.0, question.1).await;
                {
                    let mut n = in_flight.borrow_mut();
                    *n = n.saturating_sub(1);
                }
                // The page moved on to another station or day, or is gone.
                if asked.borrow().as_ref() != Some(&question) {
                    return;
                }
                day.dispatch(match answer {
                    Ok(summary) => DayAction::Loaded(summary, wall_clock()),
                    Err(e) if e.is_not_found() => DayAction::NotFound,
                    Err(e) => {
                        web_sys::console::warn_1(&format!("station summary: {e}").into());
                        DayAction::Failed(e)
                    }
                });
            });
        });
    }

    let retry = {
        let tick = tick.clone();
        Callback::from(move |_: MouseEvent| tick.dispatch(()))
    };
    let on_date = {
        let picked = picked.clone();
        Callback::from(move |e: Event| {
            let value = e.target_dyn_into::<HtmlInputElement>().map(|i| i.value());
            picked.set(value.and_then(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok()));
        })
    };
    let on_today = {
        let picked = picked.clone();
        Callback::from(move |_: MouseEvent| picked.set(None))
    };

    let shown_date = (*picked).or_else(|| day.summary.as_ref().map(|s| s.date));
    let head = heading(
        lang,
        &props.code,
        &day,
        shown_date,
        picked.is_some(),
        on_date,
        on_today,
    );
    let body = match (&day.summary, day.not_found, &day.error) {
        (_, true, _) => html! {
            <p class="notice bad" id="station-not-found">
                { lang.t(Key::StationNotFound) }{ "：" }{ props.code.clone() }
            </p>
        },
        (Some(summary), _, _) => html! {
            <>
                { kpis(lang, summary) }
                <div class="st-body">
                    <aside class="panel st-rules">
                        <h2>{ lang.t(Key::RefusalsByRule) }</h2>
                        <RuleChart counts={summary.refusals_by_rule.clone()} />
                    </aside>
                    <div class="st-main">
                        <div class="panel st-guns">
                            <h2>{ lang.t(Key::GunDecisions) }</h2>
                            <GunPanel recent={day.recent.clone()} />
                        </div>
                        <div class="panel st-recent">
                            <h2>
                                { lang.t(Key::RecentDecisions) }
                                <small>{ format!(" · {}", day.recent.len()) }</small>
                            </h2>
                            <div class="cyl-scroll"><DecisionTable recent={day.recent.clone()} /></div>
                        </div>
                    </div>
                </div>
            </>
        },
        (None, _, Some(e)) => html! {
            <p class="notice bad" data-code={e.name()}>
                { errors::failed(lang, Key::LoadFailed, e) }{ " " }
                <button class="lang" onclick={retry}>{ lang.t(Key::Retry) }</button>
            </p>
        },
        (None, _, None) => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
    };
    html! {
        <section id="station-page" class="station" data-code={props.code.clone()}
            data-date={shown_date.map(date)}>
            { head }
            <StationRecord code={props.code.clone()} />
            { body }
        </section>
    }
}

/// The strip above everything: the station, the day, and how fresh the numbers are.
fn heading(
    lang: Lang,
    code: &str,
    day: &StationDay,
    shown_date: Option<NaiveDate>,
    picked: bool,
    on_date: Callback<Event>,
    on_today: Callback<MouseEvent>,
) -> Html {
    let name = day.summary.as_ref().map(|s| s.station_name.clone());
    let stale = match (&day.error, &day.fetched_at) {
        (Some(error), Some(at)) => Some((
            errors::describe(lang, error),
            lang.t(Key::RefreshFailed).replace("{time}", at),
        )),
        _ => None,
    };
    html! {
        <div class="cyl-summary st-summary">
            <div class="st-id">
                <span class="st-name" id="station-name">{ name.unwrap_or_else(|| code.to_owned()) }</span>
                <span class="st-code">{ code.to_owned() }</span>
                <span class="st-what">{ lang.t(Key::FillingControl) }</span>
            </div>
            <label class="cyl-fact">
                <span class="cyl-label">{ lang.t(Key::Date) }</span>
                <input id="station-date" class="date-input" type="date"
                    value={shown_date.map(date).unwrap_or_default()} onchange={on_date} />
            </label>
            if picked {
                <button id="station-today" class="lang" type="button" onclick={on_today}>
                    { lang.t(Key::Today) }
                </button>
            }
            <span class="st-updated">
                if let Some((error, text)) = stale {
                    <span id="station-stale" class="st-stale" title={error}>{ text }</span>
                } else if let Some(at) = &day.fetched_at {
                    <span class="cyl-label">{ lang.t(Key::UpdatedAt) }</span>{ " " }
                    <span id="station-updated">{ at.clone() }</span>
                }
            </span>
        </div>
    }
}

/// The day's counts, one tile each; what needs attention is coloured.
fn kpis(lang: Lang, s: &StationFillingSummary) -> Html {
    let tone = |bad: bool, class: &'static str| if bad { classes!(class) } else { classes!() };
    let late_detail = s.max_late_s.map(|max| {
        let mean = s.mean_late_s.map_or_else(|| "—".to_owned(), number);
        AttrValue::from(
            lang.t(Key::LateDetail)
                .replace("{max}", &number(max))
                .replace("{mean}", &mean),
        )
    });
    html! {
        <div class="kpis st-kpis">
            <Kpi id="kpi-decisions" label={lang.t(Key::KpiDecisions)} value={s.decisions.to_string()} />
            <Kpi id="kpi-allowed" label={lang.t(Key::KpiAllowed)} value={s.allowed.to_string()}
                class={tone(s.allowed > 0, "ok")} />
            <Kpi id="kpi-refused" label={lang.t(Key::KpiRefused)} value={s.refused.to_string()}
                class={tone(s.refused > 0, "bad")} />
            <Kpi id="kpi-illegal-tags" label={lang.t(Key::KpiIllegalTags)} value={s.illegal_tags.to_string()}
                class={tone(s.illegal_tags > 0, "bad")} />
            <Kpi id="kpi-fillings" label={lang.t(Key::KpiFillings)} value={s.fillings.to_string()} />
            <Kpi id="kpi-flagged-fillings" label={lang.t(Key::KpiFlaggedFillings)}
                value={s.flagged_fillings.to_string()} class={tone(s.flagged_fillings > 0, "warn")} />
            <Kpi id="kpi-late-records" label={lang.t(Key::KpiLateRecords)} value={s.late_records.to_string()}
                detail={late_detail} class={tone(s.late_records > 0, "warn")} />
        </div>
    }
}

/// The browser's clock now, `HH:MM:SS` in Beijing time (`chrono` has no clock in the browser
/// build).
fn wall_clock() -> String {
    let now = js_sys::Date::new_0();
    let hours = (now.get_utc_hours() + 8) % 24;
    format!(
        "{hours:02}:{:02}:{:02}",
        now.get_utc_minutes(),
        now.get_utc_seconds()
    )
}
