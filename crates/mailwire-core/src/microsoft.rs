//! Microsoft 365 through Entra ID and Microsoft Graph.
//!
//! Settings are validated into [`MicrosoftSettings`], which can only exist valid. The app gets a
//! token with the client-credentials grant (a client secret, or a certificate assertion signed
//! PS256 with `x5t#S256`), the token's `roles` claim shows whether `Mail.Send` was granted with admin
//! consent, and Graph's `sendMail` sends the test email. Error bodies of both services are parsed
//! into typed errors that keep the provider's code and trace IDs for the diagnosis.

use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use url::Url;
use uuid::Uuid;

use crate::certificate;
use crate::check::{Outcome, Pipeline, ProgressFn, Provider, Report};
use crate::diagnose::{self, Finding};
use crate::http::{join_url, parse_endpoint, Http, HttpResponse, NetError, RetryMode};
use crate::message::TestMessage;
use crate::secret::SecretString;
use crate::token::{AccessToken, TokenCache};
use crate::validate::{self, FieldError, SettingsError, Tenant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    #[default]
    Global,
    Usgov,
    UsgovDod,
    China,
    Custom,
}

impl Cloud {
    pub fn label(self) -> &'static str {
        match self {
            Cloud::Global => "Global",
            Cloud::Usgov => "US Government (GCC High)",
            Cloud::UsgovDod => "US Government (DoD)",
            Cloud::China => "China (21Vianet)",
            Cloud::Custom => "Custom endpoints",
        }
    }

    /// The authority host and Graph root of each national cloud.
    pub fn endpoints(self) -> Option<(&'static str, &'static str)> {
        match self {
            Cloud::Global => Some(("https://login.microsoftonline.com", "https://graph.microsoft.com")),
            Cloud::Usgov => Some(("https://login.microsoftonline.us", "https://graph.microsoft.us")),
            Cloud::UsgovDod => Some(("https://login.microsoftonline.us", "https://dod-graph.microsoft.us")),
            Cloud::China => Some(("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn")),
            Cloud::Custom => None,
        }
    }

    /// Where the admin centre of this cloud lives, for fix links.
    pub fn portal(self) -> &'static str {
        match self {
            Cloud::Usgov | Cloud::UsgovDod => "https://portal.azure.us",
            Cloud::China => "https://portal.azure.cn",
            Cloud::Global | Cloud::Custom => "https://entra.microsoft.com",
        }
    }
}

/// What a form or the command line gives, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MicrosoftInput {
    pub tenant: String,
    pub client_id: String,
    #[serde(default)]
    pub cloud: Cloud,
    /// Replaces the cloud's authority host (national clouds, proxies, the emulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_url: Option<String>,
    /// The app's certificate (PEM, public) when the connection signs in with one instead of a
    /// client secret; its private key is in the system keychain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MicrosoftSettings {
    pub tenant: Tenant,
    pub client_id: Uuid,
    pub cloud: Cloud,
    pub authority_host: Url,
    pub graph_url: Url,
    pub sender: lettre::Address,
}

impl MicrosoftSettings {
    pub fn validate(input: &MicrosoftInput, sender: &str) -> Result<Self, SettingsError> {
        let tenant = Tenant::parse(&input.tenant)?;
        let client_id = validate::client_id(&input.client_id)?;
        let sender = validate::email("sender", sender)?;
        let defaults = input.cloud.endpoints();
        let pick = |name: &str, given: &Option<String>, default: Option<&str>| -> Result<Url, SettingsError> {
            match (given.as_deref().filter(|v| !v.trim().is_empty()), default) {
                (Some(value), _) => Ok(parse_endpoint(name, value)?),
                (None, Some(value)) => Ok(parse_endpoint(name, value)?),
                (None, None) => Err(FieldError::new(name, format!("A custom cloud needs the {name} URL.")).into()),
            }
        };
        let authority_host = pick("authorityHost", &input.authority_host, defaults.map(|d| d.0))?;
        let graph_url = pick("graphUrl", &input.graph_url, defaults.map(|d| d.1))?;
        Ok(Self { tenant, client_id, cloud: input.cloud, authority_host, graph_url, sender })
    }

    pub fn token_url(&self) -> Url {
        join_url(&self.authority_host, &format!("{}/oauth2/v2.0/token", self.tenant.as_str()))
    }

    /// App-only tokens always ask for `.default` of the Graph root of the same cloud.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.graph_url.as_str().trim_end_matches('/'))
    }

    pub fn send_mail_url(&self) -> Url {
        join_url(&self.graph_url, &format!("v1.0/users/{}/sendMail", self.sender))
    }
}

/// How the app proves who it is. Certificates are preferred by security teams; secrets are simpler.
#[derive(Debug, Clone)]
pub enum Credential {
    Secret(SecretString),
    /// A certificate registered on the app, with its PEM private key.
    Certificate {
        certificate_pem: String,
        private_key_pem: SecretString,
    },
}

/// An Entra ID token endpoint error.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntraError {
    pub status: u16,
    pub error: String,
    pub aadsts: Option<u32>,
    /// The first line of `error_description`, without the trace lines.
    pub description: String,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
}

impl EntraError {
    pub fn code(&self) -> String {
        match self.aadsts {
            Some(n) => format!("AADSTS{n}"),
            None => self.error.clone(),
        }
    }

    pub fn trace_line(&self) -> String {
        labelled(&[
            ("Trace ID", &self.trace_id),
            ("Correlation ID", &self.correlation_id),
            ("Timestamp", &self.timestamp),
        ])
    }
}

/// A Microsoft Graph error.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraphError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub client_request_id: Option<String>,
    pub date: Option<String>,
    pub gave_up: Option<String>,
}

impl GraphError {
    pub fn trace_line(&self) -> String {
        labelled(&[
            ("request-id", &self.request_id),
            ("client-request-id", &self.client_request_id),
            ("date", &self.date),
        ])
    }
}

/// "Label: value, …" for the values that are present: the IDs support staff ask for.
fn labelled(pairs: &[(&str, &Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(label, value)| value.as_ref().map(|v| format!("{label}: {v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum MicrosoftError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("{} ({}): {}", .0.code(), .0.error, .0.description)]
    Token(EntraError),
    #[error("{} (HTTP {}): {}", .0.code, .0.status, .0.message)]
    Graph(GraphError),
    #[error("The certificate or its private key could not be used: {0}")]
    Certificate(String),
}

impl MicrosoftError {
    /// The transport failure behind this error, if it was one.
    pub fn net(&self) -> Option<&NetError> {
        match self {
            MicrosoftError::Net(e) => Some(e),
            _ => None,
        }
    }
}

/// Parses an Entra ID error body; a non-JSON answer becomes the network error it really is.
pub fn parse_entra_error(response: &HttpResponse, host: &str) -> MicrosoftError {
    #[derive(Deserialize)]
    struct Body {
        error: String,
        #[serde(default)]
        error_description: String,
        #[serde(default)]
        error_codes: Vec<u32>,
        timestamp: Option<String>,
        trace_id: Option<String>,
        correlation_id: Option<String>,
    }
    match serde_json::from_slice::<Body>(&response.body) {
        Ok(body) => {
            let first_line = body.error_description.lines().next().unwrap_or_default().trim().to_string();
            let from_text = first_line
                .strip_prefix("AADSTS")
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.trim().parse().ok());
            MicrosoftError::Token(EntraError {
                status: response.status,
                error: body.error,
                aadsts: body.error_codes.first().copied().or(from_text),
                description: first_line,
                trace_id: body.trace_id,
                correlation_id: body.correlation_id,
                timestamp: body.timestamp,
            })
        }
        Err(e) => unexpected_body(response, host, e).into(),
    }
}

/// Parses a Graph error body.
pub fn parse_graph_error(response: &HttpResponse, host: &str) -> MicrosoftError {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: String,
        #[serde(default)]
        message: String,
        #[serde(rename = "innerError", alias = "innererror")]
        inner_error: Option<InnerError>,
    }
    #[derive(Deserialize)]
    struct InnerError {
        date: Option<String>,
        #[serde(rename = "request-id")]
        request_id: Option<String>,
        #[serde(rename = "client-request-id")]
        client_request_id: Option<String>,
    }
    match serde_json::from_slice::<Body>(&response.body) {
        Ok(body) => {
            let inner = body.error.inner_error;
            MicrosoftError::Graph(GraphError {
                status: response.status,
                code: body.error.code,
                message: body.error.message,
                request_id: inner.as_ref().and_then(|i| i.request_id.clone()),
                client_request_id: inner.as_ref().and_then(|i| i.client_request_id.clone()),
                date: inner.and_then(|i| i.date),
                gave_up: response.gave_up.clone(),
            })
        }
        Err(e) => unexpected_body(response, host, e).into(),
    }
}

pub(crate) fn unexpected_body(response: &HttpResponse, host: &str, error: serde_json::Error) -> NetError {
    if response.looks_like_html() {
        NetError::HtmlInsteadOfJson { host: host.to_string(), status: response.status }
    } else {
        NetError::Malformed { host: host.to_string(), status: response.status, detail: error.to_string() }
    }
}

/// What the token says about itself, decoded for diagnosis.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TokenFacts {
    pub roles: Vec<String>,
    pub tenant_id: Option<String>,
    pub app_id: Option<String>,
    pub audience: Option<String>,
}

impl TokenFacts {
    pub fn from_token(token: &AccessToken) -> Option<Self> {
        let claims = token.unverified_claims()?;
        let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_string);
        Some(Self {
            roles: claims
                .get("roles")
                .and_then(|r| r.as_array())
                .map(|roles| roles.iter().filter_map(|r| r.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            tenant_id: text("tid"),
            app_id: text("appid").or_else(|| text("azp")),
            audience: text("aud"),
        })
    }
}

/// Talks to one tenant as one app.
pub struct MicrosoftClient<'a> {
    pub http: &'a Http,
    pub settings: &'a MicrosoftSettings,
    pub credential: &'a Credential,
    pub cache: &'a TokenCache,
}

impl MicrosoftClient<'_> {
    fn cache_key(&self) -> String {
        format!("ms|{}|{}|{}", self.token_url(), self.settings.client_id, self.settings.scope())
    }

    fn token_url(&self) -> Url {
        self.settings.token_url()
    }

    /// A token from the cache, or a new one. `fresh` skips the cache: after an admin grants
    /// consent, only a new token carries the new roles.
    pub async fn token(&self, fresh: bool) -> Result<AccessToken, MicrosoftError> {
        if !fresh {
            if let Some(token) = self.cache.get(&self.cache_key()) {
                return Ok(token);
            }
        }
        let url = self.token_url();
        let host = url.host_str().unwrap_or_default().to_string();
        let client_id = self.settings.client_id.to_string();
        let scope = self.settings.scope();
        let assertion;
        let mut form: Vec<(&str, &str)> =
            vec![("grant_type", "client_credentials"), ("client_id", &client_id), ("scope", &scope)];
        match self.credential {
            Credential::Secret(secret) => form.push(("client_secret", secret.expose())),
            Credential::Certificate { certificate_pem, private_key_pem } => {
                assertion = certificate_assertion(&url, &client_id, certificate_pem, private_key_pem)?;
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
                form.push(("client_assertion", assertion.expose()));
            }
        }
        let response = self.http.execute(self.http.post_form(&url, &form), RetryMode::Idempotent).await?;
        if !response.is_success() {
            return Err(parse_entra_error(&response, &host));
        }
        #[derive(Deserialize)]
        struct TokenBody {
            access_token: String,
            expires_in: u64,
        }
        let body: TokenBody =
            serde_json::from_slice(&response.body).map_err(|e| unexpected_body(&response, &host, e))?;
        let token = AccessToken::new(body.access_token, Duration::from_secs(body.expires_in));
        self.cache.put(self.cache_key(), token.clone());
        Ok(token)
    }

    /// Sends through Graph; 202 means accepted for delivery.
    pub async fn send_mail(&self, token: &AccessToken, message: &TestMessage) -> Result<HttpResponse, MicrosoftError> {
        let url = self.settings.send_mail_url();
        let host = url.host_str().unwrap_or_default().to_string();
        let request = self.http.post_json(&url, token.value.expose(), &message.graph_json());
        let response = self.http.execute(request, RetryMode::DeliverOnce).await?;
        // sendMail answers exactly 202 with no body; any other success came from something else.
        match response.status {
            202 => Ok(response),
            _ if response.is_success() => Err(MicrosoftError::Net(if response.looks_like_html() {
                NetError::HtmlInsteadOfJson { host, status: response.status }
            } else {
                NetError::Malformed {
                    host,
                    status: response.status,
                    detail: "sendMail answers 202 Accepted, not this".into(),
                }
            })),
            _ => Err(parse_graph_error(&response, &host)),
        }
    }
}

/// The client assertion for certificate credentials: PS256 with the SHA-256 thumbprint.
fn certificate_assertion(
    token_url: &Url,
    client_id: &str,
    certificate_pem: &str,
    private_key_pem: &SecretString,
) -> Result<SecretString, MicrosoftError> {
    let der = certificate::certificate_der(certificate_pem).map_err(|e| MicrosoftError::Certificate(e.to_string()))?;
    let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der));
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.expose().as_bytes())
        .map_err(|e| MicrosoftError::Certificate(format!("the private key is not an RSA PEM key ({e})")))?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
    header.x5t_s256 = Some(thumbprint);
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "aud": token_url.as_str(),
        "iss": client_id,
        "sub": client_id,
        "jti": Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 300,
    });
    jsonwebtoken::encode(&header, &claims, &key)
        .map(SecretString::new)
        .map_err(|e| MicrosoftError::Certificate(format!("signing the assertion failed ({e})")))
}

/// What a check run should do beyond verifying.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub profile_name: Option<String>,
    /// Send the test email when a recipient is given.
    pub recipient: Option<lettre::Address>,
    /// Use a cached token when there is one: checks of many mailboxes share one token, while a
    /// single check always asks for a new one so that newly granted consent shows.
    pub reuse_token: bool,
    /// The connection signs in with a certificate, so a missing credential is its private key.
    pub uses_certificate: bool,
}

/// inputs → token → permissions → send.
pub async fn run_check(
    http: &Http,
    settings: &MicrosoftSettings,
    credential: Option<&Credential>,
    options: &CheckOptions,
    cache: &TokenCache,
    progress: ProgressFn<'_>,
) -> Report {
    let mut pipeline = Pipeline::new(Provider::Microsoft, options.profile_name.clone(), progress);
    let token_url = settings.token_url();
    let portal = settings.cloud.portal();
    let client_id = settings.client_id.to_string();

    let credential = pipeline
        .run("inputs", "Check the settings", async {
            let summary = format!(
                "Tenant {}, client ID {}, {} cloud, sender {}; {}.",
                settings.tenant.as_str(),
                settings.client_id,
                settings.cloud.label(),
                settings.sender,
                http.describe_proxy(&token_url)
            );
            match credential {
                None if options.uses_certificate => {
                    Outcome::fail(summary, diagnose::missing_certificate_key(portal, &client_id))
                }
                None => Outcome::fail(summary, diagnose::missing_client_secret(portal, &client_id)),
                Some(Credential::Secret(secret)) if secret.is_empty() => {
                    Outcome::fail(summary, diagnose::missing_client_secret(portal, &client_id))
                }
                Some(Credential::Secret(secret)) if validate::secret_looks_like_secret_id(secret.expose()) => {
                    Outcome::Warn {
                        detail: format!("{summary} The client secret looks like a Secret ID."),
                        finding: diagnose::secret_id_instead_of_value(portal, &client_id),
                        value: credential.cloned().expect("matched Some"),
                    }
                }
                Some(Credential::Certificate { certificate_pem, .. }) => match certificate::facts(certificate_pem) {
                    Err(e) => Outcome::fail(
                        summary,
                        diagnose::microsoft(&MicrosoftError::Certificate(e.to_string()), settings),
                    ),
                    Ok(facts) if facts.expired(chrono::Utc::now()) => {
                        Outcome::fail(summary, diagnose::certificate_renewal(portal, &client_id, &facts, true))
                    }
                    Ok(facts) if facts.renewal_due(chrono::Utc::now()) => Outcome::Warn {
                        detail: format!("{summary} Certificate {} expires soon.", facts.thumbprint),
                        finding: diagnose::certificate_renewal(portal, &client_id, &facts, false),
                        value: credential.cloned().expect("matched Some"),
                    },
                    Ok(facts) => Outcome::pass(
                        format!(
                            "{summary} Certificate {} ({}), valid until {}.",
                            facts.thumbprint,
                            facts.subject,
                            facts.not_after.format("%Y-%m-%d")
                        ),
                        credential.cloned().expect("matched Some"),
                    ),
                },
                Some(credential) => Outcome::pass(summary, credential.clone()),
            }
        })
        .await;
    let Some(credential) = credential else {
        pipeline.skip("token", "Get an access token", "Skipped: the settings are incomplete.");
        pipeline.skip("permissions", "Check the Mail.Send permission", "Skipped: no token.");
        pipeline.skip("send", "Send a test email", "Skipped: no token.");
        return pipeline.finish();
    };
    let client = MicrosoftClient { http, settings, credential: &credential, cache };

    let token = pipeline
        .run("token", "Get an access token", async {
            match client.token(!options.reuse_token).await {
                Ok(token) => Outcome::pass(
                    format!(
                        "Entra ID issued an app-only token for {} from {}.",
                        settings.scope(),
                        token_url.host_str().unwrap_or_default()
                    ),
                    token,
                ),
                Err(error) => {
                    let mut finding = diagnose::microsoft(&error, settings);
                    if let Credential::Certificate { certificate_pem, .. } = &credential {
                        if let Ok(facts) = certificate::facts(certificate_pem) {
                            diagnose::add_certificate_thumbprint(&mut finding, &facts);
                        }
                    }
                    Outcome::fail(diagnose::describe_microsoft(&error), finding)
                }
            }
        })
        .await;
    let Some(token) = token else {
        pipeline.skip("permissions", "Check the Mail.Send permission", "Skipped: no token.");
        pipeline.skip("send", "Send a test email", "Skipped: no token.");
        return pipeline.finish();
    };

    let granted = pipeline
        .run("permissions", "Check the Mail.Send permission", async {
            let Some(facts) = TokenFacts::from_token(&token) else {
                return Outcome::Warn {
                    detail: "The token is not a JWT, so its permissions cannot be read; the send step will tell."
                        .into(),
                    finding: Finding::note("Permissions could not be read from the token"),
                    value: (),
                };
            };
            let names = format!(
                "Token for tenant {}, app {}",
                facts.tenant_id.as_deref().unwrap_or("?"),
                facts.app_id.as_deref().unwrap_or("?")
            );
            if facts.roles.iter().any(|r| r == "Mail.Send") {
                Outcome::pass(format!("{names}; application permissions: {}.", facts.roles.join(", ")), ())
            } else if facts.roles.is_empty() {
                Outcome::fail(
                    format!(
                        "{names} carries no application permissions (no 'roles' claim): admin consent was not granted."
                    ),
                    diagnose::mail_send_not_consented(portal, &client_id, "NoPermissionsInAccessToken"),
                )
            } else {
                Outcome::fail(
                    format!("{names} has application permissions {}, but not Mail.Send.", facts.roles.join(", ")),
                    diagnose::mail_send_delegated_only(portal, &client_id),
                )
            }
        })
        .await;

    let verified = vec![
        format!("Entra ID accepted the app's credentials for tenant {}.", settings.tenant.as_str()),
        "The token carries the Mail.Send application permission (admin consent granted).".to_string(),
        format!("Microsoft Graph accepted this message from {} (HTTP 202).", settings.sender),
    ];
    match (&options.recipient, granted) {
        (None, _) => pipeline.skip(
            "send",
            "Send a test email",
            "Skipped: no test email was requested (Send test email in the app, --to on the command line).",
        ),
        (Some(_), None) => {
            pipeline.skip("send", "Send a test email", "Skipped: the token lacks Mail.Send, so Graph would refuse.")
        }
        (Some(recipient), Some(())) => {
            let message = TestMessage::new(
                options.profile_name.as_deref(),
                Provider::Microsoft,
                &settings.sender,
                recipient,
                verified,
            );
            pipeline
                .run("send", "Send a test email", async {
                    match client.send_mail(&token, &message).await {
                        Ok(response) => Outcome::pass(
                            format!(
                                "Graph accepted the message for delivery to {recipient} (HTTP {}){}. Subject: {}",
                                response.status,
                                retried_note(response.attempts),
                                message.subject
                            ),
                            (),
                        ),
                        Err(error) => {
                            let detail =
                                diagnose::describe_send_failure(diagnose::describe_microsoft(&error), error.net());
                            Outcome::fail(detail, diagnose::microsoft(&error, settings))
                        }
                    }
                })
                .await;
        }
    }
    pipeline.finish()
}

pub(crate) fn retried_note(attempts: usize) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> MicrosoftInput {
        MicrosoftInput {
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            ..Default::default()
        }
    }

    #[test]
    fn clouds_pick_their_endpoints_and_scope() {
        let mut i = input();
        i.cloud = Cloud::UsgovDod;
        let s = MicrosoftSettings::validate(&i, "a@contoso.com").unwrap();
        assert_eq!(s.scope(), "https://dod-graph.microsoft.us/.default");
        assert_eq!(
            s.token_url().as_str(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(s.send_mail_url().as_str(), "https://dod-graph.microsoft.us/v1.0/users/a@contoso.com/sendMail");
    }

    #[test]
    fn custom_cloud_needs_urls_and_refuses_remote_http() {
        let mut i = input();
        i.cloud = Cloud::Custom;
        assert!(MicrosoftSettings::validate(&i, "a@contoso.com").is_err());
        i.authority_host = Some("http://login.example.com".into());
        i.graph_url = Some("https://graph.example.com".into());
        assert!(matches!(
            MicrosoftSettings::validate(&i, "a@contoso.com"),
            Err(crate::validate::SettingsError::Endpoint(_))
        ));
        i.authority_host = Some("http://127.0.0.1:9".into());
        assert!(MicrosoftSettings::validate(&i, "a@contoso.com").is_ok());
    }

    #[test]
    fn entra_errors_keep_code_and_trace_ids() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: abc\r\nCorrelation ID: def\r\nTimestamp: 2026-12-04 10:00:00Z","error_codes":[7000215],"timestamp":"2026-12-04 10:00:00Z","trace_id":"abc","correlation_id":"def"}"#;
        let response =
            HttpResponse { status: 401, headers: Default::default(), body: body.to_vec(), attempts: 1, gave_up: None };
        let MicrosoftError::Token(e) = parse_entra_error(&response, "h") else { panic!() };
        assert_eq!(e.code(), "AADSTS7000215");
        assert_eq!(e.trace_id.as_deref(), Some("abc"));
        assert!(!e.description.contains("Trace ID"));
    }

    #[test]
    fn html_is_not_mistaken_for_an_error_body() {
        let response = HttpResponse {
            status: 200,
            headers: Default::default(),
            body: b"<!DOCTYPE html><html>Sign in to Wi-Fi</html>".to_vec(),
            attempts: 1,
            gave_up: None,
        };
        assert!(matches!(parse_graph_error(&response, "h"), MicrosoftError::Net(NetError::HtmlInsteadOfJson { .. })));
    }
}
