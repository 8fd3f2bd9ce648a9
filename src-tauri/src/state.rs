//! What the running app holds between commands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use mailwire_core::certificate::CertificateCredential;
use mailwire_core::check::Report;
use mailwire_core::google::ServiceAccountKey;
use mailwire_core::http::Http;
use mailwire_core::secret::{KeyringStore, SecretKind, SecretStore};
use mailwire_core::store::{NetworkSettings, Store, SETTINGS_SECRET_ID};
use mailwire_core::token::TokenCache;

use crate::sandbox::Sandbox;

pub struct AppState {
    pub store: Store,
    pub secrets: Arc<dyn SecretStore>,
    /// Rebuilt when the network settings change; checks take a clone when they start.
    pub http: RwLock<Http>,
    pub cache: TokenCache,
    /// Keys picked in the form but not saved yet, by import ID. They move to the keychain on save.
    pub pending_keys: Mutex<HashMap<String, ServiceAccountKey>>,
    /// Certificates created or chosen in the form but not saved yet, by import ID.
    /// With the file name offered when the certificate is saved for upload.
    pub pending_certificates: Mutex<HashMap<String, (CertificateCredential, String)>>,
    /// A chosen .pfx file that waits for its password.
    pub locked_pfx: Mutex<Option<Vec<u8>>>,
    /// The last report of each connection in this session, for Copy and Save report.
    pub reports: Mutex<HashMap<String, Report>>,
    pub running: Mutex<HashMap<String, tokio::task::AbortHandle>>,
    pub sandbox: tokio::sync::Mutex<Option<Arc<Sandbox>>>,
    pub first_paint_ms: Mutex<Option<f64>>,
}

impl AppState {
    pub fn new(store: Store, secrets: Arc<dyn SecretStore>) -> Result<Self, mailwire_core::http::NetError> {
        // Settings that no longer work (a CA file since deleted) must not keep the app from opening:
        // fall back to the defaults and let the settings screen show the problem.
        let saved = store.load().map(|loaded| loaded.settings).unwrap_or_default();
        let http = build_http(&saved, secrets.as_ref())
            .or_else(|_| build_http(&NetworkSettings::default(), secrets.as_ref()))?;
        Ok(Self {
            store,
            secrets,
            http: RwLock::new(http),
            cache: TokenCache::default(),
            pending_keys: Mutex::default(),
            pending_certificates: Mutex::default(),
            locked_pfx: Mutex::default(),
            reports: Mutex::default(),
            running: Mutex::default(),
            sandbox: tokio::sync::Mutex::new(None),
            first_paint_ms: Mutex::default(),
        })
    }

    pub fn from_environment() -> Result<Self, Box<dyn std::error::Error>> {
        Ok(Self::new(Store::open_default()?, Arc::new(KeyringStore::for_this_build()))?)
    }
}

/// The HTTP client for `settings`, with the proxy password from the keychain.
pub fn build_http(
    settings: &NetworkSettings,
    secrets: &dyn SecretStore,
) -> Result<Http, mailwire_core::http::NetError> {
    let password = match settings.proxy_url {
        Some(_) => secrets.get(SETTINGS_SECRET_ID, SecretKind::ProxyPassword).ok().flatten(),
        None => None,
    };
    Http::new(settings.to_http(password))
}

/// Locks a mutex even if a panicking thread poisoned it: the maps stay usable.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
