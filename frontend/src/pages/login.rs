//! The sign-in page (`/login?next=`): username and password, the server's refusal in words
//! (wrong password, locked until when, too many attempts), then on to `next`. The token is
//! kept in `localStorage` so that a wall comes back by itself after a reload.

use crate::errors;
use crate::format::minute;
use crate::i18n::{set_document_lang, use_lang, Key, Lang};
use crate::services::api::{self, ApiError};
use crate::services::token;
use crate::session::{current_path, go, use_session, Session};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use shared::auth::LoginRequest;
use shared::ErrorCode;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Why the last attempt failed.
#[derive(Debug, Clone, PartialEq)]
enum Failure {
    /// A field was left empty (not sent).
    Missing,
    /// The server's (or the network's) answer.
    Api(ApiError),
}

impl Failure {
    /// The stable name of the failure: the server's error code when it sent one.
    fn code(&self) -> String {
        match self {
            Self::Missing => "missing_fields".to_owned(),
            Self::Api(error) => error.name(),
        }
    }

    /// What the user reads.
    fn text(&self, lang: Lang) -> String {
        let Self::Api(error) = self else {
            return lang.t(Key::LoginMissing).to_owned();
        };
        match error.code() {
            Some(ErrorCode::InvalidCredentials) => lang.t(Key::LoginInvalid).to_owned(),
            Some(ErrorCode::AccountLocked) => match error.message().and_then(locked_until) {
                Some(until) => lang
                    .t(Key::LoginLockedUntil)
                    .replace("{until}", &minute(&until)),
                None => lang.t(Key::LoginLocked).to_owned(),
            },
            // Failed sign-ins slow a name down at one address until the instant named.
            Some(ErrorCode::RateLimited) => match error.message().and_then(locked_until) {
                Some(until) => lang
                    .t(Key::LoginSlowedUntil)
                    .replace("{until}", &minute(&until)),
                None => lang.t(Key::LoginRateLimited).to_owned(),
            },
            _ if matches!(error, ApiError::Network(_)) => lang.t(Key::LoginNetwork).to_owned(),
            _ => errors::failed(lang, Key::LoginFailed, error),
        }
    }
}

/// The instant in an `account_locked` message ("... locked until 2026-11-22 10:05:00 UTC"):
/// RFC 3339, or chrono's display of a UTC instant.
fn locked_until(message: &str) -> Option<DateTime<FixedOffset>> {
    let (_, rest) = message.rsplit_once("until ")?;
    let text = rest.trim().trim_end_matches(['.', ')']);
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    if let Ok(t) = text.parse::<DateTime<Utc>>() {
        return Some(t.fixed_offset());
    }
    let naive = text.strip_suffix(" UTC").unwrap_or(text);
    NaiveDateTime::parse_from_str(naive, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().fixed_offset())
}

/// Where to go after signing in, from `?next=`.
fn next_path() -> String {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    token::safe_next(token::query_param(&search, "next").as_deref())
}

/// The sign-in page.
#[component]
pub fn LoginPage() -> Html {
    let lang = use_lang();
    let session = use_session();
    let username = use_node_ref();
    let password = use_node_ref();
    let failure = use_state(|| None::<Rc<Failure>>);
    let busy = use_state(|| false);

    use_effect_with(lang.lang, |lang| {
        set_document_lang(if *lang == Lang::Zh { "zh-CN" } else { "en" });
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&format!(
                "{} · {}",
                lang.t(Key::LoginHeading),
                lang.t(Key::Title)
            ));
        }
    });
    {
        // Focus the first empty field, so a keyboard on a wall's console can type at once.
        let username = username.clone();
        use_effect_with((), move |_| {
            if let Some(input) = username.cast::<HtmlInputElement>() {
                let _ = input.focus();
            }
        });
    }
    // Signed in (just now, or already when the page opened): on to `next`.
    let signed_in = matches!(session.session, Session::SignedIn(_));
    use_effect_with(signed_in, |signed_in| {
        if *signed_in && current_path().starts_with(token::LOGIN_PATH) {
            go(&next_path(), true);
        }
    });

    let onsubmit = {
        let (username, password) = (username.clone(), password.clone());
        let (failure, busy, set_session) = (failure.clone(), busy.clone(), session.set.clone());
        Callback::from(move |e: SubmitEvent| {
            // The browser must not post the form itself (the password would land in the URL).
            e.prevent_default();
            if *busy {
                return;
            }
            let (Some(user_input), Some(pass_input)) = (
                username.cast::<HtmlInputElement>(),
                password.cast::<HtmlInputElement>(),
            ) else {
                return;
            };
            let request = LoginRequest {
                username: user_input.value().trim().to_owned(),
                password: pass_input.value(),
            };
            if request.username.is_empty() || request.password.is_empty() {
                failure.set(Some(Rc::new(Failure::Missing)));
                let empty = if request.username.is_empty() {
                    &user_input
                } else {
                    &pass_input
                };
                let _ = empty.focus();
                return;
            }
            busy.set(true);
            let (failure, busy, set_session) = (failure.clone(), busy.clone(), set_session.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::login(&request).await {
                    Ok(answer) => {
                        token::set(&answer.token);
                        failure.set(None);
                        set_session.emit(Session::SignedIn(Rc::new(answer.into())));
                    }
                    Err(error) => {
                        pass_input.set_value("");
                        let _ = pass_input.focus();
                        failure.set(Some(Rc::new(Failure::Api(error))));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let wall_key = use_node_ref();
    let on_wall = {
        let wall_key = wall_key.clone();
        let (failure, busy, set_session) = (failure.clone(), busy.clone(), session.set.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(input) = wall_key.cast::<HtmlInputElement>() else {
                return;
            };
            let key = input.value().trim().to_owned();
            if *busy || key.is_empty() {
                return;
            }
            busy.set(true);
            let (failure, busy, set_session) = (failure.clone(), busy.clone(), set_session.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::display_sign_in(&key).await {
                    Ok(answer) => {
                        token::set(&answer.token);
                        token::set_display_key(Some(&key));
                        failure.set(None);
                        set_session.emit(Session::SignedIn(Rc::new(answer.into())));
                    }
                    Err(error) => {
                        input.set_value("");
                        failure.set(Some(Rc::new(Failure::Api(error))));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let toggle = {
        let lang = lang.clone();
        Callback::from(move |_: MouseEvent| lang.set.emit(lang.lang.other()))
    };
    let l = lang.lang;
    let error = failure.as_ref().map(|f| {
        html! {
            <p id="login-error" class="login-error" role="alert" data-code={f.code()}>
                { f.text(l) }
            </p>
        }
    });
    html! {
        <div class="login">
            <main class="login-card">
                <header class="login-head">
                    <svg class="login-emblem" viewBox="0 0 48 48" aria-hidden="true">
                        <rect x="15" y="9" width="18" height="33" rx="7" />
                        <path d="M20 9V5h8v4M15 22h18M15 29h18" />
                    </svg>
                    <h1 class="login-title">{ l.t(Key::Title) }</h1>
                    <p class="login-subtitle">{ l.t(Key::LoginSubtitle) }</p>
                </header>
                <form id="login-form" class="login-form" {onsubmit} novalidate=true
                    aria-busy={(*busy).to_string()}>
                    <h2>{ l.t(Key::LoginHeading) }</h2>
                    <label for="login-username">{ l.t(Key::Username) }</label>
                    <input ref={username} id="login-username" name="username" type="text"
                        autocomplete="username" autocapitalize="none" spellcheck="false"
                        maxlength="64" required=true />
                    <label for="login-password">{ l.t(Key::Password) }</label>
                    <input ref={password} id="login-password" name="password" type="password"
                        autocomplete="current-password" maxlength="128" required=true />
                    { error }
                    <button id="login-submit" type="submit" disabled={*busy}>
                        { if *busy { format!("{}…", l.t(Key::LoggingIn)) } else { l.t(Key::LoginSubmit).to_owned() } }
                    </button>
                </form>
                <details id="wall-setup" class="login-wall">
                    <summary>{ l.t(Key::WallSetupHeading) }</summary>
                    <form id="wall-form" class="login-form" onsubmit={on_wall} novalidate=true>
                        <p class="login-note">{ l.t(Key::WallSetupNote) }</p>
                        <label for="wall-key">{ l.t(Key::WallKeyLabel) }</label>
                        <input ref={wall_key} id="wall-key" name="display-key" type="password"
                            autocomplete="off" maxlength="128" required=true />
                        <button id="wall-submit" type="submit" disabled={*busy}>
                            { l.t(Key::WallSetupSubmit) }
                        </button>
                    </form>
                </details>
                <footer class="login-foot">
                    <span>{ l.t(Key::LoginNote) }</span>
                    <button id="login-lang" class="lang" type="button" onclick={toggle}>
                        { l.t(Key::SwitchLang) }
                    </button>
                </footer>
            </main>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_ends_at_the_instant_the_server_names() {
        let beijing = |m: &str| locked_until(m).map(|t| minute(&t));
        assert_eq!(
            beijing("too many failed logins: the account is locked until 2026-11-22 02:05:09.123456 UTC")
                .as_deref(),
            Some("2026-11-22 10:05")
        );
        assert_eq!(
            beijing("locked until 2026-11-22T02:05:00Z").as_deref(),
            Some("2026-11-22 10:05")
        );
        assert_eq!(
            beijing("locked until 2026-11-22T10:05:00+08:00.").as_deref(),
            Some("2026-11-22 10:05")
        );
        assert_eq!(beijing("locked for a while"), None);
        assert_eq!(beijing("locked until later"), None);
    }

    #[test]
    fn failures_are_named_by_the_server_code() {
        let server = |code: ErrorCode, message: &str| {
            Failure::Api(ApiError::Server {
                status: code.http_status(),
                body: Some(
                    shared::ErrorBody {
                        error: shared::ErrorDetail::new(code, message),
                    }
                    .into(),
                ),
            })
        };
        let wrong = server(ErrorCode::InvalidCredentials, "wrong username or password");
        assert_eq!(wrong.code(), "invalid_credentials");
        assert_eq!(wrong.text(Lang::Zh), "用户名或密码错误");
        let locked = server(
            ErrorCode::AccountLocked,
            "too many failed logins: the account is locked until 2026-11-22 02:05:00 UTC",
        );
        assert_eq!(locked.code(), "account_locked");
        assert!(locked.text(Lang::Zh).contains("2026-11-22 10:05"));
        assert!(locked
            .text(Lang::En)
            .contains("locked until 2026-11-22 10:05"));
        let limited = server(ErrorCode::RateLimited, "slow down");
        assert_eq!(limited.code(), "rate_limited");
        assert!(limited.text(Lang::En).contains("minute"));
        let slowed = server(
            ErrorCode::RateLimited,
            "too many failed sign-ins for this name from this address: wait until \
             2026-11-22 02:05:00.5 UTC",
        );
        assert!(slowed.text(Lang::Zh).contains("2026-11-22 10:05"));
        assert!(slowed.text(Lang::En).contains("after 2026-11-22 10:05"));
        assert_eq!(
            Failure::Api(ApiError::Network("refused".into())).code(),
            "network"
        );
        assert_eq!(Failure::Missing.code(), "missing_fields");
    }
}
