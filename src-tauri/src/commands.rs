//! The commands the webview may call. Each parses its arguments, calls the core, and returns a
//! DTO; errors cross as `{kind, message, field?}`. Nothing here returns a secret or a token.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use mailwire_core::certificate::{self, CertificateCredential, CertificateFacts, CertificateFile};
use mailwire_core::check::{Progress, Provider, Report, Step};
use mailwire_core::diagnose;
use mailwire_core::google::{self, GoogleInput, KeyFacts};
use mailwire_core::microsoft::{Cloud, MicrosoftInput};
use mailwire_core::profile::{self, GoogleProfile, LastCheck, Profile, ProfileError, ProviderSettings, RunOptions};
use mailwire_core::secret::{SecretKind, SecretStore, SecretString};
use mailwire_core::store::{self, NetworkSettings, StoreError};
use mailwire_core::validate::{self, FieldCheck};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::sandbox::Sandbox;
use crate::state::{lock, AppState};

/// What the front end gets when a command fails: a kind it may branch on and a sentence to show.
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl CommandError {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), field: None }
    }

    fn field(field: &str, message: impl Into<String>) -> Self {
        Self { kind: "validation", message: message.into(), field: Some(field.to_string()) }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NameTaken(_) => CommandError::field("name", e.to_string()),
            StoreError::NotFound(_) => CommandError::new("not_found", e.to_string()),
            _ => CommandError::new("storage", e.to_string()),
        }
    }
}

impl From<ProfileError> for CommandError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Invalid(message, field) => CommandError::field(&field, message),
            ProfileError::Secrets(e) => CommandError::new("keychain", e.to_string()),
        }
    }
}

impl From<mailwire_core::secret::SecretStoreError> for CommandError {
    fn from(e: mailwire_core::secret::SecretStoreError) -> Self {
        CommandError::new("keychain", e.to_string())
    }
}

type CommandResult<T> = Result<T, CommandError>;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummary {
    pub id: String,
    pub name: String,
    pub provider: Provider,
    pub sender: String,
    pub recipient: Option<String>,
    pub sandbox: bool,
    pub updated_at: DateTime<Utc>,
    pub last_check: Option<LastCheck>,
    /// When the certificate a Microsoft connection signs in with expires.
    pub certificate_expires: Option<DateTime<Utc>>,
    /// The certificate has expired or expires within the renewal window: the list warns.
    pub certificate_renewal_due: bool,
}

impl From<&Profile> for ProfileSummary {
    fn from(p: &Profile) -> Self {
        let certificate = match &p.settings {
            ProviderSettings::Microsoft(input) => {
                input.certificate.as_deref().and_then(|pem| certificate::facts(pem).ok())
            }
            ProviderSettings::Google(_) => None,
        };
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            provider: p.provider(),
            sender: p.sender.clone(),
            recipient: p.recipient.clone(),
            sandbox: p.sandbox,
            updated_at: p.updated_at,
            last_check: p.last_check.clone(),
            certificate_expires: certificate.as_ref().map(|facts| facts.not_after),
            certificate_renewal_due: certificate.is_some_and(|facts| facts.renewal_due(Utc::now())),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MicrosoftView {
    pub cloud: Cloud,
    pub tenant: String,
    pub client_id: String,
    pub credential: CredentialChoice,
    /// Whether the credential the connection signs in with is in the keychain.
    pub secret_stored: bool,
    pub client_secret_stored: bool,
    pub certificate_key_stored: bool,
    pub certificate: Option<CertificateFacts>,
}

/// How a Microsoft connection proves who it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialChoice {
    #[default]
    Secret,
    Certificate,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleView {
    pub key_stored: bool,
    pub key: Option<KeyFacts>,
    pub scopes: Vec<String>,
    pub delegation_url: String,
    pub gmail_api_url: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: String,
    pub name: String,
    pub provider: Provider,
    pub sandbox: bool,
    pub sender: String,
    pub recipient: Option<String>,
    pub microsoft: Option<MicrosoftView>,
    pub google: Option<GoogleView>,
}

fn view(state: &AppState, profile: &Profile) -> ProfileView {
    let has = |kind: SecretKind| state.secrets.get(&profile.id, kind).map(|s| s.is_some()).unwrap_or(false);
    let stored = profile.sandbox || has(profile.required_secret());
    let (microsoft, google) = match &profile.settings {
        ProviderSettings::Microsoft(input) => (
            Some(MicrosoftView {
                cloud: input.cloud,
                tenant: input.tenant.clone(),
                client_id: input.client_id.clone(),
                credential: if input.certificate.is_some() {
                    CredentialChoice::Certificate
                } else {
                    CredentialChoice::Secret
                },
                secret_stored: stored,
                client_secret_stored: profile.sandbox || has(SecretKind::ClientSecret),
                certificate_key_stored: has(SecretKind::CertificateKey),
                certificate: input.certificate.as_deref().and_then(|pem| certificate::facts(pem).ok()),
            }),
            None,
        ),
        ProviderSettings::Google(g) => (
            None,
            Some(GoogleView {
                key_stored: stored,
                key: Some(g.key.clone()),
                scopes: g.input.scopes.clone(),
                delegation_url: diagnose::delegation_url(&g.key.client_id, &g.input.scopes),
                gmail_api_url: diagnose::gmail_api_url(&g.key.project_id),
            }),
        ),
    };
    ProfileView {
        id: profile.id.clone(),
        name: profile.name.clone(),
        provider: profile.provider(),
        sandbox: profile.sandbox,
        sender: profile.sender.clone(),
        recipient: profile.recipient.clone(),
        microsoft,
        google,
    }
}

#[tauri::command]
pub fn list_profiles(state: State<'_, AppState>) -> CommandResult<Vec<ProfileSummary>> {
    profile_summaries(&state)
}

/// The connections list; a store recovered from its backup is logged, whoever asked first.
fn profile_summaries(state: &AppState) -> CommandResult<Vec<ProfileSummary>> {
    let loaded = state.store.load()?;
    if let Some(warning) = loaded.recovered {
        tracing::warn!("{warning}");
    }
    Ok(loaded.profiles.iter().map(ProfileSummary::from).collect())
}

/// A script that hands the page the connections list before it asks for it. Without a readable
/// store it hands nothing, and the page asks as usual and shows the error.
pub fn boot_script(state: &AppState) -> String {
    let boot = profile_summaries(state)
        .ok()
        .and_then(|profiles| serde_json::to_string(&serde_json::json!({ "profiles": profiles })).ok());
    boot.map(|json| format!("window.__MAILWIRE_BOOT__ = {json};")).unwrap_or_default()
}

#[tauri::command]
pub fn get_profile(state: State<'_, AppState>, id: String) -> CommandResult<ProfileView> {
    let profile = state.store.find(&id)?;
    Ok(view(&state, &profile))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MicrosoftForm {
    pub cloud: Cloud,
    pub tenant: String,
    pub client_id: String,
    #[serde(default)]
    pub credential: CredentialChoice,
    /// Only when the user typed one: a saved secret stays unless replaced.
    pub client_secret: Option<String>,
    /// A certificate created or chosen in this form; a saved one stays unless replaced.
    pub certificate_import_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleForm {
    pub import_id: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileInput {
    pub id: Option<String>,
    pub name: String,
    pub provider: Provider,
    pub sender: String,
    pub recipient: Option<String>,
    pub microsoft: Option<MicrosoftForm>,
    pub google: Option<GoogleForm>,
}

/// Saves a new or edited connection. The secret goes to the keychain before the profile is
/// written, so a keychain failure leaves everything as it was.
#[tauri::command]
pub fn save_profile(state: State<'_, AppState>, input: ProfileInput) -> CommandResult<ProfileView> {
    let existing = match input.id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => Some(state.store.find(id)?),
        None => None,
    };
    let recipient = input.recipient.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let import_id = input.google.as_ref().and_then(|g| g.import_id.clone());
    let certificate_import_id = input.microsoft.as_ref().and_then(|m| m.certificate_import_id.clone());
    let (settings, secret): (ProviderSettings, Option<(SecretKind, SecretString)>) = match input.provider {
        Provider::Microsoft => {
            let form = input
                .microsoft
                .ok_or_else(|| CommandError::field("provider", "The Microsoft settings are missing."))?;
            let kept = existing.as_ref().and_then(|p| match &p.settings {
                ProviderSettings::Microsoft(old) => Some(old.clone()),
                _ => None,
            });
            let (certificate, secret) = match form.credential {
                CredentialChoice::Secret => {
                    let typed = form
                        .client_secret
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| (SecretKind::ClientSecret, SecretString::new(s.trim().to_string())));
                    (None, typed)
                }
                CredentialChoice::Certificate if existing.as_ref().is_some_and(|p| p.sandbox) => {
                    return Err(CommandError::field(
                        "certificate",
                        "Sandbox connections sign in with the sandbox's client secret.",
                    ))
                }
                CredentialChoice::Certificate => match form.certificate_import_id.as_deref() {
                    Some(import_id) => {
                        let (pending, _) =
                            lock(&state.pending_certificates).get(import_id).cloned().ok_or_else(|| {
                                CommandError::field(
                                    "certificate",
                                    "The certificate is no longer available; create or choose it again.",
                                )
                            })?;
                        (Some(pending.certificate_pem), Some((SecretKind::CertificateKey, pending.private_key_pem)))
                    }
                    None => match kept.as_ref().and_then(|k| k.certificate.clone()) {
                        Some(saved) => (Some(saved), None),
                        None => {
                            return Err(CommandError::field(
                                "certificate",
                                "Create a certificate, or choose the certificate and key files.",
                            ))
                        }
                    },
                },
            };
            let settings = ProviderSettings::Microsoft(MicrosoftInput {
                tenant: form.tenant,
                client_id: form.client_id,
                cloud: form.cloud,
                authority_host: kept.as_ref().and_then(|k| k.authority_host.clone()),
                graph_url: kept.as_ref().and_then(|k| k.graph_url.clone()),
                certificate,
            });
            (settings, secret)
        }
        Provider::Google => {
            let form =
                input.google.ok_or_else(|| CommandError::field("provider", "The Google settings are missing."))?;
            let scopes = if form.scopes.is_empty() { vec![google::SCOPE_FULL.to_string()] } else { form.scopes };
            let pending = match form.import_id.as_deref() {
                Some(import_id) => Some(lock(&state.pending_keys).get(import_id).cloned().ok_or_else(|| {
                    CommandError::field("key", "The chosen key file is no longer available; choose it again.")
                })?),
                None => None,
            };
            let kept = existing.as_ref().and_then(|p| match &p.settings {
                ProviderSettings::Google(old) => Some(old.clone()),
                _ => None,
            });
            let (facts, secret) = match (&pending, &kept) {
                (Some(key), _) => (key.facts.clone(), Some((SecretKind::GooglePrivateKey, key.private_key.clone()))),
                (None, Some(old)) => (old.key.clone(), None),
                (None, None) => return Err(CommandError::field("key", "Choose the service account's JSON key file.")),
            };
            let kept_input = kept.map(|old| old.input);
            let settings = ProviderSettings::Google(GoogleProfile {
                key: facts,
                input: GoogleInput {
                    scopes,
                    token_url: kept_input.as_ref().and_then(|i| i.token_url.clone()),
                    gmail_url: kept_input.and_then(|i| i.gmail_url),
                },
            });
            (settings, secret)
        }
    };
    let mut profile = match &existing {
        Some(old) => Profile {
            name: input.name.trim().to_string(),
            settings,
            sender: input.sender.trim().to_string(),
            recipient: recipient.map(str::to_string),
            updated_at: Utc::now(),
            ..old.clone()
        },
        None => Profile::new(&input.name, settings, &input.sender, recipient),
    };
    if existing.as_ref().is_some_and(|old| old.provider() != profile.provider()) {
        profile.last_check = None;
    }
    profile.validate()?;
    // Sandbox secrets come from the emulator; any other connection must end up with its secret.
    let has_stored_secret = || state.secrets.get(&profile.id, profile.required_secret()).ok().flatten().is_some();
    if secret.is_none() && !profile.sandbox && !has_stored_secret() {
        return Err(match profile.required_secret() {
            SecretKind::CertificateKey => CommandError::field(
                "certificate",
                "The certificate's private key is missing; create or choose it again.",
            ),
            SecretKind::GooglePrivateKey => CommandError::field("key", "Choose the service account's JSON key file."),
            _ => CommandError::field("clientSecret", "Enter the client secret's Value."),
        });
    }
    let id = profile.id.clone();
    // A name that is taken fails before the keychain is touched; should the save fail later anyway,
    // the keychain gets its previous value back, so a saved connection never loses its working
    // secret to a save that did not happen.
    store::ensure_unique_name(&state.store.load()?.profiles, &profile.name, Some(&id))?;
    let previous = match &secret {
        Some((kind, value)) => {
            let previous = state.secrets.get(&id, *kind)?;
            state.secrets.put(&id, *kind, value)?;
            Some((*kind, previous))
        }
        None => None,
    };
    let saved = state.store.update(|profiles| {
        store::ensure_unique_name(profiles, &profile.name, Some(&id))?;
        match profiles.iter_mut().find(|p| p.id == id) {
            Some(slot) => *slot = profile.clone(),
            None => profiles.push(profile.clone()),
        }
        Ok(())
    });
    if let Err(e) = saved {
        if let Some((kind, previous)) = previous {
            let restored = match previous {
                Some(value) => state.secrets.put(&id, kind, &value),
                None => state.secrets.delete(&id, kind),
            };
            if let Err(keychain) = restored {
                tracing::warn!("could not restore the connection's {} after a failed save: {keychain}", kind.as_str());
            }
        }
        return Err(e.into());
    }
    if let Some(import_id) = import_id {
        lock(&state.pending_keys).remove(&import_id);
    }
    if let Some(import_id) = certificate_import_id {
        lock(&state.pending_certificates).remove(&import_id);
    }
    // A connection that changed how it signs in (or its provider) keeps only the credential it uses.
    if !profile.sandbox {
        let required = profile.required_secret();
        for kind in SecretKind::ALL.into_iter().filter(|kind| *kind != required && *kind != SecretKind::ProxyPassword) {
            if let Err(e) = state.secrets.delete(&profile.id, kind) {
                tracing::warn!("could not delete the connection's unused {}: {e}", kind.as_str());
            }
        }
    }
    Ok(view(&state, &profile))
}

#[tauri::command]
pub fn delete_profile(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let (removed, _) = state.store.update(|profiles| {
        let index = profiles.iter().position(|p| p.id == id).ok_or_else(|| StoreError::NotFound(id.clone()))?;
        Ok(profiles.remove(index))
    })?;
    lock(&state.reports).remove(&removed.id);
    if !removed.sandbox {
        state.secrets.delete_all(&removed.id)?;
    }
    Ok(())
}

#[tauri::command]
pub fn duplicate_profile(state: State<'_, AppState>, id: String) -> CommandResult<ProfileView> {
    let original = state.store.find(&id)?;
    let secret = if original.sandbox { None } else { state.secrets.get(&original.id, original.required_secret())? };
    let (copy, _) = state.store.update(|profiles| {
        let mut copy = original.clone();
        copy.id = uuid::Uuid::new_v4().to_string();
        copy.last_check = None;
        copy.created_at = Utc::now();
        copy.updated_at = copy.created_at;
        let mut n = 1;
        loop {
            let candidate =
                if n == 1 { format!("{} (copy)", original.name) } else { format!("{} (copy {n})", original.name) };
            if store::ensure_unique_name(profiles, &candidate, None).is_ok() {
                copy.name = candidate;
                break;
            }
            n += 1;
        }
        profiles.push(copy.clone());
        Ok(copy)
    })?;
    // A copy of a sandbox connection stays in the sandbox, whose secrets come from the emulator.
    if let Some(secret) = secret {
        state.secrets.put(&copy.id, copy.required_secret(), &secret)?;
    }
    Ok(view(&state, &copy))
}

#[tauri::command]
pub fn validate_field(field: String, value: String) -> FieldCheck {
    validate::check_field(&field, &value)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedKey {
    pub import_id: String,
    pub client_email: String,
    pub client_id: String,
    pub project_id: String,
    pub private_key_id: String,
    pub scopes: Vec<String>,
    pub scope_string: String,
    pub delegation_url: String,
    pub gmail_api_url: String,
}

/// Reads a service account key: from `path` (a dropped file), or from the native file dialog.
/// Only the key's public facts return to the webview.
#[tauri::command]
pub async fn import_google_key(state: State<'_, AppState>, path: Option<String>) -> CommandResult<Option<ImportedKey>> {
    let dropped = path.filter(|p| !p.trim().is_empty()).map(PathBuf::from);
    let chosen = match dropped {
        Some(path) => Some(path),
        None => {
            let title = "Choose the service account's JSON key";
            choose_file("MAILWIRE_E2E_KEY_FILE", title, "JSON key file", &["json"]).await
        }
    };
    let Some(path) = chosen else { return Ok(None) };
    let key = tokio::task::spawn_blocking(move || google::read_key_file(&path))
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
        .map_err(|e| CommandError::field("key", e.to_string()))?;
    let scopes = vec![google::SCOPE_FULL.to_string()];
    let imported = ImportedKey {
        import_id: uuid::Uuid::new_v4().to_string(),
        client_email: key.facts.client_email.clone(),
        client_id: key.facts.client_id.clone(),
        project_id: key.facts.project_id.clone(),
        private_key_id: key.facts.private_key_id.clone(),
        scope_string: google::scope_string(&scopes),
        delegation_url: diagnose::delegation_url(&key.facts.client_id, &scopes),
        gmail_api_url: diagnose::gmail_api_url(&key.facts.project_id),
        scopes,
    };
    lock(&state.pending_keys).insert(imported.import_id.clone(), key);
    Ok(Some(imported))
}

/// The native open dialog, or in debug builds the file E2E tests name in `variable`; `None` when the
/// user cancels it.
async fn choose_file(variable: &str, title: &str, label: &str, extensions: &[&str]) -> Option<PathBuf> {
    if let Some(path) = scripted_file(variable) {
        return Some(PathBuf::from(path));
    }
    let dialog = rfd::AsyncFileDialog::new().set_title(title).add_filter(label, extensions);
    dialog.pick_file().await.map(|file| file.path().to_path_buf())
}

/// The native save dialog; `None` when the user cancels it.
async fn choose_save_path(title: &str, file_name: &str, label: &str, extensions: &[&str]) -> Option<PathBuf> {
    if let Some(path) = scripted_file("MAILWIRE_E2E_SAVE_FILE") {
        return Some(PathBuf::from(path));
    }
    let dialog = rfd::AsyncFileDialog::new().set_title(title).set_file_name(file_name).add_filter(label, extensions);
    dialog.save_file().await.map(|file| file.path().to_path_buf())
}

/// End-to-end tests cannot click through a native dialog; debug builds let them name the file.
fn scripted_file(variable: &str) -> Option<String> {
    if cfg!(debug_assertions) {
        std::env::var(variable).ok().filter(|p| !p.is_empty())
    } else {
        None
    }
}

/// A certificate in the form, before it is saved: only public facts cross to the webview.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingCertificate {
    pub import_id: String,
    #[serde(flatten)]
    pub facts: CertificateFacts,
    pub file_name: String,
}

/// The form holds one new certificate at a time: a newer one replaces it, so private keys the
/// user moved past do not stay in memory.
fn hold_certificate(state: &AppState, credential: CertificateCredential, name: &str) -> PendingCertificate {
    let pending = PendingCertificate {
        import_id: uuid::Uuid::new_v4().to_string(),
        facts: credential.facts.clone(),
        file_name: certificate::upload_file_name(name),
    };
    lock(&state.locked_pfx).take();
    let mut held = lock(&state.pending_certificates);
    held.clear();
    held.insert(pending.import_id.clone(), (credential, pending.file_name.clone()));
    pending
}

/// Creates a self-signed certificate for the app registration; its key waits for the save.
#[tauri::command]
pub async fn create_certificate(state: State<'_, AppState>, name: String) -> CommandResult<PendingCertificate> {
    let name = if name.trim().is_empty() { "Mailwire".to_string() } else { name.trim().to_string() };
    let common_name = format!("Mailwire {name}");
    let created = tokio::task::spawn_blocking(move || certificate::create(&common_name))
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
        .map_err(certificate_error)?;
    Ok(hold_certificate(&state, created, &name))
}

/// Reads an existing certificate and its private key, from the native file dialogs: a .pfx
/// alone, or PEM/DER files. The key file is asked for only when the certificate's file lacks it.
#[tauri::command]
pub async fn import_certificate(state: State<'_, AppState>, name: String) -> CommandResult<Option<PendingCertificate>> {
    let title = "Choose the app's certificate (.pfx, .pem or .cer)";
    let Some(certificate_path) =
        choose_file("MAILWIRE_E2E_CERTIFICATE_FILE", title, "Certificate", &["pfx", "p12", "pem", "crt", "cer"]).await
    else {
        return Ok(None);
    };
    // A .pfx chosen earlier and left without its password is replaced by this choice.
    lock(&state.locked_pfx).take();
    let text = match certificate::read_file(&certificate_path).map_err(certificate_error)? {
        CertificateFile::Pfx(bytes) => return open_pfx(&state, bytes, None, &name).map(Some),
        CertificateFile::Pem(text) => text,
    };
    // The certificate is checked first: a wrong file is reported before the key is asked for.
    certificate::facts(text.expose()).map_err(certificate_error)?;
    let read = if certificate::has_private_key(text.expose()) {
        certificate::from_pem(text.expose(), text.expose())
    } else {
        let title = "Choose the certificate's private key (PEM)";
        let Some(key_path) = choose_file("MAILWIRE_E2E_PRIVATE_KEY_FILE", title, "Private key", &["pem", "key"]).await
        else {
            return Ok(None);
        };
        certificate::key_for(text.expose(), &key_path, None)
            .and_then(|key| certificate::from_pem(text.expose(), key.expose()))
    };
    Ok(Some(hold_certificate(&state, read.map_err(certificate_error)?, &name)))
}

/// Opens the .pfx chosen last with the password the user typed.
#[tauri::command]
pub async fn unlock_certificate(
    state: State<'_, AppState>,
    name: String,
    password: String,
) -> CommandResult<PendingCertificate> {
    let bytes = lock(&state.locked_pfx)
        .take()
        .ok_or_else(|| CommandError::field("certificate", "Choose the .pfx file again."))?;
    open_pfx(&state, bytes, Some(SecretString::new(password)), &name)
}

/// A .pfx that needs a password (or got a wrong one) is kept, and the form asks for the password.
fn open_pfx(
    state: &AppState,
    bytes: Vec<u8>,
    password: Option<SecretString>,
    name: &str,
) -> CommandResult<PendingCertificate> {
    use certificate::CertificateError::{PfxPasswordNeeded, PfxPasswordWrong};
    match certificate::from_pfx(&bytes, password.as_ref()) {
        Ok(read) => Ok(hold_certificate(state, read, name)),
        Err(e @ (PfxPasswordNeeded | PfxPasswordWrong)) => {
            *lock(&state.locked_pfx) = Some(bytes);
            Err(CommandError { kind: "pfx_password", ..certificate_error(e) })
        }
        Err(e) => Err(certificate_error(e)),
    }
}

/// The core's messages continue a sentence (as the CLI prints them); the form shows them alone.
fn certificate_error(error: certificate::CertificateError) -> CommandError {
    use certificate::CertificateError::{TooLarge, Unreadable};
    let message = error.to_string();
    let message = match error {
        // These start with the file's path, which keeps its own spelling.
        Unreadable { .. } | TooLarge(_) => message,
        _ => {
            let mut chars = message.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    };
    CommandError::field("certificate", message)
}

/// Saves the public certificate, for upload under Certificates & secrets, from the form's
/// pending certificate or a saved connection. Returns where it was written.
#[tauri::command]
pub async fn export_certificate(
    state: State<'_, AppState>,
    import_id: Option<String>,
    profile_id: Option<String>,
) -> CommandResult<Option<String>> {
    let pending = import_id.and_then(|id| lock(&state.pending_certificates).get(&id).cloned());
    let (pem, file_name) = match (pending, profile_id) {
        (Some((pending, file_name)), _) => (pending.certificate_pem, file_name),
        (None, Some(id)) => {
            let profile = state.store.find(&id)?;
            match profile.settings {
                ProviderSettings::Microsoft(MicrosoftInput { certificate: Some(pem), .. }) => {
                    (pem, certificate::upload_file_name(&profile.name))
                }
                _ => return Err(CommandError::field("certificate", "This connection has no certificate.")),
            }
        }
        (None, None) => {
            return Err(CommandError::field("certificate", "The certificate is no longer available; create it again."))
        }
    };
    let Some(path) =
        choose_save_path("Save the certificate for Entra", &file_name, "Certificate", &["cer", "pem", "crt"]).await
    else {
        return Ok(None);
    };
    std::fs::write(&path, pem)
        .map_err(|e| CommandError::new("io", format!("{} could not be written: {e}", path.display())))?;
    Ok(Some(path.display().to_string()))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DelegationInfo {
    pub scope_string: String,
    pub delegation_url: String,
}

#[tauri::command]
pub fn google_delegation_info(client_id: String, scopes: Vec<String>) -> DelegationInfo {
    DelegationInfo {
        scope_string: google::scope_string(&scopes),
        delegation_url: diagnose::delegation_url(&client_id, &scopes),
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    pub ok: bool,
    pub provider: Provider,
    pub profile_name: Option<String>,
    pub started_at: DateTime<Utc>,
    pub steps: Vec<Step>,
}

impl From<&Report> for ReportView {
    fn from(r: &Report) -> Self {
        Self {
            ok: r.ok,
            provider: r.provider,
            profile_name: r.profile.clone(),
            started_at: r.started_at,
            steps: r.steps.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressEvent<'a> {
    profile_id: &'a str,
    phase: &'static str,
    step: serde_json::Value,
}

/// Runs the checks of a connection, streaming `check-progress` events, and records the result.
#[tauri::command]
pub async fn run_check<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    send: bool,
) -> CommandResult<ReportView> {
    let saved = state.store.find(&id)?;
    let (profile, secrets): (Profile, Arc<dyn mailwire_core::secret::SecretStore>) = if saved.sandbox {
        let sandbox = ensure_sandbox(&state).await?;
        (sandbox.prepare(&saved), Arc::new(SandboxSecrets(sandbox)))
    } else {
        (saved.clone().with_env_endpoints(), state.secrets.clone())
    };
    let emitter = app.clone();
    let profile_id = id.clone();
    let progress = move |event: Progress<'_>| {
        let payload = match event {
            Progress::Started { id, title } => ProgressEvent {
                profile_id: &profile_id,
                phase: "start",
                step: serde_json::json!({ "id": id, "title": title, "status": "running" }),
            },
            Progress::Finished(step) => ProgressEvent {
                profile_id: &profile_id,
                phase: "done",
                step: serde_json::to_value(step).unwrap_or_default(),
            },
        };
        let _ = emitter.emit("check-progress", payload);
    };
    let options = RunOptions { send, recipient: None, reuse_token: false };
    let http = state.http.read().unwrap_or_else(|p| p.into_inner()).clone();
    let task_state = app.clone();
    let task = tokio::spawn(async move {
        let state = tauri::Manager::state::<AppState>(&task_state);
        profile::run_profile_check(&profile, secrets.as_ref(), None, &http, &state.cache, &options, &progress).await
    });
    lock(&state.running).insert(id.clone(), task.abort_handle());
    let outcome = task.await;
    lock(&state.running).remove(&id);
    let report = match outcome {
        Ok(result) => result?,
        Err(e) if e.is_cancelled() => {
            return Err(CommandError::new("cancelled", "The check was cancelled; nothing was changed."))
        }
        Err(e) => return Err(CommandError::new("internal", format!("The check stopped unexpectedly: {e}"))),
    };
    let last = LastCheck::from_report(&report);
    let _ = state.store.update(|profiles| {
        if let Some(p) = profiles.iter_mut().find(|p| p.id == id) {
            p.last_check = Some(last);
        }
        Ok(())
    });
    let view = ReportView::from(&report);
    lock(&state.reports).insert(id, report);
    Ok(view)
}

/// Sandbox secrets come from the running emulator, never from the keychain.
struct SandboxSecrets(Arc<Sandbox>);

impl SecretStore for SandboxSecrets {
    fn put(&self, _: &str, _: SecretKind, _: &SecretString) -> Result<(), mailwire_core::secret::SecretStoreError> {
        Ok(())
    }
    /// Every sandbox connection, demo or copy, uses the demo credentials of its provider.
    fn get(
        &self,
        _id: &str,
        kind: SecretKind,
    ) -> Result<Option<SecretString>, mailwire_core::secret::SecretStoreError> {
        let demo = match kind {
            SecretKind::GooglePrivateKey => crate::sandbox::GOOGLE_DEMO_ID,
            _ => crate::sandbox::MICROSOFT_DEMO_ID,
        };
        self.0.secrets.get(demo, kind)
    }
    fn delete(&self, _: &str, _: SecretKind) -> Result<(), mailwire_core::secret::SecretStoreError> {
        Ok(())
    }
}

#[tauri::command]
pub fn cancel_check(state: State<'_, AppState>, id: String) -> bool {
    match lock(&state.running).remove(&id) {
        Some(handle) => {
            handle.abort();
            true
        }
        None => false,
    }
}

#[tauri::command]
pub fn get_last_report(state: State<'_, AppState>, id: String) -> Option<ReportView> {
    lock(&state.reports).get(&id).map(ReportView::from)
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Markdown,
    Json,
}

fn render_report(state: &AppState, id: &str, format: ReportFormat) -> CommandResult<String> {
    let reports = lock(&state.reports);
    let report = reports
        .get(id)
        .ok_or_else(|| CommandError::new("not_found", "Run the checks first; there is no report yet."))?;
    Ok(match format {
        ReportFormat::Markdown => report.to_markdown(),
        ReportFormat::Json => serde_json::to_string_pretty(report).expect("reports serialise"),
    })
}

#[tauri::command]
pub fn export_report(state: State<'_, AppState>, id: String, format: ReportFormat) -> CommandResult<String> {
    render_report(&state, &id, format)
}

#[tauri::command]
pub async fn save_report(
    state: State<'_, AppState>,
    id: String,
    format: ReportFormat,
) -> CommandResult<Option<String>> {
    let text = render_report(&state, &id, format)?;
    let (extension, label) = match format {
        ReportFormat::Markdown => ("md", "Markdown"),
        ReportFormat::Json => ("json", "JSON"),
    };
    let name = format!("mailwire-report-{}.{extension}", Utc::now().format("%Y%m%d-%H%M"));
    let Some(path) = choose_save_path("Save the report", &name, label, &[extension]).await else {
        return Ok(None);
    };
    std::fs::write(&path, text)
        .map_err(|e| CommandError::new("io", format!("The report could not be saved to {}: {e}", path.display())))?;
    Ok(Some(path.display().to_string()))
}

async fn ensure_sandbox(state: &AppState) -> CommandResult<Arc<Sandbox>> {
    let mut slot = state.sandbox.lock().await;
    if let Some(sandbox) = slot.as_ref() {
        return Ok(sandbox.clone());
    }
    let sandbox = Arc::new(
        Sandbox::start()
            .await
            .map_err(|e| CommandError::new("sandbox", format!("The sandbox could not start: {e}")))?,
    );
    *slot = Some(sandbox.clone());
    Ok(sandbox)
}

/// Starts the sandbox and adds its two demo connections (once).
#[tauri::command]
pub async fn start_sandbox(state: State<'_, AppState>) -> CommandResult<Vec<ProfileSummary>> {
    let sandbox = ensure_sandbox(&state).await?;
    let demos = sandbox.demo_profiles();
    let (profiles, _) = state.store.update(|profiles| {
        for demo in demos {
            if !profiles.iter().any(|p| p.id == demo.id) {
                profiles.push(demo);
            }
        }
        Ok(profiles.iter().map(ProfileSummary::from).collect::<Vec<_>>())
    })?;
    Ok(profiles)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkView {
    #[serde(flatten)]
    pub settings: NetworkSettings,
    #[serde(default)]
    pub proxy_password_stored: bool,
}

#[tauri::command]
pub fn get_network_settings(state: State<'_, AppState>) -> CommandResult<NetworkView> {
    let settings = state.store.load()?.settings;
    let proxy_password_stored =
        state.secrets.get(store::SETTINGS_SECRET_ID, SecretKind::ProxyPassword).ok().flatten().is_some();
    Ok(NetworkView { settings, proxy_password_stored })
}

/// Saves how Mailwire reaches the providers. The new client is built first, so settings that
/// cannot work (a missing CA file, a malformed proxy) are refused and the old ones stay.
#[tauri::command]
pub fn save_network_settings(
    state: State<'_, AppState>,
    settings: NetworkSettings,
    proxy_password: Option<String>,
) -> CommandResult<NetworkView> {
    let settings = NetworkSettings {
        proxy_url: settings.proxy_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
        proxy_username: settings.proxy_username.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
        ca_file: settings.ca_file.filter(|p| !p.as_os_str().is_empty()),
        connect_timeout_secs: settings.connect_timeout_secs.map(|s| s.clamp(1, 600)),
        request_timeout_secs: settings.request_timeout_secs.map(|s| s.clamp(1, 600)),
    };
    let password = match proxy_password.filter(|p| !p.is_empty()) {
        Some(p) => Some(SecretString::new(p)),
        None => state.secrets.get(store::SETTINGS_SECRET_ID, SecretKind::ProxyPassword)?,
    };
    let http = mailwire_core::http::Http::new(settings.to_http(password.clone())).map_err(|e| match e {
        mailwire_core::http::NetError::BadCaFile { .. } => CommandError::field("caFile", e.to_string()),
        mailwire_core::http::NetError::BadProxy { .. } => CommandError::field("proxyUrl", e.to_string()),
        other => CommandError::new("network", other.to_string()),
    })?;
    match (&settings.proxy_url, &password) {
        (Some(_), Some(password)) => {
            state.secrets.put(store::SETTINGS_SECRET_ID, SecretKind::ProxyPassword, password)?
        }
        (None, _) => state.secrets.delete(store::SETTINGS_SECRET_ID, SecretKind::ProxyPassword)?,
        (Some(_), None) => {}
    }
    state.store.save_settings(&settings)?;
    *state.http.write().unwrap_or_else(|p| p.into_inner()) = http;
    get_network_settings(state)
}

/// Picks the organisation's root certificate for the network settings; `None` when cancelled.
#[tauri::command]
pub async fn choose_ca_file() -> Option<PathBuf> {
    let title = "Choose your organisation's root certificate";
    choose_file("MAILWIRE_E2E_CA_FILE", title, "Certificate", &["pem", "crt", "cer", "der"]).await
}

/// Puts text on the system clipboard: the copy buttons and Copy report. WebKitGTK refuses the
/// web clipboard APIs to the page, so the copy goes through the shell on every system.
#[tauri::command]
pub fn copy_text<R: Runtime>(app: AppHandle<R>, text: String) -> CommandResult<()> {
    let unavailable =
        |detail: String| CommandError::new("clipboard", format!("The clipboard is not available{detail}."));
    let clipboard =
        app.try_state::<tauri_plugin_clipboard_manager::Clipboard<R>>().ok_or_else(|| unavailable(String::new()))?;
    clipboard.write_text(text).map_err(|e| unavailable(format!(": {e}")))
}

/// Opens a provider console page in the default browser; any other address is refused.
#[tauri::command]
pub fn open_link<R: Runtime>(app: AppHandle<R>, url: String) -> CommandResult<()> {
    if !diagnose::is_console_link(&url) {
        return Err(CommandError::new("forbidden_link", "Mailwire opens only the Microsoft and Google console pages."));
    }
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| CommandError::new("io", format!("The browser could not be opened: {e}")))
}

/// Opens the log folder in the file manager.
pub fn reveal_logs<R: Runtime>(app: &AppHandle<R>) -> CommandResult<()> {
    let dir = crate::logging::log_dir();
    std::fs::create_dir_all(&dir).map_err(|e| CommandError::new("io", e.to_string()))?;
    app.opener()
        .open_path(dir.display().to_string(), None::<&str>)
        .map_err(|e| CommandError::new("io", format!("The log folder could not be opened: {e}")))
}

#[tauri::command]
pub fn open_log_folder<R: Runtime>(app: AppHandle<R>) -> CommandResult<()> {
    reveal_logs(&app)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: &'static str,
    pub sandbox_running: bool,
    pub config_dir: String,
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> CommandResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        sandbox_running: state.sandbox.lock().await.is_some(),
        config_dir: state.store.dir().display().to_string(),
    })
}

/// The page reports when it first painted; the startup benchmark reads it from the log.
#[tauri::command]
pub fn first_paint(state: State<'_, AppState>, ms: f64) {
    *lock(&state.first_paint_ms) = Some(ms);
    tracing::info!(target: "mailwire::startup", first_paint_ms = ms, "first screen painted");
    if let Ok(path) = std::env::var("MAILWIRE_FIRST_PAINT_FILE") {
        let _ = std::fs::write(path, format!("{ms}\n"));
    }
}
