//! What a client needs to talk to this emulator, in the shapes clients read: a Google service
//! account key file whose `token_uri` points here, and the Microsoft tenant, app, secret and
//! URLs as one JSON object. The binary writes these into its `--out` directory.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::microsoft::usable_secret;
use crate::scenario::{MailboxState, Scenario};

/// A Microsoft app's connection settings against this emulator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MicrosoftCredentials {
    pub tenant_id: String,
    /// The tenant's first verified domain.
    pub tenant_domain: String,
    pub client_id: String,
    /// The longest-lived unexpired secret's value; empty when the app has none.
    pub client_secret: String,
    /// The first enabled mailbox.
    pub sender: String,
    /// The next mailbox after the sender, or the sender itself.
    pub recipient: String,
    /// Authority host: the token endpoint is `{authority_host}/{tenant}/oauth2/v2.0/token`.
    pub authority_host: String,
    /// Graph root: sendMail is `{graph_url}/v1.0/users/{sender}/sendMail`.
    pub graph_url: String,
}

/// A Google service account's connection settings against this emulator (no private key:
/// that lives in the key file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoogleCredentials {
    pub client_email: String,
    pub client_id: String,
    pub project_id: String,
    pub private_key_id: String,
    /// The first Workspace domain.
    pub domain: String,
    /// The first user with Gmail.
    pub sender: String,
    /// The next user after the sender, or the sender itself.
    pub recipient: String,
    pub token_url: String,
    /// Gmail root: the API is under `{gmail_url}/gmail/v1/`.
    pub gmail_url: String,
}

/// Field order as Google's console writes key files.
#[derive(Serialize)]
struct KeyFile<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    project_id: &'a str,
    private_key_id: &'a str,
    private_key: &'a str,
    client_email: &'a str,
    client_id: &'a str,
    auth_uri: &'a str,
    token_uri: &'a str,
    auth_provider_x509_cert_url: &'a str,
    client_x509_cert_url: String,
    universe_domain: &'a str,
}

pub(crate) fn google_key_json(scenario: &Scenario, base_url: &str, client_email: &str) -> Option<String> {
    let account = scenario.service_account(client_email)?;
    let private_key = account.private_key_pem.as_deref()?;
    let token_uri = format!("{base_url}/token");
    let file = KeyFile {
        kind: "service_account",
        project_id: &account.project_id,
        private_key_id: &account.private_key_id,
        private_key,
        client_email: &account.client_email,
        client_id: &account.client_id,
        auth_uri: "https://accounts.google.com/o/oauth2/auth",
        token_uri: &token_uri,
        auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
        client_x509_cert_url: format!(
            "https://www.googleapis.com/robot/v1/metadata/x509/{}",
            account.client_email.replace('@', "%40")
        ),
        universe_domain: "googleapis.com",
    };
    serde_json::to_string_pretty(&file).ok()
}

/// The sender and the recipient after it, from a list of usable addresses.
fn pick_pair(addresses: Vec<&str>) -> (String, String) {
    let sender = addresses.first().copied().unwrap_or_default().to_string();
    let recipient = addresses.iter().find(|a| !a.eq_ignore_ascii_case(&sender)).copied().unwrap_or(&sender).to_string();
    (sender, recipient)
}

pub(crate) fn microsoft(scenario: &Scenario, base_url: &str, client_id: &str) -> Option<MicrosoftCredentials> {
    let tenant = scenario.microsoft.tenants.iter().find(|t| t.app(client_id).is_some())?;
    let app = tenant.app(client_id)?;
    let client_secret =
        usable_secret(app, Utc::now()).or_else(|| app.secrets.first().map(|s| s.value.clone())).unwrap_or_default();
    let (sender, recipient) = pick_pair(
        tenant.mailboxes.iter().filter(|m| m.state == MailboxState::Enabled).map(|m| m.address.as_str()).collect(),
    );
    Some(MicrosoftCredentials {
        tenant_id: tenant.id.clone(),
        tenant_domain: tenant.domains.first().cloned().unwrap_or_default(),
        client_id: app.client_id.clone(),
        client_secret,
        sender,
        recipient,
        authority_host: base_url.to_string(),
        graph_url: base_url.to_string(),
    })
}

pub(crate) fn google(scenario: &Scenario, base_url: &str, client_email: &str) -> Option<GoogleCredentials> {
    let account = scenario.service_account(client_email)?;
    let (sender, recipient) =
        pick_pair(scenario.google.users.iter().filter(|u| u.gmail_enabled).map(|u| u.address.as_str()).collect());
    Some(GoogleCredentials {
        client_email: account.client_email.clone(),
        client_id: account.client_id.clone(),
        project_id: account.project_id.clone(),
        private_key_id: account.private_key_id.clone(),
        domain: scenario.google.domains.first().cloned().unwrap_or_default(),
        sender,
        recipient,
        token_url: format!("{base_url}/token"),
        gmail_url: base_url.to_string(),
    })
}
