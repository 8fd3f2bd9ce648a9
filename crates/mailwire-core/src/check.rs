//! The check pipeline's shared shapes: steps, their status, the report, and live progress.
//!
//! Both providers run their checks as an ordered list of steps. Each step reports as it starts
//! and as it finishes through a [`Progress`] callback, so the desktop app can show a spinner and the
//! CLI can print line by line; the finished steps make up the [`Report`].

use std::future::Future;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::diagnose::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pass,
    Fail,
    Warn,
    Skipped,
}

impl StepStatus {
    pub fn symbol(self) -> &'static str {
        match self {
            StepStatus::Pass => "✓",
            StepStatus::Fail => "✗",
            StepStatus::Warn => "!",
            StepStatus::Skipped => "–",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Microsoft,
    Google,
}

impl Provider {
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Microsoft => "Microsoft 365",
            Provider::Google => "Google Workspace",
        }
    }
}

/// One finished step. `code` is the provider's own error code on a failure (e.g. `AADSTS7000215`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub status: StepStatus,
    pub duration_ms: u64,
    pub detail: String,
    pub code: Option<String>,
    pub fix: Vec<String>,
    pub links: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub ok: bool,
    pub provider: Provider,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub started_at: DateTime<Utc>,
    pub steps: Vec<Step>,
}

impl Report {
    pub fn first_failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == StepStatus::Fail)
    }
}

/// What the pipeline tells its watcher while it runs.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    Started { id: &'a str, title: &'a str },
    Finished(&'a Step),
}

pub type ProgressFn<'a> = &'a (dyn Fn(Progress<'_>) + Send + Sync);

/// How a step ended, before timing and reporting are added.
pub enum Outcome<T> {
    Pass {
        detail: String,
        value: T,
    },
    /// Passed with a caveat worth fixing.
    Warn {
        detail: String,
        finding: Finding,
        value: T,
    },
    Fail {
        detail: String,
        finding: Finding,
    },
    Skipped {
        reason: String,
    },
}

impl<T> Outcome<T> {
    pub fn pass(detail: impl Into<String>, value: T) -> Self {
        Outcome::Pass { detail: detail.into(), value }
    }

    pub fn fail(detail: impl Into<String>, finding: Finding) -> Self {
        Outcome::Fail { detail: detail.into(), finding }
    }
}

/// Runs steps in order, times them, and streams them to the watcher.
pub struct Pipeline<'a> {
    provider: Provider,
    profile: Option<String>,
    started_at: DateTime<Utc>,
    steps: Vec<Step>,
    progress: ProgressFn<'a>,
}

impl<'a> Pipeline<'a> {
    pub fn new(provider: Provider, profile: Option<String>, progress: ProgressFn<'a>) -> Self {
        Self { provider, profile, started_at: Utc::now(), steps: Vec::new(), progress }
    }

    /// Runs one step; returns its value when it passed or warned.
    pub async fn run<T, F>(&mut self, id: &str, title: &str, work: F) -> Option<T>
    where
        F: Future<Output = Outcome<T>>,
    {
        (self.progress)(Progress::Started { id, title });
        let started = Instant::now();
        let outcome = work.await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let (status, detail, finding, value) = match outcome {
            Outcome::Pass { detail, value } => (StepStatus::Pass, detail, None, Some(value)),
            Outcome::Warn { detail, finding, value } => (StepStatus::Warn, detail, Some(finding), Some(value)),
            Outcome::Fail { detail, finding } => (StepStatus::Fail, detail, Some(finding), None),
            Outcome::Skipped { reason } => (StepStatus::Skipped, reason, None, None),
        };
        self.record(id, title, status, duration_ms, detail, finding);
        value
    }

    /// Records a step that did not run, with the reason.
    pub fn skip(&mut self, id: &str, title: &str, reason: impl Into<String>) {
        (self.progress)(Progress::Started { id, title });
        self.record(id, title, StepStatus::Skipped, 0, reason.into(), None);
    }

    /// Records a step whose outcome was decided elsewhere (e.g. from an earlier request).
    pub fn record(
        &mut self,
        id: &str,
        title: &str,
        status: StepStatus,
        duration_ms: u64,
        detail: String,
        finding: Option<Finding>,
    ) {
        let (code, fix, links) = match finding {
            Some(f) => (f.code, f.fix, f.links),
            None => (None, Vec::new(), Vec::new()),
        };
        let step = Step { id: id.to_string(), title: title.to_string(), status, duration_ms, detail, code, fix, links };
        (self.progress)(Progress::Finished(&step));
        self.steps.push(step);
    }

    pub fn has_failed(&self) -> bool {
        self.steps.iter().any(|s| s.status == StepStatus::Fail)
    }

    pub fn finish(self) -> Report {
        let ok = !self.has_failed();
        Report { ok, provider: self.provider, profile: self.profile, started_at: self.started_at, steps: self.steps }
    }
}

/// A progress callback that ignores everything.
pub fn no_progress(_: Progress<'_>) {}

impl Report {
    /// The report as Markdown for a ticket or an email to support. Trace IDs stay in the details;
    /// secrets and tokens never enter a report in the first place.
    pub fn to_markdown(&self) -> String {
        let mut text = format!(
            "# Mailwire check: {}{}\n\n",
            self.provider.display_name(),
            self.profile.as_deref().map(|p| format!(" — {p}")).unwrap_or_default()
        );
        text.push_str(&format!("- Started: {}\n", self.started_at.to_rfc3339()));
        text.push_str(&format!(
            "- Result: {}\n\n",
            match self.first_failure() {
                None => "all checks passed".to_string(),
                Some(step) => format!(
                    "failed at \"{}\"{}",
                    step.title,
                    step.code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
                ),
            }
        ));
        text.push_str("| | Step | Time | Detail |\n|---|---|---|---|\n");
        for step in &self.steps {
            text.push_str(&format!(
                "| {} | {} | {} ms | {} |\n",
                step.status.symbol(),
                step.title,
                step.duration_ms,
                step.detail.replace('|', "\\|").replace('\n', " ")
            ));
        }
        for step in self.steps.iter().filter(|s| !s.fix.is_empty()) {
            text.push_str(&format!("\n## How to fix: {}\n\n", step.title));
            if let Some(code) = &step.code {
                text.push_str(&format!("Provider code: `{code}`\n\n"));
            }
            for (n, line) in step.fix.iter().enumerate() {
                text.push_str(&format!("{}. {line}\n", n + 1));
            }
            for link in &step.links {
                text.push_str(&format!("\n<{link}>\n"));
            }
        }
        text
    }
}
