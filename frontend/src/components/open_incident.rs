//! 立案 from an alert: opens an incident about it (its cylinder, place and enterprise come
//! with it on the server) and goes to the incident's page. Shown to those who handle incidents.

use crate::app::Route;
use crate::errors;
use crate::i18n::{use_lang, Key};
use crate::incident_text::{self as text, T};
use crate::pages::incidents::{use_role, HANDLERS};
use crate::services::api::ApiError;
use crate::services::incidents;
use shared::alert::{Alert, AlertKind};
use shared::incident::{IncidentKind, IncidentLevel, NewIncident};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// The alert to open an incident from.
#[derive(Properties, PartialEq)]
pub struct OpenIncidentProps {
    pub alert: Rc<Alert>,
}

/// The kind an incident opened from an alert of `kind` starts as (the officer can say more
/// in the timeline): filling alerts are illegal filling, the rest other.
pub fn kind_of(kind: AlertKind) -> IncidentKind {
    match kind {
        AlertKind::Overfill
        | AlertKind::TareMismatch
        | AlertKind::FillingRefused
        | AlertKind::IllegalTag => IncidentKind::IllegalFilling,
        _ => IncidentKind::Other,
    }
}

/// The button.
#[component]
pub fn OpenIncident(props: &OpenIncidentProps) -> Html {
    let lang = use_lang().lang;
    let role = use_role();
    let navigator = use_navigator();
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    if !role.is_some_and(|r| HANDLERS.contains(&r)) {
        return html! {};
    }
    let a = props.alert.clone();
    let open = {
        let (busy, error) = (busy.clone(), error.clone());
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let new = NewIncident {
                kind: kind_of(a.kind),
                level: IncidentLevel::General,
                description: format!(
                    "{}：{} {}",
                    crate::labels::alert_kind(lang, a.kind),
                    crate::labels::subject_type(lang, &a.subject.kind),
                    a.subject.id
                ),
                cylinder_code: None,
                tag_id: None,
                serial_no: None,
                place: None,
                alert_id: Some(a.id),
                caller: None,
            };
            let (busy, error, navigator) = (busy.clone(), error.clone(), navigator.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match incidents::create(&new).await {
                    Ok(i) => {
                        if let Some(n) = &navigator {
                            n.push(&Route::Incident {
                                id: i.id.to_string(),
                            });
                        }
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    html! {
        <>
            <button type="button" class="act open-incident" disabled={*busy} onclick={open}
                title={text::kind(lang, kind_of(props.alert.kind))}>{ T::OpenFromAlert.t(lang) }</button>
            if let Some(e) = &*error {
                <p class="alert-error open-incident-error" role="alert" data-code={e.name()}>
                    { errors::failed(lang, Key::ActionFailed, e) }
                </p>
            }
        </>
    }
}
