//! The list behind a figure that is not a list of cylinders: history rows (the moves behind a
//! flow), filling records, gun decisions, alerts or customer accounts, a page at a time
//! (`next_cursor`). The columns are the known fields the records have, in a fixed order, each
//! cylinder and station linking to its page.

use crate::app::Route;
use crate::errors;
use crate::format::cst;
use crate::i18n::{use_lang, Key, Lang};
use crate::services::api::{self, ApiError};
use serde_json::Value;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// Records per page.
const PAGE: u32 = 100;

/// The fields shown, in this order, when the records have them: (field, 中文, English).
const COLUMNS: [(&str, &str, &str); 24] = [
    ("cylinder_code", "气瓶", "Cylinder"),
    ("occurred_at", "时间", "Time"),
    ("decided_at", "决定时间", "Decided"),
    ("started_at", "开始", "Started"),
    ("ended_at", "结束", "Ended"),
    ("opened_at", "发生", "Opened"),
    ("kind", "类型", "Kind"),
    ("op", "操作", "Operation"),
    ("severity", "级别", "Severity"),
    ("status", "状态", "Status"),
    ("subject", "对象", "Subject"),
    ("code", "编码", "Code"),
    ("name", "名称", "Name"),
    ("station_code", "站点", "Station"),
    ("customer_code", "用户", "Customer"),
    ("to_station_code", "目的站", "To station"),
    ("vehicle_plate", "车辆", "Vehicle"),
    ("gun_no", "枪号", "Gun"),
    ("staff_no", "人员", "Staff"),
    ("mass_before_kg", "充前 kg", "Before kg"),
    ("mass_after_kg", "充后 kg", "After kg"),
    ("allowed", "允许", "Allowed"),
    ("rules", "规则", "Rules"),
    ("flags", "标记", "Flags"),
];

/// List properties.
#[derive(Properties, PartialEq)]
pub struct RecordListProps {
    /// The API path of the list (a figure's link).
    pub path: String,
    pub title: String,
    pub on_close: Callback<()>,
}

/// What the list holds so far.
#[derive(Default, PartialEq)]
struct Rows {
    items: Rc<Vec<Value>>,
    next: Option<String>,
    loading: bool,
    error: Option<ApiError>,
}

/// The list panel.
#[component]
pub fn RecordList(props: &RecordListProps) -> Html {
    let lang = use_lang().lang;
    let rows = use_state(Rows::default);
    let asked = use_mut_ref(String::new);

    let load = {
        let (rows, asked) = (rows.clone(), asked.clone());
        Callback::from(
            move |(path, cursor, before): (String, Option<String>, Rc<Vec<Value>>)| {
                let (rows, asked) = (rows.clone(), asked.clone());
                rows.set(Rows {
                    items: before.clone(),
                    next: cursor.clone(),
                    loading: true,
                    error: None,
                });
                wasm_bindgen_futures::spawn_local(async move {
                    let answer = api::record_list(&path, cursor.as_deref(), PAGE).await;
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
        let (load, asked) = (load.clone(), asked.clone());
        use_effect_with(props.path.clone(), move |path| {
            asked.replace(path.clone());
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
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let body = if rows.items.is_empty() && !rows.loading && rows.error.is_none() {
        html! { <p class="notice" id="record-list-empty">{ lang.t(Key::ListEmpty) }</p> }
    } else {
        table(lang, &rows.items)
    };
    html! {
        <div class="panel stats-list" id="record-list" data-path={props.path.clone()}
            data-loading={rows.loading.to_string()} data-count={rows.items.len().to_string()}
            data-more={rows.next.is_some().to_string()}>
            <div class="stats-list-head">
                <h2>{ lang.t(Key::ListBehind) }{ " · " }{ props.title.clone() }
                    <small>{ format!(" · {} {}", lang.t(Key::Shown), rows.items.len()) }</small>
                </h2>
                <button id="record-list-close" class="lang" type="button" onclick={close}>
                    { lang.t(Key::Close) }
                </button>
            </div>
            <div class="table-scroll">{ body }</div>
            if let Some(e) = &rows.error {
                <p class="notice bad" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
            }
            if rows.loading {
                <p class="notice">{ lang.t(Key::Loading) }</p>
            } else if rows.next.is_some() || rows.error.is_some() {
                <button id="record-list-more" class="lang" type="button" onclick={more}>
                    { if rows.error.is_some() { lang.t(Key::Retry) } else { lang.t(Key::LoadMore) } }
                </button>
            }
        </div>
    }
}

/// A field's value as text: times in Beijing time, lists joined, objects' values in a row.
fn text(lang: Lang, value: &Value) -> String {
    match value {
        Value::Null => "—".to_owned(),
        Value::Bool(b) => match (b, lang) {
            (true, Lang::Zh) => "是".to_owned(),
            (false, Lang::Zh) => "否".to_owned(),
            (true, Lang::En) => "yes".to_owned(),
            (false, Lang::En) => "no".to_owned(),
        },
        Value::Number(n) => n.to_string(),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s).map_or_else(
            |_| s.clone(),
            |t| t.with_timezone(&cst()).format("%m-%d %H:%M:%S").to_string(),
        ),
        Value::Array(items) => items
            .iter()
            .map(|v| text(lang, v))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(fields) => fields
            .values()
            .map(|v| text(lang, v))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn table(lang: Lang, items: &[Value]) -> Html {
    let columns: Vec<&(&str, &str, &str)> = COLUMNS
        .iter()
        .filter(|(field, _, _)| items.iter().any(|i| i.get(field).is_some()))
        .collect();
    html! {
        <table class="timeline stats-table" id="record-list-table">
            <thead>
                <tr>
                    { for columns.iter().map(|(field, zh, en)| html! {
                        <th data-field={*field}>{ if lang == Lang::Zh { *zh } else { *en } }</th>
                    }) }
                </tr>
            </thead>
            <tbody>
                { for items.iter().map(|item| {
                    let code = item.get("cylinder_code").and_then(Value::as_str).map(str::to_owned);
                    html! {
                        <tr data-code={code}>
                            { for columns.iter().map(|(field, _, _)| cell(lang, field, item.get(field))) }
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

fn cell(lang: Lang, field: &str, value: Option<&Value>) -> Html {
    let value = value.unwrap_or(&Value::Null);
    match (field, value.as_str()) {
        ("cylinder_code", Some(code)) => html! {
            <td class="code">
                <Link<Route> to={Route::Cylinder { code: code.to_owned() }}>{ code }</Link<Route>>
            </td>
        },
        ("station_code" | "to_station_code", Some(code)) => html! {
            <td>
                <Link<Route> to={Route::Station { code: code.to_owned() }}>{ code }</Link<Route>>
            </td>
        },
        _ => html! { <td>{ text(lang, value) }</td> },
    }
}
