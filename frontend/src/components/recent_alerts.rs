//! The newest alerts of one level of the statistics, each a line that leads to the duty console.

use crate::app::Route;
use crate::format::moment;
use crate::i18n::{use_lang, Key};
use crate::labels;
use shared::alert::Alert;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// List properties: the alerts, newest activity first.
#[derive(Properties, PartialEq)]
pub struct RecentAlertsProps {
    pub alerts: Rc<Vec<Alert>>,
}

/// The list.
#[component]
pub fn RecentAlerts(props: &RecentAlertsProps) -> Html {
    let lang = use_lang().lang;
    if props.alerts.is_empty() {
        return html! { <p class="notice" id="recent-alerts-empty">{ lang.t(Key::NoAlerts) }</p> };
    }
    html! {
        <ul id="recent-alerts" class="recent-alerts">
            { for props.alerts.iter().map(|a| html! {
                <li key={a.id.to_string()} class={classes!("recent-alert", format!("sev-{}", a.severity.name()))}
                    data-id={a.id.to_string()} data-kind={a.kind.name()}>
                    <Link<Route> to={Route::Alerts}>
                        <span class={classes!("sev-chip", format!("sev-{}", a.severity.name()))}>
                            { labels::severity(lang, a.severity) }
                        </span>
                        <span class="alert-kind">{ labels::alert_kind(lang, a.kind) }</span>
                        <span class="alert-subject">
                            { labels::subject_type(lang, &a.subject.kind) }{ " " }{ &a.subject.id }
                        </span>
                        <time class="alert-time">{ moment(&a.last_seen_at) }</time>
                    </Link<Route>>
                </li>
            }) }
        </ul>
    }
}
