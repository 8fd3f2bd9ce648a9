//! Entra ID token endpoint, discovery and Graph sendMail: the success paths and every error row.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mailwire_emulator::scenario::{sandbox, MailboxState};
use mailwire_emulator::{Emulator, Fault, Route, Scenario};
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn client_secret_token_carries_roles_and_ids() {
    let emu = sandbox().await;
    for tenant in [sandbox::TENANT_ID, sandbox::TENANT_DOMAIN, "CONTOSO-SANDBOX.onmicrosoft.com"] {
        let r = ms_token_form(
            &emu,
            tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", sandbox::APP_CLIENT_ID),
                ("client_secret", sandbox::APP_SECRET),
                ("scope", GRAPH_SCOPE),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.headers.contains_key("date"));
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 3599);
        assert_eq!(r.body["ext_expires_in"], 3599);
        assert!(r.body.get("refresh_token").is_none());
        let claims = jwt_payload(r.body["access_token"].as_str().unwrap());
        assert_eq!(claims["roles"], json!(["Mail.Send"]));
        assert_eq!(claims["tid"], sandbox::TENANT_ID);
        assert_eq!(claims["appid"], sandbox::APP_CLIENT_ID);
        assert_eq!(claims["azp"], sandbox::APP_CLIENT_ID);
        assert_eq!(claims["aud"], "https://graph.microsoft.com");
        assert_eq!(claims["appidacr"], "1");
        let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
        assert!((iat - now()).abs() < 30);
        assert_eq!(exp - iat, 3599);
    }
    // The emulator's own base URL is a valid Graph root too.
    let scope = format!("{}/.default", emu.base_url());
    let r = ms_token_form(
        &emu,
        sandbox::TENANT_ID,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox::APP_CLIENT_ID),
            ("client_secret", sandbox::APP_SECRET),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn no_admin_consent_means_no_roles_claim() {
    let emu = sandbox().await;
    let token = ms_access_token(&emu, sandbox::UNCONSENTED_CLIENT_ID, sandbox::UNCONSENTED_SECRET).await;
    let claims = jwt_payload(&token);
    assert!(claims.get("roles").is_none(), "{claims}");
    assert_eq!(claims["appid"], sandbox::UNCONSENTED_CLIENT_ID);
}

fn secret_form<'a>(client_id: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", GRAPH_SCOPE),
    ]
}

#[tokio::test]
async fn tenant_errors() {
    let emu = sandbox().await;
    let form = secret_form(sandbox::APP_CLIENT_ID, sandbox::APP_SECRET);
    let r = ms_token_form(&emu, "not%20a%20tenant!", &form).await;
    let line = assert_aad(&r, 400, "invalid_request", 900023);
    assert!(line.contains("is neither a valid DNS name"), "{line}");

    let r = ms_token_form(&emu, "11111111-2222-4333-8444-555555555555", &form).await;
    let line = assert_aad(&r, 400, "invalid_request", 90002);
    assert!(line.contains("Tenant '11111111-2222-4333-8444-555555555555' not found"), "{line}");
    let r = ms_token_form(&emu, "fabrikam.onmicrosoft.com", &form).await;
    assert_aad(&r, 400, "invalid_request", 90002);

    for alias in ["common", "organizations"] {
        let r = ms_token_form(&emu, alias, &form).await;
        assert_aad(&r, 400, "invalid_request", 50059);
    }

    emu.update(|s| s.microsoft.tenants[0].cloud = "usgov".into());
    let r = ms_token_form(&emu, sandbox::TENANT_ID, &form).await;
    let line = assert_aad(&r, 400, "invalid_request", 90038);
    assert!(line.contains("National Cloud 'usgov'"), "{line}");
}

#[tokio::test]
async fn app_and_secret_errors() {
    let emu = sandbox().await;
    let unknown = "99999999-8888-4777-8666-555555555555";
    let r = ms_secret(&emu, unknown, sandbox::APP_SECRET).await;
    let line = assert_aad(&r, 400, "unauthorized_client", 700016);
    assert!(
        line.contains(&format!(
            "Application with identifier '{unknown}' was not found in the directory 'Contoso Sandbox'"
        )),
        "{line}"
    );

    let r = ms_secret(&emu, "mailwire", sandbox::APP_SECRET).await;
    assert_aad(&r, 400, "unauthorized_client", 700038);

    let r = ms_secret(&emu, sandbox::APP_CLIENT_ID, "wrong-secret").await;
    let line = assert_aad(&r, 401, "invalid_client", 7000215);
    assert!(line.contains("not the client secret ID"), "{line}");
    // The secret's ID pasted where its value belongs.
    let r = ms_secret(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET_ID).await;
    assert_aad(&r, 401, "invalid_client", 7000215);

    emu.update(|s| s.microsoft.tenants[0].apps[0].secrets[0].expires_at = Utc::now() - Duration::days(1));
    let r = ms_secret(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let line = assert_aad(&r, 401, "invalid_client", 7000222);
    assert!(line.contains("are expired"), "{line}");
}

#[tokio::test]
async fn missing_parameters() {
    let emu = sandbox().await;
    let full = secret_form(sandbox::APP_CLIENT_ID, sandbox::APP_SECRET);
    for (drop, code, status, error) in [
        ("grant_type", 900144, 400, "invalid_request"),
        ("client_id", 900144, 400, "invalid_request"),
        ("scope", 900144, 400, "invalid_request"),
        ("client_secret", 7000218, 401, "invalid_client"),
    ] {
        let form: Vec<_> = full.iter().copied().filter(|(k, _)| *k != drop).collect();
        let r = ms_token_form(&emu, sandbox::TENANT_ID, &form).await;
        let line = assert_aad(&r, status, error, code);
        if code == 900144 {
            assert!(line.ends_with(&format!("parameter: '{drop}'.")), "{line}");
        }
    }
    // An empty value is as good as missing.
    let form: Vec<_> = full.iter().map(|(k, v)| if *k == "scope" { (*k, "") } else { (*k, *v) }).collect();
    let r = ms_token_form(&emu, sandbox::TENANT_ID, &form).await;
    assert_aad(&r, 400, "invalid_request", 900144);

    let mut form = full.clone();
    form[0] = ("grant_type", "password");
    let r = ms_token_form(&emu, sandbox::TENANT_ID, &form).await;
    assert_aad(&r, 400, "unsupported_grant_type", 70003);
}

#[tokio::test]
async fn scope_errors() {
    let emu = sandbox().await;
    for (scope, status, error, code) in [
        ("Mail.Send", 400, "invalid_scope", 1002012),
        ("https://graph.microsoft.com/Mail.Send", 400, "invalid_scope", 1002012),
        ("https://graph.microsoft.com/.default openid", 400, "invalid_scope", 70011),
        ("mail/.default", 400, "invalid_scope", 70011),
        ("https://graph.microsoft.us/.default", 400, "invalid_resource", 500011),
    ] {
        let mut form = secret_form(sandbox::APP_CLIENT_ID, sandbox::APP_SECRET);
        form[3] = ("scope", scope);
        let r = ms_token_form(&emu, sandbox::TENANT_ID, &form).await;
        let line = assert_aad(&r, status, error, code);
        if code == 1002012 {
            assert!(line.contains("/.default suffixed"), "{line}");
        }
        if code == 500011 {
            assert!(line.contains("The resource principal named https://graph.microsoft.us was not found"), "{line}");
        }
    }
    // Graph's application ID and a trailing slash are accepted, as by Entra ID.
    for scope in ["00000003-0000-0000-c000-000000000000/.default", "https://graph.microsoft.com//.default"] {
        let mut form = secret_form(sandbox::APP_CLIENT_ID, sandbox::APP_SECRET);
        form[3] = ("scope", scope);
        let r = ms_token_form(&emu, sandbox::TENANT_ID, &form).await;
        assert_eq!(r.status, 200, "{scope}: {}", r.text);
    }
}

#[tokio::test]
async fn client_secret_basic_is_accepted() {
    let emu = sandbox().await;
    let url = format!("{}/{}/oauth2/v2.0/token", emu.base_url(), sandbox::TENANT_ID);
    let form = [("grant_type", "client_credentials"), ("scope", GRAPH_SCOPE)];
    let ok = client()
        .post(&url)
        .basic_auth(sandbox::APP_CLIENT_ID, Some(sandbox::APP_SECRET.replace('~', "%7E")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let wrong = client().post(&url).basic_auth(sandbox::APP_CLIENT_ID, Some("nope")).form(&form).send().await.unwrap();
    assert_aad(&reply(wrong).await, 401, "invalid_client", 7000215);
}

#[tokio::test]
async fn conditional_access_blocks_the_app() {
    let emu = sandbox().await;
    emu.update(|s| s.microsoft.tenants[0].conditional_access_blocked_apps.push(sandbox::APP_CLIENT_ID.into()));
    let r = ms_secret(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let line = assert_aad(&r, 400, "access_denied", 53003);
    assert!(line.contains("Conditional Access"), "{line}");
}

#[tokio::test]
async fn correlation_id_echoes_client_request_id() {
    let emu = sandbox().await;
    let id = "0f0e0d0c-0b0a-4909-8807-060504030201";
    let url = format!("{}/{}/oauth2/v2.0/token", emu.base_url(), sandbox::TENANT_ID);
    let response = client()
        .post(url)
        .header("client-request-id", id)
        .form(&secret_form(sandbox::APP_CLIENT_ID, "nope"))
        .send()
        .await
        .unwrap();
    let r = reply(response).await;
    assert_aad(&r, 401, "invalid_client", 7000215);
    assert_eq!(r.body["correlation_id"], id);
}

/// A certificate assertion as MSAL builds one.
fn assertion(alg: Algorithm, thumb: (&str, &str), key_pem: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    match thumb {
        ("x5t", t) => header.x5t = Some(t.into()),
        (_, t) => header.x5t_s256 = Some(t.into()),
    }
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap()).unwrap()
}

fn assertion_claims(emu: &Emulator, client_id: &str) -> Value {
    let now = now();
    json!({
        "aud": format!("{}/{}/oauth2/v2.0/token", emu.base_url(), sandbox::TENANT_ID),
        "iss": client_id, "sub": client_id, "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now, "iat": now, "exp": now + 600
    })
}

async fn cert_token(emu: &Emulator, client_id: &str, assertion: &str) -> Reply {
    ms_token_form(
        emu,
        sandbox::TENANT_ID,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await
}

#[tokio::test]
async fn certificate_assertions() {
    let emu = sandbox().await;
    let app = sandbox::APP_CLIENT_ID;
    let cert = emu.add_certificate(app).await.unwrap();
    assert_eq!(cert.thumbprint_hex.len(), 40);
    let claims = assertion_claims(&emu, app);

    // Current docs (PS256 + x5t#S256) and older ones (RS256 + x5t) both work.
    for (alg, thumb) in
        [(Algorithm::PS256, ("x5t#S256", cert.x5t_s256.as_str())), (Algorithm::RS256, ("x5t", cert.x5t.as_str()))]
    {
        let r = cert_token(&emu, app, &assertion(alg, thumb, &cert.private_key_pem, &claims)).await;
        assert_eq!(r.status, 200, "{alg:?}: {}", r.text);
        let token = jwt_payload(r.body["access_token"].as_str().unwrap());
        assert_eq!(token["appidacr"], "2");
        assert_eq!(token["roles"], json!(["Mail.Send"]));
    }
    // The audience may also name the tenant by domain or the real authority host.
    for aud in [
        format!("https://login.microsoftonline.com/{}/oauth2/v2.0/token", sandbox::TENANT_ID),
        format!("{}/{}/oauth2/v2.0/token", emu.base_url(), sandbox::TENANT_DOMAIN),
    ] {
        let mut c = claims.clone();
        c["aud"] = aud.into();
        let r = cert_token(
            &emu,
            app,
            &assertion(Algorithm::PS256, ("x5t#S256", &cert.x5t_s256), &cert.private_key_pem, &c),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    // MSAL Python keeps base64 padding on the thumbprint.
    let padded = format!("{}=", cert.x5t);
    let r = cert_token(&emu, app, &assertion(Algorithm::RS256, ("x5t", &padded), &cert.private_key_pem, &claims)).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let good = |c: &Value| assertion(Algorithm::PS256, ("x5t#S256", &cert.x5t_s256), &cert.private_key_pem, c);

    // Signed with another key under the registered thumbprint.
    let other_key = sa_key(&emu, sandbox::SA_EMAIL);
    let forged = assertion(Algorithm::RS256, ("x5t", &cert.x5t), &other_key, &claims);
    let line = assert_aad(&cert_token(&emu, app, &forged).await, 401, "invalid_client", 700027);
    assert!(line.contains("did not match the expected signature value"), "{line}");

    // A certificate the app does not have.
    let unregistered =
        assertion(Algorithm::RS256, ("x5t", "AAAAAAAAAAAAAAAAAAAAAAAAAAA"), &cert.private_key_pem, &claims);
    let line = assert_aad(&cert_token(&emu, app, &unregistered).await, 401, "invalid_client", 700027);
    assert!(line.contains("The key was not found"), "{line}");

    // Expired assertion.
    let mut c = claims.clone();
    c["nbf"] = (now() - 7200).into();
    c["iat"] = (now() - 7200).into();
    c["exp"] = (now() - 3600).into();
    let line = assert_aad(&cert_token(&emu, app, &good(&c)).await, 401, "invalid_client", 700024);
    assert!(line.contains("not within its valid time range"), "{line}");

    // A fresh assertion against a clock two hours ahead: the skew the user's machine has.
    emu.set_fault(Route::MsToken, Fault { date_skew_secs: 7200, ..Fault::default() });
    assert_aad(&cert_token(&emu, app, &good(&claims)).await, 401, "invalid_client", 700024);
    emu.clear_faults();

    let mut c = claims.clone();
    c["aud"] = "https://example.com/token".into();
    let line = assert_aad(&cert_token(&emu, app, &good(&c)).await, 401, "invalid_client", 50012);
    assert!(line.contains("audience"), "{line}");

    let mut c = claims.clone();
    c["iss"] = sandbox::UNCONSENTED_CLIENT_ID.into();
    assert_aad(&cert_token(&emu, app, &good(&c)).await, 401, "invalid_client", 50012);

    assert_aad(&cert_token(&emu, app, "not-a-jwt").await, 400, "invalid_request", 50027);

    // Registered on another app only.
    let r = cert_token(
        &emu,
        sandbox::UNCONSENTED_CLIENT_ID,
        &good(&assertion_claims(&emu, sandbox::UNCONSENTED_CLIENT_ID)),
    )
    .await;
    assert_aad(&r, 401, "invalid_client", 700027);

    // Expired certificate credential.
    emu.update(|s| s.microsoft.tenants[0].apps[0].certificates[0].expires_at = Some(Utc::now() - Duration::days(1)));
    let line = assert_aad(&cert_token(&emu, app, &good(&claims)).await, 401, "invalid_client", 700027);
    assert!(line.contains("expired"), "{line}");

    // An assertion without its type.
    let r = ms_token_form(
        &emu,
        sandbox::TENANT_ID,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", app),
            ("client_assertion", "x.y.z"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_aad(&r, 400, "invalid_request", 900144);
}

#[tokio::test]
async fn openid_discovery() {
    let emu = sandbox().await;
    for tenant in [sandbox::TENANT_ID, sandbox::TENANT_DOMAIN] {
        let url = format!("{}/{tenant}/v2.0/.well-known/openid-configuration", emu.base_url());
        let r = reply(client().get(url).send().await.unwrap()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let base = emu.base_url();
        let tid = sandbox::TENANT_ID;
        assert_eq!(r.body["token_endpoint"], format!("{base}/{tid}/oauth2/v2.0/token"));
        assert_eq!(r.body["issuer"], format!("{base}/{tid}/v2.0"));
        assert_eq!(r.body["authorization_endpoint"], format!("{base}/{tid}/oauth2/v2.0/authorize"));
        let jwks = r.body["jwks_uri"].as_str().unwrap();
        let keys = reply(client().get(jwks).send().await.unwrap()).await;
        assert_eq!(keys.status, 200);
        assert!(keys.body["keys"].is_array());
    }
    let url = format!("{}/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration", emu.base_url());
    let r = reply(client().get(url).send().await.unwrap()).await;
    assert_aad(&r, 400, "invalid_tenant", 90002);
    let url = format!("{}/bad_tenant/v2.0/.well-known/openid-configuration", emu.base_url());
    let r = reply(client().get(url).send().await.unwrap()).await;
    assert_aad(&r, 400, "invalid_tenant", 900023);
    let url = format!("{}/common/v2.0/.well-known/openid-configuration", emu.base_url());
    let r = reply(client().get(url).send().await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_endpoint"], format!("{}/common/oauth2/v2.0/token", emu.base_url()));
}

#[tokio::test]
async fn send_mail_accepts_and_records() {
    let emu = sandbox().await;
    let token = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let payload = json!({
        "message": {
            "subject": "Mailwire test: sandbox",
            "body": { "contentType": "HTML", "content": "<p>It works.</p>" },
            "toRecipients": [{ "emailAddress": { "address": sandbox::MS_RECIPIENT, "name": "IT" } }],
            "ccRecipients": [{ "emailAddress": { "address": "cc@example.com" } }],
            "internetMessageHeaders": [{ "name": "X-Mailwire-Check", "value": "42" }]
        },
        "saveToSentItems": false
    });
    let r = send_mail(&emu, Some(&token), sandbox::MS_SENDER, &payload).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert!(r.text.is_empty());
    assert!(r.headers.contains_key("request-id"));
    assert!(r.headers.contains_key("date"));
    let outbox = emu.outbox();
    assert_eq!(outbox.len(), 1);
    let mail = &outbox[0];
    assert_eq!(mail.provider, "microsoft");
    assert_eq!(mail.from, sandbox::MS_SENDER);
    assert_eq!(mail.to, vec![sandbox::MS_RECIPIENT.to_string()]);
    assert_eq!(mail.cc, vec!["cc@example.com".to_string()]);
    assert_eq!(mail.subject, "Mailwire test: sandbox");
    assert_eq!(mail.body, "<p>It works.</p>");
    assert_eq!(mail.content_type, "html");
    assert_eq!(mail.headers, vec![("X-Mailwire-Check".to_string(), "42".to_string())]);
    assert!(mail.raw.is_none());

    // By object ID and with the address in other case.
    let r = send_mail(&emu, Some(&token), sandbox::MS_SENDER_ID, &graph_message(sandbox::MS_RECIPIENT)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let r =
        send_mail(&emu, Some(&token), &sandbox::MS_SENDER.to_uppercase(), &graph_message(sandbox::MS_RECIPIENT)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(emu.outbox().len(), 3);
    emu.clear_outbox();
    assert!(emu.outbox().is_empty());
}

#[tokio::test]
async fn send_mail_permission_errors() {
    let emu = sandbox().await;
    let message = graph_message(sandbox::MS_RECIPIENT);

    // No admin consent: the token has no roles.
    let unconsented = ms_access_token(&emu, sandbox::UNCONSENTED_CLIENT_ID, sandbox::UNCONSENTED_SECRET).await;
    let r = send_mail(&emu, Some(&unconsented), sandbox::MS_SENDER, &message).await;
    let m = assert_graph(&r, 401, "NoPermissionsInAccessToken");
    assert_eq!(m, "The token contains no permissions, or permissions can not be understood.");

    // Consent granted later: the old token keeps its old (missing) roles, a new one works.
    emu.update(|s| s.microsoft.tenants[0].apps[1].application_permissions = vec!["Mail.Send".into()]);
    let r = send_mail(&emu, Some(&unconsented), sandbox::MS_SENDER, &message).await;
    assert_graph(&r, 401, "NoPermissionsInAccessToken");
    let fresh = ms_access_token(&emu, sandbox::UNCONSENTED_CLIENT_ID, sandbox::UNCONSENTED_SECRET).await;
    assert_eq!(send_mail(&emu, Some(&fresh), sandbox::MS_SENDER, &message).await.status, 202);

    // Mail.Send added as a delegated permission instead of an application one.
    emu.update(|s| {
        let app = &mut s.microsoft.tenants[0].apps[1];
        app.application_permissions.clear();
        app.delegated_permissions.push("Mail.Send".into());
    });
    let delegated = ms_access_token(&emu, sandbox::UNCONSENTED_CLIENT_ID, sandbox::UNCONSENTED_SECRET).await;
    let r = send_mail(&emu, Some(&delegated), sandbox::MS_SENDER, &message).await;
    let m = assert_graph(&r, 403, "ErrorAccessDenied");
    assert_eq!(m, "Access is denied. Check credentials and try again.");

    // Other application permissions consented, but not Mail.Send.
    emu.update(|s| {
        let app = &mut s.microsoft.tenants[0].apps[1];
        app.application_permissions = vec!["User.Read.All".into()];
        app.delegated_permissions.clear();
    });
    let other = ms_access_token(&emu, sandbox::UNCONSENTED_CLIENT_ID, sandbox::UNCONSENTED_SECRET).await;
    let r = send_mail(&emu, Some(&other), sandbox::MS_SENDER, &message).await;
    assert_eq!(assert_graph(&r, 403, "ErrorAccessDenied"), "Access is denied. Check credentials and try again.");

    // Mailbox kept out by an application access policy.
    let token = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    emu.update(|s| s.microsoft.tenants[0].mailboxes[0].blocked_apps.push(sandbox::APP_CLIENT_ID.into()));
    let r = send_mail(&emu, Some(&token), sandbox::MS_SENDER, &message).await;
    let m = assert_graph(&r, 403, "ErrorAccessDenied");
    assert!(m.starts_with("Access to OData is disabled"), "{m}");
    // Other mailboxes are still reachable.
    assert_eq!(send_mail(&emu, Some(&token), sandbox::MS_RECIPIENT, &message).await.status, 202);
}

#[tokio::test]
async fn send_mail_mailbox_errors() {
    let emu = sandbox().await;
    let token = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let message = graph_message(sandbox::MS_RECIPIENT);
    let r = send_mail(&emu, Some(&token), "nobody@contoso-sandbox.onmicrosoft.com", &message).await;
    let m = assert_graph(&r, 404, "ErrorInvalidUser");
    assert_eq!(m, "The requested user 'nobody@contoso-sandbox.onmicrosoft.com' is invalid.");
    for state in [MailboxState::Unlicensed, MailboxState::SoftDeleted, MailboxState::OnPremises, MailboxState::Guest] {
        emu.update(|s| s.microsoft.tenants[0].mailboxes[0].state = state);
        let r = send_mail(&emu, Some(&token), sandbox::MS_SENDER, &message).await;
        let m = assert_graph(&r, 404, "MailboxNotEnabledForRESTAPI");
        assert!(m.contains("inactive, soft-deleted, or is hosted on-premise"), "{m}");
    }
    let url = format!("{}/v1.0/me/sendMail", emu.base_url());
    let r = reply(client().post(&url).bearer_auth(&token).json(&message).send().await.unwrap()).await;
    assert_graph(&r, 400, "BadRequest");
    let r = reply(client().post(&url).json(&message).send().await.unwrap()).await;
    assert_graph(&r, 401, "InvalidAuthenticationToken");
}

#[tokio::test]
async fn send_mail_token_errors() {
    let emu = sandbox().await;
    let message = graph_message(sandbox::MS_RECIPIENT);
    let r = send_mail(&emu, None, sandbox::MS_SENDER, &message).await;
    assert_eq!(assert_graph(&r, 401, "InvalidAuthenticationToken"), "Access token is empty.");
    let r = send_mail(&emu, Some("garbage"), sandbox::MS_SENDER, &message).await;
    assert!(assert_graph(&r, 401, "InvalidAuthenticationToken").starts_with("IDX14100"));

    // A token from another emulator instance does not validate here.
    let other = sandbox().await;
    let foreign = ms_access_token(&other, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let r = send_mail(&emu, Some(&foreign), sandbox::MS_SENDER, &message).await;
    assert_graph(&r, 401, "InvalidAuthenticationToken");

    // A Google token is no Graph token.
    let google = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    let r = send_mail(&emu, Some(&google), sandbox::MS_SENDER, &message).await;
    assert_graph(&r, 401, "InvalidAuthenticationToken");

    // Expired by Graph's clock.
    let token = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    emu.set_fault(Route::GraphSendMail, Fault { date_skew_secs: 7200, ..Fault::default() });
    let r = send_mail(&emu, Some(&token), sandbox::MS_SENDER, &message).await;
    assert_eq!(
        assert_graph(&r, 401, "InvalidAuthenticationToken"),
        "Lifetime validation failed, the token is expired."
    );
}

#[tokio::test]
async fn send_mail_payload_errors() {
    let emu = sandbox().await;
    let token = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let url = format!("{}/v1.0/users/{}/sendMail", emu.base_url(), sandbox::MS_SENDER);
    let raw = |body: &'static str| {
        let (url, token) = (url.clone(), token.clone());
        async move {
            reply(
                client()
                    .post(url)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_graph(&raw("").await, 400, "BadRequest");
    let m = assert_graph(&raw("{not json").await, 400, "BadRequest");
    assert!(m.starts_with("Unable to read JSON request payload"), "{m}");
    assert_graph(&raw("{}").await, 400, "ErrorInvalidParameter");

    let cases = [
        (json!({"message": {"subject": "x"}}), "ErrorInvalidRecipients"),
        (
            json!({"message": {"toRecipients": [{"emailAddress": {"address": "not-an-address"}}]}}),
            "ErrorInvalidRecipients",
        ),
        (json!({"message": {"toRecipients": {"emailAddress": {"address": "a@b.com"}}}}), "RequestBodyRead"),
        (
            json!({"message": {"body": {"contentType": "markdown", "content": "x"}, "toRecipients": [{"emailAddress": {"address": "a@b.com"}}]}}),
            "RequestBodyRead",
        ),
        (
            json!({"message": {"toRecipients": [{"emailAddress": {"address": "a@b.com"}}], "internetMessageHeaders": [{"name": "Reply-To", "value": "x"}]}}),
            "InvalidInternetMessageHeader",
        ),
        (
            json!({"message": {"toRecipients": [{"emailAddress": {"address": "a@b.com"}}], "from": {"emailAddress": {"address": "ceo@contoso-sandbox.onmicrosoft.com"}}}}),
            "ErrorSendAsDenied",
        ),
    ];
    for (payload, code) in cases {
        let r = send_mail(&emu, Some(&token), sandbox::MS_SENDER, &payload).await;
        let status = if code == "ErrorSendAsDenied" { 403 } else { 400 };
        assert_graph(&r, status, code);
    }
    assert!(emu.outbox().is_empty());
}

#[tokio::test]
async fn empty_scenario_knows_nothing() {
    let emu = Emulator::start(Scenario::default()).await.unwrap();
    let r = ms_secret(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    assert_aad(&r, 400, "invalid_request", 90002);
    assert!(emu.try_microsoft_credentials(sandbox::APP_CLIENT_ID).is_none());
    assert!(emu.try_google_key_json(sandbox::SA_EMAIL).is_none());
}
