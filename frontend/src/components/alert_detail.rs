//! One alert in full: what, about whom, where, since when, how often, who handled it, the
//! evidence as readable fields, and — for the roles that handle alerts — acknowledging and
//! resolving it with a note. The server judges the note (a critical alert's acknowledgement and
//! every resolution need one) and its refusal is shown from its code, in the user's language.

use crate::app::Route;
use crate::components::open_incident::OpenIncident;
use crate::errors;
use crate::format::second;
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use crate::services::api::{self, ApiError};
use serde_json::Value;
use shared::alert::{Alert, AlertStatus, Handling, Subject};
use std::rc::Rc;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// Detail properties.
#[derive(Properties, PartialEq)]
pub struct AlertDetailProps {
    pub alert: Rc<Alert>,
    /// Whether the signed-in user's role may acknowledge and resolve.
    pub can_handle: bool,
    /// The alert's new state after a handling the server accepted.
    pub on_handled: Callback<Alert>,
}

/// Which handling a button asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Acknowledge,
    Resolve,
}

/// The selected alert.
#[component]
pub fn AlertDetail(props: &AlertDetailProps) -> Html {
    let lang = use_lang().lang;
    let note = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let a = &props.alert;

    let on_note = {
        let note = note.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() {
                note.set(area.value());
            }
        })
    };
    let act = |step: Step| {
        let (note, busy, error) = (note.clone(), busy.clone(), error.clone());
        let (id, on_handled) = (a.id, props.on_handled.clone());
        Callback::from(move |_: MouseEvent| {
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
            wasm_bindgen_futures::spawn_local(async move {
                let text = note.trim().to_owned();
                let answer = match step {
                    Step::Acknowledge => api::acknowledge_alert(id, &text).await,
                    Step::Resolve => api::resolve_alert(id, &text).await,
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

    let actions = if !props.can_handle {
        html! { <p class="notice" id="alert-readonly">{ lang.t(Key::ReadOnly) }</p> }
    } else if a.status == AlertStatus::Resolved {
        html! {}
    } else {
        html! {
            <div class="alert-actions" id="alert-actions">
                <label class="cyl-label" for="alert-note">{ lang.t(Key::Note) }</label>
                <textarea id="alert-note" rows="2" value={(*note).clone()} oninput={on_note}
                    placeholder={lang.t(Key::NotePlaceholder)} disabled={*busy} />
                <div class="alert-buttons">
                    if a.status == AlertStatus::Open {
                        <button id="alert-ack" class="act ack" type="button" disabled={*busy}
                            onclick={act(Step::Acknowledge)}>{ lang.t(Key::Acknowledge) }</button>
                    }
                    <button id="alert-resolve" class="act resolve" type="button" disabled={*busy}
                        onclick={act(Step::Resolve)}>{ lang.t(Key::Resolve) }</button>
                    <OpenIncident alert={props.alert.clone()} />
                    if *busy {
                        <span class="cyl-label">{ lang.t(Key::Working) }{ "…" }</span>
                    }
                </div>
                if let Some(e) = &*error {
                    <p class="alert-error" id="alert-action-error" role="alert" data-code={e.name()}>
                        { refusal(lang, e) }
                    </p>
                }
            </div>
        }
    };

    let fact = |key: Key, value: Html| {
        html! {
            <div class="field"><dt>{ lang.t(key) }</dt><dd>{ value }</dd></div>
        }
    };
    let handled = |key: Key, h: &Option<Handling>, id: &'static str| {
        h.as_ref().map_or_else(Html::default, |h| {
            fact(
                key,
                html! {
                    <span id={id}>
                        <b>{ &h.by }</b>{ " · " }{ second(&h.at) }
                        <span class="alert-note-text">{ &h.note }</span>
                    </span>
                },
            )
        })
    };
    html! {
        <div class={classes!("alert-detail", format!("sev-{}", a.severity.name()))} id="alert-detail"
            data-id={a.id.to_string()} data-status={a.status.name()} data-severity={a.severity.name()}>
            <div class="alert-detail-head">
                <span class={classes!("sev-chip", format!("sev-{}", a.severity.name()))}>
                    { labels::severity(lang, a.severity) }
                </span>
                <span class="alert-detail-kind" id="alert-detail-kind">{ labels::alert_kind(lang, a.kind) }</span>
                <span class={classes!("status-chip", a.status.name())}>{ labels::alert_status(lang, a.status) }</span>
            </div>
            <div class="alert-main">
            <dl class="archive alert-facts">
                { fact(Key::AlertSubject, subject(lang, &a.subject)) }
                if let Some(code) = &a.enterprise_code {
                    { fact(Key::LevelEnterprise, html! {
                        <Link<Route> to={Route::Enterprise { code: code.to_string() }} classes="alert-enterprise">
                            { code.to_string() }
                        </Link<Route>>
                    }) }
                }
                if let Some(place) = &a.place_name {
                    { fact(Key::AlertPlace, html! { { place.clone() } }) }
                }
                { fact(Key::OpenedAt, html! { { second(&a.opened_at) } }) }
                { fact(Key::LastSeenAt, html! { { second(&a.last_seen_at) } }) }
                { fact(Key::AlertCount, html! { <span id="alert-count">{ a.count }</span> }) }
                if let Some(t) = &a.condition_ended_at {
                    { fact(Key::ConditionEnded, html! { { second(t) } }) }
                }
                if let Some(t) = &a.escalated_at {
                    { fact(Key::EscalatedAt, html! { <span class="bad">{ second(t) }</span> }) }
                }
                { handled(Key::AckedBy, &a.ack, "alert-ack-info") }
                { handled(Key::ResolvedBy, &a.resolution, "alert-resolution-info") }
            </dl>
            { actions }
            </div>
            <div class="alert-evidence-box">
                <h3>{ lang.t(Key::Evidence) }</h3>
                <div id="alert-evidence">{ evidence(lang, &a.evidence) }</div>
            </div>
        </div>
    }
}

/// The subject's type and id; a cylinder or a station links to its page.
fn subject(lang: Lang, s: &Subject) -> Html {
    let kind = labels::subject_type(lang, &s.kind);
    let code = s.id.clone();
    let link = match s.kind.as_str() {
        "cylinder" => Some(Route::Cylinder { code: code.clone() }),
        "station" => Some(Route::Station { code: code.clone() }),
        "enterprise" => Some(Route::Enterprise { code: code.clone() }),
        _ => None,
    };
    html! {
        <span id="alert-subject" data-type={s.kind.clone()} data-id={code.clone()}>
            { kind }{ " " }
            if let Some(to) = link {
                <Link<Route> {to}>{ code }</Link<Route>>
            } else {
                { code }
            }
        </span>
    }
}

/// Why the server refused, from its code (403 in this page's words: the buttons should not
/// have been there).
fn refusal(lang: Lang, e: &ApiError) -> String {
    match e {
        ApiError::Server { status: 403, .. } => format!(
            "{}{}{}",
            lang.t(Key::ActionFailed),
            errors::colon(lang),
            lang.t(Key::ReadOnly)
        ),
        _ => errors::failed(lang, Key::ActionFailed, e),
    }
}

/// The evidence as fields: labels for the fields this build knows, the rest as sent; nested
/// objects as nested fields; empty fields left out.
fn evidence(lang: Lang, v: &Value) -> Html {
    match v {
        Value::Object(map) if map.values().any(|v| !v.is_null()) => {
            let mut fields: Vec<(&String, &Value)> =
                map.iter().filter(|(_, v)| !v.is_null()).collect();
            fields.sort_by_key(|(k, _)| labels::evidence_rank(k));
            html! {
            <dl class="archive evidence">
                { for fields.into_iter().map(|(k, v)| html! {
                    <div class="field" data-key={k.clone()}>
                        <dt title={k.clone()}>{ labels::evidence_key(lang, k).unwrap_or(k) }</dt>
                        <dd>{ field(lang, k, v) }</dd>
                    </div>
                }) }
            </dl>
            }
        }
        Value::Object(_) | Value::Null => {
            html! { <p class="notice">{ lang.t(Key::NoEvidence) }</p> }
        }
        other => html! { <p>{ scalar(lang, other) }</p> },
    }
}

fn field(lang: Lang, key: &str, v: &Value) -> Html {
    match v {
        Value::Object(_) => evidence(lang, v),
        // A gun's refusal: each rule with its message, as the station view says it.
        Value::Array(items) if key == "reasons" => html! {
            <ul class="evidence-list">
                { for items.iter().map(|r| {
                    let rule = r["rule"].as_str().unwrap_or_default();
                    let message = r["message"].as_str().unwrap_or_default();
                    html! { <li><b>{ rule }</b>{ " " }{ labels::refusal(lang, rule, message) }</li> }
                }) }
            </ul>
        },
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let joined = items.iter().map(|i| scalar(lang, i)).collect::<Vec<_>>();
            html! { { joined.join("、") } }
        }
        Value::Array(items) => html! {
            <ol class="evidence-list">
                { for items.iter().map(|i| html! { <li>{ evidence(lang, i) }</li> }) }
            </ol>
        },
        Value::String(code) if key == "cylinder_code" => html! {
            <Link<Route> to={Route::Cylinder { code: code.clone() }}>{ code.clone() }</Link<Route>>
        },
        other => html! { { scalar(lang, other) } },
    }
}

/// A single value: instants in Beijing time, numbers without trailing zeros, yes/no.
fn scalar(lang: Lang, v: &Value) -> String {
    match v {
        Value::Bool(b) => lang.t(if *b { Key::Yes } else { Key::No }).to_owned(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), decimal),
        Value::String(s) => {
            chrono::DateTime::parse_from_rfc3339(s).map_or_else(|_| s.clone(), |t| second(&t))
        }
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

/// A number with at most six decimals and no trailing zeros: coordinates keep their precision,
/// a computed mass loses its float noise (16.000000000000004 → 16).
fn decimal(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
