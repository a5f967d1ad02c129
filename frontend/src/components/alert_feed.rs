//! The duty console's feed: one card per alert, newest activity first, coloured by severity; a
//! critical alert that just arrived or was escalated flashes until someone opens it.

use crate::format::moment;
use crate::i18n::{use_lang, Key};
use crate::labels;
use shared::alert::{Alert, AlertStatus};
use std::collections::HashSet;
use std::rc::Rc;
use uuid::Uuid;
use yew::prelude::*;

/// Feed properties.
#[derive(Properties, PartialEq)]
pub struct AlertFeedProps {
    /// In the order shown.
    pub alerts: Rc<Vec<Rc<Alert>>>,
    pub selected: Option<Uuid>,
    pub flashing: Rc<HashSet<Uuid>>,
    pub on_select: Callback<Uuid>,
}

/// The list of alert cards.
#[component]
pub fn AlertFeed(props: &AlertFeedProps) -> Html {
    let lang = use_lang().lang;
    if props.alerts.is_empty() {
        return html! { <p class="notice" id="alert-feed-empty">{ lang.t(Key::NoAlerts) }</p> };
    }
    html! {
        <ul class="alert-feed" id="alert-feed">
            { for props.alerts.iter().map(|a| {
                let flash = props.flashing.contains(&a.id);
                let selected = props.selected == Some(a.id);
                let onclick = {
                    let (id, on_select) = (a.id, props.on_select.clone());
                    Callback::from(move |_: MouseEvent| on_select.emit(id))
                };
                let class = classes!(
                    "alert-card",
                    format!("sev-{}", a.severity.name()),
                    format!("is-{}", a.status.name()),
                    selected.then_some("selected"),
                    flash.then_some("flash"),
                );
                html! {
                    <li key={a.id.to_string()} {class} {onclick}
                        data-id={a.id.to_string()} data-kind={a.kind.name()}
                        data-severity={a.severity.name()} data-status={a.status.name()}
                        data-flash={flash.to_string()} aria-selected={selected.to_string()}>
                        <div class="alert-card-head">
                            <span class={classes!("sev-chip", format!("sev-{}", a.severity.name()))}>
                                { labels::severity(lang, a.severity) }
                            </span>
                            <span class="alert-kind">{ labels::alert_kind(lang, a.kind) }</span>
                            <time class="alert-time">{ moment(&a.last_seen_at) }</time>
                        </div>
                        <div class="alert-card-sub">
                            <span class="alert-subject">
                                { labels::subject_type(lang, &a.subject.kind) }{ " " }{ &a.subject.id }
                            </span>
                            if let Some(place) = &a.place_name {
                                <span class="alert-place">{ place }</span>
                            }
                            if a.count > 1 {
                                <span class="alert-count">{ format!("×{}", a.count) }</span>
                            }
                            if a.escalated_at.is_some() {
                                <span class="alert-escalated">{ lang.t(Key::EscalatedAt) }</span>
                            }
                            <span class={classes!("status-chip", a.status.name())}>
                                { labels::alert_status(lang, a.status) }
                            </span>
                        </div>
                        if a.status == AlertStatus::Acknowledged {
                            if let Some(ack) = &a.ack {
                                <div class="alert-card-note">{ format!("{} · {}", ack.by, ack.note) }</div>
                            }
                        }
                    </li>
                }
            }) }
        </ul>
    }
}
