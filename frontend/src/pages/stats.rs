//! The statistics drill-down: city → district → enterprise → station, each level with its
//! inventory table (every figure opens the list of cylinders behind it), its compliance bars,
//! its newest alerts, and the level below to go to.
//!
//! The API has no list of enterprises or stations for a statistic, so the levels below are
//! found in what the statistics say: the city's districts are the base map's, a district's
//! enterprises are the keys of its compliance distribution, an enterprise's stations are those
//! its alerts name (any other by its code, in the search box). A station's enterprise is the
//! owner of a cylinder registered there.

use crate::app::Route;
use crate::components::compliance_bars::{BarGroup, ComplianceBars};
use crate::components::cylinder_list::CylinderList;
use crate::components::inventory_table::{Figure, InventoryTable};
use crate::components::recent_alerts::RecentAlerts;
use crate::components::record_list::RecordList;
use crate::errors;
use crate::geo::District;
use crate::hooks::{use_basemap, use_fetch, Basemap};
use crate::i18n::{use_lang, Key, Lang};
use crate::services::api::{self, AlertQuery, Fetch, StatsScope};
use shared::alert::Alert;
use shared::registry::EnterpriseView;
use shared::stats::{ComplianceDistribution, GroupBy};
use std::collections::BTreeSet;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// How many alerts a level shows.
const RECENT: usize = 10;

/// How many of an enterprise's alerts are read to find its stations.
const STATION_SCAN: u32 = 200;

/// Page properties: the level and its code, from the URL.
#[derive(Properties, PartialEq)]
pub struct StatsPageProps {
    pub scope: StatsScope,
}

/// The level's name (`city`, `district` ...) and code, as the page's data attributes say.
fn level(scope: &StatsScope) -> (&'static str, Option<&str>) {
    match scope {
        StatsScope::City => ("city", None),
        StatsScope::District(c) => ("district", Some(c)),
        StatsScope::Enterprise(c) => ("enterprise", Some(c)),
        StatsScope::Station(c) => ("station", Some(c)),
    }
}

/// The list asked for in the page's URL (`?list=&title=`), if it is one of the server's lists.
fn figure_in_url() -> Option<Figure> {
    let search = web_sys::window()?.location().search().ok()?;
    let query = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let path = query.get("list")?;
    (api::is_list_path(&path) || api::is_record_path(&path)).then(|| Figure {
        title: query.get("title").unwrap_or_default(),
        path,
    })
}

/// A district's name on the base map.
fn district_name(basemap: &Basemap, code: &str) -> Option<String> {
    match basemap {
        Basemap::Ready(ds) => ds
            .iter()
            .find(|d| d.code.as_deref() == Some(code))
            .map(|d| d.name.clone()),
        _ => None,
    }
}

/// The page.
#[component]
pub fn StatsPage(props: &StatsPageProps) -> Html {
    let lang = use_lang().lang;
    let scope = props.scope.clone();
    let basemap = use_basemap();
    // A list asked for in the URL (`?list=<API path>&title=`: a chart of the wall) is open at
    // first.
    let open = use_state(figure_in_url);

    let inventory = use_fetch(scope.clone(), |s| async move { api::inventory(&s).await });
    // A station's enterprise: the owner of one of its cylinders (asked once the table says
    // where its cylinders are listed).
    let probe = match (&scope, &inventory) {
        (StatsScope::Station(_), Fetch::Ready(inv)) => inv.total_links.get("total").cloned(),
        _ => None,
    };
    let owner = use_fetch(probe, |path| async move {
        let Some(path) = path else { return Ok(None) };
        let page = api::cylinder_list(&path, None, 1).await?;
        Ok(page
            .items
            .into_iter()
            .next()
            .map(|c| c.owner_enterprise_code))
    });
    let enterprise_code = match (&scope, &owner) {
        (StatsScope::Enterprise(c), _) => Some(c.clone()),
        (StatsScope::Station(_), Fetch::Ready(o)) => (**o).clone(),
        _ => None,
    };
    let enterprise = use_fetch(enterprise_code.clone(), |code| async move {
        match code {
            Some(c) => api::enterprise(&c).await.map(Some),
            None => Ok(None),
        }
    });
    let enterprise: Option<Rc<Option<EnterpriseView>>> = match enterprise {
        Fetch::Ready(e) => Some(e),
        _ => None,
    };
    let enterprise = enterprise.and_then(|e| (*e).clone());

    let question = match &scope {
        StatsScope::City => Some((GroupBy::District, StatsScope::City)),
        StatsScope::District(d) => Some((GroupBy::Enterprise, StatsScope::District(d.clone()))),
        StatsScope::Enterprise(e) => Some((GroupBy::Enterprise, StatsScope::Enterprise(e.clone()))),
        StatsScope::Station(c) => Some((GroupBy::Enterprise, StatsScope::Station(c.clone()))),
    };
    let compliance = use_fetch(question, |q| async move {
        match q {
            Some((group_by, s)) => api::compliance(group_by, &s).await.map(Some),
            None => Ok(None),
        }
    });
    let alerts = use_fetch(
        (scope.clone(), enterprise_code.clone()),
        |(s, e)| async move { recent_alerts(&s, e).await },
    );

    let on_open = {
        let open = open.clone();
        Callback::from(move |figure: Figure| open.set(Some(figure)))
    };
    let on_close = {
        let open = open.clone();
        Callback::from(move |()| open.set(None))
    };
    let open_path = open.as_ref().map(|f| f.path.clone());

    let (level_name, code) = level(&scope);
    let district_code = match &scope {
        StatsScope::District(d) => Some(d.clone()),
        _ => enterprise
            .as_ref()
            .map(|e| e.enterprise.district_code.as_str().to_owned()),
    };
    let head = breadcrumb(
        lang,
        &scope,
        district_code.map(|d| (district_name(&basemap, &d), d)),
        enterprise_code.clone().map(|e| {
            (
                enterprise.as_ref().map(|v| v.enterprise.name.to_string()),
                e,
            )
        }),
    );

    let inventory_panel = match &inventory {
        Fetch::Ready(inv) => html! {
            <InventoryTable inventory={inv.clone()} open={open_path.clone()} on_open={on_open.clone()} />
        },
        other => fetch_notice(lang, other, "stats-not-found"),
    };
    let compliance_panel = match &compliance {
        Fetch::Ready(dist) => match &**dist {
            Some(dist) => html! {
                <ComplianceBars groups={bar_groups(&scope, dist, &basemap, enterprise.as_ref())}
                    open={open_path.clone()} on_open={on_open.clone()} />
            },
            None => html! { <p class="notice">{ lang.t(Key::NoComplianceData) }</p> },
        },
        other => fetch_notice(lang, other, "compliance-not-found"),
    };
    let compliance_title = Key::ComplianceBars;
    let alerts_panel = match &alerts {
        Fetch::Ready(list) => {
            let shown: Vec<Alert> = list.iter().take(RECENT).cloned().collect();
            html! { <RecentAlerts alerts={Rc::new(shown)} /> }
        }
        other => fetch_notice(lang, other, "alerts-not-found"),
    };
    let below = children(lang, &scope, &basemap, &compliance, &alerts);

    html! {
        <section id="stats-page" class="stats" data-level={level_name} data-code={code.map(str::to_owned)}>
            { head }
            <div class="stats-body">
                <div class="stats-main">
                    <div class="panel stats-inventory">
                        <h2>{ lang.t(Key::Inventory) }<small>{ " · " }{ lang.t(Key::FigureHint) }</small></h2>
                        { inventory_panel }
                    </div>
                    if let Some(figure) = &*open {
                        if api::is_list_path(&figure.path) {
                            <CylinderList path={figure.path.clone()} title={figure.title.clone()} on_close={on_close} />
                        } else {
                            <RecordList path={figure.path.clone()} title={figure.title.clone()} on_close={on_close} />
                        }
                    }
                    <div class="panel stats-compliance">
                        <h2>{ lang.t(compliance_title) }</h2>
                        { compliance_panel }
                    </div>
                </div>
                <aside class="stats-side">
                    { below }
                    <div class="panel stats-alerts">
                        <h2>
                            { lang.t(Key::RecentAlerts) }{ " " }
                            <Link<Route> to={Route::Alerts} classes="stats-duty">{ lang.t(Key::OpenDutyConsole) }</Link<Route>>
                        </h2>
                        { alerts_panel }
                    </div>
                </aside>
            </div>
        </section>
    }
}

/// What a fetch that is not ready shows.
fn fetch_notice<T>(lang: Lang, fetch: &Fetch<T>, not_found_id: &'static str) -> Html {
    match fetch {
        Fetch::Loading => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
        Fetch::NotFound => html! {
            <p class="notice bad" id={not_found_id}>{ lang.t(Key::ScopeNotFound) }</p>
        },
        Fetch::Failed(e) => html! {
            <p class="notice bad" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
        },
        Fetch::Ready(_) => html! {},
    }
}

/// The newest alerts of a level. A station's: those about the station and its enterprise's,
/// merged newest first. An enterprise's: more than are shown, to find its stations in.
async fn recent_alerts(
    scope: &StatsScope,
    enterprise: Option<String>,
) -> Result<Vec<Alert>, api::ApiError> {
    let limit = u32::try_from(RECENT).unwrap_or(10);
    let query = |q: AlertQuery| AlertQuery {
        limit: Some(limit),
        ..q
    };
    let mut alerts = match scope {
        StatsScope::City => api::alerts(&query(AlertQuery::default())).await?.items,
        StatsScope::District(d) => {
            api::alerts(&query(AlertQuery {
                district_code: Some(d.clone()),
                ..AlertQuery::default()
            }))
            .await?
            .items
        }
        StatsScope::Enterprise(e) => {
            api::alerts(&AlertQuery {
                enterprise_code: Some(e.clone()),
                limit: Some(STATION_SCAN),
                ..AlertQuery::default()
            })
            .await?
            .items
        }
        StatsScope::Station(s) => {
            let mut items = api::alerts(&query(AlertQuery {
                subject_type: Some("station".to_owned()),
                subject_id: Some(s.clone()),
                ..AlertQuery::default()
            }))
            .await?
            .items;
            if let Some(e) = enterprise {
                let more = api::alerts(&query(AlertQuery {
                    enterprise_code: Some(e),
                    ..AlertQuery::default()
                }))
                .await?
                .items;
                for a in more {
                    if !items.iter().any(|b| b.id == a.id) {
                        items.push(a);
                    }
                }
            }
            items
        }
    };
    alerts.sort_by(|a, b| {
        b.last_seen_at
            .cmp(&a.last_seen_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    Ok(alerts)
}

/// The stations an enterprise's alerts name: as their subject, or in their evidence.
fn stations_in(alerts: &[Alert]) -> Vec<String> {
    let mut found = BTreeSet::new();
    for a in alerts {
        if a.subject.kind == "station" {
            found.insert(a.subject.id.clone());
        }
        if let Some(code) = a.evidence["station_code"].as_str() {
            found.insert(code.to_owned());
        }
    }
    found.into_iter().collect()
}

/// The strip above: 全市 › district › enterprise › station, each a link but the last.
fn breadcrumb(
    lang: Lang,
    scope: &StatsScope,
    district: Option<(Option<String>, String)>,
    enterprise: Option<(Option<String>, String)>,
) -> Html {
    let crumb = |route: Route, text: String, id: &'static str, last: bool| {
        if last {
            html! { <li id={id} aria-current="page"><b>{ text }</b></li> }
        } else {
            html! { <li id={id}><Link<Route> to={route}>{ text }</Link<Route>></li> }
        }
    };
    let named = |name: Option<String>, code: &str| match name {
        Some(n) if n != code => format!("{n} {code}"),
        _ => code.to_owned(),
    };
    let is = |level: &str| self::level(scope).0 == level;
    let mut items = vec![crumb(
        Route::Stats,
        lang.t(Key::LevelCity).to_owned(),
        "crumb-city",
        is("city"),
    )];
    if let Some((name, code)) = district {
        items.push(crumb(
            Route::StatsDistrict { code: code.clone() },
            named(name, &code),
            "crumb-district",
            is("district"),
        ));
    }
    let profile = enterprise.as_ref().map(|(_, code)| {
        html! {
            <Link<Route> to={Route::Enterprise { code: code.clone() }} classes="stats-profile">
                { lang.t(Key::EnterpriseProfile) }
            </Link<Route>>
        }
    });
    if let Some((name, code)) = enterprise {
        items.push(crumb(
            Route::StatsEnterprise { code: code.clone() },
            named(name, &code),
            "crumb-enterprise",
            is("enterprise"),
        ));
    }
    if let StatsScope::Station(code) = scope {
        items.push(crumb(
            Route::StatsStation { code: code.clone() },
            code.clone(),
            "crumb-station",
            true,
        ));
    }
    let level_key = match scope {
        StatsScope::City => Key::LevelCity,
        StatsScope::District(_) => Key::LevelDistrict,
        StatsScope::Enterprise(_) => Key::LevelEnterprise,
        StatsScope::Station(_) => Key::LevelStation,
    };
    html! {
        <div class="cyl-summary stats-head">
            <span class="st-what">{ lang.t(Key::Statistics) }{ " · " }{ lang.t(level_key) }</span>
            <ol class="crumbs" id="stats-crumbs">{ for items }</ol>
            { profile.unwrap_or_default() }
        </div>
    }
}

/// The compliance groups as bars: each named, and linking to its own level where there is one.
fn bar_groups(
    scope: &StatsScope,
    dist: &ComplianceDistribution,
    basemap: &Basemap,
    enterprise: Option<&EnterpriseView>,
) -> Rc<Vec<BarGroup>> {
    let groups = dist.groups.iter().map(|g| {
        let (name, route) = match scope {
            StatsScope::City => (
                district_name(basemap, &g.key).unwrap_or_else(|| g.key.clone()),
                Some(Route::StatsDistrict {
                    code: g.key.clone(),
                }),
            ),
            StatsScope::District(_) => (
                g.key.clone(),
                Some(Route::StatsEnterprise {
                    code: g.key.clone(),
                }),
            ),
            StatsScope::Enterprise(_) => (
                enterprise.map_or_else(|| g.key.clone(), |e| e.enterprise.name.to_string()),
                None,
            ),
            StatsScope::Station(_) => (
                enterprise.map_or_else(|| g.key.clone(), |e| e.enterprise.name.to_string()),
                Some(Route::StatsEnterprise {
                    code: g.key.clone(),
                }),
            ),
        };
        let href = route.map(|to| html! { <Link<Route> {to}>{ name.clone() }</Link<Route>> });
        BarGroup {
            group: g.clone(),
            name,
            href,
        }
    });
    Rc::new(groups.collect())
}

/// The level below: districts, enterprises or stations, each linking to its page.
fn children(
    lang: Lang,
    scope: &StatsScope,
    basemap: &Basemap,
    compliance: &Fetch<Rc<Option<ComplianceDistribution>>>,
    alerts: &Fetch<Rc<Vec<Alert>>>,
) -> Html {
    let total_of = |key: &str| -> Option<i64> {
        let Fetch::Ready(dist) = compliance else {
            return None;
        };
        let dist = (**dist).as_ref()?;
        let g = dist.groups.iter().find(|g| g.key == key)?;
        Some(g.counts.values().sum())
    };
    let item = |route: Route, name: String, code: String, n: Option<i64>| {
        html! {
            <li class="stats-child" data-code={code.clone()} key={code.clone()}>
                <Link<Route> to={route}>{ name }</Link<Route>>
                <span class="st-code">{ code }</span>
                <span class="stats-child-count">{ n.map(|n| n.to_string()).unwrap_or_default() }</span>
            </li>
        }
    };
    match scope {
        StatsScope::City => {
            let list = match basemap {
                Basemap::Ready(ds) => {
                    let mut ds: Vec<&District> = ds.iter().filter(|d| d.code.is_some()).collect();
                    ds.sort_by(|a, b| a.code.cmp(&b.code));
                    html! {
                        <ul id="stats-children" class="stats-children">
                            { for ds.into_iter().filter_map(|d| {
                                let code = d.code.clone()?;
                                Some(item(Route::StatsDistrict { code: code.clone() }, d.name.clone(), code.clone(), total_of(&code)))
                            }) }
                        </ul>
                    }
                }
                Basemap::Loading => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
                Basemap::Failed(e) => {
                    html! { <p class="notice bad">{ errors::failed(lang, Key::MapFailed, e) }</p> }
                }
            };
            panel(lang.t(Key::Districts), list)
        }
        StatsScope::District(_) => {
            let list = match compliance {
                Fetch::Ready(dist) => {
                    let keys: Vec<String> = (**dist)
                        .as_ref()
                        .map(|d| d.groups.iter().map(|g| g.key.clone()).collect())
                        .unwrap_or_default();
                    if keys.is_empty() {
                        html! { <p class="notice">{ lang.t(Key::NoInventory) }</p> }
                    } else {
                        html! {
                            <ul id="stats-children" class="stats-children">
                                { for keys.into_iter().map(|k| {
                                    let n = total_of(&k);
                                    html! {
                                        <li class="stats-child" data-code={k.clone()} key={k.clone()}>
                                            <Link<Route> to={Route::StatsEnterprise { code: k.clone() }}>{ k.clone() }</Link<Route>>
                                            <Link<Route> to={Route::Enterprise { code: k.clone() }} classes="stats-child-profile">
                                                { lang.t(Key::EnterpriseProfile) }
                                            </Link<Route>>
                                            <span class="stats-child-count">{ n.map(|n| n.to_string()).unwrap_or_default() }</span>
                                        </li>
                                    }
                                }) }
                            </ul>
                        }
                    }
                }
                other => fetch_notice(lang, other, "enterprises-not-found"),
            };
            panel(lang.t(Key::Enterprises), list)
        }
        StatsScope::Enterprise(_) => {
            let stations = match alerts {
                Fetch::Ready(list) => stations_in(list),
                _ => Vec::new(),
            };
            let list = if stations.is_empty() {
                html! { <p class="notice">{ lang.t(Key::NoStationsKnown) }</p> }
            } else {
                html! {
                    <ul id="stats-children" class="stations stats-children">
                        { for stations.into_iter().map(|s| item(Route::StatsStation { code: s.clone() }, s.clone(), s, None)) }
                    </ul>
                }
            };
            panel(
                lang.t(Key::Stations),
                html! {
                    <>
                        <p class="notice">{ lang.t(Key::StationsFromAlerts) }</p>
                        <StationSearch />
                        { list }
                    </>
                },
            )
        }
        StatsScope::Station(code) => panel(
            lang.t(Key::LevelStation),
            html! {
                <p>
                    <Link<Route> to={Route::Station { code: code.clone() }} classes="stats-filling">
                        { lang.t(Key::FillingControl) }{ " · " }{ code.clone() }
                    </Link<Route>>
                </p>
            },
        ),
    }
}

fn panel(title: &str, body: Html) -> Html {
    html! {
        <div class="panel stats-below">
            <h2>{ title.to_owned() }</h2>
            { body }
        </div>
    }
}

/// A box to open any station's statistics by its code.
#[component]
fn StationSearch() -> Html {
    let lang = use_lang().lang;
    let navigator = use_navigator();
    let input = use_node_ref();
    let onsubmit = {
        let input = input.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(el) = input.cast::<HtmlInputElement>() else {
                return;
            };
            let code = el.value().trim().to_owned();
            if let (false, Some(nav)) = (code.is_empty(), &navigator) {
                nav.push(&Route::StatsStation { code });
                el.set_value("");
            }
        })
    };
    let placeholder = lang.t(Key::StationSearchPlaceholder);
    html! {
        <form id="stats-station-search" class="search" role="search" {onsubmit}>
            <input ref={input} type="search" name="code" autocomplete="off" spellcheck="false"
                {placeholder} aria-label={placeholder} />
            <button type="submit">{ lang.t(Key::SearchGo) }</button>
        </form>
    }
}
