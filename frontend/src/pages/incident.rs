//! One incident (`/incidents/{id}`), run from a desk: its header with the status buttons
//! (forward only, and reopening), the timeline with a note box, the context (the cylinder and
//! its chain, what is nearby within a chosen radius, the batch) refreshed on demand, a recall
//! of the batch, and the recalls' progress.

use crate::app::Route;
use crate::components::incident_context::ContextView;
use crate::components::incident_tasks::{AssignTask, TaskList};
use crate::components::incident_timeline::IncidentTimeline;
use crate::components::recall_progress::RecallList;
use crate::errors;
use crate::format::minute;
use crate::i18n::{use_lang, Key};
use crate::incident_text::{self as text, STATUSES, T};
use crate::pages::incidents::{place, use_districts, use_role, value_of, HANDLERS, RECALLERS};
use crate::services::api::{ApiError, Fetch};
use crate::services::incidents::{self, DEFAULT_RADIUS_M, RADII};
use crate::session::{use_session, Session};
use crate::state::LiveContext;
use shared::incident::{Incident, IncidentContext, IncidentStatus, Transition};
use shared::recall::NewRecall;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// The props of a page about one incident.
#[derive(Properties, PartialEq)]
pub struct IncidentPageProps {
    pub id: String,
}

/// The page.
#[component]
pub fn IncidentPage(props: &IncidentPageProps) -> Html {
    let lang = use_lang().lang;
    let Ok(id) = uuid::Uuid::parse_str(&props.id) else {
        return html! { <p class="notice" id="incident-missing">{ T::NotFound.t(lang) }</p> };
    };
    html! { <IncidentDesk {id} /> }
}

#[derive(Properties, PartialEq)]
struct DeskProps {
    id: uuid::Uuid,
}

#[component]
fn IncidentDesk(props: &DeskProps) -> Html {
    let lang = use_lang().lang;
    let id = props.id;
    let role = use_role();
    let session = use_session();
    let incident = use_state(|| Fetch::<Rc<Incident>>::Loading);
    // Asked again after a change made here that answers something else (a task, a recall).
    let asked = use_state(|| 0_u32);
    {
        let incident = incident.clone();
        use_effect_with((id, *asked), move |(id, _)| {
            let id = *id;
            wasm_bindgen_futures::spawn_local(async move {
                incident.set(incidents::get(id).await.map(Rc::new).into());
            });
        });
    }
    // Every change by anyone comes on the live `incident` topic.
    let live = use_context::<LiveContext>();
    let live_now = live
        .as_ref()
        .and_then(|l| l.incidents.borrow().get(&id).cloned());
    let on_changed = {
        let incident = incident.clone();
        Callback::from(move |i: Incident| incident.set(Fetch::Ready(Rc::new(i))))
    };
    let reload = {
        let asked = asked.clone();
        Callback::from(move |()| asked.set(*asked + 1))
    };
    let incident = match &*incident {
        Fetch::Loading => return html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
        Fetch::NotFound => {
            return html! { <p class="notice" id="incident-missing">{ T::NotFound.t(lang) }</p> }
        }
        Fetch::Failed(e) => {
            return html! { <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p> }
        }
        Fetch::Ready(i) => {
            incidents::freshest(&[live_now.as_ref(), Some(i)]).unwrap_or_else(|| i.clone())
        }
    };
    let handles = role.is_some_and(|r| HANDLERS.contains(&r));
    let recalls = role.is_some_and(|r| RECALLERS.contains(&r));
    let enterprise = match &session.session {
        Session::SignedIn(u) => u.enterprise_code.clone(),
        _ => None,
    };
    let may_ack = enterprise.is_some_and(|e| incident.unacknowledged.contains(&e));
    html! {
        <section class="incident-page" id="incident-page" data-id={id.to_string()}
            data-status={incident.status.name()}>
            <div class="panel incident-head">
                <IncidentHeader incident={incident.clone()} {handles} {may_ack} on_changed={on_changed.clone()} />
            </div>
            <div class="panel incident-timeline-panel">
                <h2>{ T::Timeline.t(lang) }</h2>
                <IncidentTimeline entries={Rc::new(incident.timeline.clone())} />
                if handles {
                    <NoteBox {id} on_changed={on_changed} />
                }
            </div>
            <div class="panel incident-context-panel">
                <ContextDesk {id} may_recall={recalls} on_recalled={reload.clone()} />
            </div>
            <div class="panel incident-tasks-panel" id="incident-tasks">
                <h2>{ T::Tasks.t(lang) }</h2>
                <TaskList incident={incident.clone()} may_update={handles} on_changed={reload.clone()} />
                if handles && incident.status != IncidentStatus::Closed {
                    <AssignTask incident={id} on_changed={reload} />
                }
            </div>
            <div class="panel incident-recalls-panel">
                <h2>{ T::Recalls.t(lang) }</h2>
                <RecallList recalls={Rc::new(incident.recalls.clone())} />
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct HeaderProps {
    incident: Rc<Incident>,
    handles: bool,
    /// The user's enterprise has yet to acknowledge it.
    may_ack: bool,
    on_changed: Callback<Incident>,
}

/// Kind, level, status and where; the status buttons for those who handle incidents.
#[component]
fn IncidentHeader(props: &HeaderProps) -> Html {
    let lang = use_lang().lang;
    let districts = use_districts();
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let i = &props.incident;
    let move_to = |to: IncidentStatus| {
        let (busy, error, on_changed, id) =
            (busy.clone(), error.clone(), props.on_changed.clone(), i.id);
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (busy, error, on_changed) = (busy.clone(), error.clone(), on_changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = incidents::set_status(id, to, None).await;
                busy.set(false);
                match answer {
                    Ok(i) => on_changed.emit(i),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let buttons = next_steps(i.status);
    let ack = {
        let (busy, error, on_changed, id) =
            (busy.clone(), error.clone(), props.on_changed.clone(), i.id);
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (busy, error, on_changed) = (busy.clone(), error.clone(), on_changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = incidents::ack(id).await;
                busy.set(false);
                match answer {
                    Ok(i) => on_changed.emit(i),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <>
            <h1 class="incident-title">
                <span class={classes!("level-chip", format!("level-{}", i.level.name()))} id="incident-level"
                    data-level={i.level.name()}>{ text::level(lang, i.level) }</span>
                <span id="incident-kind" data-kind={i.kind.name()}>{ text::kind(lang, i.kind) }</span>
                <span class={classes!("status-chip", i.status.name())} id="incident-status"
                    data-status={i.status.name()}>{ text::status(lang, i.status) }</span>
            </h1>
            <p class="incident-description" id="incident-description">{ &i.description }</p>
            <dl class="incident-facts">
                <dt>{ T::Place.t(lang) }</dt><dd id="incident-place" data-district={i.district_code.as_ref().map(ToString::to_string)}>{ place(i, &districts) }</dd>
                <dt>{ T::OpenedAt.t(lang) }</dt><dd>{ format!("{} · {}", minute(&i.opened_at), i.opened_by) }</dd>
                if let Some(code) = &i.cylinder_code {
                    <dt>{ T::CylinderCode.t(lang) }</dt>
                    <dd><Link<Route> to={Route::Cylinder { code: code.to_string() }}>{ code.to_string() }</Link<Route>></dd>
                }
                if !i.enterprise_codes.is_empty() {
                    <dt>{ T::Enterprise.t(lang) }</dt><dd>{ i.enterprise_codes.join("、") }</dd>
                }
                if let Some(c) = &i.caller {
                    <dt>{ T::Caller.t(lang) }</dt><dd>{ format!("{} {}", c.name, c.phone) }</dd>
                }
                if !i.acks.is_empty() {
                    <dt>{ T::Acks.t(lang) }</dt>
                    <dd id="incident-acks">{ i.acks.iter().map(|a| format!("{} · {} {}", a.enterprise_code, a.by, minute(&a.at))).collect::<Vec<_>>().join("；") }</dd>
                }
                if !i.unacknowledged.is_empty() {
                    <dt>{ T::Unacknowledged.t(lang) }</dt>
                    <dd id="incident-unacknowledged">{ i.unacknowledged.join("、") }</dd>
                }
            </dl>
            if props.may_ack {
                <button type="button" class="act" id="incident-ack" disabled={*busy} onclick={ack}>
                    { T::Acknowledge.t(lang) }
                </button>
            }
            if props.handles {
                <div class="incident-buttons">
                    { for buttons.iter().map(|(to, how)| {
                        let (id, label) = match how {
                            Transition::Forward => (format!("incident-to-{}", to.name()), text::status_action(lang, *to)),
                            Transition::Reopen => ("incident-reopen".to_owned(), T::Reopen.t(lang)),
                        };
                        html! {
                            <button type="button" class="act" {id} data-status={to.name()}
                                disabled={*busy} onclick={move_to(*to)}>{ label }</button>
                        }
                    }) }
                </div>
            }
            if i.status == IncidentStatus::Closed {
                <Link<Route> to={Route::IncidentReport { id: i.id.to_string() }} classes="act incident-report-link">
                    { T::Report.t(lang) }
                </Link<Route>>
            }
            if let Some(e) = &*error {
                <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::ActionFailed, e) }</p>
            }
        </>
    }
}

/// The status buttons an incident in `status` shows: each step forward, and reopening.
pub fn next_steps(status: IncidentStatus) -> Vec<(IncidentStatus, Transition)> {
    STATUSES
        .iter()
        .filter_map(|to| status.transition(*to).map(|how| (*to, how)))
        .collect()
}

#[derive(Properties, PartialEq)]
struct NoteProps {
    id: uuid::Uuid,
    on_changed: Callback<Incident>,
}

/// A note for the timeline.
#[component]
fn NoteBox(props: &NoteProps) -> Html {
    let lang = use_lang().lang;
    let input = use_node_ref();
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let add = {
        let (input, busy, error, on_changed, id) = (
            input.clone(),
            busy.clone(),
            error.clone(),
            props.on_changed.clone(),
            props.id,
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let note = value_of(&input);
            busy.set(true);
            error.set(None);
            let (input, busy, error, on_changed) = (
                input.clone(),
                busy.clone(),
                error.clone(),
                on_changed.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer = incidents::note(id, note.trim()).await;
                busy.set(false);
                match answer {
                    Ok(i) => {
                        if let Some(t) = input.cast::<web_sys::HtmlTextAreaElement>() {
                            t.set_value("");
                        }
                        on_changed.emit(i);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <form class="incident-note" onsubmit={add}>
            <textarea ref={input} id="incident-note" rows="2" placeholder={T::NoteBox.t(lang)} disabled={*busy} />
            <button type="submit" class="act" id="incident-note-add" disabled={*busy}>{ T::AddNote.t(lang) }</button>
            if let Some(e) = &*error {
                <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::ActionFailed, e) }</p>
            }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct ContextDeskProps {
    id: uuid::Uuid,
    may_recall: bool,
    on_recalled: Callback<()>,
}

/// The context with its radius and refresh, and the recall of its batch.
#[component]
fn ContextDesk(props: &ContextDeskProps) -> Html {
    let lang = use_lang().lang;
    let radius = use_state(|| DEFAULT_RADIUS_M);
    let asked = use_state(|| 0_u32);
    let context = use_state(|| Fetch::<Rc<IncidentContext>>::Loading);
    {
        let context = context.clone();
        let id = props.id;
        use_effect_with((*radius, *asked), move |(radius, _)| {
            let radius = *radius;
            context.set(Fetch::Loading);
            wasm_bindgen_futures::spawn_local(async move {
                context.set(incidents::context(id, radius).await.map(Rc::new).into());
            });
        });
    }
    let on_radius = {
        let radius = radius.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
                if let Ok(r) = s.value().parse() {
                    radius.set(r);
                }
            }
        })
    };
    let refresh = {
        let asked = asked.clone();
        Callback::from(move |_: MouseEvent| asked.set(*asked + 1))
    };
    html! {
        <>
            <h2>
                { T::Context.t(lang) }
                <span class="context-tools">
                    <label>{ T::Radius.t(lang) }
                        <select id="context-radius" onchange={on_radius}>
                            { for RADII.iter().map(|r| html! {
                                <option value={r.to_string()} selected={*r == *radius}>{ format!("{r} m") }</option>
                            }) }
                        </select>
                    </label>
                    <button type="button" class="act" id="context-refresh" onclick={refresh}>{ T::Refresh.t(lang) }</button>
                </span>
            </h2>
            { match &*context {
                Fetch::Loading => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
                Fetch::NotFound => html! { <p class="notice">{ T::NotFound.t(lang) }</p> },
                Fetch::Failed(e) => html! {
                    <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
                },
                Fetch::Ready(c) => html! {
                    <>
                        <ContextView context={c.clone()} />
                        if props.may_recall {
                            <RecallForm id={props.id} context={c.clone()} on_recalled={props.on_recalled.clone()} />
                        }
                    </>
                },
            } }
        </>
    }
}

/// How many cylinders a recall from the context takes: the implicated cylinder and its whole
/// batch (the server recalls the batch by its definition, `incident_batch`, not by the codes
/// the context lists: those are only its first page). `None` without an implicated cylinder.
pub fn recall_count(c: &IncidentContext) -> Option<i64> {
    c.chain.as_ref()?;
    Some(1 + c.batch.filled_total + c.batch.production_total)
}

/// The recall's request: the incident's batch.
pub fn new_recall(reason: &str, incident: uuid::Uuid) -> NewRecall {
    NewRecall {
        reason: reason.trim().to_owned(),
        incident_id: Some(incident),
        cylinder_codes: None,
        station_code: None,
        filled_from: None,
        filled_to: None,
        manufacturer: None,
        production_batch: None,
        incident_batch: Some(true),
    }
}

#[derive(Properties, PartialEq)]
struct RecallFormProps {
    id: uuid::Uuid,
    context: Rc<IncidentContext>,
    on_recalled: Callback<()>,
}

/// Issues a recall of the batch.
#[component]
fn RecallForm(props: &RecallFormProps) -> Html {
    let lang = use_lang().lang;
    let reason = use_node_ref();
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let done = use_state(|| None::<i64>);
    let Some(count) = recall_count(&props.context) else {
        return html! {};
    };
    let what = format!("{count} {}", T::Cylinders.t(lang));
    let issue = {
        let (reason, busy, error, done) =
            (reason.clone(), busy.clone(), error.clone(), done.clone());
        let (id, on_recalled) = (props.id, props.on_recalled.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let new = new_recall(&value_of(&reason), id);
            busy.set(true);
            error.set(None);
            let (busy, error, done, on_recalled) = (
                busy.clone(),
                error.clone(),
                done.clone(),
                on_recalled.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer = incidents::recall(&new).await;
                busy.set(false);
                match answer {
                    Ok(created) => {
                        done.set(Some(created.count));
                        on_recalled.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <form class="recall-form" id="recall-form" onsubmit={issue}>
            <h3>{ T::IssueRecall.t(lang) }<small id="recall-set">{ what }</small></h3>
            <input ref={reason} id="recall-reason" type="text" value={T::RecallReasonDefault.t(lang)}
                aria-label={T::RecallReason.t(lang)} disabled={*busy} />
            <button type="submit" class="act" id="recall-issue" disabled={*busy}>{ T::IssueRecall.t(lang) }</button>
            if let Some(n) = *done {
                <span class="recall-done" id="recall-done" data-count={n.to_string()}>
                    { format!("{} {n}", T::Recalled.t(lang)) }
                </span>
            }
            if let Some(e) = &*error {
                <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::ActionFailed, e) }</p>
            }
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use shared::incident::{Batch, BatchCylinder, Chain, LastFilling, Nearby};

    fn context(batch: &[&str], station: Option<&str>) -> IncidentContext {
        let at = DateTime::parse_from_rfc3339("2026-12-06T10:00:00+08:00").unwrap();
        IncidentContext {
            cylinder: None,
            chain: Some(Chain {
                last_filling: Some(LastFilling {
                    station_code: station.map(|s| s.parse().unwrap()),
                    station_name: None,
                    gun_no: None,
                    staff_no: None,
                    staff_name: None,
                    certificate_no: None,
                    certificate_expires: None,
                    started_at: None,
                    ended_at: at,
                    mass_before_kg: None,
                    mass_after_kg: None,
                    flags: vec![],
                    decision_allowed: None,
                    decision_rules: vec![],
                    medium: None,
                }),
                vehicle_plate: None,
                driver_staff_no: None,
                delivered_at: None,
                customer_code: None,
                customer: None,
                checks: vec![],
                inspections: vec![],
                alerts: vec![],
                incidents: vec![],
            }),
            nearby: Nearby {
                center: None,
                radius_m: 500.0,
                sites: vec![],
                vehicles: vec![],
                cylinders: vec![],
                sites_total: 0,
                vehicles_total: 0,
                cylinders_total: 0,
            },
            batch: Batch {
                cylinders: batch
                    .iter()
                    .map(|c| BatchCylinder {
                        code: (*c).to_owned(),
                        owner_enterprise_code: "ENT1".parse().unwrap(),
                        why: "filling".into(),
                        gun_no: None,
                        staff_no: None,
                        filled_at: None,
                    })
                    .collect(),
                by_gun: vec![],
                by_filler: vec![],
                filled_total: 2,
                production_total: 0,
                window: None,
                production: None,
            },
            assembled_at: at,
            limit: 100,
        }
    }

    #[test]
    fn a_recall_takes_the_cylinder_and_its_whole_batch_not_the_page() {
        let mut c = context(&["B1", "B2"], Some("ST1"));
        c.batch.filled_total = 180;
        c.batch.production_total = 499;
        assert_eq!(recall_count(&c), Some(680));
        let new = new_recall(" 泄漏 ", uuid::Uuid::nil());
        assert_eq!(new.reason, "泄漏");
        assert_eq!(new.incident_id, Some(uuid::Uuid::nil()));
        assert_eq!(new.incident_batch, Some(true));
        assert!(new.cylinder_codes.is_none() && new.station_code.is_none());
        c.chain = None;
        assert_eq!(recall_count(&c), None, "no implicated cylinder, no batch");
    }

    #[test]
    fn the_buttons_step_forward_or_reopen() {
        use IncidentStatus::*;
        let to = |s| {
            next_steps(s)
                .into_iter()
                .map(|(t, _)| t)
                .collect::<Vec<_>>()
        };
        assert_eq!(to(Open), [Responding, Contained, Closed]);
        assert_eq!(to(Responding), [Contained, Closed]);
        assert_eq!(to(Contained), [Responding, Closed]);
        assert_eq!(next_steps(Closed), [(Responding, Transition::Reopen)]);
    }
}
