//! RSA keys and certificates: service account keys generated when a scenario leaves them out,
//! the public halves used to verify signatures, and self-signed app certificates for the
//! Microsoft certificate credential. Generation is slow in debug builds, so keys generated for
//! an account are remembered for the life of the process and reused by later emulators.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::scenario::Scenario;

fn cache() -> &'static Mutex<HashMap<String, String>> {
    static CACHE: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// A 2048-bit PKCS#8 PEM key, the same one every time for the same `label` in this process.
pub(crate) fn cached_key_pem(label: &str) -> anyhow::Result<String> {
    if let Some(pem) = cache().lock().unwrap_or_else(PoisonError::into_inner).get(label) {
        return Ok(pem.clone());
    }
    let pem = generate_key_pem()?;
    Ok(cache().lock().unwrap_or_else(PoisonError::into_inner).entry(label.to_string()).or_insert(pem).clone())
}

pub(crate) fn generate_key_pem() -> anyhow::Result<String> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).context("generating an RSA key")?;
    Ok(key.to_pkcs8_pem(LineEnding::LF).context("encoding an RSA key")?.to_string())
}

/// Gives every service account without key material a generated private key.
pub(crate) fn fill_missing_keys(scenario: &mut Scenario) -> anyhow::Result<()> {
    for account in &mut scenario.google.service_accounts {
        if account.private_key_pem.is_none() && account.public_key_pem.is_none() {
            let label = format!("google:{}:{}", account.client_email, account.private_key_id);
            account.private_key_pem = Some(cached_key_pem(&label)?);
        }
    }
    Ok(())
}

/// Accepts the PEM shapes people actually hold: PKCS#8 or PKCS#1, private or public.
pub(crate) fn public_key_from_pem(pem: &str) -> Option<RsaPublicKey> {
    let pem = pem.trim();
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map(|k| k.to_public_key())
        .ok()
        .or_else(|| RsaPublicKey::from_public_key_pem(pem).ok())
        .or_else(|| RsaPublicKey::from_pkcs1_pem(pem).ok())
}

/// The DER bytes of the first certificate in a PEM text.
pub(crate) fn cert_der_from_pem(pem: &str) -> Option<Vec<u8>> {
    let begin = "-----BEGIN CERTIFICATE-----";
    let start = pem.find(begin)? + begin.len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let body: String = pem[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// The RSA key inside a DER certificate.
pub(crate) fn public_key_from_cert_der(der: &[u8]) -> Option<RsaPublicKey> {
    RsaPublicKey::from_public_key_der(spki_from_cert_der(der)?).ok()
}

/// Walks Certificate -> TBSCertificate -> SubjectPublicKeyInfo. A full X.509 parser would be
/// a large dependency for one field whose position the standard fixes.
fn spki_from_cert_der(der: &[u8]) -> Option<&[u8]> {
    let (_, cert, _) = read_tlv(der)?;
    let (_, tbs, _) = read_tlv(cert)?;
    let mut rest = tbs;
    // version [0] is optional; then serial, signature, issuer, validity, subject, spki.
    let mut index = 0;
    loop {
        let (tag, _, next) = read_tlv(rest)?;
        let whole = &rest[..rest.len() - next.len()];
        if tag == 0xA0 && index == 0 {
            rest = next;
            continue;
        }
        if index == 5 {
            return Some(whole);
        }
        index += 1;
        rest = next;
    }
}

/// One DER tag-length-value: (tag, contents, what follows).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let octets = usize::from(first & 0x7F);
        if octets == 0 || octets > 4 || rest.len() < octets {
            return None;
        }
        let len = rest[..octets].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        rest = &rest[octets..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// `x5t`: base64url SHA-1 of the DER certificate.
pub(crate) fn thumbprint_sha1(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha1::digest(der))
}

/// `x5t#S256`: base64url SHA-256 of the DER certificate.
pub(crate) fn thumbprint_sha256(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// A certificate credential made for an app: what a client needs to sign assertions with it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CertificateCredential {
    pub cert_pem: String,
    /// PKCS#8 PEM of the certificate's RSA key.
    pub private_key_pem: String,
    /// base64url SHA-1 of the DER certificate (`x5t`).
    pub x5t: String,
    /// base64url SHA-256 of the DER certificate (`x5t#S256`).
    pub x5t_s256: String,
    /// Upper-case hex SHA-1, as the Entra portal lists the thumbprint.
    pub thumbprint_hex: String,
}

/// A self-signed RSA certificate like one made with `New-SelfSignedCertificate` or openssl.
pub(crate) fn make_certificate(common_name: &str) -> anyhow::Result<CertificateCredential> {
    let private_key_pem = generate_key_pem()?;
    let key = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&private_key_pem, &rcgen::PKCS_RSA_SHA256)
        .context("loading the certificate key")?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let cert = params.self_signed(&key).context("signing the certificate")?;
    let der = cert.der().to_vec();
    Ok(CertificateCredential {
        cert_pem: cert.pem(),
        private_key_pem,
        x5t: thumbprint_sha1(&der),
        x5t_s256: thumbprint_sha256(&der),
        thumbprint_hex: Sha1::digest(&der).iter().map(|b| format!("{b:02X}")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_garbage_der_is_refused_without_panicking() {
        for input in [&b""[..], b"\x30", b"\x30\x84\xff\xff\xff\xff", b"\x30\x03\x02\x01", b"\x30\x80\x00\x00"] {
            assert!(spki_from_cert_der(input).is_none());
            assert!(public_key_from_cert_der(input).is_none());
        }
        assert!(cert_der_from_pem("no pem here").is_none());
        let not_a_key = format!("-----BEGIN {0}-----\nAAAA\n-----END {0}-----", "PRIVATE KEY");
        assert!(public_key_from_pem(&not_a_key).is_none());
    }
}
