//! An incident's timeline, oldest first: when, who, what (a status change names the status).

use crate::format::moment;
use crate::i18n::use_lang;
use crate::incident_text::{self as text, T};
use shared::incident::TimelineEntry;
use std::rc::Rc;
use yew::prelude::*;

/// The timeline's props; `last` shows only the newest that many (the wall's panel).
#[derive(Properties, PartialEq)]
pub struct IncidentTimelineProps {
    pub entries: Rc<Vec<TimelineEntry>>,
    #[prop_or_default]
    pub last: Option<usize>,
}

/// The timeline.
#[component]
pub fn IncidentTimeline(props: &IncidentTimelineProps) -> Html {
    let lang = use_lang().lang;
    let skip = props
        .last
        .map_or(0, |n| props.entries.len().saturating_sub(n));
    if props.entries.is_empty() {
        return html! { <p class="notice">{ T::NoneYet.t(lang) }</p> };
    }
    html! {
        <ol class="incident-timeline" id="incident-timeline">
            { for props.entries.iter().skip(skip).map(|e| html! {
                <li data-seq={e.seq.to_string()} data-what={e.what.name()}>
                    <time>{ moment(&e.at) }</time>
                    <span class="tl-what">{ text::timeline_what(lang, e.what) }</span>
                    if let Some(s) = e.status {
                        <span class={classes!("status-chip", s.name())}>{ text::status(lang, s) }</span>
                    }
                    if let Some(n) = &e.note {
                        <span class="tl-note">{ n }</span>
                    }
                    <span class="tl-by">{ &e.by }</span>
                </li>
            }) }
        </ol>
    }
}
