//! Certificate credentials for an Entra app: creating one, reading one from PEM, DER or PFX
//! files, and the public facts a helpdesk compares with the Entra admin center (thumbprint, subject, expiry).
//!
//! Entra signs apps in with a certificate when the app holds the private key and the app
//! registration holds the public certificate (Certificates & secrets → Certificates). Mailwire
//! keeps the private key in the system keychain and the certificate, which is public, with the
//! saved connection.

use std::path::Path;

use chrono::{DateTime, Datelike, Utc};
use ring::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY};
use ring::signature::{KeyPair as _, RsaKeyPair};
use serde::{Deserialize, Serialize};
use x509_parser::pem::Pem;

use crate::secret::SecretString;
use crate::UTF8_BOM;

/// Where every PEM block starts.
const PEM_BEGIN: &str = "-----BEGIN ";

/// Certificate and key files are a few kilobytes; anything this big is the wrong file.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;
/// How long a certificate made by Mailwire is valid. Entra accepts up to several years; two keeps
/// the renewal in sight without making it a chore.
pub const CREATED_VALIDITY_DAYS: i64 = 730;

/// How many days before its expiry a certificate is flagged for renewal.
pub const RENEWAL_DAYS: i64 = 30;

/// What the Entra admin center shows of an uploaded certificate, to match it with this one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateFacts {
    /// SHA-1 of the certificate in upper-case hex: the Thumbprint column under Certificates.
    pub thumbprint: String,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl CertificateFacts {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now > self.not_after
    }

    /// Expired, or close enough to its end that it should be renewed before mail stops.
    pub fn renewal_due(&self, now: DateTime<Utc>) -> bool {
        self.not_after - now < chrono::Duration::days(RENEWAL_DAYS)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("{path} could not be read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{0} is larger than 64 KiB; certificate and key files are a few kilobytes, so this is not one")]
    TooLarge(String),
    #[error(
        "no certificate found: choose the PEM file (.pem, .crt or .cer) that starts with '-----BEGIN CERTIFICATE-----'"
    )]
    NoCertificate,
    #[error("the certificate could not be read: {0}")]
    BadCertificate(String),
    #[error("the certificate's key is not RSA; Entra app sign-in with a certificate needs an RSA certificate")]
    NotRsa,
    #[error("no private key found: choose the PEM file that holds the key (its first line names a PRIVATE KEY)")]
    NoPrivateKey,
    #[error(
        "the private key is protected by a password; export it without one (openssl pkey -in key.pem -out plain.pem)"
    )]
    EncryptedKey,
    #[error("the private key is not a readable RSA key")]
    BadPrivateKey,
    #[error("the private key does not belong to this certificate; choose the key that was made with it")]
    KeyMismatch,
    #[error("creating the certificate failed: {0}")]
    Create(String),
    #[error("the .pfx file is protected by a password: enter the password it was exported with")]
    PfxPasswordNeeded,
    #[error("that password does not open the .pfx file; enter the password it was exported with")]
    PfxPasswordWrong,
    #[error(
        "the .pfx file holds no private key: export it again with its key (Certificate Export Wizard: \"Yes, export the private key\"; or Export-PfxCertificate)"
    )]
    PfxWithoutKey,
    #[error("the file is neither PEM text, a DER certificate nor a .pfx that can be read: {0}")]
    BadPfx(String),
    #[error("the .pfx file holds its own private key; leave out the separate key file")]
    KeyBesidePfx,
}

/// A certificate file as it may come from Windows, macOS or OpenSSL.
#[derive(Clone)]
pub enum CertificateFile {
    /// PEM text: the certificate, and perhaps its key. A DER-encoded `.cer` arrives here converted.
    Pem(SecretString),
    /// PKCS#12 (`.pfx`, `.p12`): certificate and key, sealed with a password.
    Pfx(Vec<u8>),
}

impl std::fmt::Debug for CertificateFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // PEM text may hold a private key.
        match self {
            Self::Pem(_) => f.write_str("Pem(..)"),
            Self::Pfx(bytes) => write!(f, "Pfx({} bytes)", bytes.len()),
        }
    }
}

/// A certificate with its private key, checked to belong together.
#[derive(Clone)]
pub struct CertificateCredential {
    pub certificate_pem: String,
    pub private_key_pem: SecretString,
    pub facts: CertificateFacts,
}

impl std::fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateCredential").field("facts", &self.facts).finish_non_exhaustive()
    }
}

/// The DER bytes of the first certificate in a PEM text.
pub fn certificate_der(certificate_pem: &str) -> Result<Vec<u8>, CertificateError> {
    pem_blocks(certificate_pem.as_bytes())
        .into_iter()
        .find(|block| block.label == "CERTIFICATE")
        .map(|block| block.contents)
        .ok_or(CertificateError::NoCertificate)
}

/// The public facts of the first certificate in a PEM text.
pub fn facts(certificate_pem: &str) -> Result<CertificateFacts, CertificateError> {
    let der = certificate_der(certificate_pem)?;
    let (_, certificate) =
        x509_parser::parse_x509_certificate(&der).map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0)
            .ok_or_else(|| CertificateError::BadCertificate("its validity dates are out of range".into()))
    };
    let validity = certificate.validity();
    Ok(CertificateFacts {
        thumbprint: hex_upper(digest(&SHA1_FOR_LEGACY_USE_ONLY, &der).as_ref()),
        subject: certificate.subject().to_string(),
        not_before: time(validity.not_before)?,
        not_after: time(validity.not_after)?,
    })
}

/// Pairs a certificate with its private key, refusing a key that does not belong to it.
pub fn from_pem(certificate_pem: &str, private_key_pem: &str) -> Result<CertificateCredential, CertificateError> {
    let facts = facts(certificate_pem)?;
    let der = certificate_der(certificate_pem)?;
    let (_, certificate) =
        x509_parser::parse_x509_certificate(&der).map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
    let spki = certificate.public_key();
    if !matches!(spki.parsed(), Ok(x509_parser::public_key::PublicKey::RSA(_))) {
        return Err(CertificateError::NotRsa);
    }
    let block = key_block(private_key_pem)?;
    if rsa_key(&block)?.public_key().as_ref() != spki.subject_public_key.data.as_ref() {
        return Err(CertificateError::KeyMismatch);
    }
    // Only the key's block goes to the keychain, nothing else of the file it came from.
    let private_key_pem = SecretString::new(pem_block(&block.contents, &block.label));
    Ok(CertificateCredential { certificate_pem: pem_block(&der, "CERTIFICATE"), private_key_pem, facts })
}

/// Reads a certificate and its key: a `.pfx` alone (opened with `pfx_password`, or with none),
/// or PEM/DER files where the key may sit in the certificate's file (as `openssl req -x509 … -out
/// both.pem` leaves it) or in a separate PEM or `.pfx` file.
pub fn read_files(
    certificate: &Path,
    private_key: Option<&Path>,
    pfx_password: Option<&SecretString>,
) -> Result<CertificateCredential, CertificateError> {
    match (read_file(certificate)?, private_key) {
        (CertificateFile::Pfx(_), Some(_)) => Err(CertificateError::KeyBesidePfx),
        (CertificateFile::Pfx(bytes), None) => from_pfx(&bytes, pfx_password),
        (CertificateFile::Pem(text), Some(key_file)) => {
            let key = key_for(text.expose(), key_file, pfx_password)?;
            from_pem(text.expose(), key.expose())
        }
        (CertificateFile::Pem(text), None) => from_pem(text.expose(), text.expose()),
    }
}

/// The private key in `key_file` (PEM or `.pfx`), checked to belong to `certificate_pem`.
pub fn key_for(
    certificate_pem: &str,
    key_file: &Path,
    pfx_password: Option<&SecretString>,
) -> Result<SecretString, CertificateError> {
    let key_text = match read_file(key_file)? {
        CertificateFile::Pfx(bytes) => from_pfx(&bytes, pfx_password)?.private_key_pem,
        CertificateFile::Pem(text) => text,
    };
    Ok(from_pem(certificate_pem, key_text.expose())?.private_key_pem)
}

/// Opens a PKCS#12 file. Without a password the empty one is tried, as some exports use it.
pub fn from_pfx(bytes: &[u8], password: Option<&SecretString>) -> Result<CertificateCredential, CertificateError> {
    let (attempt, refused) = match password {
        Some(password) => (password.expose(), CertificateError::PfxPasswordWrong),
        None => ("", CertificateError::PfxPasswordNeeded),
    };
    let store = p12_keystore::KeyStore::from_pkcs12(bytes, attempt).map_err(|e| match e {
        // A wrong password shows as a failed MAC, or as garbage padding where there is no MAC.
        p12_keystore::error::Error::MacError(_) | p12_keystore::error::Error::UnpadError => refused,
        p12_keystore::error::Error::UnsupportedEncryptionScheme => CertificateError::BadPfx(
            "it is sealed with an encryption Mailwire cannot open; export it again with AES-256 or TripleDES".into(),
        ),
        other => CertificateError::BadPfx(other.to_string()),
    })?;
    let (_, chain) = store.private_key_chain().ok_or(CertificateError::PfxWithoutKey)?;
    let leaf = chain.chain().first().ok_or(CertificateError::NoCertificate)?;
    let key = SecretString::new(pem_block(chain.key(), "PRIVATE KEY"));
    from_pem(&pem_block(leaf.as_der(), "CERTIFICATE"), key.expose())
}

/// Reads a certificate file in whichever form it comes, judged by its content rather than its
/// name: PEM text, a DER certificate, or PKCS#12.
pub fn read_file(path: &Path) -> Result<CertificateFile, CertificateError> {
    let bytes = zeroize::Zeroizing::new(read_bytes(path)?);
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(&bytes);
    if bytes.windows(PEM_BEGIN.len()).any(|window| window == PEM_BEGIN.as_bytes()) {
        // Bag attributes from `openssl pkcs12 -nodes` may carry non-UTF-8 names; the blocks are ASCII.
        return Ok(CertificateFile::Pem(SecretString::new(String::from_utf8_lossy(bytes).into_owned())));
    }
    if let Ok((rest, _)) = x509_parser::parse_x509_certificate(bytes) {
        // Only the certificate's own bytes: trailing bytes would change its thumbprint.
        return Ok(CertificateFile::Pem(SecretString::new(pem_block(
            &bytes[..bytes.len() - rest.len()],
            "CERTIFICATE",
        ))));
    }
    Ok(CertificateFile::Pfx(bytes.to_vec()))
}

/// Whether a PEM text carries a private key, so a picker can ask for the key file only when needed.
pub fn has_private_key(pem: &str) -> bool {
    pem_blocks(pem.as_bytes()).iter().any(|block| block.label.ends_with("PRIVATE KEY"))
}

/// A new self-signed RSA-2048 certificate for an app, valid for [`CREATED_VALIDITY_DAYS`].
pub fn create(common_name: &str) -> Result<CertificateCredential, CertificateError> {
    let fail = |e: rcgen::Error| CertificateError::Create(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(fail)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let day = |at: DateTime<Utc>| rcgen::date_time_ymd(at.year(), at.month() as u8, at.day() as u8);
    let now = Utc::now();
    // From yesterday, so a clock a little behind Entra's cannot make a new certificate "not yet valid".
    params.not_before = day(now - chrono::Duration::days(1));
    params.not_after = day(now + chrono::Duration::days(CREATED_VALIDITY_DAYS));
    let certificate = params.self_signed(&key).map_err(fail)?;
    from_pem(&certificate.pem(), &key.serialize_pem())
}

/// A file name for the public certificate, to upload under Certificates & secrets.
pub fn upload_file_name(connection_name: &str) -> String {
    let safe: String = connection_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    match safe.trim_matches('-') {
        "" => "mailwire-certificate.cer".to_string(),
        name => format!("mailwire-{}.cer", name.to_lowercase()),
    }
}

/// The RSA private key in a PEM text, PKCS#8 or PKCS#1. Parsing checks the key's numbers, so a
/// broken key fails when it is read, not in a check.
pub fn rsa_private_key(pem: &str) -> Result<RsaKeyPair, CertificateError> {
    rsa_key(&key_block(pem)?)
}

fn rsa_key(block: &Pem) -> Result<RsaKeyPair, CertificateError> {
    match block.label.as_str() {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&block.contents),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&block.contents),
        _ => return Err(CertificateError::BadPrivateKey),
    }
    .map_err(|_| CertificateError::BadPrivateKey)
}

/// The private key's PEM block in a text that may hold certificates too.
fn key_block(text: &str) -> Result<Pem, CertificateError> {
    let blocks = pem_blocks(text.as_bytes());
    // PKCS#8 marks encryption in its label, the older OpenSSL format in a Proc-Type header.
    if text.contains("Proc-Type: 4,ENCRYPTED") || blocks.iter().any(|block| block.label == "ENCRYPTED PRIVATE KEY") {
        return Err(CertificateError::EncryptedKey);
    }
    blocks.into_iter().find(|block| block.label.ends_with("PRIVATE KEY")).ok_or(CertificateError::NoPrivateKey)
}

fn pem_blocks(bytes: &[u8]) -> Vec<Pem> {
    Pem::iter_from_buffer(bytes).filter_map(Result::ok).collect()
}

/// A PEM block of `der` under `label`.
pub(crate) fn pem_block(der: &[u8], label: &str) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII")).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, CertificateError> {
    let shown = path.display().to_string();
    let unreadable = |reason: String| CertificateError::Unreadable { path: shown.clone(), reason };
    let size = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?.len();
    if size > MAX_FILE_BYTES {
        return Err(CertificateError::TooLarge(shown));
    }
    std::fs::read(path).map_err(|e| unreadable(e.to_string()))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_certificate_pairs_with_its_key_and_shows_its_facts() {
        let created = create("Mailwire Helpdesk").unwrap();
        assert_eq!(created.facts.subject, "CN=Mailwire Helpdesk");
        assert_eq!(created.facts.thumbprint.len(), 40);
        assert!(created.facts.thumbprint.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        let days = (created.facts.not_after - created.facts.not_before).num_days();
        assert!((CREATED_VALIDITY_DAYS..=CREATED_VALIDITY_DAYS + 1).contains(&days), "{days}");
        let again = from_pem(&created.certificate_pem, created.private_key_pem.expose()).unwrap();
        assert_eq!(again.facts, created.facts);
    }

    #[test]
    fn another_key_is_refused() {
        let one = create("one").unwrap();
        let other = create("other").unwrap();
        let err = from_pem(&one.certificate_pem, other.private_key_pem.expose()).unwrap_err();
        assert_eq!(err, CertificateError::KeyMismatch);
    }

    #[test]
    fn each_wrong_input_says_what_is_wrong() {
        let cert = create("x").unwrap();
        assert_eq!(facts("hello").unwrap_err(), CertificateError::NoCertificate);
        let garbage = pem_block(b"not a certificate", "CERTIFICATE");
        assert!(matches!(facts(&garbage).unwrap_err(), CertificateError::BadCertificate(_)));
        assert_eq!(from_pem(&cert.certificate_pem, "nothing").unwrap_err(), CertificateError::NoPrivateKey);
        let encrypted = pem_block(b"whatever", "ENCRYPTED PRIVATE KEY");
        assert_eq!(from_pem(&cert.certificate_pem, &encrypted).unwrap_err(), CertificateError::EncryptedKey);
        let legacy = pem_block(b"whatever", "RSA PRIVATE KEY").replacen(
            '\n',
            "\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n",
            1,
        );
        assert_eq!(from_pem(&cert.certificate_pem, &legacy).unwrap_err(), CertificateError::EncryptedKey);
        let broken = pem_block(b"not a key", "PRIVATE KEY");
        assert_eq!(from_pem(&cert.certificate_pem, &broken).unwrap_err(), CertificateError::BadPrivateKey);
    }

    #[test]
    fn one_file_with_both_blocks_is_enough_and_the_key_is_kept_alone() {
        let dir = tempfile::tempdir().unwrap();
        let created = create("both").unwrap();
        let both = dir.path().join("both.pem");
        std::fs::write(&both, format!("{}{}", created.private_key_pem.expose(), created.certificate_pem)).unwrap();
        let read = read_files(&both, None, None).unwrap();
        assert_eq!(read.facts, created.facts);
        assert!(!read.private_key_pem.expose().contains("CERTIFICATE"));
        assert!(!read.certificate_pem.contains("PRIVATE KEY"));
        assert!(has_private_key(&std::fs::read_to_string(&both).unwrap()));
        assert!(!has_private_key(&created.certificate_pem));
    }

    #[test]
    fn huge_and_missing_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let huge = dir.path().join("huge.pem");
        std::fs::write(&huge, vec![b'a'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(matches!(read_files(&huge, None, None).unwrap_err(), CertificateError::TooLarge(_)));
        let missing = dir.path().join("missing.pem");
        assert!(matches!(read_files(&missing, None, None).unwrap_err(), CertificateError::Unreadable { .. }));
    }

    /// Made with OpenSSL 3: `openssl req -x509 -newkey rsa:2048 -subj "/CN=Mailwire PFX fixture"`,
    /// then `openssl pkcs12 -export` with its default AES-256 sealing (as current Windows and
    /// macOS exports), with `-certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1` (older
    /// Windows), with `-nokeys`, and with an empty password; the DER `.cer` with `openssl x509
    /// -outform DER`. The password is "Mailwire-test".
    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
    }

    const FIXTURE_THUMBPRINT: &str = "A68A9175A593F2C1B0FB271E77B87ACB7B7B9DE8";

    #[test]
    fn pfx_files_open_with_their_password() {
        let password = SecretString::new("Mailwire-test");
        for name in ["pfx-aes256.pfx", "pfx-3des.pfx"] {
            let read = read_files(&fixture(name), None, Some(&password)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(read.facts.thumbprint, FIXTURE_THUMBPRINT, "{name}");
            assert_eq!(read.facts.subject, "CN=Mailwire PFX fixture");
            let labels: Vec<String> =
                pem_blocks(read.private_key_pem.expose().as_bytes()).into_iter().map(|block| block.label).collect();
            assert_eq!(labels, ["PRIVATE KEY"], "{name}: the key alone, as PKCS#8");
            rsa_private_key(read.private_key_pem.expose()).unwrap();
        }
        let read = read_files(&fixture("pfx-no-password.pfx"), None, None).unwrap();
        assert_eq!(read.facts.thumbprint, FIXTURE_THUMBPRINT);
    }

    #[test]
    fn a_pfx_without_its_password_or_key_says_so() {
        let aes = fixture("pfx-aes256.pfx");
        assert_eq!(read_files(&aes, None, None).unwrap_err(), CertificateError::PfxPasswordNeeded);
        let wrong = SecretString::new("guess");
        assert_eq!(read_files(&aes, None, Some(&wrong)).unwrap_err(), CertificateError::PfxPasswordWrong);
        let tripledes = fixture("pfx-3des.pfx");
        assert_eq!(read_files(&tripledes, None, Some(&wrong)).unwrap_err(), CertificateError::PfxPasswordWrong);
        let password = SecretString::new("Mailwire-test");
        let certificate_only = fixture("pfx-certificate-only.pfx");
        assert_eq!(read_files(&certificate_only, None, Some(&password)).unwrap_err(), CertificateError::PfxWithoutKey);
        let dir = tempfile::tempdir().unwrap();
        let truncated = dir.path().join("truncated.pfx");
        std::fs::write(&truncated, &std::fs::read(&aes).unwrap()[..600]).unwrap();
        assert!(matches!(read_files(&truncated, None, Some(&password)).unwrap_err(), CertificateError::BadPfx(_)));
    }

    #[test]
    fn a_der_certificate_pairs_with_a_key_from_a_pfx() {
        let password = SecretString::new("Mailwire-test");
        let CertificateFile::Pem(certificate_pem) = read_file(&fixture("pfx-certificate.cer")).unwrap() else {
            panic!("a DER certificate reads as a certificate");
        };
        let certificate_pem = certificate_pem.expose();
        assert_eq!(facts(certificate_pem).unwrap().thumbprint, FIXTURE_THUMBPRINT);
        let key = key_for(certificate_pem, &fixture("pfx-3des.pfx"), Some(&password)).unwrap();
        rsa_private_key(key.expose()).unwrap();
        let other = create("other").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let other_key = dir.path().join("other.pem");
        std::fs::write(&other_key, other.private_key_pem.expose()).unwrap();
        assert_eq!(key_for(certificate_pem, &other_key, None).unwrap_err(), CertificateError::KeyMismatch);
        // A DER certificate and its key as a .pfx, given as two files, pair up too.
        let read =
            read_files(&fixture("pfx-certificate.cer"), Some(&fixture("pfx-3des.pfx")), Some(&password)).unwrap();
        assert_eq!(read.facts.thumbprint, FIXTURE_THUMBPRINT);
        let refused = read_files(&fixture("pfx-aes256.pfx"), Some(&other_key), Some(&password)).unwrap_err();
        assert_eq!(refused, CertificateError::KeyBesidePfx);
    }

    /// As Windows tools leave files: a byte-order mark before the PEM, bytes after the DER.
    #[test]
    fn a_byte_order_mark_or_trailing_bytes_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let created = create("bom").unwrap();
        let with_bom = dir.path().join("bom.pem");
        let text = format!("\u{FEFF}{}{}", created.certificate_pem, created.private_key_pem.expose());
        std::fs::write(&with_bom, text).unwrap();
        assert_eq!(read_files(&with_bom, None, None).unwrap().facts, created.facts);

        let padded = dir.path().join("padded.cer");
        let mut der = std::fs::read(fixture("pfx-certificate.cer")).unwrap();
        der.extend_from_slice(b"\r\n\0\0");
        std::fs::write(&padded, der).unwrap();
        let CertificateFile::Pem(pem) = read_file(&padded).unwrap() else { panic!("a DER certificate") };
        assert_eq!(facts(pem.expose()).unwrap().thumbprint, FIXTURE_THUMBPRINT);

        let neither = dir.path().join("notes.txt");
        std::fs::write(&neither, "just some notes").unwrap();
        let error = read_files(&neither, None, None).unwrap_err();
        assert!(matches!(error, CertificateError::BadPfx(_)), "{error}");
        assert!(error.to_string().starts_with("the file is neither PEM text, a DER certificate nor a .pfx"), "{error}");
    }

    #[test]
    fn upload_names_are_plain_file_names() {
        assert_eq!(upload_file_name("Contoso / Helpdesk"), "mailwire-contoso---helpdesk.cer");
        assert_eq!(upload_file_name("Büro"), "mailwire-b-ro.cer");
        assert_eq!(upload_file_name("Почта"), "mailwire-certificate.cer");
    }
}
