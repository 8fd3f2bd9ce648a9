//! Field validation shared by the CLI, the saved-connection store and the app's inline checks.
//!
//! The app asks the core through a command as the user types, so there is one set of rules.

use serde::Serialize;
use uuid::Uuid;

/// A field that is wrong, named so a form can put the message under it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_string(), message: message.into() }
    }
}

/// Why provider settings are not usable: a field, or an endpoint URL.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Endpoint(#[from] crate::http::EndpointError),
}

impl SettingsError {
    /// The form field to show the message under.
    pub fn field(&self) -> String {
        match self {
            SettingsError::Field(f) => f.field.clone(),
            SettingsError::Endpoint(_) => "endpoint".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Error,
}

/// The verdict on one field as the user types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldCheck {
    pub level: Level,
    pub message: String,
}

impl FieldCheck {
    fn ok(message: impl Into<String>) -> Self {
        Self { level: Level::Ok, message: message.into() }
    }
    fn warn(message: impl Into<String>) -> Self {
        Self { level: Level::Warn, message: message.into() }
    }
    fn error(message: impl Into<String>) -> Self {
        Self { level: Level::Error, message: message.into() }
    }
}

/// A directory (tenant) as Entra ID names it: its GUID or one of its verified domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tenant(String);

impl Tenant {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let field = "tenant";
        if value.is_empty() {
            return Err(FieldError::new(
                field,
                "Enter the Directory (tenant) ID from the Entra admin center Overview page, or a verified domain such as contoso.onmicrosoft.com.",
            ));
        }
        let lower = value.to_ascii_lowercase();
        if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
            return Err(FieldError::new(
                field,
                format!("'{value}' is a multi-tenant alias, and app-only (client credentials) tokens need one specific directory. Enter your Directory (tenant) ID or a verified domain."),
            ));
        }
        if let Ok(id) = Uuid::parse_str(value) {
            return Ok(Self(id.hyphenated().to_string()));
        }
        if looks_like_broken_guid(value) {
            return Err(FieldError::new(
                field,
                "This looks like a tenant ID but is not a valid GUID (8-4-4-4-12 hexadecimal digits). Copy it again from Entra admin center → Overview → Tenant ID.",
            ));
        }
        if is_domain_name(&lower) {
            return Ok(Self(lower));
        }
        Err(FieldError::new(
            field,
            "Not a tenant ID or domain. Use the Directory (tenant) ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.",
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_guid(&self) -> bool {
        Uuid::parse_str(&self.0).is_ok()
    }
}

fn looks_like_broken_guid(value: &str) -> bool {
    let hexish = value.chars().filter(|c| c.is_ascii_hexdigit() || *c == '-').count();
    value.contains('-') && !value.contains('.') && hexish * 10 >= value.len() * 9 && value.len() >= 20
}

fn is_domain_name(value: &str) -> bool {
    let labels: Vec<&str> = value.split('.').collect();
    labels.len() >= 2
        && value.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()))
}

/// The Application (client) ID of an Entra app registration.
pub fn client_id(raw: &str) -> Result<Uuid, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(
            "clientId",
            "Enter the Application (client) ID from the app registration's Overview page.",
        ));
    }
    Uuid::parse_str(value).map_err(|_| {
        FieldError::new(
            "clientId",
            "The Application (client) ID is a GUID (8-4-4-4-12 hexadecimal digits). Copy it from Entra admin center → App registrations → your app → Overview.",
        )
    })
}

/// An email address (sender mailbox, user to act as, test recipient).
pub fn email(field: &str, raw: &str) -> Result<lettre::Address, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "Enter an email address."));
    }
    value
        .parse::<lettre::Address>()
        .map_err(|_| FieldError::new(field, format!("'{value}' is not a valid email address (expected name@domain).")))
}

/// A secret whose value is a GUID is almost always the secret's ID, copied from the wrong column.
pub fn secret_looks_like_secret_id(secret: &str) -> bool {
    Uuid::parse_str(secret.trim()).is_ok()
}

pub const SECRET_ID_WARNING: &str = "This looks like the secret's ID (a GUID), not its value. In Entra admin center → App registrations → your app → Certificates & secrets, copy the Value column (shown only right after you create the secret), not Secret ID.";

/// The inline check behind the app's form fields.
pub fn check_field(field: &str, value: &str) -> FieldCheck {
    match field {
        "tenant" => match Tenant::parse(value) {
            Ok(tenant) if tenant.is_guid() => FieldCheck::ok("Directory (tenant) ID"),
            Ok(_) => FieldCheck::ok("Verified domain"),
            Err(e) => FieldCheck::error(e.message),
        },
        "clientId" => match client_id(value) {
            Ok(_) => FieldCheck::ok("Application (client) ID"),
            Err(e) => FieldCheck::error(e.message),
        },
        "clientSecret" => {
            if value.trim().is_empty() {
                FieldCheck::error("Enter the client secret's Value.")
            } else if secret_looks_like_secret_id(value) {
                FieldCheck::warn(SECRET_ID_WARNING)
            } else if value.trim().len() < 16 {
                FieldCheck::warn("This is shorter than secrets Entra ID creates (about 40 characters). Check that you copied the whole Value.")
            } else {
                FieldCheck::ok("")
            }
        }
        "sender" | "recipient" => {
            if field == "recipient" && value.trim().is_empty() {
                return FieldCheck::ok("Optional: without it the checks stop before sending.");
            }
            match email(field, value) {
                Ok(_) => FieldCheck::ok(""),
                Err(e) => FieldCheck::error(e.message),
            }
        }
        "name" => {
            if value.trim().is_empty() {
                FieldCheck::error("Give the connection a name.")
            } else if value.trim().chars().count() > 80 {
                FieldCheck::error("Keep the name under 80 characters.")
            } else {
                FieldCheck::ok("")
            }
        }
        other => FieldCheck::error(format!("Unknown field '{other}'.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants() {
        assert!(Tenant::parse("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap().is_guid());
        assert_eq!(Tenant::parse(" Contoso.OnMicrosoft.com ").unwrap().as_str(), "contoso.onmicrosoft.com");
        assert!(Tenant::parse("common").unwrap_err().message.contains("multi-tenant"));
        assert!(Tenant::parse("organizations").is_err());
        assert!(Tenant::parse("72f988bf-86f1-41af-91ab-2d7cd011db4").unwrap_err().message.contains("GUID"));
        assert!(Tenant::parse("not a tenant").is_err());
        assert!(Tenant::parse("").is_err());
    }

    #[test]
    fn client_ids_and_emails() {
        assert!(client_id("00000000-0000-0000-0000-00000000000g").is_err());
        assert!(client_id("11111111-2222-3333-4444-555555555555").is_ok());
        assert!(email("sender", "helpdesk@contoso.com").is_ok());
        assert!(email("sender", "helpdesk").is_err());
    }

    #[test]
    fn secret_id_pasted_as_value_warns() {
        assert_eq!(check_field("clientSecret", "11111111-2222-3333-4444-555555555555").level, Level::Warn);
        assert_eq!(check_field("clientSecret", "Abc8Q~abcdefghijklmnopqrstuvwxyz0123456789").level, Level::Ok);
        assert_eq!(check_field("recipient", "").level, Level::Ok);
        assert_eq!(check_field("sender", "x").level, Level::Error);
    }
}
