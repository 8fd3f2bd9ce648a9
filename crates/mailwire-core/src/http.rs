//! The one HTTP layer every provider call goes through.
//!
//! One reqwest client per settings: rustls with the OS trust store plus an optional extra CA file
//! (corporate TLS inspection), connect and overall timeouts, no redirects (a token endpoint that
//! redirects is a captive portal or a misconfiguration, never the provider), the system or an
//! explicit proxy, and retries with jittered exponential backoff that honour `Retry-After`. Sends
//! are retried only when the request surely never reached the provider, so a test email is never
//! delivered twice. Transport failures become [`NetError`]s that say what happened in plain words.

use std::error::Error as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use backon::BackoffBuilder;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use url::Url;

use crate::secret::SecretString;

const USER_AGENT: &str = concat!("Mailwire/", env!("CARGO_PKG_VERSION"), " (+https://mailwire.app)");
/// Provider answers are small JSON documents; anything bigger is a portal page or an attack.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// An explicit proxy from settings; without one the environment and OS proxy settings apply.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct RetrySettings {
    /// Attempts in all, the first one included.
    pub max_attempts: usize,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest the retries of one request may wait in total, `Retry-After` included.
    pub max_total_wait: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(400),
            max_delay: Duration::from_secs(8),
            max_total_wait: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub proxy: Option<ProxySettings>,
    pub ca_file: Option<PathBuf>,
    pub retry: RetrySettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            proxy: None,
            ca_file: None,
            retry: RetrySettings::default(),
        }
    }
}

/// Whether a request may be repeated after a failure that left it unclear if the server got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// Token requests and reads: repeating them is harmless.
    Idempotent,
    /// Sending mail: repeat only when the request surely did not reach the provider.
    DeliverOnce,
}

/// A provider's answer, read in full.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// How many requests it took, so a report can say that it retried.
    pub attempts: usize,
    /// Set when retries stopped while the provider still throttled or failed.
    pub gave_up: Option<String>,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The provider's clock, from its `Date` header.
    pub fn date(&self) -> Option<SystemTime> {
        let value = self.headers.get(reqwest::header::DATE)?.to_str().ok()?;
        httpdate::parse_http_date(value).ok()
    }

    pub fn content_type(&self) -> &str {
        self.headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// True when a portal or proxy answered with a web page where JSON was expected.
    pub fn looks_like_html(&self) -> bool {
        if self.content_type().contains("text/html") {
            return true;
        }
        let start = String::from_utf8_lossy(&self.body[..self.body.len().min(256)]).to_ascii_lowercase();
        let start = start.trim_start();
        start.starts_with("<!doctype html") || start.starts_with("<html")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TimeoutPhase {
    Connect,
    Response,
}

/// Why a request got no usable answer, in terms a helpdesk can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NetError {
    #[error("The name {host} could not be found (DNS). Check the address, the network connection, or the DNS server.")]
    Dns { host: String },
    #[error("{host} refused the connection. Nothing is listening there, or a firewall rejects it.")]
    Refused { host: String },
    #[error("{host} did not answer in time ({}). The network or a proxy may be slow or blocking the connection.", match phase { TimeoutPhase::Connect => "while connecting", TimeoutPhase::Response => "while waiting for the answer" })]
    Timeout { host: String, phase: TimeoutPhase },
    #[error("The secure connection to {host} failed: {detail}. If your network inspects TLS, add your organisation's root certificate as the CA file in settings (or --ca-file).")]
    Tls { host: String, detail: String },
    #[error("The proxy asked for a user name and password (HTTP 407). Enter the proxy credentials in settings.")]
    ProxyAuth,
    #[error("The proxy could not connect to {host}: {detail}")]
    Proxy { host: String, detail: String },
    #[error("The connection to {host} was closed before the answer was complete.")]
    Dropped { host: String },
    #[error("A web page came back from {host} instead of the provider's answer (HTTP {status}). A captive portal, proxy login page or firewall is in the way: open a browser, sign in to the network, and try again.")]
    HtmlInsteadOfJson { host: String, status: u16 },
    #[error("The answer from {host} (HTTP {status}) was not in the provider's format: {detail}")]
    Malformed { host: String, status: u16, detail: String },
    #[error("The answer from {host} was larger than {MAX_BODY_BYTES} bytes; it cannot be the provider's.")]
    TooLarge { host: String },
    #[error("The CA file {path} could not be used: {reason}")]
    BadCaFile { path: String, reason: String },
    #[error("The proxy address {url} is not valid: {reason}")]
    BadProxy { url: String, reason: String },
    #[error("The request to {host} failed: {detail}")]
    Other { host: String, detail: String },
}

impl NetError {
    /// A short stable code for reports and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            NetError::Dns { .. } => "dns",
            NetError::Refused { .. } => "connection-refused",
            NetError::Timeout { phase: TimeoutPhase::Connect, .. } => "connect-timeout",
            NetError::Timeout { phase: TimeoutPhase::Response, .. } => "response-timeout",
            NetError::Tls { .. } => "tls",
            NetError::ProxyAuth => "proxy-auth-required",
            NetError::Proxy { .. } => "proxy",
            NetError::Dropped { .. } => "connection-dropped",
            NetError::HtmlInsteadOfJson { .. } => "html-instead-of-json",
            NetError::Malformed { .. } => "malformed-response",
            NetError::TooLarge { .. } => "response-too-large",
            NetError::BadCaFile { .. } => "bad-ca-file",
            NetError::BadProxy { .. } => "bad-proxy",
            NetError::Other { .. } => "network",
        }
    }

    /// For a send that failed this way, the provider may still have accepted the message.
    pub fn delivery_uncertain(&self) -> bool {
        matches!(self, NetError::Dropped { .. } | NetError::Timeout { phase: TimeoutPhase::Response, .. })
    }

    /// True when the request cannot have reached the provider, so even a send may be repeated.
    fn surely_not_delivered(&self) -> bool {
        matches!(
            self,
            NetError::Refused { .. } | NetError::Dns { .. } | NetError::Timeout { phase: TimeoutPhase::Connect, .. }
        )
    }

    fn transient(&self) -> bool {
        matches!(self, NetError::Refused { .. } | NetError::Timeout { .. } | NetError::Dropped { .. })
    }
}

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EndpointError {
    #[error("{name}: '{value}' is not a valid URL ({reason})")]
    Invalid { name: String, value: String, reason: String },
    #[error(
        "{name}: plain http:// is accepted only for this computer (127.0.0.1, ::1, localhost); use https:// for {host}"
    )]
    InsecureRemote { name: String, host: String },
    #[error("{name}: only https:// URLs are accepted, not {scheme}://")]
    Scheme { name: String, scheme: String },
}

/// Parses an endpoint override. `name` says which setting it came from, for the error message.
pub fn parse_endpoint(name: &str, value: &str) -> Result<Url, EndpointError> {
    let trimmed = value.trim();
    let url = Url::parse(trimmed).map_err(|e| EndpointError::Invalid {
        name: name.to_string(),
        value: trimmed.to_string(),
        reason: e.to_string(),
    })?;
    let host = url.host_str().unwrap_or_default().to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => return Err(EndpointError::InsecureRemote { name: name.to_string(), host }),
        other => return Err(EndpointError::Scheme { name: name.to_string(), scheme: other.to_string() }),
    }
    if host.is_empty() {
        return Err(EndpointError::Invalid {
            name: name.to_string(),
            value: trimmed.to_string(),
            reason: "no host".into(),
        });
    }
    Ok(url)
}

pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// Joins a base URL and a path without losing a base path (e.g. a reverse proxy prefix).
pub fn join_url(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path.trim_start_matches('/'));
    url.set_path(&joined);
    url
}

/// The shared client. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    settings: HttpSettings,
}

impl Http {
    pub fn new(settings: HttpSettings) -> Result<Self, NetError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .tls_built_in_native_certs(true);
        if let Some(path) = &settings.ca_file {
            for certificate in read_ca_file(path)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if let Some(proxy) = &settings.proxy {
            let bad = |reason: String| NetError::BadProxy { url: redact_url(&proxy.url), reason };
            let url = Url::parse(&proxy.url).map_err(|e| bad(e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
                return Err(bad(format!("unsupported scheme {}", url.scheme())));
            }
            let mut explicit = reqwest::Proxy::all(url.as_str()).map_err(|e| bad(e.to_string()))?;
            if let Some(username) = proxy.username.as_deref().filter(|u| !u.is_empty()) {
                let password = proxy.password.as_ref().map(|p| p.expose()).unwrap_or("");
                explicit = explicit.basic_auth(username, password);
            }
            builder = builder.proxy(explicit.no_proxy(reqwest::NoProxy::from_env()));
        }
        let client = builder.build().map_err(|e| match &settings.ca_file {
            Some(path) => NetError::BadCaFile { path: path.display().to_string(), reason: e.to_string() },
            None => NetError::Other { host: "-".into(), detail: format!("could not set up the HTTP client: {e}") },
        })?;
        Ok(Self { client, settings })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Which proxy a request to `url` goes through, for the report.
    pub fn describe_proxy(&self, url: &Url) -> String {
        if let Some(proxy) = &self.settings.proxy {
            return format!("proxy {} (from settings)", redact_url(&proxy.url));
        }
        let host = url.host_str().unwrap_or_default();
        let no_proxy = env_any(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
        let bypassed = no_proxy.split(',').map(str::trim).any(|entry| {
            entry == "*"
                || (!entry.is_empty()
                    && (host == entry.trim_start_matches('.')
                        || host.ends_with(&format!(".{}", entry.trim_start_matches('.')))))
        });
        let candidates: &[&str] = if url.scheme() == "https" {
            &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        } else {
            &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        };
        match env_any(candidates) {
            Some(proxy) if !bypassed => format!("proxy {} (from the environment)", redact_url(&proxy)),
            _ if cfg!(any(target_os = "macos", target_os = "windows")) => "system proxy settings, if any".into(),
            _ => "direct connection (no proxy)".into(),
        }
    }

    pub fn post_form(&self, url: &Url, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.client.post(url.clone()).form(form)
    }

    pub fn post_json(&self, url: &Url, bearer: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.client.post(url.clone()).bearer_auth(bearer).json(body)
    }

    pub fn get(&self, url: &Url, bearer: &str) -> reqwest::RequestBuilder {
        self.client.get(url.clone()).bearer_auth(bearer)
    }

    /// Sends a request, retrying as `mode` allows, and reads the whole answer.
    pub async fn execute(&self, request: reqwest::RequestBuilder, mode: RetryMode) -> Result<HttpResponse, NetError> {
        let request = request.build().map_err(|e| NetError::Other { host: "-".into(), detail: e.to_string() })?;
        let host = request.url().host_str().unwrap_or_default().to_string();
        let path = request.url().path().to_string();
        let retry = &self.settings.retry;
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(retry.base_delay)
            .with_max_delay(retry.max_delay)
            .with_jitter()
            .with_max_times(retry.max_attempts.saturating_sub(1))
            .build();
        let mut waited = Duration::ZERO;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let attempt = request.try_clone().expect("provider requests have in-memory bodies");
            let sent_at = Instant::now();
            let outcome = self.read(attempt, &host).await;
            let elapsed_ms = sent_at.elapsed().as_millis();
            let wait_reason = match &outcome {
                Ok(response) => {
                    tracing::debug!(target: "mailwire::http", %host, %path, status = response.status, elapsed_ms, attempts, "response");
                    let retryable = match mode {
                        RetryMode::Idempotent => matches!(response.status, 429 | 502 | 503 | 504),
                        RetryMode::DeliverOnce => matches!(response.status, 429 | 503),
                    };
                    if !retryable {
                        return outcome.map(|r| HttpResponse { attempts, ..r });
                    }
                    Some((retry_after(&response.headers), format!("HTTP {}", response.status)))
                }
                Err(error) => {
                    tracing::debug!(target: "mailwire::http", %host, %path, code = error.code(), elapsed_ms, attempts, "request failed");
                    let retryable = match mode {
                        RetryMode::Idempotent => error.transient(),
                        RetryMode::DeliverOnce => {
                            error.surely_not_delivered() && !matches!(error, NetError::Dns { .. })
                        }
                    };
                    if !retryable {
                        return outcome;
                    }
                    Some((None, error.code().to_string()))
                }
            };
            let (asked, reason) = wait_reason.expect("every non-returning branch sets a reason");
            let backoff = delays.next();
            let give_up = |why: String| match outcome {
                Ok(response) => Ok(HttpResponse { attempts, gave_up: Some(why), ..response }),
                Err(error) => Err(error),
            };
            let Some(backoff) = backoff else {
                return give_up(format!("gave up after {attempts} attempts ({reason})"));
            };
            let delay = asked.unwrap_or(backoff);
            if waited + delay > retry.max_total_wait {
                return give_up(format!(
                    "gave up after {attempts} attempts: the provider asked to wait {} s, more than the {} s allowed ({reason})",
                    delay.as_secs(),
                    retry.max_total_wait.as_secs()
                ));
            }
            tracing::info!(target: "mailwire::http", %host, %path, %reason, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
            waited += delay;
        }
    }

    async fn read(&self, request: reqwest::Request, host: &str) -> Result<HttpResponse, NetError> {
        let mut response = self.client.execute(request).await.map_err(|e| classify(&e, host))?;
        let status = response.status().as_u16();
        if status == 407 {
            return Err(NetError::ProxyAuth);
        }
        let headers = response.headers().clone();
        if response.content_length().is_some_and(|len| len as usize > MAX_BODY_BYTES) {
            return Err(NetError::TooLarge { host: host.to_string() });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, host))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(NetError::TooLarge { host: host.to_string() });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, headers, body, attempts: 1, gave_up: None })
    }
}

fn env_any(names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

/// Hides credentials in a proxy URL before it reaches a report.
fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            format!("{url} (with credentials)")
        }
        Ok(url) => url.to_string(),
        Err(_) => "<invalid proxy URL>".into(),
    }
}

fn read_ca_file(path: &PathBuf) -> Result<Vec<reqwest::Certificate>, NetError> {
    let bad = |reason: String| NetError::BadCaFile { path: path.display().to_string(), reason };
    let metadata = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if metadata.len() > 4 * 1024 * 1024 {
        return Err(bad("the file is larger than 4 MiB; a CA bundle is far smaller".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("-----BEGIN CERTIFICATE-----") {
        let certificates = reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| bad(e.to_string()))?;
        if certificates.is_empty() {
            return Err(bad("no certificate found in it".into()));
        }
        Ok(certificates)
    } else if bytes.len() > 64 && bytes[0] == 0x30 && bytes[1] >= 0x80 {
        reqwest::Certificate::from_der(&bytes)
            .map(|c| vec![c])
            .map_err(|_| bad("it is neither a PEM bundle nor a DER certificate".into()))
    } else {
        Err(bad("it is neither a PEM bundle nor a DER certificate".into()))
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER).and_then(|v: &HeaderValue| v.to_str().ok())?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn classify(error: &reqwest::Error, host: &str) -> NetError {
    let host = host.to_string();
    // The causes only: the top message quotes the URL, whose host, port or path could contain any
    // of the words looked for below (a port such as 40743 once read as a proxy's 407).
    let mut chain = String::new();
    let mut source = error.source();
    while let Some(inner) = source {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&inner.to_string());
        source = inner.source();
    }
    if chain.is_empty() {
        chain = error.to_string();
    }
    let lower = chain.to_ascii_lowercase();
    if error.is_timeout() {
        let phase = if error.is_connect() { TimeoutPhase::Connect } else { TimeoutPhase::Response };
        return NetError::Timeout { host, phase };
    }
    if lower.contains("proxy authorization required") || lower.contains("proxy authentication required") {
        return NetError::ProxyAuth;
    }
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        return NetError::Dns { host };
    }
    if lower.contains("connection refused") {
        return NetError::Refused { host };
    }
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        let detail = if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
            "the server's certificate is not issued by a trusted authority".to_string()
        } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
            "the certificate is for another host name".to_string()
        } else if lower.contains("expired") {
            "the certificate has expired".to_string()
        } else {
            "the TLS handshake failed".to_string()
        };
        return NetError::Tls { host, detail };
    }
    if lower.contains("tunnel") || lower.contains("proxy") {
        return NetError::Proxy { host, detail: last_part(&chain) };
    }
    if lower.contains("connection closed")
        || lower.contains("connection reset")
        || lower.contains("incomplete")
        || lower.contains("unexpected eof")
        || lower.contains("broken pipe")
        || error.is_body()
        || error.is_decode()
    {
        return NetError::Dropped { host };
    }
    NetError::Other { host, detail: last_part(&chain) }
}

fn last_part(chain: &str) -> String {
    chain.rsplit(": ").next().unwrap_or(chain).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_for_loopback() {
        assert!(parse_endpoint("x", "http://127.0.0.1:8080").is_ok());
        assert!(parse_endpoint("x", "http://127.8.9.1").is_ok());
        assert!(parse_endpoint("x", "http://[::1]:99/base").is_ok());
        assert!(parse_endpoint("x", "http://localhost:1").is_ok());
        assert!(matches!(
            parse_endpoint("x", "http://login.microsoftonline.com"),
            Err(EndpointError::InsecureRemote { .. })
        ));
        assert!(matches!(parse_endpoint("x", "http://10.0.0.1"), Err(EndpointError::InsecureRemote { .. })));
        assert!(matches!(parse_endpoint("x", "ftp://example.com"), Err(EndpointError::Scheme { .. })));
        assert!(matches!(parse_endpoint("x", "not a url"), Err(EndpointError::Invalid { .. })));
        assert!(parse_endpoint("x", "https://graph.microsoft.us").is_ok());
    }

    #[test]
    fn join_keeps_base_path() {
        let base = Url::parse("https://proxy.example/prefix/").unwrap();
        assert_eq!(join_url(&base, "/v1.0/users").as_str(), "https://proxy.example/prefix/v1.0/users");
        let bare = Url::parse("https://graph.microsoft.com").unwrap();
        assert_eq!(join_url(&bare, "v1.0/users").as_str(), "https://graph.microsoft.com/v1.0/users");
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let parsed = retry_after(&headers).unwrap();
        assert!(parsed <= Duration::from_secs(30) && parsed >= Duration::from_secs(28), "{parsed:?}");
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn proxy_credentials_are_hidden() {
        let shown = redact_url("http://alice:s3cret@proxy.corp:3128");
        assert!(!shown.contains("s3cret") && !shown.contains("alice"), "{shown}");
    }
}
