//! Hostile and clumsy input never breaks the emulator: every route answers junk with the
//! provider's error shape (or a plain 4xx) and keeps serving.

use mailwire_emulator::scenario::sandbox;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn junk_is_answered_and_the_server_survives() {
    let emu = sandbox().await;
    let base = emu.base_url();
    let c = client();
    let bodies: [&[u8]; 7] = [
        b"",
        b"\xff\xfe\x00garbage",
        b"{\"raw\": 12}",
        b"grant_type=client_credentials&client_id=%ZZ&scope=%",
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=e30.e30.",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]",
        b"{\"message\": {\"toRecipients\": [1, null, {\"emailAddress\": 5}], \"body\": []}}",
    ];
    let paths = [
        format!("/{}/oauth2/v2.0/token", sandbox::TENANT_ID),
        "/common/oauth2/v2.0/token".to_string(),
        format!("/v1.0/users/{}/sendMail", sandbox::MS_SENDER),
        "/token".to_string(),
        "/gmail/v1/users/me/messages/send".to_string(),
        "/_emulator/faults".to_string(),
        "/_emulator/scenario".to_string(),
    ];
    let ms = ms_access_token(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await;
    let google = gmail_token(&emu, Some(sandbox::GOOGLE_SENDER), sandbox::GMAIL_SCOPE).await;
    for path in &paths {
        for body in bodies {
            for auth in [None, Some(ms.as_str()), Some(google.as_str()), Some("e30.e30.e30")] {
                let mut request = c
                    .post(format!("{base}{path}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("client-request-id", "not a guid, \"quoted\" <x>")
                    .body(body.to_vec());
                if let Some(token) = auth {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                assert!((400..500).contains(&status), "{path} {body:?}: {status}");
                assert!(response.headers().contains_key("date"));
                let text = response.text().await.unwrap();
                if !path.starts_with("/_emulator") {
                    serde_json::from_str::<Value>(&text).unwrap_or_else(|_| panic!("{path}: {text}"));
                }
            }
        }
    }
    // Odd methods, paths and headers.
    let r = c.get(format!("{base}/token")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = c.post(format!("{base}/v1.0/users/%FF%FE/sendMail")).bearer_auth(&ms).send().await.unwrap();
    assert!(r.status().is_client_error());
    let r = c.get(format!("{base}/gmail/v1/users/me/profile")).header("authorization", "Bearer").send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Still serving.
    assert_eq!(ms_secret(&emu, sandbox::APP_CLIENT_ID, sandbox::APP_SECRET).await.status, 200);
    assert!(emu.outbox().is_empty());
}
