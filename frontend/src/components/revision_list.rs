//! A record's revisions, newest first: the version it made, when, who, why (a status change),
//! and each changed field before → after.

use crate::format::cst;
use crate::i18n::{use_lang, Key};
use crate::record_fields;
use shared::revision::Revision;
use std::rc::Rc;
use yew::prelude::*;

/// List properties: the revisions as the server lists them (oldest first), and how many of
/// the newest to show.
#[derive(Properties, PartialEq)]
pub struct RevisionListProps {
    pub revisions: Rc<Vec<Revision>>,
    #[prop_or(20)]
    pub newest: usize,
}

/// The list.
#[component]
pub fn RevisionList(props: &RevisionListProps) -> Html {
    let lang = use_lang().lang;
    if props.revisions.is_empty() {
        return html! { <p class="notice" id="revisions-empty">{ lang.t(Key::NoRevisions) }</p> };
    }
    let items = props.revisions.iter().rev().take(props.newest).map(|r| {
        let at = r.at.with_timezone(&cst()).format("%Y-%m-%d %H:%M").to_string();
        html! {
            <li class="revision" key={r.version} data-version={r.version.to_string()} data-by={r.by.clone()}>
                <div class="revision-head">
                    <span class="revision-version">{ format!("v{}", r.version) }</span>
                    <time>{ at }</time>
                    <span class="revision-by">{ r.by.clone() }</span>
                    if let Some(reason) = &r.reason {
                        <span class="revision-reason">{ reason.clone() }</span>
                    }
                </div>
                <ul class="revision-changes">
                    { for r.changes.iter().map(|(field, change)| {
                        let before = change.get(0).map(|v| record_fields::text(lang, field, v)).unwrap_or_default();
                        let after = change.get(1).map(|v| record_fields::text(lang, field, v)).unwrap_or_default();
                        html! {
                            <li data-field={field.clone()}>
                                <span class="revision-field">{ record_fields::label_or_name(lang, field) }</span>
                                <span class="revision-before">{ before }</span>
                                { " → " }
                                <span class="revision-after">{ after }</span>
                            </li>
                        }
                    }) }
                </ul>
            </li>
        }
    });
    html! { <ol id="revisions" class="revisions">{ for items }</ol> }
}
