//! What the CLI prints: steps as they finish, the final verdict, and connection listings.
//!
//! With `--json` nothing is printed until the end, and then exactly one JSON object.

use std::io::Write;

use mailwire_core::check::{Progress, Report, Step, StepStatus};
use mailwire_core::profile::{Profile, ProviderSettings};
use mailwire_core::secret::SecretStoreError;

pub struct Printer {
    json: bool,
}

impl Printer {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    pub fn progress(&self, event: Progress<'_>) {
        if self.json {
            return;
        }
        if let Progress::Finished(step) = event {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{}", format_step(step));
            let _ = out.flush();
        }
    }

    /// Prints the verdict and returns the exit status.
    pub fn finish(&self, report: &Report) -> u8 {
        if self.json {
            println!("{}", serde_json::to_string(report).expect("reports serialise"));
        } else {
            match report.first_failure() {
                None => println!("\nResult: all checks passed ({}).", report.provider.display_name()),
                Some(step) => println!(
                    "\nResult: FAILED at \"{}\"{}.",
                    step.title,
                    step.code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
                ),
            }
        }
        if report.ok {
            0
        } else {
            1
        }
    }
}

pub fn format_step(step: &Step) -> String {
    let mut text = format!("{} {} ({} ms)\n", step.status.symbol(), step.title, step.duration_ms);
    if !step.detail.is_empty() {
        text.push_str(&format!("    {}\n", step.detail));
    }
    if matches!(step.status, StepStatus::Fail | StepStatus::Warn) {
        if let Some(code) = &step.code {
            text.push_str(&format!("    Code: {code}\n"));
        }
        if !step.fix.is_empty() {
            text.push_str("    How to fix:\n");
            for (n, line) in step.fix.iter().enumerate() {
                text.push_str(&format!("      {}. {line}\n", n + 1));
            }
        }
        for link in &step.links {
            text.push_str(&format!("    Open: {link}\n"));
        }
    }
    text
}

pub fn print_profiles(profiles: &[Profile], json: bool) {
    if json {
        println!("{}", serde_json::to_string(profiles).expect("profiles serialise"));
        return;
    }
    if profiles.is_empty() {
        println!(
            "No saved connections. Add one with 'mailwire profile add microsoft …' or 'mailwire profile add google …'."
        );
        return;
    }
    for p in profiles {
        let last = match &p.last_check {
            None => "never checked".to_string(),
            Some(c) if c.ok => format!("passed {}", c.at.format("%Y-%m-%d %H:%M UTC")),
            Some(c) => format!(
                "failed {} at {}{}",
                c.at.format("%Y-%m-%d %H:%M UTC"),
                c.failed_step.as_deref().unwrap_or("?"),
                c.code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
            ),
        };
        println!("{:<28} {:<17} {:<36} {last}", p.name, p.provider().display_name(), p.sender);
    }
}

pub fn print_profile(profile: &Profile, secret_stored: Result<bool, SecretStoreError>, json: bool) {
    let stored_text = match &secret_stored {
        Ok(true) => "stored in the system keychain".to_string(),
        Ok(false) => "missing from the system keychain".to_string(),
        Err(e) => format!("unknown ({e})"),
    };
    if json {
        let mut value = serde_json::to_value(profile).expect("profiles serialise");
        value["secretStored"] = serde_json::json!(secret_stored.ok());
        println!("{value}");
        return;
    }
    println!("Name:      {}", profile.name);
    println!("Provider:  {}", profile.provider().display_name());
    println!("Sender:    {}", profile.sender);
    println!("Recipient: {}", profile.recipient.as_deref().unwrap_or("(none)"));
    match &profile.settings {
        ProviderSettings::Microsoft(ms) => {
            println!("Cloud:     {}", ms.cloud.label());
            println!("Tenant:    {}", ms.tenant);
            println!("Client ID: {}", ms.client_id);
            match ms.certificate.as_deref().map(mailwire_core::certificate::facts) {
                Some(Ok(facts)) => {
                    println!("Certificate: {} (thumbprint {})", facts.subject, facts.thumbprint);
                    println!("Expires:   {}", facts.not_after.format("%Y-%m-%d"));
                    println!("Key:       {stored_text}");
                }
                Some(Err(e)) => println!("Certificate: unreadable ({e})"),
                None => println!("Secret:    {stored_text}"),
            }
        }
        ProviderSettings::Google(g) => {
            println!("Service account: {}", g.key.client_email);
            println!("Client ID: {}", g.key.client_id);
            println!("Project:   {}", g.key.project_id);
            println!("Key ID:    {}", g.key.private_key_id);
            println!("Scopes:    {}", mailwire_core::google::scope_string(&g.input.scopes));
            println!("Key:       {stored_text}");
        }
    }
    println!("ID:        {}", profile.id);
}

/// One line per sender, then a count; returns the exit status.
pub fn print_sender_table(reports: &[mailwire_core::bulk::SenderReport], json: bool) -> u8 {
    let failed = reports.iter().filter(|r| !r.report.ok).count();
    if json {
        println!("{}", serde_json::to_string(reports).expect("reports serialise"));
    } else {
        let width = reports.iter().map(|r| r.sender.len()).max().unwrap_or(6).max(6);
        println!("{:<width$}  RESULT  DETAIL", "SENDER");
        for r in reports {
            match r.report.first_failure() {
                None => println!("{:<width$}  ✓ ok", r.sender),
                Some(step) => println!(
                    "{:<width$}  ✗ fail  {}{}",
                    r.sender,
                    step.title,
                    step.code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
                ),
            }
        }
        println!("\n{} of {} senders passed.", reports.len() - failed, reports.len());
    }
    if failed == 0 {
        0
    } else {
        1
    }
}
