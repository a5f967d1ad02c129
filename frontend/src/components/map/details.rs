//! The details box of what was clicked on the map, with links to the pages behind it.

use super::view::Selection;
use crate::app::Route;
use crate::i18n::{Key, Lang};
use shared::density::Site;
use yew::prelude::*;
use yew_router::prelude::*;

/// The box's content for a vehicle, a site or a density cell.
pub(super) fn details(lang: Lang, s: &Selection) -> Html {
    match s {
        Selection::Vehicle {
            plate,
            speed_kmh,
            enterprise,
            at,
            load,
        } => vehicle(lang, plate, *speed_kmh, enterprise.as_deref(), at, *load),
        Selection::Site(site) => self::site(lang, site),
        Selection::Cell { lon, lat, count } => html! {
            <div data-kind="cell">
                <h3>{ lang.t(Key::DensityLayer) }</h3>
                <p><b>{ count }</b>{ " " }{ lang.t(Key::CylindersUnit) }</p>
                <p>{ format!("{lon:.3}, {lat:.3}") }</p>
            </div>
        },
    }
}

/// A vehicle: its load, speed, last fix and enterprise.
fn vehicle(
    lang: Lang,
    plate: &str,
    speed_kmh: Option<f64>,
    enterprise: Option<&str>,
    at: &str,
    (full, other): (i64, i64),
) -> Html {
    html! {
        <div data-kind="vehicle" data-code={plate.to_owned()} data-load={(full + other).to_string()}>
            <h3>{ lang.t(Key::VehicleLabel) }{ " " }{ plate }</h3>
            <p class="map-load">
                { lang.t(Key::Load) }{ format!(": {} ", full + other) }{ lang.t(Key::CylindersUnit) }
                { format!(" ({} {} · {} {})", lang.t(Key::LoadFull), full, lang.t(Key::LoadOther), other) }
            </p>
            <p>{ lang.t(Key::Speed) }{ format!(": {:.0} km/h", speed_kmh.unwrap_or(0.0)) }</p>
            <p>{ lang.t(Key::LastUpdate) }{ ": " }{ at }</p>
            if let Some(code) = enterprise {
                <Link<Route> to={Route::StatsEnterprise { code: code.to_owned() }} classes="map-link-enterprise">
                    { lang.t(Key::LevelEnterprise) }{ " " }{ code.to_owned() }
                </Link<Route>>
            }
        </div>
    }
}

/// A station (with its pages) or a customer: full stock against its limit, and the enterprise.
fn site(lang: Lang, site: &Site) -> Html {
    let station = site.kind == "station";
    html! {
        <div data-kind={site.kind.clone()} data-code={site.code.clone()}>
            <h3>{ if station { lang.t(Key::SiteStation) } else { lang.t(Key::SiteCustomer) } }{ " " }{ &site.name }</h3>
            <p>{ &site.code }</p>
            <p class={classes!((site.full > site.full_limit).then_some("bad"))}>
                { lang.t(Key::FullStock) }{ format!(": {} / {}", site.full, site.full_limit) }
            </p>
            <div class="map-links">
                if station {
                    <Link<Route> to={Route::Station { code: site.code.clone() }} classes="map-link-station">
                        { lang.t(Key::ViewStation) }
                    </Link<Route>>
                    <Link<Route> to={Route::StatsStation { code: site.code.clone() }} classes="map-link-station-stats">
                        { lang.t(Key::OpenStatistics) }
                    </Link<Route>>
                }
                <Link<Route> to={Route::StatsEnterprise { code: site.enterprise_code.to_string() }} classes="map-link-enterprise">
                    { lang.t(Key::LevelEnterprise) }{ " " }{ site.enterprise_code.clone() }
                </Link<Route>>
            </div>
        </div>
    }
}
