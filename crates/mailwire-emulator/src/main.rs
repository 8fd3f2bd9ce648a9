//! The `mailwire-emulator` binary: serves the emulator on a loopback address for processes that
//! cannot link the library (the desktop app's sandbox mode, Python client tests, manual runs),
//! writes the credentials a client needs into a directory, and prints the base URL first so a
//! parent process can read it as soon as the files are in place.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mailwire_emulator::{Emulator, Scenario};

#[derive(Parser)]
#[command(name = "mailwire-emulator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the emulator until Ctrl-C or SIGTERM; prints the base URL on the first line.
    Serve {
        /// Loopback address to listen on; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Directory to write google-key.json, google.json, microsoft.json (and ca.pem) into.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Scenario file (JSON); the built-in sandbox when absent.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Serve HTTPS with a CA generated at start (written to ca.pem).
        #[arg(long)]
        tls: bool,
    },
    /// Print the built-in sandbox scenario as JSON, a starting point for a scenario file.
    Sandbox,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mailwire-emulator: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Sandbox => {
            println!("{}", serde_json::to_string_pretty(&Scenario::sandbox())?);
            Ok(())
        }
        Command::Serve { addr, out, scenario, tls } => serve(addr, out.as_deref(), scenario.as_deref(), tls).await,
    }
}

async fn serve(addr: SocketAddr, out: Option<&Path>, scenario: Option<&Path>, tls: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "refusing --addr {addr}: the emulator only listens on loopback addresses (127.0.0.1, ::1)"
    );
    let scenario = match scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Scenario::from_json(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Scenario::sandbox(),
    };
    let emulator = Emulator::start_on(addr, scenario, tls).await?;
    if let Some(dir) = out {
        write_credentials(&emulator, dir)?;
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", emulator.base_url())?;
    stdout.flush()?;
    drop(stdout);
    wait_for_signal().await?;
    emulator.shutdown().await;
    Ok(())
}

fn write_credentials(emulator: &Emulator, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let scenario = emulator.scenario();
    let account = scenario.google.service_accounts.iter().find(|a| a.private_key_pem.is_some());
    if let Some(account) = account {
        let key = emulator.google_key_json(&account.client_email);
        write_private(&dir.join("google-key.json"), &key)?;
        if let Some(google) = emulator.google_credentials(&account.client_email) {
            write(&dir.join("google.json"), &serde_json::to_string_pretty(&google)?)?;
        }
    }
    let app = scenario.microsoft.tenants.iter().flat_map(|t| t.apps.first()).next();
    if let Some(app) = app {
        let microsoft = emulator.microsoft_credentials(&app.client_id);
        write_private(&dir.join("microsoft.json"), &serde_json::to_string_pretty(&microsoft)?)?;
    }
    if let Some(ca) = emulator.ca_pem() {
        write(&dir.join("ca.pem"), &ca)?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Key files and secrets readable by the owner only, as a real downloaded key should be.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
