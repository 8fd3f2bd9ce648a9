//! Google's token endpoint (JWT-bearer with domain-wide delegation) and the Gmail profile and
//! send calls: the success paths and every error row.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use mailwire_emulator::scenario::sandbox;
use mailwire_emulator::{Fault, Route};
use serde_json::{json, Value};

use crate::common::*;

const UNAUTHORIZED: &str = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";
const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
const SEND: &str = "https://www.googleapis.com/auth/gmail.send";
const READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";

#[tokio::test]
async fn delegated_token_profile_and_send() {
    let emu = sandbox().await;
    // Both the emulator's own token URL (from its key file) and Google's are valid audiences.
    for aud in [emu.google_token_url(), GOOGLE_AUD.to_string()] {
        let claims = google_claims(sandbox::SA_EMAIL, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE, &aud);
        let assertion = sign_rs256(&sa_key(&emu, sandbox::SA_EMAIL), Some(sandbox::SA_KEY_ID), &claims);
        let r = google_assertion(&emu, &assertion).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.headers.contains_key("date"));
        assert!(r.body["access_token"].as_str().unwrap().starts_with("ya29."));
        assert_eq!(r.body["expires_in"], 3599);
        assert_eq!(r.body["token_type"], "Bearer");
    }
    let token = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    for user in ["me", sandbox::GOOGLE_SENDER] {
        let r = gmail_profile(&emu, &token, user).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["emailAddress"], sandbox::GOOGLE_SENDER);
        assert!(r.body["messagesTotal"].is_number());
        assert!(r.body["threadsTotal"].is_number());
        assert!(r.body["historyId"].is_string());
    }
    let raw = raw_message(sandbox::GOOGLE_SENDER, sandbox::GOOGLE_RECIPIENT, "Mailwire test", "It works.");
    let r = gmail_send(&emu, &token, "me", json!({ "raw": raw })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert_eq!(r.body["threadId"], id);
    assert_eq!(r.body["labelIds"], json!(["SENT"]));
    let outbox = emu.outbox();
    assert_eq!(outbox.len(), 1);
    let mail = &outbox[0];
    assert_eq!(mail.provider, "google");
    assert_eq!(mail.id, id);
    assert_eq!(mail.from, sandbox::GOOGLE_SENDER);
    assert_eq!(mail.to, vec![sandbox::GOOGLE_RECIPIENT.to_string()]);
    assert_eq!(mail.subject, "Mailwire test");
    assert_eq!(mail.body.trim_end(), "It works.");
    assert_eq!(mail.content_type, "text");
    assert!(mail.headers.contains(&("X-Mailwire-Check".to_string(), "yes".to_string())));
    assert!(mail.raw.as_deref().unwrap().contains("Subject: Mailwire test"));
    let r = gmail_profile(&emu, &token, "me").await;
    assert_eq!(r.body["messagesTotal"], 1);
}

#[tokio::test]
async fn send_accepts_standard_base64_and_html() {
    let emu = sandbox().await;
    let token = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    let text = format!(
        "From: {}\r\nTo: a@example.com, b@example.com\r\nCc: c@example.com\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi ~~ ??? >>></p>\r\n",
        sandbox::GOOGLE_SENDER
    );
    let r = gmail_send(&emu, &token, sandbox::GOOGLE_SENDER, json!({ "raw": STANDARD.encode(&text) })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mail = emu.outbox().pop().unwrap();
    assert_eq!(mail.to, vec!["a@example.com".to_string(), "b@example.com".to_string()]);
    assert_eq!(mail.cc, vec!["c@example.com".to_string()]);
    assert_eq!(mail.subject, "Grüße");
    assert_eq!(mail.content_type, "html");
    assert!(mail.body.contains("<p>Hi"), "{}", mail.body);
}

#[tokio::test]
async fn delegation_missing_or_short_of_a_scope() {
    let emu = sandbox().await;
    // The second service account has no delegation at all.
    let claims =
        google_claims(sandbox::SA_UNDELEGATED_EMAIL, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE, GOOGLE_AUD);
    let key = sa_key(&emu, sandbox::SA_UNDELEGATED_EMAIL);
    let r = google_assertion(&emu, &sign_rs256(&key, Some(sandbox::SA_UNDELEGATED_KEY_ID), &claims)).await;
    assert_oauth(&r, 401, "unauthorized_client", UNAUTHORIZED);
    // The first is delegated for mail.google.com only: asking for one more scope fails.
    let r = google_grant(&emu, Some(sandbox::GOOGLE_SENDER), &format!("{} {SEND}", sandbox::GMAIL_SCOPE)).await;
    assert_oauth(&r, 401, "unauthorized_client", UNAUTHORIZED);
    let r = google_grant(&emu, Some(sandbox::GOOGLE_SENDER), SEND).await;
    assert_oauth(&r, 401, "unauthorized_client", UNAUTHORIZED);
    // Without impersonation no delegation is needed.
    let claims = google_claims(sandbox::SA_UNDELEGATED_EMAIL, None, sandbox::GMAIL_SCOPE, GOOGLE_AUD);
    let r = google_assertion(&emu, &sign_rs256(&key, Some(sandbox::SA_UNDELEGATED_KEY_ID), &claims)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn signature_errors() {
    let emu = sandbox().await;
    let claims = google_claims(sandbox::SA_EMAIL, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE, GOOGLE_AUD);
    let own = sa_key(&emu, sandbox::SA_EMAIL);
    let other = sa_key(&emu, sandbox::SA_UNDELEGATED_EMAIL);
    let bad = "Invalid JWT Signature.";
    let r = google_assertion(&emu, &sign_rs256(&other, Some(sandbox::SA_KEY_ID), &claims)).await;
    assert_oauth(&r, 400, "invalid_grant", bad);
    let r = google_assertion(&emu, &sign_rs256(&own, Some("0000000000000000000000000000000000000000"), &claims)).await;
    assert_oauth(&r, 400, "invalid_grant", bad);
    // Without kid the registered key is still found.
    let r = google_assertion(&emu, &sign_rs256(&own, None, &claims)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The key was deleted in the Cloud console.
    emu.update(|s| s.google.service_accounts[0].revoked = true);
    let r = google_assertion(&emu, &sign_rs256(&own, Some(sandbox::SA_KEY_ID), &claims)).await;
    assert_oauth(&r, 400, "invalid_grant", bad);
}

#[tokio::test]
async fn public_key_only_accounts_verify() {
    let emu = sandbox().await;
    let private = sa_key(&emu, sandbox::SA_EMAIL);
    let public = {
        use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
        rsa::RsaPrivateKey::from_pkcs8_pem(&private).unwrap().to_public_key().to_public_key_pem(LineEnding::LF).unwrap()
    };
    emu.update(|s| {
        let account = &mut s.google.service_accounts[0];
        account.private_key_pem = None;
        account.public_key_pem = Some(public);
    });
    let claims = google_claims(sandbox::SA_EMAIL, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE, GOOGLE_AUD);
    let r = google_assertion(&emu, &sign_rs256(&private, Some(sandbox::SA_KEY_ID), &claims)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(emu.try_google_key_json(sandbox::SA_EMAIL).is_none());
}

#[tokio::test]
async fn clock_errors() {
    let emu = sandbox().await;
    let key = sa_key(&emu, sandbox::SA_EMAIL);
    let base = google_claims(sandbox::SA_EMAIL, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE, GOOGLE_AUD);
    let t = now();
    for (iat, exp) in [(t, t + 3601), (t - 7200, t - 3600), (t + 600, t + 4200), (t, t)] {
        let mut claims = base.clone();
        claims["iat"] = iat.into();
        claims["exp"] = exp.into();
        let r = google_assertion(&emu, &sign_rs256(&key, Some(sandbox::SA_KEY_ID), &claims)).await;
        assert_oauth(&r, 400, "invalid_grant", SHORT_LIVED);
    }
    let mut claims = base.clone();
    claims.as_object_mut().unwrap().remove("iat");
    let r = google_assertion(&emu, &sign_rs256(&key, Some(sandbox::SA_KEY_ID), &claims)).await;
    assert_oauth(&r, 400, "invalid_grant", SHORT_LIVED);
    // The computer's clock runs two hours ahead of Google's.
    emu.set_fault(Route::GoogleToken, Fault { date_skew_secs: -7200, ..Fault::default() });
    let r = google_grant(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    assert_oauth(&r, 400, "invalid_grant", SHORT_LIVED);
    let date = httpdate::parse_http_date(r.headers["date"].to_str().unwrap()).unwrap();
    let behind = std::time::SystemTime::now().duration_since(date).unwrap().as_secs();
    assert!((7190..7210).contains(&behind), "{behind}");
    // ...and behind it.
    emu.set_fault(Route::GoogleToken, Fault { date_skew_secs: 7200, ..Fault::default() });
    let r = google_grant(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    assert_oauth(&r, 400, "invalid_grant", SHORT_LIVED);
    emu.clear_faults();
    assert_eq!(google_grant(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await.status, 200);
}

#[tokio::test]
async fn subject_errors() {
    let emu = sandbox().await;
    for sub in ["helpdesk@example.org", "nobody@example-sandbox.com"] {
        let r = google_grant(&emu, Some(sub), sandbox::GMAIL_SCOPE).await;
        assert_oauth(&r, 400, "invalid_grant", "Invalid email or User ID");
    }
    let r = google_grant(&emu, Some("helpdesk"), sandbox::GMAIL_SCOPE).await;
    assert_oauth(&r, 400, "invalid_request", "Invalid impersonation \"sub\" field: helpdesk");
    for sub in ["help desk@example-sandbox.com", "helpdesk@example-sandbox", "@example-sandbox.com"] {
        let r = google_grant(&emu, Some(sub), sandbox::GMAIL_SCOPE).await;
        assert_oauth(&r, 400, "invalid_grant", "Not a valid email");
    }
    // The user exists but the domain is not (or no longer) part of the Workspace.
    emu.update(|s| s.google.domains.clear());
    let r = google_grant(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    assert_oauth(&r, 400, "invalid_grant", "Invalid email or User ID");
}

#[tokio::test]
async fn access_denied_by_policy() {
    let emu = sandbox().await;
    emu.update(|s| s.google.users[0].restricted = true);
    let r = google_grant(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    assert_oauth(&r, 400, "access_denied", "Account restricted");
    emu.update(|s| s.google.blocked_clients.push(sandbox::SA_CLIENT_ID.into()));
    let r = google_grant(&emu, Some(sandbox::GOOGLE_RECIPIENT), sandbox::GMAIL_SCOPE).await;
    assert_oauth(&r, 400, "access_denied", "Requested client not authorized");
}

#[tokio::test]
async fn request_shape_errors() {
    let emu = sandbox().await;
    let r = google_token_raw(&emu, &[("grant_type", "client_credentials"), ("assertion", "x")]).await;
    assert_oauth(&r, 400, "unsupported_grant_type", "Invalid grant_type: client_credentials");
    let r = google_token_raw(&emu, &[("assertion", "x")]).await;
    assert_oauth(&r, 400, "unsupported_grant_type", "Invalid grant_type: ");
    let r = google_token_raw(&emu, &[("grant_type", JWT_BEARER)]).await;
    assert_oauth(&r, 400, "invalid_request", "Missing required parameter: assertion");
    let r = google_assertion(&emu, "definitely.not.a-jwt").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_grant");

    let key = sa_key(&emu, sandbox::SA_EMAIL);
    let claims = google_claims(
        "stranger@other.iam.gserviceaccount.com",
        Some(sandbox::GOOGLE_SENDER),
        sandbox::GMAIL_SCOPE,
        GOOGLE_AUD,
    );
    let r = google_assertion(&emu, &sign_rs256(&key, None, &claims)).await;
    assert_oauth(&r, 400, "invalid_grant", "Invalid grant: account not found");

    let claims = google_claims(
        sandbox::SA_EMAIL,
        Some(sandbox::GOOGLE_SENDER),
        sandbox::GMAIL_SCOPE,
        "https://example.com/token",
    );
    let r = google_assertion(&emu, &sign_rs256(&key, Some(sandbox::SA_KEY_ID), &claims)).await;
    assert_eq!(r.status, 400);
    assert!(r.body["error_description"].as_str().unwrap().starts_with("Invalid JWT: Failed audience check."));

    let r = google_grant(&emu, Some(sandbox::GOOGLE_SENDER), "").await;
    assert_oauth(&r, 400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
}

#[tokio::test]
async fn gmail_api_disabled_in_the_project() {
    let emu = sandbox().await;
    emu.update(|s| s.google.projects[0].gmail_api_enabled = false);
    // A token is still issued: only a Gmail call shows the API is off.
    let token = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    let raw = raw_message(sandbox::GOOGLE_SENDER, sandbox::GOOGLE_RECIPIENT, "s", "b");
    for r in [gmail_profile(&emu, &token, "me").await, gmail_send(&emu, &token, "me", json!({ "raw": raw })).await] {
        let e = assert_google_api(&r, 403, "PERMISSION_DENIED", "accessNotConfigured");
        assert_eq!(e["errors"][0]["domain"], "usageLimits");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(&format!("project {}", sandbox::PROJECT_NUMBER)), "{message}");
        let info = &e["details"][0];
        assert_eq!(info["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
        assert_eq!(info["reason"], "SERVICE_DISABLED");
        assert_eq!(info["domain"], "googleapis.com");
        assert_eq!(info["metadata"]["service"], "gmail.googleapis.com");
        assert_eq!(
            info["metadata"]["activationUrl"],
            format!(
                "https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project={}",
                sandbox::PROJECT_NUMBER
            )
        );
    }
    assert!(emu.outbox().is_empty());
}

#[tokio::test]
async fn scopes_per_call() {
    let emu = sandbox().await;
    emu.update(|s| {
        s.google
            .delegations
            .insert(sandbox::SA_CLIENT_ID.into(), vec![sandbox::GMAIL_SCOPE.into(), SEND.into(), READONLY.into()]);
    });
    let raw = raw_message(sandbox::GOOGLE_SENDER, sandbox::GOOGLE_RECIPIENT, "s", "b");
    // gmail.send alone can send but cannot read the profile.
    let send_only = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), SEND).await;
    let r = gmail_profile(&emu, &send_only, "me").await;
    let e = assert_google_api(&r, 403, "PERMISSION_DENIED", "insufficientPermissions");
    assert_eq!(e["message"], "Request had insufficient authentication scopes.");
    assert_eq!(e["details"][0]["reason"], "ACCESS_TOKEN_SCOPE_INSUFFICIENT");
    assert_eq!(gmail_send(&emu, &send_only, "me", json!({ "raw": raw })).await.status, 200);
    // gmail.readonly can read the profile but not send.
    let readonly = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), READONLY).await;
    assert_eq!(gmail_profile(&emu, &readonly, "me").await.status, 200);
    let r = gmail_send(&emu, &readonly, "me", json!({ "raw": raw })).await;
    assert_google_api(&r, 403, "PERMISSION_DENIED", "insufficientPermissions");
}

#[tokio::test]
async fn gmail_caller_errors() {
    let emu = sandbox().await;
    // Acting as the service account itself, without a user.
    let own = gmail_token(&emu, None, sandbox::GMAIL_SCOPE).await;
    let r = gmail_profile(&emu, &own, "me").await;
    let e = assert_google_api(&r, 400, "FAILED_PRECONDITION", "failedPrecondition");
    assert_eq!(e["message"], "Precondition check failed.");

    // A user whose account has no Gmail.
    emu.update(|s| s.google.users[1].gmail_enabled = false);
    let token = gmail_token(&emu, Some(sandbox::GOOGLE_RECIPIENT), sandbox::GMAIL_SCOPE).await;
    let r = gmail_profile(&emu, &token, "me").await;
    let e = assert_google_api(&r, 400, "FAILED_PRECONDITION", "failedPrecondition");
    assert_eq!(e["message"], "Mail service not enabled");

    // Another user's mailbox with a token for the sender.
    let token = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    let r = gmail_profile(&emu, &token, sandbox::GOOGLE_RECIPIENT).await;
    assert_google_api(&r, 403, "PERMISSION_DENIED", "forbidden");

    // No token, an unknown token, and a Microsoft token.
    let url = format!("{}/gmail/v1/users/me/profile", emu.base_url());
    let r = reply(client().get(&url).send().await.unwrap()).await;
    let e = assert_google_api(&r, 401, "UNAUTHENTICATED", "required");
    assert_eq!(e["details"][0]["reason"], "CREDENTIALS_MISSING");
    assert!(r.headers.contains_key("www-authenticate"));
    let r = gmail_profile(&emu, "ya29.unknown", "me").await;
    assert_google_api(&r, 401, "UNAUTHENTICATED", "authError");
    let ms = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let r = gmail_profile(&emu, &ms, "me").await;
    assert_google_api(&r, 401, "UNAUTHENTICATED", "authError");

    // Expired by Gmail's clock.
    emu.set_fault(Route::GmailProfile, Fault { date_skew_secs: 7200, ..Fault::default() });
    let r = gmail_profile(&emu, &token, "me").await;
    let e = assert_google_api(&r, 401, "UNAUTHENTICATED", "authError");
    assert_eq!(e["details"][0]["reason"], "ACCESS_TOKEN_EXPIRED");
}

#[tokio::test]
async fn send_rejects_invalid_messages() {
    let emu = sandbox().await;
    let token = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({}),
            "INVALID_ARGUMENT",
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
        ),
        (
            json!({ "raw": "" }),
            "INVALID_ARGUMENT",
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
        ),
        (
            json!({ "raw": "***not base64***" }),
            "INVALID_ARGUMENT",
            "Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed for \"***not base64***\"",
        ),
        (
            json!({ "raw": b64("Subject: no recipients\r\n\r\nbody\r\n") }),
            "INVALID_ARGUMENT",
            "Recipient address required",
        ),
        (json!({ "raw": b64("just some text without any header") }), "INVALID_ARGUMENT", "Recipient address required"),
        (
            json!({ "raw": b64("To: not an address\r\nSubject: x\r\n\r\nbody\r\n") }),
            "INVALID_ARGUMENT",
            "Invalid To header",
        ),
        (
            json!({ "raw": b64("From: nobody\r\nTo: a@example.com\r\n\r\nbody\r\n") }),
            "INVALID_ARGUMENT",
            "Invalid From header",
        ),
    ];
    for (payload, status, message) in cases {
        let r = gmail_send(&emu, &token, "me", payload.clone()).await;
        assert_eq!(r.status, 400, "{payload}: {}", r.text);
        assert_eq!(r.body["error"]["status"], status, "{}", r.text);
        assert_eq!(r.body["error"]["message"], message, "{}", r.text);
    }
    let url = format!("{}/gmail/v1/users/me/messages/send", emu.base_url());
    let r = reply(client().post(url).bearer_auth(&token).body("{raw:").send().await.unwrap()).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["status"], "INVALID_ARGUMENT");
    assert!(emu.outbox().is_empty());
}
