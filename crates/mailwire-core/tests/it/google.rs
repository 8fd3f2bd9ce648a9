//! Google Workspace: the success path, every token and Gmail error row, and bad key files.

use base64::Engine;
use mailwire_core::check::StepStatus;
use mailwire_core::diagnose;
use mailwire_core::google::{self, GoogleClient, GoogleError, KeyFileError, SCOPE_FULL, SCOPE_SEND};
use mailwire_core::token::TokenCache;
use mailwire_emulator::scenario::sandbox as ids;
use mailwire_emulator::{Fault, Route, Throttle};

use crate::support::*;

#[tokio::test]
async fn all_steps_pass_and_the_mail_is_valid_rfc5322() {
    let emulator = sandbox().await;
    let key = google_key(&emulator, ids::SA_EMAIL);
    let settings = google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]);
    let report = run_google(&settings, &key, Some(ids::GOOGLE_RECIPIENT)).await;
    assert!(report.ok, "{report:#?}");
    let expected = ["inputs", "key", "clock", "delegation", "gmail_api", "send"];
    assert_eq!(report.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), expected);
    assert!(report.steps.iter().all(|s| s.status == StepStatus::Pass), "{report:#?}");
    assert!(step(&report, "key").detail.contains(ids::SA_CLIENT_ID));
    let outbox = emulator.outbox();
    assert_eq!(outbox.len(), 1);
    let mail = &outbox[0];
    assert_eq!(mail.to, vec![ids::GOOGLE_RECIPIENT.to_string()]);
    assert!(mail.from.contains(ids::GOOGLE_SENDER));
    let names: Vec<String> = mail.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    for header in ["from", "to", "subject", "date", "message-id", "mime-version"] {
        assert!(names.iter().any(|n| n == header), "{header} missing: {names:?}");
    }
}

#[tokio::test]
async fn missing_delegation_is_unauthorized_client_with_the_exact_values_to_paste() {
    let emulator = sandbox().await;
    let key = google_key(&emulator, ids::SA_UNDELEGATED_EMAIL);
    let settings = google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]);
    let report = run_google(&settings, &key, Some(ids::GOOGLE_RECIPIENT)).await;
    assert!(!report.ok);
    let delegation = step(&report, "delegation");
    assert_eq!(delegation.status, StepStatus::Fail);
    assert_eq!(delegation.code.as_deref(), Some("unauthorized_client"));
    assert!(delegation.fix.iter().any(|f| f.contains(ids::SA_UNDELEGATED_CLIENT_ID)));
    assert!(delegation.fix.iter().any(|f| f.contains(SCOPE_FULL)));
    assert!(delegation.fix.iter().any(|f| f.contains("Manage domain-wide delegation")));
    assert_eq!(
        delegation.links,
        vec![diagnose::delegation_url(ids::SA_UNDELEGATED_CLIENT_ID, &[SCOPE_FULL.to_string()])]
    );
    assert_eq!(step(&report, "gmail_api").status, StepStatus::Skipped);
    assert_eq!(step(&report, "send").status, StepStatus::Skipped);
    assert!(emulator.outbox().is_empty());
}

#[tokio::test]
async fn each_scope_gets_its_own_verdict() {
    let emulator = sandbox().await;
    let key = google_key(&emulator, ids::SA_EMAIL);
    let settings = google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[SCOPE_FULL, SCOPE_SEND]);
    let report = run_google(&settings, &key, None).await;
    let delegation: Vec<_> = report.steps.iter().filter(|s| s.id == "delegation").collect();
    assert_eq!(delegation.len(), 2);
    assert_eq!(delegation[0].status, StepStatus::Pass);
    assert!(delegation[0].title.contains(SCOPE_FULL));
    assert_eq!(delegation[1].status, StepStatus::Fail);
    assert!(delegation[1].title.contains(SCOPE_SEND));
    assert_eq!(delegation[1].code.as_deref(), Some("unauthorized_client"));
}

#[tokio::test]
async fn send_only_scope_skips_the_profile_and_proves_it_by_sending() {
    let emulator = sandbox().await;
    emulator.update(|s| {
        s.google.delegations.insert(ids::SA_CLIENT_ID.into(), vec![SCOPE_SEND.into()]);
    });
    let key = google_key(&emulator, ids::SA_EMAIL);
    let settings = google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[SCOPE_SEND]);
    let report = run_google(&settings, &key, Some(ids::GOOGLE_RECIPIENT)).await;
    assert!(report.ok, "{report:#?}");
    assert_eq!(step(&report, "inputs").status, StepStatus::Warn);
    assert_eq!(step(&report, "gmail_api").status, StepStatus::Skipped);
    assert!(step(&report, "gmail_api").detail.contains("gmail.send"));
    assert_eq!(step(&report, "send").status, StepStatus::Pass);
    assert_eq!(emulator.outbox().len(), 1);
}

#[tokio::test]
async fn revoked_key_says_deleted_or_rotated() {
    let emulator = sandbox().await;
    let key = google_key(&emulator, ids::SA_EMAIL);
    emulator.update(|s| s.google.service_accounts[0].revoked = true);
    let settings = google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]);
    let report = run_google(&settings, &key, None).await;
    let delegation = step(&report, "delegation");
    assert_eq!(delegation.code.as_deref(), Some("invalid_grant"));
    assert!(delegation.fix.iter().any(|f| f.contains("Create new key")), "{:?}", delegation.fix);
}

#[tokio::test]
async fn clock_skew_fails_the_clock_step_and_explains_invalid_grant() {
    let emulator = sandbox().await;
    emulator.set_fault(Route::GoogleToken, Fault { date_skew_secs: -900, ..Fault::default() });
    let key = google_key(&emulator, ids::SA_EMAIL);
    let settings = google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]);
    let report = run_google(&settings, &key, None).await;
    let clock = step(&report, "clock");
    assert_eq!(clock.status, StepStatus::Fail, "{report:#?}");
    assert!(clock.detail.contains("ahead of"), "{}", clock.detail);
    let delegation = step(&report, "delegation");
    assert_eq!(delegation.code.as_deref(), Some("invalid_grant"));
    assert!(delegation.title.contains("delegation"));
    assert!(delegation.fix.iter().any(|f| f.contains("clock")), "{:?}", delegation.fix);
}

#[tokio::test]
async fn small_clock_skew_only_warns() {
    let emulator = sandbox().await;
    emulator.set_fault(Route::GoogleToken, Fault { date_skew_secs: 90, ..Fault::default() });
    let key = google_key(&emulator, ids::SA_EMAIL);
    let report = run_google(&google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]), &key, None).await;
    assert_eq!(step(&report, "clock").status, StepStatus::Warn);
    assert!(report.ok, "{report:#?}");
}

#[tokio::test]
async fn user_outside_the_domain_is_invalid_grant() {
    let emulator = sandbox().await;
    let key = google_key(&emulator, ids::SA_EMAIL);
    let settings = google_settings(&emulator, &key, "someone@elsewhere.example", &[]);
    let report = run_google(&settings, &key, None).await;
    let delegation = step(&report, "delegation");
    assert_eq!(delegation.code.as_deref(), Some("invalid_grant"));
    assert!(delegation.title.contains("delegation"));
    assert!(delegation.fix.iter().any(|f| f.contains("someone@elsewhere.example")), "{:?}", delegation.fix);
}

#[tokio::test]
async fn blocked_client_is_access_denied() {
    let emulator = sandbox().await;
    emulator.update(|s| s.google.blocked_clients.push(ids::SA_CLIENT_ID.into()));
    let key = google_key(&emulator, ids::SA_EMAIL);
    let report = run_google(&google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]), &key, None).await;
    let delegation = step(&report, "delegation");
    assert_eq!(delegation.code.as_deref(), Some("access_denied"));
    assert!(delegation.fix.iter().any(|f| f.contains("API controls")));
}

#[tokio::test]
async fn gmail_api_disabled_links_to_the_project() {
    let emulator = sandbox().await;
    emulator.update(|s| s.google.projects[0].gmail_api_enabled = false);
    let key = google_key(&emulator, ids::SA_EMAIL);
    let report =
        run_google(&google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]), &key, Some(ids::GOOGLE_RECIPIENT)).await;
    assert_eq!(step(&report, "delegation").status, StepStatus::Pass, "a token is issued even with the API off");
    let gmail = step(&report, "gmail_api");
    assert_eq!(gmail.status, StepStatus::Fail);
    assert_eq!(gmail.code.as_deref(), Some("SERVICE_DISABLED"));
    assert!(gmail.fix.iter().any(|f| f.contains("Enable")));
    assert!(gmail.links.iter().all(|l| diagnose::is_console_link(l)), "{:?}", gmail.links);
    assert!(gmail.links[0].contains("gmail.googleapis.com"));
    assert_eq!(step(&report, "send").status, StepStatus::Skipped);
}

#[tokio::test]
async fn user_without_gmail_is_failed_precondition() {
    let emulator = sandbox().await;
    emulator.update(|s| s.google.users[0].gmail_enabled = false);
    let key = google_key(&emulator, ids::SA_EMAIL);
    let report = run_google(&google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]), &key, None).await;
    let gmail = step(&report, "gmail_api");
    assert_eq!(gmail.code.as_deref(), Some("failedPrecondition"));
    assert!(gmail.title.contains("Gmail"));
    assert!(gmail.fix.iter().any(|f| f.contains("licence")), "{:?}", gmail.fix);
}

#[tokio::test]
async fn profile_with_send_only_token_is_insufficient_scope() {
    let emulator = sandbox().await;
    emulator.update(|s| {
        s.google.delegations.insert(ids::SA_CLIENT_ID.into(), vec![SCOPE_SEND.into()]);
    });
    let key = google_key(&emulator, ids::SA_EMAIL);
    let settings = google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[SCOPE_SEND]);
    let http = http();
    let cache = TokenCache::default();
    let client = GoogleClient { http: &http, settings: &settings, key: &key, cache: &cache };
    let token = client.token(SCOPE_SEND).await.unwrap();
    let error = client.profile(&token).await.unwrap_err();
    let GoogleError::Api(api) = &error else { panic!("{error:?}") };
    assert_eq!(api.status, 403);
    let context = google::GoogleContext {
        client_id: key.facts.client_id.clone(),
        client_email: key.facts.client_email.clone(),
        project_id: key.facts.project_id.clone(),
        scopes: settings.scopes.clone(),
        user: ids::GOOGLE_SENDER.into(),
    };
    let finding = diagnose::google(&error, &context);
    assert!(
        ["ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions"].contains(&finding.code.as_deref().unwrap()),
        "{finding:?}"
    );
    assert!(finding.fix.iter().any(|f| f.contains("gmail.send alone")));
}

#[tokio::test]
async fn gmail_quota_gives_up_with_the_quota_fix() {
    let emulator = sandbox().await;
    emulator.set_fault(
        Route::GmailSend,
        Fault { throttle: Some(Throttle { count: 50, retry_after_secs: 30 }), ..Fault::default() },
    );
    let key = google_key(&emulator, ids::SA_EMAIL);
    let report =
        run_google(&google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]), &key, Some(ids::GOOGLE_RECIPIENT)).await;
    let send = step(&report, "send");
    assert_eq!(send.status, StepStatus::Fail);
    assert!(send.detail.contains("gave up"), "{}", send.detail);
    assert!(send.fix.iter().any(|f| f.contains("quota")), "{:?}", send.fix);
    assert!(emulator.outbox().is_empty());
}

/// The rows a validated sender cannot produce: a malformed `sub` and no `sub` at all.
#[tokio::test]
async fn malformed_and_missing_subject_rows_are_diagnosed() {
    let emulator = sandbox().await;
    let key = google_key(&emulator, ids::SA_EMAIL);
    let settings = google_settings(&emulator, &key, ids::GOOGLE_SENDER, &[]);
    let http = http();
    let cache = TokenCache::default();
    let raw_key = jsonwebtoken::EncodingKey::from_rsa_pem(key.private_key.expose().as_bytes()).unwrap();
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.facts.private_key_id.clone());
    let claims = serde_json::json!({"iss": key.facts.client_email, "sub": "not-an-address", "scope": SCOPE_FULL, "aud": key.facts.token_uri, "iat": now, "exp": now + 3600});
    let assertion = jsonwebtoken::encode(&header, &claims, &raw_key).unwrap();
    let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
    let response = http
        .execute(http.post_form(&settings.token_url, &form), mailwire_core::http::RetryMode::Idempotent)
        .await
        .unwrap();
    let error = google::parse_token_error(&response, "emulator");
    let GoogleError::Token(token_error) = &error else { panic!("{error:?}") };
    assert!(["invalid_grant", "invalid_request"].contains(&token_error.error.as_str()));
    let context = google::GoogleContext {
        client_id: key.facts.client_id.clone(),
        client_email: key.facts.client_email.clone(),
        project_id: key.facts.project_id.clone(),
        scopes: settings.scopes.clone(),
        user: "not-an-address".into(),
    };
    let finding = diagnose::google(&error, &context);
    assert!(finding.title.contains("not a valid user address"), "{finding:?}");

    // Without `sub` the token acts as the service account itself, which has no Gmail.
    let claims = serde_json::json!({"iss": key.facts.client_email, "scope": SCOPE_FULL, "aud": key.facts.token_uri, "iat": now, "exp": now + 3600});
    let assertion = jsonwebtoken::encode(&header, &claims, &raw_key).unwrap();
    let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
    let response = http
        .execute(http.post_form(&settings.token_url, &form), mailwire_core::http::RetryMode::Idempotent)
        .await
        .unwrap();
    assert!(response.is_success(), "{}", String::from_utf8_lossy(&response.body));
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    let token = mailwire_core::token::AccessToken::new(
        body["access_token"].as_str().unwrap().into(),
        std::time::Duration::from_secs(600),
    );
    let client = GoogleClient { http: &http, settings: &settings, key: &key, cache: &cache };
    let error = client.profile(&token).await.unwrap_err();
    let finding = diagnose::google(&error, &context);
    assert!(["FAILED_PRECONDITION", "failedPrecondition"].contains(&finding.code.as_deref().unwrap()), "{finding:?}");
}

#[test]
fn pkcs1_keys_are_accepted_too() {
    let json = r#"{"type":"service_account","project_id":"p","private_key_id":"k","client_email":"a@p.iam.gserviceaccount.com","client_id":"123","token_uri":"https://oauth2.googleapis.com/token","private_key":"PEM"}"#;
    let pkcs1 = include_str!("../fixtures/pkcs1.pem");
    let file = json.replace("PEM", &pkcs1.replace('\n', "\\n"));
    let key = google::parse_key(file.as_bytes()).expect("PKCS#1 key accepted");
    assert_eq!(key.facts.client_id, "123");
}

#[test]
fn every_wrong_file_gets_its_own_message() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let big = write("big.json", &vec![b' '; 70 * 1024]);
    assert!(matches!(google::read_key_file(&big), Err(KeyFileError::TooLarge(_))));
    assert!(matches!(google::read_key_file(&dir.path().join("missing.json")), Err(KeyFileError::Unreadable(_))));
    let oauth = write("client.json", br#"{"installed":{"client_id":"1.apps.googleusercontent.com"}}"#);
    let message = google::read_key_file(&oauth).unwrap_err().to_string();
    assert!(message.contains("OAuth client, not a service account key"), "{message}");
    assert!(matches!(google::read_key_file(&write("empty.json", b"")), Err(KeyFileError::Empty)));
    assert!(matches!(
        google::read_key_file(&write("key.p12", &[0x30, 0x82, 0x09, 0x9c, 0x02, 0x01])),
        Err(KeyFileError::P12)
    ));
    assert!(matches!(
        google::read_key_file(&write("cut.json", b"{\"type\":\"service_account\",\"pri")),
        Err(KeyFileError::Truncated)
    ));
    assert!(matches!(
        google::read_key_file(&write("types.json", br#"{"type":"service_account","client_email":7}"#)),
        Err(KeyFileError::WrongFieldType { field: "client_email", .. })
    ));
}

#[test]
fn a_real_emulator_key_round_trips_and_its_private_key_never_prints() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(sandbox());
    let json = emulator.google_key_json(ids::SA_EMAIL);
    let key = google::parse_key(json.as_bytes()).unwrap();
    let pem_body: String = key.private_key.expose().lines().nth(1).unwrap().to_string();
    let debug = format!("{key:?}");
    assert!(!debug.contains(&pem_body));
    let facts = serde_json::to_string(&key.facts).unwrap();
    assert!(!facts.contains(&pem_body));
    let b64 = base64::engine::general_purpose::STANDARD.encode(json.as_bytes());
    assert!(!b64.is_empty());
}

mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn key_parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = mailwire_core::google::parse_key(&bytes);
        }

        #[test]
        fn key_parser_never_panics_on_json_shapes(
            kind in prop_oneof![Just("service_account".to_string()), ".{0,12}"],
            email in ".{0,40}",
            id in "[0-9a-z]{0,25}",
            key in ".{0,200}",
        ) {
            let doc = serde_json::json!({"type": kind, "client_email": email, "client_id": id, "private_key": key, "private_key_id": "k"});
            let _ = mailwire_core::google::parse_key(doc.to_string().as_bytes());
        }
    }
}
