//! A rotating log file in the OS log directory.
//!
//! Only events are logged (which request, which status, how long), never request or response
//! bodies, secrets or tokens: the core's HTTP layer does not hand them to the logger at all.

use std::path::PathBuf;

use tracing_appender::rolling::{RollingFileAppender, Rotation};

/// Where logs go: `MAILWIRE_LOG_DIR`, else the OS's place for an app's logs: `~/Library/Logs/Mailwire`
/// on macOS, the local app-data folder on Windows (`%LOCALAPPDATA%\Mailwire\…\logs`), and
/// `~/.local/share/mailwire/logs` on Linux.
pub fn log_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MAILWIRE_LOG_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if cfg!(target_os = "macos") {
        if let Some(home) = directories::BaseDirs::new() {
            return home.home_dir().join("Library/Logs/Mailwire");
        }
    }
    match directories::ProjectDirs::from("app", "Mailwire", "mailwire") {
        Some(dirs) => dirs.data_local_dir().join("logs"),
        None => std::env::temp_dir().join("mailwire-logs"),
    }
}

pub fn init() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = log_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("mailwire")
        .filename_suffix("log")
        .max_log_files(7)
        .build(&dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAILWIRE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,mailwire=debug"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).try_init().ok()?;
    tracing::info!("Mailwire {} started", env!("CARGO_PKG_VERSION"));
    Some(guard)
}
