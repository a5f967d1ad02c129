//! The edit form of a registry record: the fields its `PATCH` takes, filled in from the record
//! as read, sent (only those changed) with `If-Match` naming the version read. What the server
//! refuses shows in place: a field it names beside that field, a stale version (someone saved
//! in between) above the form with a button to read the record again. Fields only a regulator
//! writes (`shared::record::editable`) are disabled for everyone else; in the proposal mode an
//! enterprise proposes those, with its document, for a regulator to approve.

use crate::errors;
use crate::hooks::{use_basemap, Basemap};
use crate::i18n::{use_lang, Key, Lang};
use crate::record_fields;
use crate::services::api::ApiError;
use crate::services::registry;
use serde_json::{Map, Value};
use shared::record::{editable, RecordKind, Writer};
use shared::ErrorCode;
use std::collections::BTreeMap;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// How a field is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    Date,
    /// A number (sent as a JSON number).
    Number,
    /// A district of the base map.
    District,
    /// A list of codes, separated by commas or spaces (media).
    List,
}

/// One field of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormField {
    pub name: &'static str,
    pub input: Input,
}

const fn field(name: &'static str, input: Input) -> FormField {
    FormField { name, input }
}

/// An enterprise's form. A field the server adds (a licence's start date) is one line here.
pub const ENTERPRISE_FIELDS: [FormField; 9] = [
    field("name", Input::Text),
    field("credit_code", Input::Text),
    field("address", Input::Text),
    field("district_code", Input::District),
    field("filling_licence_no", Input::Text),
    field("filling_licence_expires", Input::Date),
    field("gas_licence_no", Input::Text),
    field("gas_licence_expires", Input::Date),
    field("media", Input::List),
];

/// A station's form (its location is moved on the map, not here).
pub const STATION_FIELDS: [FormField; 3] = [
    field("name", Input::Text),
    field("radius_m", Input::Number),
    field("full_stock_limit", Input::Number),
];

/// The field a server error names, as the form knows it: `media[1]` is `media`,
/// `location.lon` is `location`.
pub fn base_field(field: &str) -> &str {
    let end = field.find(['.', '[']).unwrap_or(field.len());
    &field[..end]
}

/// A record's value of a field as the form shows it: text as is, a number in digits, a list
/// joined by commas, nothing as empty.
pub fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| shown(Some(v)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// What the form sends for a field typed as `text`: empty is `null` (a licence cleared), a
/// number must read as one (`Err` otherwise), a list is split at commas and spaces.
pub fn to_json(input: Input, text: &str) -> Result<Value, ()> {
    let text = text.trim();
    match input {
        _ if text.is_empty() && input != Input::List => Ok(Value::Null),
        Input::Number => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .and_then(|n| {
                // Whole numbers as integers: `full_stock_limit` is one.
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    format!("{n:.0}").parse::<i64>().ok().map(Value::from)
                } else {
                    serde_json::Number::from_f64(n).map(Value::Number)
                }
            })
            .ok_or(()),
        Input::List => Ok(Value::Array(
            text.split([',', '，', ' ', '、'])
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        )),
        Input::Text | Input::Date | Input::District => Ok(Value::String(text.to_owned())),
    }
}

/// The fields changed from the record as read, as a `PATCH` body; the fields that do not read
/// (a number that is not one) are named in the second part.
pub fn changes(
    fields: &[FormField],
    record: &Value,
    values: &BTreeMap<&'static str, String>,
) -> (Map<String, Value>, Vec<&'static str>) {
    let mut changed = Map::new();
    let mut bad = Vec::new();
    for f in fields {
        let before = shown(record.get(f.name));
        let Some(now) = values.get(f.name) else {
            continue;
        };
        if now.trim() == before.trim() {
            continue;
        }
        match to_json(f.input, now) {
            Ok(v) => {
                changed.insert(f.name.to_owned(), v);
            }
            Err(()) => bad.push(f.name),
        }
    }
    (changed, bad)
}

/// Form properties.
#[derive(Properties, PartialEq)]
pub struct RecordFormProps {
    /// `enterprises`, `stations` ...
    pub collection: AttrValue,
    /// The record's key.
    pub key_value: AttrValue,
    /// The record as read (with its `version`).
    pub record: Rc<Value>,
    pub fields: &'static [FormField],
    /// What the user may write: a regulator everything editable, a manager what is not a
    /// regulator's.
    pub writer: Writer,
    /// The record as saved.
    pub on_saved: Callback<Value>,
    pub on_cancel: Callback<()>,
    /// Read the record again (after a stale version).
    pub on_reload: Callback<()>,
    /// Propose the regulators' fields instead of saving (an enterprise's administrator);
    /// `on_saved` then gets the proposal.
    #[prop_or_default]
    pub propose: bool,
}

/// Whether `writer` may write `name` of a `kind` record (or, `propose`, propose it).
pub fn may_write(kind: Option<RecordKind>, name: &str, writer: Writer, propose: bool) -> bool {
    match (kind.and_then(|k| editable(k, name)), propose) {
        (Some(Writer::Regulator), true) => true,
        (_, true) | (None, _) => false,
        (Some(Writer::Manager), false) => true,
        (Some(Writer::Regulator), false) => writer == Writer::Regulator,
    }
}

/// The field of the form a proposal's refusal names: `changes.media[0]` is `media`.
fn proposed_field(field: &str) -> &str {
    base_field(field.strip_prefix("changes.").unwrap_or(field))
}

/// The form.
#[component]
pub fn RecordForm(props: &RecordFormProps) -> Html {
    let lang = use_lang().lang;
    let basemap = use_basemap();
    let kind = RecordKind::from_collection(&props.collection);
    let initial = {
        let (record, fields) = (props.record.clone(), props.fields);
        move || -> BTreeMap<&'static str, String> {
            fields
                .iter()
                .map(|f| (f.name, shown(record.get(f.name))))
                .collect()
        }
    };
    let values = use_state(initial);
    let field_errors = use_state(BTreeMap::<String, String>::new);
    let form_error = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<Key>);
    let saving = use_state(|| false);
    let document = use_state(String::new);
    let propose = props.propose;
    // A record read again (after a stale version) fills the form afresh.
    {
        let (values, record, fields) = (values.clone(), props.record.clone(), props.fields);
        let (field_errors, form_error) = (field_errors.clone(), form_error.clone());
        use_effect_with(props.record.clone(), move |_| {
            values.set(
                fields
                    .iter()
                    .map(|f| (f.name, shown(record.get(f.name))))
                    .collect(),
            );
            field_errors.set(BTreeMap::new());
            form_error.set(None);
        });
    }

    let onsubmit = {
        let (values, field_errors, form_error, notice, saving) = (
            values.clone(),
            field_errors.clone(),
            form_error.clone(),
            notice.clone(),
            saving.clone(),
        );
        let (record, fields, collection, key) = (
            props.record.clone(),
            props.fields,
            props.collection.to_string(),
            props.key_value.to_string(),
        );
        let on_saved = props.on_saved.clone();
        let document = document.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *saving {
                return;
            }
            let (changed, bad) = changes(fields, &record, &values);
            form_error.set(None);
            notice.set(None);
            if !bad.is_empty() {
                field_errors.set(
                    bad.into_iter()
                        .map(|f| (f.to_owned(), lang.t(Key::NotANumber).to_owned()))
                        .collect(),
                );
                return;
            }
            field_errors.set(BTreeMap::new());
            if changed.is_empty() {
                notice.set(Some(Key::NothingChanged));
                return;
            }
            let document = document.trim().to_owned();
            if propose && document.is_empty() {
                field_errors.set(BTreeMap::from([(
                    "document_ref".to_owned(),
                    errors::code_text(lang, ErrorCode::InvalidField, Some("document_ref")),
                )]));
                return;
            }
            let version = record.get("version").and_then(Value::as_i64).unwrap_or(0);
            saving.set(true);
            let (field_errors, form_error, saving, on_saved) = (
                field_errors.clone(),
                form_error.clone(),
                saving.clone(),
                on_saved.clone(),
            );
            let (collection, key) = (collection.clone(), key.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = if propose {
                    registry::propose(&collection, &key, changed, &document)
                        .await
                        .and_then(|p| {
                            serde_json::to_value(p).map_err(|e| ApiError::Decode(e.to_string()))
                        })
                } else {
                    registry::patch(&collection, &key, version, &Value::Object(changed)).await
                };
                saving.set(false);
                match answer {
                    Ok(saved) => on_saved.emit(saved),
                    Err(e) => match in_place(&e, fields) {
                        Some(field) => {
                            field_errors.set(BTreeMap::from([(
                                field.to_owned(),
                                errors::describe(lang, &e),
                            )]));
                        }
                        None => form_error.set(Some(e)),
                    },
                }
            });
        })
    };
    let cancel = {
        let on_cancel = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| on_cancel.emit(()))
    };
    let reload = {
        let on_reload = props.on_reload.clone();
        Callback::from(move |_: MouseEvent| on_reload.emit(()))
    };

    let stale = matches!(
        form_error.as_ref().and_then(ApiError::code),
        Some(ErrorCode::VersionStale | ErrorCode::VersionRequired)
    );
    let rows = props.fields.iter().map(|f| {
        let writable = may_write(kind, f.name, props.writer, propose);
        let regulators = kind.and_then(|k| editable(k, f.name)) == Some(Writer::Regulator);
        let value = values.get(f.name).cloned().unwrap_or_default();
        let error = field_errors.get(f.name).cloned();
        let id = format!("edit-{}", f.name);
        let oninput = {
            let values = values.clone();
            let name = f.name;
            Callback::from(move |e: InputEvent| {
                if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                    let mut next = (*values).clone();
                    next.insert(name, input.value());
                    values.set(next);
                }
            })
        };
        let onchange = {
            let values = values.clone();
            let name = f.name;
            Callback::from(move |e: Event| {
                if let Some(input) = e.target_dyn_into::<HtmlSelectElement>() {
                    let mut next = (*values).clone();
                    next.insert(name, input.value());
                    values.set(next);
                }
            })
        };
        let control = match f.input {
            Input::District => district_select(lang, &basemap, &id, &value, !writable, onchange),
            _ => {
                let kind = match f.input {
                    Input::Date => "date",
                    Input::Number => "number",
                    _ => "text",
                };
                html! {
                    <input id={id.clone()} name={f.name} type={kind} value={value}
                        disabled={!writable} aria-invalid={error.is_some().then_some("true")}
                        step={(f.input == Input::Number).then_some("any")} {oninput} />
                }
            }
        };
        html! {
            <div class={classes!("form-row", error.is_some().then_some("invalid"))} data-field={f.name}>
                <label for={id.clone()}>{ record_fields::label_or_name(lang, f.name) }</label>
                { control }
                if regulators && !writable && !propose {
                    <span class="form-hint">{ lang.t(Key::RegulatorField) }</span>
                }
                if let Some(error) = error {
                    <span class="field-error" id={format!("error-{}", f.name)} role="alert">{ error }</span>
                }
            </div>
        }
    });
    html! {
        <form id="record-form" class="record-form" data-collection={props.collection.clone()}
            data-mode={if propose { "propose" } else { "edit" }}
            data-version={props.record.get("version").map(Value::to_string)}
            data-saving={saving.to_string()} onsubmit={onsubmit}>
            if let Some(e) = &*form_error {
                <p id="form-error" class="notice bad form-error" data-code={e.name()} role="alert">
                    { errors::failed(lang, Key::ActionFailed, e) }
                    if stale {
                        { " " }
                        <button id="form-reload" class="lang" type="button" onclick={reload}>
                            { lang.t(Key::ReloadRecord) }
                        </button>
                    }
                </p>
            }
            { for rows }
            if propose {
                { document_row(lang, &document, field_errors.get("document_ref").cloned()) }
            }
            <div class="form-actions">
                <button id="form-save" class="primary" type="submit" disabled={*saving}>
                    { match (*saving, propose) {
                        (true, _) => lang.t(Key::Saving),
                        (false, true) => lang.t(Key::SubmitProposal),
                        (false, false) => lang.t(Key::Save),
                    } }
                </button>
                <button id="form-cancel" class="lang" type="button" onclick={cancel}>{ lang.t(Key::Cancel) }</button>
                if let Some(key) = *notice {
                    <span id="form-notice" class="notice">{ lang.t(key) }</span>
                }
            </div>
        </form>
    }
}

/// The field of the form a refusal is about, if it names one the form has.
fn in_place(e: &ApiError, fields: &[FormField]) -> Option<&'static str> {
    let ApiError::Server {
        body: Some(body), ..
    } = e
    else {
        return None;
    };
    let named = proposed_field(body.field.as_deref()?);
    if named == "document_ref" {
        return Some("document_ref");
    }
    fields.iter().find(|f| f.name == named).map(|f| f.name)
}

/// The document a proposal rests on (a licence's number and issuer, a scan's reference).
fn document_row(lang: Lang, document: &UseStateHandle<String>, error: Option<String>) -> Html {
    let oninput = {
        let document = document.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                document.set(input.value());
            }
        })
    };
    html! {
        <div class={classes!("form-row", error.is_some().then_some("invalid"))} data-field="document_ref">
            <label for="edit-document_ref">{ record_fields::label_or_name(lang, "document_ref") }</label>
            <input id="edit-document_ref" name="document_ref" type="text" value={(**document).clone()} {oninput} />
            if let Some(error) = error {
                <span class="field-error" id="error-document_ref" role="alert">{ error }</span>
            }
        </div>
    }
}

fn district_select(
    lang: Lang,
    basemap: &Basemap,
    id: &str,
    value: &str,
    disabled: bool,
    onchange: Callback<Event>,
) -> Html {
    let mut districts: Vec<(String, String)> = match basemap {
        Basemap::Ready(ds) => ds
            .iter()
            .filter_map(|d| Some((d.code.clone()?, d.name.clone())))
            .collect(),
        _ => Vec::new(),
    };
    districts.sort();
    if !value.is_empty() && !districts.iter().any(|(c, _)| c == value) {
        districts.insert(0, (value.to_owned(), value.to_owned()));
    }
    html! {
        <select id={id.to_owned()} {disabled} {onchange} aria-label={record_fields::label_or_name(lang, "district_code")}>
            { for districts.into_iter().map(|(code, name)| html! {
                <option value={code.clone()} selected={code == value}>{ format!("{name} {code}") }</option>
            }) }
        </select>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_sent_and_cleared_ones_as_null() {
        let record = json!({"name": "甲", "filling_licence_no": "豫充-1",
            "filling_licence_expires": "2026-12-31", "media": ["LPG"], "version": 3});
        let mut values: BTreeMap<&'static str, String> = ENTERPRISE_FIELDS
            .iter()
            .map(|f| (f.name, shown(record.get(f.name))))
            .collect();
        assert_eq!(values["media"], "LPG");
        assert!(changes(&ENTERPRISE_FIELDS, &record, &values).0.is_empty());
        values.insert("filling_licence_expires", "2029-06-30".into());
        values.insert("gas_licence_no", "  ".into());
        values.insert("media", "LPG, CNG".into());
        let (changed, bad) = changes(&ENTERPRISE_FIELDS, &record, &values);
        assert!(bad.is_empty());
        assert_eq!(
            Value::Object(changed),
            json!({"filling_licence_expires": "2029-06-30", "media": ["LPG", "CNG"]})
        );
        values.insert("filling_licence_no", String::new());
        let (changed, _) = changes(&ENTERPRISE_FIELDS, &record, &values);
        assert_eq!(changed["filling_licence_no"], Value::Null);
    }

    #[test]
    fn numbers_must_read_as_numbers() {
        let record = json!({"name": "站", "radius_m": 100.0, "full_stock_limit": 200});
        let mut values: BTreeMap<&'static str, String> = STATION_FIELDS
            .iter()
            .map(|f| (f.name, shown(record.get(f.name))))
            .collect();
        values.insert("full_stock_limit", "250".into());
        values.insert("radius_m", "12.5".into());
        let (changed, _) = changes(&STATION_FIELDS, &record, &values);
        assert_eq!(
            Value::Object(changed),
            json!({"full_stock_limit": 250, "radius_m": 12.5})
        );
        values.insert("radius_m", "abc".into());
        assert_eq!(changes(&STATION_FIELDS, &record, &values).1, ["radius_m"]);
    }

    #[test]
    fn a_refused_field_is_found_by_its_base_name_and_writers_follow_the_shared_table() {
        assert_eq!(base_field("media[1]"), "media");
        assert_eq!(base_field("location.lon"), "location");
        assert_eq!(base_field("name"), "name");
        assert_eq!(proposed_field("changes.media[0]"), "media");
        assert_eq!(proposed_field("document_ref"), "document_ref");
        let e = Some(RecordKind::Enterprise);
        assert!(may_write(
            e,
            "filling_licence_expires",
            Writer::Regulator,
            false
        ));
        assert!(!may_write(
            e,
            "filling_licence_expires",
            Writer::Manager,
            false
        ));
        assert!(may_write(e, "name", Writer::Manager, false));
        assert!(!may_write(e, "code", Writer::Regulator, false));
        // Proposing: only what a regulator writes.
        assert!(may_write(
            e,
            "filling_licence_expires",
            Writer::Manager,
            true
        ));
        assert!(!may_write(e, "name", Writer::Manager, true));
    }
}
