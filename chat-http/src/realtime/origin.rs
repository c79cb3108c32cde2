//! Cross-site WebSocket hijacking protection: a browser handshake from a foreign `Origin`
//! is refused. Clients that send no `Origin` (not browsers) are let through; they
//! authenticate with a token like everyone else.

use axum::http::{HeaderMap, header};

/// Whether a handshake with these headers may proceed: no `Origin`, the server's own origin
/// (same host as the `Host` header), or a configured widget origin.
pub fn allowed(headers: &HeaderMap, configured: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let same_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        });
    same_host || configured.iter().any(|allowed| allowed == origin)
}
