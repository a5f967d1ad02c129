//! Routes and the providers every page sits in: language, live feed, router.

use crate::components::header::Header;
use crate::i18n::{Key, Lang, LangContext};
use crate::pages::wall::Wall;
use crate::services;
use crate::state::{LiveContext, LiveState};
use yew::prelude::*;
use yew_router::prelude::*;

/// Every page's path.
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    #[at("/")]
    Wall,
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::Wall => html! { <Wall /> },
        Route::NotFound => html! { <NotFound /> },
    }
}

/// The application root.
#[component]
pub fn App() -> Html {
    let lang = use_state(Lang::load);
    let live = use_reducer(LiveState::default);
    {
        let live = live.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(services::live::run(live))
        });
    }
    use_effect_with(*lang, |lang| {
        let code = if *lang == Lang::Zh { "zh-CN" } else { "en" };
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("lang", code);
        }
    });
    let set_lang = {
        let lang = lang.clone();
        Callback::from(move |next: Lang| {
            next.store();
            lang.set(next);
        })
    };
    let lang_context = LangContext {
        lang: *lang,
        set: set_lang,
    };
    html! {
        <ContextProvider<LangContext> context={lang_context}>
            <ContextProvider<LiveContext> context={live}>
                <BrowserRouter>
                    <div class="app">
                        <Header />
                        <main class="page"><Switch<Route> render={switch} /></main>
                    </div>
                </BrowserRouter>
            </ContextProvider<LiveContext>>
        </ContextProvider<LangContext>>
    }
}

#[component]
fn NotFound() -> Html {
    let lang = crate::i18n::use_lang().lang;
    html! {
        <section class="not-found">
            <h1>{ lang.t(Key::NotFound) }</h1>
            <Link<Route> to={Route::Wall}>{ lang.t(Key::BackToWall) }</Link<Route>>
        </section>
    }
}
