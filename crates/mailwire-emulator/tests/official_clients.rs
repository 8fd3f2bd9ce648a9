//! Proves the providers' official client libraries accept the emulator: starts the
//! `mailwire-emulator` binary with TLS and runs `official_clients.py`, where google-auth obtains a
//! delegated token with the key file the binary wrote and msal's `acquire_token_for_client`
//! obtains a token over https trusting the emulator's CA. Without the Python modules the test
//! fails under CI and is skipped with a notice elsewhere.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Ends the server even when an assertion fails first.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `scripts/mailwire.sh` installs the libraries into its own virtual environment and names its
/// interpreter in MAILWIRE_PYTHON; elsewhere the `python3` on PATH is used.
fn python() -> String {
    std::env::var("MAILWIRE_PYTHON").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into())
}

fn python_modules_present() -> bool {
    Command::new(python())
        .args(["-c", "import google.auth, google.oauth2.service_account, msal, requests, cryptography"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn google_auth_and_msal_accept_the_emulator() {
    if !python_modules_present() {
        let hint = "python3 with google-auth, msal and requests is needed: pip install google-auth msal requests";
        if std::env::var_os("CI").is_some() {
            panic!("{hint}");
        }
        eprintln!("notice: skipping the official client test; {hint}");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mailwire-emulator"))
        .args(["serve", "--addr", "127.0.0.1:0", "--tls", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("https://127.0.0.1:"), "{base:?}");
    let ca = out.path().join("ca.pem");
    assert!(ca.exists());

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/official_clients.py");
    let mut python = Command::new(python())
        .arg(script)
        .arg(out.path())
        .arg(&base)
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env_remove("CURL_CA_BUNDLE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while python.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(180) {
            let _ = python.kill();
            panic!("official_clients.py did not finish in 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = python.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "official_clients.py failed:\n{stdout}\n{stderr}");
    let results: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(results["google_token"], true);
    assert_eq!(results["msal_secret"], true);
    assert_eq!(results["msal_certificate"], true);
}
