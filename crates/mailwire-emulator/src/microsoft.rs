//! Entra ID's v2.0 token endpoint (client secret and certificate assertion), its OpenID
//! discovery document, and Microsoft Graph's sendMail. Checks run in the order the real services
//! appear to run them, and every refusal carries the exact error shape of PROTOCOL.md: AADSTS
//! errors with their trace and correlation IDs, Graph errors with their `innerError`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, SecondsFormat, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::fault::{Firing, Route};
use crate::jwt::Jws;
use crate::keys;
use crate::outbox::OutboxMail;
use crate::respond::{self, bearer, header_str, new_guid, Form};
use crate::scenario::{is_guid, App, MailboxState, Tenant};
use crate::state::Shared;

pub(crate) const GRAPH_GLOBAL: &str = "https://graph.microsoft.com";
const LOGIN_GLOBAL: &str = "https://login.microsoftonline.com";
/// Graph's well-known application ID, which AAD accepts in place of its URI in a scope.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Entra ID tolerates this much clock difference on client assertions.
const ASSERTION_LEEWAY_SECS: i64 = 300;
const TOKEN_LIFETIME_SECS: i64 = 3599;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery))
        .route("/{tenant}/discovery/v2.0/keys", get(keys_document))
        .route("/v1.0/users/{user}/sendMail", post(send_mail))
        .route("/v1.0/me/sendMail", post(send_mail_me))
}

/// An Entra ID refusal before it is dressed with IDs and timestamps.
struct Aad {
    status: u16,
    error: &'static str,
    code: u32,
    text: String,
}

fn aad(status: u16, error: &'static str, code: u32, text: impl Into<String>) -> Aad {
    Aad { status, error, code, text: text.into() }
}

fn missing(param: &str) -> Aad {
    aad(400, "invalid_request", 900144, format!("The request body must contain the following parameter: '{param}'."))
}

/// The AADSTS error body: description with Trace ID / Correlation ID / Timestamp lines.
fn aad_response(e: Aad, headers: &HeaderMap, now: DateTime<Utc>) -> Response {
    let trace_id = new_guid();
    let correlation_id =
        header_str(headers, "client-request-id").filter(|v| is_guid(v)).map_or_else(new_guid, str::to_ascii_lowercase);
    let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let description = format!(
        "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
        e.code, e.text
    );
    let body = json!({
        "error": e.error,
        "error_description": description,
        "error_codes": [e.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("{LOGIN_GLOBAL}/error?code={}", e.code),
    });
    respond::compact_json(e.status, &body, &aad_headers(&trace_id, &correlation_id))
}

fn aad_headers(trace_id: &str, correlation_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cache-control", "no-store, no-cache".into()),
        ("pragma", "no-cache".into()),
        ("x-ms-request-id", trace_id.into()),
        ("client-request-id", correlation_id.into()),
        ("x-ms-ests-server", "mailwire-emulator".into()),
    ]
}

/// A GUID, or a DNS name as Entra ID accepts it for a tenant.
fn tenant_is_well_formed(tenant: &str) -> bool {
    if is_guid(tenant) {
        return true;
    }
    !tenant.is_empty()
        && tenant.len() <= 253
        && tenant.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn is_multi_tenant_alias(tenant: &str) -> bool {
    ["common", "organizations", "consumers"].iter().any(|a| a.eq_ignore_ascii_case(tenant))
}

/// Finds the tenant or says why the path's tenant is unusable.
fn resolve_tenant(shared: &Shared, tenant: &str, discovery: bool) -> Result<Tenant, Aad> {
    let error = if discovery { "invalid_tenant" } else { "invalid_request" };
    if !tenant_is_well_formed(tenant) {
        return Err(aad(
            400,
            error,
            900023,
            format!("Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."),
        ));
    }
    let found = shared.lock().scenario.tenant(tenant).cloned();
    found.ok_or_else(|| aad(
        400,
        error,
        90002,
        format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
    ))
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.now(Route::MsToken);
    let mut form = Form::parse(&body);
    if let Some((id, secret)) = basic_credentials(&headers) {
        form.add_missing("client_id", id);
        form.add_missing("client_secret", secret);
    }
    match issue_token(&shared, &tenant, &form, now) {
        Ok(body) => {
            let trace_id = new_guid();
            let correlation_id = header_str(&headers, "client-request-id").map_or_else(new_guid, str::to_string);
            respond::compact_json(200, &body, &aad_headers(&trace_id, &correlation_id))
        }
        Err(e) => aad_response(e, &headers, now),
    }
}

/// `client_secret_basic`: RFC 6749 has both halves form-urlencoded before base64.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = header_str(headers, "authorization")?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

fn issue_token(shared: &Shared, tenant: &str, form: &Form, now: DateTime<Utc>) -> Result<Value, Aad> {
    if tenant_is_well_formed(tenant) && is_multi_tenant_alias(tenant) {
        return Err(aad(
            400,
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        ));
    }
    let t = resolve_tenant(shared, tenant, false)?;
    if !t.cloud.is_empty() && !t.cloud.eq_ignore_ascii_case("global") {
        return Err(aad(
            400,
            "invalid_request",
            90038,
            format!("Tenant '{tenant}' belongs to the National Cloud '{}'. Current cloud instance 'Prod' does not federate with '{}'.", t.cloud, t.cloud),
        ));
    }
    match form.get("grant_type") {
        None => return Err(missing("grant_type")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(aad(
                400,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ))
        }
    }
    let client_id = form.get("client_id").ok_or_else(|| missing("client_id"))?;
    if !is_guid(client_id) {
        return Err(aad(
            400,
            "unauthorized_client",
            700038,
            format!("{client_id} is not a valid application identifier."),
        ));
    }
    let app = t.app(client_id).ok_or_else(|| aad(
        400,
        "unauthorized_client",
        700016,
        format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", t.display_name),
    ))?;
    let acr = authenticate_client(shared, tenant, &t, app, form, now)?;
    let scope = form.get("scope").ok_or_else(|| missing("scope"))?;
    let audience = check_scope(shared, &t, scope)?;
    if t.conditional_access_blocked_apps.iter().any(|a| a.eq_ignore_ascii_case(client_id)) {
        return Err(aad(
            400,
            "access_denied",
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        ));
    }
    let access_token = mint_access_token(shared, &t, app, acr, &audience, now)
        .map_err(|_| aad(500, "server_error", 90033, "A transient error has occurred. Please try again."))?;
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "ext_expires_in": TOKEN_LIFETIME_SECS,
        "access_token": access_token,
    }))
}

/// Checks the client secret or certificate assertion; returns the `appidacr` it earns.
fn authenticate_client(
    shared: &Shared,
    path_tenant: &str,
    t: &Tenant,
    app: &App,
    form: &Form,
    now: DateTime<Utc>,
) -> Result<&'static str, Aad> {
    let no_credential = || {
        aad(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    };
    match (form.get("client_assertion_type"), form.get("client_assertion")) {
        (Some(JWT_BEARER), Some(assertion)) => {
            check_assertion(shared, path_tenant, t, app, assertion, now)?;
            return Ok("2");
        }
        (Some(JWT_BEARER), None) => return Err(no_credential()),
        (None, Some(_)) => return Err(missing("client_assertion_type")),
        (Some(other), _) => {
            return Err(aad(
                401,
                "invalid_client",
                7000218,
                format!("The request body must contain the following parameter: 'client_assertion' or 'client_secret'. Unsupported client_assertion_type '{other}'."),
            ))
        }
        (None, None) => {}
    }
    let secret = form.get("client_secret").ok_or_else(no_credential)?;
    let matching: Vec<_> = app.secrets.iter().filter(|s| s.value == secret).collect();
    if matching.is_empty() {
        return Err(aad(
            401,
            "invalid_client",
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", app.client_id),
        ));
    }
    if matching.iter().all(|s| s.expires_at <= now) {
        return Err(aad(
            401,
            "invalid_client",
            7000222,
            format!("The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app.client_id),
        ));
    }
    Ok("1")
}

fn assertion_time(t: Option<i64>) -> String {
    t.and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0))
        .map_or_else(|| "(none)".into(), |d| d.format("%Y-%m-%dT%H:%M:%S%.6f0Z").to_string())
}

fn check_assertion(
    shared: &Shared,
    path_tenant: &str,
    t: &Tenant,
    app: &App,
    assertion: &str,
    now: DateTime<Utc>,
) -> Result<(), Aad> {
    let invalid = |reason: String| {
        aad(
            401,
            "invalid_client",
            700027,
            format!("Client assertion contains an invalid signature. [Reason - {reason}]"),
        )
    };
    let jws = Jws::parse(assertion)
        .ok_or_else(|| aad(400, "invalid_request", 50027, "JWT token is invalid or malformed."))?;
    let s256 = jws.header_str("x5t#S256");
    let s1 = jws.header_str("x5t");
    let thumb_hex = s256
        .or(s1)
        .and_then(crate::jwt::decode_b64url)
        .map(|b| b.iter().map(|x| format!("{x:02X}")).collect::<String>())
        .unwrap_or_default();
    let certificate = app.certificates.iter().find_map(|c| {
        let der = keys::cert_der_from_pem(&c.cert_pem)?;
        // Compared decoded: MSAL Python keeps the base64 padding, other clients strip it.
        let same = |sent: Option<&str>, ours: String| {
            sent.and_then(crate::jwt::decode_b64url)
                .is_some_and(|bytes| Some(bytes) == crate::jwt::decode_b64url(&ours))
        };
        let matches = same(s256, keys::thumbprint_sha256(&der)) || same(s1, keys::thumbprint_sha1(&der));
        matches.then_some((c, der))
    });
    let Some((certificate, der)) = certificate else {
        return Err(invalid(format!("The key was not found., Thumbprint of key used by client: '{thumb_hex}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are using a non-public cloud.", app.client_id)));
    };
    if certificate.expires_at.is_some_and(|end| end <= now) {
        return Err(invalid(format!("The key used is expired., Thumbprint of key used by client: '{thumb_hex}'")));
    }
    let verified = keys::public_key_from_cert_der(&der).is_some_and(|key| jws.verify_rsa(&key));
    if !verified {
        return Err(invalid(format!("The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{thumb_hex}', Found key 'Start=01/01/2024 00:00:00, End={}'", certificate.expires_at.map_or_else(|| "12/31/9999 23:59:59".into(), |e| e.format("%m/%d/%Y %H:%M:%S").to_string()))));
    }
    let names_app = |claim: &str| jws.claim_str(claim).is_some_and(|v| v.eq_ignore_ascii_case(&app.client_id));
    if !names_app("iss") || !names_app("sub") {
        return Err(aad(
            401,
            "invalid_client",
            50012,
            format!(
                "Client assertion contains an invalid issuer or subject; both must be the client ID '{}'.",
                app.client_id
            ),
        ));
    }
    let audience_ok = jws.claim_str("aud").is_some_and(|aud| {
        let aud = aud.trim_end_matches('/').to_ascii_lowercase();
        let tenants = std::iter::once(path_tenant.to_string())
            .chain(std::iter::once(t.id.clone()))
            .chain(t.domains.iter().cloned());
        let hosts = [shared.base_url.as_str(), LOGIN_GLOBAL];
        tenants.into_iter().any(|tenant| {
            hosts.iter().any(|host| {
                ["oauth2/v2.0/token", "oauth2/token"]
                    .iter()
                    .any(|path| aud == format!("{host}/{tenant}/{path}").to_ascii_lowercase())
            })
        })
    });
    if !audience_ok {
        return Err(aad(401, "invalid_client", 50012, "Client assertion audience claim does not match Realm issuer."));
    }
    let exp = jws.claim_time("exp");
    let from = jws.claim_time("nbf").or_else(|| jws.claim_time("iat"));
    let now_secs = now.timestamp();
    let in_window = exp.is_some_and(|e| e.saturating_add(ASSERTION_LEEWAY_SECS) > now_secs)
        && from.is_none_or(|f| f.saturating_sub(ASSERTION_LEEWAY_SECS) <= now_secs);
    if !in_window {
        return Err(aad(
            401,
            "invalid_client",
            700024,
            format!("Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .", now.format("%Y-%m-%dT%H:%M:%S%.6f0Z"), assertion_time(from), assertion_time(exp)),
        ));
    }
    Ok(())
}

/// App-only scopes name one resource followed by `/.default`; returns the token audience.
fn check_scope(shared: &Shared, t: &Tenant, scope: &str) -> Result<String, Aad> {
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let not_valid = || {
        aad(
            400,
            "invalid_scope",
            70011,
            format!("The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
        )
    };
    let [single] = scopes.as_slice() else {
        return Err(not_valid());
    };
    let lower = single.to_ascii_lowercase();
    let Some(resource) = lower.strip_suffix("/.default") else {
        return Err(aad(
            400,
            "invalid_scope",
            1002012,
            format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
        ));
    };
    let resource = resource.trim_end_matches('/');
    if resource == GRAPH_GLOBAL || resource == GRAPH_APP_ID {
        return Ok(resource.to_string());
    }
    if resource == shared.base_url.to_ascii_lowercase() {
        return Ok(shared.base_url.clone());
    }
    if resource.contains("://") || is_guid(resource) {
        let original = &single[..resource.len()];
        return Err(aad(
            400,
            "invalid_resource",
            500011,
            format!("The resource principal named {original} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", t.display_name),
        ));
    }
    Err(not_valid())
}

/// The app's service principal object ID: stable for a tenant and app, like the real one.
fn service_principal_id(tenant_id: &str, client_id: &str) -> String {
    let digest = Sha256::digest(format!("{tenant_id}/{client_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

fn random_b64(len: usize) -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// A v1.0 app-only access token like Graph's, signed with this emulator's own key.
fn mint_access_token(
    shared: &Shared,
    t: &Tenant,
    app: &App,
    acr: &str,
    audience: &str,
    now: DateTime<Utc>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let iat = now.timestamp();
    let oid = service_principal_id(&t.id, &app.client_id);
    let issuer = format!("https://sts.windows.net/{}/", t.id);
    let mut claims = Map::new();
    claims.insert("aud".into(), audience.into());
    claims.insert("iss".into(), issuer.clone().into());
    claims.insert("iat".into(), iat.into());
    claims.insert("nbf".into(), iat.into());
    claims.insert("exp".into(), (iat + TOKEN_LIFETIME_SECS).into());
    claims.insert("aio".into(), random_b64(40).into());
    claims.insert("app_displayname".into(), app.display_name.clone().into());
    claims.insert("appid".into(), app.client_id.clone().into());
    claims.insert("appidacr".into(), acr.into());
    claims.insert("azp".into(), app.client_id.clone().into());
    claims.insert("azpacr".into(), acr.into());
    claims.insert("idp".into(), issuer.into());
    claims.insert("idtyp".into(), "app".into());
    claims.insert("oid".into(), oid.clone().into());
    if !app.application_permissions.is_empty() {
        claims.insert("roles".into(), json!(app.application_permissions));
    }
    claims.insert("sub".into(), oid.into());
    claims.insert("tenant_region_scope".into(), "NA".into());
    claims.insert("tid".into(), t.id.clone().into());
    claims.insert("uti".into(), random_b64(22).into());
    claims.insert("ver".into(), "1.0".into());
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("mailwire-emulator".into());
    jsonwebtoken::encode(&header, &Value::Object(claims), &EncodingKey::from_secret(&shared.token_key))
}

async fn discovery(State(shared): State<Arc<Shared>>, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    let now = shared.now(Route::MsDiscovery);
    let (segment, issuer_tenant, cloud) = if tenant_is_well_formed(&tenant) && is_multi_tenant_alias(&tenant) {
        (tenant.to_ascii_lowercase(), "{tenantid}".to_string(), "global".to_string())
    } else {
        match resolve_tenant(&shared, &tenant, true) {
            Ok(t) => (t.id.clone(), t.id.clone(), t.cloud.clone()),
            Err(e) => return aad_response(e, &headers, now),
        }
    };
    let base = &shared.base_url;
    let (region, instance) = match cloud.to_ascii_lowercase().as_str() {
        "" | "global" => ("NA", "microsoftonline.com"),
        "china" => ("AS", "partner.microsoftonline.cn"),
        _ => ("USGov", "microsoftonline.us"),
    };
    let body = json!({
        "token_endpoint": format!("{base}/{segment}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{segment}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{GRAPH_GLOBAL}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{segment}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{segment}/kerberos"),
        "tenant_region_scope": region,
        "cloud_instance_name": instance,
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    });
    respond::compact_json(200, &body, &[])
}

/// Access tokens are signed with a symmetric key that is never published, so the key set is
/// empty; it exists because clients expect `jwks_uri` to resolve.
async fn keys_document() -> Response {
    respond::compact_json(200, &json!({ "keys": [] }), &[])
}

/// A Graph refusal; `innerError` carries the request IDs support asks for.
fn graph_error(status: u16, code: &str, message: &str, headers: &HeaderMap, now: DateTime<Utc>) -> Response {
    graph_error_with(status, code, message, headers, now, Vec::new())
}

fn graph_error_with(
    status: u16,
    code: &str,
    message: &str,
    headers: &HeaderMap,
    now: DateTime<Utc>,
    mut extra: Vec<(&'static str, String)>,
) -> Response {
    let request_id = new_guid();
    let client_request_id = header_str(headers, "client-request-id").map_or_else(|| request_id.clone(), str::to_string);
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now.format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": request_id,
                "client-request-id": client_request_id,
            }
        }
    });
    extra.extend(graph_headers(&request_id, &client_request_id));
    respond::compact_json(status, &body, &extra)
}

fn graph_headers(request_id: &str, client_request_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("request-id", request_id.into()),
        ("client-request-id", client_request_id.into()),
        (
            "x-ms-ags-diagnostic",
            r#"{"ServerInfo":{"DataCenter":"Loopback","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"mailwire-emulator"}}"#.into(),
        ),
    ]
}

async fn send_mail_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let now = shared.now(Route::GraphSendMail);
    if let Err((code, message)) = validate_access_token(&shared, &headers, now) {
        return graph_error(401, code, &message, &headers, now);
    }
    graph_error(400, "BadRequest", "/me request is only valid with delegated authentication flow.", &headers, now)
}

/// The claims Graph reads from a validated app-only token.
struct AppToken {
    tenant_id: String,
    app_id: String,
    roles: Option<Vec<String>>,
}

fn validate_access_token(
    shared: &Shared,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<AppToken, (&'static str, String)> {
    let invalid = |m: &str| ("InvalidAuthenticationToken", m.to_string());
    let token = bearer(headers).ok_or_else(|| invalid("Access token is empty."))?;
    if token.split('.').count() != 3 {
        return Err(invalid("IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EncodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'."));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data =
        jsonwebtoken::decode::<Map<String, Value>>(token, &DecodingKey::from_secret(&shared.token_key), &validation)
            .map_err(|_| invalid("Access token validation failure."))?;
    let claims = data.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    let aud = text("aud").to_ascii_lowercase();
    if aud != GRAPH_GLOBAL && aud != GRAPH_APP_ID && aud != shared.base_url.to_ascii_lowercase() {
        return Err(invalid("Access token validation failure. Invalid audience."));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now.timestamp() {
        return Err(invalid("Lifetime validation failed, the token is expired."));
    }
    let roles = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect());
    Ok(AppToken { tenant_id: text("tid"), app_id: text("appid"), roles })
}

async fn send_mail(
    State(shared): State<Arc<Shared>>,
    Path(user): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.now(Route::GraphSendMail);
    let token = match validate_access_token(&shared, &headers, now) {
        Ok(t) => t,
        Err((code, message)) => return graph_error(401, code, &message, &headers, now),
    };
    let scenario = shared.lock().scenario.clone();
    let tenant = scenario.tenant(&token.tenant_id);
    let app = tenant.and_then(|t| t.app(&token.app_id));
    let denied = "Access is denied. Check credentials and try again.";
    match &token.roles {
        None => {
            // An app with Mail.Send only as a delegated permission is the classic mistake;
            // Graph reports it as access denied rather than as a token without permissions.
            let delegated_only =
                app.is_some_and(|a| a.delegated_permissions.iter().any(|p| p.eq_ignore_ascii_case("Mail.Send")));
            if delegated_only {
                return graph_error(403, "ErrorAccessDenied", denied, &headers, now);
            }
            return graph_error(
                401,
                "NoPermissionsInAccessToken",
                "The token contains no permissions, or permissions can not be understood.",
                &headers,
                now,
            );
        }
        Some(roles) if !roles.iter().any(|r| r.eq_ignore_ascii_case("Mail.Send")) => {
            return graph_error(403, "ErrorAccessDenied", denied, &headers, now);
        }
        Some(_) => {}
    }
    let Some(mailbox) = tenant.and_then(|t| t.mailbox(&user)) else {
        return graph_error(
            404,
            "ErrorInvalidUser",
            &format!("The requested user '{user}' is invalid."),
            &headers,
            now,
        );
    };
    if mailbox.state != MailboxState::Enabled {
        return graph_error(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            &headers,
            now,
        );
    }
    if mailbox.blocked_apps.iter().any(|a| a.eq_ignore_ascii_case(&token.app_id)) {
        return graph_error(
            403,
            "ErrorAccessDenied",
            "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.",
            &headers,
            now,
        );
    }
    let mail = match parse_graph_message(&body, &mailbox.address, now) {
        Ok(mail) => mail,
        Err((code, message)) => {
            let status = if code == "ErrorSendAsDenied" { 403 } else { 400 };
            return graph_error(status, code, &message, &headers, now);
        }
    };
    shared.lock().outbox.push(mail);
    let request_id = new_guid();
    let client_request_id =
        header_str(&headers, "client-request-id").map_or_else(|| request_id.clone(), str::to_string);
    respond::empty(202, &graph_headers(&request_id, &client_request_id))
}

type GraphFail = (&'static str, String);

fn parse_graph_message(body: &[u8], mailbox: &str, now: DateTime<Utc>) -> Result<OutboxMail, GraphFail> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(("BadRequest", "Empty Payload. JSON content expected.".into()));
    }
    let payload: Value = serde_json::from_slice(body).map_err(|_| {
        (
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.".to_string(),
        )
    })?;
    let Some(message) = payload.get("message").filter(|m| m.is_object()) else {
        return Err(("ErrorInvalidParameter", "The value of the parameter 'Message' is empty.".into()));
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let content_type = match message.pointer("/body/contentType").and_then(Value::as_str) {
        None => "text".to_string(),
        Some(t) if t.eq_ignore_ascii_case("text") || t.eq_ignore_ascii_case("html") => t.to_ascii_lowercase(),
        Some(other) => {
            return Err((
                "RequestBodyRead",
                format!("Cannot convert the literal '{other}' to the expected type 'microsoft.graph.bodyType'."),
            ))
        }
    };
    let recipients = |field: &str| -> Result<Vec<String>, GraphFail> {
        let Some(list) = message.get(field).filter(|v| !v.is_null()) else {
            return Ok(Vec::new());
        };
        let Some(list) = list.as_array() else {
            return Err((
                "RequestBodyRead",
                format!("An unexpected 'StartObject' node was found for property named '{field}' when reading from the JSON reader. A 'StartArray' node was expected."),
            ));
        };
        list.iter()
            .map(|r| {
                let address = text(r.pointer("/emailAddress/address"));
                if respond::looks_like_email(&address) {
                    Ok(address)
                } else {
                    Err((
                        "ErrorInvalidRecipients",
                        format!("At least one recipient is not valid., Recipient '{address}' is not resolved. All recipients must be resolved before a message can be submitted."),
                    ))
                }
            })
            .collect()
    };
    let to = recipients("toRecipients")?;
    let cc = recipients("ccRecipients")?;
    let bcc = recipients("bccRecipients")?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err((
            "ErrorInvalidRecipients",
            "At least one recipient is not valid., A message can't be sent because it contains no recipients.".into(),
        ));
    }
    let mut headers = Vec::new();
    if let Some(list) = message.get("internetMessageHeaders").and_then(Value::as_array) {
        for h in list {
            let name = text(h.get("name"));
            if !name.to_ascii_lowercase().starts_with("x-") {
                return Err((
                    "InvalidInternetMessageHeader",
                    format!("The internet message header name '{name}' should start with 'x-' or 'X-'."),
                ));
            }
            headers.push((name, text(h.get("value"))));
        }
    }
    let from = message
        .pointer("/from/emailAddress/address")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or(mailbox)
        .to_string();
    // The emulated mailboxes grant nobody Send As rights on another address.
    if !from.eq_ignore_ascii_case(mailbox) {
        return Err((
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.".into(),
        ));
    }
    Ok(OutboxMail {
        provider: "microsoft".into(),
        id: format!("AAMk{}", random_b64(40)),
        from,
        to,
        cc,
        bcc,
        subject: text(message.get("subject")),
        body: text(message.pointer("/body/content")),
        content_type,
        headers,
        raw: None,
        accepted_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
    })
}

/// Which app and mailbox a sendMail request is for, as Outlook counts concurrent requests. The
/// token is only read here; the handler validates it.
pub(crate) fn mailbox_key(path: &str, headers: &HeaderMap) -> Option<String> {
    let mailbox = path.strip_prefix("/v1.0/users/")?.strip_suffix("/sendMail")?;
    let app_id = Jws::parse(bearer(headers)?)?.claim_str("appid")?.to_string();
    Some(format!("{app_id} {}", mailbox.to_ascii_lowercase()))
}

/// Outlook's answer when an app has too many requests in flight for one mailbox.
pub(crate) fn over_mailbox_concurrency(headers: &HeaderMap, now: DateTime<Utc>, retry_after_secs: u64) -> Response {
    graph_error_with(
        429,
        "ApplicationThrottled",
        "Application is over its MailboxConcurrency limit.",
        headers,
        now,
        vec![("retry-after", retry_after_secs.to_string())],
    )
}

/// The route's answer when a counted fault fires instead of the normal handler.
pub(crate) fn fault_response(
    route: Route,
    firing: &Firing,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Option<Response> {
    let response = match (route, firing) {
        (Route::GraphSendMail, Firing::Throttle { retry_after_secs }) => {
            over_mailbox_concurrency(headers, now, *retry_after_secs)
        }
        (Route::GraphSendMail, Firing::Status(500)) => {
            graph_error(500, "generalException", "General exception while processing.", headers, now)
        }
        (Route::GraphSendMail, Firing::Status(code)) => graph_error(
            *code,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please try again later.",
            headers,
            now,
        ),
        (Route::MsToken | Route::MsDiscovery, Firing::Throttle { retry_after_secs }) => {
            let mut response = aad_response(
                aad(
                    429,
                    "temporarily_unavailable",
                    90055,
                    "TenantThrottlingError - There are too many incoming requests. Please try again later.",
                ),
                headers,
                now,
            );
            if let Ok(v) = retry_after_secs.to_string().parse() {
                response.headers_mut().insert("retry-after", v);
            }
            response
        }
        (Route::MsToken | Route::MsDiscovery, Firing::Status(code)) => aad_response(
            aad(
                *code,
                if *code == 500 { "server_error" } else { "temporarily_unavailable" },
                90033,
                "A transient error has occurred. Please try again.",
            ),
            headers,
            now,
        ),
        _ => return None,
    };
    Some(response)
}

/// The secret a credentials file should hand out: the unexpired one that lasts longest.
pub(crate) fn usable_secret(app: &App, now: DateTime<Utc>) -> Option<String> {
    app.secrets.iter().filter(|s| s.expires_at > now).max_by_key(|s| s.expires_at).map(|s| s.value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_shapes() {
        for good in ["contoso.onmicrosoft.com", "contoso", "7d3b6c2e-4f1a-4b8e-9c5d-2a6f8e1b3c4d", "a-b.c-d.com"] {
            assert!(tenant_is_well_formed(good), "{good}");
        }
        for bad in ["", "a b", "-a.com", "a..com", "bad_tenant", "ü.com", &"a".repeat(64)] {
            assert!(!tenant_is_well_formed(bad), "{bad}");
        }
        assert!(is_multi_tenant_alias("Common"));
        assert!(!is_multi_tenant_alias("contoso"));
    }

    #[test]
    fn service_principal_ids_are_stable_guids() {
        let a = service_principal_id("t", "c");
        assert_eq!(a, service_principal_id("t", "c"));
        assert_ne!(a, service_principal_id("t", "d"));
        assert!(is_guid(&a));
    }
}
