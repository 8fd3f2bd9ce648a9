//! The emulated world: Entra ID tenants with their apps, credentials, consented permissions and
//! mailboxes, and Google Workspace domains with projects, service accounts, delegation grants and
//! users. A `Scenario` is plain data (JSON through serde); every provider error the emulator can
//! return is reached by putting the state that causes it here, never by a special switch.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Everything the emulator knows about both providers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub microsoft: MicrosoftScenario,
    pub google: GoogleScenario,
}

/// The Entra ID directories the token endpoint and Graph know.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MicrosoftScenario {
    pub tenants: Vec<Tenant>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tenant {
    /// Directory (tenant) ID, a GUID.
    pub id: String,
    pub display_name: String,
    /// Verified domains; the first is the one credentials files name.
    pub domains: Vec<String>,
    /// `global` (default), or the national cloud the tenant lives in (`usgov`, `china`, ...):
    /// any other value makes the global token endpoint answer AADSTS90038.
    pub cloud: String,
    pub apps: Vec<App>,
    pub mailboxes: Vec<Mailbox>,
    /// Client IDs a Conditional Access policy for workload identities blocks (AADSTS53003).
    pub conditional_access_blocked_apps: Vec<String>,
}

/// An app registration together with its service principal in the same tenant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct App {
    /// Application (client) ID, a GUID.
    pub client_id: String,
    pub display_name: String,
    pub secrets: Vec<ClientSecret>,
    pub certificates: Vec<AppCertificate>,
    /// Application permissions (app roles) an admin has consented to, such as `Mail.Send`.
    /// Only these appear in a token's `roles` claim.
    pub application_permissions: Vec<String>,
    /// Delegated permissions configured on the app; app-only tokens never carry them.
    pub delegated_permissions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSecret {
    /// The secret's ID (a GUID) as the portal shows it beside the value.
    pub id: String,
    pub value: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppCertificate {
    /// The public certificate (PEM) uploaded under Certificates & secrets.
    pub cert_pem: String,
    /// When the credential stops being accepted; `None` never expires.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mailbox {
    /// The user's object ID (GUID); Graph accepts it in place of the address.
    pub id: Option<String>,
    pub address: String,
    pub state: MailboxState,
    /// Client IDs an ApplicationAccessPolicy or RBAC for Applications scope keeps out.
    pub blocked_apps: Vec<String>,
}

/// Why Graph would refuse to treat an address as a usable mailbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailboxState {
    #[default]
    Enabled,
    Unlicensed,
    SoftDeleted,
    OnPremises,
    Guest,
}

/// The Google Cloud and Workspace side.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoogleScenario {
    /// Workspace domains whose users can be impersonated.
    pub domains: Vec<String>,
    pub projects: Vec<Project>,
    pub service_accounts: Vec<ServiceAccount>,
    /// Domain-wide delegation as the Admin Console holds it: numeric client ID -> granted scopes.
    pub delegations: BTreeMap<String, Vec<String>>,
    pub users: Vec<GoogleUser>,
    /// Client IDs an organisation policy blocks ("Requested client not authorized").
    pub blocked_clients: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Project {
    pub project_id: String,
    /// Project number (digits), which Google's error messages name instead of the ID.
    pub number: String,
    pub gmail_api_enabled: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceAccount {
    pub client_email: String,
    /// Numeric OAuth client ID, the one pasted into the domain-wide delegation page.
    pub client_id: String,
    pub project_id: String,
    /// Key ID (40 hex digits); tokens must name it as `kid`.
    pub private_key_id: String,
    /// PKCS#8 PEM. When absent (and no `public_key_pem` is given) a 2048-bit key is generated
    /// at start, so a scenario file need not carry a private key.
    pub private_key_pem: Option<String>,
    /// Only the public half, for keys whose private part stays with the client under test.
    pub public_key_pem: Option<String>,
    /// The key was deleted in the Cloud console: signatures with it no longer verify.
    pub revoked: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoogleUser {
    pub address: String,
    pub gmail_enabled: bool,
    /// An admin restricted the account ("Account restricted").
    pub restricted: bool,
}

impl Default for GoogleUser {
    fn default() -> Self {
        GoogleUser { address: String::new(), gmail_enabled: true, restricted: false }
    }
}

/// Fixed identifiers of the built-in sandbox, so documentation, UI and tests can name them.
pub mod sandbox {
    pub const TENANT_ID: &str = "7d3b6c2e-4f1a-4b8e-9c5d-2a6f8e1b3c4d";
    pub const TENANT_NAME: &str = "Contoso Sandbox";
    pub const TENANT_DOMAIN: &str = "contoso-sandbox.onmicrosoft.com";
    pub const APP_CLIENT_ID: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
    pub const APP_NAME: &str = "Mailwire Sandbox Sender";
    pub const APP_SECRET_ID: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
    pub const APP_SECRET: &str = "Mws8Q~Sandbox.Secret-Value_0123456789abcdEF";
    pub const UNCONSENTED_CLIENT_ID: &str = "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
    pub const UNCONSENTED_NAME: &str = "Mailwire Sandbox (no admin consent)";
    pub const UNCONSENTED_SECRET_ID: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    pub const UNCONSENTED_SECRET: &str = "NoC8Q~Sandbox.NoConsent_0123456789abcdEF";
    pub const MS_SENDER: &str = "helpdesk@contoso-sandbox.onmicrosoft.com";
    pub const MS_SENDER_ID: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
    pub const MS_RECIPIENT: &str = "it-team@contoso-sandbox.onmicrosoft.com";
    pub const MS_RECIPIENT_ID: &str = "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b";

    pub const GOOGLE_DOMAIN: &str = "example-sandbox.com";
    pub const PROJECT_ID: &str = "mailwire-sandbox";
    pub const PROJECT_NUMBER: &str = "401234567890";
    pub const SA_EMAIL: &str = "mailwire-sender@mailwire-sandbox.iam.gserviceaccount.com";
    pub const SA_CLIENT_ID: &str = "104857600000000000001";
    pub const SA_KEY_ID: &str = "5f1e0c9a7b3d2e4f6a8b0c1d2e3f4a5b6c7d8e9f";
    pub const SA_UNDELEGATED_EMAIL: &str = "mailwire-undelegated@mailwire-sandbox.iam.gserviceaccount.com";
    pub const SA_UNDELEGATED_CLIENT_ID: &str = "104857600000000000002";
    pub const SA_UNDELEGATED_KEY_ID: &str = "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b";
    pub const GOOGLE_SENDER: &str = "helpdesk@example-sandbox.com";
    pub const GOOGLE_RECIPIENT: &str = "it-team@example-sandbox.com";
    pub const GMAIL_SCOPE: &str = "https://mail.google.com/";
}

impl Scenario {
    /// The built-in sandbox: one Microsoft app that works and one without admin consent, one
    /// Google service account with delegation and one without. Secrets are valid for a year from
    /// now; service account keys are generated when an emulator starts.
    pub fn sandbox() -> Scenario {
        use sandbox::*;
        let year = Utc::now() + Duration::days(365);
        let secret = |id: &str, value: &str| ClientSecret { id: id.into(), value: value.into(), expires_at: year };
        let mailbox = |id: &str, address: &str| Mailbox {
            id: Some(id.into()),
            address: address.into(),
            state: MailboxState::Enabled,
            blocked_apps: vec![],
        };
        let tenant = Tenant {
            id: TENANT_ID.into(),
            display_name: TENANT_NAME.into(),
            domains: vec![TENANT_DOMAIN.into()],
            cloud: "global".into(),
            apps: vec![
                App {
                    client_id: APP_CLIENT_ID.into(),
                    display_name: APP_NAME.into(),
                    secrets: vec![secret(APP_SECRET_ID, APP_SECRET)],
                    certificates: vec![],
                    application_permissions: vec!["Mail.Send".into()],
                    delegated_permissions: vec!["User.Read".into()],
                },
                App {
                    client_id: UNCONSENTED_CLIENT_ID.into(),
                    display_name: UNCONSENTED_NAME.into(),
                    secrets: vec![secret(UNCONSENTED_SECRET_ID, UNCONSENTED_SECRET)],
                    certificates: vec![],
                    application_permissions: vec![],
                    delegated_permissions: vec!["User.Read".into()],
                },
            ],
            mailboxes: vec![mailbox(MS_SENDER_ID, MS_SENDER), mailbox(MS_RECIPIENT_ID, MS_RECIPIENT)],
            conditional_access_blocked_apps: vec![],
        };
        let account = |email: &str, client_id: &str, key_id: &str| ServiceAccount {
            client_email: email.into(),
            client_id: client_id.into(),
            project_id: PROJECT_ID.into(),
            private_key_id: key_id.into(),
            private_key_pem: None,
            public_key_pem: None,
            revoked: false,
        };
        let user = |address: &str| GoogleUser { address: address.into(), ..GoogleUser::default() };
        Scenario {
            microsoft: MicrosoftScenario { tenants: vec![tenant] },
            google: GoogleScenario {
                domains: vec![GOOGLE_DOMAIN.into()],
                projects: vec![Project {
                    project_id: PROJECT_ID.into(),
                    number: PROJECT_NUMBER.into(),
                    gmail_api_enabled: true,
                }],
                service_accounts: vec![
                    account(SA_EMAIL, SA_CLIENT_ID, SA_KEY_ID),
                    account(SA_UNDELEGATED_EMAIL, SA_UNDELEGATED_CLIENT_ID, SA_UNDELEGATED_KEY_ID),
                ],
                delegations: BTreeMap::from([(SA_CLIENT_ID.to_string(), vec![GMAIL_SCOPE.to_string()])]),
                users: vec![user(GOOGLE_SENDER), user(GOOGLE_RECIPIENT)],
                blocked_clients: vec![],
            },
        }
    }

    /// Reads a scenario from JSON text.
    pub fn from_json(text: &str) -> anyhow::Result<Scenario> {
        let scenario: Scenario = serde_json::from_str(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Rejects identifiers the real services could never hold, so a typo in a scenario file
    /// shows up at start instead of as a puzzling provider error later.
    pub fn validate(&self) -> anyhow::Result<()> {
        for tenant in &self.microsoft.tenants {
            anyhow::ensure!(is_guid(&tenant.id), "tenant id {:?} is not a GUID", tenant.id);
            for app in &tenant.apps {
                anyhow::ensure!(
                    is_guid(&app.client_id),
                    "client_id {:?} in tenant {} is not a GUID",
                    app.client_id,
                    tenant.id
                );
            }
            for mailbox in &tenant.mailboxes {
                anyhow::ensure!(mailbox.address.contains('@'), "mailbox address {:?} has no @", mailbox.address);
            }
        }
        for account in &self.google.service_accounts {
            anyhow::ensure!(
                !account.client_id.is_empty() && account.client_id.bytes().all(|b| b.is_ascii_digit()),
                "service account {} has a client_id that is not numeric",
                account.client_email
            );
            anyhow::ensure!(
                account.client_email.contains('@'),
                "service account client_email {:?} has no @",
                account.client_email
            );
        }
        Ok(())
    }

    pub(crate) fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.microsoft.tenants.iter().find(|t| {
            t.id.eq_ignore_ascii_case(id_or_domain) || t.domains.iter().any(|d| d.eq_ignore_ascii_case(id_or_domain))
        })
    }

    pub(crate) fn service_account(&self, client_email: &str) -> Option<&ServiceAccount> {
        self.google.service_accounts.iter().find(|a| a.client_email.eq_ignore_ascii_case(client_email))
    }

    pub(crate) fn google_user(&self, address: &str) -> Option<&GoogleUser> {
        self.google.users.iter().find(|u| u.address.eq_ignore_ascii_case(address))
    }

    pub(crate) fn project(&self, project_id: &str) -> Option<&Project> {
        self.google.projects.iter().find(|p| p.project_id == project_id)
    }
}

impl Tenant {
    pub(crate) fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }

    /// Graph resolves a user by UPN or object ID.
    pub(crate) fn mailbox(&self, id_or_address: &str) -> Option<&Mailbox> {
        self.mailboxes.iter().find(|m| {
            m.address.eq_ignore_ascii_case(id_or_address)
                || m.id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(id_or_address))
        })
    }
}

/// The hyphenated 8-4-4-4-12 form Entra ID uses everywhere.
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}
