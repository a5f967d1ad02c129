//! A table of registry records as a directory lists them (enterprises, stations, staff,
//! vehicles, customers): the columns of the kind that the records have, each enterprise
//! linking to its profile, each station to its page, each licence or certificate date with its
//! validity (colour and words).

use crate::app::Route;
use crate::hooks::{use_basemap, Basemap};
use crate::i18n::{use_lang, Lang};
use crate::record_fields;
use crate::services::registry::Directory;
use crate::validity::{beijing_today, validity};
use chrono::NaiveDate;
use serde_json::Value;
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// The columns of each directory, in order.
pub fn columns(kind: Directory) -> &'static [&'static str] {
    match kind {
        Directory::Enterprises => &[
            "code",
            "name",
            "district_code",
            "status",
            "filling_licence_no",
            "filling_licence_expires",
            "gas_licence_expires",
        ],
        Directory::Stations => &[
            "code",
            "name",
            "enterprise_code",
            "kind",
            "district_code",
            "status",
        ],
        Directory::Staff => &[
            "staff_no",
            "name",
            "enterprise_code",
            "role",
            "certificate_no",
            "certificate_expires",
            "status",
        ],
        Directory::Vehicles => &[
            "plate",
            "enterprise_code",
            "gps_device_id",
            "reader_device_id",
            "status",
        ],
        Directory::Customers => &[
            "code",
            "name",
            "enterprise_code",
            "kind",
            "district_code",
            "phone",
            "status",
        ],
    }
}

/// Whether a field is the end date of a licence or certificate.
pub fn is_expiry(field: &str) -> bool {
    field.ends_with("_expires")
}

/// Table properties.
#[derive(Properties, PartialEq)]
pub struct RegistryTableProps {
    pub kind: Directory,
    pub items: Rc<Vec<Value>>,
    /// The table's id.
    pub id: AttrValue,
    /// Leave out the enterprise column (the profile's own lists).
    #[prop_or_default]
    pub without_enterprise: bool,
}

/// The table.
#[component]
pub fn RegistryTable(props: &RegistryTableProps) -> Html {
    let lang = use_lang().lang;
    let basemap = use_basemap();
    let today = beijing_today();
    let columns: Vec<&str> = columns(props.kind)
        .iter()
        .copied()
        .filter(|f| !(props.without_enterprise && *f == "enterprise_code"))
        .filter(|f| props.items.iter().any(|i| i.get(*f).is_some()))
        .collect();
    let key_field = props.kind.key_field();
    html! {
        <table class="timeline stats-table registry-table" id={props.id.clone()}>
            <thead>
                <tr>
                    { for columns.iter().map(|f| html! {
                        <th data-field={*f}>{ record_fields::label_or_name(lang, f) }</th>
                    }) }
                </tr>
            </thead>
            <tbody>
                { for props.items.iter().map(|item| {
                    let key = item.get(key_field).and_then(Value::as_str).unwrap_or_default().to_owned();
                    // A staff number is unique within its enterprise only.
                    let owner = item.get("enterprise_code").and_then(Value::as_str).unwrap_or_default();
                    let status = item.get("status").and_then(Value::as_str).map(str::to_owned);
                    html! {
                        <tr key={format!("{owner}/{key}")} data-key={key.clone()} data-status={status}>
                            { for columns.iter().map(|f| cell(lang, props.kind, f, item, &basemap, today)) }
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

/// A district's name on the base map, or its code.
pub fn district_name(basemap: &Basemap, code: &str) -> String {
    match basemap {
        Basemap::Ready(ds) => ds
            .iter()
            .find(|d| d.code.as_deref() == Some(code))
            .map_or_else(|| code.to_owned(), |d| d.name.clone()),
        _ => code.to_owned(),
    }
}

/// A date with its validity on `today`: `2030-12-31 有效`.
pub fn dated_validity(lang: Lang, date: Option<NaiveDate>, today: NaiveDate) -> Html {
    let state = validity(date, today);
    html! {
        <>
            if let Some(d) = date {
                <span class="date">{ d.format("%Y-%m-%d").to_string() }</span>{ " " }
            }
            <span class={classes!("validity", format!("validity-{}", state.name()))}
                data-validity={state.name()}>{ state.text(lang) }</span>
        </>
    }
}

fn cell(
    lang: Lang,
    kind: Directory,
    field: &str,
    item: &Value,
    basemap: &Basemap,
    today: NaiveDate,
) -> Html {
    let value = item.get(field).unwrap_or(&Value::Null);
    let s = value.as_str();
    match (kind, field, s) {
        (Directory::Enterprises, "code", Some(code)) | (_, "enterprise_code", Some(code)) => {
            html! {
                <td class="code">
                    <Link<Route> to={Route::Enterprise { code: code.to_owned() }}>{ code }</Link<Route>>
                </td>
            }
        }
        (Directory::Stations, "code", Some(code)) => html! {
            <td class="code">
                <Link<Route> to={Route::Station { code: code.to_owned() }}>{ code }</Link<Route>>
            </td>
        },
        (_, "district_code", Some(code)) => html! { <td>{ district_name(basemap, code) }</td> },
        (_, "status", Some(status)) => html! {
            <td><span class={classes!("record-status", format!("record-{status}"))}>
                { record_fields::status(lang, status) }
            </span></td>
        },
        (_, f, _) if is_expiry(f) => {
            let date = s.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            html! { <td class="validity-cell" data-field={f.to_owned()}>{ dated_validity(lang, date, today) }</td> }
        }
        (_, f, _) if f == kind.key_field() => {
            html! { <td class="code">{ record_fields::text(lang, f, value) }</td> }
        }
        (_, f, _) => html! { <td>{ record_fields::text(lang, f, value) }</td> },
    }
}
