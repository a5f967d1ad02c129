//! Who is signed in, for every page: the session context the application root provides, and
//! `RequireSession`, the gate in front of every dashboard page.
//!
//! At start a stored token is checked with `/auth/me`; a page without a token, or any API
//! call answered 401 (`services::token::expired`), sends the browser to
//! `/login?next=<where it was>`. The public QR page is outside the gate and never redirects.

use crate::i18n::{use_lang, Key};
use crate::services::{api, token};
use gloo_timers::future::sleep;
use shared::auth::{LoginResponse, Me, Role};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use yew::prelude::*;
use yew_router::history::{BrowserHistory, History};

/// The signed-in user and their scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub role: Role,
    pub enterprise_code: Option<String>,
    pub district_code: Option<String>,
}

impl From<Me> for User {
    fn from(me: Me) -> Self {
        Self {
            username: me.username,
            role: me.role,
            enterprise_code: me.enterprise_code.map(|c| c.as_str().to_owned()),
            district_code: me.district_code.map(|c| c.as_str().to_owned()),
        }
    }
}

impl From<LoginResponse> for User {
    fn from(login: LoginResponse) -> Self {
        Self {
            username: login.username,
            role: login.role,
            enterprise_code: login.enterprise_code.map(|c| c.as_str().to_owned()),
            district_code: login.district_code.map(|c| c.as_str().to_owned()),
        }
    }
}

/// Where the session stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Session {
    /// No token: the dashboard sends to the sign-in page.
    SignedOut,
    /// A stored token, not yet confirmed by `/auth/me`.
    Checking,
    /// Confirmed.
    SignedIn(Rc<User>),
}

impl Session {
    /// At page load: checking when a token is stored (or the screen is a wall, which signs
    /// itself in), else signed out.
    pub fn load() -> Self {
        if token::get().is_some() || token::display_key().is_some() {
            Self::Checking
        } else {
            Self::SignedOut
        }
    }
}

/// A wall whose session ended signs in again with its display key: at once, then every 5 s
/// while the server is away; a key the server refuses (revoked) is forgotten and the screen
/// goes to the sign-in page.
pub fn resume_wall(key: String, set: Callback<Session>) {
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            match api::display_sign_in(&key).await {
                Ok(answer) => {
                    token::set(&answer.token);
                    set.emit(Session::SignedIn(Rc::new(answer.into())));
                    return;
                }
                Err(e) if e.is_unauthorized() => {
                    token::set_display_key(None);
                    set.emit(Session::SignedOut);
                    return;
                }
                Err(_) => sleep(Duration::from_secs(5)).await,
            }
        }
    });
}

/// The session context: where it stands and a way to change it.
#[derive(Clone, PartialEq)]
pub struct SessionContext {
    pub session: Session,
    pub set: Callback<Session>,
}

/// The session context (signed out if none is provided).
#[hook]
pub fn use_session() -> SessionContext {
    use_context::<SessionContext>().unwrap_or(SessionContext {
        session: Session::SignedOut,
        set: Callback::noop(),
    })
}

/// The path and query the browser shows now (`/cylinders/A1?x=1`).
pub fn current_path() -> String {
    web_sys::window()
        .map(|w| w.location())
        .map(|l| {
            format!(
                "{}{}",
                l.pathname().unwrap_or_default(),
                l.search().unwrap_or_default()
            )
        })
        .unwrap_or_default()
}

/// Goes to `path` inside the application (no reload).
pub fn go(path: &str, replace: bool) {
    let history = BrowserHistory::new();
    if replace {
        history.replace(path);
    } else {
        history.push(path);
    }
}

/// Goes to the sign-in page, coming back here afterwards (unless already there).
pub fn go_to_login() {
    let here = current_path();
    if here == token::LOGIN_PATH || here.starts_with(&format!("{}?", token::LOGIN_PATH)) {
        return;
    }
    go(&token::login_path(&here), true);
}

/// Children only.
#[derive(Properties, PartialEq)]
pub struct RequireSessionProps {
    pub children: Html,
}

/// Shows its children to a signed-in user; checks a stored token first; sends anyone else to
/// the sign-in page.
#[component]
pub fn RequireSession(props: &RequireSessionProps) -> Html {
    let lang = use_lang().lang;
    let context = use_session();
    let checking = context.session == Session::Checking;
    let signed_out = context.session == Session::SignedOut;
    {
        let set = context.set.clone();
        use_effect_with(checking, move |checking| {
            let alive = Rc::new(Cell::new(true));
            if *checking {
                wasm_bindgen_futures::spawn_local(check(set, alive.clone()));
            }
            move || alive.set(false)
        });
    }
    use_effect_with(signed_out, |signed_out| {
        if *signed_out {
            go_to_login();
        }
    });
    match &context.session {
        Session::SignedIn(_) => props.children.clone(),
        _ => html! {
            <div id="session-check" class="session-check" aria-busy="true">
                { lang.t(Key::CheckingSession) }{ "…" }
            </div>
        },
    }
}

/// Asks `/auth/me` until the server answers: a user, or 401 (which ends the session through
/// `api`). A server that is away (restarting) is asked again, less and less often.
async fn check(set: Callback<Session>, alive: Rc<Cell<bool>>) {
    let mut delay = Duration::from_millis(500);
    while alive.get() {
        match api::me().await {
            Ok(me) => {
                if alive.get() {
                    set.emit(Session::SignedIn(Rc::new(me.into())));
                }
                return;
            }
            Err(e) if e.is_unauthorized() => {
                // `api` has ended the session already; this only makes sure of it.
                if alive.get() {
                    set.emit(Session::SignedOut);
                }
                return;
            }
            Err(e) => {
                web_sys::console::warn_1(&format!("session check: {e}").into());
                sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
        }
    }
}
