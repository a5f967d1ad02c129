//! The title bar: platform name, navigation, cylinder search, connection state, language
//! switch.

use crate::app::Route;
use crate::components::cylinder_search::CylinderSearch;
use crate::i18n::{use_lang, Key};
use crate::state::{ConnStatus, LiveContext};
use yew::prelude::*;
use yew_router::prelude::*;

/// The header of every page.
#[component]
pub fn Header() -> Html {
    let lang = use_lang();
    let live = use_context::<LiveContext>();
    let status = live.as_ref().map_or(ConnStatus::Connecting, |l| l.status);
    let (class, key) = match status {
        ConnStatus::Connecting => ("status connecting", Key::Connecting),
        ConnStatus::Live => ("status live", Key::Live),
        ConnStatus::Reconnecting => ("status reconnecting", Key::Reconnecting),
    };
    let toggle = {
        let lang = lang.clone();
        Callback::from(move |_: MouseEvent| lang.set.emit(lang.lang.other()))
    };
    html! {
        <header class="topbar">
            <h1 class="title">{ lang.lang.t(Key::Title) }</h1>
            <nav>
                <Link<Route> to={Route::Wall}>{ lang.lang.t(Key::Wall) }</Link<Route>>
            </nav>
            <CylinderSearch />
            <span id="live-status" class={class} data-status={format!("{status:?}").to_lowercase()}>
                { lang.lang.t(key) }
            </span>
            <button id="lang-switch" class="lang" onclick={toggle}>{ lang.lang.t(Key::SwitchLang) }</button>
        </header>
    }
}
