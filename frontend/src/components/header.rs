//! The title bar: platform name, navigation, cylinder and station search, connection state, who is signed
//! in (role and scope) with the sign-out button, language switch.

use crate::app::Route;
use crate::components::code_search::{CodeSearch, SearchTarget};
use crate::i18n::{use_lang, Key};
use crate::labels;
use crate::services::{api, token};
use crate::session::{go, use_session, Session};
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
    let session = use_session();
    let leaving = use_state(|| false);
    let logout = {
        let (set, leaving) = (session.set.clone(), leaving.clone());
        Callback::from(move |_: MouseEvent| {
            if *leaving {
                return;
            }
            leaving.set(true);
            let set = set.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // Signed out here whatever the server says: an unreachable server must not
                // keep a wall signed in.
                if let Err(e) = api::logout().await {
                    web_sys::console::warn_1(&format!("logout: {e}").into());
                }
                token::clear();
                // Signing out on a wall ends its being a wall too.
                token::set_display_key(None);
                // Together, so that the dashboard's gate never sees the signed-out state on a
                // dashboard page (it would come back here with `?next=`).
                set.emit(Session::SignedOut);
                go(token::LOGIN_PATH, false);
            });
        })
    };
    let handles_incidents = matches!(&session.session,
        Session::SignedIn(u) if crate::pages::incidents::HANDLERS.contains(&u.role));
    let whoami = match &session.session {
        Session::SignedIn(user) => html! {
            <div id="whoami" class="whoami" data-role={user.role.name()}
                data-username={user.username.clone()}
                title={format!("{} {}", lang.lang.t(Key::SignedInAs), user.username)}>
                <span class="who-name">{ &user.username }</span>
                <span class="who-role">{ labels::role(lang.lang, user.role) }</span>
                <span class="who-scope">{ labels::scope(lang.lang, user) }</span>
            </div>
        },
        _ => html! {},
    };
    html! {
        <header class="topbar">
            <h1 class="title">{ lang.lang.t(Key::Title) }</h1>
            <nav>
                <Link<Route> to={Route::Wall}>{ lang.lang.t(Key::Wall) }</Link<Route>>
                <Link<Route> to={Route::Alerts} classes="nav-alerts">{ lang.lang.t(Key::DutyConsole) }</Link<Route>>
                if handles_incidents {
                    <Link<Route> to={Route::Incidents} classes="nav-incidents">{ crate::incident_text::T::Incidents.t(lang.lang) }</Link<Route>>
                }
                <Link<Route> to={Route::Stats} classes="nav-stats">{ lang.lang.t(Key::Statistics) }</Link<Route>>
                <Link<Route> to={Route::Enterprises} classes="nav-directory">{ lang.lang.t(Key::Directory) }</Link<Route>>
            </nav>
            <CodeSearch target={SearchTarget::Cylinder} />
            <CodeSearch target={SearchTarget::Station} />
            <span id="live-status" class={class} data-status={format!("{status:?}").to_lowercase()}>
                { lang.lang.t(key) }
            </span>
            { whoami }
            <button id="logout" class="lang logout" type="button" onclick={logout} disabled={*leaving}>
                { lang.lang.t(Key::Logout) }
            </button>
            <button id="lang-switch" class="lang" onclick={toggle}>{ lang.lang.t(Key::SwitchLang) }</button>
        </header>
    }
}
