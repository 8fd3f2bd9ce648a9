//! What the running app holds between commands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mailwire_core::check::Report;
use mailwire_core::google::ServiceAccountKey;
use mailwire_core::http::{Http, HttpSettings};
use mailwire_core::secret::{KeyringStore, SecretStore};
use mailwire_core::store::Store;
use mailwire_core::token::TokenCache;

use crate::sandbox::Sandbox;

pub struct AppState {
    pub store: Store,
    pub secrets: Arc<dyn SecretStore>,
    pub http: Http,
    pub cache: TokenCache,
    /// Keys picked in the form but not saved yet, by import ID. They move to the keychain on save.
    pub pending_keys: Mutex<HashMap<String, ServiceAccountKey>>,
    /// The last report of each connection in this session, for Copy and Save report.
    pub reports: Mutex<HashMap<String, Report>>,
    pub running: Mutex<HashMap<String, tokio::task::AbortHandle>>,
    pub sandbox: tokio::sync::Mutex<Option<Arc<Sandbox>>>,
    pub first_paint_ms: Mutex<Option<f64>>,
}

impl AppState {
    pub fn new(store: Store, secrets: Arc<dyn SecretStore>) -> Result<Self, mailwire_core::http::NetError> {
        Ok(Self {
            store,
            secrets,
            http: Http::new(HttpSettings::default())?,
            cache: TokenCache::default(),
            pending_keys: Mutex::default(),
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

/// Locks a mutex even if a panicking thread poisoned it: the maps stay usable.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
