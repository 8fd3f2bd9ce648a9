//! A loopback emulator of the provider endpoints Mailwire talks to: Entra ID's token endpoint
//! and discovery document, Microsoft Graph's sendMail, Google's OAuth token endpoint and the
//! Gmail profile and send calls. It reproduces the providers' success and error bodies from a
//! [`Scenario`] (state, not switches), injects faults per route at run time, and keeps the mail
//! it accepts in an outbox. It shares no code with `mailwire-core`, so tests of the client
//! against it prove something. Start one inside a test with [`Emulator::start`], or run the
//! `mailwire-emulator` binary.

mod admin;
mod credentials;
mod fault;
mod google;
mod jwt;
mod keys;
mod microsoft;
mod outbox;
mod respond;
pub mod scenario;
mod server;
mod state;
mod tls;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use credentials::{GoogleCredentials, MicrosoftCredentials};
pub use fault::{Fault, Route, StatusFault, Throttle};
pub use keys::CertificateCredential;
pub use outbox::OutboxMail;
pub use scenario::Scenario;
pub use state::MAILBOX_CONCURRENCY;

use state::Shared;

/// A running emulator. Dropping it stops the server; [`Emulator::shutdown`] also waits for it.
pub struct Emulator {
    shared: Arc<Shared>,
    ca_pem: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Plain HTTP on a free port of 127.0.0.1.
    pub async fn start(scenario: Scenario) -> anyhow::Result<Emulator> {
        Self::start_on((Ipv4Addr::LOCALHOST, 0).into(), scenario, false).await
    }

    /// HTTPS on a free port of 127.0.0.1, with a CA generated for this instance ([`Emulator::ca_pem`]).
    pub async fn start_tls(scenario: Scenario) -> anyhow::Result<Emulator> {
        Self::start_on((Ipv4Addr::LOCALHOST, 0).into(), scenario, true).await
    }

    /// Serves on `addr`, which must be a loopback address: the emulator hands out tokens to
    /// anyone who asks and must never be reachable from the network.
    pub async fn start_on(addr: SocketAddr, scenario: Scenario, tls: bool) -> anyhow::Result<Emulator> {
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "refusing to listen on {addr}: the emulator only serves loopback addresses"
        );
        scenario.validate()?;
        // Key generation and certificate signing are CPU-bound; keep them off the runtime.
        let scenario = tokio::task::spawn_blocking(move || {
            let mut scenario = scenario;
            keys::fill_missing_keys(&mut scenario).map(|()| scenario)
        })
        .await??;
        let tls = if tls { Some(tokio::task::spawn_blocking(tls::setup).await??) } else { None };
        let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared::new(format!("{scheme}://{local}"), scenario));
        let router = Router::new()
            .merge(microsoft::routes())
            .merge(google::routes())
            .merge(admin::routes())
            .fallback(not_found)
            // Gmail takes messages up to 35 MB once base64-encoded; axum's default is 2 MB.
            .layer(axum::extract::DefaultBodyLimit::max(48 * 1024 * 1024))
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel();
        let (ca_pem, config) = match tls {
            Some(setup) => (Some(setup.ca_pem), Some(setup.config)),
            None => (None, None),
        };
        let task = tokio::spawn(server::run(listener, config, shared.clone(), router, stopped));
        Ok(Emulator { shared, ca_pem, stop: Some(stop), task: Some(task) })
    }

    /// `http://127.0.0.1:PORT` (or `https://`): the Microsoft authority host, the Graph root and
    /// the Gmail root all at once, since the paths match the real services'.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Google's token endpoint on this emulator (`base_url + "/token"`).
    pub fn google_token_url(&self) -> String {
        format!("{}/token", self.shared.base_url)
    }

    /// The PEM of the CA that signed the HTTPS certificate, when started with TLS.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Changes the scenario live. Service accounts added without a key get one generated.
    pub fn update(&self, f: impl FnOnce(&mut Scenario)) {
        let mut inner = self.shared.lock();
        f(&mut inner.scenario);
        // Generation cannot fail short of an RNG failure; an account left without a key then
        // fails signature checks, which is the honest outcome.
        let _ = keys::fill_missing_keys(&mut inner.scenario);
    }

    /// A snapshot of the scenario, generated keys included.
    pub fn scenario(&self) -> Scenario {
        self.shared.lock().scenario.clone()
    }

    /// Mail accepted so far, oldest first.
    pub fn outbox(&self) -> Vec<OutboxMail> {
        self.shared.lock().outbox.clone()
    }

    pub fn clear_outbox(&self) {
        self.shared.lock().outbox.clear();
    }

    /// Replaces the fault on `route`; `Fault::default()` removes it. `Route::Any` applies to
    /// every provider route (counted faults fire on the route's own fault first).
    pub fn set_fault(&self, route: Route, fault: Fault) {
        self.shared.set_fault(route, fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// The faults armed now, with the counts left.
    pub fn faults(&self) -> BTreeMap<Route, Fault> {
        self.shared.lock().faults.clone()
    }

    /// Requests that reached `route`, including those a fault answered; `Route::Any` is the total.
    pub fn request_count(&self, route: Route) -> u64 {
        self.shared.request_counts().get(&route).copied().unwrap_or(0)
    }

    pub fn reset_request_counts(&self) {
        self.shared.lock().counts.clear();
    }

    /// A service account key file (JSON) whose `token_uri` points at this emulator.
    ///
    /// # Panics
    /// When the scenario has no such service account or holds only its public key; see
    /// [`Emulator::try_google_key_json`].
    pub fn google_key_json(&self, client_email: &str) -> String {
        self.try_google_key_json(client_email)
            .unwrap_or_else(|| panic!("the scenario has no service account {client_email} with a private key"))
    }

    pub fn try_google_key_json(&self, client_email: &str) -> Option<String> {
        credentials::google_key_json(&self.shared.lock().scenario, &self.shared.base_url, client_email)
    }

    /// Tenant, app, secret, mailboxes and URLs for the app with this client ID.
    ///
    /// # Panics
    /// When no tenant has such an app; see [`Emulator::try_microsoft_credentials`].
    pub fn microsoft_credentials(&self, client_id: &str) -> MicrosoftCredentials {
        self.try_microsoft_credentials(client_id)
            .unwrap_or_else(|| panic!("the scenario has no app with client ID {client_id}"))
    }

    pub fn try_microsoft_credentials(&self, client_id: &str) -> Option<MicrosoftCredentials> {
        credentials::microsoft(&self.shared.lock().scenario, &self.shared.base_url, client_id)
    }

    /// Account, users and URLs for a service account.
    pub fn google_credentials(&self, client_email: &str) -> Option<GoogleCredentials> {
        credentials::google(&self.shared.lock().scenario, &self.shared.base_url, client_email)
    }

    /// Makes a self-signed certificate with a fresh RSA key, uploads it to the app (as under
    /// Certificates & secrets) and returns it with its key and thumbprints.
    pub async fn add_certificate(&self, client_id: &str) -> anyhow::Result<CertificateCredential> {
        let name = format!("CN=mailwire-{client_id}");
        let credential = tokio::task::spawn_blocking(move || keys::make_certificate(&name)).await??;
        self.upload_certificate(client_id, &credential.cert_pem)?;
        Ok(credential)
    }

    /// Adds a public certificate (PEM) to the app, as "Upload certificate" under Certificates &
    /// secrets does.
    pub fn upload_certificate(&self, client_id: &str, cert_pem: &str) -> anyhow::Result<()> {
        let mut inner = self.shared.lock();
        let app = inner
            .scenario
            .microsoft
            .tenants
            .iter_mut()
            .flat_map(|t| t.apps.iter_mut())
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
            .with_context(|| format!("no app with client ID {client_id}"))?;
        app.certificates.push(scenario::AppCertificate { cert_pem: cert_pem.to_string(), expires_at: None });
        Ok(())
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.base_url)
            .field("tls", &self.ca_pem.is_some())
            .finish()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn not_found(request: axum::extract::Request) -> axum::response::Response {
    let message = format!("The Mailwire emulator has no endpoint {} {}.", request.method(), request.uri().path());
    respond::json(404, &serde_json::json!({ "error": { "code": "NotFound", "message": message } }), &[])
}
