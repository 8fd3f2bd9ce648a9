//! Helpers shared by the test modules: an HTTP client, token requests for both providers,
//! Google assertions signed with jsonwebtoken, and assertions on the providers' error shapes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mailwire_emulator::scenario::sandbox;
use mailwire_emulator::{Emulator, Scenario};
use serde_json::{json, Value};

pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const GOOGLE_AUD: &str = "https://oauth2.googleapis.com/token";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

pub async fn sandbox() -> Emulator {
    Emulator::start(Scenario::sandbox()).await.unwrap()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Status, headers and parsed JSON body (Null when the body is empty).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
    Reply { status, headers, body, text }
}

pub async fn ms_token_form(emu: &Emulator, tenant: &str, form: &[(&str, &str)]) -> Reply {
    let url = format!("{}/{tenant}/oauth2/v2.0/token", emu.base_url());
    reply(client().post(url).form(form).send().await.unwrap()).await
}

pub async fn ms_secret(emu: &Emulator, client_id: &str, secret: &str) -> Reply {
    ms_token_form(
        emu,
        sandbox::TENANT_ID,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await
}

/// An access token for the sandbox's working app.
pub async fn ms_access_token(emu: &Emulator, client_id: &str, secret: &str) -> String {
    let r = ms_secret(emu, client_id, secret).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["access_token"].as_str().unwrap().to_string()
}

pub fn jwt_payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Checks the AADSTS error shape of PROTOCOL.md and returns the description's first line.
pub fn assert_aad(r: &Reply, status: u16, error: &str, code: u64) -> String {
    assert_eq!(r.status, status, "{}", r.text);
    let b = &r.body;
    assert_eq!(b["error"], error, "{}", r.text);
    assert_eq!(b["error_codes"], json!([code]), "{}", r.text);
    let description = b["error_description"].as_str().unwrap();
    let lines: Vec<&str> = description.split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{description}");
    assert!(lines[0].starts_with(&format!("AADSTS{code}: ")), "{description}");
    let trace = b["trace_id"].as_str().unwrap();
    let correlation = b["correlation_id"].as_str().unwrap();
    let timestamp = b["timestamp"].as_str().unwrap();
    assert_eq!(lines[1], format!("Trace ID: {trace}"));
    assert_eq!(lines[2], format!("Correlation ID: {correlation}"));
    assert_eq!(lines[3], format!("Timestamp: {timestamp}"));
    assert!(uuid::Uuid::parse_str(trace).is_ok());
    assert!(uuid::Uuid::parse_str(correlation).is_ok());
    assert!(chrono::NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%d %H:%M:%SZ").is_ok(), "{timestamp}");
    assert_eq!(b["error_uri"], format!("https://login.microsoftonline.com/error?code={code}"));
    assert!(r.headers.contains_key("date"));
    lines[0].to_string()
}

/// Checks Graph's error shape and returns the message.
pub fn assert_graph(r: &Reply, status: u16, code: &str) -> String {
    assert_eq!(r.status, status, "{}", r.text);
    let e = &r.body["error"];
    assert_eq!(e["code"], code, "{}", r.text);
    let inner = &e["innerError"];
    assert!(inner["date"].is_string());
    assert!(inner["request-id"].is_string());
    assert!(inner["client-request-id"].is_string());
    assert!(r.headers.contains_key("request-id"));
    assert!(r.headers.contains_key("date"));
    e["message"].as_str().unwrap().to_string()
}

/// Checks the OAuth error shape of Google's token endpoint.
pub fn assert_oauth(r: &Reply, status: u16, error: &str, description: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"], error, "{}", r.text);
    assert_eq!(r.body["error_description"], description, "{}", r.text);
    assert!(r.headers.contains_key("date"));
}

/// Checks a Google API error and returns the `error` object.
pub fn assert_google_api(r: &Reply, status: u16, api_status: &str, reason: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    let e = &r.body["error"];
    assert_eq!(e["code"], status, "{}", r.text);
    assert_eq!(e["status"], api_status, "{}", r.text);
    assert_eq!(e["errors"][0]["reason"], reason, "{}", r.text);
    assert!(e["message"].is_string());
    assert!(r.headers.contains_key("date"));
    e.clone()
}

pub fn sa_key(emu: &Emulator, email: &str) -> String {
    emu.scenario()
        .google
        .service_accounts
        .iter()
        .find(|a| a.client_email == email)
        .unwrap()
        .private_key_pem
        .clone()
        .unwrap()
}

/// The claims of a Google service account assertion, ready to adjust.
pub fn google_claims(iss: &str, sub: Option<&str>, scope: &str, aud: &str) -> Value {
    let iat = now();
    let mut claims = json!({ "iss": iss, "scope": scope, "aud": aud, "iat": iat, "exp": iat + 3600 });
    if let Some(sub) = sub {
        claims["sub"] = sub.into();
    }
    claims
}

pub fn sign_rs256(key_pem: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap()).unwrap()
}

pub async fn google_token_raw(emu: &Emulator, form: &[(&str, &str)]) -> Reply {
    reply(client().post(emu.google_token_url()).form(form).send().await.unwrap()).await
}

pub async fn google_assertion(emu: &Emulator, assertion: &str) -> Reply {
    google_token_raw(emu, &[("grant_type", JWT_BEARER), ("assertion", assertion)]).await
}

/// A token request by the sandbox's delegated service account, signed with its key.
pub async fn google_grant(emu: &Emulator, sub: Option<&str>, scope: &str) -> Reply {
    let claims = google_claims(sandbox::SA_EMAIL, sub, scope, &emu.google_token_url());
    let assertion = sign_rs256(&sa_key(emu, sandbox::SA_EMAIL), Some(sandbox::SA_KEY_ID), &claims);
    google_assertion(emu, &assertion).await
}

pub async fn gmail_token(emu: &Emulator, sub: Option<&str>, scope: &str) -> String {
    let r = google_grant(emu, sub, scope).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["access_token"].as_str().unwrap().to_string()
}

pub fn raw_message(from: &str, to: &str, subject: &str, body: &str) -> String {
    let text = format!(
        "From: Helpdesk <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nX-Mailwire-Check: yes\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    URL_SAFE_NO_PAD.encode(text)
}

pub async fn gmail_profile(emu: &Emulator, token: &str, user: &str) -> Reply {
    let url = format!("{}/gmail/v1/users/{user}/profile", emu.base_url());
    reply(client().get(url).bearer_auth(token).send().await.unwrap()).await
}

pub async fn gmail_send(emu: &Emulator, token: &str, user: &str, payload: Value) -> Reply {
    let url = format!("{}/gmail/v1/users/{user}/messages/send", emu.base_url());
    reply(client().post(url).bearer_auth(token).json(&payload).send().await.unwrap()).await
}

pub fn graph_message(to: &str) -> Value {
    json!({
        "message": {
            "subject": "Mailwire test",
            "body": { "contentType": "Text", "content": "It works." },
            "toRecipients": [{ "emailAddress": { "address": to } }]
        },
        "saveToSentItems": false
    })
}

pub async fn send_mail(emu: &Emulator, token: Option<&str>, user: &str, payload: &Value) -> Reply {
    let url = format!("{}/v1.0/users/{user}/sendMail", emu.base_url());
    let mut request = client().post(url).json(payload);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    reply(request.send().await.unwrap()).await
}
