//! A station's record under its filling day: the enterprise it belongs to (a link to the
//! profile), its status, and for those who manage it the edit form (name, fence radius, full
//! stock limit) with the version check.

use crate::app::Route;
use crate::components::record_form::{RecordForm, STATION_FIELDS};
use crate::i18n::{use_lang, Key};
use crate::record_fields;
use crate::services::registry;
use crate::session::{use_session, Session};
use serde_json::Value;
use shared::auth::Role;
use shared::record::Writer;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// Strip properties: the station's code.
#[derive(Properties, PartialEq)]
pub struct StationRecordProps {
    pub code: String,
}

/// The strip, and the form when open. Nothing for a wall, or when the record cannot be read.
#[component]
pub fn StationRecord(props: &StationRecordProps) -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    let user = match &session.session {
        Session::SignedIn(u) if u.role != Role::Display => Some(u.clone()),
        _ => None,
    };
    let record = use_state(|| None::<Rc<Value>>);
    let tick = use_state(|| 0_u32);
    let editing = use_state(|| false);
    let saved = use_state(|| false);
    {
        let record = record.clone();
        let reads = user.is_some();
        use_effect_with(
            (props.code.clone(), *tick, reads),
            move |(code, _, reads)| {
                if *reads {
                    let (code, record) = (code.clone(), record.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        match registry::record("stations", &code).await {
                            Ok(v) => record.set(Some(Rc::new(v))),
                            Err(e) => {
                                web_sys::console::warn_1(&format!("station record: {e}").into())
                            }
                        }
                    });
                }
            },
        );
    }
    let (Some(user), Some(rec)) = (user, (*record).clone()) else {
        return html! {};
    };
    let enterprise = rec
        .get("enterprise_code")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let manages = match user.role {
        Role::Admin | Role::CityRegulator | Role::DistrictRegulator => true,
        Role::EnterpriseAdmin => user.enterprise_code.as_deref() == Some(enterprise.as_str()),
        _ => false,
    };
    let status = rec
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let on_saved = {
        let (record, editing, saved) = (record.clone(), editing.clone(), saved.clone());
        Callback::from(move |v: Value| {
            record.set(Some(Rc::new(v)));
            editing.set(false);
            saved.set(true);
        })
    };
    let on_cancel = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(false))
    };
    let on_reload = {
        let tick = tick.clone();
        Callback::from(move |()| tick.set(tick.wrapping_add(1)))
    };
    let edit = {
        let (editing, saved) = (editing.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            saved.set(false);
            editing.set(true);
        })
    };
    html! {
        <div class="panel station-record" id="station-record"
            data-version={rec.get("version").map(Value::to_string)}>
            <div class="station-record-head">
                <span class="cyl-label">{ record_fields::label_or_name(lang, "enterprise_code") }</span>
                <Link<Route> to={Route::Enterprise { code: enterprise.clone() }} classes="station-enterprise">
                    { enterprise.clone() }
                </Link<Route>>
                <span class={classes!("record-status", format!("record-{status}"))}>
                    { record_fields::status(lang, &status) }
                </span>
                <span class="cyl-label">{ record_fields::label_or_name(lang, "radius_m") }</span>
                <span id="station-radius">{ record_fields::text(lang, "radius_m", rec.get("radius_m").unwrap_or(&Value::Null)) }</span>
                <span class="cyl-label">{ record_fields::label_or_name(lang, "full_stock_limit") }</span>
                <span id="station-limit">{ record_fields::text(lang, "full_stock_limit", rec.get("full_stock_limit").unwrap_or(&Value::Null)) }</span>
                if manages && !*editing {
                    <button id="station-edit" class="lang" type="button" onclick={edit}>{ lang.t(Key::Edit) }</button>
                }
                if *saved {
                    <span class="notice" id="station-saved">{ lang.t(Key::Saved) }</span>
                }
            </div>
            if manages && *editing {
                <RecordForm collection="stations" key_value={props.code.clone()} record={rec.clone()}
                    fields={&STATION_FIELDS[..]} writer={Writer::Manager} {on_saved} {on_cancel} {on_reload} />
            }
        </div>
    }
}
