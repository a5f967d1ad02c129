//! A cylinder's history (钢瓶历史跟踪) with the columns of seed 001 §4.1.10: time, operation,
//! operator, place, destination, mass before and after. A line whose transition was impossible
//! is marked, with the reason as its tooltip.

use crate::format::{minute, number_or_blank};
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use shared::cylinder::HistoryEntry;
use std::rc::Rc;
use yew::prelude::*;

/// Timeline properties: the entries in event-time order.
#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub entries: Rc<Vec<HistoryEntry>>,
}

/// The history table.
#[component]
pub fn Timeline(props: &TimelineProps) -> Html {
    let lang = use_lang().lang;
    let head = [
        (Key::ColTime, "time"),
        (Key::ColOperation, "op"),
        (Key::ColOperator, "who"),
        (Key::ColPlace, "place"),
        (Key::ColTarget, "place"),
        (Key::ColMassBefore, "mass"),
        (Key::ColMassAfter, "mass"),
    ];
    html! {
        <table id="timeline" class="timeline">
            <thead>
                <tr>{ for head.iter().map(|(k, class)| html! { <th class={*class}>{ lang.t(*k) }</th> }) }</tr>
            </thead>
            <tbody>
                { for props.entries.iter().map(|e| row(lang, e)) }
            </tbody>
        </table>
    }
}

fn row(lang: Lang, e: &HistoryEntry) -> Html {
    let operation = labels::operation(lang, &e.kind, e.op.as_deref(), &e.details);
    // Who: the person, else their number; a vehicle reader's sighting names the vehicle.
    let who = e
        .staff_name
        .clone()
        .or_else(|| e.staff_no.as_ref().map(ToString::to_string))
        .or_else(|| e.vehicle_plate.as_ref().map(ToString::to_string))
        .unwrap_or_default();
    let place = e
        .place
        .clone()
        .or_else(|| e.station_code.as_ref().map(ToString::to_string))
        .unwrap_or_default();
    let flagged = e.flag.is_some();
    let why = e.flag.as_deref().map(|f| labels::flag(lang, &operation, f));
    html! {
        <tr key={e.id.to_string()}
            class={classes!(flagged.then_some("flagged"))}
            data-kind={e.kind.clone()}
            data-op={e.op.clone()}
            data-flagged={flagged.then_some("true")}
            title={why}>
            <td class="time">{ minute(&e.occurred_at) }</td>
            <td class="op">{ operation }</td>
            <td class="who">{ who }</td>
            <td class="place">{ place }</td>
            <td class="place">{ e.target_place.clone().unwrap_or_default() }</td>
            <td class="mass">{ number_or_blank(e.mass_before_kg) }</td>
            <td class="mass">{ number_or_blank(e.mass_after_kg) }</td>
        </tr>
    }
}
