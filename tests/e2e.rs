//! End-to-end tests: the real `mailwire-desktop` binary, driven through `tauri-driver` and
//! WebKitWebDriver under Xvfb, against the provider emulator running inside this test process.
//!
//! Each scenario starts its own app with its own config dir, log dir and keychain service name, and
//! points the app's saved connections at its own emulator through the `MAILWIRE_*` endpoint
//! overrides (set on tauri-driver, which hands its environment to the app). WebDriver's ports
//! 4444/4445 are fixed, so the scenarios run one at a time behind [`SERIAL`]. Screenshots of every
//! screen land in `target/e2e-artifacts/`, next to each scenario's tauri-driver log.
//!
//! Without a display or without tauri-driver the tests print a notice and pass, so `cargo test` on
//! a developer machine still works; with `CI` set they fail instead. `scripts/mailwire.sh test`
//! runs them under `xvfb-run` with a private D-Bus session and an unlocked Secret Service.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::future::Future;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use mailwire_emulator::scenario::sandbox;
use mailwire_emulator::{Emulator, Scenario};
use serde_json::{json, Value};

const APP_BINARY: &str = env!("CARGO_BIN_EXE_mailwire-desktop");
const DRIVER_ADDR: &str = "127.0.0.1:4444";
/// A whole scenario, app start to app exit. Without a display WebDriver hangs instead of failing.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);
/// One wait for the UI to reach a state (a check run against the emulator takes well under 1 s).
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Ports 4444/4445 are fixed: one scenario at a time. A tokio mutex does not poison, so one
/// failing scenario does not fail the others.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---- the scenarios ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_screen_shows_the_empty_connections_list() {
    let Some(driver) = prerequisites() else { return };
    let _serial = SERIAL.lock().await;
    within(SCENARIO_TIMEOUT, async {
        let app = App::launch("first-screen", &driver, Vec::new()).await;
        let heading = app.text("#connections h1").await;
        assert_eq!(heading, "Connections", "the first screen's heading");
        let empty = app.text("#connections .empty-state").await;
        assert!(empty.contains("Send mail through an API, not SMTP"), "empty state text: {empty:?}");
        app.wait_visible("#add-connection").await;
        app.wait_visible("#try-sandbox").await;
        let add = app.text("#add-connection").await;
        assert_eq!(add, "Add connection");
        let sandbox = app.text("#try-sandbox").await;
        assert_eq!(sandbox, "Try it with the built-in sandbox");
        let title: String = app.js("return document.title").await;
        assert_eq!(title, "Connections — Mailwire");
        app.screenshot("first-screen").await;
        // The stylesheet applied and the artwork loaded (the screenshot waited for images).
        let broken: Vec<String> = app
            .js("return [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src)")
            .await;
        assert!(broken.is_empty(), "images that did not load: {broken:?}");
        let styled: bool = app.js("return getComputedStyle(document.body).overflow === 'hidden'").await;
        assert!(styled, "css/app.css is not applied");
        app.quit().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_connection_passes_then_shows_the_wrong_secret_fix() {
    let Some(driver) = prerequisites() else { return };
    let _serial = SERIAL.lock().await;
    let emulator = Emulator::start(Scenario::sandbox()).await.expect("the emulator starts");
    let creds = emulator.microsoft_credentials(sandbox::APP_CLIENT_ID);
    assert_eq!(creds.tenant_id, sandbox::TENANT_ID);
    let env = vec![("MAILWIRE_MS_AUTHORITY_HOST", emulator.base_url()), ("MAILWIRE_GRAPH_URL", emulator.base_url())];
    within(SCENARIO_TIMEOUT, async {
        let app = App::launch("microsoft", &driver, env).await;

        app.click("#add-connection").await;
        app.click("#provider-microsoft").await;
        app.type_into("#field-name", "Helpdesk notifications").await;
        app.find("#field-cloud").await.select_by_value("global").await.expect("choose the global cloud");
        app.type_into("#field-tenant", sandbox::TENANT_ID).await;
        app.type_into("#field-client-id", &creds.client_id).await;
        app.type_into("#field-client-secret", &creds.client_secret).await;
        app.type_into("#field-sender", &creds.sender).await;
        app.type_into("#field-recipient", &creds.recipient).await;
        // Inline validation (through the core) has answered for the GUIDs and found nothing wrong.
        app.wait_js(
            "return document.querySelector('#field-client-id-msg')?.dataset.level === 'ok'",
            "client ID validated",
        )
        .await;
        app.assert_no_field_errors().await;
        app.screenshot("microsoft-1-form").await;

        app.click("#save-connection").await;
        app.wait_visible("#connection-detail #run-checks").await;
        app.screenshot("microsoft-2-saved").await;

        let run = app.run_checks("#run-checks").await;
        assert!(run.ok(), "a correct connection passes:\n{run}");
        assert_eq!(run.summary_state, "pass", "{run}");
        for id in ["inputs", "token", "permissions"] {
            assert_eq!(run.status(id), "pass", "step {id}:\n{run}");
        }
        assert!(matches!(run.status("send"), "skipped" | "missing"), "Run checks does not send:\n{run}");
        assert!(emulator.outbox().is_empty(), "Run checks sent mail");
        app.screenshot("microsoft-3-checks-passed").await;

        let run = app.run_checks("#send-test").await;
        assert!(run.ok(), "sending a test email passes:\n{run}");
        assert_eq!(run.status("send"), "pass", "{run}");
        let outbox = emulator.outbox();
        assert_eq!(outbox.len(), 1, "exactly one mail: {outbox:#?}");
        assert_eq!(outbox[0].provider, "microsoft");
        assert_eq!(outbox[0].to, vec![creds.recipient.clone()]);
        assert_eq!(outbox[0].from.to_lowercase(), creds.sender.to_lowercase());
        app.screenshot("microsoft-4-test-email-sent").await;

        // Replace the stored secret with a wrong one: Entra answers AADSTS7000215.
        app.click("#edit-connection").await;
        app.wait_visible("#connection-form #replace-secret").await;
        let stored = app.text("#secret-stored-text").await;
        assert!(stored.contains("Stored in the system keychain"), "secret pill: {stored:?}");
        let secret_value: String = app.js("return document.getElementById('field-client-secret').value").await;
        assert!(secret_value.is_empty(), "the form must never hold the stored secret");
        app.screenshot("microsoft-5-edit-stored-secret").await;
        app.click("#replace-secret").await;
        app.type_into("#field-client-secret", "Wr0ng~NotTheSecretValue.0123456789abcdEFgh").await;
        app.screenshot("microsoft-6-edit-replace-secret").await;
        app.click("#save-connection").await;
        app.wait_visible("#connection-detail #run-checks").await;

        let run = app.run_checks("#run-checks").await;
        assert!(!run.ok(), "a wrong secret fails:\n{run}");
        assert_eq!(run.summary_state, "fail", "{run}");
        assert_eq!(run.status("inputs"), "pass", "{run}");
        assert_eq!(run.status("token"), "fail", "{run}");
        let token = run.step("token");
        assert_eq!(token.code.as_deref(), Some("AADSTS7000215"), "{run}");
        let fix = token.fix.clone().unwrap_or_default();
        assert!(fix.contains("Certificates & secrets"), "the fix names the portal page:\n{fix}");
        assert!(run.summary_text.contains("AADSTS7000215"), "{run}");
        assert_eq!(emulator.outbox().len(), 1, "a failing check sent mail");

        // Copy report puts Markdown on the system clipboard: the provider's code and trace ID for
        // the ticket, never the secret.
        app.click("#copy-report").await;
        app.wait_js(
            "return document.getElementById('toast')?.textContent.includes('Report copied')",
            "the report-copied notice",
        )
        .await;
        if let Some(copied) = clipboard_text() {
            assert!(copied.contains("AADSTS7000215") && copied.contains("Trace ID"), "copied report:\n{copied}");
            assert!(!copied.contains("Wr0ng~NotTheSecretValue"), "the copied report holds the secret");
        }
        app.screenshot("microsoft-7-wrong-secret-fix").await;
        app.quit().await;
    })
    .await;
    emulator.shutdown().await;
}

/// The certificate path a security team asks for: Mailwire creates the certificate, the helpdesk
/// saves it and uploads it to the app registration, and the connection signs in with it. The
/// report of the passing run is saved too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_certificate_is_created_uploaded_and_signs_in() {
    let Some(driver) = prerequisites() else { return };
    let _serial = SERIAL.lock().await;
    let emulator = Emulator::start(Scenario::sandbox()).await.expect("the emulator starts");
    let creds = emulator.microsoft_credentials(sandbox::APP_CLIENT_ID);
    let files = tempfile::tempdir().expect("a temp dir");
    let saved_file = files.path().join("saved");
    let env = vec![
        ("MAILWIRE_MS_AUTHORITY_HOST", emulator.base_url()),
        ("MAILWIRE_GRAPH_URL", emulator.base_url()),
        ("MAILWIRE_E2E_SAVE_FILE", saved_file.display().to_string()),
        ("MAILWIRE_E2E_CERTIFICATE_FILE", pfx_fixture().display().to_string()),
    ];
    within(SCENARIO_TIMEOUT, async {
        let app = App::launch("certificate", &driver, env).await;
        app.click("#add-connection").await;
        app.click("#provider-microsoft").await;
        app.type_into("#field-name", "Certificate office").await;
        app.type_into("#field-tenant", sandbox::TENANT_ID).await;
        app.type_into("#field-client-id", &creds.client_id).await;
        // Inline validation adds a line under each ID a moment after typing; a click aimed before
        // that shift would land above the control.
        app.wait_js(
            "return ['#field-tenant-msg', '#field-client-id-msg'].every((m) => document.querySelector(m)?.dataset.level === 'ok')",
            "tenant and client ID validated",
        )
        .await;
        app.click("label[for=credential-certificate]").await;
        app.wait_visible("#create-certificate").await;
        app.click("#create-certificate").await;
        app.wait_visible("#certificate-thumbprint").await;
        let thumbprint = app.text("#certificate-thumbprint").await;
        assert_eq!(thumbprint.len(), 40, "thumbprint: {thumbprint:?}");
        assert_eq!(app.text("#certificate-subject").await, "CN=Mailwire Certificate office");

        app.click("#save-certificate").await;
        app.wait_js(
            "return document.querySelector('#certificate-msg')?.textContent.includes('Upload certificate')",
            "the saved-certificate message",
        )
        .await;
        let certificate_pem = std::fs::read_to_string(&saved_file).expect("the certificate was saved");
        assert!(certificate_pem.starts_with("-----BEGIN CERTIFICATE-----") && !certificate_pem.contains("PRIVATE"));
        // The helpdesk uploads it under Certificates & secrets.
        emulator.upload_certificate(sandbox::APP_CLIENT_ID, &certificate_pem).expect("upload to the sandbox app");

        app.type_into("#field-sender", &creds.sender).await;
        app.type_into("#field-recipient", &creds.recipient).await;
        app.assert_no_field_errors().await;
        app.screenshot("certificate-1-form").await;
        app.click("#save-connection").await;
        app.wait_visible("#connection-detail #run-checks").await;

        let run = app.run_checks("#send-test").await;
        assert!(run.ok(), "the certificate signs in and the test email goes out:\n{run}");
        assert_eq!(run.status("token"), "pass", "{run}");
        assert_eq!(run.status("send"), "pass", "{run}");
        assert_eq!(emulator.outbox().len(), 1);
        app.screenshot("certificate-2-passed").await;

        // Save report…, as JSON: secrets left out, the steps kept.
        std::fs::remove_file(&saved_file).expect("remove the certificate file");
        app.find("#report-format").await.select_by_value("json").await.expect("choose JSON");
        app.click("#save-report").await;
        let deadline = Instant::now() + WAIT;
        while !saved_file.exists() && Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&saved_file).expect("the report was saved"))
            .expect("the saved report is JSON");
        assert_eq!(report["ok"], json!(true), "{report}");
        let text = report.to_string();
        assert!(!text.contains("PRIVATE KEY") && !text.contains("eyJ"), "the report holds no key or token");
        app.edit_shows_stored_certificate(&thumbprint).await;

        // The certificate a security team hands over as a .pfx: the form asks for its password.
        app.click("#choose-certificate").await;
        app.wait_visible("#certificate-password").await;
        app.type_into("#certificate-password", "guess").await;
        app.click("#unlock-certificate").await;
        app.wait_js(
            "return document.querySelector('#certificate-password-msg')?.textContent.includes('does not open')",
            "the wrong-password message",
        )
        .await;
        app.type_into("#certificate-password", "Mailwire-test").await;
        app.screenshot("certificate-4-pfx-password").await;
        app.click("#unlock-certificate").await;
        app.wait_js(
            "return document.querySelector('#certificate-thumbprint')?.textContent === 'A68A9175A593F2C1B0FB271E77B87ACB7B7B9DE8'",
            "the .pfx certificate's thumbprint",
        )
        .await;
        app.screenshot("certificate-5-pfx-opened").await;
        app.quit().await;
    })
    .await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_key_import_shows_client_id_then_delegation_fix_then_passes() {
    let Some(driver) = prerequisites() else { return };
    let _serial = SERIAL.lock().await;
    let emulator = Emulator::start(Scenario::sandbox()).await.expect("the emulator starts");
    let keys = tempfile::tempdir().expect("a temp dir for the key file");
    let key_file = keys.path().join("mailwire-undelegated.json");
    std::fs::write(&key_file, emulator.google_key_json(sandbox::SA_UNDELEGATED_EMAIL)).expect("write the key file");
    let env = vec![
        ("MAILWIRE_GOOGLE_TOKEN_URL", emulator.google_token_url()),
        ("MAILWIRE_GMAIL_URL", emulator.base_url()),
        ("MAILWIRE_E2E_KEY_FILE", key_file.display().to_string()),
    ];
    within(SCENARIO_TIMEOUT, async {
        let app = App::launch("google", &driver, env).await;

        app.click("#add-connection").await;
        app.click("#provider-google").await;
        app.type_into("#field-name", "Workspace alerts").await;
        app.screenshot("google-1-form-before-key").await;
        app.click("#choose-key").await;
        app.wait_visible("#key-client-id").await;
        assert_eq!(app.text("#key-client-id").await, sandbox::SA_UNDELEGATED_CLIENT_ID);
        assert_eq!(app.text("#scope-string").await, sandbox::GMAIL_SCOPE);
        assert_eq!(app.text("#key-client-email").await, sandbox::SA_UNDELEGATED_EMAIL);
        assert_eq!(app.text("#key-project-id").await, sandbox::PROJECT_ID);
        // The two values the Admin Console asks for, each one click from the clipboard.
        for (button, value) in
            [("#copy-client-id", sandbox::SA_UNDELEGATED_CLIENT_ID), ("#copy-scope", sandbox::GMAIL_SCOPE)]
        {
            let _: Value = app.js("document.getElementById('toast').textContent = ''; return null").await;
            app.click(button).await;
            app.wait_js("return document.getElementById('toast')?.textContent.includes('copied')", "the copied notice")
                .await;
            if let Some(copied) = clipboard_text() {
                assert_eq!(copied, value, "{button} copies its value");
            }
        }
        let page: String = app.js("return document.documentElement.outerHTML").await;
        assert!(!page.contains("PRIVATE KEY"), "the private key reached the page");
        app.type_into("#field-sender", sandbox::GOOGLE_SENDER).await;
        app.type_into("#field-recipient", sandbox::GOOGLE_RECIPIENT).await;
        app.assert_no_field_errors().await;
        app.screenshot("google-2-key-imported").await;

        app.click("#save-connection").await;
        app.wait_visible("#connection-detail #run-checks").await;
        let run = app.run_checks("#run-checks").await;
        assert!(!run.ok(), "delegation is missing:\n{run}");
        for id in ["inputs", "key", "clock"] {
            assert_eq!(run.status(id), "pass", "step {id}:\n{run}");
        }
        assert_eq!(run.status("delegation"), "fail", "{run}");
        let delegation = run.step("delegation");
        assert_eq!(delegation.code.as_deref(), Some("unauthorized_client"), "{run}");
        let fix = delegation.fix.clone().unwrap_or_default();
        assert!(fix.contains(sandbox::SA_UNDELEGATED_CLIENT_ID), "the fix names the client ID:\n{fix}");
        app.screenshot("google-3-delegation-fix").await;

        // The admin authorizes the client ID in the Admin Console; the next run passes.
        emulator.update(|s| {
            s.google.delegations.insert(sandbox::SA_UNDELEGATED_CLIENT_ID.into(), vec![sandbox::GMAIL_SCOPE.into()]);
        });
        let run = app.run_checks("#run-checks").await;
        assert!(run.ok(), "delegation granted:\n{run}");
        assert_eq!(run.summary_state, "pass", "{run}");
        for id in ["inputs", "key", "clock", "delegation", "gmail_api"] {
            assert_eq!(run.status(id), "pass", "step {id}:\n{run}");
        }
        assert!(matches!(run.status("send"), "skipped" | "missing"), "Run checks does not send:\n{run}");
        assert!(emulator.outbox().is_empty(), "Run checks sent mail");
        app.screenshot("google-4-checks-passed").await;
        app.quit().await;
    })
    .await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_creates_two_demo_connections() {
    let Some(driver) = prerequisites() else { return };
    let _serial = SERIAL.lock().await;
    within(SCENARIO_TIMEOUT, async {
        // No endpoint overrides: the sandbox starts its own emulator inside the app.
        let app = App::launch("sandbox", &driver, Vec::new()).await;

        app.click("#try-sandbox").await;
        app.wait_js("return document.querySelectorAll('.connection-row').length === 2", "two demo connections").await;
        let rows: Value = app
            .js("return [...document.querySelectorAll('.connection-row')].map((r) => ({
                provider: r.dataset.provider, sandbox: r.dataset.sandbox,
                badge: r.querySelector('.badge-sandbox')?.textContent ?? null }))")
            .await;
        let rows = rows.as_array().expect("rows");
        let providers: HashSet<&str> = rows.iter().filter_map(|r| r["provider"].as_str()).collect();
        assert_eq!(providers, HashSet::from(["microsoft", "google"]), "{rows:?}");
        for row in rows {
            assert_eq!(row["badge"], "Sandbox", "every demo connection is badged: {row}");
        }
        app.wait_visible("#sandbox-indicator").await;
        app.screenshot("sandbox-1-list").await;

        app.click(".connection-row[data-provider='microsoft'] .row-open").await;
        app.wait_visible("#connection-detail #run-checks").await;
        let run = app.run_checks("#run-checks").await;
        assert!(run.ok(), "the Microsoft demo passes:\n{run}");
        for id in ["inputs", "token", "permissions"] {
            assert_eq!(run.status(id), "pass", "step {id}:\n{run}");
        }
        app.screenshot("sandbox-2-microsoft-passed").await;

        app.click("#back-to-list").await;
        app.click(".connection-row[data-provider='google'] .row-open").await;
        app.wait_visible("#connection-detail #run-checks").await;
        let run = app.run_checks("#run-checks").await;
        assert!(!run.ok(), "the Google demo fails:\n{run}");
        assert_eq!(run.status("delegation"), "fail", "{run}");
        assert_eq!(run.step("delegation").code.as_deref(), Some("unauthorized_client"), "{run}");
        app.screenshot("sandbox-3-google-delegation-fix").await;

        app.click("#back-to-list").await;
        app.wait_js(
            "return [...document.querySelectorAll('.connection-row .row-status')].map((s) => s.dataset.state).sort().join() === 'fail,pass'",
            "both rows show their last check",
        )
        .await;
        app.screenshot("sandbox-4-list-after-checks").await;
        app.quit().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_settings_refuse_a_bad_ca_file_and_keep_the_proxy_password_hidden() {
    let Some(driver) = prerequisites() else { return };
    let _serial = SERIAL.lock().await;
    within(SCENARIO_TIMEOUT, async {
        let env = vec![("MAILWIRE_E2E_CA_FILE", ca_fixture().display().to_string())];
        let app = App::launch("settings", &driver, env).await;
        app.click("#open-network-settings").await;
        app.wait_visible("#network-settings #save-settings").await;

        app.type_into("#setting-caFile", "/nonexistent/corporate-root.pem").await;
        app.click("#save-settings").await;
        app.wait_js(
            "return document.querySelector('#setting-caFile-msg')?.dataset.level === 'error'",
            "the CA file error under its field",
        )
        .await;
        let message = app.text("#setting-caFile-msg").await;
        assert!(message.contains("CA file"), "{message}");
        app.screenshot("settings-1-bad-ca-file").await;

        // The file dialog puts a root certificate that exists in place of the wrong path.
        app.click("#choose-ca-file").await;
        let chosen = ca_fixture().display().to_string();
        app.wait_js(
            &format!("return document.querySelector('#setting-caFile').value === {}", json!(chosen)),
            "the chosen CA file in its field",
        )
        .await;
        let still_invalid: bool = app.js("return !document.querySelector('#setting-caFile-msg').hidden").await;
        assert!(!still_invalid, "the old error goes once a file is chosen");
        app.type_into("#setting-proxyUrl", "http://proxy.example.com:3128").await;
        app.type_into("#setting-proxyUsername", "svc-mail").await;
        app.type_into("#setting-proxyPassword", "Pr0xy-pass-e2e").await;
        app.click("#save-settings").await;
        app.wait_visible("#connections").await;

        app.click("#open-network-settings").await;
        app.wait_visible("#network-settings #save-settings").await;
        let proxy: String = app.js("return document.querySelector('#setting-proxyUrl').value").await;
        assert_eq!(proxy, "http://proxy.example.com:3128");
        let ca_file: String = app.js("return document.querySelector('#setting-caFile').value").await;
        assert_eq!(ca_file, ca_fixture().display().to_string(), "the CA file was saved");
        let password: String = app.js("return document.querySelector('#setting-proxyPassword').value").await;
        assert_eq!(password, "", "a stored password is never sent back to the page");
        let hint = app.text("#setting-proxyPassword-hint").await;
        assert!(hint.contains("stored in the system keychain"), "{hint}");
        let page: String = app.js("return document.documentElement.outerHTML").await;
        assert!(!page.contains("Pr0xy-pass-e2e"));
        app.screenshot("settings-2-proxy-saved").await;
        app.quit().await;
    })
    .await;
}

// ---- prerequisites and time limits --------------------------------------------------------------

/// The tauri-driver binary, or `None` (after a notice) when this machine cannot run the tests.
/// Panics instead when `CI` is set: there a skipped end-to-end test would be a silent pass.
fn prerequisites() -> Option<PathBuf> {
    let display = std::env::var_os("DISPLAY").filter(|d| !d.is_empty());
    let driver = find_program("tauri-driver");
    let native = find_program("WebKitWebDriver");
    let missing = if display.is_none() {
        "DISPLAY is not set (run under xvfb-run, as scripts/mailwire.sh test does)"
    } else if driver.is_none() {
        "tauri-driver is not installed (cargo install tauri-driver --locked)"
    } else if native.is_none() && cfg!(target_os = "linux") {
        "WebKitWebDriver is not installed (apt-get install webkit2gtk-driver)"
    } else {
        return driver;
    };
    if std::env::var_os("CI").is_some() {
        panic!("end-to-end tests cannot run: {missing}");
    }
    eprintln!("skipping the end-to-end test: {missing}");
    None
}

fn find_program(name: &str) -> Option<PathBuf> {
    let exe = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(cargo_home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    if cfg!(target_os = "linux") {
        dirs.push(PathBuf::from("/usr/bin"));
    }
    dirs.into_iter().map(|d| d.join(&exe)).find(|p| p.is_file())
}

async fn within<F: Future<Output = ()>>(limit: Duration, scenario: F) {
    if tokio::time::timeout(limit, scenario).await.is_err() {
        panic!("the scenario did not finish within {limit:?} (is the display alive?)");
    }
}

/// What the app put on the X clipboard, read with xclip; `None` (after a notice) where xclip is
/// missing, except under `CI`, where that fails the test.
fn clipboard_text() -> Option<String> {
    let Some(xclip) = find_program("xclip") else {
        assert!(std::env::var_os("CI").is_none(), "xclip is not installed (apt-get install xclip)");
        eprintln!("not checking the clipboard: xclip is not installed");
        return None;
    };
    let output =
        std::process::Command::new(xclip).args(["-o", "-selection", "clipboard"]).output().expect("xclip runs");
    assert!(output.status.success(), "xclip: {}", String::from_utf8_lossy(&output.stderr));
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A certificate in PEM, standing in for an organisation's root.
fn ca_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mailwire-core/tests/fixtures/pfx-certificate.pem")
}

/// A .pfx exported with OpenSSL's defaults, password "Mailwire-test".
fn pfx_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mailwire-core/tests/fixtures/pfx-aes256.pfx")
}

fn artifacts_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`; artifacts go beside it, honouring CARGO_TARGET_DIR.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target dir").to_path_buf();
    let dir = target.join("e2e-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/e2e-artifacts");
    dir
}

// ---- the app under test ------------------------------------------------------------------------

/// One running app: a WebDriver session over tauri-driver, which launched the binary.
struct App {
    client: Client,
    driver: DriverProcess,
    name: &'static str,
}

impl App {
    /// Starts tauri-driver with a private config dir, log dir and keychain service plus `env`, opens
    /// a session on the app binary and waits for its first screen.
    async fn launch(name: &'static str, driver_binary: &Path, env: Vec<(&str, String)>) -> App {
        let home = tempfile::Builder::new().prefix("mailwire-e2e-").tempdir().expect("a temp dir");
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let log_path = artifacts_dir().join(format!("{name}-driver.log"));
        let log = std::fs::File::create(&log_path).expect("create the driver log");
        let _ = std::fs::remove_file(artifacts_dir().join(format!("{name}-FAILED.png")));

        if TcpStream::connect_timeout(&driver_addr(), Duration::from_millis(300)).is_ok() {
            panic!("{DRIVER_ADDR} is already in use: is another tauri-driver or e2e run still alive?");
        }
        let mut command = Command::new(driver_binary);
        for var in [
            "MAILWIRE_MS_AUTHORITY_HOST",
            "MAILWIRE_GRAPH_URL",
            "MAILWIRE_GOOGLE_TOKEN_URL",
            "MAILWIRE_GMAIL_URL",
            "MAILWIRE_E2E_KEY_FILE",
            "MAILWIRE_E2E_SAVE_FILE",
            "MAILWIRE_CLIENT_SECRET",
        ] {
            command.env_remove(var);
        }
        command
            .env("MAILWIRE_CONFIG_DIR", home.path().join("config"))
            .env("MAILWIRE_LOG_DIR", home.path().join("logs"))
            .env("MAILWIRE_KEYCHAIN_SERVICE", format!("mailwire-e2e-{}-{stamp}", std::process::id()))
            .envs(env)
            .stdin(Stdio::null())
            // Never the test's own stdout/stderr: a stray WebKitWebDriver holding them would hang
            // whatever reads this test's output.
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log);
        if let Some(native) = find_program("WebKitWebDriver") {
            command.arg("--native-driver").arg(native);
        }
        let child = command.spawn().expect("start tauri-driver");
        let mut driver = DriverProcess { child, log: log_path, _home: home };
        driver.wait_until_listening().await;

        let mut caps = serde_json::Map::new();
        caps.insert("tauri:options".into(), json!({ "application": APP_BINARY }));
        caps.insert("browserName".into(), json!("wry"));
        // reqwest enables rustls' ring backend and fantoccini's hyper-rustls its aws-lc-rs one;
        // with both present rustls wants the process to choose (WebDriver here is plain http anyway).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let connect = async {
            ClientBuilder::rustls()
                .expect("a TLS config for the WebDriver client")
                .capabilities(caps)
                .connect(&format!("http://{DRIVER_ADDR}"))
                .await
        };
        let client = match tokio::time::timeout(Duration::from_secs(60), connect).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!("no WebDriver session: {e}\n{}", driver.log_tail()),
            Err(_) => panic!("no WebDriver session within 60 s\n{}", driver.log_tail()),
        };
        let app = App { client, driver, name };
        app.wait_js("return document.body.dataset.ready === '1'", "the first screen (body[data-ready=1])").await;
        app
    }

    /// Ends the session (which closes the app) and stops tauri-driver.
    async fn quit(self) {
        let App { client, driver, .. } = self;
        let _ = tokio::time::timeout(Duration::from_secs(15), client.close()).await;
        drop(driver);
    }

    async fn js<T: serde::de::DeserializeOwned>(&self, script: &str) -> T {
        let value =
            self.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"));
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("unexpected script result {value}: {e}"))
    }

    /// Polls `script` (which returns a boolean) until it is true, or fails after [`WAIT`] with a
    /// screenshot of what the app showed instead.
    async fn wait_js(&self, script: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.execute(script, Vec::new()).await {
                Ok(Value::Bool(true)) => return,
                Ok(_) => {}
                Err(e) if Instant::now() >= deadline => panic!("waiting for {what}: {e}"),
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                self.fail_screenshot().await;
                let body: String = self
                    .client
                    .execute("return document.body ? document.body.innerText : ''", Vec::new())
                    .await
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                panic!(
                    "timed out after {WAIT:?} waiting for {what}\n--- page text ---\n{body}\n{}",
                    self.driver.log_tail()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn wait_visible(&self, css: &str) {
        let script = format!(
            "const e = document.querySelector({sel}); return !!e && e.getClientRects().length > 0 && !e.closest('[hidden]');",
            sel = Value::from(css)
        );
        self.wait_js(&script, &format!("{css} to be visible")).await;
    }

    /// A visible element, scrolled to the middle of its scroll box the way a person would before
    /// using it (WebKit otherwise leaves fields low in the form under the sticky Save bar).
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_visible(css).await;
        let _: Value = self
            .js(&format!(
                "document.querySelector({}).scrollIntoView({{ block: 'center' }}); return null",
                Value::from(css)
            ))
            .await;
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// The rendered text of a visible element. Read through `innerText` rather than WebDriver's
    /// element text, whose visibility rules see nothing inside `display: contents` (the key facts).
    async fn text(&self, css: &str) -> String {
        self.wait_visible(css).await;
        let text: String =
            self.js(&format!("return document.querySelector({}).innerText.trim()", Value::from(css))).await;
        text
    }

    /// Clicks once the element is visible and enabled, retrying while something (a toast) covers it.
    async fn click(&self, css: &str) {
        let script =
            format!("const e = document.querySelector({sel}); return !!e && !e.disabled;", sel = Value::from(css));
        self.wait_js(&script, &format!("{css} to be enabled")).await;
        self.wait_still(css).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let element = self.find(css).await;
            match element.click().await {
                Ok(()) => return,
                Err(CmdError::Standard(e))
                    if Instant::now() < deadline
                        && matches!(
                            e.error,
                            ErrorStatus::ElementClickIntercepted
                                | ErrorStatus::ElementNotInteractable
                                | ErrorStatus::StaleElementReference
                        ) =>
                {
                    tokio::time::sleep(Duration::from_millis(250)).await
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// A click is aimed at where the element is; if an inline message appears above it a moment
    /// later, the click lands on something else. Waits until it holds still for a frame or two.
    async fn wait_still(&self, css: &str) {
        let script = format!(
            "const e = document.querySelector({sel}); if (!e) return []; const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height];",
            sel = Value::from(css)
        );
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut last: Vec<f64> = self.js(&script).await;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(80)).await;
            let now: Vec<f64> = self.js(&script).await;
            if now == last {
                return;
            }
            last = now;
        }
    }

    /// Editing a certificate connection shows the saved certificate, never its key.
    async fn edit_shows_stored_certificate(&self, thumbprint: &str) {
        self.click("#edit-connection").await;
        self.wait_visible("#connection-form #certificate-thumbprint").await;
        assert_eq!(self.text("#certificate-thumbprint").await, thumbprint);
        let stored = self.text("#certificate-stored-text").await;
        assert!(stored.contains("stored in the system keychain"), "{stored:?}");
        let _: Value = self
            .js("document.getElementById('credential-label').scrollIntoView({ block: 'center' }); return null")
            .await;
        self.screenshot("certificate-3-edit").await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        element.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e:?}"));
        element.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
        let value = element.prop("value").await.unwrap_or_else(|e| panic!("value of {css}: {e}"));
        assert_eq!(value.as_deref(), Some(text), "{css} holds what was typed");
    }

    /// Inline validation answers 250 ms after the last keystroke (an address that is fine shows no
    /// message at all), so give it time before asserting that nothing complained.
    async fn assert_no_field_errors(&self) {
        let _: Value = self.js("document.activeElement?.blur(); return null").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let errors: Vec<String> = self
            .js("return [...document.querySelectorAll('.field-message[data-level=\"error\"]:not([hidden])')].map((m) => `${m.id}: ${m.textContent}`)")
            .await;
        assert!(errors.is_empty(), "inline validation complained: {errors:?}");
    }

    /// Clicks Run checks or Send test email and waits for the run to finish; returns what the
    /// steps list and the summary show.
    async fn run_checks(&self, button: &str) -> Run {
        // `data-running` is "1" during a run and "0" after it; clear a previous run's "0" so the
        // wait below can only see this run's end.
        let _: Value =
            self.js("delete document.getElementById('connection-detail').dataset.running; return null").await;
        self.click(button).await;
        self.wait_js(
            "const v = document.getElementById('connection-detail'); const s = document.getElementById('check-summary');
             return !!v && v.dataset.running === '0' && !!s && s.dataset.ok !== undefined && !s.hidden;",
            &format!("the run started by {button} to finish"),
        )
        .await;
        let result: Value = self
            .js("const s = document.getElementById('check-summary');
                 return {
                   ok: s.dataset.ok, state: s.dataset.state ?? '', text: s.innerText,
                   steps: [...document.querySelectorAll('#steps .step')].map((row) => ({
                     id: row.dataset.stepId, status: row.dataset.status,
                     detail: row.querySelector('.step-detail')?.innerText ?? null,
                     code: row.querySelector('.fix-code')?.textContent ?? null,
                     fix: row.querySelector('.fix-box')?.innerText ?? null })) };")
            .await;
        let steps = result["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| Step {
                id: s["id"].as_str().unwrap_or_default().to_string(),
                status: s["status"].as_str().unwrap_or_default().to_string(),
                detail: s["detail"].as_str().map(str::to_owned),
                code: s["code"].as_str().map(str::to_owned),
                fix: s["fix"].as_str().map(str::to_owned),
            })
            .collect();
        Run {
            summary_ok: result["ok"] == "true",
            summary_state: result["state"].as_str().unwrap_or_default().to_string(),
            summary_text: result["text"].as_str().unwrap_or_default().to_string(),
            steps,
        }
    }

    /// Saves what the window shows once it has settled: the toast gone, images decoded, finite
    /// animations done and two frames painted (an immediate snapshot can catch a blank frame
    /// right after navigation, or icons not yet loaded).
    async fn screenshot(&self, file: &str) {
        self.wait_js("return document.getElementById('toast').hidden", "the toast to go away").await;
        let settle = "const done = arguments[arguments.length - 1];
            Promise.all([document.fonts.ready, ...[...document.images].map((i) => i.decode().catch(() => null))])
              .then(() => Promise.all(document.getAnimations()
                .filter((a) => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
                .map((a) => a.finished.catch(() => null))))
              .then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(null))));";
        match tokio::time::timeout(WAIT, self.client.execute_async(settle, Vec::new())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("waiting for the page to settle before {file}: {e}"),
            Err(_) => panic!("the page did not settle within {WAIT:?} before {file}"),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot {file}: {e}"));
        let path = artifacts_dir().join(format!("{file}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    async fn fail_screenshot(&self) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(artifacts_dir().join(format!("{}-FAILED.png", self.name)), png);
        }
    }
}

/// A finished run as the UI shows it.
struct Run {
    summary_ok: bool,
    summary_state: String,
    summary_text: String,
    steps: Vec<Step>,
}

struct Step {
    id: String,
    status: String,
    detail: Option<String>,
    code: Option<String>,
    fix: Option<String>,
}

impl Run {
    /// The summary says ok and no step failed.
    fn ok(&self) -> bool {
        self.summary_ok && self.steps.iter().all(|s| s.status != "fail" && s.status != "running")
    }

    fn status(&self, id: &str) -> &str {
        self.steps.iter().find(|s| s.id == id).map_or("missing", |s| s.status.as_str())
    }

    fn step(&self, id: &str) -> &Step {
        self.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}:\n{self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "summary ok={} state={}: {}",
            self.summary_ok,
            self.summary_state,
            self.summary_text.replace('\n', " ")
        )?;
        for s in &self.steps {
            let mut line = format!("  {:<12} {:<8}", s.id, s.status);
            if let Some(detail) = &s.detail {
                let _ = write!(line, " {detail}");
            }
            if let Some(code) = &s.code {
                let _ = write!(line, " [{code}]");
            }
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

// ---- tauri-driver ------------------------------------------------------------------------------

fn driver_addr() -> SocketAddr {
    DRIVER_ADDR.parse().expect("a socket address")
}

/// tauri-driver and everything it started. Dropping it (also while unwinding from a failed
/// assertion) stops them all with SIGTERM: SIGKILL would orphan WebKitWebDriver and the app.
struct DriverProcess {
    child: Child,
    log: PathBuf,
    _home: tempfile::TempDir,
}

impl DriverProcess {
    async fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&driver_addr(), Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("tauri-driver exited early ({status})\n{}", self.log_tail());
            }
            if Instant::now() >= deadline {
                panic!("tauri-driver did not listen on {DRIVER_ADDR} within 20 s\n{}", self.log_tail());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("--- {} (last lines) ---\n{tail}", self.log.display())
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        // Note the whole tree first: once tauri-driver is gone its children are reparented.
        let descendants = descendants_of(self.child.id());
        terminate(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // WebKitWebDriver and the app normally go with tauri-driver; anything left gets a SIGTERM
        // of its own, by process ID (only processes this test started).
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut signalled = false;
        loop {
            let alive: Vec<u32> = descendants.iter().copied().filter(|&pid| is_alive(pid)).collect();
            if alive.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                eprintln!("processes {alive:?} started by tauri-driver did not exit after SIGTERM");
                break;
            }
            if !signalled && Instant::now() + Duration::from_secs(7) >= deadline {
                alive.iter().for_each(|&pid| terminate(pid));
                signalled = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn terminate(pid: u32) {
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).stderr(Stdio::null()).status();
}

/// Alive and not a zombie (a reparented child may linger as one until its new parent reaps it).
fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

/// Every process below `root`, from /proc (Linux; elsewhere the list is empty).
fn descendants_of(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let ppid =
            stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    found
}
