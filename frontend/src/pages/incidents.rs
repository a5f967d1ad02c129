//! 应急 duty console (`/incidents`): the incidents being handled (refreshed every few seconds),
//! a search of closed ones (kind, level, enterprise, district, dates), and the form that opens
//! a new incident from a phone call, a cylinder or a place, which then leads to its page.

use crate::app::Route;
use crate::components::place_picker::PlacePicker;
use crate::errors;
use crate::format::minute;
use crate::geo::District;
use crate::hooks::{use_basemap, use_polled, Basemap};
use crate::i18n::{use_lang, Key, Lang};
use crate::incident_text::{self as text, KINDS, LEVELS, T};
use crate::services::api::ApiError;
use crate::services::incidents::{self, IncidentQuery};
use crate::session::{use_session, Session};
use shared::auth::Role;
use shared::ids::GeoPoint;
use shared::incident::{
    Caller, Incident, IncidentKind, IncidentLevel, IncidentStatus, NewIncident,
};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;
use yew_router::prelude::*;

/// How often the active incidents are asked again, in milliseconds.
const ACTIVE_REFRESH_MS: u32 = 5_000;

/// Who opens and handles incidents (the server's list).
pub const HANDLERS: [Role; 4] = [
    Role::Admin,
    Role::CityRegulator,
    Role::DistrictRegulator,
    Role::DutyOfficer,
];

/// Who issues recalls.
pub const RECALLERS: [Role; 3] = [Role::Admin, Role::CityRegulator, Role::DistrictRegulator];

/// The signed-in user's role, if any.
#[hook]
pub fn use_role() -> Option<Role> {
    match use_session().session {
        Session::SignedIn(u) => Some(u.role),
        _ => None,
    }
}

/// The text of an input, select or text area.
pub fn value_of(r: &NodeRef) -> String {
    if let Some(i) = r.cast::<HtmlInputElement>() {
        return i.value();
    }
    if let Some(s) = r.cast::<HtmlSelectElement>() {
        return s.value();
    }
    r.cast::<HtmlTextAreaElement>()
        .map(|t| t.value())
        .unwrap_or_default()
}

/// The console.
#[component]
pub fn IncidentsPage() -> Html {
    let lang = use_lang().lang;
    let role = use_role();
    let active = use_polled(ACTIVE_REFRESH_MS, incidents::active);
    let districts = use_districts();
    let may_open = role.is_some_and(|r| HANDLERS.contains(&r));
    html! {
        <section class="incidents-page" id="incidents-page">
            <div class="panel incidents-active">
                <h2>
                    { T::ActiveFirst.t(lang) }
                    if may_open {
                        <Link<Route> to={Route::ResponderUnits} classes="units-link">{ T::ResponderUnits.t(lang) }</Link<Route>>
                    }
                </h2>
                { match &active {
                    Some(list) => table(lang, "incidents-active", list, &districts),
                    None => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
                } }
            </div>
            if may_open {
                <div class="panel incidents-new"><NewIncidentForm /></div>
            }
            <div class="panel incidents-search"><ClosedSearch districts={districts.clone()} /></div>
        </section>
    }
}

/// A table of incidents, each row leading to its page.
pub fn table(lang: Lang, id: &str, list: &[Incident], districts: &[District]) -> Html {
    if list.is_empty() {
        return html! { <p class="notice" id={format!("{id}-empty")}>{ T::NoIncidents.t(lang) }</p> };
    }
    html! {
        <div class="table-scroll">
            <table class="incident-table" id={id.to_owned()}>
                <thead><tr>
                    <th>{ T::OpenedAt.t(lang) }</th><th>{ T::Kind.t(lang) }</th>
                    <th>{ T::Level.t(lang) }</th><th>{ T::Status.t(lang) }</th>
                    <th>{ T::Place.t(lang) }</th><th>{ T::Description.t(lang) }</th>
                </tr></thead>
                <tbody>
                    { for list.iter().map(|i| html! {
                        <tr data-id={i.id.to_string()} data-status={i.status.name()}>
                            <td>
                                <Link<Route> to={Route::Incident { id: i.id.to_string() }} classes="incident-link">
                                    { minute(&i.opened_at) }
                                </Link<Route>>
                            </td>
                            <td>{ text::kind(lang, i.kind) }</td>
                            <td class={classes!("level", format!("level-{}", i.level.name()))}>{ text::level(lang, i.level) }</td>
                            <td><span class={classes!("status-chip", i.status.name())}>{ text::status(lang, i.status) }</span></td>
                            <td class="incident-place" data-district={i.district_code.as_ref().map(ToString::to_string)}>{ place(i, districts) }</td>
                            <td class="incident-desc" title={i.description.clone()}>{ &i.description }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

/// The district's name (its code while the base map is not loaded or does not know it), else
/// the coordinates, else a dash.
pub fn place(i: &Incident, districts: &[District]) -> String {
    match (&i.district_code, &i.place) {
        (Some(d), _) => district_name(districts, d),
        (None, Some(p)) => format!("{:.5}, {:.5}", p.lon(), p.lat()),
        _ => "—".to_owned(),
    }
}

/// The name of the district with that code, else the code.
pub fn district_name(districts: &[District], code: &str) -> String {
    districts
        .iter()
        .find(|d| d.code.as_deref() == Some(code))
        .map_or_else(|| code.to_owned(), |d| d.name.clone())
}

/// The districts of the base map once loaded (none before, or if it failed).
#[hook]
pub fn use_districts() -> Rc<Vec<District>> {
    match use_basemap() {
        Basemap::Ready(d) => d,
        _ => Rc::default(),
    }
}

#[derive(Properties, PartialEq)]
struct ClosedSearchProps {
    districts: Rc<Vec<District>>,
}

/// The search of closed incidents.
#[component]
fn ClosedSearch(props: &ClosedSearchProps) -> Html {
    let lang = use_lang().lang;
    let (kind, level, enterprise, district, words, from, to) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    let found = use_state(|| None::<Result<Rc<Vec<Incident>>, ApiError>>);
    let search = {
        let refs = (
            kind.clone(),
            level.clone(),
            enterprise.clone(),
            district.clone(),
            words.clone(),
            from.clone(),
            to.clone(),
        );
        let found = found.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (kind, level, enterprise, district, words, from, to) = &refs;
            let text = |r: &NodeRef| Some(value_of(r).trim().to_owned()).filter(|s| !s.is_empty());
            let day = |r: &NodeRef, end: bool| {
                let v = value_of(r);
                (!v.is_empty())
                    .then(|| format!("{v}T{}+08:00", if end { "23:59:59" } else { "00:00:00" }))
            };
            let query = IncidentQuery {
                kind: IncidentKind::from_name(&value_of(kind)),
                status: Some(IncidentStatus::Closed.name().to_owned()),
                enterprise_code: text(enterprise),
                district_code: text(district),
                q: text(words),
                from: day(from, false),
                to: day(to, true),
                limit: Some(200),
            };
            let level = IncidentLevel::from_name(&value_of(level));
            let found = found.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = incidents::list(&query).await.map(|page| {
                    Rc::new(
                        page.items
                            .into_iter()
                            .filter(|i| level.is_none_or(|l| i.level == l))
                            .collect(),
                    )
                });
                found.set(Some(answer));
            });
        })
    };
    html! {
        <>
            <h2>{ T::ClosedSearch.t(lang) }</h2>
            <form class="incident-filters" id="incident-search" onsubmit={search}>
                <select ref={kind} id="search-kind" aria-label={T::Kind.t(lang)}>
                    <option value="" selected=true>{ T::AllKinds.t(lang) }</option>
                    { for KINDS.iter().map(|k| html! { <option value={k.name()}>{ text::kind(lang, *k) }</option> }) }
                </select>
                <select ref={level} id="search-level" aria-label={T::Level.t(lang)}>
                    <option value="" selected=true>{ T::AllLevels.t(lang) }</option>
                    { for LEVELS.iter().map(|l| html! { <option value={l.name()}>{ text::level(lang, *l) }</option> }) }
                </select>
                <input ref={enterprise} id="search-enterprise" type="text" placeholder={T::Enterprise.t(lang)} />
                <input ref={district} id="search-district" type="text" placeholder={T::District.t(lang)} />
                <input ref={words} id="search-words" type="search" placeholder={T::SearchWords.t(lang)} />
                <input ref={from} id="search-from" type="date" aria-label={T::From.t(lang)} />
                <input ref={to} id="search-to" type="date" aria-label={T::To.t(lang)} />
                <button type="submit" class="act" id="search-go">{ T::Search.t(lang) }</button>
            </form>
            { match &*found {
                None => html! {},
                Some(Ok(list)) => table(lang, "incidents-closed", list, &props.districts),
                Some(Err(e)) => html! {
                    <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
                },
            } }
        </>
    }
}

/// The form that opens an incident.
#[component]
fn NewIncidentForm() -> Html {
    let lang = use_lang().lang;
    let navigator = use_navigator();
    let refs = use_memo((), |_| {
        std::array::from_fn::<NodeRef, 9, _>(|_| NodeRef::default())
    });
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let local = use_state(|| None::<&'static str>);
    let districts = use_districts();
    // The place marked on the map: clicked there, or typed as numbers.
    let marked = use_state(|| None::<(f64, f64)>);
    let on_pick = {
        let (refs, marked) = (refs.clone(), marked.clone());
        Callback::from(move |(lon, lat): (f64, f64)| {
            let [_, _, _, _, _, lon_ref, lat_ref, _, _] = &*refs;
            for (r, v) in [(lon_ref, lon), (lat_ref, lat)] {
                if let Some(i) = r.cast::<HtmlInputElement>() {
                    i.set_value(&v.to_string());
                }
            }
            marked.set(Some((lon, lat)));
        })
    };
    let on_typed = {
        let (refs, marked) = (refs.clone(), marked.clone());
        Callback::from(move |_: InputEvent| {
            let [_, _, _, _, _, lon, lat, _, _] = &*refs;
            marked.set(typed_place(&value_of(lon), &value_of(lat)));
        })
    };
    let submit = {
        let (refs, busy, error, local) = (refs.clone(), busy.clone(), error.clone(), local.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let [kind, level, desc, id_kind, id_value, lon, lat, caller, phone] = &*refs;
            let new = match read_form(
                &value_of(kind),
                &value_of(level),
                &value_of(desc),
                (&value_of(id_kind), &value_of(id_value)),
                (&value_of(lon), &value_of(lat)),
                (&value_of(caller), &value_of(phone)),
            ) {
                Ok(new) => new,
                Err(field) => {
                    local.set(Some(field));
                    return;
                }
            };
            local.set(None);
            error.set(None);
            busy.set(true);
            let (busy, error, navigator) = (busy.clone(), error.clone(), navigator.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match incidents::create(&new).await {
                    Ok(incident) => {
                        if let Some(n) = &navigator {
                            n.push(&Route::Incident {
                                id: incident.id.to_string(),
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
    let [kind, level, desc, id_kind, id_value, lon, lat, caller, phone] = (*refs).clone();
    html! {
        <form class="incident-form" id="incident-form" onsubmit={submit}>
            <h2>{ T::NewIncident.t(lang) }</h2>
            <label>{ T::Kind.t(lang) }
                <select ref={kind} id="new-kind">
                    { for KINDS.iter().enumerate().map(|(n, k)| html! { <option value={k.name()} selected={n == 0}>{ text::kind(lang, *k) }</option> }) }
                </select>
            </label>
            <label>{ T::Level.t(lang) }
                <select ref={level} id="new-level">
                    { for LEVELS.iter().enumerate().map(|(n, l)| html! { <option value={l.name()} selected={n == 0}>{ text::level(lang, *l) }</option> }) }
                </select>
            </label>
            <label class="wide">{ T::Description.t(lang) }
                <textarea ref={desc} id="new-description" rows="2" />
            </label>
            <label class="wide">{ T::CylinderCode.t(lang) }
                <span class="pair">
                    <select ref={id_kind} id="new-id-kind" aria-label={T::CylinderCode.t(lang)}>
                        <option value="cylinder_code" selected=true>{ T::CylinderCode.t(lang) }</option>
                        <option value="tag_id">{ T::TagId.t(lang) }</option>
                        <option value="serial_no">{ T::SerialNo.t(lang) }</option>
                    </select>
                    <input ref={id_value} id="new-cylinder" type="text" />
                </span>
            </label>
            <label class="wide">{ T::Place.t(lang) }
                <span class="pair">
                    <input ref={lon} id="new-lon" type="text" inputmode="decimal" placeholder={T::Lon.t(lang)}
                        aria-label={T::Lon.t(lang)} oninput={on_typed.clone()} />
                    <input ref={lat} id="new-lat" type="text" inputmode="decimal" placeholder={T::Lat.t(lang)}
                        aria-label={T::Lat.t(lang)} oninput={on_typed} />
                </span>
            </label>
            if !districts.is_empty() {
                <div class="wide new-place">
                    <p class="hint">{ T::PickOnMap.t(lang) }</p>
                    <PlacePicker districts={districts.clone()} place={*marked} {on_pick} />
                </div>
            }
            <label class="wide">{ T::Caller.t(lang) }
                <span class="pair">
                    <input ref={caller} id="new-caller" type="text" placeholder={T::CallerName.t(lang)} />
                    <input ref={phone} id="new-phone" type="tel" placeholder={T::CallerPhone.t(lang)} />
                </span>
            </label>
            <button type="submit" class="act" id="new-submit" disabled={*busy}>{ T::Submit.t(lang) }</button>
            if let Some(field) = *local {
                <p class="alert-error" role="alert" data-field={field}>
                    { format!("{}{}{}", lang.t(Key::ActionFailed), errors::colon(lang), errors::code_text(lang, shared::ErrorCode::InvalidField, Some(field))) }
                </p>
            }
            if let Some(e) = &*error {
                <p class="alert-error" role="alert" id="new-error" data-code={e.name()}
                    data-field={e.field().map(str::to_owned)}>{ errors::failed(lang, Key::ActionFailed, e) }</p>
            }
        </form>
    }
}

/// The place typed as two numbers, when both read as a valid point.
pub fn typed_place(lon: &str, lat: &str) -> Option<(f64, f64)> {
    let p = GeoPoint::new(lon.trim().parse().ok()?, lat.trim().parse().ok()?).ok()?;
    Some((p.lon(), p.lat()))
}

/// The new incident from the form's text, or the field that cannot be sent as it is (the
/// server checks the rest and names the field).
pub fn read_form(
    kind: &str,
    level: &str,
    description: &str,
    (id_kind, id_value): (&str, &str),
    (lon, lat): (&str, &str),
    (caller, phone): (&str, &str),
) -> Result<NewIncident, &'static str> {
    let kind = IncidentKind::from_name(kind).ok_or("kind")?;
    let level = IncidentLevel::from_name(level).ok_or("level")?;
    let id_value = id_value.trim();
    let named = |k: &str| (id_kind == k && !id_value.is_empty()).then(|| id_value.to_owned());
    let place = match (lon.trim(), lat.trim()) {
        ("", "") => None,
        (lon, lat) => {
            let lon: f64 = lon.parse().map_err(|_| "place")?;
            let lat: f64 = lat.parse().map_err(|_| "place")?;
            Some(GeoPoint::new(lon, lat).map_err(|_| "place")?)
        }
    };
    let caller = match (caller.trim(), phone.trim()) {
        ("", "") => None,
        (name, phone) => Some(Caller {
            name: name.to_owned(),
            phone: phone.to_owned(),
        }),
    };
    Ok(NewIncident {
        kind,
        level,
        description: description.trim().to_owned(),
        cylinder_code: named("cylinder_code"),
        tag_id: named("tag_id"),
        serial_no: named("serial_no"),
        place,
        alert_id: None,
        caller,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_the_cylinder_by_the_chosen_identifier_and_reads_the_place() {
        let new = read_form(
            "leak",
            "major",
            " 用户报告漏气 ",
            ("serial_no", " SN-1 "),
            ("113.66", "34.76"),
            ("李女士", "13900000000"),
        )
        .unwrap();
        assert_eq!(new.kind, IncidentKind::Leak);
        assert_eq!(new.level, IncidentLevel::Major);
        assert_eq!(new.description, "用户报告漏气");
        assert_eq!(
            (new.cylinder_code, new.tag_id, new.serial_no.as_deref()),
            (None, None, Some("SN-1"))
        );
        let place = new.place.unwrap();
        assert_eq!((place.lon(), place.lat()), (113.66, 34.76));
        assert_eq!(new.caller.unwrap().name, "李女士");
    }

    #[test]
    fn a_typed_place_is_marked_only_when_both_numbers_make_a_point() {
        assert_eq!(typed_place(" 113.62 ", "34.75"), Some((113.62, 34.75)));
        assert_eq!(typed_place("113.62", ""), None);
        assert_eq!(typed_place("east", "34.75"), None);
        assert_eq!(typed_place("200", "34.75"), None);
    }

    #[test]
    fn the_place_is_the_districts_name_when_the_map_knows_it() {
        let incident: Incident = serde_json::from_value(serde_json::json!({
            "id": "6f1c7f0e-0000-4000-8000-000000000001", "kind": "leak", "level": "general",
            "status": "open", "description": "d", "place": {"lon": 113.6, "lat": 34.7},
            "district_code": "410105", "enterprise_codes": [], "opened_by": "d",
            "opened_at": "2026-12-07T08:00:00+08:00", "updated_at": "2026-12-07T08:00:00+08:00",
            "cylinder_code": null, "alert_id": null, "caller": null, "timeline": []
        }))
        .unwrap();
        let map = serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature",
            "properties": {"name": "金水区", "adcode": "410105"},
            "geometry": {"type": "Polygon", "coordinates": [[[113.5, 34.6], [113.8, 34.6], [113.8, 34.9], [113.5, 34.6]]]}}]});
        let districts = crate::geo::parse_districts(&map);
        assert_eq!(place(&incident, &districts), "金水区");
        assert_eq!(place(&incident, &[]), "410105");
        let mut elsewhere = incident.clone();
        elsewhere.district_code = None;
        assert_eq!(place(&elsewhere, &districts), "113.60000, 34.70000");
    }

    #[test]
    fn blank_parts_are_left_out_and_a_bad_place_is_named() {
        let new = read_form(
            "fire",
            "general",
            "x",
            ("cylinder_code", " "),
            ("", ""),
            ("", ""),
        )
        .unwrap();
        assert!(new.cylinder_code.is_none() && new.place.is_none() && new.caller.is_none());
        assert_eq!(
            read_form(
                "fire",
                "general",
                "x",
                ("cylinder_code", ""),
                ("east", "34.7"),
                ("", "")
            ),
            Err("place")
        );
        assert_eq!(
            read_form(
                "fire",
                "general",
                "x",
                ("cylinder_code", ""),
                ("200", "34.7"),
                ("", "")
            ),
            Err("place")
        );
        assert_eq!(
            read_form("flood", "general", "x", ("", ""), ("", ""), ("", "")),
            Err("kind")
        );
    }
}
