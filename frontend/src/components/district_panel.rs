//! The list of districts with how many vehicles are in each right now.

use crate::geo::{contains, District};
use crate::i18n::{use_lang, Key};
use crate::state::LiveContext;
use std::rc::Rc;
use yew::prelude::*;

/// Panel properties.
#[derive(Properties, PartialEq)]
pub struct DistrictPanelProps {
    pub districts: Rc<Vec<District>>,
}

/// Districts and their vehicle counts.
#[component]
pub fn DistrictPanel(props: &DistrictPanelProps) -> Html {
    let lang = use_lang().lang;
    let live = use_context::<LiveContext>();
    let counts: Vec<usize> = {
        let vehicles = live.as_ref().map(|l| {
            l.vehicles
                .borrow()
                .values()
                .map(|v| (v.lon, v.lat))
                .collect::<Vec<_>>()
        });
        let vehicles = vehicles.unwrap_or_default();
        props
            .districts
            .iter()
            .map(|d| {
                vehicles
                    .iter()
                    .filter(|(lon, lat)| contains(d, *lon, *lat))
                    .count()
            })
            .collect()
    };
    html! {
        <section class="panel districts">
            <h2>{ lang.t(Key::Districts) }</h2>
            <ul id="district-list">
                { for props.districts.iter().zip(counts).map(|(d, n)| html! {
                    <li class="district" data-name={d.name.clone()}>
                        <span class="district-name">{ &d.name }</span>
                        <span class="district-count">{ n }{" "}<small>{ lang.t(Key::Vehicles) }</small></span>
                    </li>
                }) }
            </ul>
        </section>
    }
}
