//! The session token: kept in `localStorage` (a wall survives a reload), sent by `api` and
//! `live`, and dropped when the server says it is no longer good. Whoever shows the pages is
//! told through one callback (`on_expired`), so every 401 ends the session the same way.

use std::cell::RefCell;
use yew::Callback;

/// The `localStorage` key of the token.
pub const STORAGE_KEY: &str = "cylwatch.token";

/// The `localStorage` key of a wall's display key (`POST /api/v1/auth/display`): with it the
/// screen signs itself in again whenever its session ends, with no person.
pub const DISPLAY_STORAGE_KEY: &str = "cylwatch.display";

/// Where the sign-in form lives.
pub const LOGIN_PATH: &str = "/login";

thread_local! {
    // When the browser refuses storage (some private modes), the token lives for the page.
    static MEMORY: RefCell<Option<String>> = const { RefCell::new(None) };
    static ON_EXPIRED: RefCell<Option<Callback<()>>> = const { RefCell::new(None) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The stored token, if any.
pub fn get() -> Option<String> {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .or_else(|| MEMORY.with(|m| m.borrow().clone()))
        .filter(|t| !t.is_empty())
}

/// Keeps the token of a new session.
pub fn set(token: &str) {
    let stored = storage().is_some_and(|s| s.set_item(STORAGE_KEY, token).is_ok());
    MEMORY.with(|m| *m.borrow_mut() = (!stored).then(|| token.to_owned()));
}

/// Forgets the token.
pub fn clear() {
    if let Some(s) = storage() {
        let _ = s.remove_item(STORAGE_KEY);
    }
    MEMORY.with(|m| *m.borrow_mut() = None);
}

/// The wall's display key, if this screen was set up as one.
pub fn display_key() -> Option<String> {
    storage()
        .and_then(|s| s.get_item(DISPLAY_STORAGE_KEY).ok().flatten())
        .filter(|k| !k.is_empty())
}

/// Sets this screen up as a wall (or, with `None`, no longer).
pub fn set_display_key(key: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match key {
            Some(key) => s.set_item(DISPLAY_STORAGE_KEY, key),
            None => s.remove_item(DISPLAY_STORAGE_KEY),
        };
    }
}

/// Registers what happens when the session ends (the application root sets it).
pub fn on_expired(callback: Option<Callback<()>>) {
    ON_EXPIRED.with(|c| *c.borrow_mut() = callback);
}

/// The server refused the token (or there is none): forget it and tell the application.
pub fn expired() {
    clear();
    if let Some(callback) = ON_EXPIRED.with(|c| c.borrow().clone()) {
        callback.emit(());
    }
}

/// `/login?next=<path>`: the sign-in page, coming back to `next` afterwards.
pub fn login_path(next: &str) -> String {
    if next.is_empty() || is_login_path(next) {
        return LOGIN_PATH.to_owned();
    }
    format!("{LOGIN_PATH}?next={}", encode(next))
}

/// Where to go after signing in: `next` when it is a path of this site, else the wall. A
/// link cannot send someone who signs in to another site (`//evil`, `https://...`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) && !is_login_path(n) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// A path on this origin: starts with one `/`, no scheme, no backslash tricks.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

fn is_login_path(path: &str) -> bool {
    path == LOGIN_PATH
        || path.starts_with(&format!("{LOGIN_PATH}?"))
        || path.starts_with(&format!("{LOGIN_PATH}/"))
}

/// The value of `name` in a query string (`?a=1&b=2`), percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| decode(v))
}

/// Percent-encodes like `encodeURIComponent`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undoes percent-encoding (and `+` for a space); a broken escape is kept as it is.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |j: usize| bytes.get(j).and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/cylinders/A1?x=1")), "/cylinders/A1?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("")), "/");
        assert_eq!(safe_next(Some("/login?next=%2F")), "/");
        assert_eq!(safe_next(Some("/loginx")), "/loginx");
    }

    #[test]
    fn paths_round_trip_through_the_query() {
        assert_eq!(login_path("/"), "/login?next=%2F");
        assert_eq!(
            login_path("/cylinders/豫A1?test-state"),
            "/login?next=%2Fcylinders%2F%E8%B1%ABA1%3Ftest-state"
        );
        assert_eq!(login_path("/login?next=%2F"), "/login");
        let query = "?lang=en&next=%2Fcylinders%2F%E8%B1%ABA1%3Ftest-state";
        assert_eq!(
            query_param(query, "next").as_deref(),
            Some("/cylinders/豫A1?test-state")
        );
        assert_eq!(query_param(query, "lang").as_deref(), Some("en"));
        assert_eq!(query_param(query, "nope"), None);
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("a+b%20c"), "a b c");
    }
}
