//! Access tokens and their in-memory cache.
//!
//! Neither provider hands out refresh tokens for app-only flows, so a token is kept until a minute
//! before it expires and then fetched again. Tokens never leave memory: no file, log or report.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::secret::SecretString;

/// Tokens are treated as expired this long before the provider says, so a request never races expiry.
pub const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub value: SecretString,
    pub expires_at: Instant,
}

impl AccessToken {
    pub fn new(value: String, expires_in: Duration) -> Self {
        Self { value: SecretString::new(value), expires_at: Instant::now() + expires_in }
    }

    pub fn is_fresh(&self) -> bool {
        Instant::now() + RENEW_BEFORE_EXPIRY < self.expires_at
    }

    /// The claims of a JWT access token, decoded without checking the signature: for diagnosis only,
    /// never for trust decisions.
    pub fn unverified_claims(&self) -> Option<serde_json::Value> {
        let payload = self.value.expose().split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// Tokens by (endpoint, client, subject, scope).
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<String, AccessToken>>,
}

impl TokenCache {
    pub fn get(&self, key: &str) -> Option<AccessToken> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.get(key).filter(|t| t.is_fresh()).cloned()
    }

    pub fn put(&self, key: String, token: AccessToken) {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(key, token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_a_minute_early() {
        let cache = TokenCache::default();
        cache.put("a".into(), AccessToken::new("t".into(), Duration::from_secs(59)));
        assert!(cache.get("a").is_none());
        cache.put("b".into(), AccessToken::new("t".into(), Duration::from_secs(3599)));
        assert!(cache.get("b").is_some());
    }

    #[test]
    fn claims_decode_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"roles":["Mail.Send"],"tid":"t"}"#);
        let token = AccessToken::new(format!("eyJhbGciOiJub25lIn0.{payload}.sig"), Duration::from_secs(10));
        assert_eq!(token.unverified_claims().unwrap()["roles"][0], "Mail.Send");
        let opaque = AccessToken::new("ya29.opaque".into(), Duration::from_secs(10));
        assert!(opaque.unverified_claims().is_none());
    }
}
