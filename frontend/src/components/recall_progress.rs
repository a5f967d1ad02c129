//! Recalls and their progress: recalled, located, recovered, inspected, cleared, and how many
//! are still refused at the guns.

use crate::i18n::use_lang;
use crate::incident_text::T;
use shared::incident::IncidentRecall;
use std::rc::Rc;
use yew::prelude::*;

/// The recalls to show.
#[derive(Properties, PartialEq)]
pub struct RecallListProps {
    pub recalls: Rc<Vec<IncidentRecall>>,
}

/// Each recall's figures.
#[component]
pub fn RecallList(props: &RecallListProps) -> Html {
    let lang = use_lang().lang;
    if props.recalls.is_empty() {
        return html! { <p class="notice" id="recalls-empty">{ T::NoneYet.t(lang) }</p> };
    }
    html! {
        <ul class="recall-list" id="recalls">
            { for props.recalls.iter().map(|r| {
                let p = &r.progress;
                let figure = |key: T, name: &'static str, n: i64| html! {
                    <span class="recall-figure" data-figure={name} data-value={n.to_string()}>
                        <b>{ n }</b><small>{ key.t(lang) }</small>
                    </span>
                };
                html! {
                    <li class="recall" data-id={r.id.to_string()}>
                        <div class="recall-reason">{ &r.reason }</div>
                        <div class="recall-figures">
                            { figure(T::Recalled, "recalled", p.recalled) }
                            { figure(T::Located, "located", p.located) }
                            { figure(T::Recovered, "recovered", p.recovered) }
                            { figure(T::Inspected, "inspected", p.inspected) }
                            { figure(T::Cleared, "cleared", p.cleared) }
                            { figure(T::StillRefused, "open", p.open) }
                        </div>
                    </li>
                }
            }) }
        </ul>
    }
}
