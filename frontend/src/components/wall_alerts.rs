//! The wall's live alert feed: unresolved alerts, newest activity first, each acknowledged in
//! place (a critical one with a note, as the server requires), each leading to its subject's
//! page, its enterprise's statistics or the duty console. A critical alert that arrives or is
//! escalated flashes until someone handles it, and beeps unless the sound is off.

use crate::app::Route;
use crate::beep;
use crate::components::open_incident::OpenIncident;
use crate::errors;
use crate::format::moment;
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use crate::services::api::{self, ApiError};
use crate::session::{use_session, Session};
use crate::state::{LiveAction, LiveContext};
use shared::alert::{Alert, AlertStatus, Severity};
use shared::auth::{LoginRequest, Role};
use shared::live::LiveMessage;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// How many alerts the wall lists (the duty console has all of them).
const SHOWN: usize = 40;

/// Where the sound choice is kept: the duty console's key, so one choice holds for both.
const MUTE_KEY: &str = "cylwatch.alerts.muted";

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

/// What of an alert the feed shows; the list is rebuilt only when one of these changes.
type Signature = (Uuid, AlertStatus, Severity, i64, String, bool);

fn signature(a: &Alert) -> Signature {
    (
        a.id,
        a.status,
        a.severity,
        a.count,
        a.last_seen_at.to_rfc3339(),
        a.escalated_at.is_some(),
    )
}

/// A critical alert worth a flash and a beep: new, newly critical, or newly escalated.
fn is_news(before: Option<&(Severity, bool)>, now: &Alert) -> bool {
    if now.severity != Severity::Critical || now.status != AlertStatus::Open {
        return false;
    }
    match before {
        None => true,
        Some((severity, escalated)) => {
            *severity != Severity::Critical || (!escalated && now.escalated_at.is_some())
        }
    }
}

/// The feed.
#[component]
pub fn WallAlerts() -> Html {
    let lang = use_lang().lang;
    let live = use_context::<LiveContext>();
    let muted = use_state(load_muted);
    let flashing = use_state(HashSet::<Uuid>::new);
    let beeps = use_state(|| 0_u32);
    let open_card = use_state(|| None::<Uuid>);

    // The unresolved alerts, newest first, rebuilt only when one of them changed.
    let cache = use_mut_ref(|| {
        (
            Vec::<Signature>::new(),
            Rc::new(Vec::<Rc<Alert>>::new()),
            0_u64,
        )
    });
    let (list, generation, total) = {
        let mut cache = cache.borrow_mut();
        let mut total = 0;
        if let Some(live) = &live {
            let alerts = live.alerts.borrow();
            total = alerts.len();
            let mut sig: Vec<Signature> = alerts.values().map(signature).collect();
            sig.sort_unstable_by_key(|s| s.0);
            if sig != cache.0 {
                let mut all: Vec<Rc<Alert>> = alerts.values().cloned().map(Rc::new).collect();
                all.sort_by(|a, b| {
                    b.last_seen_at
                        .cmp(&a.last_seen_at)
                        .then_with(|| b.id.cmp(&a.id))
                });
                *cache = (sig, Rc::new(all), cache.2.wrapping_add(1));
            }
        }
        (cache.1.clone(), cache.2, total)
    };
    let snapshot_seen = live.as_ref().is_some_and(|l| l.last_update.is_some());

    // Critical news since the wall opened (what was there at first is taken as known).
    let known = use_mut_ref(|| None::<HashMap<Uuid, (Severity, bool)>>);
    {
        let (flashing, beeps, muted, list) =
            (flashing.clone(), beeps.clone(), muted.clone(), list.clone());
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
            // Flashing only what is still open and listed: the set cannot outgrow the feed.
            let mut next: HashSet<Uuid> = list
                .iter()
                .filter(|a| a.status == AlertStatus::Open && flashing.contains(&a.id))
                .map(|a| a.id)
                .collect();
            let news = !arrived.is_empty();
            next.extend(arrived);
            if next != *flashing {
                flashing.set(next);
            }
            if news && !*muted {
                beeps.set(beeps.wrapping_add(1));
                beep::beep();
            }
        });
    }

    let on_handled = {
        let (live, flashing, open_card) = (live.clone(), flashing.clone(), open_card.clone());
        Callback::from(move |alert: Alert| {
            let mut next = (*flashing).clone();
            next.remove(&alert.id);
            flashing.set(next);
            open_card.set(None);
            if let Some(live) = &live {
                live.dispatch(LiveAction::Message(LiveMessage::Alert(Box::new(alert))));
            }
        })
    };
    let on_sound = {
        let muted = muted.clone();
        Callback::from(move |_: MouseEvent| {
            beep::unlock();
            store_muted(!*muted);
            muted.set(!*muted);
        })
    };
    let sound_key = if *muted { Key::SoundOff } else { Key::SoundOn };
    let critical = list
        .iter()
        .filter(|a| a.severity == Severity::Critical && a.status == AlertStatus::Open)
        .count();
    html! {
        <div class="panel wall-alerts" id="wall-alerts" onclick={Callback::from(|_: MouseEvent| beep::unlock())}
            data-beeps={beeps.to_string()} data-count={total.to_string()}>
            <h2>
                { lang.t(Key::AlertFeed) }
                <small>{ format!(" · {total}") }</small>
                if critical > 0 {
                    <span class="wall-critical" id="wall-critical">{ format!("{} {critical}", lang.t(Key::CriticalCount)) }</span>
                }
                <button id="wall-sound" class={classes!("lang", "sound", muted.then_some("muted"))}
                    type="button" data-muted={muted.to_string()} onclick={on_sound}>
                    { lang.t(sound_key) }
                </button>
                <Link<Route> to={Route::Alerts} classes="wall-more">{ lang.t(Key::OpenDutyConsole) }</Link<Route>>
            </h2>
            if list.is_empty() {
                <p class="notice" id="wall-alerts-empty">{ lang.t(Key::NoAlerts) }</p>
            } else {
                <ul class="wall-alert-list">
                    { for list.iter().take(SHOWN).map(|a| {
                        let id = a.id;
                        let expanded = *open_card == Some(id);
                        let toggle = {
                            let open_card = open_card.clone();
                            Callback::from(move |_: MouseEvent| {
                                open_card.set(if expanded { None } else { Some(id) });
                            })
                        };
                        html! {
                            <WallAlertCard key={id.to_string()} alert={a.clone()} {expanded}
                                flash={flashing.contains(&id)} on_toggle={toggle}
                                on_handled={on_handled.clone()} />
                        }
                    }) }
                </ul>
            }
        </div>
    }
}

/// Card properties.
#[derive(Properties, PartialEq)]
struct CardProps {
    alert: Rc<Alert>,
    expanded: bool,
    flash: bool,
    on_toggle: Callback<MouseEvent>,
    on_handled: Callback<Alert>,
}

/// One alert; opened, it shows the note field, the acknowledge button and the way to its pages.
#[component]
fn WallAlertCard(props: &CardProps) -> Html {
    let lang = use_lang().lang;
    let note = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let a = &props.alert;
    let on_note = {
        let note = note.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                note.set(input.value());
            }
        })
    };
    // A wall signed in as its display may not act: the person at it signs in for the action.
    let session = use_session();
    let display = matches!(&session.session, Session::SignedIn(u) if u.role == Role::Display);
    let person = use_node_ref();
    let secret = use_node_ref();
    let ack = {
        let (note, busy, error) = (note.clone(), busy.clone(), error.clone());
        let (id, on_handled) = (a.id, props.on_handled.clone());
        let (person, secret) = (person.clone(), secret.clone());
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (note, busy, error, on_handled) = (
                note.clone(),
                busy.clone(),
                error.clone(),
                on_handled.clone(),
            );
            let login = display.then(|| {
                let read = |r: &NodeRef| {
                    r.cast::<HtmlInputElement>()
                        .map(|i| i.value())
                        .unwrap_or_default()
                };
                LoginRequest {
                    username: read(&person).trim().to_owned(),
                    password: read(&secret),
                }
            });
            if let Some(input) = secret.cast::<HtmlInputElement>() {
                input.set_value("");
            }
            wasm_bindgen_futures::spawn_local(async move {
                let answer = match &login {
                    Some(login) => api::acknowledge_alert_as_person(id, note.trim(), login).await,
                    None => api::acknowledge_alert(id, note.trim()).await,
                };
                busy.set(false);
                match answer {
                    Ok(alert) => {
                        note.set(String::new());
                        on_handled.emit(alert);
                    }
                    Err(e) => {
                        web_sys::console::warn_1(&format!("alert {id}: {e}").into());
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let stop = Callback::from(|e: MouseEvent| e.stop_propagation());
    let class = classes!(
        "wall-alert",
        format!("sev-{}", a.severity.name()),
        format!("is-{}", a.status.name()),
        props.flash.then_some("flash"),
        props.expanded.then_some("expanded"),
    );
    let critical = a.severity == Severity::Critical;
    html! {
        <li {class} data-id={a.id.to_string()} data-severity={a.severity.name()}
            data-status={a.status.name()} data-flash={props.flash.to_string()}
            onclick={props.on_toggle.clone()}>
            <div class="wall-alert-head">
                <span class={classes!("sev-chip", format!("sev-{}", a.severity.name()))}>
                    { labels::severity(lang, a.severity) }
                </span>
                <span class="alert-kind">{ labels::alert_kind(lang, a.kind) }</span>
                <span class="wall-alert-where">{ place(lang, a) }</span>
                if a.count > 1 {
                    <span class="alert-count">{ format!("×{}", a.count) }</span>
                }
                <time class="alert-time">{ moment(&a.last_seen_at) }</time>
                <span class={classes!("status-chip", a.status.name())}>{ labels::alert_status(lang, a.status) }</span>
            </div>
            if props.expanded {
                <div class="wall-alert-body" onclick={stop}>
                    <div class="wall-alert-links">
                        { subject_link(lang, a) }
                        if let Some(code) = &a.enterprise_code {
                            <Link<Route> to={Route::StatsEnterprise { code: code.to_string() }} classes="wall-link-enterprise">
                                { lang.t(Key::LevelEnterprise) }{ " " }{ code.clone() }
                            </Link<Route>>
                            <Link<Route> to={Route::Enterprise { code: code.to_string() }} classes="wall-link-profile">
                                { lang.t(Key::EnterpriseProfile) }
                            </Link<Route>>
                        }
                        <Link<Route> to={Route::Alerts} classes="wall-link-console">{ lang.t(Key::OpenDutyConsole) }</Link<Route>>
                        <OpenIncident alert={a.clone()} />
                    </div>
                    if a.status == AlertStatus::Open {
                        <div class="wall-ack">
                            if display {
                                <input ref={person} class="wall-person" type="text" autocomplete="off"
                                    placeholder={lang.t(Key::Username)} disabled={*busy} />
                                <input ref={secret} class="wall-secret" type="password" autocomplete="off"
                                    placeholder={lang.t(Key::Password)} disabled={*busy} />
                            }
                            <input class="wall-note" type="text" value={(*note).clone()} oninput={on_note}
                                placeholder={lang.t(if critical { Key::NoteRequired } else { Key::NoteOptional })}
                                disabled={*busy} />
                            <button class="act ack wall-ack-button" type="button" disabled={*busy} onclick={ack}>
                                { lang.t(Key::Acknowledge) }
                            </button>
                        </div>
                    } else if let Some(h) = &a.ack {
                        <div class="alert-card-note">{ format!("{} · {}", h.by, h.note) }</div>
                    }
                    if let Some(e) = &*error {
                        <p class="alert-error wall-ack-error" role="alert" data-code={e.name()}>
                            { errors::failed(lang, Key::ActionFailed, e) }
                        </p>
                    }
                </div>
            }
        </li>
    }
}

/// Where, in a few words: the place's name, else the subject.
fn place(lang: Lang, a: &Alert) -> String {
    a.place_name.clone().unwrap_or_else(|| {
        format!(
            "{} {}",
            labels::subject_type(lang, &a.subject.kind),
            a.subject.id
        )
    })
}

/// The subject's page, for the kinds that have one.
fn subject_link(lang: Lang, a: &Alert) -> Html {
    let code = a.subject.id.clone();
    let to = match a.subject.kind.as_str() {
        "cylinder" => Route::Cylinder { code: code.clone() },
        "station" => Route::Station { code: code.clone() },
        "enterprise" => Route::Enterprise { code: code.clone() },
        _ => return Html::default(),
    };
    html! {
        <Link<Route> {to} classes="wall-link-subject">
            { labels::subject_type(lang, &a.subject.kind) }{ " " }{ code }
        </Link<Route>>
    }
}
