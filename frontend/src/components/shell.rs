//! The dashboard's frame: the header above the page, the live feed every dashboard page reads,
//! and the document language.

use crate::components::header::Header;
use crate::i18n::{set_document_lang, use_lang, Lang};
use crate::services;
use crate::state::{LiveContext, LiveState};
use yew::prelude::*;

/// Shell properties: the page.
#[derive(Properties, PartialEq)]
pub struct ShellProps {
    pub children: Html,
}

/// Header, live feed and the page.
#[component]
pub fn Shell(props: &ShellProps) -> Html {
    let lang = use_lang().lang;
    let live = use_reducer(LiveState::default);
    {
        let live = live.clone();
        use_effect_with((), move |_| {
            // Stopped when the shell goes (to the public page), so coming back does not run
            // two feeds.
            let (feed, handle) = futures::future::abortable(services::live::run(live));
            wasm_bindgen_futures::spawn_local(async move {
                let _ = feed.await;
            });
            move || handle.abort()
        });
    }
    use_effect_with(lang, |lang| {
        set_document_lang(if *lang == Lang::Zh { "zh-CN" } else { "en" });
    });
    html! {
        <ContextProvider<LiveContext> context={live}>
            <div class="app">
                <Header />
                <main class="page">{ props.children.clone() }</main>
            </div>
        </ContextProvider<LiveContext>>
    }
}
