//! The responder units' tasks on an incident: each with its unit, what, deadline and status;
//! for those who handle incidents, what a unit reported (the next statuses, with a note) and
//! the form that assigns a new task.

use crate::errors;
use crate::format::minute;
use crate::i18n::{use_lang, Key};
use crate::incident_text::{self as text, T, TASK_STATUSES};
use crate::pages::incidents::value_of;
use crate::services::api::ApiError;
use crate::services::incidents;
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use shared::incident::{Incident, IncidentTask, NewTask, TaskStatus};
use std::rc::Rc;
use yew::prelude::*;

/// The list's props.
#[derive(Properties, PartialEq)]
pub struct TaskListProps {
    pub incident: Rc<Incident>,
    /// Whether the status buttons show (duty officers, regulators, administrators).
    pub may_update: bool,
    /// A task moved (the page reads the incident again).
    #[prop_or_default]
    pub on_changed: Callback<()>,
}

/// The statuses a task in `status` may move to, in order.
pub fn next_task_steps(status: TaskStatus) -> Vec<TaskStatus> {
    TASK_STATUSES
        .iter()
        .copied()
        .filter(|to| status.may_move_to(*to))
        .collect()
}

/// The tasks.
#[component]
pub fn TaskList(props: &TaskListProps) -> Html {
    let lang = use_lang().lang;
    let tasks = &props.incident.tasks;
    if tasks.is_empty() {
        return html! { <p class="notice tasks-empty">{ T::NoTasks.t(lang) }</p> };
    }
    html! {
        <ul class="task-list">
            { for tasks.iter().map(|t| html! {
                <TaskRow key={t.id.to_string()} incident={props.incident.id} task={t.clone()}
                    may_update={props.may_update} on_changed={props.on_changed.clone()} />
            }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
struct TaskRowProps {
    incident: uuid::Uuid,
    task: IncidentTask,
    may_update: bool,
    on_changed: Callback<()>,
}

#[component]
fn TaskRow(props: &TaskRowProps) -> Html {
    let lang = use_lang().lang;
    let note = use_node_ref();
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let t = &props.task;
    let move_to = |to: TaskStatus| {
        let (note, busy, error, on_changed) = (
            note.clone(),
            busy.clone(),
            error.clone(),
            props.on_changed.clone(),
        );
        let (incident, task) = (props.incident, t.id);
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            let said = value_of(&note).trim().to_owned();
            busy.set(true);
            error.set(None);
            let (busy, error, on_changed) = (busy.clone(), error.clone(), on_changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = incidents::task_status(
                    incident,
                    task,
                    to,
                    Some(said).filter(|s| !s.is_empty()),
                )
                .await;
                busy.set(false);
                match answer {
                    Ok(_) => on_changed.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <li class="task" data-id={t.id.to_string()} data-unit={t.unit_code.clone()} data-status={t.status.name()}>
            <div class="task-head">
                <b>{ format!("{} {}", t.unit_code, t.unit_name) }</b>
                <span class={classes!("status-chip", format!("task-{}", t.status.name()))}>{ text::task_status(lang, t.status) }</span>
                <span class="task-due">{ format!("{} {}", T::DueAt.t(lang), minute(&t.due_at)) }</span>
            </div>
            <div class="task-what">{ &t.what }</div>
            if let Some(n) = &t.note {
                <div class="task-note">{ n }</div>
            }
            if props.may_update && !t.status.is_final() {
                <div class="task-actions">
                    <input ref={note.clone()} class="task-note-input" type="text" placeholder={T::TaskNote.t(lang)} disabled={*busy} />
                    { for next_task_steps(t.status).into_iter().map(|to| html! {
                        <button type="button" class="act task-to" data-status={to.name()} disabled={*busy}
                            onclick={move_to(to)}>{ text::task_status(lang, to) }</button>
                    }) }
                </div>
            }
            if let Some(e) = &*error {
                <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::ActionFailed, e) }</p>
            }
        </li>
    }
}

/// The assign form's props.
#[derive(Properties, PartialEq)]
pub struct AssignTaskProps {
    pub incident: uuid::Uuid,
    pub on_changed: Callback<()>,
}

/// `YYYY-MM-DDTHH:MM` of a `datetime-local` input, read as Beijing time.
pub fn beijing_local(value: &str) -> Option<DateTime<FixedOffset>> {
    let naive = NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M").ok()?;
    naive.and_local_timezone(crate::format::cst()).single()
}

/// Assigns a task to a registered unit.
#[component]
pub fn AssignTask(props: &AssignTaskProps) -> Html {
    let lang = use_lang().lang;
    let units = use_state(|| None::<Result<Rc<Vec<shared::incident::ResponderUnit>>, ApiError>>);
    {
        let units = units.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                units.set(Some(incidents::units().await.map(Rc::new)));
            });
        });
    }
    let (unit, what, due) = (use_node_ref(), use_node_ref(), use_node_ref());
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let local = use_state(|| false);
    let submit = {
        let (unit, what, due) = (unit.clone(), what.clone(), due.clone());
        let (busy, error, local, on_changed, id) = (
            busy.clone(),
            error.clone(),
            local.clone(),
            props.on_changed.clone(),
            props.incident,
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let Some(due_at) = beijing_local(&value_of(&due)) else {
                local.set(true);
                return;
            };
            local.set(false);
            let task = NewTask {
                unit_code: value_of(&unit),
                what: value_of(&what).trim().to_owned(),
                due_at,
            };
            busy.set(true);
            error.set(None);
            let (busy, error, on_changed, what) = (
                busy.clone(),
                error.clone(),
                on_changed.clone(),
                what.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer = incidents::assign(id, &task).await;
                busy.set(false);
                match answer {
                    Ok(_) => {
                        if let Some(i) = what.cast::<web_sys::HtmlInputElement>() {
                            i.set_value("");
                        }
                        on_changed.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let list = match &*units {
        None => return html! {},
        Some(Err(e)) => {
            return html! { <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p> }
        }
        Some(Ok(list)) if list.is_empty() => {
            return html! { <p class="notice" id="no-units">{ T::NoUnits.t(lang) }</p> }
        }
        Some(Ok(list)) => list.clone(),
    };
    html! {
        <form class="task-form" id="task-form" onsubmit={submit}>
            <select ref={unit} id="task-unit" aria-label={T::Unit.t(lang)}>
                { for list.iter().enumerate().map(|(n, u)| html! {
                    <option value={u.code.clone()} selected={n == 0}>{ format!("{} {} {}", u.code, u.name, u.phone) }</option>
                }) }
            </select>
            <input ref={what} id="task-what" type="text" placeholder={T::What.t(lang)} />
            <input ref={due} id="task-due" type="datetime-local" aria-label={T::DueAt.t(lang)} />
            <button type="submit" class="act" id="task-assign" disabled={*busy}>{ T::Assign.t(lang) }</button>
            if *local {
                <p class="alert-error" role="alert" data-field="due_at">
                    { format!("{}{}{}", lang.t(Key::ActionFailed), errors::colon(lang), T::DueAt.t(lang)) }
                </p>
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

    #[test]
    fn a_task_moves_forward_or_is_cancelled_until_final() {
        use TaskStatus::*;
        assert_eq!(
            next_task_steps(Assigned),
            [EnRoute, OnScene, Done, Cancelled]
        );
        assert_eq!(next_task_steps(OnScene), [Done, Cancelled]);
        assert!(next_task_steps(Done).is_empty());
        assert!(next_task_steps(Cancelled).is_empty());
    }

    #[test]
    fn the_deadline_is_read_in_beijing_time() {
        let due = beijing_local("2026-12-07T12:30").unwrap();
        assert_eq!(due.to_rfc3339(), "2026-12-07T12:30:00+08:00");
        assert_eq!(beijing_local(""), None);
        assert_eq!(beijing_local("tomorrow"), None);
    }
}
