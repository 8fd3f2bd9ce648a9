//! The `/_emulator/` endpoints, the library's lifecycle and credentials helpers, TLS, and the
//! `mailwire-emulator` binary itself.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mailwire_emulator::scenario::sandbox;
use mailwire_emulator::{Emulator, Route, Scenario};
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn outbox_faults_requests_and_scenario_over_http() {
    let emu = sandbox().await;
    let base = emu.base_url();
    let c = client();
    let token = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    assert_eq!(
        send_mail(&emu, Some(&token), sandbox::MS_SENDER, &graph_message(sandbox::MS_RECIPIENT)).await.status,
        202
    );

    let r = reply(c.get(format!("{base}/_emulator/outbox")).send().await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["provider"], "microsoft");
    assert_eq!(r.body[0]["to"], json!([sandbox::MS_RECIPIENT]));
    assert!(r.headers.contains_key("date"));
    let r = c.delete(format!("{base}/_emulator/outbox")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(emu.outbox().is_empty());

    let r = reply(c.get(format!("{base}/_emulator/requests")).send().await.unwrap()).await;
    assert_eq!(r.body["ms_token"], 1);
    assert_eq!(r.body["graph_send_mail"], 1);
    assert_eq!(r.body["any"], 2);

    let fault = json!({ "route": "gmail_send", "fault": { "throttle": { "count": 2, "retry_after_secs": 3 }, "latency_ms": 5 } });
    let r = reply(c.post(format!("{base}/_emulator/faults")).json(&fault).send().await.unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["gmail_send"]["throttle"]["count"], 2);
    assert_eq!(emu.faults()[&Route::GmailSend].latency_ms, 5);
    // The Rust names are accepted too.
    let fault = json!({ "route": "MsToken", "fault": { "drop_connection": 1 } });
    assert_eq!(c.post(format!("{base}/_emulator/faults")).json(&fault).send().await.unwrap().status(), 200);
    for bad in [
        json!({ "route": "nowhere", "fault": {} }),
        json!({ "route": "any", "fault": { "status": { "code": 200, "count": 1 } } }),
        json!({ "route": "any", "fault": { "typo": 1 } }),
    ] {
        let r = reply(c.post(format!("{base}/_emulator/faults")).json(&bad).send().await.unwrap()).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.body["error"].is_string());
    }
    let r = reply(c.get(format!("{base}/_emulator/faults")).send().await.unwrap()).await;
    assert_eq!(r.body.as_object().unwrap().len(), 2);
    assert_eq!(c.delete(format!("{base}/_emulator/faults")).send().await.unwrap().status(), 204);
    assert!(emu.faults().is_empty());

    let r = reply(c.get(format!("{base}/_emulator/scenario")).send().await.unwrap()).await;
    let mut scenario: Scenario = serde_json::from_value(r.body).unwrap();
    assert_eq!(scenario, emu.scenario());
    scenario.google.projects[0].gmail_api_enabled = false;
    let r = c.put(format!("{base}/_emulator/scenario")).json(&scenario).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(!emu.scenario().google.projects[0].gmail_api_enabled);
    let r = reply(
        c.put(format!("{base}/_emulator/scenario"))
            .body("{\"microsoft\": {\"tenants\": [{\"id\": \"nope\"}]}}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);

    assert_eq!(c.delete(format!("{base}/_emulator/requests")).send().await.unwrap().status(), 204);
    assert_eq!(emu.request_count(Route::Any), 0);
}

#[tokio::test]
async fn unknown_paths_get_json_404_with_date() {
    let emu = sandbox().await;
    let r = reply(client().get(format!("{}/nothing/here", emu.base_url())).send().await.unwrap()).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "NotFound");
    assert!(r.headers.contains_key("date"));
    assert_eq!(emu.request_count(Route::Any), 0);
}

#[tokio::test]
async fn credentials_helpers() {
    let emu = sandbox().await;
    let ms = emu.microsoft_credentials(sandbox::APP_CLIENT_ID);
    assert_eq!(ms.tenant_id, sandbox::TENANT_ID);
    assert_eq!(ms.tenant_domain, sandbox::TENANT_DOMAIN);
    assert_eq!(ms.client_secret, sandbox::APP_SECRET);
    assert_eq!(ms.sender, sandbox::MS_SENDER);
    assert_eq!(ms.recipient, sandbox::MS_RECIPIENT);
    assert_eq!(ms.authority_host, emu.base_url());
    assert_eq!(ms.graph_url, emu.base_url());

    let key: Value = serde_json::from_str(&emu.google_key_json(sandbox::SA_EMAIL)).unwrap();
    assert_eq!(key["type"], "service_account");
    assert_eq!(key["client_email"], sandbox::SA_EMAIL);
    assert_eq!(key["client_id"], sandbox::SA_CLIENT_ID);
    assert_eq!(key["private_key_id"], sandbox::SA_KEY_ID);
    assert_eq!(key["project_id"], sandbox::PROJECT_ID);
    assert_eq!(key["token_uri"], emu.google_token_url());
    assert_eq!(key["universe_domain"], "googleapis.com");
    assert!(key["private_key"].as_str().unwrap().starts_with("-----BEGIN PRIVATE KEY-----\n"));

    // The key file is enough to get a token: sign with what it holds.
    let claims = google_claims(
        key["client_email"].as_str().unwrap(),
        Some(sandbox::GOOGLE_SENDER),
        sandbox::GMAIL_SCOPE,
        key["token_uri"].as_str().unwrap(),
    );
    let assertion = sign_rs256(key["private_key"].as_str().unwrap(), key["private_key_id"].as_str(), &claims);
    assert_eq!(google_assertion(&emu, &assertion).await.status, 200);

    let google = emu.google_credentials(sandbox::SA_EMAIL).unwrap();
    assert_eq!(google.sender, sandbox::GOOGLE_SENDER);
    assert_eq!(google.recipient, sandbox::GOOGLE_RECIPIENT);
    assert_eq!(google.domain, sandbox::GOOGLE_DOMAIN);

    // Keys are generated once per account and process: a second emulator reuses them.
    let again = sandbox().await;
    assert_eq!(sa_key(&again, sandbox::SA_EMAIL), sa_key(&emu, sandbox::SA_EMAIL));
}

#[tokio::test]
async fn tls_with_the_generated_ca() {
    let emu = Emulator::start_tls(Scenario::sandbox()).await.unwrap();
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let ca = emu.ca_pem().unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("{}/{}/v2.0/.well-known/openid-configuration", emu.base_url(), sandbox::TENANT_DOMAIN);
    let r = trusting.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["token_endpoint"].as_str().unwrap().starts_with("https://"));
    // localhost is in the certificate too.
    let local = url.replace("127.0.0.1", "localhost");
    assert_eq!(trusting.get(&local).send().await.unwrap().status(), 200);
    // Without the CA the certificate is not trusted.
    let err = client().get(&url).send().await.unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    emu.shutdown().await;
    assert!(Emulator::start(Scenario::sandbox()).await.unwrap().ca_pem().is_none());
}

#[tokio::test]
async fn refuses_non_loopback_and_stops_on_shutdown() {
    let err = Emulator::start_on("0.0.0.0:0".parse().unwrap(), Scenario::sandbox(), false).await.err().unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
    let mut bad = Scenario::sandbox();
    bad.microsoft.tenants[0].id = "contoso".into();
    assert!(Emulator::start(bad).await.is_err());

    let emu = Emulator::start_on("[::1]:0".parse().unwrap(), Scenario::sandbox(), false).await;
    if let Ok(emu) = emu {
        assert!(emu.base_url().starts_with("http://[::1]:"));
        emu.shutdown().await;
    }
    let emu = sandbox().await;
    let url = format!("{}/_emulator/requests", emu.base_url());
    // A pooled keep-alive connection must not keep the server alive.
    let c = client();
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    emu.shutdown().await;
    assert!(c.get(&url).send().await.is_err());
}

#[test]
fn scenario_json_round_trips_and_is_validated() {
    let sandbox = Scenario::sandbox();
    let text = serde_json::to_string_pretty(&sandbox).unwrap();
    assert_eq!(Scenario::from_json(&text).unwrap(), sandbox);
    assert_eq!(Scenario::from_json("{}").unwrap(), Scenario::default());
    assert!(Scenario::from_json("{\"microsoft\": {\"tenant\": []}}").is_err(), "unknown fields are refused");
    let bad = "{\"google\": {\"service_accounts\": [{\"client_email\": \"a@b.com\", \"client_id\": \"abc\"}]}}";
    assert!(Scenario::from_json(bad).is_err());
    // The README's example is a valid scenario.
    let readme = include_str!("../../README.md");
    let start = readme.find("```json\n").unwrap() + 8;
    let end = start + readme[start..].find("```").unwrap();
    Scenario::from_json(&readme[start..end]).unwrap();
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mailwire-emulator"))
}

#[test]
fn binary_refuses_non_loopback_addresses() {
    let out = tempfile::tempdir().unwrap();
    let output = binary().args(["serve", "--addr", "0.0.0.0:0", "--out"]).arg(out.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("loopback"));
    assert!(output.stdout.is_empty());
}

#[test]
fn binary_prints_the_sandbox() {
    let output = binary().arg("sandbox").output().unwrap();
    assert!(output.status.success());
    let scenario = Scenario::from_json(&String::from_utf8(output.stdout).unwrap()).unwrap();
    assert_eq!(scenario.microsoft.tenants[0].id, sandbox::TENANT_ID);
}

#[tokio::test]
async fn binary_serves_a_scenario_file_and_writes_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let mut scenario = Scenario::sandbox();
    scenario.google.users[0].gmail_enabled = false;
    let file = dir.path().join("scenario.json");
    std::fs::write(&file, serde_json::to_string(&scenario).unwrap()).unwrap();
    let out = dir.path().join("out");
    let mut child = binary()
        .args(["serve", "--addr", "127.0.0.1:0", "--scenario"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let key: Value = serde_json::from_str(&std::fs::read_to_string(out.join("google-key.json")).unwrap()).unwrap();
    assert_eq!(key["token_uri"], format!("{base}/token"));
    let ms: Value = serde_json::from_str(&std::fs::read_to_string(out.join("microsoft.json")).unwrap()).unwrap();
    assert_eq!(ms["tenant_id"], sandbox::TENANT_ID);
    assert_eq!(ms["client_secret"], sandbox::APP_SECRET);
    assert_eq!(ms["authority_host"], base);
    assert!(out.join("google.json").exists());
    assert!(!out.join("ca.pem").exists());

    // The served state is the file's: the first user has no Gmail.
    let r = reply(client().get(format!("{base}/_emulator/scenario")).send().await.unwrap()).await;
    assert_eq!(r.body["google"]["users"][0]["gmail_enabled"], false);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", sandbox::APP_CLIENT_ID),
        ("client_secret", sandbox::APP_SECRET),
        ("scope", GRAPH_SCOPE),
    ];
    let r =
        client().post(format!("{base}/{}/oauth2/v2.0/token", sandbox::TENANT_DOMAIN)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);

    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(child.wait().unwrap().success(), "SIGTERM ends the server cleanly");
}
