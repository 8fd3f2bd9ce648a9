//! Google's OAuth token endpoint for service accounts (RFC 7523 JWT-bearer with domain-wide
//! delegation) and the two Gmail API calls Mailwire makes: the profile and messages/send. The
//! assertion's RS256 signature is verified against the service account's registered key, then
//! its claims, the Workspace user and the delegation grant, in that order; Gmail checks the
//! project's API switch, the token's scopes and the mailbox. Refusals use Google's exact bodies.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use mail_parser::{Address, MessageParser, PartType};
use rand::Rng;
use serde_json::{json, Value};

use crate::fault::{Firing, Route};
use crate::jwt::Jws;
use crate::keys;
use crate::outbox::OutboxMail;
use crate::respond::{self, bearer, domain_of, looks_like_email, Form};
use crate::state::{GoogleGrant, Shared};

pub(crate) const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Audiences Google still accepts from older client libraries and key files.
const LEGACY_AUDIENCES: [&str; 2] =
    ["https://accounts.google.com/o/oauth2/token", "https://www.googleapis.com/oauth2/v4/token"];
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TOKEN_LIFETIME_SECS: i64 = 3599;
/// How far an assertion's `iat` may run ahead of Google's clock.
const CLOCK_LEEWAY_SECS: i64 = 60;
const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
const UNAUTHORIZED_CLIENT: &str = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";

const FULL_SCOPE: &str = "https://mail.google.com/";
const GMAIL: &str = "https://www.googleapis.com/auth/gmail.";
const PROFILE_SCOPES: [&str; 5] = [FULL_SCOPE, "modify", "compose", "readonly", "metadata"];
const SEND_SCOPES: [&str; 4] = [FULL_SCOPE, "modify", "compose", "send"];
const GET_PROFILE: &str = "caribou.api.proto.MailboxService.GetProfile";
const SEND_MESSAGE: &str = "caribou.api.proto.MailboxService.SendMessage";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/token", post(token))
        .route("/gmail/v1/users/{user}/profile", get(profile))
        .route("/gmail/v1/users/{user}/messages/send", post(send))
}

fn oauth_headers() -> Vec<(&'static str, String)> {
    vec![
        ("cache-control", "no-cache, no-store, max-age=0, must-revalidate".into()),
        ("pragma", "no-cache".into()),
        ("server", "scaffolding on HTTPServer2".into()),
    ]
}

type OAuthFail = (u16, &'static str, String);

fn fail(status: u16, error: &'static str, description: impl Into<String>) -> OAuthFail {
    (status, error, description.into())
}

fn oauth_error((status, error, description): OAuthFail) -> Response {
    respond::json(status, &json!({ "error": error, "error_description": description }), &oauth_headers())
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.now(Route::GoogleToken);
    match grant(&shared, &Form::parse(&body), now) {
        Ok(body) => respond::json(200, &body, &oauth_headers()),
        Err(e) => oauth_error(e),
    }
}

fn grant(shared: &Shared, form: &Form, now: DateTime<Utc>) -> Result<Value, OAuthFail> {
    match form.get("grant_type") {
        Some(JWT_BEARER_GRANT) => {}
        other => {
            return Err(fail(
                400,
                "unsupported_grant_type",
                format!("Invalid grant_type: {}", other.unwrap_or_default()),
            ))
        }
    }
    let assertion =
        form.get("assertion").ok_or_else(|| fail(400, "invalid_request", "Missing required parameter: assertion"))?;
    let jws = Jws::parse(assertion).ok_or_else(|| fail(400, "invalid_grant", "Invalid JWT: Malformed token."))?;
    let scenario = shared.lock().scenario.clone();
    let account = jws
        .claim_str("iss")
        .and_then(|iss| scenario.service_account(iss))
        .ok_or_else(|| fail(400, "invalid_grant", "Invalid grant: account not found"))?;
    let bad_signature = || fail(400, "invalid_grant", "Invalid JWT Signature.");
    if account.revoked || jws.header_str("alg") != Some("RS256") {
        return Err(bad_signature());
    }
    if jws.header_str("kid").is_some_and(|kid| kid != account.private_key_id) {
        return Err(bad_signature());
    }
    let key = account
        .private_key_pem
        .as_deref()
        .or(account.public_key_pem.as_deref())
        .and_then(keys::public_key_from_pem)
        .ok_or_else(bad_signature)?;
    if !jws.verify_rsa(&key) {
        return Err(bad_signature());
    }
    let own_url = format!("{}/token", shared.base_url);
    let audience_ok = jws
        .claim_str("aud")
        .is_some_and(|aud| aud == own_url || aud == GOOGLE_TOKEN_URL || LEGACY_AUDIENCES.contains(&aud));
    if !audience_ok {
        return Err(fail(
            400,
            "invalid_grant",
            format!("Invalid JWT: Failed audience check. The right audience is {GOOGLE_TOKEN_URL}"),
        ));
    }
    let now_secs = now.timestamp();
    let timely = match (jws.claim_time("iat"), jws.claim_time("exp")) {
        (Some(iat), Some(exp)) => {
            exp > iat
                && exp.saturating_sub(iat) <= 3600
                && exp > now_secs
                && iat <= now_secs.saturating_add(CLOCK_LEEWAY_SECS)
        }
        _ => false,
    };
    if !timely {
        return Err(fail(400, "invalid_grant", SHORT_LIVED));
    }
    let scopes: Vec<String> =
        jws.claim_str("scope").unwrap_or_default().split_whitespace().map(str::to_string).collect();
    if scopes.is_empty() {
        return Err(fail(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided."));
    }
    if scenario.google.blocked_clients.contains(&account.client_id) {
        return Err(fail(400, "access_denied", "Requested client not authorized"));
    }
    let subject = jws.claim_str("sub").or_else(|| jws.claim_str("prn"));
    // A service account naming itself as subject is not impersonating anyone.
    let subject = subject.filter(|s| !s.eq_ignore_ascii_case(&account.client_email));
    if let Some(sub) = subject {
        if !sub.contains('@') {
            return Err(fail(400, "invalid_request", format!("Invalid impersonation \"sub\" field: {sub}")));
        }
        if !looks_like_email(sub) {
            return Err(fail(400, "invalid_grant", "Not a valid email"));
        }
        let in_domain =
            domain_of(sub).is_some_and(|d| scenario.google.domains.iter().any(|x| x.eq_ignore_ascii_case(&d)));
        let user = scenario.google_user(sub).filter(|_| in_domain);
        let Some(user) = user else {
            return Err(fail(400, "invalid_grant", "Invalid email or User ID"));
        };
        if user.restricted {
            return Err(fail(400, "access_denied", "Account restricted"));
        }
        let granted = scenario.google.delegations.get(&account.client_id);
        let all_granted = granted.is_some_and(|granted| scopes.iter().all(|s| granted.iter().any(|g| g.trim() == s)));
        if !all_granted {
            return Err(fail(401, "unauthorized_client", UNAUTHORIZED_CLIENT));
        }
    }
    let access_token = format!("ya29.c.{}", random_token(160));
    let mut inner = shared.lock();
    inner.google_tokens.retain(|_, g| g.expires_at > now);
    inner.google_tokens.insert(
        access_token.clone(),
        GoogleGrant {
            project_id: account.project_id.clone(),
            subject: subject.map(str::to_ascii_lowercase),
            scopes,
            expires_at: now + Duration::seconds(TOKEN_LIFETIME_SECS),
        },
    );
    Ok(json!({
        "access_token": access_token,
        "expires_in": TOKEN_LIFETIME_SECS,
        "token_type": "Bearer",
    }))
}

fn random_token(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())])).collect()
}

/// A Google API error: `{"error": {code, message, errors, status, details?}}`.
fn api_error(code: u16, message: &str, status: &str, errors: Value, details: Option<Value>) -> Response {
    let mut error = json!({
        "code": code,
        "message": message,
        "errors": errors,
        "status": status,
    });
    if let (Some(details), Some(map)) = (details, error.as_object_mut()) {
        map.insert("details".into(), details);
    }
    let mut extra = vec![("vary", "Origin, X-Origin, Referer".to_string())];
    if code == 401 {
        extra.push(("www-authenticate", "Bearer realm=\"https://accounts.google.com/\"".into()));
    }
    respond::json(code, &json!({ "error": error }), &extra)
}

/// The common case: one `errors` entry repeating the message.
fn simple_error(code: u16, message: &str, status: &str, domain: &str, reason: &str) -> Response {
    api_error(code, message, status, json!([{ "message": message, "domain": domain, "reason": reason }]), None)
}

fn error_info(reason: &str, method: &str) -> Value {
    json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": { "method": method, "service": "gmail.googleapis.com" }
    }])
}

fn service_disabled(number: &str) -> Response {
    let url = format!("https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project={number}");
    let message = format!("Gmail API has not been used in project {number} before or it is disabled. Enable it by visiting {url} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.");
    api_error(
        403,
        &message,
        "PERMISSION_DENIED",
        json!([{
            "message": message,
            "domain": "usageLimits",
            "reason": "accessNotConfigured",
            "extendedHelp": "https://console.developers.google.com"
        }]),
        Some(json!([
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {
                    "activationUrl": url,
                    "consumer": format!("projects/{number}"),
                    "containerInfo": number,
                    "service": "gmail.googleapis.com",
                    "serviceTitle": "Gmail API"
                }
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{ "description": "Google developers console API activation", "url": url }]
            }
        ])),
    )
}

/// Who a Gmail call acts for once its token, project, scopes and mailbox all check out.
struct Caller {
    address: String,
}

// The refusal is the HTTP response itself, built at most once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    user: &str,
    method: &str,
    scopes: &[&str],
    now: DateTime<Utc>,
) -> Result<Caller, Response> {
    let help = "Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
    let Some(token) = bearer(headers) else {
        let message = format!("Request is missing required authentication credential. {help}");
        return Err(api_error(
            401,
            &message,
            "UNAUTHENTICATED",
            json!([{ "message": "Login Required.", "domain": "global", "reason": "required", "location": "Authorization", "locationType": "header" }]),
            Some(error_info("CREDENTIALS_MISSING", method)),
        ));
    };
    let (grant, scenario) = {
        let inner = shared.lock();
        (inner.google_tokens.get(token).cloned(), inner.scenario.clone())
    };
    let grant = match grant {
        Some(g) if g.expires_at > now => g,
        other => {
            let reason = if other.is_some() { "ACCESS_TOKEN_EXPIRED" } else { "ACCESS_TOKEN_TYPE_UNSUPPORTED" };
            let message = format!("Request had invalid authentication credentials. {help}");
            return Err(api_error(
                401,
                &message,
                "UNAUTHENTICATED",
                json!([{ "message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header" }]),
                Some(error_info(reason, method)),
            ));
        }
    };
    if let Some(project) = scenario.project(&grant.project_id) {
        if !project.gmail_api_enabled {
            return Err(service_disabled(&project.number));
        }
    }
    let allowed = |granted: &str| {
        scopes.iter().any(|s| {
            if s.starts_with("https://") {
                granted == *s
            } else {
                granted.strip_prefix(GMAIL) == Some(*s)
            }
        })
    };
    if !grant.scopes.iter().any(|s| allowed(s)) {
        return Err(api_error(
            403,
            "Request had insufficient authentication scopes.",
            "PERMISSION_DENIED",
            json!([{ "message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions" }]),
            Some(error_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT", method)),
        ));
    }
    let Some(subject) = grant.subject else {
        return Err(simple_error(
            400,
            "Precondition check failed.",
            "FAILED_PRECONDITION",
            "global",
            "failedPrecondition",
        ));
    };
    if user != "me" && !user.eq_ignore_ascii_case(&subject) {
        return Err(simple_error(
            403,
            &format!("Delegation denied for {subject}"),
            "PERMISSION_DENIED",
            "global",
            "forbidden",
        ));
    }
    match scenario.google_user(&subject) {
        Some(u) if u.gmail_enabled => Ok(Caller { address: u.address.clone() }),
        _ => Err(simple_error(400, "Mail service not enabled", "FAILED_PRECONDITION", "global", "failedPrecondition")),
    }
}

async fn profile(State(shared): State<Arc<Shared>>, Path(user): Path<String>, headers: HeaderMap) -> Response {
    let now = shared.now(Route::GmailProfile);
    let caller = match authorize(&shared, &headers, &user, GET_PROFILE, &PROFILE_SCOPES, now) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let inner = shared.lock();
    let sent =
        inner.outbox.iter().filter(|m| m.provider == "google" && m.from.eq_ignore_ascii_case(&caller.address)).count();
    let body = json!({
        "emailAddress": caller.address,
        "messagesTotal": sent,
        "threadsTotal": sent,
        "historyId": inner.history_id.to_string(),
    });
    drop(inner);
    respond::json(200, &body, &[("vary", "Origin, X-Origin, Referer".into())])
}

fn invalid_argument(message: &str) -> Response {
    simple_error(400, message, "INVALID_ARGUMENT", "global", "invalidArgument")
}

async fn send(
    State(shared): State<Arc<Shared>>,
    Path(user): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.now(Route::GmailSend);
    let caller = match authorize(&shared, &headers, &user, SEND_MESSAGE, &SEND_SCOPES, now) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let payload: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("Invalid JSON payload received. {e}");
            return simple_error(400, &message, "INVALID_ARGUMENT", "global", "badRequest");
        }
    };
    let raw = payload.get("raw").and_then(Value::as_str).unwrap_or_default();
    if raw.trim().is_empty() {
        return invalid_argument("'raw' RFC822 payload message string or uploading message via /upload/* URL required");
    }
    // Google's bytes fields take web-safe or standard base64, padded or not.
    let normalized: String = raw
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&normalized) else {
        let shown: String = raw.chars().take(40).collect();
        return simple_error(
            400,
            &format!("Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed for \"{shown}\""),
            "INVALID_ARGUMENT",
            "global",
            "invalid",
        );
    };
    let id = format!("{:016x}", rand::random::<u64>() | (1 << 60));
    let mail = match parse_rfc5322(&bytes, &caller.address, &id, now) {
        Ok(mail) => mail,
        Err(message) => return invalid_argument(message),
    };
    let mut inner = shared.lock();
    inner.history_id += 1;
    inner.outbox.push(mail);
    drop(inner);
    respond::json(
        200,
        &json!({ "id": id, "threadId": id, "labelIds": ["SENT"] }),
        &[("vary", "Origin, X-Origin, Referer".into())],
    )
}

/// Addresses of one header, or why Gmail would refuse the header.
fn addresses(address: Option<&Address>, present: bool, refusal: &'static str) -> Result<Vec<String>, &'static str> {
    if !present {
        return Ok(Vec::new());
    }
    let list: Vec<String> =
        address.map(|a| a.iter().filter_map(|x| x.address()).map(str::to_string).collect()).unwrap_or_default();
    if list.is_empty() || !list.iter().all(|a| looks_like_email(a)) {
        return Err(refusal);
    }
    Ok(list)
}

fn parse_rfc5322(bytes: &[u8], sender: &str, id: &str, now: DateTime<Utc>) -> Result<OutboxMail, &'static str> {
    let message = MessageParser::default()
        .parse(bytes)
        .filter(|m| !m.headers().is_empty())
        .ok_or("Recipient address required")?;
    let has = |name: &str| message.header_raw(name).is_some();
    let to = addresses(message.to(), has("To"), "Invalid To header")?;
    let cc = addresses(message.cc(), has("Cc"), "Invalid Cc header")?;
    let bcc = addresses(message.bcc(), has("Bcc"), "Invalid Bcc header")?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err("Recipient address required");
    }
    let from_header = addresses(message.from(), has("From"), "Invalid From header")?;
    // Gmail sends as the authenticated user; a From it does not own is replaced.
    let from = from_header.into_iter().find(|a| a.eq_ignore_ascii_case(sender)).unwrap_or_else(|| sender.to_string());
    let text_part = message.text_part(0).filter(|p| matches!(p.body, PartType::Text(_)));
    let (body, content_type) = match (text_part, message.html_part(0)) {
        (Some(part), _) => (part.text_contents().unwrap_or_default().to_string(), "text"),
        (None, Some(part)) => (part.text_contents().unwrap_or_default().to_string(), "html"),
        (None, None) => (String::new(), "text"),
    };
    let headers = message
        .headers_raw()
        .map(|(name, value)| {
            let unfolded = value.replace("\r\n", "").replace('\n', "");
            (name.to_string(), unfolded.trim().to_string())
        })
        .collect();
    Ok(OutboxMail {
        provider: "google".into(),
        id: id.to_string(),
        from,
        to,
        cc,
        bcc,
        subject: message.subject().unwrap_or_default().to_string(),
        body,
        content_type: content_type.into(),
        headers,
        raw: Some(String::from_utf8_lossy(bytes).into_owned()),
        accepted_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
    })
}

/// The route's answer when a counted fault fires instead of the normal handler.
pub(crate) fn fault_response(route: Route, firing: &Firing, now: DateTime<Utc>) -> Option<Response> {
    let response = match (route, firing) {
        (Route::GoogleToken, Firing::Throttle { retry_after_secs }) => {
            let mut response = oauth_error(fail(429, "rate_limit_exceeded", "Rate Limit Exceeded"));
            if let Ok(v) = retry_after_secs.to_string().parse() {
                response.headers_mut().insert("retry-after", v);
            }
            response
        }
        (Route::GoogleToken, Firing::Status(500)) => oauth_error(fail(500, "internal_failure", "Backend Error")),
        (Route::GoogleToken, Firing::Status(code)) => {
            oauth_error(fail(*code, "temporarily_unavailable", "The service is currently unavailable."))
        }
        (Route::GmailProfile | Route::GmailSend, Firing::Throttle { retry_after_secs }) => {
            // Clamped so an absurd Retry-After from a test cannot overflow the date arithmetic.
            let secs = i64::try_from((*retry_after_secs).min(315_360_000)).unwrap_or(0);
            let until = now + Duration::seconds(secs);
            let message = format!(
                "User-rate limit exceeded.  Retry after {}",
                until.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
            let mut response = simple_error(429, &message, "RESOURCE_EXHAUSTED", "usageLimits", "rateLimitExceeded");
            if let Ok(v) = retry_after_secs.to_string().parse() {
                response.headers_mut().insert("retry-after", v);
            }
            response
        }
        (Route::GmailProfile | Route::GmailSend, Firing::Status(500)) => {
            simple_error(500, "Internal error encountered.", "INTERNAL", "global", "backendError")
        }
        (Route::GmailProfile | Route::GmailSend, Firing::Status(code)) => {
            simple_error(*code, "The service is currently unavailable.", "UNAVAILABLE", "global", "backendError")
        }
        _ => return None,
    };
    Some(response)
}
