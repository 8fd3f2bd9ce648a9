//! Small helpers shared by the integration tests.

use std::time::Duration;

use mailwire_core::check::{no_progress, Report, Step};
use mailwire_core::google::{self, GoogleInput, GoogleSettings, ServiceAccountKey};
use mailwire_core::http::{Http, HttpSettings, RetrySettings};
use mailwire_core::microsoft::{self, Cloud, Credential, MicrosoftInput, MicrosoftSettings};
use mailwire_core::secret::SecretString;
use mailwire_core::token::TokenCache;
use mailwire_emulator::scenario::sandbox as ids;
use mailwire_emulator::{Emulator, Scenario};

pub async fn sandbox() -> Emulator {
    Emulator::start(Scenario::sandbox()).await.expect("emulator starts")
}

/// Retries fast enough for tests, still bounded; timeouts generous, because CI runs the
/// end-to-end tests (a whole WebKit) beside these on two cores.
pub fn http() -> Http {
    Http::new(HttpSettings {
        connect_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(60),
        retry: RetrySettings {
            max_attempts: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_total_wait: Duration::from_secs(5),
        },
        ..HttpSettings::default()
    })
    .unwrap()
}

pub fn ms_settings(emulator: &Emulator, tenant: &str, client_id: &str, sender: &str) -> MicrosoftSettings {
    let input = MicrosoftInput {
        tenant: tenant.into(),
        client_id: client_id.into(),
        cloud: Cloud::Custom,
        authority_host: Some(emulator.base_url()),
        graph_url: Some(emulator.base_url()),
        certificate: None,
    };
    MicrosoftSettings::validate(&input, sender).expect("valid settings")
}

pub fn sandbox_ms(emulator: &Emulator) -> MicrosoftSettings {
    ms_settings(emulator, ids::TENANT_ID, ids::APP_CLIENT_ID, ids::MS_SENDER)
}

pub fn secret(value: &str) -> Credential {
    Credential::Secret(SecretString::new(value))
}

pub async fn run_ms(settings: &MicrosoftSettings, credential: &Credential, to: Option<&str>) -> Report {
    run_ms_with(&http(), settings, credential, to).await
}

/// A Microsoft check through a client with its own network settings.
pub async fn run_ms_with(
    http: &Http,
    settings: &MicrosoftSettings,
    credential: &Credential,
    to: Option<&str>,
) -> Report {
    let options = microsoft::CheckOptions {
        profile_name: Some("Integration test".into()),
        recipient: to.map(|t| t.parse().unwrap()),
        reuse_token: false,
        uses_certificate: false,
    };
    microsoft::run_check(http, settings, Some(credential), &options, &TokenCache::default(), &no_progress).await
}

pub fn step<'a>(report: &'a Report, id: &str) -> &'a Step {
    report.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id} in {report:#?}"))
}

pub fn google_key(emulator: &Emulator, email: &str) -> ServiceAccountKey {
    google::parse_key(emulator.google_key_json(email).as_bytes()).expect("emulator keys parse")
}

pub fn google_settings(emulator: &Emulator, key: &ServiceAccountKey, sender: &str, scopes: &[&str]) -> GoogleSettings {
    let input = GoogleInput {
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        token_url: Some(emulator.google_token_url()),
        gmail_url: Some(emulator.base_url()),
    };
    GoogleSettings::validate(&input, &key.facts, sender).expect("valid settings")
}

pub async fn run_google(settings: &GoogleSettings, key: &ServiceAccountKey, to: Option<&str>) -> Report {
    let options = google::CheckOptions {
        profile_name: Some("Integration test".into()),
        recipient: to.map(|t| t.parse().unwrap()),
    };
    google::run_check(&http(), settings, Ok(key), &options, &TokenCache::default(), &no_progress).await
}

pub fn statuses(report: &Report) -> Vec<(String, String)> {
    report.steps.iter().map(|s| (s.id.clone(), format!("{:?}", s.status).to_lowercase())).collect()
}
