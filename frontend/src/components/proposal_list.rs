//! The pending proposals about one record (an enterprise proposing a change of what regulators
//! write, with its document): each change with the value proposed, who proposed it and on what;
//! a regulator approves one (the change is made) or rejects it with a reason.

use crate::errors;
use crate::format::cst;
use crate::i18n::{use_lang, Key};
use crate::record_fields;
use crate::services::api::ApiError;
use crate::services::registry;
use shared::record::Proposal;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// List properties.
#[derive(Properties, PartialEq)]
pub struct ProposalListProps {
    pub proposals: Rc<Vec<Proposal>>,
    /// Whether the user decides them (a regulator).
    pub decides: bool,
    /// A proposal was decided: read the record again.
    pub on_decided: Callback<()>,
}

/// The list (nothing when there is none).
#[component]
pub fn ProposalList(props: &ProposalListProps) -> Html {
    let lang = use_lang().lang;
    let reason = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    if props.proposals.is_empty() {
        return html! {};
    }
    let decide = |id: i64, approve: bool| {
        let (reason, error, busy, on_decided) = (
            reason.clone(),
            error.clone(),
            busy.clone(),
            props.on_decided.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let (reason, error, busy, on_decided) = (
                reason.clone(),
                error.clone(),
                busy.clone(),
                on_decided.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer = registry::decide(id, approve, &reason).await;
                busy.set(false);
                match answer {
                    Ok(_) => {
                        reason.set(String::new());
                        error.set(None);
                        on_decided.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_reason = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                reason.set(i.value());
            }
        })
    };
    let placeholder = lang.t(Key::RejectReasonPlaceholder);
    html! {
        <div class="proposals" id="proposals">
            <h3>{ lang.t(Key::Proposals) }</h3>
            <ul class="revisions">
                { for props.proposals.iter().map(|p| {
                    let at = p.proposed_at.with_timezone(&cst()).format("%Y-%m-%d %H:%M").to_string();
                    html! {
                        <li class="revision proposal" key={p.id} data-id={p.id.to_string()}>
                            <div class="revision-head">
                                <time>{ at }</time>
                                <span class="revision-by">{ p.proposed_by.clone() }</span>
                                <span class="revision-reason">
                                    { record_fields::label_or_name(lang, "document_ref") }{ errors::colon(lang) }
                                    { p.document_ref.clone() }
                                </span>
                            </div>
                            <ul class="revision-changes">
                                { for p.changes.iter().map(|(field, value)| html! {
                                    <li data-field={field.clone()}>
                                        <span class="revision-field">{ record_fields::label_or_name(lang, field) }</span>
                                        <span class="revision-after">{ record_fields::text(lang, field, value) }</span>
                                    </li>
                                }) }
                            </ul>
                            if props.decides {
                                <div class="form-actions">
                                    <button class="primary proposal-approve" type="button" disabled={*busy}
                                        onclick={decide(p.id, true)}>{ lang.t(Key::Approve) }</button>
                                    <button class="lang proposal-reject" type="button" disabled={*busy}
                                        onclick={decide(p.id, false)}>{ lang.t(Key::Reject) }</button>
                                </div>
                            }
                        </li>
                    }
                }) }
            </ul>
            if props.decides {
                <input id="proposal-reason" class="proposal-reason" type="text" value={(*reason).clone()}
                    oninput={on_reason} {placeholder} aria-label={placeholder} />
            }
            if let Some(e) = &*error {
                <p class="notice bad" id="proposal-error" data-code={e.name()}>{ errors::failed(lang, Key::ActionFailed, e) }</p>
            }
        </div>
    }
}
