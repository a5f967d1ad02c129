//! Routes, and which pages sit in the dashboard shell (header, live feed) and which stand alone.

use crate::components::shell::Shell;
use crate::i18n::{Key, Lang, LangContext};
use crate::pages::cylinder::CylinderPage;
use crate::pages::public::PublicPage;
use crate::pages::wall::Wall;
use yew::prelude::*;
use yew_router::prelude::*;

/// Every page's path.
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    #[at("/")]
    Wall,
    #[at("/cylinders/:code")]
    Cylinder { code: String },
    /// The QR code's target, for the public.
    #[at("/q/:code")]
    Public { code: String },
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        // The public page stands alone: no dashboard header, and no live feed for a phone on
        // mobile data.
        Route::Public { code } => html! { <PublicPage {code} /> },
        // The same `Shell` at the root of every other page keeps one live feed across them.
        Route::Wall => html! { <Shell><Wall /></Shell> },
        Route::Cylinder { code } => html! { <Shell><CylinderPage {code} /></Shell> },
        Route::NotFound => html! { <Shell><NotFound /></Shell> },
    }
}

/// The application root.
#[component]
pub fn App() -> Html {
    let lang = use_state(Lang::load);
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
            <BrowserRouter>
                <Switch<Route> render={switch} />
            </BrowserRouter>
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
