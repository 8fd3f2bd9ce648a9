//! Saved connections: round trips, migration, recovery, concurrent writers, and the keychain.

use std::sync::Arc;

use mailwire_core::microsoft::{Cloud, MicrosoftInput};
use mailwire_core::profile::{Profile, ProviderSettings};
use mailwire_core::secret::{KeyringStore, SecretKind, SecretStore, SecretString};
use mailwire_core::store::{self, Store};

fn microsoft_profile(name: &str) -> Profile {
    Profile::new(
        name,
        ProviderSettings::Microsoft(MicrosoftInput {
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            cloud: Cloud::Global,
            authority_host: None,
            graph_url: None,
            certificate: None,
        }),
        "helpdesk@contoso.com",
        Some("it@contoso.com"),
    )
}

#[test]
fn round_trip_and_backup() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::at(dir.path().to_path_buf());
    assert!(store.load().unwrap().profiles.is_empty());
    let profile = microsoft_profile("Head office");
    store
        .update(|p| {
            p.push(profile.clone());
            Ok(())
        })
        .unwrap();
    store
        .update(|p| {
            p.push(microsoft_profile("Branch"));
            Ok(())
        })
        .unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.profiles.len(), 2);
    assert_eq!(loaded.profiles[0], profile);
    let text = std::fs::read_to_string(store.file_path()).unwrap();
    assert!(text.contains("\"version\": 1"));
    assert!(dir.path().join("profiles.json.bak").exists());
    assert_eq!(store.find("head OFFICE").unwrap().id, profile.id);
    assert!(matches!(store.find("nope"), Err(store::StoreError::NotFound(_))));
}

#[test]
fn a_failed_change_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::at(dir.path().to_path_buf());
    store
        .update(|p| {
            p.push(microsoft_profile("A"));
            Ok(())
        })
        .unwrap();
    let before = std::fs::read(store.file_path()).unwrap();
    let result = store.update(|p| {
        store::ensure_unique_name(p, "a", None)?;
        p.push(microsoft_profile("a"));
        Ok(())
    });
    assert!(matches!(result, Err(store::StoreError::NameTaken(_))));
    assert_eq!(std::fs::read(store.file_path()).unwrap(), before);
}

#[test]
fn version_0_files_are_migrated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("profiles.json"), include_str!("../fixtures/profiles-v0.json")).unwrap();
    let store = Store::at(dir.path().to_path_buf());
    let loaded = store.load().unwrap();
    assert!(loaded.recovered.is_none());
    assert_eq!(loaded.profiles.len(), 2);
    let ProviderSettings::Microsoft(input) = &loaded.profiles[1].settings else { panic!() };
    assert_eq!(input.cloud, Cloud::Usgov);
    assert_eq!(loaded.profiles[0].recipient.as_deref(), Some("it@contoso.com"));
    store.update(|_| Ok(())).unwrap();
    assert!(std::fs::read_to_string(store.file_path()).unwrap().contains("\"version\": 1"));
}

#[test]
fn a_corrupt_file_is_kept_aside_and_the_backup_restored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::at(dir.path().to_path_buf());
    store
        .update(|p| {
            p.push(microsoft_profile("First"));
            Ok(())
        })
        .unwrap();
    store
        .update(|p| {
            p.push(microsoft_profile("Second"));
            Ok(())
        })
        .unwrap();
    std::fs::write(store.file_path(), b"{\"version\": 1, \"profiles\": [ {\"id\": ").unwrap();
    let loaded = store.load().unwrap();
    let warning = loaded.recovered.expect("reported");
    assert!(warning.contains("backup"), "{warning}");
    assert_eq!(loaded.profiles.len(), 1, "the backup holds the state before the last write");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("profiles.json.broken-"))
        .collect();
    assert_eq!(kept.len(), 1, "the unreadable file is kept, not overwritten");
}

#[test]
fn a_file_from_a_newer_version_is_not_touched() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::at(dir.path().to_path_buf());
    std::fs::write(store.file_path(), br#"{"version": 99, "profiles": []}"#).unwrap();
    assert!(matches!(store.load(), Err(store::StoreError::TooNew { found: 99, .. })));
    assert!(store.update(|_| Ok(())).is_err());
    assert!(std::fs::read_to_string(store.file_path()).unwrap().contains("99"));
}

#[test]
fn concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let path = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let store = Store::at(path);
                for n in 0..10 {
                    store
                        .update(|p| {
                            p.push(microsoft_profile(&format!("t{t}-{n}")));
                            Ok(())
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let loaded = Store::at(dir.path().to_path_buf()).load().unwrap();
    assert_eq!(loaded.profiles.len(), 80);
}

#[test]
fn export_has_no_secret_and_import_gets_a_new_id() {
    let profile = microsoft_profile("Exported");
    let text = serde_json::to_string(&store::export(&profile)).unwrap();
    let imported = store::import(text.as_bytes()).unwrap();
    assert_ne!(imported.id, profile.id);
    assert_eq!(imported.name, "Exported");
    assert!(matches!(store::import(b"{\"hello\": 1}"), Err(store::ImportError::NotAnExport(_))));
}

/// Talks to the real Secret Service (started by .ci/run). Required in CI; elsewhere it reports
/// when no keychain is reachable and returns.
#[test]
fn keyring_round_trip() {
    let store = Arc::new(KeyringStore::with_service(format!("app.mailwire.test.{}", uuid::Uuid::new_v4())));
    let id = uuid::Uuid::new_v4().to_string();
    let secret = SecretString::new("keyring-test-value-Zq9~");
    match store.put(&id, SecretKind::ClientSecret, &secret) {
        Ok(()) => {}
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("no keychain reachable here ({e}); CI runs this against gnome-keyring");
            return;
        }
        Err(e) => panic!("CI must provide a Secret Service: {e}"),
    }
    assert_eq!(store.get(&id, SecretKind::ClientSecret).unwrap().unwrap().expose(), secret.expose());
    // A private key as it is kept: 1.7 KB of PEM text comes back byte for byte.
    let key = SecretString::new(mailwire_core::certificate::create("keyring").unwrap().private_key_pem.expose());
    store.put(&id, SecretKind::CertificateKey, &key).unwrap();
    assert_eq!(store.get(&id, SecretKind::CertificateKey).unwrap().unwrap().expose(), key.expose());
    store.delete_all(&id).unwrap();
    assert!(store.get(&id, SecretKind::ClientSecret).unwrap().is_none());
    assert!(store.get(&id, SecretKind::CertificateKey).unwrap().is_none());
}
