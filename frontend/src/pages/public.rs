//! The QR code's target: a member of the public, phone in hand beside a cylinder, sees at a
//! glance whether it is safe. Chinese only, phone-sized, light and high-contrast for daylight,
//! outside the dashboard's frame. Shows only what the public API sends (no personal data).

use crate::format::{date, minute, minute_or_dash};
use crate::i18n::{set_document_lang, Key, Lang};
use crate::labels;
use crate::services::api::{self, Fetch};
use shared::cylinder::{Compliance, Light, PublicCylinder, PublicHistoryItem};
use std::cell::Cell;
use std::rc::Rc;
use yew::prelude::*;

/// The public page speaks Chinese whatever the browser remembers from the dashboard.
const ZH: Lang = Lang::Zh;

/// How many recent places are listed.
const RECENT: usize = 8;

/// Page properties: the cylinder's code or QR payload, from the URL.
#[derive(Properties, PartialEq)]
pub struct PublicPageProps {
    pub code: String,
}

/// The public lookup page.
#[component]
pub fn PublicPage(props: &PublicPageProps) -> Html {
    let data = use_state(|| Fetch::<Rc<PublicCylinder>>::Loading);
    let attempt = use_state(|| 0_u32);
    use_effect_with(props.code.clone(), |code| {
        set_document_lang("zh-CN");
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&format!("{} · {code}", ZH.t(Key::PublicTitle)));
        }
    });
    {
        let data = data.clone();
        use_effect_with((props.code.clone(), *attempt), move |(code, _)| {
            let current = Rc::new(Cell::new(true));
            let (code, live) = (code.clone(), current.clone());
            data.set(Fetch::Loading);
            wasm_bindgen_futures::spawn_local(async move {
                let answer = api::public_cylinder(&code).await;
                if live.get() {
                    data.set(answer.map(Rc::new).into());
                }
            });
            move || current.set(false)
        });
    }
    let retry = {
        let attempt = attempt.clone();
        Callback::from(move |_: MouseEvent| attempt.set(*attempt + 1))
    };

    let body = match &*data {
        Fetch::Loading => html! {
            <section id="public-status" class="status-block grey" aria-busy="true">
                <div class="status-label small">{ ZH.t(Key::Loading) }{ "…" }</div>
            </section>
        },
        Fetch::NotFound => html! {
            <>
                <section id="public-status" class="status-block red" role="alert"
                    data-light="red" data-compliance="not_found">
                    { icon(Light::Red) }
                    <div class="status-label">{ ZH.t(Key::PublicNotFound) }</div>
                    <div class="status-hint">{ ZH.t(Key::PublicNotFoundHint) }</div>
                </section>
                <dl class="public-facts">
                    { fact(Key::PublicCode, props.code.clone(), false) }
                </dl>
            </>
        },
        Fetch::Failed(_) => html! {
            <section id="public-status" class="status-block grey" role="alert">
                <div class="status-label small">{ ZH.t(Key::PublicFailed) }</div>
                <button class="retry" onclick={retry}>{ ZH.t(Key::Retry) }</button>
            </section>
        },
        Fetch::Ready(c) => found(c),
    };
    html! {
        <div id="public-page" class="public">
            <header class="public-head">
                <span class="public-org">{ ZH.t(Key::Title) }</span>
                <h1>{ ZH.t(Key::PublicTitle) }</h1>
            </header>
            <main class="public-main">{ body }</main>
            <footer class="public-foot">{ ZH.t(Key::PublicFooter) }</footer>
        </div>
    }
}

/// A registered cylinder: the status block, its facts, where it has been.
fn found(c: &PublicCylinder) -> Html {
    let (light, hint) = match c.light {
        Light::Green => ("green", Key::PublicHintGreen),
        Light::Amber => ("amber", Key::PublicHintAmber),
        Light::Red => ("red", Key::PublicHintRed),
    };
    let overdue = matches!(c.compliance, Compliance::InspectionOverdue);
    let life_over = matches!(c.compliance, Compliance::LifeExpired | Compliance::Scrapped);
    // Newest first, whatever order the server sent.
    let mut recent: Vec<&PublicHistoryItem> = c.history.iter().collect();
    recent.sort_by_key(|item| std::cmp::Reverse(item.at));
    recent.truncate(RECENT);
    html! {
        <>
            <section id="public-status" class={classes!("status-block", light)} role="status"
                data-light={light} data-compliance={c.compliance.name()}>
                { icon(c.light) }
                <div class="status-label">{ c.label_zh.clone() }</div>
                <div class="status-hint">{ ZH.t(hint) }</div>
            </section>
            <dl class="public-facts">
                { fact(Key::PublicCode, c.code.to_string(), false) }
                { fact(Key::FieldMedium, c.medium.name_zh().to_owned(), false) }
                { fact(Key::FieldOwner, c.owner.clone().unwrap_or_else(|| "—".to_owned()), false) }
                { fact(Key::FieldNextInspection, date(c.next_inspection_on), overdue) }
                { fact(Key::FieldLifeEnds, date(c.life_ends_on), life_over) }
                { fact(Key::LastFilled, minute_or_dash(c.last_filled_at.as_ref()), false) }
            </dl>
            <section class="public-history">
                <h2>{ ZH.t(Key::PublicRecent) }</h2>
                if recent.is_empty() {
                    <p class="muted">{ ZH.t(Key::PublicNoRecent) }</p>
                } else {
                    <ol id="public-history">
                        { for recent.into_iter().map(place) }
                    </ol>
                }
            </section>
        </>
    }
}

fn fact(key: Key, value: String, bad: bool) -> Html {
    html! {
        <div class={classes!("fact", bad.then_some("bad"))}>
            <dt>{ ZH.t(key) }</dt>
            <dd>{ value }</dd>
        </div>
    }
}

fn place(item: &PublicHistoryItem) -> Html {
    html! {
        <li>
            <span class="op">{ labels::public_operation(&item.op) }</span>
            <time datetime={item.at.to_rfc3339()}>{ minute(&item.at) }</time>
            <span class="where">{ item.place.clone().unwrap_or_default() }</span>
        </li>
    }
}

/// A tick, an exclamation mark or a cross, drawn as SVG so it is sharp at any size.
fn icon(light: Light) -> Html {
    let path = match light {
        Light::Green => "M5 12.5l4.5 4.5L19 7.5",
        Light::Amber => "M12 5v9M12 18.5v0.5",
        Light::Red => "M6.5 6.5l11 11M17.5 6.5l-11 11",
    };
    html! {
        <svg class="status-icon" viewBox="0 0 24 24" aria-hidden="true">
            <circle cx="12" cy="12" r="11" />
            <path d={path} />
        </svg>
    }
}
