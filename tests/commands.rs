//! Every desktop command through Tauri's mock runtime: results, error shapes, and that no command
//! ever hands a secret to the webview.

use std::sync::Arc;

use mailwire_core::microsoft::{Cloud, MicrosoftInput};
use mailwire_core::profile::{Profile, ProviderSettings};
use mailwire_core::secret::{MemoryStore, SecretKind, SecretStore, SecretString};
use mailwire_core::store::Store;
use mailwire_desktop::state::AppState;
use mailwire_emulator::scenario::sandbox as ids;
use mailwire_emulator::{Emulator, Scenario};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Harness {
    _app: App<tauri::test::MockRuntime>,
    webview: WebviewWindow<tauri::test::MockRuntime>,
    secrets: Arc<MemoryStore>,
    store: Store,
    _dir: tempfile::TempDir,
    /// Every response, searched for secrets at the end of each test.
    seen: std::cell::RefCell<String>,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().to_path_buf());
        let secrets = Arc::new(MemoryStore::default());
        let state = AppState::new(store.clone(), secrets.clone()).unwrap();
        let app = mailwire_desktop::with_commands(mock_builder())
            .manage(state)
            .build(tauri::generate_context!())
            .expect("app builds");
        let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        Self { _app: app, webview, secrets, store, _dir: dir, seen: Default::default() }
    }

    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        let result =
            tauri::test::get_ipc_response(&self.webview, request).map(|body| body.deserialize::<Value>().unwrap());
        let text = match &result {
            Ok(v) | Err(v) => v.to_string(),
        };
        self.seen.borrow_mut().push_str(&text);
        result
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args).unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn err(&self, cmd: &str, args: Value) -> Value {
        let error = self.call(cmd, args).expect_err("the command fails");
        assert!(error["kind"].is_string() && error["message"].is_string(), "error shape: {error}");
        error
    }

    fn assert_never_saw(&self, secrets: &[&str]) {
        let seen = self.seen.borrow();
        for secret in secrets {
            assert!(!seen.contains(secret), "a command returned a secret: {secret}");
        }
        assert!(!seen.contains("BEGIN PRIVATE KEY"), "a command returned a private key");
        assert!(!seen.contains("eyJ"), "a command returned a token");
    }
}

fn microsoft_input(secret: Option<&str>) -> Value {
    json!({"input": {
        "id": null, "name": "Head office", "provider": "microsoft", "sender": "helpdesk@contoso.com",
        "recipient": "it@contoso.com",
        "microsoft": {"cloud": "global", "tenant": "contoso.onmicrosoft.com",
                      "clientId": "11111111-2222-3333-4444-555555555555", "clientSecret": secret},
        "google": null
    }})
}

#[test]
fn saving_a_microsoft_connection_keeps_the_secret_in_the_store_only() {
    let h = Harness::new();
    assert_eq!(h.ok("list_profiles", json!({})), json!([]));

    let missing = h.err("save_profile", microsoft_input(None));
    assert_eq!((missing["kind"].as_str(), missing["field"].as_str()), (Some("validation"), Some("clientSecret")));
    let bad = h.err(
        "save_profile",
        json!({"input": {"id": null, "name": "x", "provider": "microsoft", "sender": "a@b.com", "recipient": null,
            "microsoft": {"cloud": "global", "tenant": "common", "clientId": "11111111-2222-3333-4444-555555555555", "clientSecret": "s"}, "google": null}}),
    );
    assert_eq!(bad["field"], "tenant");
    assert!(h.store.load().unwrap().profiles.is_empty(), "nothing saved on bad input");

    let view = h.ok("save_profile", microsoft_input(Some("Top8Q~secret-value-for-tests-0123")));
    assert_eq!(view["microsoft"]["secretStored"], true);
    let id = view["id"].as_str().unwrap().to_string();
    assert_eq!(
        h.secrets.get(&id, SecretKind::ClientSecret).unwrap().unwrap().expose(),
        "Top8Q~secret-value-for-tests-0123"
    );

    // Editing without typing a secret keeps the stored one.
    let mut edit = microsoft_input(None);
    edit["input"]["id"] = json!(id);
    edit["input"]["name"] = json!("Head office (edited)");
    let edited = h.ok("save_profile", edit);
    assert_eq!(edited["name"], "Head office (edited)");
    assert_eq!(edited["microsoft"]["secretStored"], true);

    let list = h.ok("list_profiles", json!({}));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["provider"], "microsoft");
    let duplicate = h.ok("duplicate_profile", json!({"id": id}));
    assert_eq!(duplicate["name"], "Head office (edited) (copy)");
    assert_eq!(duplicate["microsoft"]["secretStored"], true);

    h.ok("delete_profile", json!({"id": id}));
    assert!(h.secrets.get(&id, SecretKind::ClientSecret).unwrap().is_none(), "deleting removes the secret");
    let gone = h.err("get_profile", json!({"id": id}));
    assert_eq!(gone["kind"], "not_found");
    h.assert_never_saw(&["Top8Q~secret-value-for-tests-0123"]);
}

#[test]
fn inline_validation_comes_from_the_core() {
    let h = Harness::new();
    let warn =
        h.ok("validate_field", json!({"provider": "microsoft", "field": "clientSecret", "value": ids::APP_SECRET_ID}));
    assert_eq!(warn["level"], "warn");
    assert!(warn["message"].as_str().unwrap().contains("Value"));
    let error = h.ok("validate_field", json!({"provider": "microsoft", "field": "clientId", "value": "abc"}));
    assert_eq!(error["level"], "error");
    let ok = h.ok("validate_field", json!({"provider": "microsoft", "field": "tenant", "value": ids::TENANT_ID}));
    assert_eq!(ok["level"], "ok");
}

#[test]
fn google_key_import_returns_public_facts_only() {
    let h = Harness::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(Emulator::start(Scenario::sandbox())).unwrap();
    let key_json = emulator.google_key_json(ids::SA_EMAIL);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    std::fs::write(&path, &key_json).unwrap();

    let facts = h.ok("import_google_key", json!({"path": path}));
    assert_eq!(facts["clientId"], ids::SA_CLIENT_ID);
    assert_eq!(facts["scopeString"], "https://mail.google.com/");
    assert!(facts["delegationUrl"].as_str().unwrap().contains(ids::SA_CLIENT_ID));
    assert!(facts["gmailApiUrl"].as_str().unwrap().contains(ids::PROJECT_ID));

    let bad = dir.path().join("oauth.json");
    std::fs::write(&bad, br#"{"installed":{}}"#).unwrap();
    let error = h.err("import_google_key", json!({"path": bad}));
    assert_eq!(error["field"], "key");
    assert!(error["message"].as_str().unwrap().contains("OAuth client"));

    let view = h.ok(
        "save_profile",
        json!({"input": {"id": null, "name": "Workspace", "provider": "google", "sender": ids::GOOGLE_SENDER,
            "recipient": null, "microsoft": null, "google": {"importId": facts["importId"], "scopes": []}}}),
    );
    assert_eq!(view["google"]["keyStored"], true);
    assert_eq!(view["google"]["key"]["clientId"], ids::SA_CLIENT_ID);
    let id = view["id"].as_str().unwrap();
    assert!(h.secrets.get(id, SecretKind::GooglePrivateKey).unwrap().unwrap().expose().contains("PRIVATE KEY"));

    let info = h.ok(
        "google_delegation_info",
        json!({"clientId": "42", "scopes": ["https://www.googleapis.com/auth/gmail.send"]}),
    );
    assert_eq!(info["scopeString"], "https://www.googleapis.com/auth/gmail.send");
    h.assert_never_saw(&[]);
}

#[test]
fn checks_run_stream_and_report_without_secrets() {
    let h = Harness::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(Emulator::start(Scenario::sandbox())).unwrap();
    let mut profile = Profile::new(
        "Contoso",
        ProviderSettings::Microsoft(MicrosoftInput {
            tenant: ids::TENANT_ID.into(),
            client_id: ids::APP_CLIENT_ID.into(),
            cloud: Cloud::Custom,
            authority_host: Some(emulator.base_url()),
            graph_url: Some(emulator.base_url()),
            certificate: None,
        }),
        ids::MS_SENDER,
        Some(ids::MS_RECIPIENT),
    );
    profile.id = "contoso".into();
    h.store
        .update(|p| {
            p.push(profile.clone());
            Ok(())
        })
        .unwrap();
    h.secrets.put("contoso", SecretKind::ClientSecret, &SecretString::new(ids::APP_SECRET)).unwrap();

    assert_eq!(h.ok("get_last_report", json!({"id": "contoso"})), Value::Null);
    let report = h.ok("run_check", json!({"id": "contoso", "send": true}));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["steps"].as_array().unwrap().len(), 4);
    assert_eq!(emulator.outbox().len(), 1);
    let list = h.ok("list_profiles", json!({}));
    assert_eq!(list[0]["lastCheck"]["ok"], true);

    let markdown = h.ok("export_report", json!({"id": "contoso", "format": "markdown"}));
    assert!(markdown.as_str().unwrap().contains("# Mailwire check: Microsoft 365"));
    let as_json = h.ok("export_report", json!({"id": "contoso", "format": "json"}));
    assert!(as_json.as_str().unwrap().contains("\"steps\""));
    assert_eq!(h.ok("get_last_report", json!({"id": "contoso"}))["ok"], true);
    assert_eq!(h.ok("cancel_check", json!({"id": "contoso"})), false);
    let no_report = h.err("export_report", json!({"id": "other", "format": "json"}));
    assert_eq!(no_report["kind"], "not_found");
    h.assert_never_saw(&[ids::APP_SECRET]);
}

#[test]
fn the_sandbox_adds_a_passing_and_a_failing_demo() {
    let h = Harness::new();
    let profiles = h.ok("start_sandbox", json!({}));
    assert_eq!(profiles.as_array().unwrap().len(), 2);
    assert!(profiles.as_array().unwrap().iter().all(|p| p["sandbox"] == true));
    let again = h.ok("start_sandbox", json!({}));
    assert_eq!(again.as_array().unwrap().len(), 2, "starting twice adds nothing");
    let ms = h.ok("run_check", json!({"id": "sandbox-microsoft", "send": true}));
    assert_eq!(ms["ok"], true, "{ms}");
    let google = h.ok("run_check", json!({"id": "sandbox-google", "send": false}));
    assert_eq!(google["ok"], false);
    let delegation = google["steps"].as_array().unwrap().iter().find(|s| s["id"] == "delegation").unwrap();
    assert_eq!(delegation["code"], "unauthorized_client");
    assert_eq!(h.ok("app_info", json!({}))["sandboxRunning"], true);
    h.assert_never_saw(&[ids::APP_SECRET, ids::UNCONSENTED_SECRET]);
}

#[test]
fn only_console_links_open() {
    let h = Harness::new();
    for url in ["https://evil.example.com/", "javascript:alert(1)", "file:///etc/passwd", "http://entra.microsoft.com/"]
    {
        let error = h.err("open_link", json!({"url": url}));
        assert_eq!(error["kind"], "forbidden_link", "{url}");
    }
    h.ok("first_paint", json!({"ms": 123.0}));
    assert_eq!(h.ok("app_info", json!({}))["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn network_settings_are_validated_saved_and_keep_the_password_in_the_keychain() {
    let h = Harness::new();
    let empty = h.ok("get_network_settings", json!({}));
    assert_eq!(empty["proxyPasswordStored"], false);
    assert_eq!(empty["proxyUrl"], Value::Null);

    let bad_ca =
        h.err("save_network_settings", json!({"settings": {"caFile": "/nonexistent/ca.pem"}, "proxyPassword": null}));
    assert_eq!(bad_ca["field"], "caFile");
    let bad_proxy =
        h.err("save_network_settings", json!({"settings": {"proxyUrl": "ftp://proxy"}, "proxyPassword": null}));
    assert_eq!(bad_proxy["field"], "proxyUrl");
    assert_eq!(h.store.load().unwrap().settings, Default::default(), "refused settings are not saved");

    let saved = h.ok(
        "save_network_settings",
        json!({"settings": {"proxyUrl": " http://proxy.corp:3128 ", "proxyUsername": "svc-mail", "requestTimeoutSecs": 5000},
               "proxyPassword": "pr0xy-Passw0rd!"}),
    );
    assert_eq!(saved["proxyUrl"], "http://proxy.corp:3128");
    assert_eq!(saved["requestTimeoutSecs"], 600, "timeouts are clamped");
    assert_eq!(saved["proxyPasswordStored"], true);
    let stored = h.secrets.get(mailwire_core::store::SETTINGS_SECRET_ID, SecretKind::ProxyPassword).unwrap().unwrap();
    assert_eq!(stored.expose(), "pr0xy-Passw0rd!");
    let file = std::fs::read_to_string(h.store.file_path()).unwrap();
    assert!(file.contains("proxy.corp") && !file.contains("pr0xy-Passw0rd!"));

    let cleared = h.ok("save_network_settings", json!({"settings": {}, "proxyPassword": null}));
    assert_eq!(cleared["proxyPasswordStored"], false, "removing the proxy removes its password");
    h.assert_never_saw(&["pr0xy-Passw0rd!"]);
}

#[test]
fn a_copy_of_a_sandbox_connection_still_runs_in_the_sandbox() {
    let h = Harness::new();
    h.ok("start_sandbox", json!({}));
    let copy = h.ok("duplicate_profile", json!({"id": "sandbox-microsoft"}));
    assert_eq!(copy["sandbox"], true);
    let report = h.ok("run_check", json!({"id": copy["id"], "send": false}));
    assert_eq!(report["ok"], true, "{report}");
}

#[test]
fn a_certificate_is_created_saved_exported_and_its_key_stays_in_the_keychain() {
    let h = Harness::new();
    let with_certificate = |import_id: Value| {
        let mut input = microsoft_input(None);
        input["input"]["microsoft"]["credential"] = json!("certificate");
        input["input"]["microsoft"]["certificateImportId"] = import_id;
        input
    };
    let missing = h.err("save_profile", with_certificate(Value::Null));
    assert_eq!(missing["field"], "certificate");

    let created = h.ok("create_certificate", json!({"name": "Head office"}));
    assert_eq!(created["subject"], "CN=Mailwire Head office");
    assert_eq!(created["thumbprint"].as_str().unwrap().len(), 40);
    assert_eq!(created["fileName"], "mailwire-head-office.cer");
    let view = h.ok("save_profile", with_certificate(created["importId"].clone()));
    assert_eq!(view["microsoft"]["credential"], "certificate");
    assert_eq!(view["microsoft"]["secretStored"], true);
    assert_eq!(view["microsoft"]["certificate"]["thumbprint"], created["thumbprint"]);
    let id = view["id"].as_str().unwrap().to_string();
    let key = h.secrets.get(&id, SecretKind::CertificateKey).unwrap().expect("the key is in the keychain");
    let listed = h.ok("list_profiles", json!({}));
    assert!(listed[0]["certificateExpires"].is_string(), "{listed}");
    assert_eq!(listed[0]["certificateRenewalDue"], false, "a new certificate is good for two years");
    assert!(key.expose().contains("PRIVATE KEY"));

    // The public certificate, for upload to Entra; the saved connection still has it after the form is gone.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("upload.cer");
    std::env::set_var("MAILWIRE_E2E_SAVE_FILE", &out);
    let written = h.ok("export_certificate", json!({"importId": null, "profileId": id}));
    std::env::remove_var("MAILWIRE_E2E_SAVE_FILE");
    assert_eq!(written, json!(out.display().to_string()));
    let pem = std::fs::read_to_string(&out).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && !pem.contains("PRIVATE KEY"));
    assert_eq!(mailwire_core::certificate::facts(&pem).unwrap().thumbprint, created["thumbprint"]);

    // A save that fails (the name is taken) leaves the working key in place.
    let mut other = microsoft_input(Some("Top8Q~secret-value-for-tests-0123"));
    other["input"]["name"] = json!("Branch office");
    h.ok("save_profile", other);
    let replacement = h.ok("create_certificate", json!({"name": "Head office"}));
    let mut clash = with_certificate(replacement["importId"].clone());
    clash["input"]["id"] = json!(id);
    clash["input"]["name"] = json!("Branch office");
    assert_eq!(h.err("save_profile", clash)["field"], "name");
    assert_eq!(h.secrets.get(&id, SecretKind::CertificateKey).unwrap().unwrap().expose(), key.expose());

    // Editing keeps the certificate; moving to a client secret leaves one credential in the keychain.
    let mut edit = with_certificate(Value::Null);
    edit["input"]["id"] = json!(id);
    assert_eq!(h.ok("save_profile", edit)["microsoft"]["certificate"]["thumbprint"], created["thumbprint"]);
    let mut to_secret = microsoft_input(Some("Top8Q~secret-value-for-tests-0123"));
    to_secret["input"]["id"] = json!(id);
    let switched = h.ok("save_profile", to_secret);
    assert_eq!(switched["microsoft"]["credential"], "secret");
    assert!(switched["microsoft"]["certificate"].is_null());
    assert!(h.secrets.get(&id, SecretKind::CertificateKey).unwrap().is_none());
    h.assert_never_saw(&["Top8Q~secret-value-for-tests-0123", key.expose()]);
}

/// A .pfx is opened in two steps: the file, then the password the form asks for.
#[test]
fn a_pfx_certificate_asks_for_its_password_and_keeps_asking_until_it_opens() {
    let h = Harness::new();
    let pfx =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mailwire-core/tests/fixtures/pfx-aes256.pfx");
    std::env::set_var("MAILWIRE_E2E_CERTIFICATE_FILE", &pfx);
    let needed = h.err("import_certificate", json!({"name": "Head office"}));
    std::env::remove_var("MAILWIRE_E2E_CERTIFICATE_FILE");
    assert_eq!(needed["kind"], "pfx_password", "{needed}");
    assert_eq!(needed["field"], "certificate");

    let wrong = h.err("unlock_certificate", json!({"name": "Head office", "password": "guess"}));
    assert_eq!(wrong["kind"], "pfx_password");
    assert!(wrong["message"].as_str().unwrap().contains("does not open"), "{wrong}");

    let opened = h.ok("unlock_certificate", json!({"name": "Head office", "password": "Mailwire-test"}));
    assert_eq!(opened["thumbprint"], "A68A9175A593F2C1B0FB271E77B87ACB7B7B9DE8");
    assert_eq!(opened["subject"], "CN=Mailwire PFX fixture");
    let again = h.err("unlock_certificate", json!({"name": "Head office", "password": "Mailwire-test"}));
    assert!(again["message"].as_str().unwrap().contains("Choose the .pfx file again"), "{again}");

    let mut input = microsoft_input(None);
    input["input"]["microsoft"]["credential"] = json!("certificate");
    input["input"]["microsoft"]["certificateImportId"] = opened["importId"].clone();
    let view = h.ok("save_profile", input);
    let id = view["id"].as_str().unwrap();
    let key = h.secrets.get(id, SecretKind::CertificateKey).unwrap().expect("the key is in the keychain");
    assert!(key.expose().starts_with("-----BEGIN PRIVATE KEY-----"));
    h.assert_never_saw(&["Mailwire-test"]);
}

/// Without a clipboard (here: no clipboard plugin, as on a machine without a display server) the
/// copy reports it, so the page can fall back and tell the user.
#[test]
fn copy_text_says_when_there_is_no_clipboard() {
    let h = Harness::new();
    let error = h.err("copy_text", json!({"text": "11111111-2222-3333-4444-555555555555"}));
    assert_eq!(error["kind"], "clipboard", "{error}");
}

#[test]
fn the_ca_file_dialog_returns_the_chosen_path() {
    let h = Harness::new();
    std::env::set_var("MAILWIRE_E2E_CA_FILE", "/etc/ssl/certs/corporate-root.pem");
    let chosen = h.ok("choose_ca_file", json!({}));
    std::env::remove_var("MAILWIRE_E2E_CA_FILE");
    assert_eq!(chosen, json!("/etc/ssl/certs/corporate-root.pem"));
}

/// The first screen's list rides along with the page: the same summaries `list_profiles` gives,
/// and nothing secret.
#[test]
fn the_page_gets_the_connections_list_with_its_boot_script() {
    let h = Harness::new();
    h.ok("save_profile", microsoft_input(Some("Top8Q~secret-value-for-tests-0123")));
    let state = AppState::new(h.store.clone(), h.secrets.clone()).unwrap();
    let script = mailwire_desktop::commands::boot_script(&state);
    let json = script.strip_prefix("window.__MAILWIRE_BOOT__ = ").and_then(|s| s.strip_suffix(';')).unwrap();
    let boot: Value = serde_json::from_str(json).unwrap();
    assert_eq!(boot["profiles"], h.ok("list_profiles", json!({})));
    assert_eq!(boot["profiles"][0]["name"], "Head office");
    assert!(!script.contains("Top8Q~"));
}
