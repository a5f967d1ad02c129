//! The list behind a figure: the cylinders the server counts in it, a page at a time
//! (`next_cursor`), each linking to its own page, and the whole list as CSV. The CSV is fetched
//! with the session's token and handed to the browser as a file (a plain link would not carry
//! the token).

use crate::app::Route;
use crate::errors;
use crate::format::minute_or_dash;
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use crate::services::api::{self, ApiError, ListedCylinder};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

/// Cylinders per page.
const PAGE: u32 = 100;

/// List properties.
#[derive(Properties, PartialEq)]
pub struct CylinderListProps {
    /// The API path of the list (a figure's link).
    pub path: String,
    pub title: String,
    pub on_close: Callback<()>,
}

/// Why the CSV did not arrive: the server's answer, or the browser would not save it (its
/// reason is logged, it means nothing to the user).
#[derive(Debug, Clone, PartialEq)]
enum CsvFailed {
    Api(ApiError),
    Save,
}

impl CsvFailed {
    fn text(&self, lang: Lang) -> String {
        match self {
            Self::Api(e) => errors::failed(lang, Key::LoadFailed, e),
            Self::Save => lang.t(Key::LoadFailed).to_owned(),
        }
    }
}

/// What the list holds so far.
#[derive(Default, PartialEq)]
struct Rows {
    items: Rc<Vec<ListedCylinder>>,
    next: Option<String>,
    loading: bool,
    error: Option<ApiError>,
}

/// The list panel.
#[component]
pub fn CylinderList(props: &CylinderListProps) -> Html {
    let lang = use_lang().lang;
    let rows = use_state(Rows::default);
    let asked = use_mut_ref(String::new);
    // The last CSV: how many lines it had, or why it failed.
    let csv = use_state(|| None::<Result<usize, CsvFailed>>);
    let csv_busy = use_state(|| false);

    let load = {
        let (rows, asked) = (rows.clone(), asked.clone());
        Callback::from(
            move |(path, cursor, before): (String, Option<String>, Rc<Vec<ListedCylinder>>)| {
                let (rows, asked) = (rows.clone(), asked.clone());
                rows.set(Rows {
                    items: before.clone(),
                    next: cursor.clone(),
                    loading: true,
                    error: None,
                });
                wasm_bindgen_futures::spawn_local(async move {
                    let answer = api::cylinder_list(&path, cursor.as_deref(), PAGE).await;
                    if *asked.borrow() != path {
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
        let (load, asked, csv) = (load.clone(), asked.clone(), csv.clone());
        use_effect_with(props.path.clone(), move |path| {
            asked.replace(path.clone());
            csv.set(None);
            load.emit((path.clone(), None, Rc::default()));
            move || {
                asked.replace(String::new());
            }
        });
    }
    let more = {
        let (load, path, rows) = (load.clone(), props.path.clone(), rows.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(next) = rows.next.clone() {
                load.emit((path.clone(), Some(next), rows.items.clone()));
            }
        })
    };
    let download = {
        let (path, csv, busy) = (props.path.clone(), csv.clone(), csv_busy.clone());
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            let (path, csv, busy) = (path.clone(), csv.clone(), busy.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = match api::cylinder_list_csv(&path).await {
                    Ok(text) => save_file(&text, "cylinders.csv", "text/csv;charset=utf-8", true)
                        .map(|()| text.lines().count())
                        .map_err(|e| {
                            web_sys::console::warn_1(&format!("saving the CSV: {e}").into());
                            CsvFailed::Save
                        }),
                    Err(e) => Err(CsvFailed::Api(e)),
                };
                busy.set(false);
                csv.set(Some(result));
            });
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let body = if rows.items.is_empty() && !rows.loading && rows.error.is_none() {
        html! { <p class="notice" id="cylinder-list-empty">{ lang.t(Key::NoCylinders) }</p> }
    } else {
        table(lang, &rows.items)
    };
    html! {
        <div class="panel stats-list" id="cylinder-list" data-path={props.path.clone()}
            data-loading={rows.loading.to_string()} data-count={rows.items.len().to_string()}
            data-more={rows.next.is_some().to_string()}
            data-csv-lines={csv.as_ref().and_then(|r| r.as_ref().ok()).map(ToString::to_string)}>
            <div class="stats-list-head">
                <h2>{ lang.t(Key::CylinderList) }{ " · " }{ props.title.clone() }
                    <small>{ format!(" · {} {}", lang.t(Key::Shown), rows.items.len()) }</small>
                </h2>
                <a id="cylinder-list-csv" class="lang" href="#cylinder-list" onclick={download}
                    aria-busy={csv_busy.to_string()}>
                    { if *csv_busy { lang.t(Key::Downloading) } else { lang.t(Key::DownloadCsv) } }
                </a>
                <button id="cylinder-list-close" class="lang" type="button" onclick={close}>
                    { lang.t(Key::Close) }
                </button>
            </div>
            if let Some(Err(e)) = &*csv {
                <p class="notice bad">{ e.text(lang) }</p>
            }
            <div class="table-scroll">{ body }</div>
            if let Some(e) = &rows.error {
                <p class="notice bad" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
            }
            if rows.loading {
                <p class="notice">{ lang.t(Key::Loading) }</p>
            } else if rows.next.is_some() || rows.error.is_some() {
                <button id="cylinder-list-more" class="lang" type="button" onclick={more}>
                    { if rows.error.is_some() { lang.t(Key::Retry) } else { lang.t(Key::LoadMore) } }
                </button>
            }
        </div>
    }
}

fn table(lang: Lang, items: &[ListedCylinder]) -> Html {
    html! {
        <table class="timeline stats-table" id="cylinder-list-table">
            <thead>
                <tr>
                    <th>{ lang.t(Key::FieldCode) }</th>
                    <th>{ lang.t(Key::FieldMedium) }</th>
                    <th>{ lang.t(Key::Custody) }</th>
                    <th>{ lang.t(Key::Compliance) }</th>
                    <th>{ lang.t(Key::FieldOwner) }</th>
                    <th>{ lang.t(Key::HeldAt) }</th>
                    <th>{ lang.t(Key::LastSeen) }</th>
                </tr>
            </thead>
            <tbody>
                { for items.iter().map(|c| {
                    let place = match (&c.place_kind, &c.place_code) {
                        (Some(kind), Some(code)) => format!("{} {code}", labels::subject_type(lang, kind)),
                        (None, Some(code)) => code.clone(),
                        _ => "—".to_owned(),
                    };
                    let bad = !matches!(c.compliance.as_str(), "ok" | "due_soon");
                    html! {
                        <tr key={c.code.clone()} data-code={c.code.clone()}>
                            <td class="code">
                                <Link<Route> to={Route::Cylinder { code: c.code.clone() }}>{ &c.code }</Link<Route>>
                            </td>
                            <td>{ labels::medium_code(lang, &c.medium) }</td>
                            <td class={classes!((c.custody == "lost").then_some("bad"))}>
                                { labels::custody_name(lang, &c.custody) }
                            </td>
                            <td class={classes!(bad.then_some("bad"))}>
                                { labels::compliance_short(lang, &c.compliance) }
                            </td>
                            <td>{ &c.owner_enterprise_code }</td>
                            <td>{ place }</td>
                            <td class="time">{ minute_or_dash(c.last_seen_at.as_ref()) }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

/// Hands `text` to the browser as a downloaded file; `bom` puts a byte-order mark first, so
/// that spreadsheet programs read the Chinese of a CSV as UTF-8.
pub fn save_file(text: &str, name: &str, mime: &str, bom: bool) -> Result<(), String> {
    let fail = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let parts = js_sys::Array::of2(&(if bom { "\u{feff}" } else { "" }).into(), &text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let anchor = document
        .create_element("a")
        .map_err(fail)?
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .map_err(|_| "not an anchor".to_owned())?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // Later: the browser reads the file after the click returns.
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}
