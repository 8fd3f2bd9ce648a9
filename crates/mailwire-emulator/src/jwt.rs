//! Just enough JWS to act as the authorization servers: split a compact token, decode its header
//! and claims, and check an RS256 or PS256 signature against a known key. Claim checks stay with
//! each provider because Microsoft and Google word their refusals differently.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::{Map, Value};
use sha2::Sha256;

pub(crate) struct Jws {
    pub(crate) header: Map<String, Value>,
    pub(crate) claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jws {
    /// `None` unless the text is three base64url parts whose first two are JSON objects.
    pub(crate) fn parse(token: &str) -> Option<Jws> {
        let mut parts = token.trim().split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let object = |part: &str| -> Option<Map<String, Value>> {
            let bytes = decode_b64url(part)?;
            match serde_json::from_slice(&bytes).ok()? {
                Value::Object(map) => Some(map),
                _ => None,
            }
        };
        Some(Jws {
            header: object(h)?,
            claims: object(c)?,
            signing_input: format!("{h}.{c}"),
            signature: decode_b64url(s)?,
        })
    }

    pub(crate) fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    pub(crate) fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Seconds since the epoch; clients send integers, some send floats.
    pub(crate) fn claim_time(&self, name: &str) -> Option<i64> {
        let value = self.claims.get(name)?;
        value.as_i64().or_else(|| value.as_f64().map(|f| f as i64))
    }

    /// Verifies with the algorithm the header names; anything but RS256/PS256 fails.
    pub(crate) fn verify_rsa(&self, key: &RsaPublicKey) -> bool {
        let message = self.signing_input.as_bytes();
        match self.header_str("alg") {
            Some("RS256") => rsa::pkcs1v15::Signature::try_from(self.signature.as_slice())
                .is_ok_and(|sig| rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone()).verify(message, &sig).is_ok()),
            Some("PS256") => rsa::pss::Signature::try_from(self.signature.as_slice())
                .is_ok_and(|sig| rsa::pss::VerifyingKey::<Sha256>::new(key.clone()).verify(message, &sig).is_ok()),
            _ => false,
        }
    }
}

/// Tolerates padding, which some encoders leave on.
pub(crate) fn decode_b64url(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refuses_what_is_not_a_compact_jws() {
        for token in ["", "a", "a.b", "a.b.c.d", "!!.??.**", "e30.W10.", "W10.e30.AA"] {
            assert!(Jws::parse(token).is_none(), "{token}");
        }
        // `{}` header and claims with an empty signature parse, and verify as nothing.
        let jws = Jws::parse("e30.e30.").unwrap();
        assert!(jws.header_str("alg").is_none());
        assert!(jws.claim_time("exp").is_none());
    }
}
