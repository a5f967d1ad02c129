//! The directories (名录): enterprises, stations, staff, vehicles and customers within the
//! user's scope, one tab each, searched by a code's prefix or part of a name and filtered by
//! district, status and (enterprises, staff) licences ending within some days; a page at a
//! time (`next_cursor`). Each enterprise opens its profile.

use crate::app::Route;
use crate::components::registry_table::RegistryTable;
use crate::errors;
use crate::hooks::{use_basemap, Basemap};
use crate::i18n::{use_lang, Key, Lang};
use crate::services::api::ApiError;
use crate::services::registry::{self, Directory, DirectoryQuery};
use serde_json::Value;
use std::collections::BTreeMap;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

/// Records per page.
const PAGE: u32 = 100;

/// Page properties: which directory.
#[derive(Properties, PartialEq)]
pub struct DirectoryPageProps {
    pub kind: Directory,
}

/// What the list holds so far.
#[derive(Default, PartialEq)]
struct Rows {
    items: Rc<Vec<Value>>,
    next: Option<String>,
    loading: bool,
    error: Option<ApiError>,
}

/// A directory's tab title.
pub fn title(lang: Lang, kind: Directory) -> &'static str {
    lang.t(match kind {
        Directory::Enterprises => Key::DirEnterprises,
        Directory::Stations => Key::DirStations,
        Directory::Staff => Key::DirStaff,
        Directory::Vehicles => Key::DirVehicles,
        Directory::Customers => Key::DirCustomers,
    })
}

/// A directory's page.
pub fn route(kind: Directory) -> Route {
    match kind {
        Directory::Enterprises => Route::Enterprises,
        Directory::Stations => Route::Stations,
        Directory::Staff => Route::Staff,
        Directory::Vehicles => Route::Vehicles,
        Directory::Customers => Route::Customers,
    }
}

/// The search the page's URL holds (`?q=&district_code=&status=...`).
fn query_in_url() -> DirectoryQuery {
    let params = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok());
    let get = |name: &str| {
        params
            .as_ref()
            .and_then(|p| p.get(name))
            .unwrap_or_default()
    };
    DirectoryQuery {
        q: get("q"),
        district_code: get("district_code"),
        enterprise_code: get("enterprise_code"),
        status: get("status"),
        expiring_within_days: get("licence_expiring_within_days"),
    }
}

/// The page.
#[component]
pub fn DirectoryPage(props: &DirectoryPageProps) -> Html {
    let lang = use_lang().lang;
    let kind = props.kind;
    let basemap = use_basemap();
    let navigator = use_navigator();
    // The search is in the URL, so that going back from a profile finds it again.
    let form = use_state(query_in_url);
    let asked = use_state(query_in_url);
    // Loading from the start: an empty list is said only once the server said so.
    let rows = use_state(|| Rows {
        loading: true,
        ..Rows::default()
    });
    // The question whose answers are shown: an answer to an older one is dropped.
    let current = use_mut_ref(|| None::<DirectoryQuery>);

    let load = {
        let (rows, current) = (rows.clone(), current.clone());
        Callback::from(
            move |(query, cursor, before): (DirectoryQuery, Option<String>, Rc<Vec<Value>>)| {
                let (rows, current) = (rows.clone(), current.clone());
                rows.set(Rows {
                    items: before.clone(),
                    next: cursor.clone(),
                    loading: true,
                    error: None,
                });
                wasm_bindgen_futures::spawn_local(async move {
                    let answer = registry::directory(kind, &query, cursor.as_deref(), PAGE).await;
                    if current.borrow().as_ref() != Some(&query) {
                        return;
                    }
                    rows.set(match answer {
                        Ok(page) => {
                            let mut items = (*before).clone();
                            items.extend(page.items);
                            Rows {
                                items: Rc::new(items),
                                next: page.next_cursor,
                                loading: false,
                                error: None,
                            }
                        }
                        Err(e) => Rows {
                            items: before,
                            next: cursor,
                            loading: false,
                            error: Some(e),
                        },
                    });
                });
            },
        )
    };
    {
        let (load, current) = (load.clone(), current.clone());
        use_effect_with((*asked).clone(), move |query| {
            current.replace(Some(query.clone()));
            if let Some(nav) = &navigator {
                let pairs: BTreeMap<&str, String> = query.pairs(kind).into_iter().collect();
                if pairs.is_empty() {
                    nav.replace(&route(kind));
                } else {
                    let _ = nav.replace_with_query(&route(kind), &pairs);
                }
            }
            load.emit((query.clone(), None, Rc::default()));
            move || {
                current.replace(None);
            }
        });
    }

    let onsubmit = {
        let (form, asked) = (form.clone(), asked.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            asked.set((*form).clone());
        })
    };
    let text_input = |set: fn(&mut DirectoryQuery, String)| {
        let form = form.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                let mut next = (*form).clone();
                set(&mut next, input.value());
                form.set(next);
            }
        })
    };
    // A select applies at once.
    let select = |set: fn(&mut DirectoryQuery, String)| {
        let (form, asked) = (form.clone(), asked.clone());
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlSelectElement>() {
                let mut next = (*form).clone();
                set(&mut next, input.value());
                form.set(next.clone());
                asked.set(next);
            }
        })
    };
    let more = {
        let (load, asked, rows) = (load.clone(), asked.clone(), rows.clone());
        Callback::from(move |_: MouseEvent| {
            if rows.next.is_some() || rows.error.is_some() {
                load.emit(((*asked).clone(), rows.next.clone(), rows.items.clone()));
            }
        })
    };

    let districts = match &basemap {
        Basemap::Ready(ds) => {
            let mut ds: Vec<(String, String)> = ds
                .iter()
                .filter_map(|d| Some((d.code.clone()?, d.name.clone())))
                .collect();
            ds.sort();
            ds
        }
        _ => Vec::new(),
    };
    let tabs = Directory::ALL.iter().map(|k| {
        let active = *k == kind;
        html! {
            <li class={classes!("dir-tab", active.then_some("active"))} data-kind={k.collection()}>
                <Link<Route> to={route(*k)}>{ title(lang, *k) }</Link<Route>>
            </li>
        }
    });
    let placeholder = lang.t(Key::DirectoryPlaceholder);
    let body = if rows.items.is_empty() && !rows.loading && rows.error.is_none() {
        html! { <p class="notice" id="directory-empty">{ lang.t(Key::ListEmpty) }</p> }
    } else {
        html! {
            <div class="table-scroll">
                <RegistryTable {kind} items={rows.items.clone()} id="directory-table" />
            </div>
        }
    };
    html! {
        <section id="directory-page" class="stats directory" data-kind={kind.collection()}
            data-loading={rows.loading.to_string()} data-count={rows.items.len().to_string()}
            data-more={rows.next.is_some().to_string()}>
            <div class="cyl-summary dir-head">
                <span class="st-what">{ lang.t(Key::Directory) }</span>
                <ul class="dir-tabs" id="directory-tabs">{ for tabs }</ul>
            </div>
            <div class="panel dir-panel">
                <form id="directory-search" class="search dir-search" role="search" {onsubmit}>
                    <input id="directory-q" type="search" name="q" autocomplete="off" spellcheck="false"
                        value={form.q.clone()} oninput={text_input(|q, v| q.q = v)}
                        {placeholder} aria-label={placeholder} />
                    <select id="directory-district" aria-label={lang.t(Key::AllDistricts)}
                        onchange={select(|q, v| q.district_code = v)}>
                        <option value="" selected={form.district_code.is_empty()}>{ lang.t(Key::AllDistricts) }</option>
                        { for districts.into_iter().map(|(code, name)| html! {
                            <option value={code.clone()} selected={form.district_code == code}>{ name }</option>
                        }) }
                    </select>
                    <select id="directory-status" aria-label={lang.t(Key::AnyStatus)}
                        onchange={select(|q, v| q.status = v)}>
                        <option value="" selected={form.status.is_empty()}>{ lang.t(Key::AnyStatus) }</option>
                        { for ["active", "suspended", "closed"].into_iter().map(|s| html! {
                            <option value={s} selected={form.status == s}>
                                { crate::record_fields::status(lang, s) }
                            </option>
                        }) }
                    </select>
                    if kind != Directory::Enterprises {
                        <input id="directory-enterprise" class="dir-enterprise" type="search" autocomplete="off"
                            spellcheck="false" value={form.enterprise_code.clone()}
                            oninput={text_input(|q, v| q.enterprise_code = v.trim().to_owned())}
                            placeholder={lang.t(Key::EnterpriseCodeFilter)}
                            aria-label={lang.t(Key::EnterpriseCodeFilter)} />
                    }
                    if kind.has_licences() {
                        <label class="dir-expiring">
                            <span>{ lang.t(Key::ExpiringWithin) }</span>
                            <input id="directory-expiring" type="number" min="0" max="3650" inputmode="numeric"
                                value={form.expiring_within_days.clone()}
                                oninput={text_input(|q, v| q.expiring_within_days = v)} />
                        </label>
                    }
                    <button id="directory-go" type="submit">{ lang.t(Key::DirectorySearch) }</button>
                </form>
                <h2>
                    { title(lang, kind) }
                    <small>{ format!(" · {} {}", lang.t(Key::Shown), rows.items.len()) }</small>
                </h2>
                { body }
                if let Some(e) = &rows.error {
                    <p class="notice bad" id="directory-error" data-code={e.name()}>
                        { errors::failed(lang, Key::LoadFailed, e) }
                    </p>
                }
                if rows.loading {
                    <p class="notice">{ lang.t(Key::Loading) }</p>
                } else if rows.next.is_some() || rows.error.is_some() {
                    <button id="directory-more" class="lang" type="button" onclick={more}>
                        { if rows.error.is_some() { lang.t(Key::Retry) } else { lang.t(Key::LoadMore) } }
                    </button>
                }
            </div>
        </section>
    }
}
