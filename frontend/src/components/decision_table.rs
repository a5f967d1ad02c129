//! A station's newest filling decisions, newest first: when, which gun, which cylinder, the
//! verdict and every rule that refused.

use crate::components::gun_panel::subject;
use crate::format::clock;
use crate::i18n::{use_lang, Key};
use crate::labels;
use shared::filling::DecisionLine;
use std::rc::Rc;
use yew::prelude::*;

/// Table properties: the decisions, newest first.
#[derive(Properties, PartialEq)]
pub struct DecisionTableProps {
    pub recent: Rc<Vec<DecisionLine>>,
}

/// The table.
#[component]
pub fn DecisionTable(props: &DecisionTableProps) -> Html {
    let lang = use_lang().lang;
    let rows = props.recent.iter().map(|d| {
        let (class, verdict) = if d.allowed {
            ("allowed", Key::Allowed)
        } else {
            ("refused", Key::Refused)
        };
        let reasons = d.reasons.iter().map(|r| {
            html! {
                <span class="reason" data-rule={r.rule.clone()}
                    title={labels::refusal_title(lang, &r.rule, &r.message)}>
                    <b>{ &r.rule }</b>{ " " }{ labels::refusal(lang, &r.rule, &r.message) }
                </span>
            }
        });
        html! {
            <tr key={d.id.to_string()} class={class} data-gun={d.gun_no.clone()}
                data-allowed={d.allowed.to_string()}>
                <td class="time">{ clock(&d.decided_at) }</td>
                <td class="gun-cell">{ &d.gun_no }</td>
                <td class="subject">{ subject(lang, d) }</td>
                <td class="verdict"><span class={classes!("verdict-chip", class)}>{ lang.t(verdict) }</span></td>
                <td class="reasons">{ for reasons }</td>
            </tr>
        }
    });
    html! {
        <table id="recent-decisions" class="timeline decisions">
            <thead>
                <tr>
                    <th>{ lang.t(Key::ColDecidedAt) }</th>
                    <th>{ lang.t(Key::ColGun) }</th>
                    <th>{ lang.t(Key::ColCylinderOrTag) }</th>
                    <th>{ lang.t(Key::ColResult) }</th>
                    <th>{ lang.t(Key::ColReasons) }</th>
                </tr>
            </thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}
