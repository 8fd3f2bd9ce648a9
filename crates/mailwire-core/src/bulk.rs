//! Checking many sender mailboxes of one connection at once.
//!
//! Helpdesks send from many mailboxes through one app. Each sender gets the connection's checks
//! (for Microsoft one shared token and its permissions, then the send when a recipient is given;
//! for Google a delegated token, the Gmail profile and the send per user), with at most
//! `concurrency` checks in flight. Each mailbox is touched by one request at a time, well inside
//! Outlook's limit of 4 concurrent requests per app and mailbox; 429s are retried after the time
//! the provider asks for.

use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinSet;

use crate::check::{no_progress, Report};
use crate::http::Http;
use crate::profile::{read_credential, run_with_credential, Profile, ProfileError, RunOptions};
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

/// Reads a senders file: one address per line; blank lines and `#` comments are skipped, and a
/// mailbox listed again (in any case) is checked once, so no mailbox ever sees two of our
/// requests at a time.
pub fn parse_senders(text: &str) -> Result<Vec<String>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut senders = Vec::new();
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || !seen.insert(line.to_ascii_lowercase()) {
            continue;
        }
        crate::validate::email("sender", line).map_err(|e| format!("line {}: {}", index + 1, e.message))?;
        if senders.len() == MAX_SENDERS {
            return Err(format!("the senders file lists more than {MAX_SENDERS} addresses"));
        }
        senders.push(line.to_string());
    }
    if senders.is_empty() {
        return Err("the senders file lists no addresses (one per line)".into());
    }
    Ok(senders)
}

/// Checks every sender with the connection's settings; results come back in the senders' order.
///
/// Each sender's check is its own task, so the CPU work between requests (signing a Google
/// assertion, building and parsing messages) spreads over the runtime's threads instead of
/// holding up the other checks in flight.
#[allow(clippy::too_many_arguments)]
pub async fn check_senders(
    profile: &Profile,
    senders: &[String],
    secrets: &dyn SecretStore,
    secret_override: Option<SecretString>,
    http: &Http,
    cache: &Arc<TokenCache>,
    recipient: Option<String>,
    concurrency: usize,
) -> Result<Vec<SenderReport>, ProfileError> {
    let options = RunOptions { send: recipient.is_some(), recipient, reuse_token: true };
    // One keychain read and one key parse for all senders: keychain calls block, and parsing an
    // RSA key costs as much as signing with it.
    let credential = Arc::new(read_credential(profile, secrets, secret_override)?);
    let check = |index: usize| {
        let mut per_sender = profile.clone();
        per_sender.sender = senders[index].clone();
        let (options, credential, http, cache) =
            (options.clone(), Arc::clone(&credential), http.clone(), Arc::clone(cache));
        async move {
            let report = run_with_credential(&per_sender, &credential, &http, &cache, &options, &no_progress).await;
            (index, report.map(|report| SenderReport { sender: per_sender.sender, report }))
        }
    };
    let mut results: Vec<(usize, Result<SenderReport, ProfileError>)> = Vec::with_capacity(senders.len());
    // The first check runs alone so that the token it gets is in the cache before the others
    // start; otherwise every check in the first wave would ask for its own.
    if !senders.is_empty() {
        results.push(check(0).await);
    }
    // Dropping the set (the run was cancelled) aborts the checks still in flight.
    let mut running = JoinSet::new();
    let mut next = 1;
    loop {
        while running.len() < concurrency.max(1) && next < senders.len() {
            running.spawn(check(next));
            next += 1;
        }
        match running.join_next().await {
            Some(Ok(result)) => results.push(result),
            Some(Err(failed)) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            // Tasks are cancelled only when the whole set is dropped, so no other error reaches here.
            Some(Err(_)) => {}
            None => break,
        }
    }
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_listed_twice_is_checked_once() {
        let text = "\u{FEFF}# helpdesk\nA@contoso.com\n\nb@contoso.com\na@CONTOSO.com\nA@contoso.com\n";
        assert_eq!(parse_senders(text).unwrap(), ["A@contoso.com", "b@contoso.com"]);
    }

    #[test]
    fn empty_lists_and_bad_lines_are_refused() {
        assert!(parse_senders("# only a comment\n\n").unwrap_err().contains("no addresses"));
        let error = parse_senders("# mailboxes\n\na@contoso.com\nnot-an-address\n").unwrap_err();
        assert!(error.starts_with("line 4"), "the file's own line number: {error}");
    }
}
