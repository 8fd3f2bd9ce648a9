//! The built-in sandbox: the provider emulator in-process, with two demo connections.
//!
//! One demo connection passes every check; the other fails with a real diagnosis (domain-wide
//! delegation missing), so a new user sees both outcomes before touching a real tenant. Sandbox
//! secrets are not secrets: they live in memory and are recreated at each start.

use mailwire_core::google::{self, GoogleInput, KeyFacts};
use mailwire_core::microsoft::{Cloud, MicrosoftInput};
use mailwire_core::profile::{GoogleProfile, Profile, ProviderSettings};
use mailwire_core::secret::{MemoryStore, SecretKind, SecretStore, SecretString};
use mailwire_emulator::scenario::sandbox as ids;
use mailwire_emulator::{Emulator, Scenario};

pub const MICROSOFT_DEMO_ID: &str = "sandbox-microsoft";
pub const GOOGLE_DEMO_ID: &str = "sandbox-google";

pub struct Sandbox {
    pub emulator: Emulator,
    pub secrets: MemoryStore,
    google_key: KeyFacts,
}

impl Sandbox {
    pub async fn start() -> anyhow::Result<Self> {
        let emulator = Emulator::start(Scenario::sandbox()).await?;
        let secrets = MemoryStore::default();
        let credentials = emulator.microsoft_credentials(ids::APP_CLIENT_ID);
        secrets.put(MICROSOFT_DEMO_ID, SecretKind::ClientSecret, &SecretString::new(credentials.client_secret))?;
        let key = google::parse_key(emulator.google_key_json(ids::SA_UNDELEGATED_EMAIL).as_bytes())?;
        secrets.put(GOOGLE_DEMO_ID, SecretKind::GooglePrivateKey, &key.private_key)?;
        Ok(Self { emulator, secrets, google_key: key.facts })
    }

    /// The demo connections as they are saved; [`Sandbox::prepare`] repoints them at each run.
    pub fn demo_profiles(&self) -> Vec<Profile> {
        let mut microsoft = Profile::new(
            "Sandbox · Microsoft 365",
            ProviderSettings::Microsoft(MicrosoftInput {
                tenant: ids::TENANT_DOMAIN.into(),
                client_id: ids::APP_CLIENT_ID.into(),
                cloud: Cloud::Custom,
                authority_host: None,
                graph_url: None,
                certificate: None,
            }),
            ids::MS_SENDER,
            Some(ids::MS_RECIPIENT),
        );
        microsoft.id = MICROSOFT_DEMO_ID.into();
        microsoft.sandbox = true;
        let mut google = Profile::new(
            "Sandbox · Google (no delegation)",
            ProviderSettings::Google(GoogleProfile {
                key: self.google_key.clone(),
                input: GoogleInput { scopes: vec![google::SCOPE_FULL.into()], token_url: None, gmail_url: None },
            }),
            ids::GOOGLE_SENDER,
            Some(ids::GOOGLE_RECIPIENT),
        );
        google.id = GOOGLE_DEMO_ID.into();
        google.sandbox = true;
        vec![self.prepare(&microsoft), self.prepare(&google)]
    }

    /// Points a sandbox connection at this run's emulator.
    pub fn prepare(&self, profile: &Profile) -> Profile {
        let base = self.emulator.base_url();
        let mut prepared = profile.clone();
        match &mut prepared.settings {
            ProviderSettings::Microsoft(input) => {
                input.cloud = Cloud::Custom;
                input.authority_host = Some(base.clone());
                input.graph_url = Some(base);
            }
            ProviderSettings::Google(google_profile) => {
                google_profile.key = self.google_key.clone();
                google_profile.input.token_url = Some(self.emulator.google_token_url());
                google_profile.input.gmail_url = Some(base);
            }
        }
        prepared
    }
}
