//! The security headers of every response: no MIME sniffing, no framing, no referrer, and a
//! Content-Security-Policy: strict for the dashboard (its own scripts, the wasm, and trunk's
//! inline loader by its hash), its own for the Swagger UI at `/api/v1/docs/`, and "nothing"
//! for everything else (JSON, CSV, files are never documents that run anything).

use crate::api::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The policy of API answers and files.
const NOTHING: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The Swagger UI's policy: its own scripts; styles may be inline (it sets them itself).
const DOCS: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                    img-src 'self' data:; connect-src 'self'; object-src 'none'; \
                    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The middleware.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let dir = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.frontend_dir.clone());
    let path = req.path().to_owned();
    // (Handlers' and extractors' errors are responses by now; the request must not be cloned
    // before routing, which needs it unshared.)
    let mut res = next.call(req).await?;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let policy = if path.starts_with("/api/v1/docs") {
        DOCS.to_owned()
    } else if html && !path.starts_with("/api/") {
        dashboard_policy(dir.as_deref())
    } else {
        NOTHING.to_owned()
    };
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Ok(res)
}

/// The dashboard's policy: scripts from the server itself plus the inline loader trunk writes
/// into `index.html` (allowed by its hash, read from the file as it is now, so a rebuild needs
/// no restart), WebAssembly compilation, style attributes (the bars' widths) but no inline
/// style sheets, images also from `data:`/`blob:`, requests and the WebSocket to the server.
fn dashboard_policy(dir: Option<&Path>) -> String {
    let html = dir
        .and_then(|d| std::fs::read_to_string(d.join("index.html")).ok())
        .unwrap_or_default();
    let hashes: Vec<String> = inline_scripts(&html)
        .iter()
        .map(|s| format!(" 'sha256-{}'", base64(&Sha256::digest(s.as_bytes()))))
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self'; \
         style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
        hashes.concat()
    )
}

/// The text of each `<script>` without a `src` in an HTML page, as the browser hashes it.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<script") {
        let after_tag = &rest[open..];
        let Some(tag_end) = after_tag.find('>') else {
            break;
        };
        let tag = &after_tag[..tag_end];
        let body = &after_tag[tag_end + 1..];
        let Some(close) = body.find("</script") else {
            break;
        };
        if !tag.contains(" src=") {
            found.push(&body[..close]);
        }
        rest = &body[close..];
    }
    found
}

/// Standard base64 with padding (as CSP hashes are written).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                let index = usize::try_from((n >> shift) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET[index]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_the_standard_one() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn inline_scripts_are_found_and_loaded_ones_skipped() {
        let html = "<head><script type=\"module\">\nimport x;\n</script>\
                    <script src=\"/a.js\"></script><script>b()</script></head>";
        assert_eq!(inline_scripts(html), vec!["\nimport x;\n", "b()"]);
    }
}
