//! Saved connections: what is kept about each, and how a saved one becomes a runnable check.
//!
//! A profile holds only non-secret settings and the public facts of a Google key; its secrets are
//! in the [`SecretStore`] under `{profile id}/{kind}`. Raw inputs stay raw here and are validated
//! each time a check runs, so a profile saved by an older version never skips today's rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::check::{ProgressFn, Provider, Report};
use crate::diagnose::Finding;
use crate::google::{self, GoogleInput, GoogleSettings, KeyFacts, ServiceAccountKey};
use crate::http::Http;
use crate::microsoft::{self, Credential, MicrosoftInput, MicrosoftSettings};
use crate::secret::{SecretKind, SecretStore, SecretStoreError};
use crate::token::TokenCache;
use crate::validate::{self, FieldError, SettingsError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum ProviderSettings {
    Microsoft(MicrosoftInput),
    Google(GoogleProfile),
}

impl ProviderSettings {
    pub fn provider(&self) -> Provider {
        match self {
            ProviderSettings::Microsoft(_) => Provider::Microsoft,
            ProviderSettings::Google(_) => Provider::Google,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleProfile {
    /// The imported key's public facts; its private key is in the keychain.
    pub key: KeyFacts,
    #[serde(flatten)]
    pub input: GoogleInput,
}

/// How the last check of a connection ended, for the connections list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastCheck {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub failed_step: Option<String>,
    pub code: Option<String>,
}

impl LastCheck {
    pub fn from_report(report: &Report) -> Self {
        let failed = report.first_failure();
        Self {
            at: report.started_at,
            ok: report.ok,
            failed_step: failed.map(|s| s.title.clone()),
            code: failed.and_then(|s| s.code.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub settings: ProviderSettings,
    pub sender: String,
    #[serde(default)]
    pub recipient: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub last_check: Option<LastCheck>,
    /// Demo connections against the built-in sandbox, badged as such.
    #[serde(default)]
    pub sandbox: bool,
}

impl Profile {
    pub fn new(name: &str, settings: ProviderSettings, sender: &str, recipient: Option<&str>) -> Self {
        let now = Utc::now();
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.trim().to_string(),
            settings,
            sender: sender.trim().to_string(),
            recipient: recipient.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string),
            created_at: now,
            updated_at: now,
            last_check: None,
            sandbox: false,
        }
    }

    pub fn provider(&self) -> Provider {
        self.settings.provider()
    }

    /// Validates what can be validated without secrets: a profile that fails this is not saved.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.name.trim().is_empty() {
            return Err(FieldError::new("name", "Give the connection a name.").into());
        }
        if let Some(recipient) = &self.recipient {
            validate::email("recipient", recipient)?;
        }
        match &self.settings {
            ProviderSettings::Microsoft(input) => {
                MicrosoftSettings::validate(input, &self.sender).map_err(ProfileError::from)?;
                if let Some(pem) = &input.certificate {
                    crate::certificate::facts(pem)
                        .map_err(|e| ProfileError::Invalid(e.to_string(), "certificate".into()))?;
                }
            }
            ProviderSettings::Google(google) => {
                GoogleSettings::validate(&google.input, &google.key, &self.sender).map_err(ProfileError::from)?;
            }
        }
        Ok(())
    }

    /// Applies the endpoint overrides of the environment (`MAILWIRE_MS_AUTHORITY_HOST`,
    /// `MAILWIRE_GRAPH_URL`, `MAILWIRE_GOOGLE_TOKEN_URL`, `MAILWIRE_GMAIL_URL`), the same ones the
    /// CLI honours, so a saved connection can be pointed at a proxy, a national cloud's gateway
    /// or the emulator without editing it. Validation still refuses plain http to remote hosts.
    pub fn with_env_endpoints(mut self) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        match &mut self.settings {
            ProviderSettings::Microsoft(input) => {
                if let Some(url) = var("MAILWIRE_MS_AUTHORITY_HOST") {
                    input.authority_host = Some(url);
                }
                if let Some(url) = var("MAILWIRE_GRAPH_URL") {
                    input.graph_url = Some(url);
                }
            }
            ProviderSettings::Google(google) => {
                if let Some(url) = var("MAILWIRE_GOOGLE_TOKEN_URL") {
                    google.input.token_url = Some(url);
                }
                if let Some(url) = var("MAILWIRE_GMAIL_URL") {
                    google.input.gmail_url = Some(url);
                }
            }
        }
        self
    }

    /// The secret kind this profile cannot run without.
    pub fn required_secret(&self) -> SecretKind {
        match &self.settings {
            ProviderSettings::Microsoft(input) if input.certificate.is_some() => SecretKind::CertificateKey,
            ProviderSettings::Microsoft(_) => SecretKind::ClientSecret,
            ProviderSettings::Google(_) => SecretKind::GooglePrivateKey,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{0}")]
    Invalid(String, String),
    #[error(transparent)]
    Secrets(#[from] SecretStoreError),
}

impl From<SettingsError> for ProfileError {
    fn from(e: SettingsError) -> Self {
        ProfileError::Invalid(e.to_string(), e.field())
    }
}

impl From<FieldError> for ProfileError {
    fn from(e: FieldError) -> Self {
        ProfileError::Invalid(e.message, e.field)
    }
}

/// Where a check sends its test email, if anywhere.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Send the test email (to `recipient`, or else the profile's test recipient).
    pub send: bool,
    pub recipient: Option<String>,
    /// Share tokens with other checks of the same connection (see [`crate::bulk`]).
    pub reuse_token: bool,
}

/// What a saved connection's checks sign in with, read from the keychain (or given) and parsed
/// once: a bulk run shares it between all its senders.
#[derive(Clone)]
pub enum ProfileCredential {
    Microsoft(Option<Credential>),
    /// A key that cannot be used is a finding of the key step, not an error of the run.
    Google(Result<ServiceAccountKey, Finding>),
}

/// Reads a saved connection's secret from `secrets`; a secret given in `secret_override` (CLI
/// environment) takes its place.
pub fn read_credential(
    profile: &Profile,
    secrets: &dyn SecretStore,
    secret_override: Option<crate::secret::SecretString>,
) -> Result<ProfileCredential, ProfileError> {
    let stored = match secret_override {
        Some(secret) => Ok(Some(secret)),
        None => secrets.get(&profile.id, profile.required_secret()),
    };
    Ok(match &profile.settings {
        ProviderSettings::Microsoft(input) => {
            ProfileCredential::Microsoft(stored?.map(|secret| match &input.certificate {
                Some(certificate_pem) => {
                    Credential::Certificate { certificate_pem: certificate_pem.clone(), private_key_pem: secret }
                }
                None => Credential::Secret(secret),
            }))
        }
        ProviderSettings::Google(google_profile) => ProfileCredential::Google(match stored {
            Ok(Some(private_key)) => {
                ServiceAccountKey::new(google_profile.key.clone(), private_key).map_err(|e| Finding {
                    title: e.to_string(),
                    code: Some("bad-key".into()),
                    fix: vec![REIMPORT_KEY.into()],
                    links: vec![],
                })
            }
            Ok(None) => Err(Finding {
                title: "The service account key is not in the system keychain".into(),
                code: Some("missing-key".into()),
                fix: vec![REIMPORT_KEY.into()],
                links: vec![],
            }),
            Err(e) => Err(Finding { title: e.to_string(), code: Some("keychain".into()), fix: vec![], links: vec![] }),
        }),
    })
}

const REIMPORT_KEY: &str =
    "Edit the connection and import the service account's JSON key file again (Choose key file…).";

/// Runs the checks of a saved connection, reading its secret from `secrets`. A secret given in
/// `secret_override` (CLI environment) takes its place.
pub async fn run_profile_check(
    profile: &Profile,
    secrets: &dyn SecretStore,
    secret_override: Option<crate::secret::SecretString>,
    http: &Http,
    cache: &TokenCache,
    options: &RunOptions,
    progress: ProgressFn<'_>,
) -> Result<Report, ProfileError> {
    let credential = read_credential(profile, secrets, secret_override)?;
    run_with_credential(profile, &credential, http, cache, options, progress).await
}

/// Runs the checks of a saved connection with its credential already read.
pub async fn run_with_credential(
    profile: &Profile,
    credential: &ProfileCredential,
    http: &Http,
    cache: &TokenCache,
    options: &RunOptions,
    progress: ProgressFn<'_>,
) -> Result<Report, ProfileError> {
    // A test email with no recipient goes to the sender's own mailbox: the person running the
    // check usually owns it, and it proves delivery just as well.
    let recipient_text =
        options.recipient.clone().or_else(|| profile.recipient.clone()).or_else(|| Some(profile.sender.clone()));
    let recipient = match (options.send, recipient_text) {
        (true, Some(text)) => Some(validate::email("recipient", &text)?),
        _ => None,
    };
    let name = Some(profile.name.clone());
    match (&profile.settings, credential) {
        (ProviderSettings::Microsoft(input), ProfileCredential::Microsoft(credential)) => {
            let settings = MicrosoftSettings::validate(input, &profile.sender).map_err(ProfileError::from)?;
            let options = microsoft::CheckOptions {
                profile_name: name,
                recipient,
                reuse_token: options.reuse_token,
                uses_certificate: input.certificate.is_some(),
            };
            Ok(microsoft::run_check(http, &settings, credential.as_ref(), &options, cache, progress).await)
        }
        (ProviderSettings::Google(google_profile), ProfileCredential::Google(key)) => {
            let settings = GoogleSettings::validate(&google_profile.input, &google_profile.key, &profile.sender)
                .map_err(ProfileError::from)?;
            let options = google::CheckOptions { profile_name: name, recipient };
            Ok(google::run_check(http, &settings, key.as_ref().map_err(Clone::clone), &options, cache, progress).await)
        }
        _ => Err(ProfileError::Invalid(
            "the credential read does not belong to this connection's provider".into(),
            "provider".into(),
        )),
    }
}
