//! Faults switched on at run time, per route: added latency, throttling, server errors, dropped
//! connections, truncated or malformed bodies, a captive-portal HTML page and a skewed clock.
//! Counted faults fire once per request and count down; only one fires per request, in the
//! order drop, cut, throttle, status, HTML, malformed, so a test can queue a sequence.

use std::fmt;
use std::str::FromStr;

use axum::http;
use serde::{Deserialize, Serialize};

/// The provider endpoints a fault or a request counter can name. `Any` stands for all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    #[serde(alias = "MsToken")]
    MsToken,
    #[serde(alias = "MsDiscovery")]
    MsDiscovery,
    #[serde(alias = "GraphSendMail")]
    GraphSendMail,
    #[serde(alias = "GoogleToken")]
    GoogleToken,
    #[serde(alias = "GmailProfile")]
    GmailProfile,
    #[serde(alias = "GmailSend")]
    GmailSend,
    #[serde(alias = "Any")]
    Any,
}

impl Route {
    /// Every concrete route, in a stable order.
    pub const ALL: [Route; 6] = [
        Route::MsToken,
        Route::MsDiscovery,
        Route::GraphSendMail,
        Route::GoogleToken,
        Route::GmailProfile,
        Route::GmailSend,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::MsToken => "ms_token",
            Route::MsDiscovery => "ms_discovery",
            Route::GraphSendMail => "graph_send_mail",
            Route::GoogleToken => "google_token",
            Route::GmailProfile => "gmail_profile",
            Route::GmailSend => "gmail_send",
            Route::Any => "any",
        }
    }

    /// Which provider route a request is for, matched the same way the router matches it.
    pub(crate) fn classify(method: &http::Method, path: &str) -> Option<Route> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let get = method == http::Method::GET;
        let post = method == http::Method::POST;
        match segments.as_slice() {
            ["token"] if post => Some(Route::GoogleToken),
            ["_emulator", ..] => None,
            [_, "oauth2", "v2.0", "token"] if post => Some(Route::MsToken),
            [_, "v2.0", ".well-known", "openid-configuration"] if get => Some(Route::MsDiscovery),
            ["v1.0", "users", _, "sendMail"] | ["v1.0", "me", "sendMail"] if post => Some(Route::GraphSendMail),
            ["gmail", "v1", "users", _, "profile"] if get => Some(Route::GmailProfile),
            ["gmail", "v1", "users", _, "messages", "send"] if post => Some(Route::GmailSend),
            _ => None,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Route> {
        let wanted = s.replace(['-', '_'], "").to_ascii_lowercase();
        Route::ALL
            .into_iter()
            .chain([Route::Any])
            .find(|r| r.as_str().replace('_', "") == wanted)
            .ok_or_else(|| anyhow::anyhow!("unknown route {s:?}"))
    }
}

/// What goes wrong on a route. `Fault::default()` is no fault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// Added before every request on the route is answered.
    pub latency_ms: u64,
    /// The next `count` requests get 429 with `Retry-After`.
    pub throttle: Option<Throttle>,
    /// The next `count` requests get this 5xx status.
    pub status: Option<StatusFault>,
    /// The next N requests: the connection is closed before any response.
    pub drop_connection: u32,
    /// The next N requests are processed, then the response is cut after its headers.
    pub drop_mid_response: u32,
    /// The next N requests get 200 with a JSON body that does not parse.
    pub malformed_body: u32,
    /// The next N requests get an HTML page, as from a captive portal or a proxy.
    pub html_page: u32,
    /// Status of the HTML page; 200 when unset (a portal), 502 is what a proxy sends.
    pub html_status: Option<u16>,
    /// Moves the emulator's clock (the `Date` header and JWT time checks) by this much.
    pub date_skew_secs: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Throttle {
    pub count: u32,
    pub retry_after_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusFault {
    /// 500 or 503 in practice; any 4xx/5xx is answered in the route's error shape.
    pub code: u16,
    pub count: u32,
}

/// The one fault that fires for a request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Firing {
    DropConnection,
    DropMidResponse,
    Throttle { retry_after_secs: u64 },
    Status(u16),
    Html(u16),
    Malformed,
}

impl Fault {
    /// Counts down the first armed fault and reports it.
    pub(crate) fn fire(&mut self) -> Option<Firing> {
        fn take(n: &mut u32) -> bool {
            let armed = *n > 0;
            if armed {
                *n -= 1;
            }
            armed
        }
        if take(&mut self.drop_connection) {
            return Some(Firing::DropConnection);
        }
        if take(&mut self.drop_mid_response) {
            return Some(Firing::DropMidResponse);
        }
        if let Some(throttle) = &mut self.throttle {
            if take(&mut throttle.count) {
                let retry_after_secs = throttle.retry_after_secs;
                if throttle.count == 0 {
                    self.throttle = None;
                }
                return Some(Firing::Throttle { retry_after_secs });
            }
        }
        if let Some(status) = &mut self.status {
            if take(&mut status.count) {
                let code = status.code;
                if status.count == 0 {
                    self.status = None;
                }
                return Some(Firing::Status(code));
            }
        }
        if take(&mut self.html_page) {
            return Some(Firing::Html(self.html_status.unwrap_or(200)));
        }
        if take(&mut self.malformed_body) {
            return Some(Firing::Malformed);
        }
        None
    }

    /// Rejects faults the emulator cannot answer faithfully.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(status) = &self.status {
            anyhow::ensure!(
                (400..=599).contains(&status.code),
                "status fault code {} is not an error status",
                status.code
            );
        }
        if let Some(code) = self.html_status {
            anyhow::ensure!((200..=599).contains(&code), "html_status {code} is not a final status");
        }
        Ok(())
    }
}

/// A captive portal's login page: what a client sees when the network intercepts the request.
pub(crate) const CAPTIVE_PORTAL_HTML: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\
<meta charset=\"utf-8\"><title>Network Login</title></head>\n<body>\n<h1>Welcome to Guest Wi-Fi</h1>\n\
<p>Please accept the terms of use to continue browsing.</p>\n<form method=\"post\" action=\"/login\">\
<button type=\"submit\">Accept and connect</button></form>\n</body>\n</html>\n";

/// The start of the route's normal answer, cut off so it cannot parse.
pub(crate) fn malformed_body(route: Route) -> &'static str {
    match route {
        Route::MsToken => {
            "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":\"eyJ0eXAiOiJKV1Qi"
        }
        Route::MsDiscovery => "{\"token_endpoint\":\"https://login.microsoftonline.com/",
        Route::GraphSendMail => "{\"error\":{\"code\":\"",
        Route::GoogleToken => "{\n  \"access_token\": \"ya29.c.b0Aaek",
        Route::GmailProfile => "{\n  \"emailAddress\": \"",
        Route::GmailSend | Route::Any => "{\n  \"id\": \"18c",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_from_their_names_in_any_spelling() {
        for route in Route::ALL.into_iter().chain([Route::Any]) {
            assert_eq!(route.as_str().parse::<Route>().unwrap(), route);
            assert_eq!(format!("{route:?}").parse::<Route>().unwrap(), route);
            let json = serde_json::to_string(&route).unwrap();
            assert_eq!(serde_json::from_str::<Route>(&json).unwrap(), route);
        }
        assert!("gmail".parse::<Route>().is_err());
    }

    #[test]
    fn classify_matches_the_provider_paths_only() {
        let (get, post) = (http::Method::GET, http::Method::POST);
        assert_eq!(Route::classify(&post, "/token"), Some(Route::GoogleToken));
        assert_eq!(Route::classify(&get, "/token"), None);
        assert_eq!(Route::classify(&post, "/contoso.com/oauth2/v2.0/token"), Some(Route::MsToken));
        assert_eq!(Route::classify(&get, "/x/v2.0/.well-known/openid-configuration"), Some(Route::MsDiscovery));
        assert_eq!(Route::classify(&post, "/v1.0/users/a@b.com/sendMail"), Some(Route::GraphSendMail));
        assert_eq!(Route::classify(&post, "/v1.0/me/sendMail"), Some(Route::GraphSendMail));
        assert_eq!(Route::classify(&get, "/gmail/v1/users/me/profile"), Some(Route::GmailProfile));
        assert_eq!(Route::classify(&post, "/gmail/v1/users/me/messages/send"), Some(Route::GmailSend));
        assert_eq!(Route::classify(&post, "/_emulator/faults"), None);
        assert_eq!(Route::classify(&get, "/"), None);
    }

    #[test]
    fn counted_faults_fire_in_order_and_run_out() {
        let mut fault = Fault {
            drop_connection: 1,
            throttle: Some(Throttle { count: 2, retry_after_secs: 3 }),
            malformed_body: 1,
            date_skew_secs: 5,
            ..Fault::default()
        };
        assert_eq!(fault.fire(), Some(Firing::DropConnection));
        assert_eq!(fault.fire(), Some(Firing::Throttle { retry_after_secs: 3 }));
        assert_eq!(fault.fire(), Some(Firing::Throttle { retry_after_secs: 3 }));
        assert_eq!(fault.fire(), Some(Firing::Malformed));
        assert_eq!(fault.fire(), None);
        assert_eq!(fault, Fault { date_skew_secs: 5, ..Fault::default() });
    }
}
