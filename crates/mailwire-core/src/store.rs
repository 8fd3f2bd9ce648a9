//! The saved-connections file: one JSON document in the OS config directory.
//!
//! Writes are atomic (a temp file in the same folder, fsync, rename) and keep the previous file as
//! `profiles.json.bak`. Every read-modify-write holds an exclusive lock on `profiles.lock`, so two
//! app windows, or the app and the CLI, never lose each other's changes. A file that cannot be read
//! is never overwritten: it is moved aside, reported, and the backup (or nothing) is used instead.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

use crate::profile::Profile;

pub const SCHEMA_VERSION: u32 = 1;
const FILE_NAME: &str = "profiles.json";
const BACKUP_NAME: &str = "profiles.json.bak";
const LOCK_NAME: &str = "profiles.lock";
/// A profiles file this large is not ours; refuse to parse it rather than eat memory.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("The settings folder {path} cannot be used: {reason}")]
    Folder { path: String, reason: String },
    #[error("The saved connections could not be written to {path}: {reason}. Nothing was changed.")]
    Write { path: String, reason: String },
    #[error("The saved connections file {path} was written by a newer Mailwire (format {found}); update Mailwire to use it.")]
    TooNew { path: String, found: u32 },
    #[error("No saved connection is called '{0}'.")]
    NotFound(String),
    #[error("A connection called '{0}' already exists; choose another name.")]
    NameTaken(String),
}

#[derive(Debug, Serialize, Deserialize)]
struct FileV1 {
    version: u32,
    profiles: Vec<Profile>,
    #[serde(default)]
    settings: NetworkSettings,
}

/// How Mailwire reaches the providers, shared by the app and the CLI. The proxy password is in
/// the keychain under [`SETTINGS_SECRET_ID`], never here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkSettings {
    pub proxy_url: Option<String>,
    pub proxy_username: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout_secs: Option<u64>,
    pub request_timeout_secs: Option<u64>,
}

/// The keychain entry name that holds the proxy password.
pub const SETTINGS_SECRET_ID: &str = "settings";

impl NetworkSettings {
    /// The HTTP settings these describe; unset values keep Mailwire's defaults.
    pub fn to_http(&self, proxy_password: Option<crate::secret::SecretString>) -> crate::http::HttpSettings {
        let defaults = crate::http::HttpSettings::default();
        crate::http::HttpSettings {
            connect_timeout: self
                .connect_timeout_secs
                .map(std::time::Duration::from_secs)
                .unwrap_or(defaults.connect_timeout),
            request_timeout: self
                .request_timeout_secs
                .map(std::time::Duration::from_secs)
                .unwrap_or(defaults.request_timeout),
            proxy: self.proxy_url.as_ref().filter(|u| !u.trim().is_empty()).map(|url| crate::http::ProxySettings {
                url: url.trim().to_string(),
                username: self.proxy_username.clone().filter(|u| !u.trim().is_empty()),
                password: proxy_password,
            }),
            ca_file: self.ca_file.clone().filter(|p| !p.as_os_str().is_empty()),
            retry: defaults.retry,
        }
    }
}

/// What loading found: the profiles, and a warning when the file had to be recovered.
#[derive(Debug, Default)]
pub struct Loaded {
    pub profiles: Vec<Profile>,
    pub settings: NetworkSettings,
    pub recovered: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// `MAILWIRE_CONFIG_DIR`, else the OS config directory (e.g. `~/.config/mailwire`).
    pub fn open_default() -> Result<Self, StoreError> {
        if let Some(dir) = std::env::var_os("MAILWIRE_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Ok(Self::at(PathBuf::from(dir)));
        }
        let dirs = directories::ProjectDirs::from("app", "Mailwire", "mailwire").ok_or_else(|| StoreError::Folder {
            path: "(home)".into(),
            reason: "the home folder could not be found".into(),
        })?;
        Ok(Self::at(dirs.config_dir().to_path_buf()))
    }

    pub fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn file_path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    fn ensure_dir(&self) -> Result<(), StoreError> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| StoreError::Folder { path: self.dir.display().to_string(), reason: e.to_string() })
    }

    fn lock(&self) -> Result<File, StoreError> {
        self.ensure_dir()?;
        let path = self.dir.join(LOCK_NAME);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::Folder { path: path.display().to_string(), reason: e.to_string() })?;
        file.lock_exclusive().map_err(|e| StoreError::Folder {
            path: path.display().to_string(),
            reason: format!("cannot lock: {e}"),
        })?;
        Ok(file)
    }

    /// Reads the saved connections.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let _lock = self.lock()?;
        self.load_locked()
    }

    /// Reads, changes and writes the connections under the lock. Nothing is written when `change`
    /// fails. Returns what `change` returned, and a recovery warning if there was one.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Vec<Profile>) -> Result<T, StoreError>,
    ) -> Result<(T, Option<String>), StoreError> {
        let _lock = self.lock()?;
        let mut loaded = self.load_locked()?;
        let value = change(&mut loaded.profiles)?;
        self.write_locked(&loaded.profiles, &loaded.settings)?;
        Ok((value, loaded.recovered))
    }

    /// Replaces the network settings under the lock, keeping the connections.
    pub fn save_settings(&self, settings: &NetworkSettings) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let loaded = self.load_locked()?;
        self.write_locked(&loaded.profiles, settings)
    }

    fn load_locked(&self) -> Result<Loaded, StoreError> {
        let path = self.file_path();
        match read_profiles(&path) {
            Ok(Some((profiles, settings))) => Ok(Loaded { profiles, settings, recovered: None }),
            Ok(None) => Ok(Loaded::default()),
            Err(ReadError::TooNew(found)) => Err(StoreError::TooNew { path: path.display().to_string(), found }),
            Err(ReadError::Broken(reason)) => {
                let aside =
                    self.dir.join(format!("profiles.json.broken-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f")));
                fs::rename(&path, &aside).map_err(|e| StoreError::Write {
                    path: path.display().to_string(),
                    reason: format!("it is unreadable ({reason}) and could not be moved aside: {e}"),
                })?;
                let backup = self.dir.join(BACKUP_NAME);
                let (profiles, settings, source) = match read_profiles(&backup) {
                    Ok(Some((profiles, settings))) => {
                        (profiles, settings, "the connections from the backup were restored")
                    }
                    _ => (Vec::new(), NetworkSettings::default(), "no usable backup exists, so the list starts empty"),
                };
                let message = format!(
                    "The saved connections file could not be read ({reason}). It was kept as {}; {source}.",
                    aside.display()
                );
                tracing::warn!(target: "mailwire::store", "{message}");
                Ok(Loaded { profiles, settings, recovered: Some(message) })
            }
        }
    }

    fn write_locked(&self, profiles: &[Profile], settings: &NetworkSettings) -> Result<(), StoreError> {
        let path = self.file_path();
        let fail = |e: std::io::Error| StoreError::Write { path: path.display().to_string(), reason: e.to_string() };
        let document = FileV1 { version: SCHEMA_VERSION, profiles: profiles.to_vec(), settings: settings.clone() };
        let json = serde_json::to_vec_pretty(&document).expect("profiles always serialise");
        let temp = self.dir.join(format!(".{FILE_NAME}.{}.tmp", uuid::Uuid::new_v4()));
        let result = (|| {
            let mut file = File::create(&temp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            if path.exists() {
                fs::copy(&path, self.dir.join(BACKUP_NAME))?;
            }
            fs::rename(&temp, &path)?;
            if let Ok(dir) = File::open(&self.dir) {
                let _ = dir.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map_err(fail)
    }

    /// The profile with this id, or else this name (case-insensitive).
    pub fn find(&self, name_or_id: &str) -> Result<Profile, StoreError> {
        let loaded = self.load()?;
        find_in(&loaded.profiles, name_or_id).cloned().ok_or_else(|| StoreError::NotFound(name_or_id.to_string()))
    }
}

pub fn find_in<'a>(profiles: &'a [Profile], name_or_id: &str) -> Option<&'a Profile> {
    profiles
        .iter()
        .find(|p| p.id == name_or_id)
        .or_else(|| profiles.iter().find(|p| p.name.eq_ignore_ascii_case(name_or_id.trim())))
}

/// Fails when another profile (not `except_id`) already uses `name`.
pub fn ensure_unique_name(profiles: &[Profile], name: &str, except_id: Option<&str>) -> Result<(), StoreError> {
    if profiles.iter().any(|p| Some(p.id.as_str()) != except_id && p.name.eq_ignore_ascii_case(name.trim())) {
        return Err(StoreError::NameTaken(name.trim().to_string()));
    }
    Ok(())
}

enum ReadError {
    Broken(String),
    TooNew(u32),
}

fn read_profiles(path: &Path) -> Result<Option<(Vec<Profile>, NetworkSettings)>, ReadError> {
    let metadata = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReadError::Broken(e.to_string())),
    };
    if metadata.len() > MAX_FILE_BYTES {
        return Err(ReadError::Broken(format!("it is {} bytes, far larger than a connections file", metadata.len())));
    }
    let bytes = fs::read(path).map_err(|e| ReadError::Broken(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| ReadError::Broken(e.to_string()))?;
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    match version {
        0 => migrate_v0(&value).map(|profiles| Some((profiles, NetworkSettings::default()))).map_err(ReadError::Broken),
        SCHEMA_VERSION => serde_json::from_value::<FileV1>(value)
            .map(|file| Some((file.profiles, file.settings)))
            .map_err(|e| ReadError::Broken(e.to_string())),
        newer => Err(ReadError::TooNew(newer)),
    }
}

/// Format 0 (Mailwire 0.0.x) kept `connections` with snake_case Microsoft-only fields.
fn migrate_v0(value: &serde_json::Value) -> Result<Vec<Profile>, String> {
    #[derive(Deserialize)]
    struct V0 {
        connections: Vec<V0Connection>,
    }
    #[derive(Deserialize)]
    struct V0Connection {
        id: String,
        name: String,
        tenant_id: String,
        client_id: String,
        #[serde(default)]
        cloud: Option<String>,
        sender: String,
        #[serde(default)]
        test_recipient: Option<String>,
        created: chrono::DateTime<chrono::Utc>,
    }
    let old: V0 = serde_json::from_value(value.clone()).map_err(|e| format!("format 0 file: {e}"))?;
    old.connections
        .into_iter()
        .map(|c| {
            let cloud = match c.cloud.as_deref().unwrap_or("global") {
                "global" => crate::microsoft::Cloud::Global,
                "usgov" => crate::microsoft::Cloud::Usgov,
                "usgov-dod" => crate::microsoft::Cloud::UsgovDod,
                "china" => crate::microsoft::Cloud::China,
                other => return Err(format!("format 0 file: unknown cloud '{other}'")),
            };
            let input = crate::microsoft::MicrosoftInput {
                tenant: c.tenant_id,
                client_id: c.client_id,
                cloud,
                authority_host: None,
                graph_url: None,
                certificate: None,
            };
            Ok(Profile {
                id: c.id,
                name: c.name,
                settings: crate::profile::ProviderSettings::Microsoft(input),
                sender: c.sender,
                recipient: c.test_recipient,
                created_at: c.created,
                updated_at: c.created,
                last_check: None,
                sandbox: false,
            })
        })
        .collect()
}

/// The shape of an exported connection: settings only, never secrets.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub mailwire_export: u32,
    pub profile: Profile,
}

pub fn export(profile: &Profile) -> Export {
    let mut profile = profile.clone();
    profile.last_check = None;
    Export { mailwire_export: SCHEMA_VERSION, profile }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("This is not a Mailwire connection export: {0}")]
    NotAnExport(String),
    #[error("The export was made by a newer Mailwire (format {0}); update Mailwire to import it.")]
    TooNew(u32),
    #[error("The exported connection is not valid: {0}")]
    Invalid(String),
}

/// Reads an export; the imported connection gets a new ID so it never collides with the original.
pub fn import(bytes: &[u8]) -> Result<Profile, ImportError> {
    let export: Export = serde_json::from_slice(bytes).map_err(|e| ImportError::NotAnExport(e.to_string()))?;
    if export.mailwire_export > SCHEMA_VERSION {
        return Err(ImportError::TooNew(export.mailwire_export));
    }
    let mut profile = export.profile;
    profile.id = uuid::Uuid::new_v4().to_string();
    profile.last_check = None;
    profile.sandbox = false;
    profile.updated_at = chrono::Utc::now();
    profile.validate().map_err(|e| ImportError::Invalid(e.to_string()))?;
    Ok(profile)
}
