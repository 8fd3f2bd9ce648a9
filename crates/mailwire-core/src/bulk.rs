//! Checking many sender mailboxes of one connection at once.
//!
//! Helpdesks send from many mailboxes through one app. Each sender gets the connection's checks
//! (for Microsoft one shared token and its permissions, then the send when a recipient is given;
//! for Google a delegated token, the Gmail profile and the send per user), with at most
//! `concurrency` checks in flight. Each mailbox is touched by one request at a time, well inside
//! Outlook's limit of 4 concurrent requests per app and mailbox; 429s are retried after the time
//! the provider asks for.

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::check::{no_progress, Report};
use crate::http::Http;
use crate::profile::{run_profile_check, Profile, ProfileError, RunOptions};
use crate::secret::{SecretStore, SecretString};
use crate::token::TokenCache;

/// The default bound on checks in flight.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// More senders than this in one run is a mistake, not a helpdesk's mailbox list.
pub const MAX_SENDERS: usize = 100_000;

#[derive(Debug, Clone, Serialize)]
pub struct SenderReport {
    pub sender: String,
    #[serde(flatten)]
    pub report: Report,
}

/// Reads a senders file: one address per line; blank lines and `#` comments are skipped.
pub fn parse_senders(text: &str) -> Result<Vec<String>, String> {
    let senders: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect();
    if senders.is_empty() {
        return Err("the senders file lists no addresses (one per line)".into());
    }
    if senders.len() > MAX_SENDERS {
        return Err(format!("the senders file lists {} addresses; the limit is {MAX_SENDERS}", senders.len()));
    }
    for (n, sender) in senders.iter().enumerate() {
        crate::validate::email("sender", sender).map_err(|e| format!("line {}: {}", n + 1, e.message))?;
    }
    Ok(senders)
}

/// Checks every sender with the connection's settings; results come back in the senders' order.
#[allow(clippy::too_many_arguments)]
pub async fn check_senders(
    profile: &Profile,
    senders: &[String],
    secrets: &dyn SecretStore,
    secret_override: Option<SecretString>,
    http: &Http,
    cache: &TokenCache,
    recipient: Option<String>,
    concurrency: usize,
) -> Result<Vec<SenderReport>, ProfileError> {
    let options = RunOptions { send: recipient.is_some(), recipient, reuse_token: true };
    // One keychain read for all senders: keychain calls block, and a thousand of them would
    // cost more than the checks.
    let secret_override = match secret_override {
        Some(secret) => Some(secret),
        None => secrets.get(&profile.id, profile.required_secret())?,
    };
    let checks = senders.iter().enumerate().map(|(index, sender)| {
        let mut per_sender = profile.clone();
        per_sender.sender = sender.clone();
        let options = options.clone();
        let secret = secret_override.clone();
        async move {
            let report = run_profile_check(&per_sender, secrets, secret, http, cache, &options, &no_progress).await;
            (index, report.map(|report| SenderReport { sender: per_sender.sender, report }))
        }
    });
    // The first check runs alone so that the token it gets is in the cache before the others
    // start; otherwise every check in the first wave would ask for its own.
    let mut checks = checks;
    let mut results: Vec<(usize, Result<SenderReport, ProfileError>)> = Vec::with_capacity(senders.len());
    if let Some(first) = checks.next() {
        results.push(first.await);
    }
    results.extend(stream::iter(checks).buffer_unordered(concurrency.max(1)).collect::<Vec<_>>().await);
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}
