//! The wall's incident panel: the incident the map is zoomed to (kind, level, status, where:
//! the district's Chinese name from the base map), its latest timeline and its recalls'
//! progress, asked every few seconds; the other open incidents to switch to, and one click
//! back to the whole city.

use crate::app::Route;
use crate::components::incident_tasks::TaskList;
use crate::components::incident_timeline::IncidentTimeline;
use crate::components::recall_progress::RecallList;
use crate::hooks::use_polled;
use crate::i18n::use_lang;
use crate::incident_text::{self as text, T};
use crate::pages::incidents::{place, use_districts};
use crate::services::incidents;
use crate::state::LiveContext;
use shared::incident::Incident;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// How often the panel asks for the incident again, in milliseconds (the live `incident`
/// topic brings every change in between).
const PANEL_REFRESH_MS: u32 = 15_000;

/// How many timeline entries the panel shows (the newest).
const TIMELINE_SHOWN: usize = 6;

/// The panel's props.
#[derive(Properties, PartialEq)]
pub struct WallIncidentProps {
    /// The incident shown (as the list of open incidents has it).
    pub incident: Rc<Incident>,
    /// Every open incident, to switch between.
    pub open: Rc<Vec<Rc<Incident>>>,
    pub on_choose: Callback<uuid::Uuid>,
    pub on_back: Callback<()>,
}

/// The panel, keyed by the incident so that another starts afresh.
#[component]
pub fn WallIncident(props: &WallIncidentProps) -> Html {
    let lang = use_lang().lang;
    let i = &props.incident;
    let id = i.id;
    let districts = use_districts();
    let live = use_context::<LiveContext>();
    let live_now = live
        .as_ref()
        .and_then(|l| l.incidents.borrow().get(&id).cloned());
    let detail = use_polled(PANEL_REFRESH_MS, move || incidents::get(id));
    // The freshest of the live feed's, the fetched (with its timeline) and the list's.
    let shown = incidents::freshest(&[live_now.as_ref(), detail.as_ref(), Some(i)])
        .unwrap_or_else(|| i.clone());
    let back = {
        let on_back = props.on_back.clone();
        Callback::from(move |_: MouseEvent| on_back.emit(()))
    };
    html! {
        <aside class="panel wall-incident" id="wall-incident" data-id={id.to_string()}
            data-status={shown.status.name()} data-kind={shown.kind.name()} data-level={shown.level.name()}>
            <div class="wall-incident-head">
                <span class={classes!("level-chip", format!("level-{}", shown.level.name()))}>{ text::level(lang, shown.level) }</span>
                <b class="wall-incident-kind">{ text::kind(lang, shown.kind) }</b>
                <span class={classes!("status-chip", shown.status.name())}>{ text::status(lang, shown.status) }</span>
                <button type="button" class="lang wall-incident-back" id="wall-incident-back" onclick={back}>
                    { T::BackToCity.t(lang) }
                </button>
            </div>
            <p class="wall-incident-place" id="wall-incident-place" data-district={shown.district_code.as_ref().map(ToString::to_string)}>
                { format!("{}{}{}", T::Place.t(lang), crate::errors::colon(lang), place(&shown, &districts)) }
            </p>
            <p class="wall-incident-desc" title={shown.description.clone()}>{ &shown.description }</p>
            if props.open.len() > 1 {
                <div class="wall-incident-others">
                    { for props.open.iter().filter(|o| o.place.is_some()).map(|o| {
                        let (choose, oid) = (props.on_choose.clone(), o.id);
                        html! {
                            <button type="button" class={classes!("lang", "wall-incident-other", (oid == id).then_some("current"))}
                                data-id={oid.to_string()} onclick={Callback::from(move |_: MouseEvent| choose.emit(oid))}>
                                { text::kind(lang, o.kind) }
                            </button>
                        }
                    }) }
                </div>
            }
            <h3>{ T::Timeline.t(lang) }</h3>
            <IncidentTimeline entries={Rc::new(shown.timeline.clone())} last={Some(TIMELINE_SHOWN)} />
            <h3>{ T::Tasks.t(lang) }</h3>
            <TaskList incident={shown.clone()} may_update={false} />
            <h3>{ T::Recalls.t(lang) }</h3>
            <RecallList recalls={Rc::new(shown.recalls.clone())} />
            <Link<Route> to={Route::Incident { id: id.to_string() }} classes="wall-incident-open">
                { T::ViewIncident.t(lang) }
            </Link<Route>>
        </aside>
    }
}
