//! The report of a closed incident (`/incidents/{id}/report`), in Chinese whatever the
//! dashboard's language (it is filed), laid out for A4 (`@media print` in app.css hides the
//! header, the buttons and the links): summary, timeline, implicated cylinders and the recall
//! figures.

use crate::app::Route;
use crate::components::cylinder_list::save_file;
use crate::components::incident_tasks::TaskList;
use crate::components::incident_timeline::IncidentTimeline;
use crate::components::recall_progress::RecallList;
use crate::errors;
use crate::format::minute;
use crate::geo::District;
use crate::i18n::{Key, Lang, LangContext};
use crate::incident_text::{self as text, batch_why, T};
use crate::pages::incidents::{place, use_districts};
use crate::services::api::{ApiError, Fetch};
use crate::services::incidents;
use shared::incident::{Incident, IncidentContext, IncidentStatus};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// Everything the report shows.
#[derive(Clone, PartialEq)]
struct ReportData {
    incident: Incident,
    context: Option<IncidentContext>,
}

async fn load(id: uuid::Uuid) -> Result<ReportData, ApiError> {
    let incident = incidents::get(id).await?;
    let context = incidents::context(id, incidents::DEFAULT_RADIUS_M).await;
    Ok(ReportData {
        incident,
        // A report without the context still says what happened.
        context: context.ok(),
    })
}

/// The report's props.
#[derive(Properties, PartialEq)]
pub struct IncidentReportProps {
    pub id: String,
}

/// The report page.
#[component]
pub fn IncidentReportPage(props: &IncidentReportProps) -> Html {
    // Filed in Chinese.
    let lang = Lang::Zh;
    let id = uuid::Uuid::parse_str(&props.id).ok();
    let data = use_state(|| Fetch::<Rc<ReportData>>::Loading);
    let districts = use_districts();
    {
        let data = data.clone();
        use_effect_with(id, move |id| match *id {
            Some(id) => wasm_bindgen_futures::spawn_local(async move {
                data.set(load(id).await.map(Rc::new).into());
            }),
            None => data.set(Fetch::NotFound),
        });
    }
    let context = LangContext {
        lang,
        set: Callback::noop(),
    };
    let body = match &*data {
        Fetch::Loading => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
        Fetch::NotFound => {
            html! { <p class="notice" id="report-missing">{ T::NotFound.t(lang) }</p> }
        }
        Fetch::Failed(e) => html! {
            <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
        },
        Fetch::Ready(d) if d.incident.status != IncidentStatus::Closed => html! {
            <p class="notice" id="report-not-closed">
                { T::ReportOnlyClosed.t(lang) }{ " " }
                <Link<Route> to={Route::Incident { id: d.incident.id.to_string() }}>{ T::ViewIncident.t(lang) }</Link<Route>>
            </p>
        },
        Fetch::Ready(d) => report(lang, d, &districts),
    };
    html! {
        <ContextProvider<LangContext> {context}>
            <article class="incident-report" id="incident-report" lang="zh-CN">{ body }</article>
        </ContextProvider<LangContext>>
    }
}

fn report(lang: Lang, d: &ReportData, districts: &[District]) -> Html {
    let i = &d.incident;
    let print = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
    let closed_at = i
        .timeline
        .iter()
        .rev()
        .find(|e| e.status == Some(IncidentStatus::Closed))
        .map_or_else(|| minute(&i.updated_at), |e| minute(&e.at));
    let implicated = implicated(d.context.as_ref());
    html! {
        <>
            <div class="report-tools no-print">
                <Link<Route> to={Route::Incident { id: i.id.to_string() }} classes="act">{ T::ViewIncident.t(lang) }</Link<Route>>
                <Download id={i.id} file="report.csv" label={T::DownloadCsv.t(lang)} />
                <Download id={i.id} file="timeline.json" label={T::DownloadJson.t(lang)} />
                <button type="button" class="act" id="report-print" onclick={print}>{ T::Print.t(lang) }</button>
            </div>
            <h1>{ T::ReportTitle.t(lang) }</h1>
            <p class="report-meta">{ format!("编号 {}", i.id) }</p>
            <section class="report-summary" id="report-summary">
                <h2>{ T::Summary.t(lang) }</h2>
                <table class="report-facts">
                    <tbody>
                        <tr><th>{ T::Kind.t(lang) }</th><td id="report-kind">{ text::kind(lang, i.kind) }</td>
                            <th>{ T::Level.t(lang) }</th><td id="report-level">{ text::level(lang, i.level) }</td></tr>
                        <tr><th>{ T::OpenedAt.t(lang) }</th><td>{ minute(&i.opened_at) }</td>
                            <th>{ text::status(lang, IncidentStatus::Closed) }</th><td id="report-closed-at">{ closed_at }</td></tr>
                        <tr><th>{ T::Place.t(lang) }</th><td id="report-place">{ place(i, districts) }</td>
                            <th>{ T::OpenedBy.t(lang) }</th><td>{ &i.opened_by }</td></tr>
                        <tr><th>{ T::CylinderCode.t(lang) }</th><td>{ i.cylinder_code.as_deref().unwrap_or("—").to_owned() }</td>
                            <th>{ T::Enterprise.t(lang) }</th><td>{ i.enterprise_codes.join("、") }</td></tr>
                        <tr><th>{ T::Description.t(lang) }</th><td colspan="3" id="report-description">{ &i.description }</td></tr>
                    </tbody>
                </table>
            </section>
            <section class="report-timeline">
                <h2>{ T::Timeline.t(lang) }</h2>
                <IncidentTimeline entries={Rc::new(i.timeline.clone())} />
            </section>
            <section class="report-tasks">
                <h2>{ T::Tasks.t(lang) }</h2>
                <TaskList incident={Rc::new(i.clone())} may_update={false} />
            </section>
            <section class="report-implicated" id="report-implicated">
                <h2>{ format!("{}（{}）", T::Implicated.t(lang), implicated.len()) }</h2>
                <table class="report-table">
                    <thead><tr><th>{ T::CylinderCode.t(lang) }</th><th>{ T::Why.t(lang) }</th><th>{ T::Enterprise.t(lang) }</th></tr></thead>
                    <tbody>
                        { for implicated.iter().map(|(code, why, owner)| html! {
                            <tr data-code={code.clone()}><td>{ code }</td><td>{ why }</td><td>{ owner }</td></tr>
                        }) }
                    </tbody>
                </table>
            </section>
            <section class="report-recalls">
                <h2>{ T::RecallFigures.t(lang) }</h2>
                <RecallList recalls={Rc::new(i.recalls.clone())} />
            </section>
        </>
    }
}

/// The implicated cylinder first, then its batch: code, why, owner.
fn implicated(c: Option<&IncidentContext>) -> Vec<(String, String, String)> {
    let Some(c) = c else {
        return Vec::new();
    };
    c.cylinder
        .iter()
        .map(|v| {
            (
                v.archive.code.as_str().to_owned(),
                "涉事气瓶".to_owned(),
                v.archive.owner_enterprise_code.as_str().to_owned(),
            )
        })
        .chain(c.batch.cylinders.iter().map(|b| {
            (
                b.code.clone(),
                batch_why(Lang::Zh, &b.why),
                b.owner_enterprise_code.to_string(),
            )
        }))
        .collect()
}

#[derive(Properties, PartialEq)]
struct DownloadProps {
    id: uuid::Uuid,
    /// `report.csv` or `timeline.json`.
    file: &'static str,
    label: &'static str,
}

/// A download of the API's with the session's token (a plain link would go without it):
/// fetched, then handed to the browser as a file named after the incident.
#[component]
fn Download(props: &DownloadProps) -> Html {
    let lang = Lang::Zh;
    let error = use_state(|| None::<ApiError>);
    let fetch = {
        let (id, file, error) = (props.id, props.file, error.clone());
        Callback::from(move |_: MouseEvent| {
            let error = error.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match incidents::download(id, file).await {
                    Ok(text) => {
                        let (mime, bom) = if file.ends_with(".csv") {
                            ("text/csv;charset=utf-8", true)
                        } else {
                            ("application/json", false)
                        };
                        let name = format!("incident-{id}-{file}");
                        if let Err(e) = save_file(&text, &name, mime, bom) {
                            web_sys::console::warn_1(&format!("{name}: {e}").into());
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let id = format!("download-{}", props.file.replace('.', "-"));
    html! {
        <>
            <button type="button" class="act" {id} data-file={props.file} onclick={fetch}>{ props.label }</button>
            if let Some(e) = &*error {
                <span class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</span>
            }
        </>
    }
}
