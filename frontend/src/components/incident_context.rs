//! An incident's context as the server assembled it: the implicated cylinder (archive and
//! compliance), its chain (last filling with gun, filler, certificate, masses and the gun's
//! decision; vehicle, driver, customer), what is nearby with distances, and the batch with
//! its facets by gun and filler.

use crate::app::Route;
use crate::format::{date, minute, minute_or_dash};
use crate::i18n::{use_lang, Lang};
use crate::incident_text::{batch_why, distance, shown_of, T};
use crate::labels;
use shared::incident::{Batch, Chain, Facet, IncidentContext, Nearby};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// The context to show.
#[derive(Properties, PartialEq)]
pub struct ContextViewProps {
    pub context: Rc<IncidentContext>,
}

/// The context.
#[component]
pub fn ContextView(props: &ContextViewProps) -> Html {
    let lang = use_lang().lang;
    let c = &props.context;
    html! {
        <div class="incident-context" id="incident-context" data-assembled={c.assembled_at.to_rfc3339()}>
            <section class="context-cylinder" id="context-cylinder">
                <h3>{ T::CylinderArchive.t(lang) }</h3>
                { match &c.cylinder {
                    None => html! { <p class="notice">{ T::NoCylinder.t(lang) }</p> },
                    Some(v) => html! {
                        <dl class="context-facts">
                            <dt>{ T::CylinderCode.t(lang) }</dt>
                            <dd data-code={v.archive.code.as_str().to_owned()}>
                                <Link<Route> to={Route::Cylinder { code: v.archive.code.as_str().to_owned() }}>
                                    { v.archive.code.as_str() }
                                </Link<Route>>
                            </dd>
                            <dt>{ T::Compliance.t(lang) }</dt>
                            <dd class={classes!("compliance", v.compliance.name())} id="context-compliance">
                                { labels::compliance(lang, v.compliance) }
                            </dd>
                            <dt>{ lang.t(crate::i18n::Key::Custody) }</dt>
                            <dd>{ labels::custody(lang, v.custody) }</dd>
                            <dt>{ lang.t(crate::i18n::Key::FieldMedium) }</dt>
                            <dd>{ labels::medium(lang, v.archive.medium) }</dd>
                            <dt>{ lang.t(crate::i18n::Key::FieldManufacturer) }</dt>
                            <dd>{ v.archive.manufacturer.as_str() }</dd>
                            <dt>{ lang.t(crate::i18n::Key::FieldProductionBatch) }</dt>
                            <dd>{ v.archive.production_batch.as_ref().map_or("—", |b| b.as_str()) }</dd>
                            <dt>{ lang.t(crate::i18n::Key::FieldNextInspection) }</dt>
                            <dd>{ date(v.archive.next_inspection_on) }</dd>
                            <dt>{ lang.t(crate::i18n::Key::FieldOwner) }</dt>
                            <dd>{ v.archive.owner_enterprise_code.as_str() }</dd>
                        </dl>
                    },
                } }
            </section>
            <section class="context-chain" id="context-chain">
                <h3>{ T::Chain.t(lang) }</h3>
                { c.chain.as_ref().map_or_else(
                    || html! { <p class="notice">{ T::NoneYet.t(lang) }</p> },
                    |chain| chain_view(lang, chain),
                ) }
            </section>
            <section class="context-nearby" id="context-nearby">
                <h3>{ format!("{} · {}", T::Nearby.t(lang), distance(c.nearby.radius_m)) }</h3>
                { nearby(lang, &c.nearby) }
            </section>
            <section class="context-batch" id="context-batch">
                <h3>{ T::Batch.t(lang) }</h3>
                { batch(lang, &c.batch) }
            </section>
        </div>
    }
}

fn chain_view(lang: Lang, chain: &Chain) -> Html {
    let or_dash = |v: Option<&str>| v.map_or_else(|| "—".to_owned(), str::to_owned);
    let filling = chain.last_filling.as_ref().map(|f| {
        let masses = match (f.mass_before_kg, f.mass_after_kg) {
            (Some(b), Some(a)) => format!("{b:.1} / {a:.1} kg"),
            _ => "—".to_owned(),
        };
        let decision = match f.decision_allowed {
            Some(true) => T::Allowed.t(lang).to_owned(),
            Some(false) => format!("{} {}", T::Refused.t(lang), f.decision_rules.join(" ")),
            None => "—".to_owned(),
        };
        let filler = match (&f.staff_no, &f.staff_name) {
            (Some(no), Some(name)) => format!("{no} {name}"),
            (Some(no), None) => no.to_string(),
            _ => "—".to_owned(),
        };
        let certificate = match (&f.certificate_no, f.certificate_expires) {
            (Some(no), Some(until)) => format!("{no}（{}）", date(until)),
            (Some(no), None) => no.clone(),
            _ => "—".to_owned(),
        };
        html! {
            <>
                <dt>{ T::LastFilling.t(lang) }</dt><dd id="chain-filled-at">{ minute(&f.ended_at) }</dd>
                <dt>{ T::Station.t(lang) }</dt>
                <dd id="chain-station" data-code={or_dash(f.station_code.as_deref())}>
                    { format!("{} {}", or_dash(f.station_code.as_deref()), f.station_name.clone().unwrap_or_default()) }
                </dd>
                <dt>{ T::Gun.t(lang) }</dt><dd id="chain-gun">{ or_dash(f.gun_no.as_deref()) }</dd>
                <dt>{ T::Filler.t(lang) }</dt><dd id="chain-filler">{ filler }</dd>
                <dt>{ T::Certificate.t(lang) }</dt><dd>{ certificate }</dd>
                <dt>{ T::Masses.t(lang) }</dt><dd id="chain-masses">{ masses }</dd>
                <dt>{ T::Decision.t(lang) }</dt><dd id="chain-decision">{ decision }</dd>
            </>
        }
    });
    let customer = chain.customer.as_ref().map_or_else(
        || or_dash(chain.customer_code.as_deref()),
        |c| {
            [
                Some(&c.code),
                c.name.as_ref(),
                c.phone.as_ref(),
                c.address.as_ref(),
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
        },
    );
    html! {
        <dl class="context-facts">
            { filling.unwrap_or_default() }
            <dt>{ T::Vehicle.t(lang) }</dt><dd id="chain-vehicle">{ or_dash(chain.vehicle_plate.as_deref()) }</dd>
            <dt>{ T::Driver.t(lang) }</dt><dd id="chain-driver">{ or_dash(chain.driver_staff_no.as_deref()) }</dd>
            <dt>{ T::Customer.t(lang) }</dt>
            <dd id="chain-customer">{ format!("{customer} {}", minute_or_dash(chain.delivered_at.as_ref())) }</dd>
        </dl>
    }
}

fn nearby(lang: Lang, n: &Nearby) -> Html {
    if n.sites.is_empty() && n.vehicles.is_empty() && n.cylinders.is_empty() {
        return html! { <p class="notice" id="nearby-empty">{ T::NothingNearby.t(lang) }</p> };
    }
    let rows = |items: Vec<(String, String, f64)>, id: &str, title: T, total: i64| {
        if items.is_empty() {
            return html! {};
        }
        let shown = shown_of(lang, items.len(), total);
        html! {
            <div class="table-scroll">
                <table class="context-table" id={id.to_owned()} data-total={total.to_string()}>
                    <caption>{ title.t(lang) }<small class="shown-of">{ shown }</small></caption>
                    <tbody>
                        { for items.into_iter().map(|(code, what, d)| html! {
                            <tr data-code={code.clone()} data-distance={format!("{d:.0}")}>
                                <td>{ code }</td><td>{ what }</td><td class="num">{ distance(d) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
        }
    };
    html! {
        <>
            { rows(n.sites.iter().map(|s| (s.code.clone(), format!("{} {}", s.kind, s.enterprise_code), s.distance_m)).collect(),
                "nearby-sites", T::Sites, n.sites_total) }
            { rows(n.vehicles.iter().map(|v| (v.plate.to_string(), v.enterprise_code.as_deref().unwrap_or_default().to_owned(), v.distance_m)).collect(),
                "nearby-vehicles", T::Vehicles, n.vehicles_total) }
            { rows(n.cylinders.iter().map(|c| (c.code.clone(), labels::compliance(lang, c.compliance).to_owned(), c.distance_m)).collect(),
                "nearby-cylinders", T::Cylinders, n.cylinders_total) }
        </>
    }
}

fn facets(lang: Lang, title: T, id: &str, f: &[Facet]) -> Html {
    if f.is_empty() {
        return html! {};
    }
    html! {
        <div class="facets" id={id.to_owned()}>
            <span class="facet-title">{ title.t(lang) }</span>
            { for f.iter().map(|f| html! {
                <span class="facet" data-value={f.value.clone()}>{ format!("{} ×{}", f.value, f.count) }</span>
            }) }
        </div>
    }
}

fn batch(lang: Lang, b: &Batch) -> Html {
    if b.cylinders.is_empty() {
        return html! { <p class="notice" id="batch-empty">{ T::EmptyBatch.t(lang) }</p> };
    }
    let filled = b.cylinders.iter().filter(|c| c.why == "filling").count();
    let production = b.cylinders.len() - filled;
    let count = |why: &str, shown: usize, total: i64, id: &str| {
        html! {
            <span class="batch-total" id={id.to_owned()} data-total={total.to_string()}>
                { format!("{} {total}", batch_why(lang, why)) }
                <small class="shown-of">{ shown_of(lang, shown, total) }</small>
            </span>
        }
    };
    html! {
        <>
            <p class="batch-totals">
                { count("filling", filled, b.filled_total, "batch-filled-total") }
                { count("production", production, b.production_total, "batch-production-total") }
            </p>
            { facets(lang, T::ByGun, "batch-by-gun", &b.by_gun) }
            { facets(lang, T::ByFiller, "batch-by-filler", &b.by_filler) }
            <div class="table-scroll">
                <table class="context-table" id="batch-cylinders">
                    <thead><tr>
                        <th>{ T::CylinderCode.t(lang) }</th><th>{ T::Why.t(lang) }</th>
                        <th>{ T::Gun.t(lang) }</th><th>{ T::Filler.t(lang) }</th><th>{ T::FilledAt.t(lang) }</th>
                    </tr></thead>
                    <tbody>
                        { for b.cylinders.iter().map(|c| html! {
                            <tr data-code={c.code.clone()} data-why={c.why.clone()}>
                                <td>{ &c.code }</td>
                                <td>{ batch_why(lang, &c.why) }</td>
                                <td>{ c.gun_no.clone().unwrap_or_default() }</td>
                                <td>{ c.staff_no.as_deref().unwrap_or_default().to_owned() }</td>
                                <td>{ minute_or_dash(c.filled_at.as_ref()) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
        </>
    }
}
