//! The emulator's live state behind one lock: the scenario, armed faults, request counters, the
//! outbox and the Google access tokens handed out. Handlers take the lock briefly and never hold
//! it across an await, so a test can change the scenario while requests are in flight.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};

use crate::fault::{Fault, Firing, Route};
use crate::outbox::OutboxMail;
use crate::scenario::Scenario;

pub(crate) struct Shared {
    /// Where clients reach this emulator, e.g. `http://127.0.0.1:4321`.
    pub(crate) base_url: String,
    /// Signs Microsoft access tokens; only this instance can validate them.
    pub(crate) token_key: [u8; 32],
    inner: Mutex<Inner>,
}

pub(crate) struct Inner {
    pub(crate) scenario: Scenario,
    pub(crate) faults: BTreeMap<Route, Fault>,
    pub(crate) counts: BTreeMap<Route, u64>,
    pub(crate) outbox: Vec<OutboxMail>,
    pub(crate) google_tokens: HashMap<String, GoogleGrant>,
    pub(crate) history_id: u64,
    /// Graph requests being served, per app and mailbox.
    mailbox_requests: HashMap<String, usize>,
}

/// Outlook serves at most this many requests at once for one app and one mailbox; more get 429.
pub const MAILBOX_CONCURRENCY: usize = 4;

/// A request's place among its mailbox's concurrent requests, given back when it is answered.
pub(crate) struct MailboxSlot {
    shared: Arc<Shared>,
    key: String,
}

impl Drop for MailboxSlot {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        if let Some(count) = inner.mailbox_requests.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                inner.mailbox_requests.remove(&self.key);
            }
        }
    }
}

/// What an opaque Google access token stands for.
#[derive(Clone, Debug)]
pub(crate) struct GoogleGrant {
    pub(crate) project_id: String,
    /// The impersonated user; `None` when the service account acts as itself.
    pub(crate) subject: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: DateTime<Utc>,
}

impl Shared {
    pub(crate) fn new(base_url: String, scenario: Scenario) -> Shared {
        Shared {
            base_url,
            token_key: rand::random(),
            inner: Mutex::new(Inner {
                scenario,
                faults: BTreeMap::new(),
                counts: BTreeMap::new(),
                outbox: Vec::new(),
                google_tokens: HashMap::new(),
                history_id: 1000,
                mailbox_requests: HashMap::new(),
            }),
        }
    }

    /// A panic elsewhere must not turn every later request into a panic too.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clock skew in force for a route: its own, else the one set for every route.
    pub(crate) fn skew_secs(&self, route: Option<Route>) -> i64 {
        let inner = self.lock();
        let own = route.and_then(|r| inner.faults.get(&r)).map_or(0, |f| f.date_skew_secs);
        if own != 0 {
            own
        } else {
            inner.faults.get(&Route::Any).map_or(0, |f| f.date_skew_secs)
        }
    }

    /// The emulator's idea of now on a route, moved by any date skew fault.
    pub(crate) fn now(&self, route: Route) -> DateTime<Utc> {
        skewed_now(self.skew_secs(Some(route)))
    }

    pub(crate) fn set_fault(&self, route: Route, fault: Fault) {
        let mut inner = self.lock();
        if fault == Fault::default() {
            inner.faults.remove(&route);
        } else {
            inner.faults.insert(route, fault);
        }
    }

    /// Requests per route, with `Any` as the total.
    pub(crate) fn request_counts(&self) -> BTreeMap<Route, u64> {
        let inner = self.lock();
        let mut counts: BTreeMap<Route, u64> =
            Route::ALL.iter().map(|r| (*r, inner.counts.get(r).copied().unwrap_or(0))).collect();
        let total = counts.values().sum();
        counts.insert(Route::Any, total);
        counts
    }

    /// Takes a slot for a request to an app's mailbox, or none when it already has
    /// [`MAILBOX_CONCURRENCY`] requests in flight.
    /// A request turned away is still counted, as every request that reached the emulator is.
    pub(crate) fn enter_mailbox(self: &Arc<Self>, route: Route, key: String) -> Option<MailboxSlot> {
        let mut inner = self.lock();
        let count = inner.mailbox_requests.entry(key.clone()).or_default();
        if *count >= MAILBOX_CONCURRENCY {
            *inner.counts.entry(route).or_default() += 1;
            return None;
        }
        *count += 1;
        Some(MailboxSlot { shared: Arc::clone(self), key })
    }

    /// Counts the request and decides which fault, if any, answers it and how long to wait.
    pub(crate) fn admit(&self, route: Route) -> (u64, Option<Firing>) {
        let mut inner = self.lock();
        *inner.counts.entry(route).or_default() += 1;
        let latency = [route, Route::Any]
            .iter()
            .filter_map(|r| inner.faults.get(r))
            .map(|f| f.latency_ms)
            .fold(0u64, u64::saturating_add);
        let firing = [route, Route::Any].iter().find_map(|r| inner.faults.get_mut(r).and_then(Fault::fire));
        // A fault whose counts ran out is gone, so `faults()` shows only what is still armed.
        inner.faults.retain(|_, f| *f != Fault::default());
        (latency, firing)
    }
}

/// Now moved by `skew` seconds, clamped to a century so no skew can overflow the clock.
pub(crate) fn skewed_now(skew: i64) -> DateTime<Utc> {
    const CENTURY: i64 = 100 * 365 * 24 * 3600;
    Utc::now() + Duration::seconds(skew.clamp(-CENTURY, CENTURY))
}
