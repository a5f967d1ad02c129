//! The command-hall wall: the live city map beside the KPI tiles and the district panel.

use crate::components::district_panel::DistrictPanel;
use crate::components::kpi::Kpi;
use crate::components::map::CityMap;
use crate::format::cst;
use crate::hooks::{use_basemap, Basemap};
use crate::i18n::{use_lang, Key};
use crate::state::LiveContext;
use yew::prelude::*;

/// The wall page.
#[component]
pub fn Wall() -> Html {
    let lang = use_lang().lang;
    let live = use_context::<LiveContext>();
    let basemap = use_basemap();
    let (online, moving, last) = live.as_ref().map_or((0, 0, None), |l| {
        let vehicles = l.vehicles.borrow();
        let moving = vehicles
            .values()
            .filter(|v| v.speed_kmh.unwrap_or(0.0) > 1.0)
            .count();
        (vehicles.len(), moving, l.last_update)
    });
    // Beijing time on the wall, whatever the browser's zone.
    let last = last.map_or_else(
        || "—".to_owned(),
        |t| t.with_timezone(&cst()).format("%H:%M:%S").to_string(),
    );
    let body = match &basemap {
        Basemap::Loading => {
            html! { <div class="map placeholder">{ lang.t(Key::MapLoading) }</div> }
        }
        Basemap::Failed(e) => {
            html! { <div class="map placeholder error">{ lang.t(Key::MapFailed) }{ ": " }{ e }</div> }
        }
        Basemap::Ready(d) => html! { <CityMap districts={d.clone()} /> },
    };
    let panel = match &basemap {
        Basemap::Ready(d) => html! { <DistrictPanel districts={d.clone()} /> },
        _ => html! {},
    };
    html! {
        <div class="wall">
            <div class="wall-map">{ body }</div>
            <aside class="wall-side">
                <div class="kpis">
                    <Kpi id="kpi-vehicles" label={lang.t(Key::VehiclesOnline)} value={online.to_string()} />
                    <Kpi id="kpi-moving" label={lang.t(Key::Moving)} value={moving.to_string()} />
                    <Kpi id="kpi-last-update" label={lang.t(Key::LastUpdate)} value={last} />
                </div>
                { panel }
            </aside>
        </div>
    }
}
