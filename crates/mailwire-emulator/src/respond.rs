//! Small helpers shared by the provider modules for building responses and reading requests.
//! They carry no provider wording: each provider module owns its own error shapes.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

/// A JSON response, pretty-printed with two spaces as Google's front ends send it; `extra`
/// headers are added as given.
pub(crate) fn json(status: u16, body: &Value, extra: &[(&'static str, String)]) -> Response {
    let text = serde_json::to_string_pretty(body).unwrap_or_else(|_| "{}".into());
    with_body(status, "application/json; charset=utf-8", text, extra)
}

/// A JSON response on one line, as Entra ID and Graph send theirs.
pub(crate) fn compact_json(status: u16, body: &Value, extra: &[(&'static str, String)]) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    with_body(status, "application/json; charset=utf-8", text, extra)
}

pub(crate) fn with_body(
    status: u16,
    content_type: &'static str,
    body: String,
    extra: &[(&'static str, String)],
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.append(*name, value);
        }
    }
    response
}

pub(crate) fn empty(status: u16, extra: &[(&'static str, String)]) -> Response {
    let mut response = with_body(status, "text/plain", String::new(), extra);
    response.headers_mut().remove(header::CONTENT_TYPE);
    response
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The token from `Authorization: Bearer ...`; the scheme is matched case-insensitively as
/// both providers do.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = header_str(headers, "authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

pub(crate) fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Form fields of a urlencoded body; an empty value counts as missing, like the real services.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// Fills a field from elsewhere (HTTP Basic credentials) unless the body already has it.
    pub(crate) fn add_missing(&mut self, name: &str, value: String) {
        if self.get(name).is_none() {
            self.0.push((name.to_string(), value));
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.as_str())
    }
}

/// Anything that is at least `local@domain.tld` without spaces; good enough to tell a typo
/// from an address.
pub(crate) fn looks_like_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The domain part of an address, lower-cased.
pub(crate) fn domain_of(address: &str) -> Option<String> {
    address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase())
}
