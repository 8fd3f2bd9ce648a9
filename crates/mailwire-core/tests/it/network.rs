//! The HTTP layer against injected faults, TLS with the emulator's CA, and a loopback proxy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailwire_core::check::StepStatus;
use mailwire_core::http::{Http, HttpSettings, ProxySettings, RetrySettings};
use mailwire_emulator::scenario::sandbox as ids;
use mailwire_emulator::{Emulator, Fault, Route, Scenario, StatusFault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

async fn token_step_with(fault: Fault, http: Http) -> (mailwire_core::check::Report, Emulator) {
    let emulator = sandbox().await;
    emulator.set_fault(Route::MsToken, fault);
    let report = run_ms_with(&http, &sandbox_ms(&emulator), &secret(ids::APP_SECRET), None).await;
    (report, emulator)
}

#[tokio::test]
async fn latency_beyond_the_timeout_is_a_response_timeout() {
    let http = Http::new(HttpSettings {
        request_timeout: Duration::from_millis(400),
        retry: RetrySettings { max_attempts: 1, ..RetrySettings::default() },
        ..HttpSettings::default()
    })
    .unwrap();
    let (report, _e) = token_step_with(Fault { latency_ms: 2000, ..Fault::default() }, http).await;
    let token = step(&report, "token");
    assert_eq!(token.code.as_deref(), Some("response-timeout"), "{token:?}");
    assert!(token.detail.contains("did not answer in time"));
}

#[tokio::test]
async fn a_503_then_success_is_retried() {
    let (report, emulator) =
        token_step_with(Fault { status: Some(StatusFault { code: 503, count: 1 }), ..Fault::default() }, http()).await;
    assert!(report.ok, "{report:#?}");
    assert_eq!(emulator.request_count(Route::MsToken), 2);
}

#[tokio::test]
async fn a_4xx_is_never_retried() {
    let emulator = sandbox().await;
    let report = run_ms(&sandbox_ms(&emulator), &secret("wrong"), None).await;
    assert_eq!(step(&report, "token").code.as_deref(), Some("AADSTS7000215"));
    assert_eq!(emulator.request_count(Route::MsToken), 1);
}

#[tokio::test]
async fn a_dropped_token_response_is_retried() {
    let (report, emulator) = token_step_with(Fault { drop_mid_response: 1, ..Fault::default() }, http()).await;
    assert!(report.ok, "{report:#?}");
    assert_eq!(emulator.request_count(Route::MsToken), 2);
}

#[tokio::test]
async fn malformed_json_is_named() {
    let (report, _e) = token_step_with(Fault { malformed_body: 10, ..Fault::default() }, http()).await;
    assert_eq!(step(&report, "token").code.as_deref(), Some("malformed-response"));
}

#[tokio::test]
async fn an_html_page_is_a_captive_portal_diagnosis() {
    let (report, _e) = token_step_with(Fault { html_page: 10, ..Fault::default() }, http()).await;
    let token = step(&report, "token");
    assert_eq!(token.code.as_deref(), Some("html-instead-of-json"));
    assert!(token.fix.iter().any(|f| f.contains("sign in to the network")));
}

#[tokio::test]
async fn nothing_listening_is_connection_refused() {
    // The emulator binds first: binding it after the probe could hand it the probe's freed port.
    let emulator = sandbox().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut settings = sandbox_ms(&emulator);
    settings.authority_host = format!("http://127.0.0.1:{port}").parse().unwrap();
    let report = run_ms(&settings, &secret(ids::APP_SECRET), None).await;
    assert_eq!(step(&report, "token").code.as_deref(), Some("connection-refused"));
}

#[tokio::test]
async fn unknown_host_is_a_dns_failure() {
    let emulator = sandbox().await;
    let mut settings = sandbox_ms(&emulator);
    // "407" and "proxy" in the name: only the failure itself may decide what it was called.
    settings.authority_host = "https://proxy-407.mailwire-test.invalid".parse().unwrap();
    let report = run_ms(&settings, &secret(ids::APP_SECRET), None).await;
    let token = step(&report, "token");
    assert_eq!(token.code.as_deref(), Some("dns"), "{token:?}");
    assert!(token.detail.contains("proxy-407.mailwire-test.invalid"));
}

async fn tls_emulator() -> (Emulator, tempfile::NamedTempFile) {
    let emulator = Emulator::start_tls(Scenario::sandbox()).await.unwrap();
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), emulator.ca_pem().unwrap()).unwrap();
    (emulator, ca)
}

#[tokio::test]
async fn tls_needs_the_ca_file_and_works_with_it() {
    let (emulator, ca) = tls_emulator().await;
    let settings = sandbox_ms(&emulator);
    let untrusted = run_ms_with(&http(), &settings, &secret(ids::APP_SECRET), None).await;
    let token = step(&untrusted, "token");
    assert_eq!(token.code.as_deref(), Some("tls"), "{token:?}");
    assert!(token.fix.iter().any(|f| f.contains("CA file")));

    let trusting =
        Http::new(HttpSettings { ca_file: Some(ca.path().to_path_buf()), ..HttpSettings::default() }).unwrap();
    let report = run_ms_with(&trusting, &settings, &secret(ids::APP_SECRET), Some(ids::MS_RECIPIENT)).await;
    assert!(report.ok, "{report:#?}");
}

#[test]
fn a_bad_ca_file_is_refused_clearly() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"not a certificate").unwrap();
    let error = Http::new(HttpSettings { ca_file: Some(file.path().to_path_buf()), ..HttpSettings::default() })
        .err()
        .expect("refused");
    assert_eq!(error.code(), "bad-ca-file");
}

/// A minimal HTTP CONNECT proxy on loopback; optionally demands credentials.
async fn connect_proxy(require_auth: bool) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tunnels = Arc::new(AtomicUsize::new(0));
    let counter = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    if client.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let target = text.split_whitespace().nth(1).unwrap_or_default().to_string();
                let authorised = text.to_ascii_lowercase().contains("proxy-authorization: basic");
                if require_auth && !authorised {
                    let _ = client
                        .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let Ok(mut upstream) = TcpStream::connect(&target).await else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, tunnels)
}

#[tokio::test]
async fn requests_go_through_an_explicit_proxy() {
    let (emulator, ca) = tls_emulator().await;
    let (proxy_url, tunnels) = connect_proxy(false).await;
    let http = Http::new(HttpSettings {
        ca_file: Some(ca.path().to_path_buf()),
        proxy: Some(ProxySettings { url: proxy_url.clone(), username: None, password: None }),
        ..HttpSettings::default()
    })
    .unwrap();
    let settings = sandbox_ms(&emulator);
    let report = run_ms_with(&http, &settings, &secret(ids::APP_SECRET), None).await;
    assert!(report.ok, "{report:#?}");
    assert!(tunnels.load(Ordering::SeqCst) >= 1, "the proxy carried the requests");
    assert!(step(&report, "inputs").detail.contains(&proxy_url), "the report names the proxy");
}

#[tokio::test]
async fn a_proxy_asking_for_credentials_is_named() {
    let (emulator, ca) = tls_emulator().await;
    let (proxy_url, _) = connect_proxy(true).await;
    let http = Http::new(HttpSettings {
        ca_file: Some(ca.path().to_path_buf()),
        proxy: Some(ProxySettings { url: proxy_url, username: None, password: None }),
        ..HttpSettings::default()
    })
    .unwrap();
    let report = run_ms_with(&http, &sandbox_ms(&emulator), &secret(ids::APP_SECRET), None).await;
    assert_eq!(step(&report, "token").code.as_deref(), Some("proxy-auth-required"), "{report:#?}");
}

/// Under every fault on the send route, the test email reaches the outbox at most once.
#[tokio::test]
async fn a_send_is_never_duplicated() {
    let faults = [
        Fault { drop_mid_response: 1, ..Fault::default() },
        Fault { drop_connection: 1, ..Fault::default() },
        Fault { status: Some(StatusFault { code: 500, count: 1 }), ..Fault::default() },
        Fault { status: Some(StatusFault { code: 503, count: 1 }), ..Fault::default() },
        Fault { malformed_body: 1, ..Fault::default() },
        Fault { html_page: 1, ..Fault::default() },
    ];
    for fault in faults {
        for route in [Route::GraphSendMail, Route::GmailSend] {
            let emulator = sandbox().await;
            emulator.set_fault(route, fault.clone());
            let report = if route == Route::GraphSendMail {
                run_ms(&sandbox_ms(&emulator), &secret(ids::APP_SECRET), Some(ids::MS_RECIPIENT)).await
            } else {
                let key = google_key(&emulator, ids::SA_EMAIL);
                run_google(
                    &google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]),
                    &key,
                    Some(ids::GOOGLE_RECIPIENT),
                )
                .await
            };
            let delivered = emulator.outbox().len();
            assert!(delivered <= 1, "{route:?} {fault:?}: delivered {delivered} times");
            let send = step(&report, "send");
            if send.status == StepStatus::Pass {
                assert_eq!(delivered, 1, "{route:?} {fault:?}: pass means delivered");
            }
            if fault.drop_mid_response > 0 {
                assert!(send.detail.contains("may still have been delivered"), "{}", send.detail);
            }
        }
    }
}

#[tokio::test]
async fn retry_after_is_honoured_within_bounds() {
    let emulator = sandbox().await;
    emulator.set_fault(
        Route::MsToken,
        Fault { throttle: Some(mailwire_emulator::Throttle { count: 1, retry_after_secs: 2 }), ..Fault::default() },
    );
    let started = Instant::now();
    let report = run_ms(&sandbox_ms(&emulator), &secret(ids::APP_SECRET), None).await;
    let elapsed = started.elapsed();
    assert!(report.ok);
    assert!(elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(5), "{elapsed:?}");
}
