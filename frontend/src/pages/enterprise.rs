//! An enterprise's profile for supervisors (企业档案): its licences and their validity, today's
//! fillings, compliance of its cylinders, open alerts, stations, vehicles, staff with their
//! certificates, and the record's recent revisions. A regulator (and the enterprise's own
//! administrator, for what is not a regulator's) edits the record here; the administrator
//! proposes a change of the licences with its document, which a regulator approves or rejects
//! here; a regulator suspends and reinstates the enterprise.

use crate::app::Route;
use crate::components::compliance_bars::{BarGroup, ComplianceBars};
use crate::components::inventory_table::Figure;
use crate::components::kpi::Kpi;
use crate::components::proposal_list::ProposalList;
use crate::components::recent_alerts::RecentAlerts;
use crate::components::record_form::{RecordForm, ENTERPRISE_FIELDS};
use crate::components::registry_table::{dated_validity, district_name, RegistryTable};
use crate::components::revision_list::RevisionList;
use crate::errors;
use crate::hooks::{use_basemap, use_fetch};
use crate::i18n::{use_lang, Key, Lang};
use crate::record_fields;
use crate::services::api::{self, AlertQuery, ApiError, Fetch, StatsScope};
use crate::services::registry::{self, Directory, DirectoryQuery};
use crate::session::{use_session, Session, User};
use crate::validity::beijing_today;
use chrono::NaiveDate;
use serde_json::Value;
use shared::alert::AlertStatus;
use shared::auth::Role;
use shared::record::Writer;
use shared::stats::GroupBy;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// The licences a profile shows: (label field, number field, start field, end field). A start
/// date shows when the record has one.
const LICENCES: [(&str, &str, &str, &str); 2] = [
    (
        "filling_licence",
        "filling_licence_no",
        "filling_licence_valid_from",
        "filling_licence_expires",
    ),
    ("gas_licence", "gas_licence_no", "", "gas_licence_expires"),
];

/// How many of each list the profile asks for.
const LIST: u32 = 200;

/// Page properties: the enterprise's code, from the URL.
#[derive(Properties, PartialEq)]
pub struct EnterprisePageProps {
    pub code: String,
}

/// What the signed-in user may write on an enterprise's record, if anything.
pub fn writer(user: &User, code: &str) -> Option<Writer> {
    match user.role {
        Role::Admin | Role::CityRegulator | Role::DistrictRegulator => Some(Writer::Regulator),
        Role::EnterpriseAdmin if user.enterprise_code.as_deref() == Some(code) => {
            Some(Writer::Manager)
        }
        _ => None,
    }
}

/// Today's filling counts of the enterprise: (fillings, decisions, refusals, flagged).
async fn fillings_today(code: String) -> Result<(i64, i64, i64, i64), ApiError> {
    let stats: shared::stats::FillingStats = api::get_json(&format!(
        "/api/v1/stats/fillings?bucket=day&from={}&enterprise_code={}",
        api::encode(&api::today_start()),
        api::encode(&code)
    ))
    .await?;
    Ok(stats.buckets.iter().fold((0, 0, 0, 0), |acc, b| {
        (
            acc.0 + b.fillings,
            acc.1 + b.decisions,
            acc.2 + b.refusals,
            acc.3 + b.flagged,
        )
    }))
}

/// The enterprise's records of one directory.
async fn listed(kind: Directory, code: String) -> Result<Vec<Value>, ApiError> {
    let query = DirectoryQuery {
        enterprise_code: code,
        ..DirectoryQuery::default()
    };
    Ok(registry::directory(kind, &query, None, LIST).await?.items)
}

/// The page.
#[component]
pub fn EnterprisePage(props: &EnterprisePageProps) -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    let basemap = use_basemap();
    let navigator = use_navigator();
    let code = props.code.clone();
    // Bumped after a save or a status change: the record and its revisions are read again.
    let tick = use_state(|| 0_u32);
    // The form open: `Some(false)` to edit, `Some(true)` to propose.
    let editing = use_state(|| None::<bool>);
    let proposal_sent = use_state(|| false);
    // The record as last read or saved; kept while it is read again.
    let shown = use_state(|| None::<Rc<Value>>);

    let record = use_fetch((code.clone(), *tick), |(c, _)| async move {
        registry::record("enterprises", &c).await
    });
    {
        let shown = shown.clone();
        use_effect_with(record.clone(), move |r| {
            if let Fetch::Ready(v) = r {
                shown.set(Some(v.clone()));
            }
        });
    }
    let revisions = use_fetch((code.clone(), *tick), |(c, _)| async move {
        registry::revisions("enterprises", &c).await
    });
    let proposals = use_fetch((code.clone(), *tick), |(c, _)| async move {
        registry::pending_proposals("enterprises", &c).await
    });
    let stations = use_fetch(code.clone(), |c| listed(Directory::Stations, c));
    let vehicles = use_fetch(code.clone(), |c| listed(Directory::Vehicles, c));
    let staff = use_fetch(code.clone(), |c| listed(Directory::Staff, c));
    let today = use_fetch(code.clone(), fillings_today);
    let compliance = use_fetch(code.clone(), |c| async move {
        api::compliance(GroupBy::Enterprise, &StatsScope::Enterprise(c)).await
    });
    let alerts = use_fetch(code.clone(), |c| async move {
        api::alerts(&AlertQuery {
            status: Some(AlertStatus::Open),
            enterprise_code: Some(c),
            limit: Some(20),
            ..AlertQuery::default()
        })
        .await
        .map(|p| p.items)
    });

    let user = match &session.session {
        Session::SignedIn(u) => Some(u.clone()),
        _ => None,
    };
    let writer = user.as_ref().and_then(|u| writer(u, &code));

    let on_saved = {
        let (shown, editing, tick, sent) = (
            shown.clone(),
            editing.clone(),
            tick.clone(),
            proposal_sent.clone(),
        );
        Callback::from(move |saved: Value| {
            // A proposal's answer is the proposal, not the record.
            if *editing == Some(true) {
                sent.set(true);
            } else {
                shown.set(Some(Rc::new(saved)));
            }
            editing.set(None);
            tick.set(tick.wrapping_add(1));
        })
    };
    let on_cancel = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(None))
    };
    let on_reload = {
        let tick = tick.clone();
        Callback::from(move |()| tick.set(tick.wrapping_add(1)))
    };
    let open_form = |propose: bool| {
        let (editing, sent) = (editing.clone(), proposal_sent.clone());
        Callback::from(move |_: MouseEvent| {
            sent.set(false);
            editing.set(Some(propose));
        })
    };
    let on_decided = {
        let tick = tick.clone();
        Callback::from(move |()| tick.set(tick.wrapping_add(1)))
    };
    let on_open = {
        let (navigator, code) = (navigator.clone(), code.clone());
        Callback::from(move |figure: Figure| {
            if let Some(nav) = &navigator {
                let query = [("list", figure.path), ("title", figure.title)];
                let _ = nav.push_with_query(
                    &Route::StatsEnterprise { code: code.clone() },
                    &query
                        .into_iter()
                        .collect::<std::collections::BTreeMap<_, _>>(),
                );
            }
        })
    };

    let Some(rec) = (*shown).clone() else {
        let notice = match &record {
            Fetch::NotFound => html! {
                <p class="notice bad" id="enterprise-not-found">
                    { lang.t(Key::ScopeNotFound) }{ "：" }{ code.clone() }
                </p>
            },
            Fetch::Failed(e) => html! {
                <p class="notice bad" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
            },
            _ => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
        };
        return html! {
            <section id="enterprise-page" class="stats enterprise" data-code={code.clone()}>{ notice }</section>
        };
    };
    let text = |field: &str| rec.get(field).and_then(Value::as_str).map(str::to_owned);
    let status = text("status").unwrap_or_default();
    let version = rec.get("version").and_then(Value::as_i64).unwrap_or(0);
    let district = text("district_code").unwrap_or_default();
    let is_regulator = writer == Some(Writer::Regulator);

    let head = html! {
        <div class="cyl-summary ent-head">
            <span class="st-what">{ lang.t(Key::EnterpriseProfile) }</span>
            <span class="st-name" id="enterprise-name">{ text("name").unwrap_or_else(|| code.clone()) }</span>
            <span class="st-code">{ code.clone() }</span>
            <span id="enterprise-status" class={classes!("record-status", format!("record-{status}"))}
                data-status={status.clone()}>{ record_fields::status(lang, &status) }</span>
            <span class="ent-district">{ district_name(&basemap, &district) }</span>
            <span class="ent-version" id="enterprise-version">{ format!("v{version}") }</span>
            <span class="ent-links">
                <Link<Route> to={Route::StatsEnterprise { code: code.clone() }} classes="ent-stats">
                    { lang.t(Key::OpenStatistics) }
                </Link<Route>>
                <Link<Route> to={Route::Enterprises} classes="ent-directory">{ lang.t(Key::Directory) }</Link<Route>>
            </span>
        </div>
    };

    let licences = licence_table(lang, &rec, beijing_today());
    let form = match (writer, *editing) {
        (Some(w), Some(propose)) => html! {
            <RecordForm collection="enterprises" key_value={code.clone()} record={rec.clone()}
                fields={&ENTERPRISE_FIELDS[..]} writer={w} {propose} {on_saved} {on_cancel} {on_reload} />
        },
        (Some(w), None) => html! {
            <div class="form-actions">
                <button id="enterprise-edit" class="lang" type="button" onclick={open_form(false)}>{ lang.t(Key::Edit) }</button>
                // What a regulator writes, an enterprise proposes.
                if w == Writer::Manager {
                    <button id="enterprise-propose" class="lang" type="button" onclick={open_form(true)}>
                        { lang.t(Key::ProposeChange) }
                    </button>
                }
                if *proposal_sent {
                    <span class="notice" id="proposal-sent">{ lang.t(Key::ProposalSent) }</span>
                }
            </div>
        },
        (None, _) => html! {},
    };
    let proposals_panel = match &proposals {
        Fetch::Ready(list) => html! {
            <ProposalList proposals={list.clone()} decides={is_regulator} {on_decided} />
        },
        _ => html! {},
    };
    let status_box = if is_regulator && matches!(status.as_str(), "active" | "suspended") {
        html! { <StatusChange code={code.clone()} status={status.clone()} on_done={let t = tick.clone(); Callback::from(move |()| t.set(t.wrapping_add(1)))} /> }
    } else {
        html! {}
    };

    let today_panel = match &today {
        Fetch::Ready(t) => {
            let (fillings, decisions, refusals, flagged) = **t;
            html! {
                <div class="kpis ent-kpis" id="enterprise-today">
                    <Kpi id="kpi-ent-fillings" label={lang.t(Key::KpiFillingsToday)} value={fillings.to_string()} />
                    <Kpi id="kpi-ent-decisions" label={lang.t(Key::KpiDecisions)} value={decisions.to_string()} />
                    <Kpi id="kpi-ent-refused" label={lang.t(Key::KpiRefused)} value={refusals.to_string()}
                        class={(refusals > 0).then_some(classes!("bad")).unwrap_or_default()} />
                    <Kpi id="kpi-ent-flagged" label={lang.t(Key::KpiFlaggedFillings)} value={flagged.to_string()}
                        class={(flagged > 0).then_some(classes!("warn")).unwrap_or_default()} />
                </div>
            }
        }
        other => fetch_notice(lang, other),
    };
    let compliance_panel = match &compliance {
        Fetch::Ready(dist) => {
            let groups: Vec<BarGroup> = dist
                .groups
                .iter()
                .map(|g| BarGroup {
                    group: g.clone(),
                    name: text("name").unwrap_or_else(|| g.key.clone()),
                    href: None,
                })
                .collect();
            html! { <ComplianceBars groups={Rc::new(groups)} open={None::<String>} {on_open} /> }
        }
        other => fetch_notice(lang, other),
    };
    let alerts_panel = match &alerts {
        Fetch::Ready(list) => html! { <RecentAlerts alerts={list.clone()} /> },
        other => fetch_notice(lang, other),
    };
    let list_panel = |fetch: &Fetch<Rc<Vec<Value>>>, kind: Directory, id: &'static str| match fetch
    {
        Fetch::Ready(items) if items.is_empty() => {
            html! { <p class="notice">{ lang.t(Key::NoneYet) }</p> }
        }
        Fetch::Ready(items) => html! {
            <div class="table-scroll">
                <RegistryTable {kind} items={items.clone()} {id} without_enterprise=true />
            </div>
        },
        other => fetch_notice(lang, other),
    };
    let count = |fetch: &Fetch<Rc<Vec<Value>>>| match fetch {
        Fetch::Ready(items) => format!(" · {}", items.len()),
        _ => String::new(),
    };
    let revisions_panel = match &revisions {
        Fetch::Ready(list) => html! { <RevisionList revisions={list.clone()} /> },
        other => fetch_notice(lang, other),
    };

    html! {
        <section id="enterprise-page" class="stats enterprise" data-code={code.clone()}
            data-version={version.to_string()} data-status={status}>
            { head }
            <div class="stats-body">
                <div class="stats-main">
                    <div class="panel ent-licences" id="enterprise-licences">
                        <h2>{ lang.t(Key::Licences) }</h2>
                        <div class="table-scroll">{ licences }</div>
                        <p class="ent-media">
                            <span class="cyl-label">{ record_fields::label_or_name(lang, "media") }</span>{ " " }
                            <span id="enterprise-media">{ record_fields::text(lang, "media", rec.get("media").unwrap_or(&Value::Null)) }</span>
                        </p>
                        { form }
                        { proposals_panel }
                        { status_box }
                    </div>
                    { today_panel }
                    <div class="panel ent-compliance">
                        <h2>{ lang.t(Key::ComplianceBars) }</h2>
                        { compliance_panel }
                    </div>
                    <div class="panel ent-staff">
                        <h2>{ lang.t(Key::StaffCertificates) }<small>{ count(&staff) }</small></h2>
                        { list_panel(&staff, Directory::Staff, "enterprise-staff") }
                    </div>
                    <div class="panel ent-stations">
                        <h2>{ lang.t(Key::DirStations) }<small>{ count(&stations) }</small></h2>
                        { list_panel(&stations, Directory::Stations, "enterprise-stations") }
                    </div>
                    <div class="panel ent-vehicles">
                        <h2>{ lang.t(Key::DirVehicles) }<small>{ count(&vehicles) }</small></h2>
                        { list_panel(&vehicles, Directory::Vehicles, "enterprise-vehicles") }
                    </div>
                </div>
                <aside class="stats-side">
                    <div class="panel ent-alerts">
                        <h2>{ lang.t(Key::KpiOpenAlerts) }</h2>
                        { alerts_panel }
                    </div>
                    <div class="panel ent-revisions">
                        <h2>{ lang.t(Key::Revisions) }</h2>
                        { revisions_panel }
                    </div>
                </aside>
            </div>
        </section>
    }
}

/// What a fetch that is not ready shows.
fn fetch_notice<T>(lang: Lang, fetch: &Fetch<T>) -> Html {
    match fetch {
        Fetch::Loading | Fetch::Ready(_) => {
            html! { <p class="notice">{ lang.t(Key::Loading) }</p> }
        }
        Fetch::NotFound => html! { <p class="notice bad">{ lang.t(Key::ScopeNotFound) }</p> },
        Fetch::Failed(e) => html! {
            <p class="notice bad" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
        },
    }
}

/// The licences: number, start (when recorded), end and validity on `today`.
fn licence_table(lang: Lang, rec: &Value, today: NaiveDate) -> Html {
    let date = |field: &str| {
        rec.get(field)
            .and_then(Value::as_str)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let with_start = LICENCES
        .iter()
        .any(|(_, _, from, _)| !from.is_empty() && rec.get(*from).is_some());
    html! {
        <table class="timeline stats-table licences" id="licences">
            <thead>
                <tr>
                    <th></th>
                    <th>{ lang.t(Key::LicenceNumber) }</th>
                    if with_start {
                        <th>{ record_fields::label_or_name(lang, "filling_licence_valid_from") }</th>
                    }
                    <th>{ lang.t(Key::ValidUntil) }</th>
                </tr>
            </thead>
            <tbody>
                { for LICENCES.iter().map(|(label, no, from, to)| {
                    let number = record_fields::text(lang, no, rec.get(*no).unwrap_or(&Value::Null));
                    let start = (!from.is_empty()).then(|| date(from)).flatten();
                    html! {
                        <tr data-licence={*label}>
                            <th>{ record_fields::label_or_name(lang, label) }</th>
                            <td class="code">{ number }</td>
                            if with_start {
                                <td>{ start.map_or_else(|| "—".to_owned(), |d| d.format("%Y-%m-%d").to_string()) }</td>
                            }
                            <td class="validity-cell" data-field={*to}>{ dated_validity(lang, date(to), today) }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

/// Properties of the suspend / reinstate box.
#[derive(Properties, PartialEq)]
struct StatusChangeProps {
    code: String,
    /// `active` (offers suspend) or `suspended` (offers reinstate).
    status: String,
    on_done: Callback<()>,
}

/// A regulator suspends an active enterprise or reinstates a suspended one, with a reason.
#[component]
fn StatusChange(props: &StatusChangeProps) -> Html {
    let lang = use_lang().lang;
    let reason = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let action = if props.status == "suspended" {
        "reinstate"
    } else {
        "suspend"
    };
    let oninput = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                reason.set(i.value());
            }
        })
    };
    let onsubmit = {
        let (reason, error, busy, code, on_done) = (
            reason.clone(),
            error.clone(),
            busy.clone(),
            props.code.clone(),
            props.on_done.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            let (reason, error, busy, code, on_done) = (
                reason.clone(),
                error.clone(),
                busy.clone(),
                code.clone(),
                on_done.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer = registry::set_status("enterprises", &code, action, &reason).await;
                busy.set(false);
                match answer {
                    Ok(_) => {
                        reason.set(String::new());
                        error.set(None);
                        on_done.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let placeholder = lang.t(Key::StatusReasonPlaceholder);
    html! {
        <form id="status-change" class="search status-change" data-action={action} {onsubmit}>
            <input id="status-reason" type="text" value={(*reason).clone()} {oninput} {placeholder}
                aria-label={placeholder} />
            <button id="status-go" type="submit" disabled={*busy}>
                { lang.t(if action == "suspend" { Key::Suspend } else { Key::Reinstate }) }
            </button>
            if let Some(e) = &*error {
                <span class="field-error" id="status-error" data-code={e.name()}>{ errors::describe(lang, e) }</span>
            }
        </form>
    }
}
