//! The `mailwire` binary as scripts use it: exit codes, the JSON contract, and no leaked secrets.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use mailwire_emulator::scenario::sandbox as ids;
use mailwire_emulator::{Emulator, Scenario};

/// Everything any CLI run printed, searched for secrets at the end of the leak test.
static PRINTED: Mutex<String> = Mutex::new(String::new());

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn mailwire(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailwire"));
    command
        .args(args)
        .env_remove("MAILWIRE_CLIENT_SECRET")
        .env_remove("MAILWIRE_CERTIFICATE_PASSWORD")
        .env_remove("MAILWIRE_MS_AUTHORITY_HOST")
        .env_remove("MAILWIRE_GRAPH_URL")
        .env("MAILWIRE_LOG", "debug")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("mailwire runs");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    let mut printed = PRINTED.lock().unwrap_or_else(|p| p.into_inner());
    printed.push_str(&run.stdout);
    printed.push_str(&run.stderr);
    run
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

struct World {
    _runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        let runtime = runtime();
        let emulator = runtime.block_on(Emulator::start(Scenario::sandbox())).unwrap();
        Self { _runtime: runtime, emulator, dir: tempfile::tempdir().unwrap() }
    }

    fn ms_env(&self, secret: &'static str) -> Vec<(&'static str, String)> {
        vec![
            ("MAILWIRE_MS_AUTHORITY_HOST", self.emulator.base_url()),
            ("MAILWIRE_GRAPH_URL", self.emulator.base_url()),
            ("MAILWIRE_CLIENT_SECRET", secret.to_string()),
        ]
    }

    fn google_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MAILWIRE_GOOGLE_TOKEN_URL", self.emulator.google_token_url()),
            ("MAILWIRE_GMAIL_URL", self.emulator.base_url()),
        ]
    }

    fn key_file(&self, email: &str) -> String {
        let path = self.dir.path().join(format!("{email}.json"));
        std::fs::write(&path, self.emulator.google_key_json(email)).unwrap();
        path.display().to_string()
    }
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

const MS_ARGS: [&str; 8] =
    ["check", "microsoft", "--tenant", ids::TENANT_ID, "--client-id", ids::APP_CLIENT_ID, "--sender", ids::MS_SENDER];

/// `mailwire profile add microsoft` for the sandbox app, plus `extra`.
fn add_microsoft<'a>(name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["profile", "add", "microsoft", "--name", name, "--tenant", ids::TENANT_ID];
    args.extend(["--client-id", ids::APP_CLIENT_ID, "--sender", ids::MS_SENDER]);
    args.extend(extra);
    args
}

fn json(run: &Run) -> serde_json::Value {
    let lines: Vec<&str> = run.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one JSON object on stdout:\n{}", run.stdout);
    serde_json::from_str(lines[0]).expect("valid JSON")
}

fn assert_step_shape(report: &serde_json::Value) {
    for step in report["steps"].as_array().unwrap() {
        for field in ["id", "title", "status", "duration_ms", "detail", "code", "fix", "links"] {
            assert!(step.get(field).is_some(), "step lacks {field}: {step}");
        }
        assert!(["pass", "fail", "warn", "skipped"].contains(&step["status"].as_str().unwrap()));
    }
}

#[test]
fn microsoft_json_success_sends_once_and_exits_0() {
    let world = World::new();
    let env = world.ms_env(ids::APP_SECRET);
    let mut args = MS_ARGS.to_vec();
    args.extend(["--to", ids::MS_RECIPIENT, "--json"]);
    let run = mailwire(&args, &env_refs(&env), None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = json(&run);
    assert_eq!(report["ok"], true);
    assert_eq!(report["provider"], "microsoft");
    assert_step_shape(&report);
    let ids: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["inputs", "token", "permissions", "send"]);
    assert_eq!(world.emulator.outbox().len(), 1);
}

#[test]
fn microsoft_wrong_secret_exits_1_with_the_provider_code() {
    let world = World::new();
    let env = world.ms_env("Wrong8Q~not-the-value-0123456789");
    let mut args = MS_ARGS.to_vec();
    args.push("--json");
    let run = mailwire(&args, &env_refs(&env), None);
    assert_eq!(run.code, 1);
    let report = json(&run);
    assert_eq!(report["ok"], false);
    let token = report["steps"].as_array().unwrap().iter().find(|s| s["id"] == "token").unwrap();
    assert_eq!(token["status"], "fail");
    assert_eq!(token["code"], "AADSTS7000215");
    assert!(token["fix"].as_array().unwrap().iter().any(|f| f.as_str().unwrap().contains("Certificates & secrets")));

    let human = mailwire(&MS_ARGS, &env_refs(&env), None);
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains("✗ Get an access token"), "{}", human.stdout);
    assert!(human.stdout.contains("Code: AADSTS7000215"));
    assert!(human.stdout.contains("How to fix:"));
    assert!(human.stdout.contains("– Send a test email"));
}

#[test]
fn the_secret_can_come_from_standard_input() {
    let world = World::new();
    let env: Vec<_> = world.ms_env("").into_iter().filter(|(k, _)| *k != "MAILWIRE_CLIENT_SECRET").collect();
    let mut args = MS_ARGS.to_vec();
    args.extend(["--client-secret-stdin", "--json"]);
    let run = mailwire(&args, &env_refs(&env), Some(&format!("{}\n", ids::APP_SECRET)));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let world = World::new();
    let env = world.ms_env(ids::APP_SECRET);
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                "check",
                "microsoft",
                "--tenant",
                "common",
                "--client-id",
                ids::APP_CLIENT_ID,
                "--sender",
                ids::MS_SENDER,
            ],
            env.clone(),
            "multi-tenant",
        ),
        (
            vec![
                "check",
                "microsoft",
                "--tenant",
                ids::TENANT_ID,
                "--client-id",
                "not-a-guid",
                "--sender",
                ids::MS_SENDER,
            ],
            env.clone(),
            "GUID",
        ),
        (
            vec![
                "check",
                "microsoft",
                "--tenant",
                ids::TENANT_ID,
                "--client-id",
                ids::APP_CLIENT_ID,
                "--sender",
                "nobody",
            ],
            env.clone(),
            "email",
        ),
        (
            MS_ARGS.to_vec(),
            world.ms_env("").into_iter().filter(|(k, _)| *k != "MAILWIRE_CLIENT_SECRET").collect(),
            "MAILWIRE_CLIENT_SECRET",
        ),
        (
            MS_ARGS.to_vec(),
            vec![
                ("MAILWIRE_CLIENT_SECRET", "x".to_string()),
                ("MAILWIRE_MS_AUTHORITY_HOST", "http://login.example.com".to_string()),
            ],
            "http://",
        ),
        (
            vec!["check", "google", "--key-file", "/nonexistent/key.json", "--sender", ids::GOOGLE_SENDER],
            vec![],
            "could not be read",
        ),
        (vec!["check"], vec![], "say what to check"),
    ];
    for (args, env, expected) in cases {
        let run = mailwire(&args, &env_refs(&env), None);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        let reason: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("mailwire: ")).collect();
        assert_eq!(reason.len(), 1, "{args:?}: {}", run.stderr);
        assert!(reason[0].contains(expected), "{args:?}: {}", reason[0]);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn google_json_success_and_missing_delegation() {
    let world = World::new();
    let env = world.google_env();
    let key = world.key_file(ids::SA_EMAIL);
    let run = mailwire(
        &[
            "check",
            "google",
            "--key-file",
            &key,
            "--sender",
            ids::GOOGLE_SENDER,
            "--to",
            ids::GOOGLE_RECIPIENT,
            "--json",
        ],
        &env_refs(&env),
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = json(&run);
    assert_eq!(report["provider"], "google");
    assert_step_shape(&report);
    assert_eq!(world.emulator.outbox().len(), 1);

    let undelegated = world.key_file(ids::SA_UNDELEGATED_EMAIL);
    let run = mailwire(
        &["check", "google", "--key-file", &undelegated, "--sender", ids::GOOGLE_SENDER, "--json"],
        &env_refs(&env),
        None,
    );
    assert_eq!(run.code, 1);
    let report = json(&run);
    let delegation = report["steps"].as_array().unwrap().iter().find(|s| s["id"] == "delegation").unwrap();
    assert_eq!(delegation["code"], "unauthorized_client");
    assert!(delegation["links"][0].as_str().unwrap().contains(ids::SA_UNDELEGATED_CLIENT_ID));
}

#[test]
fn bad_key_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("oauth.json", br#"{"web":{"client_id":"x"}}"#, "OAuth client"),
        ("empty.json", b"", "empty"),
        ("cut.json", b"{\"type\": \"service_acc", "cut off"),
        ("key.p12", &[0x30, 0x82, 0x01, 0x02, 0x03], "P12"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let run = mailwire(
            &["check", "google", "--key-file", path.to_str().unwrap(), "--sender", ids::GOOGLE_SENDER],
            &[],
            None,
        );
        assert_eq!(run.code, 2, "{name}");
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
    }
}

#[test]
fn show_delegation_prints_what_to_paste() {
    let world = World::new();
    let key = world.key_file(ids::SA_EMAIL);
    let run = mailwire(&["google", "show-delegation", "--key-file", &key], &[], None);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains(ids::SA_CLIENT_ID));
    assert!(run.stdout.contains("https://mail.google.com/"));
    assert!(run.stdout.contains("https://admin.google.com/ac/owl/domainwidedelegation?clientIdToAdd="));
    let run = mailwire(
        &[
            "google",
            "show-delegation",
            "--key-file",
            &key,
            "--scope",
            "https://www.googleapis.com/auth/gmail.send",
            "--json",
        ],
        &[],
        None,
    );
    let value: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(value["client_id"], ids::SA_CLIENT_ID);
    assert_eq!(value["scope_string"], "https://www.googleapis.com/auth/gmail.send");
}

/// Saved connections through the CLI, with the secret in the real keychain.
#[test]
fn profiles_round_trip_through_the_keychain() {
    let world = World::new();
    let config = tempfile::tempdir().unwrap();
    let service = format!("app.mailwire.test.{}", uuid::Uuid::new_v4());
    let base =
        vec![("MAILWIRE_CONFIG_DIR", config.path().display().to_string()), ("MAILWIRE_KEYCHAIN_SERVICE", service)];
    let with = |extra: Vec<(&'static str, String)>| -> Vec<(&'static str, String)> {
        base.iter().cloned().chain(extra).collect()
    };
    let add_env = with(world.ms_env(ids::APP_SECRET));
    let add = mailwire(&add_microsoft("Head office", &["--to", ids::MS_RECIPIENT]), &env_refs(&add_env), None);
    if add.code != 0 && add.stderr.contains("keychain") && std::env::var_os("CI").is_none() {
        eprintln!("no keychain reachable here; CI runs this against gnome-keyring: {}", add.stderr);
        return;
    }
    assert_eq!(add.code, 0, "{}", add.stderr);
    let list = mailwire(&["profile", "list"], &env_refs(&base), None);
    assert!(list.stdout.contains("Head office") && list.stdout.contains("never checked"), "{}", list.stdout);

    // The check reads the secret from the keychain, not the environment.
    let check_env = with(vec![
        ("MAILWIRE_MS_AUTHORITY_HOST", world.emulator.base_url()),
        ("MAILWIRE_GRAPH_URL", world.emulator.base_url()),
    ]);
    let check = mailwire(&["check", "--profile", "head office", "--json"], &env_refs(&check_env), None);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert_eq!(world.emulator.outbox().len(), 1, "the profile's test recipient got the mail");
    let list = mailwire(&["profile", "list", "--json"], &env_refs(&base), None);
    let profiles: serde_json::Value = serde_json::from_str(list.stdout.trim()).unwrap();
    assert_eq!(profiles[0]["lastCheck"]["ok"], true);

    let show = mailwire(&["profile", "show", "Head office"], &env_refs(&base), None);
    assert!(show.stdout.contains("stored in the system keychain"), "{}", show.stdout);

    let export_path = config.path().join("export.json");
    let export = mailwire(
        &["profile", "export", "Head office", "--output", export_path.to_str().unwrap()],
        &env_refs(&base),
        None,
    );
    assert_eq!(export.code, 0);
    let exported = std::fs::read_to_string(&export_path).unwrap();
    assert!(!exported.contains(ids::APP_SECRET));
    let import_env = with(vec![("MAILWIRE_CLIENT_SECRET", ids::APP_SECRET.to_string())]);
    let import = mailwire(
        &["profile", "import", export_path.to_str().unwrap(), "--name", "Branch"],
        &env_refs(&import_env),
        None,
    );
    assert_eq!(import.code, 0, "{}", import.stderr);

    let rename = mailwire(&["profile", "rename", "Branch", "Head office"], &env_refs(&base), None);
    assert_eq!(rename.code, 2, "names stay unique");
    let rename = mailwire(&["profile", "rename", "Branch", "Branch office"], &env_refs(&base), None);
    assert_eq!(rename.code, 0);

    for name in ["Head office", "Branch office"] {
        let remove = mailwire(&["profile", "remove", name], &env_refs(&base), None);
        assert_eq!(remove.code, 0, "{}", remove.stderr);
    }
    let list = mailwire(&["profile", "list", "--json"], &env_refs(&base), None);
    assert_eq!(list.stdout.trim(), "[]");
    let missing = mailwire(&["check", "--profile", "Head office"], &env_refs(&base), None);
    assert_eq!(missing.code, 2);

    let files: String = std::fs::read_dir(config.path())
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .collect();
    assert!(!files.contains(ids::APP_SECRET), "no secret in any saved file");
}

/// Runs every kind of check with debug logging and searches all output for secrets and tokens.
#[test]
fn no_secret_or_token_is_ever_printed() {
    let world = World::new();
    let key_path = world.key_file(ids::SA_EMAIL);
    let key_json: serde_json::Value = serde_json::from_str(&world.emulator.google_key_json(ids::SA_EMAIL)).unwrap();
    let private_key = key_json["private_key"].as_str().unwrap().to_string();
    let mut runs = Vec::new();
    for secret in [ids::APP_SECRET, "Wrong8Q~not-the-value-0123456789"] {
        let env = world.ms_env(secret);
        let mut args = MS_ARGS.to_vec();
        args.extend(["--to", ids::MS_RECIPIENT]);
        runs.push(mailwire(&args, &env_refs(&env), None));
        args.push("--json");
        runs.push(mailwire(&args, &env_refs(&env), None));
    }
    let env = world.google_env();
    runs.push(mailwire(
        &["check", "google", "--key-file", &key_path, "--sender", ids::GOOGLE_SENDER, "--to", ids::GOOGLE_RECIPIENT],
        &env_refs(&env),
        None,
    ));
    runs.push(mailwire(
        &["check", "google", "--key-file", &key_path, "--sender", ids::GOOGLE_SENDER, "--json"],
        &env_refs(&env),
        None,
    ));
    assert!(runs.iter().any(|r| r.stderr.contains("mailwire::http")), "debug logging was on");
    let printed = PRINTED.lock().unwrap().clone();
    let key_lines: Vec<&str> = private_key.lines().filter(|l| l.len() > 20 && !l.starts_with("-----")).collect();
    assert!(!key_lines.is_empty());
    for needle in [ids::APP_SECRET, "Wrong8Q~not-the-value-0123456789"].into_iter().chain(key_lines) {
        assert!(!printed.contains(needle), "a secret was printed: {needle}");
    }
    assert!(!printed.contains("eyJ"), "a JWT (token or assertion) was printed");
    assert!(!printed.contains("ya29."), "a Google access token was printed");
}

#[test]
fn many_senders_are_checked_with_one_shared_token() {
    use mailwire_core::microsoft::{Cloud, MicrosoftInput};
    use mailwire_core::profile::{Profile, ProviderSettings};
    let world = World::new();
    let config = tempfile::tempdir().unwrap();
    let profile = Profile::new(
        "Fleet",
        ProviderSettings::Microsoft(MicrosoftInput {
            tenant: ids::TENANT_ID.into(),
            client_id: ids::APP_CLIENT_ID.into(),
            cloud: Cloud::Global,
            authority_host: None,
            graph_url: None,
            certificate: None,
        }),
        ids::MS_SENDER,
        None,
    );
    mailwire_core::store::Store::at(config.path().to_path_buf())
        .update(|p| {
            p.push(profile);
            Ok(())
        })
        .unwrap();
    let senders = config.path().join("senders.txt");
    std::fs::write(
        &senders,
        format!("# mailboxes\n{}\n{}\n\nnobody@contoso-sandbox.onmicrosoft.com\n", ids::MS_SENDER, ids::MS_RECIPIENT),
    )
    .unwrap();
    let mut env = world.ms_env(ids::APP_SECRET);
    env.push(("MAILWIRE_CONFIG_DIR", config.path().display().to_string()));
    let args =
        ["check", "--profile", "Fleet", "--senders", senders.to_str().unwrap(), "--to", ids::MS_RECIPIENT, "--json"];
    let run = mailwire(&args, &env_refs(&env), None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let reports: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let oks: Vec<bool> = reports.as_array().unwrap().iter().map(|r| r["ok"].as_bool().unwrap()).collect();
    assert_eq!(oks, [true, true, false]);
    assert_eq!(reports[2]["sender"], "nobody@contoso-sandbox.onmicrosoft.com");
    assert_eq!(world.emulator.outbox().len(), 2);
    assert_eq!(world.emulator.request_count(mailwire_emulator::Route::MsToken), 1, "one token for all senders");

    let table = mailwire(&args[..5], &env_refs(&env), None);
    assert_eq!(table.code, 0, "without --to only the shared token and permission are checked");
    assert!(table.stdout.contains("3 of 3 senders passed."), "{}", table.stdout);

    std::fs::write(&senders, "not-an-address\n").unwrap();
    let bad = mailwire(&args, &env_refs(&env), None);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("line 1"), "{}", bad.stderr);
}

#[test]
fn a_certificate_can_replace_the_secret() {
    let world = World::new();
    let credential = world._runtime.block_on(world.emulator.add_certificate(ids::APP_CLIENT_ID)).unwrap();
    let cert = world.dir.path().join("app.pem");
    let key = world.dir.path().join("app.key");
    std::fs::write(&cert, &credential.cert_pem).unwrap();
    std::fs::write(&key, &credential.private_key_pem).unwrap();
    let env: Vec<_> = world.ms_env("").into_iter().filter(|(k, _)| *k != "MAILWIRE_CLIENT_SECRET").collect();
    let mut args = MS_ARGS.to_vec();
    args.extend(["--certificate", cert.to_str().unwrap(), "--private-key", key.to_str().unwrap(), "--json"]);
    let run = mailwire(&args, &env_refs(&env), None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let key_body: Vec<&str> = credential.private_key_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(key_body.iter().all(|line| !run.stdout.contains(line) && !run.stderr.contains(line)));
}

/// A .pfx as Windows and OpenSSL export it: the password never goes on the command line.
#[test]
fn a_pfx_file_signs_in_with_its_password_from_the_environment_or_stdin() {
    let world = World::new();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mailwire-core/tests/fixtures");
    let certificate_pem = std::fs::read_to_string(fixtures.join("pfx-certificate.pem")).unwrap();
    world.emulator.upload_certificate(ids::APP_CLIENT_ID, &certificate_pem).unwrap();
    let pfx = fixtures.join("pfx-aes256.pfx");
    let env: Vec<_> = world.ms_env("").into_iter().filter(|(k, _)| *k != "MAILWIRE_CLIENT_SECRET").collect();
    let mut args = MS_ARGS.to_vec();
    args.extend(["--certificate", pfx.to_str().unwrap(), "--to", ids::MS_RECIPIENT]);

    let no_password = mailwire(&args, &env_refs(&env), None);
    assert_eq!(no_password.code, 2, "{}", no_password.stderr);
    assert!(no_password.stderr.contains("MAILWIRE_CERTIFICATE_PASSWORD"), "{}", no_password.stderr);

    let mut wrong = env.clone();
    wrong.push(("MAILWIRE_CERTIFICATE_PASSWORD", "guess".into()));
    let wrong = mailwire(&args, &env_refs(&wrong), None);
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("does not open"), "{}", wrong.stderr);

    let mut right = env.clone();
    right.push(("MAILWIRE_CERTIFICATE_PASSWORD", "Mailwire-test".into()));
    let run = mailwire(&args, &env_refs(&right), None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    args.push("--certificate-password-stdin");
    let run = mailwire(&args, &env_refs(&env), Some("Mailwire-test\n"));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(world.emulator.outbox().len(), 2);
    assert!(!run.stdout.contains("Mailwire-test") && !run.stderr.contains("Mailwire-test"));
}

#[test]
fn a_saved_connection_can_sign_in_with_a_certificate_mailwire_created() {
    let world = World::new();
    let config = tempfile::tempdir().unwrap();
    let service = format!("app.mailwire.test.{}", uuid::Uuid::new_v4());
    let env: Vec<(&'static str, String)> = vec![
        ("MAILWIRE_CONFIG_DIR", config.path().display().to_string()),
        ("MAILWIRE_KEYCHAIN_SERVICE", service),
        ("MAILWIRE_MS_AUTHORITY_HOST", world.emulator.base_url()),
        ("MAILWIRE_GRAPH_URL", world.emulator.base_url()),
    ];
    let upload = world.dir.path().join("upload.cer");
    let add = mailwire(
        &add_microsoft("Cert office", &["--new-certificate", upload.to_str().unwrap()]),
        &env_refs(&env),
        None,
    );
    if add.code != 0 && add.stderr.contains("keychain") && std::env::var_os("CI").is_none() {
        eprintln!("no keychain reachable here; CI runs this against gnome-keyring: {}", add.stderr);
        return;
    }
    assert_eq!(add.code, 0, "{}{}", add.stdout, add.stderr);
    assert!(add.stderr.contains("Upload certificate"), "{}", add.stderr);
    let certificate_pem = std::fs::read_to_string(&upload).unwrap();
    assert!(!certificate_pem.contains("PRIVATE KEY"));

    let show = mailwire(&["profile", "show", "Cert office"], &env_refs(&env), None);
    assert!(show.stdout.contains("thumbprint") && show.stdout.contains("Key:       stored in the system keychain"));

    // Not uploaded yet: Entra does not know the certificate.
    let check = ["check", "--profile", "Cert office", "--to", ids::MS_RECIPIENT, "--json"];
    let before = mailwire(&check, &env_refs(&env), None);
    assert_eq!(before.code, 1, "{}{}", before.stdout, before.stderr);
    assert!(before.stdout.contains("AADSTS700027"), "{}", before.stdout);

    world.emulator.upload_certificate(ids::APP_CLIENT_ID, &certificate_pem).unwrap();
    // A client secret in the environment is for secret connections; it must not stand in for the key.
    let mut env = env;
    env.push(("MAILWIRE_CLIENT_SECRET", ids::APP_SECRET.to_string()));
    let after = mailwire(&check, &env_refs(&env), None);
    assert_eq!(after.code, 0, "{}{}", after.stdout, after.stderr);
    assert_eq!(world.emulator.outbox().len(), 1);
    let printed = format!("{}{}{}{}", add.stdout, add.stderr, after.stdout, after.stderr);
    assert!(!printed.contains("PRIVATE KEY"));
    mailwire(&["profile", "remove", "Cert office"], &env_refs(&env), None);
}
