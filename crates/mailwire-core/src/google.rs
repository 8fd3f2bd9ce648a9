//! Google Workspace through a service account with domain-wide delegation and the Gmail API.
//!
//! The service account's JSON key is validated on import; its private key goes to the keychain and
//! only its public facts stay in settings. A check signs an RS256 JWT per scope (RFC 7523
//! JWT-bearer) to prove delegation scope by scope, compares this computer's clock with Google's,
//! reads the sender's Gmail profile (which proves the Gmail API is enabled and the mailbox exists),
//! and sends the test email as base64url-encoded RFC 5322.

use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::certificate::{self, CertificateError};
use crate::check::{Outcome, Pipeline, ProgressFn, Provider, Report, StepStatus};
use crate::diagnose::{self, Finding};
use crate::http::{join_url, parse_endpoint, Http, HttpResponse, NetError, RetryMode};
use crate::message::TestMessage;
use crate::microsoft::{retried_note, unexpected_body};
use crate::secret::SecretString;
use crate::token::{AccessToken, TokenCache};
use crate::validate::{self, FieldError, SettingsError};
use crate::UTF8_BOM;

pub const SCOPE_FULL: &str = "https://mail.google.com/";
pub const SCOPE_SEND: &str = "https://www.googleapis.com/auth/gmail.send";
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
pub const DEFAULT_GMAIL_URL: &str = "https://gmail.googleapis.com";
/// Service account key files are about 2.3 KiB; anything this large is not one.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// Clock differences above these make Google reject or nearly reject signed assertions.
pub const CLOCK_WARN: Duration = Duration::from_secs(30);
pub const CLOCK_FAIL: Duration = Duration::from_secs(300);

const PROFILE_SCOPES: &[&str] = &[
    SCOPE_FULL,
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.metadata",
];
const SEND_SCOPES: &[&str] = &[
    SCOPE_FULL,
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.compose",
    SCOPE_SEND,
];

/// Why a file is not a usable service account key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("The key file could not be read: {0}")]
    Unreadable(String),
    #[error("The file is empty. Download the service account's JSON key again.")]
    Empty,
    #[error("The file is {0} bytes; a service account key is about 2 KB. Choose the JSON key file downloaded from the Google Cloud console.")]
    TooLarge(u64),
    #[error("This is a P12 key. Mailwire needs the JSON key: in the Google Cloud console create a new key of type JSON for the service account.")]
    P12,
    #[error("The file is cut off (the JSON ends early). Download the key again, or create a new JSON key; Google lets each key be downloaded only once.")]
    Truncated,
    #[error("The file is not JSON ({0}). Choose the service account's JSON key file.")]
    NotJson(String),
    #[error("This is an OAuth client, not a service account key ('{0}' credentials). In the Google Cloud console open IAM & Admin → Service accounts → your account → Keys → Add key → Create new key → JSON.")]
    OAuthClient(String),
    #[error("The file's type is '{0}', not 'service_account'. Choose the service account's JSON key file.")]
    WrongType(String),
    #[error("The key file has no '{0}' field. Download a new JSON key for the service account.")]
    MissingField(&'static str),
    #[error("The key file's '{field}' must be {expected}.")]
    WrongFieldType { field: &'static str, expected: &'static str },
    #[error(
        "The key file's client_id '{0}' is not numeric; it should be the service account's unique ID (digits only)."
    )]
    ClientIdNotNumeric(String),
    #[error("The key file's client_email '{0}' is not a service account address.")]
    BadClientEmail(String),
    #[error("The key file's private key cannot be used: {0}. Create a new JSON key for the service account.")]
    BadPrivateKey(String),
    #[error("The key file's token_uri is not usable: {0}")]
    BadTokenUri(String),
}

/// The public facts of a key that a helpdesk needs; safe to show and to save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyFacts {
    pub client_email: String,
    /// The Client ID to paste into the Admin console's domain-wide delegation page.
    pub client_id: String,
    pub project_id: String,
    pub private_key_id: String,
    pub token_uri: String,
}

/// A parsed service account key, with its signer ready: parsing and checking an RSA key (and setting
/// up its blinding) costs as much as a signature, so it happens once per key, not once per token.
#[derive(Clone)]
pub struct ServiceAccountKey {
    pub facts: KeyFacts,
    pub private_key: SecretString,
    signer: std::sync::Arc<RsaKeyPair>,
}

impl ServiceAccountKey {
    /// A key from its saved facts and the private key from the keychain.
    pub fn new(facts: KeyFacts, private_key: SecretString) -> Result<Self, KeyFileError> {
        let signer = std::sync::Arc::new(signing_key(&private_key)?);
        Ok(Self { facts, private_key, signer })
    }
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey").field("facts", &self.facts).field("private_key", &self.private_key).finish()
    }
}

/// Reads and validates a key file without ever loading more than the size limit.
pub fn read_key_file(path: &Path) -> Result<ServiceAccountKey, KeyFileError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| KeyFileError::Unreadable(format!("{}: {e}", path.display())))?;
    let size = file.metadata().map_err(|e| KeyFileError::Unreadable(e.to_string()))?.len();
    if size > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| KeyFileError::Unreadable(format!("{}: {e}", path.display())))?;
    parse_key(&bytes)
}

/// Validates a key file's bytes.
pub fn parse_key(bytes: &[u8]) -> Result<ServiceAccountKey, KeyFileError> {
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge(bytes.len() as u64));
    }
    // Windows editors may save the key with a byte-order mark, which JSON parsers refuse.
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let text_start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = text_start else {
        return Err(KeyFileError::Empty);
    };
    // PKCS#12 files are DER: they start with an ASN.1 SEQUENCE tag.
    if bytes[start] == 0x30 && bytes.get(start + 1).is_some_and(|b| *b >= 0x80) {
        return Err(KeyFileError::P12);
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() {
            KeyFileError::Truncated
        } else if std::str::from_utf8(bytes).is_err() {
            KeyFileError::NotJson("it is a binary file".into())
        } else {
            KeyFileError::NotJson(e.to_string())
        }
    })?;
    let Some(object) = value.as_object() else {
        return Err(KeyFileError::NotJson("the top level is not a JSON object".into()));
    };
    for kind in ["installed", "web"] {
        if object.contains_key(kind) {
            return Err(KeyFileError::OAuthClient(kind.into()));
        }
    }
    let text = |field: &'static str| -> Result<String, KeyFileError> {
        match object.get(field) {
            None | Some(serde_json::Value::Null) => Err(KeyFileError::MissingField(field)),
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => Err(KeyFileError::MissingField(field)),
            Some(serde_json::Value::String(s)) => Ok(s.trim().to_string()),
            Some(_) => Err(KeyFileError::WrongFieldType { field, expected: "a string" }),
        }
    };
    let kind = text("type")?;
    if kind != "service_account" {
        return Err(KeyFileError::WrongType(kind));
    }
    let client_email = text("client_email")?;
    if client_email.parse::<lettre::Address>().is_err() {
        return Err(KeyFileError::BadClientEmail(client_email));
    }
    let client_id = text("client_id")?;
    if !client_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(KeyFileError::ClientIdNotNumeric(client_id));
    }
    let private_key = SecretString::new(text("private_key")?);
    let private_key_id = text("private_key_id")?;
    let project_id = text("project_id").unwrap_or_else(|_| {
        client_email.split('@').nth(1).and_then(|d| d.split('.').next()).unwrap_or_default().to_string()
    });
    let token_uri = match object.get("token_uri") {
        None | Some(serde_json::Value::Null) => DEFAULT_TOKEN_URI.to_string(),
        Some(_) => text("token_uri")?,
    };
    parse_endpoint("token_uri", &token_uri).map_err(|e| KeyFileError::BadTokenUri(e.to_string()))?;
    let key = ServiceAccountKey::new(
        KeyFacts { client_email, client_id, project_id, private_key_id, token_uri },
        private_key,
    )?;
    Ok(key)
}

fn signing_key(private_key: &SecretString) -> Result<RsaKeyPair, KeyFileError> {
    certificate::rsa_private_key(private_key.expose()).map_err(|e| {
        KeyFileError::BadPrivateKey(match e {
            CertificateError::NoPrivateKey => "it is not a PEM private key block".into(),
            CertificateError::EncryptedKey => "it is protected by a password".into(),
            _ => "it is not a valid RSA private key".into(),
        })
    })
}

/// An RS256 JWS, signed with a key parsed once. jsonwebtoken's `encode` would parse and check the
/// key again for every signature, doubling the cost of each token; a bulk check signs one per user.
/// ring (already here for TLS) signs: aws-lc would spend about 20 ms seeding its random generator
/// in every process, more than a whole `mailwire check google`.
fn sign_rs256(
    key: &RsaKeyPair,
    header: &jsonwebtoken::Header,
    claims: &serde_json::Value,
) -> Result<String, GoogleError> {
    fn part<T: Serialize>(value: &T) -> Result<String, GoogleError> {
        let json = serde_json::to_vec(value).map_err(|e| GoogleError::Signing(e.to_string()))?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
    }
    let signing_input = format!("{}.{}", part(header)?, part(claims)?);
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
        .map_err(|e| GoogleError::Signing(e.to_string()))?;
    Ok(format!("{signing_input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)))
}

/// The scopes a connection asks for, as the Admin console wants them (comma-separated).
pub fn scope_string(scopes: &[String]) -> String {
    scopes.join(",")
}

/// What a form or the command line gives, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GoogleInput {
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Replaces the key's `token_uri` (proxies, the emulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmail_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GoogleSettings {
    pub scopes: Vec<String>,
    pub token_url: Url,
    pub gmail_url: Url,
    pub sender: lettre::Address,
}

impl GoogleSettings {
    pub fn validate(input: &GoogleInput, facts: &KeyFacts, sender: &str) -> Result<Self, SettingsError> {
        let sender = validate::email("sender", sender)?;
        let mut scopes: Vec<String> =
            input.scopes.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if scopes.is_empty() {
            scopes.push(SCOPE_FULL.to_string());
        }
        for scope in &scopes {
            if !scope.starts_with("https://") {
                return Err(FieldError::new(
                    "scopes",
                    format!("'{scope}' is not an OAuth scope; scopes are URLs such as {SCOPE_FULL}"),
                )
                .into());
            }
        }
        scopes.dedup();
        let token_url = match input.token_url.as_deref().filter(|v| !v.trim().is_empty()) {
            Some(url) => parse_endpoint("tokenUrl", url)?,
            None => parse_endpoint("token_uri", &facts.token_uri)?,
        };
        let gmail_url = parse_endpoint(
            "gmailUrl",
            input.gmail_url.as_deref().filter(|v| !v.trim().is_empty()).unwrap_or(DEFAULT_GMAIL_URL),
        )?;
        Ok(Self { scopes, token_url, gmail_url, sender })
    }

    fn user_url(&self, suffix: &str) -> Url {
        join_url(&self.gmail_url, &format!("gmail/v1/users/{}/{suffix}", self.sender))
    }
}

/// What a Google diagnosis needs to name the exact values to paste.
#[derive(Debug, Clone)]
pub struct GoogleContext {
    pub client_id: String,
    pub client_email: String,
    pub project_id: String,
    pub scopes: Vec<String>,
    pub user: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GoogleTokenError {
    pub status: u16,
    pub error: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GoogleApiError {
    pub status: u16,
    pub message: String,
    /// `error.status`, e.g. `PERMISSION_DENIED`.
    pub status_text: String,
    /// `error.errors[0].reason`, e.g. `accessNotConfigured`.
    pub reason: Option<String>,
    /// The `ErrorInfo` detail's reason, e.g. `SERVICE_DISABLED`.
    pub detail_reason: Option<String>,
    pub activation_url: Option<String>,
    pub gave_up: Option<String>,
}

impl GoogleApiError {
    /// The most specific code Google gave.
    pub fn code(&self) -> String {
        self.detail_reason.clone().or_else(|| self.reason.clone()).unwrap_or_else(|| {
            if self.status_text.is_empty() {
                format!("HTTP {}", self.status)
            } else {
                self.status_text.clone()
            }
        })
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum GoogleError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("{} (HTTP {}): {}", .0.error, .0.status, .0.description)]
    Token(GoogleTokenError),
    #[error("{} (HTTP {}): {}", .0.code(), .0.status, .0.message)]
    Api(GoogleApiError),
    #[error("signing failed: {0}")]
    Signing(String),
}

impl GoogleError {
    /// The transport failure behind this error, if it was one.
    pub fn net(&self) -> Option<&NetError> {
        match self {
            GoogleError::Net(e) => Some(e),
            _ => None,
        }
    }
}

pub fn parse_token_error(response: &HttpResponse, host: &str) -> GoogleError {
    #[derive(Deserialize)]
    struct Body {
        error: String,
        #[serde(default)]
        error_description: String,
    }
    match serde_json::from_slice::<Body>(&response.body) {
        Ok(body) => GoogleError::Token(GoogleTokenError {
            status: response.status,
            error: body.error,
            description: body.error_description,
        }),
        Err(e) => unexpected_body(response, host, e).into(),
    }
}

pub fn parse_api_error(response: &HttpResponse, host: &str) -> GoogleError {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        #[serde(default)]
        message: String,
        #[serde(default)]
        status: String,
        #[serde(default)]
        errors: Vec<Item>,
        #[serde(default)]
        details: Vec<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Item {
        reason: Option<String>,
    }
    match serde_json::from_slice::<Body>(&response.body) {
        Ok(body) => {
            let info =
                body.error.details.iter().find(|d| {
                    d.get("@type").and_then(|t| t.as_str()).is_some_and(|t| t.ends_with("google.rpc.ErrorInfo"))
                });
            GoogleError::Api(GoogleApiError {
                status: response.status,
                message: body.error.message,
                status_text: body.error.status,
                reason: body.error.errors.into_iter().find_map(|e| e.reason),
                detail_reason: info.and_then(|i| i.get("reason")).and_then(|r| r.as_str()).map(str::to_string),
                activation_url: info
                    .and_then(|i| i.pointer("/metadata/activationUrl"))
                    .and_then(|u| u.as_str())
                    .map(str::to_string),
                gave_up: response.gave_up.clone(),
            })
        }
        Err(e) => unexpected_body(response, host, e).into(),
    }
}

/// A token answer with the provider's clock, for the clock check.
pub struct TokenAnswer {
    pub result: Result<AccessToken, GoogleError>,
    /// The difference between Google's clock and ours (positive: ours is ahead).
    pub clock_offset: Option<i64>,
}

/// Acts as one user through one service account.
pub struct GoogleClient<'a> {
    pub http: &'a Http,
    pub settings: &'a GoogleSettings,
    pub key: &'a ServiceAccountKey,
    pub cache: &'a TokenCache,
}

impl GoogleClient<'_> {
    fn cache_key(&self, scope: &str) -> String {
        format!("google|{}|{}|{}|{scope}", self.settings.token_url, self.key.facts.client_email, self.settings.sender)
    }

    /// The signed JWT-bearer assertion for one scope set.
    pub fn assertion(&self, scope: &str) -> Result<SecretString, GoogleError> {
        self.assertion_signer(scope)()
    }

    /// Signs the assertion apart from `self`, so that it can run off the async threads: an RSA
    /// signature takes over a millisecond, and a bulk check signs one per sender while the other
    /// senders' requests wait to be polled on the same task.
    fn assertion_signer(&self, scope: &str) -> impl FnOnce() -> Result<SecretString, GoogleError> + Send + 'static {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.key.facts.private_key_id.clone());
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": self.key.facts.client_email,
            "sub": self.settings.sender.to_string(),
            "scope": scope,
            "aud": self.key.facts.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        let signer = std::sync::Arc::clone(&self.key.signer);
        move || sign_rs256(&signer, &header, &claims).map(SecretString::new)
    }

    /// A cached token for `scope`, or a new one.
    pub async fn token(&self, scope: &str) -> Result<AccessToken, GoogleError> {
        if let Some(token) = self.cache.get(&self.cache_key(scope)) {
            return Ok(token);
        }
        self.fresh_token(scope).await.result
    }

    /// Always asks Google, and reads its clock on the way.
    pub async fn fresh_token(&self, scope: &str) -> TokenAnswer {
        let signed = tokio::task::spawn_blocking(self.assertion_signer(scope))
            .await
            .unwrap_or_else(|e| Err(GoogleError::Signing(e.to_string())));
        let assertion = match signed {
            Ok(a) => a,
            Err(e) => return TokenAnswer { result: Err(e), clock_offset: None },
        };
        let url = &self.settings.token_url;
        let host = url.host_str().unwrap_or_default().to_string();
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.expose())];
        let before = SystemTime::now();
        let response = match self.http.execute(self.http.post_form(url, &form), RetryMode::Idempotent).await {
            Ok(r) => r,
            Err(e) => return TokenAnswer { result: Err(e.into()), clock_offset: None },
        };
        let after = SystemTime::now();
        let clock_offset = response.date().map(|server| {
            let ours = before + after.duration_since(before).unwrap_or_default() / 2;
            signed_seconds(ours, server)
        });
        if !response.is_success() {
            return TokenAnswer { result: Err(parse_token_error(&response, &host)), clock_offset };
        }
        #[derive(Deserialize)]
        struct Body {
            access_token: String,
            #[serde(default = "default_expiry")]
            expires_in: u64,
        }
        fn default_expiry() -> u64 {
            3599
        }
        let result = serde_json::from_slice::<Body>(&response.body)
            .map_err(|e| GoogleError::from(unexpected_body(&response, &host, e)))
            .map(|body| {
                let token = AccessToken::new(body.access_token, Duration::from_secs(body.expires_in));
                self.cache.put(self.cache_key(scope), token.clone());
                token
            });
        TokenAnswer { result, clock_offset }
    }

    /// The sender's Gmail profile: proves the API is enabled and the mailbox exists.
    pub async fn profile(&self, token: &AccessToken) -> Result<serde_json::Value, GoogleError> {
        let url = self.settings.user_url("profile");
        let host = url.host_str().unwrap_or_default().to_string();
        let response = self.http.execute(self.http.get(&url, token.value.expose()), RetryMode::Idempotent).await?;
        if !response.is_success() {
            return Err(parse_api_error(&response, &host));
        }
        serde_json::from_slice(&response.body).map_err(|e| unexpected_body(&response, &host, e).into())
    }

    pub async fn send(&self, token: &AccessToken, message: &TestMessage) -> Result<(String, usize), GoogleError> {
        let url = self.settings.user_url("messages/send");
        let host = url.host_str().unwrap_or_default().to_string();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(message.rfc5322());
        let request = self.http.post_json(&url, token.value.expose(), &serde_json::json!({ "raw": raw }));
        let response = self.http.execute(request, RetryMode::DeliverOnce).await?;
        if !response.is_success() {
            return Err(parse_api_error(&response, &host));
        }
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| GoogleError::from(unexpected_body(&response, &host, e)))?;
        Ok((body.get("id").and_then(|v| v.as_str()).unwrap_or("?").to_string(), response.attempts))
    }
}

fn signed_seconds(ours: SystemTime, theirs: SystemTime) -> i64 {
    match ours.duration_since(theirs) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(behind) => -(behind.duration().as_secs() as i64),
    }
}

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub profile_name: Option<String>,
    pub recipient: Option<lettre::Address>,
}

/// inputs → key → clock → delegation per scope → Gmail API → send.
pub async fn run_check(
    http: &Http,
    settings: &GoogleSettings,
    key: Result<&ServiceAccountKey, Finding>,
    options: &CheckOptions,
    cache: &TokenCache,
    progress: ProgressFn<'_>,
) -> Report {
    let mut pipeline = Pipeline::new(Provider::Google, options.profile_name.clone(), progress);
    let scopes_text = scope_string(&settings.scopes);
    let only_send_scope = !settings.scopes.iter().any(|s| PROFILE_SCOPES.contains(&s.as_str()));
    pipeline
        .run("inputs", "Check the settings", async {
            let detail = format!(
                "Act as {}, scopes {scopes_text}, token endpoint {}; {}.",
                settings.sender,
                settings.token_url,
                http.describe_proxy(&settings.token_url)
            );
            if only_send_scope {
                Outcome::Warn {
                    detail: format!(
                        "{detail} With only gmail.send, the mailbox check cannot run; the test email is the proof."
                    ),
                    finding: Finding::note("Least-privilege scope: the Gmail API check is skipped"),
                    value: (),
                }
            } else {
                Outcome::pass(detail, ())
            }
        })
        .await;

    let key = pipeline
        .run("key", "Check the service account key", async {
            match key {
                Ok(key) => Outcome::pass(
                    format!(
                        "Service account {} (client ID {}), project {}, key ID {}.",
                        key.facts.client_email, key.facts.client_id, key.facts.project_id, key.facts.private_key_id
                    ),
                    key,
                ),
                Err(finding) => Outcome::fail(finding.title.clone(), finding),
            }
        })
        .await;
    let Some(key) = key else {
        for (id, title) in [
            ("clock", "Compare this computer's clock with Google's"),
            ("delegation", "Check domain-wide delegation"),
            ("gmail_api", "Check the Gmail API and mailbox"),
            ("send", "Send a test email"),
        ] {
            pipeline.skip(id, title, "Skipped: no usable key.");
        }
        return pipeline.finish();
    };
    let context = GoogleContext {
        client_id: key.facts.client_id.clone(),
        client_email: key.facts.client_email.clone(),
        project_id: key.facts.project_id.clone(),
        scopes: settings.scopes.clone(),
        user: settings.sender.to_string(),
    };
    let client = GoogleClient { http, settings, key, cache };

    // One token request per scope; the first one's Date header also answers the clock check.
    let mut tokens: Vec<(String, Option<AccessToken>)> = Vec::new();
    let first_started = std::time::Instant::now();
    let first = client.fresh_token(&settings.scopes[0]).await;
    let first_ms = first_started.elapsed().as_millis() as u64;
    match first.clock_offset {
        Some(offset) => {
            let skew = Duration::from_secs(offset.unsigned_abs());
            let direction = if offset >= 0 { "ahead of" } else { "behind" };
            let detail = if offset == 0 {
                "This computer's clock matches Google's.".to_string()
            } else {
                format!("This computer's clock is {} s {direction} Google's.", offset.unsigned_abs())
            };
            let clock_finding = || Finding {
                title: "This computer's clock is off".into(),
                code: Some("clock-skew".into()),
                fix: vec![
                    diagnose::SYNC_CLOCK.into(),
                    "Google rejects signed requests when the clocks differ by more than a few minutes.".into(),
                ],
                links: vec![],
            };
            let (status, finding) = if skew > CLOCK_FAIL {
                (StepStatus::Fail, Some(clock_finding()))
            } else if skew > CLOCK_WARN {
                (StepStatus::Warn, Some(clock_finding()))
            } else {
                (StepStatus::Pass, None)
            };
            pipeline.record("clock", "Compare this computer's clock with Google's", status, first_ms, detail, finding);
        }
        None => pipeline.record(
            "clock",
            "Compare this computer's clock with Google's",
            StepStatus::Skipped,
            first_ms,
            "Skipped: the token endpoint gave no answer with a Date header.".into(),
            None,
        ),
    }
    let mut first = Some(first.result);
    for scope in &settings.scopes {
        let title = format!("Check domain-wide delegation for {scope}");
        let answer = match first.take() {
            Some(result) => result,
            None => client.fresh_token(scope).await.result,
        };
        let elapsed = if tokens.is_empty() { first_ms } else { 0 };
        let started = std::time::Instant::now();
        let (status, detail, finding, token) = match answer {
            Ok(token) => (
                StepStatus::Pass,
                format!("Google issued a token for {} with scope {scope}.", settings.sender),
                None,
                Some(token),
            ),
            Err(error) => {
                (StepStatus::Fail, diagnose::describe_google(&error), Some(diagnose::google(&error, &context)), None)
            }
        };
        pipeline.record("delegation", &title, status, elapsed + started.elapsed().as_millis() as u64, detail, finding);
        tokens.push((scope.clone(), token));
    }
    let token_for = |allowed: &[&str]| {
        tokens
            .iter()
            .find(|(scope, token)| token.is_some() && allowed.contains(&scope.as_str()))
            .and_then(|(_, t)| t.clone())
    };

    let profile_token = token_for(PROFILE_SCOPES);
    let mailbox_ok = if only_send_scope {
        pipeline.skip(
            "gmail_api",
            "Check the Gmail API and mailbox",
            "Skipped: gmail.send alone does not allow reading the mailbox profile; the test email is the proof.",
        );
        true
    } else if let Some(token) = profile_token {
        pipeline
            .run("gmail_api", "Check the Gmail API and mailbox", async {
                match client.profile(&token).await {
                    Ok(profile) => Outcome::pass(
                        format!(
                            "The Gmail API is enabled and the mailbox {} exists ({} messages).",
                            profile.get("emailAddress").and_then(|v| v.as_str()).unwrap_or("?"),
                            profile.get("messagesTotal").and_then(|v| v.as_u64()).unwrap_or(0)
                        ),
                        (),
                    ),
                    Err(error) => Outcome::fail(diagnose::describe_google(&error), diagnose::google(&error, &context)),
                }
            })
            .await
            .is_some()
    } else {
        pipeline.skip("gmail_api", "Check the Gmail API and mailbox", "Skipped: no delegated token.");
        false
    };

    match (&options.recipient, token_for(SEND_SCOPES)) {
        (None, _) => pipeline.skip(
            "send",
            "Send a test email",
            "Skipped: no test email was requested (Send test email in the app, --to on the command line).",
        ),
        (Some(_), None) => pipeline.skip("send", "Send a test email", "Skipped: no delegated token allows sending."),
        (Some(_), Some(_)) if !mailbox_ok => {
            pipeline.skip("send", "Send a test email", "Skipped: the Gmail API check failed.")
        }
        (Some(recipient), Some(token)) => {
            let mut verified = vec![
                format!("The service account key of {} signs valid requests.", key.facts.client_email),
                format!("Domain-wide delegation allows {} for client ID {}.", scopes_text, key.facts.client_id),
            ];
            if !only_send_scope {
                verified.push(format!("The Gmail API is enabled and {} has a mailbox.", settings.sender));
            }
            let message = TestMessage::new(
                options.profile_name.as_deref(),
                Provider::Google,
                &settings.sender,
                recipient,
                verified,
            );
            pipeline
                .run("send", "Send a test email", async {
                    match client.send(&token, &message).await {
                        Ok((id, attempts)) => Outcome::pass(
                            format!(
                                "Gmail sent the message to {recipient} (id {id}){}. Subject: {}",
                                retried_note(attempts),
                                message.subject
                            ),
                            (),
                        ),
                        Err(error) => {
                            let detail =
                                diagnose::describe_send_failure(diagnose::describe_google(&error), error.net());
                            Outcome::fail(detail, diagnose::google(&error, &context))
                        }
                    }
                })
                .await;
        }
    }
    pipeline.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_files_get_specific_errors() {
        assert_eq!(parse_key(b"").unwrap_err(), KeyFileError::Empty);
        assert_eq!(parse_key(b"  \n").unwrap_err(), KeyFileError::Empty);
        assert_eq!(parse_key(b"{\"type\": \"service_acc").unwrap_err(), KeyFileError::Truncated);
        assert_eq!(parse_key(&[0x30, 0x82, 0x0a, 0x01, 0x02]).unwrap_err(), KeyFileError::P12);
        assert!(matches!(parse_key(b"hello").unwrap_err(), KeyFileError::NotJson(_)));
        assert!(matches!(parse_key(b"[1,2]").unwrap_err(), KeyFileError::NotJson(_)));
        // Past a byte-order mark the file is read as JSON: this one is a JSON OAuth client.
        let with_bom = [UTF8_BOM, br#"{"web":{}}"#.as_slice()].concat();
        assert_eq!(parse_key(&with_bom).unwrap_err(), KeyFileError::OAuthClient("web".into()));
        assert_eq!(
            parse_key(br#"{"installed":{"client_id":"x"}}"#).unwrap_err(),
            KeyFileError::OAuthClient("installed".into())
        );
        assert_eq!(parse_key(br#"{"web":{}}"#).unwrap_err(), KeyFileError::OAuthClient("web".into()));
        assert_eq!(
            parse_key(br#"{"type":"authorized_user"}"#).unwrap_err(),
            KeyFileError::WrongType("authorized_user".into())
        );
        assert_eq!(
            parse_key(br#"{"type":42}"#).unwrap_err(),
            KeyFileError::WrongFieldType { field: "type", expected: "a string" }
        );
        assert_eq!(
            parse_key(br#"{"type":"service_account"}"#).unwrap_err(),
            KeyFileError::MissingField("client_email")
        );
        let big = vec![b' '; MAX_KEY_FILE_BYTES as usize + 1];
        assert!(matches!(parse_key(&big).unwrap_err(), KeyFileError::TooLarge(_)));
        let not_numeric = br#"{"type":"service_account","client_email":"a@p.iam.gserviceaccount.com","client_id":"abc","private_key":"x","private_key_id":"k"}"#;
        assert_eq!(parse_key(not_numeric).unwrap_err(), KeyFileError::ClientIdNotNumeric("abc".into()));
        let bad_pem = serde_json::json!({"type": "service_account", "client_email": "a@p.iam.gserviceaccount.com",
            "client_id": "123", "private_key": crate::certificate::pem_block(b"not a key", "PRIVATE KEY"),
            "private_key_id": "k"});
        let err = parse_key(bad_pem.to_string().as_bytes()).unwrap_err();
        assert_eq!(err, KeyFileError::BadPrivateKey("it is not a valid RSA private key".into()));
        let no_pem = bad_pem.to_string().replace("PRIVATE KEY", "PUBLIC KEY");
        let err = parse_key(no_pem.as_bytes()).unwrap_err();
        assert_eq!(err, KeyFileError::BadPrivateKey("it is not a PEM private key block".into()));
    }

    #[test]
    fn api_errors_keep_the_most_specific_code() {
        let body = br#"{"error":{"code":403,"message":"Gmail API has not been used in project 123 before or it is disabled.","errors":[{"message":"x","domain":"usageLimits","reason":"accessNotConfigured"}],"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"activationUrl":"https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project=123"}}]}}"#;
        let response =
            HttpResponse { status: 403, headers: Default::default(), body: body.to_vec(), attempts: 1, gave_up: None };
        let GoogleError::Api(e) = parse_api_error(&response, "h") else { panic!() };
        assert_eq!(e.code(), "SERVICE_DISABLED");
        assert_eq!(e.reason.as_deref(), Some("accessNotConfigured"));
        assert!(e.activation_url.unwrap().contains("project=123"));
    }
}
