//! The floor under `mailwire check`: one full Microsoft and one full Google check against an
//! in-process emulator, the emulator's own service time for the very same requests sent with a
//! bare reqwest client, and micro-benchmarks of the client's CPU work (JWT signing, building the
//! test message, parsing provider errors).
//!
//! Client overhead per check = `check/*` − `emulator_only/*`: what Mailwire adds on top of the
//! HTTP round trips themselves (signing, message building, parsing, the report). Run with
//! `cargo bench -p mailwire-core --bench check`; `scripts/bench.sh` runs it and does the
//! subtraction. Plain HTTP on loopback with keep-alive, so TLS handshakes are not in either side.

use std::hint::black_box;
use std::time::{Duration, Instant};

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};
use mailwire_core::check::{no_progress, Provider, StepStatus};
use mailwire_core::google::{self, GoogleClient, GoogleInput, GoogleSettings, ServiceAccountKey};
use mailwire_core::http::{Http, HttpResponse, HttpSettings};
use mailwire_core::message::TestMessage;
use mailwire_core::microsoft::{self, Cloud, Credential, MicrosoftInput, MicrosoftSettings, TokenFacts};
use mailwire_core::secret::SecretString;
use mailwire_core::token::TokenCache;
use mailwire_emulator::scenario::sandbox as ids;
use mailwire_emulator::{Emulator, Scenario};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    http: Http,
    ms: MicrosoftSettings,
    credential: Credential,
    key: ServiceAccountKey,
    google: GoogleSettings,
    recipient_ms: lettre::Address,
    recipient_google: lettre::Address,
}

impl Fixture {
    fn new() -> Self {
        // Two workers, as the CLI runs: the emulator's handlers share them with the client.
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let emulator = runtime.block_on(Emulator::start(Scenario::sandbox())).expect("emulator starts");
        let http = runtime.block_on(async { Http::new(HttpSettings::default()) }).expect("http client");
        let ms = MicrosoftSettings::validate(
            &MicrosoftInput {
                tenant: ids::TENANT_ID.into(),
                client_id: ids::APP_CLIENT_ID.into(),
                cloud: Cloud::Custom,
                authority_host: Some(emulator.base_url()),
                graph_url: Some(emulator.base_url()),
                certificate: None,
            },
            ids::MS_SENDER,
        )
        .expect("valid Microsoft settings");
        let key = google::parse_key(emulator.google_key_json(ids::SA_EMAIL).as_bytes()).expect("key parses");
        let google = GoogleSettings::validate(
            &GoogleInput {
                scopes: vec![ids::GMAIL_SCOPE.into()],
                token_url: Some(emulator.google_token_url()),
                gmail_url: Some(emulator.base_url()),
            },
            &key.facts,
            ids::GOOGLE_SENDER,
        )
        .expect("valid Google settings");
        Fixture {
            runtime,
            emulator,
            http,
            ms,
            credential: Credential::Secret(SecretString::new(ids::APP_SECRET)),
            key,
            google,
            recipient_ms: ids::MS_RECIPIENT.parse().unwrap(),
            recipient_google: ids::GOOGLE_RECIPIENT.parse().unwrap(),
        }
    }

    async fn microsoft_check(&self) -> bool {
        let options = microsoft::CheckOptions {
            profile_name: None,
            recipient: Some(self.recipient_ms.clone()),
            reuse_token: false,
            uses_certificate: false,
        };
        let cache = TokenCache::default();
        let report =
            microsoft::run_check(&self.http, &self.ms, Some(&self.credential), &options, &cache, &no_progress).await;
        report.steps.iter().all(|s| s.status == StepStatus::Pass)
    }

    async fn google_check(&self) -> bool {
        let options = google::CheckOptions { profile_name: None, recipient: Some(self.recipient_google.clone()) };
        let cache = TokenCache::default();
        let report = google::run_check(&self.http, &self.google, Ok(&self.key), &options, &cache, &no_progress).await;
        report.steps.iter().all(|s| s.status == StepStatus::Pass)
    }
}

/// The same requests a check sends, prepared once, so that timing them measures the emulator
/// (and loopback, hyper, a bare reqwest) and none of Mailwire's own work.
struct Prepared {
    client: reqwest::Client,
    ms_token_url: String,
    ms_form: Vec<(String, String)>,
    ms_send_url: String,
    ms_body: Vec<u8>,
    g_token_url: String,
    g_form: Vec<(String, String)>,
    g_profile_url: String,
    g_send_url: String,
    g_body: Vec<u8>,
}

impl Prepared {
    fn new(f: &Fixture) -> Self {
        let base = f.emulator.base_url();
        let client = f.runtime.block_on(async { reqwest::Client::builder().build() }).unwrap();
        let message = |provider| {
            let (from, to) = match provider {
                Provider::Microsoft => (&f.ms.sender, &f.recipient_ms),
                Provider::Google => (&f.google.sender, &f.recipient_google),
            };
            TestMessage::new(None, provider, from, to, vec!["one".into(), "two".into(), "three".into()])
        };
        let assertion = GoogleClient { http: &f.http, settings: &f.google, key: &f.key, cache: &TokenCache::default() }
            .assertion(ids::GMAIL_SCOPE)
            .expect("assertion signs");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(message(Provider::Google).rfc5322());
        Prepared {
            client,
            ms_token_url: f.ms.token_url().to_string(),
            ms_form: vec![
                ("grant_type".into(), "client_credentials".into()),
                ("client_id".into(), ids::APP_CLIENT_ID.into()),
                ("scope".into(), f.ms.scope()),
                ("client_secret".into(), ids::APP_SECRET.into()),
            ],
            ms_send_url: f.ms.send_mail_url().to_string(),
            ms_body: serde_json::to_vec(&message(Provider::Microsoft).graph_json()).unwrap(),
            g_token_url: f.google.token_url.to_string(),
            g_form: vec![
                ("grant_type".into(), "urn:ietf:params:oauth:grant-type:jwt-bearer".into()),
                ("assertion".into(), assertion.expose().to_string()),
            ],
            g_profile_url: format!("{base}/gmail/v1/users/{}/profile", ids::GOOGLE_SENDER),
            g_send_url: format!("{base}/gmail/v1/users/{}/messages/send", ids::GOOGLE_SENDER),
            g_body: serde_json::to_vec(&serde_json::json!({ "raw": raw })).unwrap(),
        }
    }

    async fn token(&self, url: &str, form: &[(String, String)]) -> String {
        let response = self.client.post(url).form(form).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "token request");
        let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn microsoft(&self) {
        let token = self.token(&self.ms_token_url, &self.ms_form).await;
        let response = self
            .client
            .post(&self.ms_send_url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(self.ms_body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202, "sendMail");
        black_box(response.bytes().await.unwrap());
    }

    async fn google(&self) {
        let token = self.token(&self.g_token_url, &self.g_form).await;
        let profile = self.client.get(&self.g_profile_url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(profile.status().as_u16(), 200, "Gmail profile");
        black_box(profile.bytes().await.unwrap());
        let response = self
            .client
            .post(&self.g_send_url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(self.g_body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "Gmail send");
        black_box(response.bytes().await.unwrap());
    }
}

/// Times `iters` runs of an async body on the fixture's runtime; the outbox is emptied afterwards,
/// outside the timing, so it does not grow across samples.
fn timed<Fut: std::future::Future<Output = ()>>(f: &Fixture, iters: u64, body: impl Fn() -> Fut) -> Duration {
    let elapsed = f.runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            body().await;
        }
        start.elapsed()
    });
    f.emulator.clear_outbox();
    elapsed
}

fn checks(c: &mut Criterion) {
    let f = Fixture::new();
    let prepared = Prepared::new(&f);
    // Sanity before timing: both checks pass end to end, and the bare requests are accepted.
    assert!(f.runtime.block_on(f.microsoft_check()), "the Microsoft check passes against the emulator");
    assert!(f.runtime.block_on(f.google_check()), "the Google check passes against the emulator");
    f.runtime.block_on(prepared.microsoft());
    f.runtime.block_on(prepared.google());

    let mut group = c.benchmark_group("check");
    group.bench_function("microsoft", |b| {
        b.iter_custom(|iters| timed(&f, iters, || async { assert!(f.microsoft_check().await) }))
    });
    group.bench_function("google", |b| {
        b.iter_custom(|iters| timed(&f, iters, || async { assert!(f.google_check().await) }))
    });
    group.finish();

    let mut group = c.benchmark_group("emulator_only");
    group.bench_function("microsoft", |b| b.iter_custom(|iters| timed(&f, iters, || prepared.microsoft())));
    group.bench_function("google", |b| b.iter_custom(|iters| timed(&f, iters, || prepared.google())));
    group.finish();
}

fn micro(c: &mut Criterion) {
    let f = Fixture::new();
    let cache = TokenCache::default();
    let client = GoogleClient { http: &f.http, settings: &f.google, key: &f.key, cache: &cache };
    let mut group = c.benchmark_group("micro");

    // What a Google check signs: the JWT-bearer assertion as the client makes it (key parsed once,
    // signed with ring), and for comparison jsonwebtoken's `encode`, which parses the key every call.
    group.bench_function("google_assertion", |b| b.iter(|| black_box(client.assertion(ids::GMAIL_SCOPE).unwrap())));
    let pem = f.key.private_key.expose().to_string();
    group.bench_function("rs256_parse_pem", |b| {
        b.iter(|| black_box(jsonwebtoken::EncodingKey::from_rsa_pem(black_box(pem.as_bytes())).unwrap()))
    });
    let encoding_key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    let claims = serde_json::json!({"iss": ids::SA_EMAIL, "sub": ids::GOOGLE_SENDER, "scope": ids::GMAIL_SCOPE,
        "aud": f.key.facts.token_uri, "iat": 1_700_000_000, "exp": 1_700_003_600});
    group.bench_function("rs256_sign", |b| {
        b.iter(|| black_box(jsonwebtoken::encode(&header, black_box(&claims), &encoding_key).unwrap()))
    });

    // The test email: Graph's JSON and Gmail's RFC 5322 (lettre) + base64url.
    let verified = || vec!["Key valid.".to_string(), "Delegation granted.".to_string(), "Mailbox exists.".to_string()];
    group.bench_function("message_graph_json", |b| {
        b.iter(|| {
            let m = TestMessage::new(None, Provider::Microsoft, &f.ms.sender, &f.recipient_ms, verified());
            black_box(serde_json::to_vec(&m.graph_json()).unwrap())
        })
    });
    group.bench_function("message_rfc5322_base64", |b| {
        b.iter(|| {
            let m = TestMessage::new(None, Provider::Google, &f.google.sender, &f.recipient_google, verified());
            black_box(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.rfc5322()))
        })
    });

    // Reading the token: the Mail.Send permission check decodes the JWT's claims.
    let ms_token = f.runtime.block_on(async {
        let cache = TokenCache::default();
        let client =
            microsoft::MicrosoftClient { http: &f.http, settings: &f.ms, credential: &f.credential, cache: &cache };
        client.token(true).await.expect("token")
    });
    group.bench_function("token_facts", |b| b.iter(|| black_box(TokenFacts::from_token(black_box(&ms_token)))));

    // Error bodies as the providers send them (PROTOCOL.md), parsed into typed errors.
    let response = |status: u16, body: &str| HttpResponse {
        status,
        headers: Default::default(),
        body: body.as_bytes().to_vec(),
        attempts: 1,
        gave_up: None,
    };
    let entra = response(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b'.\r\nTrace ID: 0b0e3f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\r\nCorrelation ID: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d\r\nTimestamp: 2026-12-04 10:00:00Z","error_codes":[7000215],"timestamp":"2026-12-04 10:00:00Z","trace_id":"0b0e3f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b","correlation_id":"9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d","error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#,
    );
    let graph = response(
        403,
        r#"{"error":{"code":"ErrorAccessDenied","message":"Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.","innerError":{"date":"2026-12-04T10:00:00","request-id":"4c0e5f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b","client-request-id":"4c0e5f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}}}"#,
    );
    let gmail = response(
        403,
        r#"{"error":{"code":403,"message":"Gmail API has not been used in project 401234567890 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project=401234567890 then retry.","errors":[{"message":"Gmail API has not been used in project 401234567890 before or it is disabled.","domain":"usageLimits","reason":"accessNotConfigured","extendedHelp":"https://console.developers.google.com"}],"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"service":"gmail.googleapis.com","consumer":"projects/401234567890","activationUrl":"https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project=401234567890"}}]}}"#,
    );
    group.bench_function("parse_entra_error", |b| {
        b.iter(|| black_box(microsoft::parse_entra_error(black_box(&entra), "login.microsoftonline.com")))
    });
    group.bench_function("parse_graph_error", |b| {
        b.iter(|| black_box(microsoft::parse_graph_error(black_box(&graph), "graph.microsoft.com")))
    });
    group.bench_function("parse_gmail_error", |b| {
        b.iter(|| black_box(google::parse_api_error(black_box(&gmail), "gmail.googleapis.com")))
    });

    // Per process, not per check: the HTTP client loads the OS trust store when it is built.
    group.bench_function("http_client_new", |b| {
        b.iter(|| f.runtime.block_on(async { black_box(Http::new(HttpSettings::default()).unwrap()) }))
    });
    group.finish();
}

criterion_group!(benches, checks, micro);
criterion_main!(benches);
