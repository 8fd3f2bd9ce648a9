//! Secrets: a string type that cannot leak by accident, and the stores that keep secrets.
//!
//! `SecretString` prints `<redacted>`, has no `Serialize`, and wipes its memory on drop, so a
//! secret can travel through settings, logs and reports without ever appearing in them. Secrets are
//! kept only in a [`SecretStore`]: the OS keychain in the app and CLI, memory in tests.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use zeroize::Zeroizing;

/// A secret value (client secret, private key, proxy password).
#[derive(Clone)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself, for the one place that must send it (a token request, a signer).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// What kind of secret an entry holds; part of its keychain key `{profile id}/{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    ClientSecret,
    CertificateKey,
    GooglePrivateKey,
    ProxyPassword,
}

impl SecretKind {
    pub const ALL: [SecretKind; 4] =
        [SecretKind::ClientSecret, SecretKind::CertificateKey, SecretKind::GooglePrivateKey, SecretKind::ProxyPassword];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "client-secret",
            SecretKind::CertificateKey => "certificate-key",
            SecretKind::GooglePrivateKey => "google-private-key",
            SecretKind::ProxyPassword => "proxy-password",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretStoreError {
    #[error(
        "No system keychain is reachable ({0}). Mailwire will not write the secret to a plain file. \
         On Linux, start a Secret Service (GNOME Keyring or KWallet) and unlock it; from the command \
         line you can still run a check with the client secret in MAILWIRE_CLIENT_SECRET, or with \
         `mailwire check microsoft --certificate FILE` for a certificate."
    )]
    Unavailable(String),
    #[error("The system keychain refused access ({0}). Unlock the keychain and try again.")]
    Locked(String),
    #[error("The system keychain failed: {0}")]
    Failed(String),
}

/// Where secrets live. Keys are `{profile id}/{kind}`.
pub trait SecretStore: Send + Sync {
    fn put(&self, profile_id: &str, kind: SecretKind, value: &SecretString) -> Result<(), SecretStoreError>;
    fn get(&self, profile_id: &str, kind: SecretKind) -> Result<Option<SecretString>, SecretStoreError>;
    fn delete(&self, profile_id: &str, kind: SecretKind) -> Result<(), SecretStoreError>;

    fn delete_all(&self, profile_id: &str) -> Result<(), SecretStoreError> {
        SecretKind::ALL.iter().try_for_each(|kind| self.delete(profile_id, *kind))
    }
}

/// The OS keychain: Keychain on macOS, Credential Manager on Windows, Secret Service on Linux.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// Release, debug and test builds use separate service names, so a developer's test run never
    /// reads or deletes the secrets of the Mailwire they use for work.
    pub fn for_this_build() -> Self {
        let service = match std::env::var("MAILWIRE_KEYCHAIN_SERVICE") {
            Ok(name) if !name.trim().is_empty() => name,
            _ if cfg!(debug_assertions) => "app.mailwire.debug".to_string(),
            _ => "app.mailwire".to_string(),
        };
        Self { service }
    }

    pub fn with_service(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, profile_id: &str, kind: SecretKind) -> Result<keyring::Entry, SecretStoreError> {
        keyring::Entry::new(&self.service, &format!("{profile_id}/{}", kind.as_str())).map_err(map_keyring_error)
    }
}

fn map_keyring_error(error: keyring::Error) -> SecretStoreError {
    match error {
        keyring::Error::PlatformFailure(inner) => SecretStoreError::Unavailable(inner.to_string()),
        keyring::Error::NoStorageAccess(inner) => SecretStoreError::Locked(inner.to_string()),
        keyring::Error::TooLong(_, limit) => SecretStoreError::Failed(format!(
            "the secret is longer than the system keychain takes ({limit} bytes at most); for a certificate, use an RSA 2048 or 3072 key"
        )),
        other => SecretStoreError::Failed(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    // Stored as UTF-8 bytes rather than as a "password": on Windows keyring keeps passwords as
    // UTF-16, and a private key in PEM (1.7 KB of text) would then overflow Credential Manager's
    // 2,560-byte limit. Elsewhere the two are the same bytes.
    fn put(&self, profile_id: &str, kind: SecretKind, value: &SecretString) -> Result<(), SecretStoreError> {
        self.entry(profile_id, kind)?.set_secret(value.expose().as_bytes()).map_err(map_keyring_error)
    }

    fn get(&self, profile_id: &str, kind: SecretKind) -> Result<Option<SecretString>, SecretStoreError> {
        match self.entry(profile_id, kind)?.get_secret() {
            Ok(bytes) => String::from_utf8(bytes).map(|value| Some(SecretString::new(value))).map_err(|_| {
                SecretStoreError::Failed(format!("the keychain entry for {} is not text; save it again", kind.as_str()))
            }),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(map_keyring_error(error)),
        }
    }

    fn delete(&self, profile_id: &str, kind: SecretKind) -> Result<(), SecretStoreError> {
        match self.entry(profile_id, kind)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(map_keyring_error(error)),
        }
    }
}

/// Secrets in memory only: for tests and for the sandbox.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<(String, SecretKind), SecretString>>,
}

impl MemoryStore {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<(String, SecretKind), SecretString>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn put(&self, profile_id: &str, kind: SecretKind, value: &SecretString) -> Result<(), SecretStoreError> {
        self.entries().insert((profile_id.to_string(), kind), value.clone());
        Ok(())
    }

    fn get(&self, profile_id: &str, kind: SecretKind) -> Result<Option<SecretString>, SecretStoreError> {
        Ok(self.entries().get(&(profile_id.to_string(), kind)).cloned())
    }

    fn delete(&self, profile_id: &str, kind: SecretKind) -> Result<(), SecretStoreError> {
        self.entries().remove(&(profile_id.to_string(), kind));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = SecretString::new("hunter2-value");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert!(!format!("{:?}", Some(secret)).contains("hunter2"));
    }

    #[test]
    fn memory_store_round_trip_and_delete_all() {
        let store = MemoryStore::default();
        store.put("p1", SecretKind::ClientSecret, &SecretString::new("s")).unwrap();
        store.put("p1", SecretKind::GooglePrivateKey, &SecretString::new("k")).unwrap();
        assert_eq!(store.get("p1", SecretKind::ClientSecret).unwrap().unwrap().expose(), "s");
        store.delete_all("p1").unwrap();
        assert!(store.get("p1", SecretKind::ClientSecret).unwrap().is_none());
        assert!(store.get("p1", SecretKind::GooglePrivateKey).unwrap().is_none());
    }
}
