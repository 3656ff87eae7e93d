//! One guard in front of the whole `/_nubes/` tree: only the developer's own
//! tools (the console, curl, tests) reach the runner's endpoints, never a web
//! page of another site the developer happens to visit.
//!
//! Two attacks are closed, the way webpack-dev-server and Vite closed them
//! after their advisories:
//!
//! - DNS rebinding: a request whose `Host` is not one the runner serves
//!   `/_nubes/` for ([`AllowedHosts`]) is refused, so a page cannot read
//!   objects, dead letters or the console through a rebound domain;
//! - cross-site requests: a page may send "simple" requests (a form post, a
//!   `text/plain` fetch) to any address without asking. A state-changing
//!   request (any method but `GET`, `HEAD`, `OPTIONS`) is refused when the
//!   browser says it comes from another site (`Sec-Fetch-Site: cross-site` or
//!   `same-site`) or another origin (`Origin` not this very host); a reading
//!   request from another site is refused unless it is a top-level navigation
//!   (the Fetch Metadata resource isolation policy), so `<script>` or `<img>`
//!   tags cannot load objects either.
//!
//! Requests without these headers (curl, scripts, tests) are not from a
//! browser page and pass. The app's own routes are not behind this guard.

use std::sync::Arc;

use axum::body::Body as AxumBody;
use axum::extract::State;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use http::{HeaderMap, Method, Request, StatusCode, header};
use nubes_core::Error;

use crate::allowed_hosts::AllowedHosts;
use crate::json_error::ApiError;

static SEC_FETCH_SITE: http::HeaderName = http::HeaderName::from_static("sec-fetch-site");
static SEC_FETCH_MODE: http::HeaderName = http::HeaderName::from_static("sec-fetch-mode");

/// The middleware: refuses with a JSON `403` what [`refusal`] finds wrong.
pub(crate) async fn check(
    State(hosts): State<Arc<AllowedHosts>>,
    request: Request<AxumBody>,
    next: Next,
) -> Response {
    match refusal(&hosts, &request) {
        None => next.run(request).await,
        Some(why) => {
            tracing::warn!(
                method = %request.method(),
                path = request.uri().path(),
                reason = %why,
                "request to /_nubes/ refused"
            );
            ApiError::new(StatusCode::FORBIDDEN, Error::invalid_event(why)).into_response()
        }
    }
}

/// Why `request` may not reach `/_nubes/`, or `None` when it may.
fn refusal(hosts: &AllowedHosts, request: &Request<AxumBody>) -> Option<String> {
    let headers = request.headers();
    // HTTP/1.1 carries the host in `Host`, HTTP/2 in the request target.
    let authority = match headers.get(header::HOST) {
        Some(value) => match value.to_str() {
            Ok(text) => text.trim().to_owned(),
            Err(_) => return Some("the Host header is not readable text".to_owned()),
        },
        None => match request.uri().authority() {
            Some(authority) => authority.as_str().to_owned(),
            // Browsers always send the host: a request without one is no page's.
            None => return None,
        },
    };
    let host = host_of(&authority);
    if !hosts.allows(host) {
        return Some(format!(
            "/_nubes/ answers only for the runner's own addresses (localhost, 127.0.0.1, [::1], \
             NUBES_HOST), not for Host `{authority}`: this protects it from web pages that rebind \
             their domain to this machine. If you reach the runner by this name on purpose, \
             add `{host}` to NUBES_ALLOWED_HOSTS"
        ));
    }
    let site = header_text(headers, &SEC_FETCH_SITE);
    let other_site = matches!(site.as_deref(), Some("cross-site" | "same-site"));
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes_state {
        if other_site {
            return Some(cross_site(
                "this request comes from another site (Sec-Fetch-Site)",
            ));
        }
        if let Some(origin) = header_text(headers, &header::ORIGIN)
            && !same_origin(&origin, &authority)
        {
            return Some(cross_site(&format!(
                "this request comes from another origin (Origin `{origin}`)"
            )));
        }
    } else if other_site && header_text(headers, &SEC_FETCH_MODE).as_deref() != Some("navigate") {
        return Some(cross_site(
            "another site's page may not load /_nubes/ resources (Sec-Fetch-Site)",
        ));
    }
    None
}

fn cross_site(what: &str) -> String {
    format!(
        "{what}: /_nubes/ takes requests only from the console, curl and other local tools, \
         so that a web page you visit cannot fire your handlers or read your data"
    )
}

/// The host of `authority` (`host:port`, `[v6]:port`), without the port.
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

/// Whether `origin` (`scheme://host[:port]`) names the host the request was
/// sent to. `null` (sandboxed frames, some redirects) is never the same.
fn same_origin(origin: &str, authority: &str) -> bool {
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(authority))
}

fn header_text(headers: &HeaderMap, name: &http::HeaderName) -> Option<String> {
    headers.get(name).map(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .trim()
            .to_ascii_lowercase()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn refused(method: &str, headers: &[(&str, &str)]) -> bool {
        let hosts = AllowedHosts::new(IpAddr::V4(Ipv4Addr::LOCALHOST), &[]);
        let mut request = Request::builder().method(method).uri("/_nubes/queues/q");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(AxumBody::empty()).expect("a valid request");
        refusal(&hosts, &request).is_some()
    }

    #[test]
    fn hosts_and_origins() {
        let local = ("host", "localhost:3000");
        assert!(!refused("POST", &[local]));
        assert!(!refused("POST", &[]), "no host: not a browser");
        assert!(refused("GET", &[("host", "evil.example:3000")]));
        assert!(!refused(
            "POST",
            &[local, ("origin", "http://localhost:3000")]
        ));
        assert!(!refused(
            "POST",
            &[local, ("origin", "http://LOCALHOST:3000")]
        ));
        assert!(refused(
            "POST",
            &[local, ("origin", "http://localhost:5173")]
        ));
        assert!(refused("POST", &[local, ("origin", "null")]));
        assert!(refused(
            "DELETE",
            &[local, ("origin", "https://evil.example")]
        ));
        assert!(
            !refused("GET", &[local, ("origin", "https://evil.example")]),
            "CORS keeps the answer from the page"
        );
        assert!(!refused(
            "POST",
            &[("host", "[::1]:3000"), ("origin", "http://[::1]:3000")]
        ));
    }

    #[test]
    fn fetch_metadata() {
        let local = ("host", "127.0.0.1:3000");
        for site in ["cross-site", "same-site", "Cross-Site"] {
            assert!(
                refused("POST", &[local, ("sec-fetch-site", site)]),
                "{site}"
            );
            assert!(refused(
                "GET",
                &[
                    local,
                    ("sec-fetch-site", site),
                    ("sec-fetch-mode", "no-cors")
                ]
            ));
            assert!(!refused(
                "GET",
                &[
                    local,
                    ("sec-fetch-site", site),
                    ("sec-fetch-mode", "navigate")
                ]
            ));
        }
        for site in ["same-origin", "none"] {
            assert!(
                !refused("POST", &[local, ("sec-fetch-site", site)]),
                "{site}"
            );
        }
    }

    #[test]
    fn hosts_lose_their_port() {
        assert_eq!(host_of("localhost:3000"), "localhost");
        assert_eq!(host_of("localhost"), "localhost");
        assert_eq!(host_of("[::1]:3000"), "[::1]");
        assert_eq!(host_of("[::1]"), "[::1]");
    }
}
