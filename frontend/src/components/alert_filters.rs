//! The duty console's filters: status, kind, severity, district. Unresolved alerts come from
//! the live feed and are filtered here; resolved ones are asked of the server with the same
//! filters.

use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use shared::alert::{Alert, AlertKind, AlertStatus, Severity};
use std::rc::Rc;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// What the feed shows; `None` is "any" (for the status: any unresolved).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilters {
    pub status: Option<AlertStatus>,
    pub kind: Option<AlertKind>,
    pub severity: Option<Severity>,
    pub district: Option<String>,
}

impl AlertFilters {
    /// Whether the alert passes every filter.
    pub fn matches(&self, alert: &Alert) -> bool {
        let status = match self.status {
            Some(s) => alert.status == s,
            None => alert.status != AlertStatus::Resolved,
        };
        status
            && self.kind.is_none_or(|k| alert.kind == k)
            && self.severity.is_none_or(|s| alert.severity == s)
            && self
                .district
                .as_ref()
                .is_none_or(|d| alert.district_code.as_deref() == Some(d.as_str()))
    }
}

/// Filter bar properties.
#[derive(Properties, PartialEq)]
pub struct AlertFilterBarProps {
    pub filters: AlertFilters,
    /// (code, name) of the districts to offer.
    pub districts: Rc<Vec<(String, String)>>,
    pub on_change: Callback<AlertFilters>,
}

/// The four selects.
#[component]
pub fn AlertFilterBar(props: &AlertFilterBarProps) -> Html {
    let lang = use_lang().lang;
    let f = &props.filters;
    // Each select hands its value (an empty string for "any") to a function that changes one
    // field of the filters.
    let on = |set: fn(&mut AlertFilters, &str)| {
        let (filters, on_change) = (props.filters.clone(), props.on_change.clone());
        Callback::from(move |e: Event| {
            let Some(select) = e.target_dyn_into::<HtmlSelectElement>() else {
                return;
            };
            let mut next = filters.clone();
            set(&mut next, &select.value());
            on_change.emit(next);
        })
    };
    let statuses = [
        AlertStatus::Open,
        AlertStatus::Acknowledged,
        AlertStatus::Resolved,
    ];
    let severities = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];
    html! {
        <div class="alert-filters" id="alert-filters">
            { select(lang, "filter-status", Key::FilterStatus, Key::AllUnresolved,
                on(|f, v| f.status = AlertStatus::from_name(v)),
                statuses.iter().map(|s| (s.name().to_owned(), labels::alert_status(lang, *s).to_owned(),
                    f.status == Some(*s))).collect()) }
            { select(lang, "filter-kind", Key::FilterKind, Key::AllKinds,
                on(|f, v| f.kind = AlertKind::from_name(v)),
                AlertKind::ALL.iter().map(|k| (k.name().to_owned(), labels::alert_kind(lang, *k).to_owned(),
                    f.kind == Some(*k))).collect()) }
            { select(lang, "filter-severity", Key::FilterSeverity, Key::AllSeverities,
                on(|f, v| f.severity = Severity::from_name(v)),
                severities.iter().map(|s| (s.name().to_owned(), labels::severity(lang, *s).to_owned(),
                    f.severity == Some(*s))).collect()) }
            { select(lang, "filter-district", Key::FilterDistrict, Key::AllDistricts,
                on(|f, v| f.district = (!v.is_empty()).then(|| v.to_owned())),
                props.districts.iter().map(|(code, name)| (code.clone(), name.clone(),
                    f.district.as_ref() == Some(code))).collect()) }
        </div>
    }
}

/// One labelled select: "any" first, then (value, text, selected) options.
fn select(
    lang: Lang,
    id: &'static str,
    label: Key,
    any: Key,
    onchange: Callback<Event>,
    options: Vec<(String, String, bool)>,
) -> Html {
    let none = !options.iter().any(|(_, _, selected)| *selected);
    html! {
        <label class="alert-filter">
            <span class="cyl-label">{ lang.t(label) }</span>
            <select id={id} {onchange}>
                <option value="" selected={none}>{ lang.t(any) }</option>
                { for options.into_iter().map(|(value, text, selected)| html! {
                    <option {value} {selected}>{ text }</option>
                }) }
            </select>
        </label>
    }
}
