//! The diagnosis catalogue: every provider error Mailwire knows, in plain words, with the fix.
//!
//! Each entry turns a provider's code (an AADSTS number, a Graph code, an OAuth error, a Google
//! reason) or a network failure into a [`Finding`]: a title a helpdesk person understands, numbered
//! steps naming the console page and field to change, the provider's own code, and links to the
//! right console pages. Links only ever point at the consoles in [`CONSOLE_HOSTS`].

use serde::{Deserialize, Serialize};

use crate::certificate::CertificateFacts;
use crate::google::{GoogleContext, GoogleError};
use crate::http::NetError;
use crate::microsoft::{MicrosoftError, MicrosoftSettings};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub title: String,
    pub code: Option<String>,
    pub fix: Vec<String>,
    pub links: Vec<String>,
}

impl Finding {
    fn new(title: impl Into<String>, code: Option<String>, fix: Vec<String>, links: Vec<String>) -> Self {
        Self { title: title.into(), code, fix, links }
    }

    pub fn note(title: impl Into<String>) -> Self {
        Self::new(title, None, Vec::new(), Vec::new())
    }
}

/// Hosts the app may open in the browser: the provider consoles and their documentation.
pub const CONSOLE_HOSTS: &[&str] = &[
    "entra.microsoft.com",
    "entra.microsoft.us",
    "portal.azure.com",
    "portal.azure.us",
    "portal.azure.cn",
    "admin.microsoft.com",
    "admin.exchange.microsoft.com",
    "learn.microsoft.com",
    "admin.google.com",
    "console.cloud.google.com",
    "support.google.com",
    "developers.google.com",
];

/// True for https links to a provider console; everything else stays closed.
pub fn is_console_link(link: &str) -> bool {
    url::Url::parse(link)
        .map(|url| url.scheme() == "https" && url.host_str().is_some_and(|host| CONSOLE_HOSTS.contains(&host)))
        .unwrap_or(false)
}

/// The fix for every clock-skew diagnosis, on each desktop OS.
pub const SYNC_CLOCK: &str = "Set this computer's clock to synchronise automatically (Windows: Settings → Time & language → Sync now; macOS: Date & Time → Set automatically; Linux: timedatectl set-ntp true).";

fn steps(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

// ---------------------------------------------------------------- Microsoft

fn app_blade(portal: &str, client_id: &str, section: &str) -> String {
    format!("{portal}/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/{section}/appId/{client_id}")
}

fn app_registrations(portal: &str) -> String {
    format!("{portal}/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade")
}

fn tenant_overview(portal: &str) -> String {
    format!("{portal}/#view/Microsoft_AAD_IAM/TenantOverview.ReactView")
}

const EXCHANGE_MAILBOXES: &str = "https://admin.exchange.microsoft.com/#/mailboxes";
const M365_USERS: &str = "https://admin.microsoft.com/#/users";
const RBAC_FOR_APPS_DOC: &str = "https://learn.microsoft.com/exchange/permissions-exo/application-rbac";

pub fn missing_client_secret(portal: &str, client_id: &str) -> Finding {
    Finding::new(
        "No client secret is available for this connection",
        Some("missing-secret".into()),
        steps(&[
            "In the Entra admin center open App registrations → your app → Certificates & secrets.",
            "Under Client secrets choose New client secret, pick an expiry, and Add.",
            "Copy the Value column right away (it is shown only once) and paste it into Mailwire's Client secret field.",
        ]),
        vec![app_blade(portal, client_id, "Credentials")],
    )
}

pub fn missing_certificate_key(portal: &str, client_id: &str) -> Finding {
    Finding::new(
        "The certificate's private key is not in the system keychain",
        Some("missing-certificate-key".into()),
        steps(&[
            "Edit the connection in Mailwire and choose Use existing files… under Certificate to read the certificate and its key again.",
            "If the key is lost, choose Create a new one, save it with Save certificate for Entra…, and upload it under App registrations → your app → Certificates & secrets → Certificates.",
        ]),
        vec![app_blade(portal, client_id, "Credentials")],
    )
}

/// An expired certificate, or one about to expire: renewing is the same either way.
pub fn certificate_renewal(portal: &str, client_id: &str, facts: &CertificateFacts, expired: bool) -> Finding {
    let date = facts.not_after.format("%Y-%m-%d");
    let (title, code) = if expired {
        (format!("The app's certificate expired on {date}"), "certificate-expired")
    } else {
        (format!("The app's certificate expires on {date}; renew it before then"), "certificate-expiring")
    };
    Finding::new(
        title,
        Some(code.into()),
        vec![
            "Edit the connection in Mailwire and choose Create a new one under Certificate (or use the renewed certificate's files).".into(),
            "Choose Save certificate for Entra…, then in the Entra admin center open App registrations → your app → Certificates & secrets → Certificates → Upload certificate and pick that file.".into(),
            format!("Once the new one works, delete the old certificate (thumbprint {}) from that list.", facts.thumbprint),
        ],
        vec![app_blade(portal, client_id, "Credentials")],
    )
}

/// Where to look for the certificate Entra refused, by the thumbprint the admin center lists.
pub fn add_certificate_thumbprint(finding: &mut Finding, facts: &CertificateFacts) {
    if matches!(finding.code.as_deref(), Some("AADSTS700027" | "AADSTS50012")) {
        let at = finding.fix.len().min(1);
        finding.fix.insert(
            at,
            format!(
                "Look for thumbprint {} in the list: it is the certificate Mailwire signs with. If it is missing, choose Upload certificate and pick the file Mailwire saved (Save certificate for Entra…).",
                facts.thumbprint
            ),
        );
    }
}

pub fn secret_id_instead_of_value(portal: &str, client_id: &str) -> Finding {
    Finding::new(
        "The client secret looks like the secret's ID, not its value",
        Some("secret-id-as-value".into()),
        steps(&[
            "In the Entra admin center open App registrations → your app → Certificates & secrets.",
            "Copy the Value column, not the Secret ID column. If the value is hidden, create a new client secret and copy its Value at once.",
            "Paste it into Mailwire's Client secret field and run the checks again.",
        ]),
        vec![app_blade(portal, client_id, "Credentials")],
    )
}

pub fn mail_send_not_consented(portal: &str, client_id: &str, code: &str) -> Finding {
    Finding::new(
        "The app does not have the Mail.Send application permission with admin consent",
        Some(code.into()),
        steps(&[
            "In the Entra admin center open App registrations → your app → API permissions.",
            "Choose Add a permission → Microsoft Graph → Application permissions (not Delegated) → Mail.Send → Add permissions.",
            "Choose Grant admin consent for your organisation (needs a Global or Privileged Role Administrator) and confirm; the status must show a green 'Granted'.",
            "Run the checks again: Mailwire fetches a new token, because a token issued before consent keeps its old permissions.",
        ]),
        vec![app_blade(portal, client_id, "CallAnAPI")],
    )
}

/// Graph answers `ErrorAccessDenied` when the token has app roles but not Mail.Send: typically
/// Mail.Send was added as a Delegated permission.
pub fn mail_send_delegated_only(portal: &str, client_id: &str) -> Finding {
    Finding::new(
        "Access denied: Mail.Send is not granted as an Application permission",
        Some("ErrorAccessDenied".into()),
        steps(&[
            "In the Entra admin center open App registrations → your app → API permissions.",
            "Look at the Type column of Mail.Send: it must say Application. A Delegated Mail.Send does not work for sending without a signed-in user.",
            "Choose Add a permission → Microsoft Graph → Application permissions → Mail.Send → Add permissions, then Grant admin consent.",
            "Run the checks again: Mailwire fetches a new token with the new permission.",
        ]),
        vec![app_blade(portal, client_id, "CallAnAPI")],
    )
}

/// The detail of a failed send; when the request may have reached the provider, it says so.
pub fn describe_send_failure(description: String, net: Option<&NetError>) -> String {
    match net {
        Some(e) if e.delivery_uncertain() => format!(
            "{description} The message may still have been delivered: Mailwire did not send it again, to avoid a duplicate."
        ),
        _ => description,
    }
}

/// A one-line description of a Microsoft failure for the step's detail, with trace IDs kept.
pub fn describe_microsoft(error: &MicrosoftError) -> String {
    match error {
        MicrosoftError::Token(e) => {
            let trace = e.trace_line();
            if trace.is_empty() {
                format!("Entra ID refused the token request (HTTP {}, {}): {}", e.status, e.error, e.description)
            } else {
                format!(
                    "Entra ID refused the token request (HTTP {}, {}): {} [{trace}]",
                    e.status, e.error, e.description
                )
            }
        }
        MicrosoftError::Graph(e) => {
            let mut text = format!("Microsoft Graph answered HTTP {} {}: {}", e.status, e.code, e.message);
            let trace = e.trace_line();
            if !trace.is_empty() {
                text.push_str(&format!(" [{trace}]"));
            }
            if let Some(gave_up) = &e.gave_up {
                text.push_str(&format!(" Mailwire {gave_up}."));
            }
            text
        }
        MicrosoftError::Net(e) => e.to_string(),
        MicrosoftError::Certificate(e) => format!("The certificate credential could not be used: {e}"),
    }
}

/// The finding for any Microsoft failure.
pub fn microsoft(error: &MicrosoftError, settings: &MicrosoftSettings) -> Finding {
    let portal = settings.cloud.portal();
    let client_id = settings.client_id.to_string();
    match error {
        MicrosoftError::Net(e) => network(e),
        MicrosoftError::Certificate(detail) => Finding::new(
            "The certificate credential cannot be used",
            Some("certificate".into()),
            vec![
                format!("Mailwire could not use the certificate or key: {detail}."),
                "Use the PEM certificate you uploaded under App registrations → your app → Certificates & secrets → Certificates, and its matching RSA private key in PEM form.".into(),
            ],
            vec![app_blade(portal, &client_id, "Credentials")],
        ),
        MicrosoftError::Token(e) => entra_token(e, settings, portal, &client_id),
        MicrosoftError::Graph(e) => graph(e, settings, portal, &client_id),
    }
}

fn entra_token(
    e: &crate::microsoft::EntraError,
    settings: &MicrosoftSettings,
    portal: &str,
    client_id: &str,
) -> Finding {
    let code = Some(e.code());
    let tenant = settings.tenant.as_str();
    match e.aadsts {
        Some(900023) => Finding::new(
            "The tenant ID is not in a valid form",
            code,
            steps(&[
                "In the Entra admin center open Overview and copy the Tenant ID (a GUID), or use a verified domain such as contoso.onmicrosoft.com.",
                "Paste it into Mailwire's Tenant field without spaces or extra characters.",
            ]),
            vec![tenant_overview(portal)],
        ),
        Some(90002) => Finding::new(
            format!("Microsoft cannot find the tenant '{tenant}' in the {} cloud", settings.cloud.label()),
            code,
            vec![
                "Check the Tenant ID: Entra admin center → Overview → Tenant ID. A typo gives this error.".into(),
                "If you used a domain, it must be a verified domain of the tenant (Entra admin center → Settings → Domain names).".into(),
                "If the organisation is on a national cloud (US Government or China), pick that cloud in Mailwire's Cloud setting.".into(),
            ],
            vec![tenant_overview(portal)],
        ),
        Some(90038) => Finding::new(
            "This tenant belongs to a national cloud",
            code,
            steps(&[
                "Pick the tenant's cloud in Mailwire's Cloud setting: US Government (GCC High), US Government (DoD), or China (21Vianet).",
                "Run the checks again; tokens of one cloud cannot be used in another.",
            ]),
            vec![],
        ),
        Some(700016) => Finding::new(
            "No app with this client ID exists in this tenant",
            code,
            vec![
                "In the Entra admin center open App registrations → All applications and find the app.".into(),
                "Copy its Application (client) ID from Overview into Mailwire's Client ID field.".into(),
                format!("Make sure the app is registered in tenant '{tenant}': an app from another tenant is not found here."),
            ],
            vec![app_registrations(portal)],
        ),
        Some(7000215) => Finding::new(
            "The client secret is wrong",
            code,
            steps(&[
                "In the Entra admin center open App registrations → your app → Certificates & secrets.",
                "Check that you copied the Value column, not the Secret ID: the ID is a GUID and is very often pasted by mistake.",
                "If the value is no longer shown, choose New client secret and copy its Value right away.",
                "Paste it into Mailwire (Replace the stored secret) and run the checks again.",
            ]),
            vec![app_blade(portal, client_id, "Credentials")],
        ),
        Some(7000222) => Finding::new(
            "The client secret has expired",
            code,
            steps(&[
                "In the Entra admin center open App registrations → your app → Certificates & secrets.",
                "Choose New client secret, pick an expiry, and copy its Value right away.",
                "Replace the secret in Mailwire, and in every application that uses it; then delete the expired secret.",
            ]),
            vec![app_blade(portal, client_id, "Credentials")],
        ),
        Some(7000218) | Some(900144) => Finding::new(
            "The token request lacked a required value",
            code,
            steps(&[
                "Make sure the connection has a client secret (or certificate) stored.",
                "If it does, the request was altered on the way: a proxy may strip the form body. Try without the proxy.",
            ]),
            vec![app_blade(portal, client_id, "Credentials")],
        ),
        Some(1002012) | Some(70011) => Finding::new(
            "The requested scope is not valid",
            code,
            vec![
                format!("App-only tokens must ask for '{}' (the Graph root of the same cloud followed by /.default).", settings.scope()),
                "If you set a custom Graph URL, check that it matches the cloud of the tenant.".into(),
            ],
            vec![],
        ),
        Some(500011) => Finding::new(
            "Microsoft Graph is not available in this tenant for this cloud",
            code,
            steps(&[
                "Check Mailwire's Cloud setting: the Graph root must belong to the same cloud as the tenant.",
                "If you use custom endpoints, use the Graph URL of the tenant's cloud.",
            ]),
            vec![],
        ),
        Some(700024) => Finding::new(
            "This computer's clock is off, so the certificate assertion is outside its time window",
            code,
            steps(&[
                SYNC_CLOCK,
                "Run the checks again.",
            ]),
            vec![],
        ),
        Some(700027) | Some(50012) => Finding::new(
            "Entra ID does not accept the certificate's signature",
            code,
            steps(&[
                "In the Entra admin center open App registrations → your app → Certificates & secrets → Certificates.",
                "Check that the certificate Mailwire uses is listed there (compare thumbprints) and has not expired; upload it if not.",
                "Make sure the private key belongs to that certificate.",
            ]),
            vec![app_blade(portal, client_id, "Credentials")],
        ),
        Some(53003) => Finding::new(
            "A Conditional Access policy blocks this app",
            code,
            steps(&[
                "In the Entra admin center open Protection → Conditional Access → Policies and find the policy that applies to workload identities or this app.",
                "Exclude this app's service principal, or allow this computer's network location.",
                "Ask your identity administrator if you cannot change policies; give them the Trace ID and Correlation ID from this report.",
            ]),
            vec![format!("{portal}/#view/Microsoft_AAD_ConditionalAccess/ConditionalAccessBlade/~/Policies")],
        ),
        _ => Finding::new(
            format!("Entra ID refused the token request: {}", e.error),
            code,
            vec![
                format!("Entra ID said: {}", e.description),
                "Search the error code on Microsoft Learn, or give the Trace ID and Correlation ID from this report to Microsoft support.".into(),
            ],
            vec![format!("https://learn.microsoft.com/entra/identity-platform/reference-error-codes")],
        ),
    }
}

fn graph(e: &crate::microsoft::GraphError, settings: &MicrosoftSettings, portal: &str, client_id: &str) -> Finding {
    let code = Some(e.code.clone());
    let sender = settings.sender.to_string();
    match e.code.as_str() {
        "NoPermissionsInAccessToken" => {
            let mut finding = mail_send_not_consented(portal, client_id, "NoPermissionsInAccessToken");
            finding.title = "The token carries no permissions: admin consent for Mail.Send is missing".into();
            finding
        }
        "ErrorAccessDenied" if e.message.contains("OData") => Finding::new(
            format!("Exchange Online blocks this app from the mailbox {sender}"),
            code,
            vec![
                "An Exchange ApplicationAccessPolicy or an RBAC for Applications scope limits which mailboxes this app may use.".into(),
                format!("Check it in Exchange Online PowerShell: Test-ApplicationAccessPolicy -Identity {sender} -AppId {client_id} (older policies) or Test-ServicePrincipalAuthorization -Identity {client_id} -Resource {sender} (RBAC for Applications)."),
                format!("To allow it with RBAC for Applications: New-ServicePrincipal -AppId {client_id} -ObjectId <enterprise app object ID> -DisplayName Mailwire, then New-ManagementRoleAssignment -App {client_id} -Role \"Application Mail.Send\" -CustomResourceScope <scope containing {sender}>."),
                "With the older policy, add the mailbox to the mail-enabled security group the ApplicationAccessPolicy names (Set-ApplicationAccessPolicy / Exchange admin center → Recipients → Groups).".into(),
                "Changes can take up to an hour to apply; run the checks again later.".into(),
            ],
            vec![RBAC_FOR_APPS_DOC.into(), EXCHANGE_MAILBOXES.into()],
        ),
        "ErrorAccessDenied" => mail_send_delegated_only(portal, client_id),
        "ErrorInvalidUser" | "ResourceNotFound" | "Request_ResourceNotFound" => Finding::new(
            format!("The sender mailbox {sender} does not exist in this tenant"),
            code,
            vec![
                "Check the spelling of the sender address: use the user's primary address or user principal name.".into(),
                "Find the mailbox in the Microsoft 365 admin center → Users → Active users, or Exchange admin center → Recipients → Mailboxes.".into(),
                "A mailbox of another tenant cannot be used with this app.".into(),
            ],
            vec![M365_USERS.into(), EXCHANGE_MAILBOXES.into()],
        ),
        "MailboxNotEnabledForRESTAPI" | "MailboxNotSupportedForRESTAPI" => Finding::new(
            format!("The mailbox {sender} cannot be used through Graph"),
            code,
            steps(&[
                "The user may have no Exchange Online licence: Microsoft 365 admin center → Users → Active users → the user → Licenses and apps → assign a licence that includes Exchange Online.",
                "The mailbox may be on-premises (hybrid), soft-deleted, or the user a guest: use a cloud mailbox of the tenant instead.",
                "A new licence can take a while to create the mailbox; run the checks again later.",
            ]),
            vec![M365_USERS.into()],
        ),
        "ErrorInvalidRecipients" => Finding::new(
            "Graph refused the test recipient",
            code,
            steps(&["Check the test recipient's address and try again."]),
            vec![],
        ),
        "InvalidAuthenticationToken" => Finding::new(
            "Graph did not accept the token",
            code,
            steps(&[
                "The token was issued for another cloud or service: check Mailwire's Cloud setting and any custom Graph URL.",
                "Run the checks again to fetch a new token.",
            ]),
            vec![],
        ),
        _ if e.status == 429 => Finding::new(
            "Microsoft Graph is throttling requests for this mailbox",
            code,
            steps(&[
                "Wait a minute and run the check again; Outlook allows 4 requests at a time per app and mailbox.",
                "If other applications send from this mailbox right now, they share the same limit.",
            ]),
            vec![],
        ),
        _ if e.status >= 500 => Finding::new(
            "Microsoft Graph had a temporary problem",
            code,
            vec![
                "Try again in a few minutes.".into(),
                "If it persists, check the Microsoft 365 service health page and give the request-id from this report to Microsoft support.".into(),
            ],
            vec!["https://admin.microsoft.com/#/servicehealth".into()],
        ),
        _ => Finding::new(
            format!("Microsoft Graph refused the request ({})", e.code),
            code,
            vec![format!("Graph said: {}", e.message), "Give the request-id from this report to Microsoft support if the message does not say what to change.".into()],
            vec![],
        ),
    }
}

// ---------------------------------------------------------------- Google

pub const ADMIN_API_CONTROLS: &str = "https://admin.google.com/ac/owl";

/// The Admin Console page that adds a domain-wide delegation entry, prefilled.
pub fn delegation_url(client_id: &str, scopes: &[String]) -> String {
    let mut url = url::Url::parse("https://admin.google.com/ac/owl/domainwidedelegation").expect("static URL");
    url.query_pairs_mut()
        .append_pair("clientIdToAdd", client_id)
        .append_pair("clientScopeToAdd", &scopes.join(","))
        .append_pair("overwriteClientId", "true");
    url.to_string()
}

pub fn gmail_api_url(project_id: &str) -> String {
    format!("https://console.cloud.google.com/apis/library/gmail.googleapis.com?project={project_id}")
}

fn service_account_keys_url(project_id: &str) -> String {
    format!("https://console.cloud.google.com/iam-admin/serviceaccounts?project={project_id}")
}

pub fn delegation_steps(context: &GoogleContext) -> Vec<String> {
    vec![
        "Sign in to the Google Admin console (admin.google.com) as a super administrator.".into(),
        "Go to Security → Access and data control → API controls → Manage domain-wide delegation.".into(),
        format!("Choose Add new (or edit the entry whose Client ID is {}).", context.client_id),
        format!("Client ID: {}", context.client_id),
        format!("OAuth scopes: {}", context.scopes.join(",")),
        "Choose Authorize. Changes usually apply within minutes but can take up to 24 hours; run the checks again later.".into(),
    ]
}

pub fn describe_google(error: &GoogleError) -> String {
    match error {
        GoogleError::Token(e) => {
            format!("Google's token endpoint refused (HTTP {}, {}): {}", e.status, e.error, e.description)
        }
        GoogleError::Api(e) => {
            let mut text = format!("The Gmail API answered HTTP {} {}: {}", e.status, e.code(), e.message);
            if let Some(gave_up) = &e.gave_up {
                text.push_str(&format!(" Mailwire {gave_up}."));
            }
            text
        }
        GoogleError::Net(e) => e.to_string(),
        GoogleError::Signing(e) => format!("The service account key could not sign the request: {e}"),
    }
}

pub fn google(error: &GoogleError, context: &GoogleContext) -> Finding {
    match error {
        GoogleError::Net(e) => network(e),
        GoogleError::Signing(detail) => Finding::new(
            "The service account key cannot sign requests",
            Some("bad-key".into()),
            vec![
                format!("The private key in the key file could not be used: {detail}."),
                "Create a new JSON key: Google Cloud console → IAM & Admin → Service accounts → your account → Keys → Add key → Create new key → JSON, then import it in Mailwire.".into(),
            ],
            vec![service_account_keys_url(&context.project_id)],
        ),
        GoogleError::Token(e) => google_token(e, context),
        GoogleError::Api(e) => gmail(e, context),
    }
}

fn google_token(e: &crate::google::GoogleTokenError, context: &GoogleContext) -> Finding {
    let code = Some(e.error.clone());
    let description = e.description.to_ascii_lowercase();
    match e.error.as_str() {
        "unauthorized_client" => Finding::new(
            format!("Domain-wide delegation is not set up for client ID {} with these scopes", context.client_id),
            code,
            delegation_steps(context),
            vec![delegation_url(&context.client_id, &context.scopes)],
        ),
        "invalid_grant" if description.contains("signature") => Finding::new(
            "Google no longer accepts this key: it was deleted or rotated",
            code,
            vec![
                format!("Open Google Cloud console → IAM & Admin → Service accounts → {} → Keys.", context.client_email),
                "Check that the key ID Mailwire shows is still listed. If not, choose Add key → Create new key → JSON.".into(),
                "Import the new key file in Mailwire (Replace key…). Keep the file safe: Google lets you download it only once.".into(),
            ],
            vec![service_account_keys_url(&context.project_id)],
        ),
        "invalid_grant" if description.contains("short-lived") || description.contains("timeframe") || description.contains("iat") || description.contains("exp") => {
            Finding::new(
                "This computer's clock is off, so Google rejects the signed request",
                code,
                steps(&[
                    SYNC_CLOCK,
                    "Check the time zone too, then run the checks again.",
                ]),
                vec![],
            )
        }
        "invalid_grant" if description.contains("invalid email or user id") => Finding::new(
            format!("{} is not a user of the Google Workspace domain", context.user),
            code,
            vec![
                format!("Check the spelling of '{}': it must be an existing user (not a group or alias) in the Workspace domain whose Admin console holds the delegation.", context.user),
                "Find the user in the Admin console → Directory → Users.".into(),
            ],
            vec!["https://admin.google.com/ac/users".into()],
        ),
        "invalid_grant" | "invalid_request" if description.contains("not a valid email") || description.contains("impersonation") => Finding::new(
            format!("'{}' is not a valid user address", context.user),
            code,
            steps(&["Enter the full email address of the Workspace user to send as, e.g. helpdesk@yourdomain.com."]),
            vec![],
        ),
        "access_denied" => Finding::new(
            "An organisation policy blocks this service account",
            code,
            vec![
                format!("Google said: {}", e.description),
                "In the Admin console → Security → Access and data control → API controls → Manage third-party app access, make sure the app is not blocked.".into(),
                "If the account is restricted, check the user's status in Admin console → Directory → Users.".into(),
            ],
            vec![ADMIN_API_CONTROLS.into()],
        ),
        _ => Finding::new(
            format!("Google refused the token request ({})", e.error),
            code,
            vec![format!("Google said: {}", e.description)],
            vec![],
        ),
    }
}

fn gmail(e: &crate::google::GoogleApiError, context: &GoogleContext) -> Finding {
    let code = Some(e.code());
    let reasons = [e.detail_reason.as_deref(), e.reason.as_deref()];
    let has = |wanted: &str| reasons.iter().flatten().any(|r| r.eq_ignore_ascii_case(wanted));
    if has("SERVICE_DISABLED") || has("accessNotConfigured") {
        return Finding::new(
            format!("The Gmail API is not enabled in the project {}", context.project_id),
            code,
            vec![
                format!(
                    "Open Google Cloud console → APIs & Services → Library → Gmail API for project {}.",
                    context.project_id
                ),
                "Choose Enable.".into(),
                "Wait a few minutes for it to take effect, then run the checks again.".into(),
            ],
            vec![e
                .activation_url
                .clone()
                .filter(|u| is_console_link(u))
                .unwrap_or_else(|| gmail_api_url(&context.project_id))],
        );
    }
    if has("insufficientPermissions") || e.message.contains("insufficient authentication scopes") {
        return Finding::new(
            "The delegated scopes do not allow this Gmail request",
            code,
            vec![
                "The profile check needs https://mail.google.com/ (or gmail.readonly, gmail.modify, gmail.compose); gmail.send alone allows sending only.".into(),
                format!("In the Admin console → Security → API controls → Manage domain-wide delegation, edit client ID {} and add the scope, or choose the https://mail.google.com/ scope in Mailwire.", context.client_id),
            ],
            vec![delegation_url(&context.client_id, &context.scopes)],
        );
    }
    if e.message.to_ascii_lowercase().contains("mail service not enabled") {
        return Finding::new(
            format!("{} has no Gmail mailbox", context.user),
            code,
            vec![
                format!("In the Admin console → Directory → Users → {} check that the user has a Workspace licence that includes Gmail.", context.user),
                "In Admin console → Apps → Google Workspace → Gmail, check that Gmail is ON for the user's organisational unit.".into(),
                "A new licence can take a while to create the mailbox; run the checks again later.".into(),
            ],
            vec!["https://admin.google.com/ac/users".into(), "https://admin.google.com/ac/appslist/core".into()],
        );
    }
    if has("failedPrecondition") || e.status_text == "FAILED_PRECONDITION" {
        return Finding::new(
            "Gmail refused: the account to act as is not a Gmail user",
            code,
            vec![
                "Google answers 'Precondition check failed' when the request acts as the service account itself, or as a user without Gmail.".into(),
                format!("Check that the sender '{}' is a Workspace user with Gmail, and that domain-wide delegation is set up.", context.user),
            ],
            vec![delegation_url(&context.client_id, &context.scopes)],
        );
    }
    if has("rateLimitExceeded") || has("userRateLimitExceeded") || e.status == 429 {
        return Finding::new(
            "Gmail's quota for this user or project is used up for now",
            code,
            steps(&[
                "Wait a minute and run the checks again; each send costs 100 quota units.",
                "If it persists, check the project's Gmail API quotas in Google Cloud console → APIs & Services → Gmail API → Quotas.",
            ]),
            vec![gmail_api_url(&context.project_id)],
        );
    }
    if e.status >= 500 {
        return Finding::new(
            "Gmail had a temporary problem",
            code,
            steps(&["Try again in a few minutes; if it persists, check the Google Workspace Status Dashboard."]),
            vec![],
        );
    }
    Finding::new(
        format!("The Gmail API refused the request ({})", e.code()),
        code,
        vec![format!("Google said: {}", e.message)],
        vec![],
    )
}

// ---------------------------------------------------------------- network

pub fn network(error: &NetError) -> Finding {
    let code = Some(error.code().to_string());
    let fix: Vec<String> = match error {
        NetError::Dns { host } => vec![
            format!("Check that this computer can reach the internet and resolve {host}."),
            "If you set a custom endpoint, check its spelling.".into(),
            "Behind a corporate network, ask whether outbound HTTPS needs a proxy, and set it in settings.".into(),
        ],
        NetError::Refused { host } => vec![
            format!("Nothing accepted the connection at {host}. Check a custom endpoint's address and port."),
            "A firewall may block outbound HTTPS: ask your network team to allow it, or set the proxy your organisation uses.".into(),
        ],
        NetError::Timeout { .. } => vec![
            "Check the network connection and try again.".into(),
            "If your organisation uses a proxy, set it in settings; a firewall that silently drops traffic also causes this.".into(),
            "On a slow link, raise the timeout in settings (or --timeout).".into(),
        ],
        NetError::Tls { .. } => vec![
            "If your organisation inspects HTTPS traffic, export its root certificate (ask your network team) and set it as the CA file in settings or with --ca-file.".into(),
            "Otherwise something is intercepting the connection: check the proxy settings and the computer's date and time.".into(),
        ],
        NetError::ProxyAuth => vec!["Enter the proxy user name and password in settings (the password is kept in the system keychain).".into()],
        NetError::Proxy { .. } | NetError::BadProxy { .. } => vec!["Check the proxy address in settings or in HTTPS_PROXY, and that the proxy allows connections to the provider.".into()],
        NetError::Dropped { .. } => vec!["The connection broke off. Run the check again; if it keeps happening, a proxy or firewall may be cutting connections.".into()],
        NetError::HtmlInsteadOfJson { .. } => vec![
            "Open a browser and load any website: sign in to the network's login page if one appears (hotel, guest Wi-Fi).".into(),
            "If a proxy shows a block page, ask your network team to allow the provider's API hosts.".into(),
        ],
        NetError::Malformed { .. } | NetError::TooLarge { .. } => vec![
            "Something between this computer and the provider changed the answer, or a custom endpoint is not the provider's. Check the endpoint settings and any proxy.".into(),
        ],
        NetError::BadCaFile { .. } => vec!["Choose a PEM file with one or more '-----BEGIN CERTIFICATE-----' blocks (or a DER certificate) as the CA file.".into()],
        NetError::Other { .. } => vec!["Check the network connection and try again.".into()],
    };
    Finding::new(error.to_string(), code, fix, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_hosts_open() {
        assert!(is_console_link("https://entra.microsoft.com/#view/x"));
        assert!(is_console_link(&delegation_url("123", &["https://mail.google.com/".into()])));
        assert!(!is_console_link("http://entra.microsoft.com/"));
        assert!(!is_console_link("https://evil.example.com/entra.microsoft.com"));
        assert!(!is_console_link("javascript:alert(1)"));
        assert!(!is_console_link("file:///etc/passwd"));
    }

    #[test]
    fn delegation_link_is_prefilled() {
        let url = delegation_url("1234567890", &["https://mail.google.com/".into()]);
        assert!(url.starts_with("https://admin.google.com/ac/owl/domainwidedelegation?clientIdToAdd=1234567890&clientScopeToAdd=https%3A%2F%2Fmail.google.com%2F"));
        assert!(url.ends_with("overwriteClientId=true"));
    }
}
