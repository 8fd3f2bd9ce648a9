//! Every fault on the routes it applies to: latency, throttling, 5xx, dropped connections, cut
//! responses, malformed bodies, captive-portal pages and clock skew, with their counting.

use std::time::{Duration, Instant, SystemTime};

use mailwire_emulator::scenario::sandbox;
use mailwire_emulator::{Emulator, Fault, Route, StatusFault, Throttle};
use serde_json::json;

use crate::common::*;

/// One request to each route, as a well-behaved client would make it.
async fn call(emu: &Emulator, route: Route, tokens: &(String, String)) -> reqwest::Result<reqwest::Response> {
    let c = client();
    let base = emu.base_url();
    match route {
        Route::MsToken => {
            c.post(format!("{base}/{}/oauth2/v2.0/token", sandbox::TENANT_ID))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", sandbox::APP_CLIENT_ID),
                    ("client_secret", sandbox::APP_SECRET),
                    ("scope", GRAPH_SCOPE),
                ])
                .send()
                .await
        }
        Route::MsDiscovery => {
            c.get(format!("{base}/{}/v2.0/.well-known/openid-configuration", sandbox::TENANT_ID)).send().await
        }
        Route::GraphSendMail => {
            c.post(format!("{base}/v1.0/users/{}/sendMail", sandbox::MS_SENDER))
                .bearer_auth(&tokens.0)
                .json(&graph_message(sandbox::MS_RECIPIENT))
                .send()
                .await
        }
        Route::GoogleToken => {
            let claims =
                google_claims(sandbox::SA_EMAIL, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE, GOOGLE_AUD);
            let assertion = sign_rs256(&sa_key(emu, sandbox::SA_EMAIL), Some(sandbox::SA_KEY_ID), &claims);
            c.post(emu.google_token_url())
                .form(&[("grant_type", JWT_BEARER), ("assertion", assertion.as_str())])
                .send()
                .await
        }
        Route::GmailProfile => c.get(format!("{base}/gmail/v1/users/me/profile")).bearer_auth(&tokens.1).send().await,
        Route::GmailSend | Route::Any => {
            let raw = raw_message(sandbox::GOOGLE_SENDER, sandbox::GOOGLE_RECIPIENT, "s", "b");
            c.post(format!("{base}/gmail/v1/users/me/messages/send"))
                .bearer_auth(&tokens.1)
                .json(&json!({ "raw": raw }))
                .send()
                .await
        }
    }
}

fn success(route: Route) -> u16 {
    if route == Route::GraphSendMail {
        202
    } else {
        200
    }
}

async fn setup() -> (Emulator, (String, String)) {
    let emu = sandbox().await;
    let ms = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let google = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    emu.reset_request_counts();
    (emu, (ms, google))
}

#[tokio::test]
async fn throttle_on_every_route_then_recovers() {
    let (emu, tokens) = setup().await;
    for route in Route::ALL {
        emu.set_fault(route, Fault { throttle: Some(Throttle { count: 2, retry_after_secs: 7 }), ..Fault::default() });
        for _ in 0..2 {
            let r = reply(call(&emu, route, &tokens).await.unwrap()).await;
            assert_eq!(r.status, 429, "{route}: {}", r.text);
            assert_eq!(r.headers["retry-after"], "7", "{route}");
            assert!(r.headers.contains_key("date"));
            match route {
                Route::MsToken | Route::MsDiscovery => {
                    assert_aad(&r, 429, "temporarily_unavailable", 90055);
                }
                Route::GraphSendMail => {
                    assert_graph(&r, 429, "ApplicationThrottled");
                }
                Route::GoogleToken => assert_eq!(r.body["error"], "rate_limit_exceeded"),
                _ => {
                    assert_google_api(&r, 429, "RESOURCE_EXHAUSTED", "rateLimitExceeded");
                }
            }
        }
        let r = call(&emu, route, &tokens).await.unwrap();
        assert_eq!(r.status().as_u16(), success(route), "{route} after the throttle");
        assert_eq!(emu.request_count(route), 3, "{route}");
        assert!(emu.faults().is_empty(), "{route}: spent faults are removed");
    }
    assert_eq!(emu.request_count(Route::Any), 18);
}

#[tokio::test]
async fn server_errors_on_every_route() {
    let (emu, tokens) = setup().await;
    for route in Route::ALL {
        for code in [500u16, 503] {
            emu.set_fault(route, Fault { status: Some(StatusFault { code, count: 1 }), ..Fault::default() });
            let r = reply(call(&emu, route, &tokens).await.unwrap()).await;
            assert_eq!(r.status, code, "{route}");
            match route {
                Route::MsToken | Route::MsDiscovery => {
                    let error = if code == 500 { "server_error" } else { "temporarily_unavailable" };
                    assert_aad(&r, code, error, 90033);
                }
                Route::GraphSendMail => {
                    assert_graph(&r, code, if code == 500 { "generalException" } else { "serviceNotAvailable" });
                }
                Route::GoogleToken => assert!(r.body["error"].is_string(), "{}", r.text),
                _ => {
                    assert_google_api(&r, code, if code == 500 { "INTERNAL" } else { "UNAVAILABLE" }, "backendError");
                }
            }
        }
        assert_eq!(call(&emu, route, &tokens).await.unwrap().status().as_u16(), success(route));
    }
    // Only the successful Graph and Gmail calls reached the outbox.
    assert_eq!(emu.outbox().len(), 2);
}

#[tokio::test]
async fn dropped_connections() {
    let (emu, tokens) = setup().await;
    for route in Route::ALL {
        emu.set_fault(route, Fault { drop_connection: 1, ..Fault::default() });
        let err = call(&emu, route, &tokens).await.unwrap_err();
        assert!(err.is_request() || err.is_connect() || err.is_body(), "{route}: {err:?}");
        assert_eq!(call(&emu, route, &tokens).await.unwrap().status().as_u16(), success(route), "{route}");
    }
    // A dropped send never reached the mailbox.
    assert_eq!(emu.outbox().len(), 2);
}

#[tokio::test]
async fn responses_cut_after_headers() {
    let (emu, tokens) = setup().await;
    for route in Route::ALL {
        emu.set_fault(route, Fault { drop_mid_response: 1, ..Fault::default() });
        let response = call(&emu, route, &tokens).await.unwrap();
        assert_eq!(response.status().as_u16(), success(route), "{route}");
        assert!(response.bytes().await.is_err(), "{route}: the body must not complete");
    }
    // The sends were processed before their answers were lost.
    assert_eq!(emu.outbox().len(), 2);
}

#[tokio::test]
async fn malformed_bodies() {
    let (emu, tokens) = setup().await;
    for route in Route::ALL {
        emu.set_fault(route, Fault { malformed_body: 1, ..Fault::default() });
        let response = call(&emu, route, &tokens).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{route}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let text = response.text().await.unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_err(), "{route}: {text}");
    }
}

#[tokio::test]
async fn captive_portal_pages() {
    let (emu, tokens) = setup().await;
    for (status, route) in [(None, Route::MsToken), (Some(502), Route::GoogleToken), (None, Route::GmailSend)] {
        emu.set_fault(route, Fault { html_page: 1, html_status: status, ..Fault::default() });
        let response = call(&emu, route, &tokens).await.unwrap();
        assert_eq!(response.status().as_u16(), status.unwrap_or(200));
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(response.text().await.unwrap().contains("<html"));
        assert_eq!(call(&emu, route, &tokens).await.unwrap().status().as_u16(), success(route));
    }
}

#[tokio::test]
async fn latency_is_added() {
    let (emu, tokens) = setup().await;
    emu.set_fault(Route::MsDiscovery, Fault { latency_ms: 1500, ..Fault::default() });
    let started = Instant::now();
    assert_eq!(call(&emu, Route::MsDiscovery, &tokens).await.unwrap().status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    // Latency stays until cleared; other routes are unaffected.
    let started = Instant::now();
    call(&emu, Route::MsDiscovery, &tokens).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let started = Instant::now();
    call(&emu, Route::GmailProfile, &tokens).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(1500));
    // A client timeout shorter than the latency fails.
    let short = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let url = format!("{}/{}/v2.0/.well-known/openid-configuration", emu.base_url(), sandbox::TENANT_ID);
    assert!(short.get(url).send().await.unwrap_err().is_timeout());
}

#[tokio::test]
async fn skewed_date_on_every_response() {
    let (emu, tokens) = setup().await;
    emu.set_fault(Route::Any, Fault { date_skew_secs: -3600, ..Fault::default() });
    for route in Route::ALL {
        let response = call(&emu, route, &tokens).await.unwrap();
        let date = httpdate::parse_http_date(response.headers()["date"].to_str().unwrap()).unwrap();
        let behind = SystemTime::now().duration_since(date).unwrap().as_secs();
        assert!((3590..3610).contains(&behind), "{route}: {behind}");
    }
    // A route's own skew wins over the one for all routes.
    emu.set_fault(Route::MsDiscovery, Fault { date_skew_secs: 600, ..Fault::default() });
    let response = call(&emu, Route::MsDiscovery, &tokens).await.unwrap();
    let date = httpdate::parse_http_date(response.headers()["date"].to_str().unwrap()).unwrap();
    let ahead = date.duration_since(SystemTime::now()).unwrap().as_secs();
    assert!((590..610).contains(&ahead), "{ahead}");
}

#[tokio::test]
async fn any_route_and_fault_order() {
    let (emu, tokens) = setup().await;
    // One of each counted fault: they fire in a fixed order, one per request.
    emu.set_fault(
        Route::Any,
        Fault {
            drop_connection: 1,
            drop_mid_response: 1,
            throttle: Some(Throttle { count: 1, retry_after_secs: 1 }),
            status: Some(StatusFault { code: 503, count: 1 }),
            html_page: 1,
            malformed_body: 1,
            ..Fault::default()
        },
    );
    assert!(call(&emu, Route::MsDiscovery, &tokens).await.is_err());
    let cut = call(&emu, Route::GmailProfile, &tokens).await.unwrap();
    assert!(cut.bytes().await.is_err());
    assert_eq!(call(&emu, Route::MsToken, &tokens).await.unwrap().status(), 429);
    assert_eq!(call(&emu, Route::GoogleToken, &tokens).await.unwrap().status(), 503);
    let html = call(&emu, Route::GraphSendMail, &tokens).await.unwrap();
    assert!(html.text().await.unwrap().contains("<html"));
    let malformed = call(&emu, Route::MsDiscovery, &tokens).await.unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&malformed.text().await.unwrap()).is_err());
    assert_eq!(call(&emu, Route::MsDiscovery, &tokens).await.unwrap().status(), 200);
    assert_eq!(emu.request_count(Route::MsDiscovery), 3);
    assert_eq!(emu.request_count(Route::Any), 7);
    // A route's own fault fires before the one for all routes.
    emu.set_fault(Route::Any, Fault { status: Some(StatusFault { code: 500, count: 1 }), ..Fault::default() });
    emu.set_fault(Route::MsToken, Fault { status: Some(StatusFault { code: 503, count: 1 }), ..Fault::default() });
    assert_eq!(call(&emu, Route::MsToken, &tokens).await.unwrap().status(), 503);
    assert_eq!(call(&emu, Route::MsToken, &tokens).await.unwrap().status(), 500);
    assert_eq!(call(&emu, Route::MsToken, &tokens).await.unwrap().status(), 200);
    // Clearing disarms everything.
    emu.set_fault(Route::Any, Fault { drop_connection: 5, ..Fault::default() });
    emu.clear_faults();
    assert_eq!(call(&emu, Route::MsToken, &tokens).await.unwrap().status(), 200);
}

#[tokio::test]
async fn admin_endpoints_are_never_faulted() {
    let (emu, _) = setup().await;
    emu.set_fault(Route::Any, Fault { drop_connection: 3, ..Fault::default() });
    let r = client().get(format!("{}/_emulator/requests", emu.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(emu.faults()[&Route::Any].drop_connection, 3);
}

/// Outlook's own limit, not an injected fault: a fifth request in flight for one app and mailbox
/// is throttled while another mailbox is unaffected, and the slot frees when a request is answered.
#[tokio::test]
async fn a_mailbox_takes_four_concurrent_requests_per_app() {
    let (emu, tokens) = setup().await;
    emu.set_fault(Route::GraphSendMail, Fault { latency_ms: 400, ..Fault::default() });
    let sends = (0..mailwire_emulator::MAILBOX_CONCURRENCY + 2).map(|_| call(&emu, Route::GraphSendMail, &tokens));
    let replies = futures_util::future::join_all(sends).await;
    let mut statuses = Vec::new();
    for response in replies {
        let r = reply(response.expect("an answer")).await;
        if r.status == 429 {
            assert_graph(&r, 429, "ApplicationThrottled");
            assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"), "{}", r.text);
        }
        statuses.push(r.status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 202, 202, 202, 429, 429]);
    assert_eq!(emu.outbox().len(), 4);

    emu.set_fault(Route::GraphSendMail, Fault::default());
    let r = reply(call(&emu, Route::GraphSendMail, &tokens).await.unwrap()).await;
    assert_eq!(r.status, 202, "the slots are free again: {}", r.text);
}
