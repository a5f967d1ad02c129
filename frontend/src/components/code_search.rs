//! The header's search boxes: type a cylinder's number or a station's code, open its page.

use crate::app::Route;
use crate::i18n::{use_lang, Key};
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// What a search box opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchTarget {
    Cylinder,
    Station,
}

impl SearchTarget {
    /// The form's id (`#cylinder-search`, `#station-search`).
    fn id(self) -> &'static str {
        match self {
            Self::Cylinder => "cylinder-search",
            Self::Station => "station-search",
        }
    }

    fn placeholder(self) -> Key {
        match self {
            Self::Cylinder => Key::SearchPlaceholder,
            Self::Station => Key::StationSearchPlaceholder,
        }
    }

    fn route(self, code: String) -> Route {
        match self {
            Self::Cylinder => Route::Cylinder { code },
            Self::Station => Route::Station { code },
        }
    }
}

/// Search box properties: what it opens.
#[derive(Properties, PartialEq)]
pub struct CodeSearchProps {
    pub target: SearchTarget,
}

/// One search box.
#[component]
pub fn CodeSearch(props: &CodeSearchProps) -> Html {
    let lang = use_lang().lang;
    let navigator = use_navigator();
    let input = use_node_ref();
    let target = props.target;
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
                nav.push(&target.route(code));
                el.set_value("");
            }
        })
    };
    let placeholder = lang.t(target.placeholder());
    html! {
        <form id={target.id()} class={classes!("search", target.id())} role="search" {onsubmit}>
            <input ref={input} type="search" name="code" autocomplete="off" spellcheck="false"
                {placeholder} aria-label={placeholder} />
            <button type="submit">{ lang.t(Key::SearchGo) }</button>
        </form>
    }
}
