//! The header's search box: type a cylinder's number, open its page.

use crate::app::Route;
use crate::i18n::{use_lang, Key};
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// The search box.
#[component]
pub fn CylinderSearch() -> Html {
    let lang = use_lang().lang;
    let navigator = use_navigator();
    let input = use_node_ref();
    let onsubmit = {
        let input = input.clone();
        Callback::from(move |e: SubmitEvent| {
            // A form, not a bare input, so Enter works; the browser must not reload the page.
            e.prevent_default();
            let Some(el) = input.cast::<HtmlInputElement>() else {
                return;
            };
            let code = el.value().trim().to_owned();
            if let (false, Some(nav)) = (code.is_empty(), &navigator) {
                nav.push(&Route::Cylinder { code });
                el.set_value("");
            }
        })
    };
    html! {
        <form id="cylinder-search" class="search" role="search" {onsubmit}>
            <input ref={input} type="search" name="code" autocomplete="off" spellcheck="false"
                placeholder={lang.t(Key::SearchPlaceholder)} aria-label={lang.t(Key::SearchPlaceholder)} />
            <button type="submit">{ lang.t(Key::SearchGo) }</button>
        </form>
    }
}
