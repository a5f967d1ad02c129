//! The command-hall wall (SPEC §8): one screen with the whole city live. KPI tiles, the live
//! map, the inventory table, the live alert feed (acknowledged in place), five charts (each
//! column or bar opening the list behind it on `/stats?list=`) and the vehicles per district,
//! arranged by a layout preset (`?layout=standard|map|figures`, kept in this browser). Sized
//! from the viewport: the same page reads on 1920×1080 and 3840×2160.
//!
//! The figures come from the live feed's `stats` messages (the inventory and open alerts by
//! severity, every few seconds) and from the statistics API, asked again every minute.

use crate::app::Route;
use crate::components::district_panel::DistrictPanel;
use crate::components::inventory_table::{Figure, InventoryTable};
use crate::components::kpi::Kpi;
use crate::components::map::{CityMap, Focus};
use crate::components::wall_alerts::WallAlerts;
use crate::components::wall_chart::{Bar, ChartSpec, WallChart};
use crate::components::wall_incident::WallIncident;
use crate::errors;
use crate::format::cst;
use crate::hooks::{use_basemap, use_polled, Basemap};
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use crate::services::api::{self, StatsScope};
use crate::services::incidents;
use crate::services::token::query_param;
use crate::state::{ConnStatus, LiveContext};
use shared::alert::{AlertKind, AlertStatus};
use shared::live::CityStats;
use shared::stats::{AlertStats, ComplianceDistribution, FillingStats, Flows, GroupBy, Inventory};
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// How often the charts' statistics are asked again, in milliseconds.
const REFRESH_MS: u32 = 60_000;

/// How often the open incidents are asked again, in milliseconds: on connect, then now and
/// then; the live `incident` topic brings every change in between.
const INCIDENTS_REFRESH_MS: u32 = 30_000;

/// How many bars the per-kind, per-enterprise and flows charts show.
const TOP: usize = 8;

/// The custody states counted as in stock (or at inspection) on the custody chart: what is
/// neither shipped, returning nor lost.
const IN_STOCK: &str = "/api/v1/cylinders?custody=in_stock_empty,in_stock_full,at_inspection";

/// The compliance states that count as violations on the enterprises chart.
const VIOLATIONS: [&str; 3] = ["inspection_overdue", "life_expired", "unregistered"];

/// Where the layout choice is kept in this browser.
const LAYOUT_KEY: &str = "cylwatch.wall.layout";

/// The layout presets (CSS classes `layout-<name>` in app.css).
const LAYOUTS: [&str; 3] = ["standard", "map", "figures"];

/// The layout asked for in the URL (and then remembered), else the remembered one.
fn layout() -> &'static str {
    let window = web_sys::window();
    let storage = window
        .as_ref()
        .and_then(|w| w.local_storage().ok().flatten());
    let asked = window
        .as_ref()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| query_param(&q, "layout"));
    if let Some(name) = asked
        .as_deref()
        .and_then(|a| LAYOUTS.iter().find(|l| **l == a))
    {
        if let Some(s) = &storage {
            let _ = s.set_item(LAYOUT_KEY, name);
        }
        return name;
    }
    storage
        .and_then(|s| s.get_item(LAYOUT_KEY).ok().flatten())
        .and_then(|stored| LAYOUTS.iter().find(|l| **l == stored).copied())
        .unwrap_or(LAYOUTS[0])
}

/// The wall page.
#[component]
pub fn Wall() -> Html {
    let lang = use_lang().lang;
    let live = use_context::<LiveContext>();
    let basemap = use_basemap();
    let layout = use_memo((), |_| layout());
    let navigator = use_navigator();

    let fillings = use_polled(REFRESH_MS, api::fillings_today);
    let alert_stats = use_polled(REFRESH_MS, api::alert_stats_today);
    let flows = use_polled(REFRESH_MS, api::flows_today);
    let compliance = use_polled(REFRESH_MS, || {
        api::compliance(GroupBy::Enterprise, &StatsScope::City)
    });
    // The inventory until the live feed's first `stats` message (and for users who are not
    // city-wide, who get none).
    let inventory_polled = use_polled(REFRESH_MS, || api::inventory(&StatsScope::City));

    let listed = use_polled(INCIDENTS_REFRESH_MS, incidents::active);
    let active: Option<Rc<Vec<Rc<shared::incident::Incident>>>> = listed.as_ref().map(|l| {
        let live_incidents = live.as_ref().map(|l| l.incidents.borrow().clone());
        Rc::new(incidents::merge_active(
            l,
            &live_incidents.unwrap_or_default(),
        ))
    });
    let chosen = use_state(|| None::<uuid::Uuid>);
    let dismissed = use_state(|| None::<uuid::Uuid>);
    let shown = focused(active.as_deref().map(Vec::as_slice), *chosen, *dismissed);
    let focus = shown.as_ref().and_then(|i| {
        i.place.map(|p| Focus {
            id: i.id,
            lon: p.lon(),
            lat: p.lat(),
            radius_m: f64::from(incidents::DEFAULT_RADIUS_M),
        })
    });

    let stats: Option<Rc<CityStats>> = live.as_ref().and_then(|l| l.stats.clone());
    let inventory = live_inventory(stats.as_deref(), inventory_polled.as_deref())
        .or_else(|| inventory_polled.clone());
    let status = live.as_ref().map_or(ConnStatus::Connecting, |l| l.status);

    let (online, moving, last) = live.as_ref().map_or((0, 0, None), |l| {
        let vehicles = l.vehicles.borrow();
        let moving = vehicles
            .values()
            .filter(|v| v.speed_kmh.unwrap_or(0.0) > 1.0)
            .count();
        (vehicles.len(), moving, l.last_update)
    });
    let last = last.map_or_else(
        || "—".to_owned(),
        |t| t.with_timezone(&cst()).format("%H:%M:%S").to_string(),
    );
    let open_alerts = open_by_severity(live.as_ref(), stats.as_deref());

    let kpis = kpis(
        lang,
        inventory.as_deref(),
        fillings.as_deref(),
        &open_alerts,
        (online, moving),
        &last,
    );

    let map = match &basemap {
        Basemap::Loading => {
            html! { <div class="map placeholder">{ lang.t(Key::MapLoading) }</div> }
        }
        Basemap::Failed(e) => {
            html! { <div class="map placeholder error">{ errors::failed(lang, Key::MapFailed, e) }</div> }
        }
        Basemap::Ready(d) => html! { <CityMap districts={d.clone()} focus={focus} /> },
    };
    let incident_panel = match (&shown, &active) {
        (Some(i), Some(open)) => {
            let on_choose = {
                let (chosen, dismissed) = (chosen.clone(), dismissed.clone());
                Callback::from(move |id| {
                    dismissed.set(None);
                    chosen.set(Some(id));
                })
            };
            let on_back = {
                let dismissed = dismissed.clone();
                let id = i.id;
                Callback::from(move |()| dismissed.set(Some(id)))
            };
            html! { <WallIncident key={i.id.to_string()} incident={i.clone()}
            open={open.clone()} {on_choose} {on_back} /> }
        }
        (None, Some(open)) if !open.is_empty() => {
            // Back at the city: one click returns to the newest incident.
            let back_to = open.iter().find(|i| i.place.is_some()).map(|i| i.id);
            let again = {
                let (chosen, dismissed) = (chosen.clone(), dismissed.clone());
                Callback::from(move |_: MouseEvent| {
                    dismissed.set(None);
                    chosen.set(back_to);
                })
            };
            html! {
                <button type="button" class="lang wall-incidents-chip" id="wall-incidents-chip"
                    data-count={open.len().to_string()} onclick={again}>
                    { format!("{} {}", crate::incident_text::T::WallIncident.t(lang), open.len()) }
                </button>
            }
        }
        _ => html! {},
    };
    let districts = match &basemap {
        Basemap::Ready(d) => html! { <DistrictPanel districts={d.clone()} /> },
        _ => html! {},
    };
    // A figure of the table leads to the city's statistics, where its list opens (as a chart's
    // column or bar does).
    let on_figure = {
        let navigator = navigator.clone();
        Callback::from(move |f: Figure| {
            if let Some(n) = &navigator {
                let query = [("list", f.path), ("title", f.title)];
                if n.push_with_query(&Route::Stats, &query).is_err() {
                    n.push(&Route::Stats);
                }
            }
        })
    };
    let table = match &inventory {
        Some(inv) => {
            html! { <InventoryTable inventory={inv.clone()} open={None::<String>} on_open={on_figure} /> }
        }
        None => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
    };

    let charts = charts(
        lang,
        fillings.as_deref(),
        inventory.as_deref(),
        alert_stats.as_deref(),
        compliance.as_deref(),
        flows.as_deref(),
    );
    let reconnecting = status == ConnStatus::Reconnecting;
    html! {
        <div class={classes!("wall", format!("layout-{}", *layout))} id="wall" data-layout={*layout}>
            if reconnecting {
                <div class="wall-reconnecting" id="wall-reconnecting" role="status">
                    { lang.t(Key::WallReconnecting) }
                </div>
            }
            <div class="wall-kpis kpis" style="grid-area: kpi">{ kpis }</div>
            <div class="wall-map" style="grid-area: map">{ map }{ incident_panel }</div>
            <div class="panel wall-inventory" style="grid-area: inv">
                <h2>
                    { lang.t(Key::Inventory) }
                    <Link<Route> to={Route::Stats} classes="wall-more">{ lang.t(Key::OpenStatistics) }</Link<Route>>
                </h2>
                { table }
            </div>
            <div class="wall-feed" style="grid-area: feed"><WallAlerts /></div>
            <div class="wall-districts" style="grid-area: dist">{ districts }</div>
            { charts }
        </div>
    }
}

/// The incident the wall shows: the one chosen while it is open, else the newest open one
/// with a place; none once the shown one was dismissed (back to the city).
fn focused(
    open: Option<&[Rc<shared::incident::Incident>]>,
    chosen: Option<uuid::Uuid>,
    dismissed: Option<uuid::Uuid>,
) -> Option<Rc<shared::incident::Incident>> {
    let open = open?;
    let placed = |id: uuid::Uuid| open.iter().find(|i| i.id == id && i.place.is_some());
    let shown = chosen
        .and_then(placed)
        .or_else(|| open.iter().find(|i| i.place.is_some()))?;
    (Some(shown.id) != dismissed).then(|| shown.clone())
}

/// The live feed's figures with the lists behind them (which only the API's table carries).
fn live_inventory(stats: Option<&CityStats>, polled: Option<&Inventory>) -> Option<Rc<Inventory>> {
    let mut inventory = stats?.inventory.clone();
    if let Some(polled) = polled {
        for row in &mut inventory.rows {
            if let Some(p) = polled.rows.iter().find(|p| p.medium == row.medium) {
                row.links.clone_from(&p.links);
            }
        }
        inventory.total_links.clone_from(&polled.total_links);
    }
    Some(Rc::new(inventory))
}

/// Unresolved alerts by severity: the server's count when it sent one, else the live feed's.
fn open_by_severity(
    live: Option<&LiveContext>,
    stats: Option<&CityStats>,
) -> BTreeMap<String, i64> {
    if let Some(s) = stats {
        return s.open_alerts.clone();
    }
    let mut counts = BTreeMap::new();
    if let Some(l) = live {
        for a in l.alerts.borrow().values() {
            if a.status == AlertStatus::Open {
                *counts.entry(a.severity.name().to_owned()).or_insert(0) += 1;
            }
        }
    }
    counts
}

fn kpis(
    lang: Lang,
    inventory: Option<&Inventory>,
    fillings: Option<&FillingStats>,
    open_alerts: &BTreeMap<String, i64>,
    (online, moving): (usize, usize),
    last: &str,
) -> Html {
    let dash = || "—".to_owned();
    let (circulation, lost) = inventory.map_or((dash(), dash()), |i| {
        (
            (i.total.total - i.total.lost).to_string(),
            i.total.lost.to_string(),
        )
    });
    let (filled, refused) = fillings.map_or((dash(), dash()), |f| {
        (
            f.buckets
                .iter()
                .map(|b| b.fillings)
                .sum::<i64>()
                .to_string(),
            f.buckets
                .iter()
                .map(|b| b.refusals)
                .sum::<i64>()
                .to_string(),
        )
    });
    let severity = |name: &str| open_alerts.get(name).copied().unwrap_or(0);
    let total_open: i64 = open_alerts.values().sum();
    html! {
        <>
            <Kpi id="kpi-circulation" label={lang.t(Key::KpiCirculation)} value={circulation}
                detail={format!("{} {lost}", lang.t(Key::KpiLostDetail))} />
            <Kpi id="kpi-fillings" label={lang.t(Key::KpiFillingsToday)} value={filled} class={classes!("ok")} />
            <Kpi id="kpi-refusals" label={lang.t(Key::KpiRefusalsToday)} value={refused} class={classes!("warn")} />
            <div class={classes!("kpi", "kpi-alerts", (severity("critical") > 0).then_some("alarm"))} id="kpi-alerts"
                data-total={total_open.to_string()}>
                <div class="kpi-sev">
                    { for ["critical", "high", "medium", "low"].iter().map(|s| html! {
                        <span class={classes!("kpi-sev-n", format!("sev-{s}"))} data-severity={*s}
                            title={severity_label(lang, s)}>
                            <b>{ severity(s) }</b>
                            <small>{ severity_label(lang, s) }</small>
                        </span>
                    }) }
                </div>
                <div class="kpi-label">{ lang.t(Key::KpiOpenAlerts) }</div>
            </div>
            <Kpi id="kpi-vehicles" label={lang.t(Key::KpiOnRoad)} value={moving.to_string()}
                detail={format!("{} {online}", lang.t(Key::KpiOnlineDetail))} />
            <Kpi id="kpi-last-update" label={lang.t(Key::LastUpdate)} value={last.to_owned()} />
        </>
    }
}

fn severity_label(lang: Lang, name: &str) -> String {
    shared::alert::Severity::from_name(name)
        .map_or_else(|| name.to_owned(), |s| labels::severity(lang, s).to_owned())
}

/// Custody states from the inventory's columns: what is neither out nor lost is in stock (or
/// at inspection).
/// Each bar's list is the table's (the total row's); in stock, the list of those states.
fn custody_bars(lang: Lang, inventory: &Inventory) -> Vec<Bar> {
    let t = &inventory.total;
    let link = |column: &str| inventory.total_links.get(column).cloned();
    let in_stock = t.total - t.shipped - t.returning - t.lost;
    vec![
        Bar {
            label: lang.t(Key::InStockOther).to_owned(),
            value: in_stock,
            colour: (0x2e, 0xcc, 0x71),
            link: Some(IN_STOCK.to_owned()),
        },
        Bar {
            label: lang.t(Key::ColInTransit).to_owned(),
            value: t.in_transit,
            colour: (0xff, 0xb0, 0x20),
            link: link("in_transit"),
        },
        Bar {
            label: lang.t(Key::ColDelivered).to_owned(),
            value: t.delivered,
            colour: (0x5b, 0x9b, 0xd5),
            link: link("delivered"),
        },
        Bar {
            label: lang.t(Key::ColReturning).to_owned(),
            value: t.returning,
            colour: (0x9b, 0x7b, 0xe0),
            link: link("returning"),
        },
        Bar {
            label: lang.t(Key::ColLost).to_owned(),
            value: t.lost,
            colour: (0xff, 0x4d, 0x4f),
            link: link("lost"),
        },
    ]
}

/// The largest flows between sites today, as `from → to` bars, each leading to the moves
/// behind it.
fn flow_bars(lang: Lang, f: &Flows) -> Vec<Bar> {
    let site = |kind: &str, code: &str| {
        let prefix = match (kind, lang) {
            ("station", Lang::Zh) => "站",
            ("customer", Lang::Zh) => "户",
            ("station", Lang::En) => "St",
            ("customer", Lang::En) => "Cu",
            _ => "",
        };
        format!("{prefix} {code}")
    };
    f.flows
        .iter()
        .filter(|f| f.count > 0)
        .take(TOP)
        .map(|f| Bar {
            label: format!(
                "{} → {}",
                site(&f.from.kind, &f.from.code),
                site(&f.to.kind, &f.to.code)
            ),
            value: f.count,
            colour: (0x36, 0xcf, 0xc9),
            link: f.link.clone(),
        })
        .collect()
}

/// Cylinders out of compliance (overdue, past their life, unregistered) per enterprise, most
/// first.
fn violation_bars(c: &ComplianceDistribution) -> Vec<Bar> {
    let mut groups: Vec<(String, i64)> = c
        .groups
        .iter()
        .map(|g| {
            let n = VIOLATIONS
                .iter()
                .map(|s| g.counts.get(*s).copied().unwrap_or(0))
                .sum();
            (g.key.clone(), n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    groups
        .into_iter()
        .take(TOP)
        .map(|(label, value)| Bar {
            link: Some(format!(
                "/api/v1/cylinders?compliance={}&enterprise_code={}",
                VIOLATIONS.join(","),
                String::from(js_sys::encode_uri_component(&label))
            )),
            label,
            value,
            colour: (0xff, 0x8c, 0x1a),
        })
        .collect()
}

fn kind_bars(lang: Lang, a: &AlertStats) -> Vec<Bar> {
    let mut kinds: Vec<(String, i64, Option<String>)> = a
        .kinds
        .iter()
        .filter(|k| k.opened > 0)
        .map(|k| {
            let label = AlertKind::from_name(&k.kind).map_or_else(
                || k.kind.clone(),
                |kind| labels::alert_kind(lang, kind).to_owned(),
            );
            (label, k.opened, k.links.get("opened").cloned())
        })
        .collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    kinds
        .into_iter()
        .take(TOP)
        .map(|(label, value, link)| Bar {
            label,
            value,
            colour: (0xff, 0x4d, 0x4f),
            link,
        })
        .collect()
}

/// Fillings and refusals per hour of today (Beijing time); each hour's column leads to its
/// filling records.
fn hours(lang: Lang, f: &FillingStats) -> ChartSpec {
    let mut columns = vec![0; 24];
    let mut line = vec![0; 24];
    let mut links = vec![None; 24];
    for b in &f.buckets {
        let hour = b.start.with_timezone(&cst()).format("%H").to_string();
        if let Some(h) = hour.parse::<usize>().ok().filter(|h| *h < 24) {
            columns[h] += b.fillings;
            line[h] += b.refusals;
            if b.fillings > 0 {
                links[h] = b.links.get("fillings").map(|path| {
                    (
                        path.clone(),
                        format!("{} · {h:02}:00", lang.t(Key::ChartFillings)),
                    )
                });
            }
        }
    }
    ChartSpec::Hours {
        columns,
        line,
        colour: (0x2e, 0xcc, 0x71),
        line_colour: (0xff, 0x4d, 0x4f),
        links,
    }
}

fn chart_panel(area: &str, id: &str, title: &str, spec: Option<ChartSpec>, lang: Lang) -> Html {
    let body = match spec {
        Some(ChartSpec::Bars(bars)) if bars.is_empty() => {
            html! { <p class="notice">{ lang.t(Key::NoData) }</p> }
        }
        Some(spec) => html! {
            <WallChart id={id.to_owned()} spec={Rc::new(spec)} title={title.to_owned()} />
        },
        None => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
    };
    html! {
        <div class="panel wall-chart-panel" style={format!("grid-area: {area}")} data-chart={id.to_owned()}>
            <h2>{ title }</h2>
            <div class="wall-chart-body">{ body }</div>
        </div>
    }
}

fn charts(
    lang: Lang,
    fillings: Option<&FillingStats>,
    inventory: Option<&Inventory>,
    alerts: Option<&AlertStats>,
    compliance: Option<&ComplianceDistribution>,
    flows: Option<&Flows>,
) -> Html {
    html! {
        <>
            { chart_panel("ch1", "chart-fillings", lang.t(Key::ChartFillings), fillings.map(|f| hours(lang, f)), lang) }
            { chart_panel("ch2", "chart-custody", lang.t(Key::ChartCustody),
                inventory.map(|i| ChartSpec::Bars(custody_bars(lang, i))), lang) }
            { chart_panel("ch3", "chart-alert-kinds", lang.t(Key::ChartAlertKinds),
                alerts.map(|a| ChartSpec::Bars(kind_bars(lang, a))), lang) }
            { chart_panel("ch4", "chart-enterprises", lang.t(Key::ChartTopEnterprises),
                compliance.map(|c| ChartSpec::Bars(violation_bars(c))), lang) }
            { chart_panel("ch5", "chart-flows", lang.t(Key::ChartFlows),
                flows.map(|f| ChartSpec::Bars(flow_bars(lang, f))), lang) }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::incident::Incident;

    fn incident(n: u128, place: bool) -> Rc<Incident> {
        serde_json::from_value(json!({
            "id": uuid::Uuid::from_u128(n), "kind": "leak", "level": "general", "status": "open",
            "description": "x", "cylinder_code": null, "alert_id": null,
            "place": place.then(|| json!({"lon": 113.6, "lat": 34.7})),
            "district_code": null, "enterprise_codes": [], "caller": null, "opened_by": "d",
            "opened_at": "2026-12-07T01:00:00Z", "updated_at": "2026-12-07T01:00:00Z",
            "timeline": []
        }))
        .map(Rc::new)
        .unwrap()
    }

    #[test]
    fn the_wall_shows_the_chosen_or_newest_placed_incident_until_sent_back_to_the_city() {
        let id = uuid::Uuid::from_u128;
        let open = [incident(1, false), incident(2, true), incident(3, true)];
        assert_eq!(focused(None, None, None), None);
        assert_eq!(focused(Some(&open), None, None).map(|i| i.id), Some(id(2)));
        assert_eq!(
            focused(Some(&open), Some(id(3)), None).map(|i| i.id),
            Some(id(3))
        );
        // One without a place cannot be zoomed to; a closed (gone) choice falls back.
        assert_eq!(
            focused(Some(&open), Some(id(1)), None).map(|i| i.id),
            Some(id(2))
        );
        assert_eq!(
            focused(Some(&open), Some(id(9)), None).map(|i| i.id),
            Some(id(2))
        );
        assert_eq!(focused(Some(&open), None, Some(id(2))), None);
        assert_eq!(focused(Some(&open[..1]), None, None), None);
    }
}
