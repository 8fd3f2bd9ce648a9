//! Microsoft 365: the success path and every Entra ID and Graph error row of the protocol notes.

use chrono::Utc;
use mailwire_core::check::{no_progress, StepStatus};
use mailwire_core::diagnose;
use mailwire_core::http::HttpResponse;
use mailwire_core::microsoft::{self, Credential, MicrosoftError};
use mailwire_core::secret::SecretString;
use mailwire_emulator::scenario::{sandbox as ids, MailboxState};
use mailwire_emulator::{Fault, Route, Throttle};

use crate::support::*;

#[tokio::test]
async fn all_steps_pass_and_the_mail_arrives() {
    let emulator = sandbox().await;
    let settings = sandbox_ms(&emulator);
    let report = run_ms(&settings, &secret(ids::APP_SECRET), Some(ids::MS_RECIPIENT)).await;
    assert!(report.ok, "{report:#?}");
    assert_eq!(
        statuses(&report),
        [("inputs", "pass"), ("token", "pass"), ("permissions", "pass"), ("send", "pass")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let permissions = step(&report, "permissions");
    assert!(permissions.detail.contains(ids::TENANT_ID), "{}", permissions.detail);
    assert!(permissions.detail.contains(ids::APP_CLIENT_ID), "{}", permissions.detail);
    let outbox = emulator.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].from.to_lowercase(), ids::MS_SENDER);
    assert_eq!(outbox[0].to, vec![ids::MS_RECIPIENT.to_string()]);
    assert!(outbox[0].subject.contains("Mailwire test from \"Integration test\""), "{}", outbox[0].subject);
    assert!(outbox[0].body.contains("Mail.Send"), "{}", outbox[0].body);
}

#[tokio::test]
async fn without_a_recipient_the_send_is_skipped_with_a_reason() {
    let emulator = sandbox().await;
    let report = run_ms(&sandbox_ms(&emulator), &secret(ids::APP_SECRET), None).await;
    assert!(report.ok);
    let send = step(&report, "send");
    assert_eq!(send.status, StepStatus::Skipped);
    assert!(send.detail.contains("no test email was requested"));
    assert!(emulator.outbox().is_empty());
}

#[tokio::test]
async fn tenant_by_domain_works_too() {
    let emulator = sandbox().await;
    let settings = ms_settings(&emulator, ids::TENANT_DOMAIN, ids::APP_CLIENT_ID, ids::MS_SENDER);
    assert!(run_ms(&settings, &secret(ids::APP_SECRET), None).await.ok);
}

async fn token_failure(settings: &microsoft::MicrosoftSettings, credential: &Credential) -> mailwire_core::check::Step {
    let report = run_ms(settings, credential, Some(ids::MS_RECIPIENT)).await;
    assert!(!report.ok);
    assert_eq!(step(&report, "permissions").status, StepStatus::Skipped);
    assert_eq!(step(&report, "send").status, StepStatus::Skipped);
    step(&report, "token").clone()
}

#[tokio::test]
async fn wrong_secret_is_aadsts7000215_and_says_value_not_id() {
    let emulator = sandbox().await;
    let token = token_failure(&sandbox_ms(&emulator), &secret("definitely-not-the-secret-value")).await;
    assert_eq!(token.status, StepStatus::Fail);
    assert_eq!(token.code.as_deref(), Some("AADSTS7000215"));
    assert!(token.fix.iter().any(|f| f.contains("Certificates & secrets")));
    assert!(token.fix.iter().any(|f| f.contains("Value") && f.contains("Secret ID")));
    assert!(token.detail.contains("Trace ID"), "trace IDs are kept: {}", token.detail);
    assert!(token.links[0].contains("Credentials"));
}

#[tokio::test]
async fn secret_id_pasted_as_value_warns_first_then_fails_with_7000215() {
    let emulator = sandbox().await;
    let report = run_ms(&sandbox_ms(&emulator), &secret(ids::APP_SECRET_ID), None).await;
    let inputs = step(&report, "inputs");
    assert_eq!(inputs.status, StepStatus::Warn);
    assert_eq!(inputs.code.as_deref(), Some("secret-id-as-value"));
    assert_eq!(step(&report, "token").code.as_deref(), Some("AADSTS7000215"));
}

#[tokio::test]
async fn expired_secret_is_aadsts7000222() {
    let emulator = sandbox().await;
    emulator.update(|s| s.microsoft.tenants[0].apps[0].secrets[0].expires_at = Utc::now() - chrono::Duration::days(1));
    let token = token_failure(&sandbox_ms(&emulator), &secret(ids::APP_SECRET)).await;
    assert_eq!(token.code.as_deref(), Some("AADSTS7000222"));
    assert!(token.fix.iter().any(|f| f.contains("New client secret")));
}

#[tokio::test]
async fn unknown_tenant_is_aadsts90002() {
    let emulator = sandbox().await;
    let settings = ms_settings(&emulator, "nosuchtenant.onmicrosoft.com", ids::APP_CLIENT_ID, ids::MS_SENDER);
    let token = token_failure(&settings, &secret(ids::APP_SECRET)).await;
    assert_eq!(token.code.as_deref(), Some("AADSTS90002"));
    assert!(token.fix.iter().any(|f| f.contains("Tenant ID")));
    assert!(token.fix.iter().any(|f| f.contains("national cloud")));
}

#[tokio::test]
async fn national_cloud_tenant_is_aadsts90038() {
    let emulator = sandbox().await;
    emulator.update(|s| s.microsoft.tenants[0].cloud = "usgov".into());
    let token = token_failure(&sandbox_ms(&emulator), &secret(ids::APP_SECRET)).await;
    assert_eq!(token.code.as_deref(), Some("AADSTS90038"));
    assert!(token.fix.iter().any(|f| f.contains("US Government")));
}

#[tokio::test]
async fn unknown_client_id_is_aadsts700016() {
    let emulator = sandbox().await;
    let settings = ms_settings(&emulator, ids::TENANT_ID, "00000000-1111-2222-3333-444444444444", ids::MS_SENDER);
    let token = token_failure(&settings, &secret(ids::APP_SECRET)).await;
    assert_eq!(token.code.as_deref(), Some("AADSTS700016"));
    assert!(token.fix.iter().any(|f| f.contains("App registrations")));
}

#[tokio::test]
async fn scope_of_another_graph_is_refused() {
    let emulator = sandbox().await;
    let mut settings = sandbox_ms(&emulator);
    settings.graph_url = "http://127.0.0.2:9/".parse().unwrap();
    let token = token_failure(&settings, &secret(ids::APP_SECRET)).await;
    let code = token.code.clone().unwrap();
    assert!(["AADSTS500011", "AADSTS1002012", "AADSTS70011"].contains(&code.as_str()), "{code}");
    assert!(token.fix.iter().any(|f| f.contains("cloud") || f.contains("Cloud")), "{:?}", token.fix);
}

#[tokio::test]
async fn conditional_access_is_aadsts53003() {
    let emulator = sandbox().await;
    emulator.update(|s| s.microsoft.tenants[0].conditional_access_blocked_apps.push(ids::APP_CLIENT_ID.into()));
    let token = token_failure(&sandbox_ms(&emulator), &secret(ids::APP_SECRET)).await;
    assert_eq!(token.code.as_deref(), Some("AADSTS53003"));
    assert!(token.fix.iter().any(|f| f.contains("Conditional Access")));
}

#[tokio::test]
async fn certificate_credential_passes_and_an_unregistered_one_is_aadsts700027() {
    let emulator = sandbox().await;
    let registered = emulator.add_certificate(ids::APP_CLIENT_ID).await.unwrap();
    let credential = Credential::Certificate {
        certificate_pem: registered.cert_pem.clone(),
        private_key_pem: SecretString::new(registered.private_key_pem.clone()),
    };
    let report = run_ms(&sandbox_ms(&emulator), &credential, Some(ids::MS_RECIPIENT)).await;
    assert!(report.ok, "{report:#?}");

    let other = emulator.add_certificate(ids::UNCONSENTED_CLIENT_ID).await.unwrap();
    let stranger = Credential::Certificate {
        certificate_pem: other.cert_pem,
        private_key_pem: SecretString::new(other.private_key_pem),
    };
    let token = token_failure(&sandbox_ms(&emulator), &stranger).await;
    let code = token.code.clone().unwrap();
    assert!(["AADSTS700027", "AADSTS50012"].contains(&code.as_str()), "{code}");
    assert!(token.fix.iter().any(|f| f.contains("Certificates")));
}

/// The helpdesk's path: Mailwire creates the certificate, the public half is uploaded to the app
/// registration, and the saved connection signs in with the key from the keychain.
#[tokio::test]
async fn a_saved_connection_with_a_created_certificate_passes_once_it_is_uploaded() {
    use mailwire_core::profile::{run_profile_check, Profile, ProviderSettings, RunOptions};
    use mailwire_core::secret::{MemoryStore, SecretKind, SecretStore};

    let emulator = sandbox().await;
    let created = mailwire_core::certificate::create("Mailwire Helpdesk").unwrap();
    let input = microsoft::MicrosoftInput {
        tenant: ids::TENANT_ID.into(),
        client_id: ids::APP_CLIENT_ID.into(),
        cloud: microsoft::Cloud::Custom,
        authority_host: Some(emulator.base_url()),
        graph_url: Some(emulator.base_url()),
        certificate: Some(created.certificate_pem.clone()),
    };
    let profile = Profile::new("Certificate", ProviderSettings::Microsoft(input), ids::MS_SENDER, None);
    profile.validate().unwrap();
    assert_eq!(profile.required_secret(), SecretKind::CertificateKey);
    let keychain = MemoryStore::default();
    let options = RunOptions { send: true, recipient: Some(ids::MS_RECIPIENT.into()), reuse_token: false };
    let cache = mailwire_core::token::TokenCache::default();
    let without_key = run_profile_check(&profile, &keychain, None, &http(), &cache, &options, &no_progress).await;
    let inputs = step(&without_key.unwrap(), "inputs").clone();
    assert_eq!(inputs.code.as_deref(), Some("missing-certificate-key"), "{inputs:#?}");
    keychain.put(&profile.id, SecretKind::CertificateKey, &created.private_key_pem).unwrap();
    let run = || async {
        let cache = mailwire_core::token::TokenCache::default();
        run_profile_check(&profile, &keychain, None, &http(), &cache, &options, &no_progress).await.unwrap()
    };

    let before_upload = run().await;
    let token = step(&before_upload, "token");
    assert_eq!(token.code.as_deref(), Some("AADSTS700027"), "{before_upload:#?}");

    emulator.upload_certificate(ids::APP_CLIENT_ID, &created.certificate_pem).unwrap();
    let after_upload = run().await;
    assert!(after_upload.ok, "{after_upload:#?}");
    assert_eq!(emulator.outbox().len(), 1);
}

#[tokio::test]
async fn skewed_clock_with_a_certificate_is_aadsts700024() {
    let emulator = sandbox().await;
    let registered = emulator.add_certificate(ids::APP_CLIENT_ID).await.unwrap();
    emulator.set_fault(Route::MsToken, Fault { date_skew_secs: 3600, ..Fault::default() });
    let credential = Credential::Certificate {
        certificate_pem: registered.cert_pem,
        private_key_pem: SecretString::new(registered.private_key_pem),
    };
    let token = token_failure(&sandbox_ms(&emulator), &credential).await;
    assert_eq!(token.code.as_deref(), Some("AADSTS700024"));
    assert!(token.fix.iter().any(|f| f.contains("clock")));
}

#[tokio::test]
async fn no_admin_consent_fails_the_permission_step() {
    let emulator = sandbox().await;
    let settings = ms_settings(&emulator, ids::TENANT_ID, ids::UNCONSENTED_CLIENT_ID, ids::MS_SENDER);
    let report = run_ms(&settings, &secret(ids::UNCONSENTED_SECRET), Some(ids::MS_RECIPIENT)).await;
    assert_eq!(step(&report, "token").status, StepStatus::Pass);
    let permissions = step(&report, "permissions");
    assert_eq!(permissions.status, StepStatus::Fail);
    assert_eq!(permissions.code.as_deref(), Some("NoPermissionsInAccessToken"));
    assert!(permissions.fix.iter().any(|f| f.contains("Application permissions") && f.contains("Mail.Send")));
    assert!(permissions.fix.iter().any(|f| f.contains("Grant admin consent")));
    assert_eq!(step(&report, "send").status, StepStatus::Skipped);
    assert!(emulator.outbox().is_empty());
}

#[tokio::test]
async fn graph_itself_refuses_a_token_without_roles() {
    let emulator = sandbox().await;
    let settings = ms_settings(&emulator, ids::TENANT_ID, ids::UNCONSENTED_CLIENT_ID, ids::MS_SENDER);
    let credential = secret(ids::UNCONSENTED_SECRET);
    let cache = mailwire_core::token::TokenCache::default();
    let http = http();
    let client =
        microsoft::MicrosoftClient { http: &http, settings: &settings, credential: &credential, cache: &cache };
    let token = client.token(true).await.unwrap();
    let message = mailwire_core::message::TestMessage::new(
        None,
        mailwire_core::check::Provider::Microsoft,
        &settings.sender,
        &ids::MS_RECIPIENT.parse().unwrap(),
        vec![],
    );
    let error = client.send_mail(&token, &message).await.unwrap_err();
    let MicrosoftError::Graph(graph) = &error else { panic!("{error:?}") };
    assert_eq!((graph.status, graph.code.as_str()), (401, "NoPermissionsInAccessToken"));
    let finding = diagnose::microsoft(&error, &settings);
    assert!(finding.fix.iter().any(|f| f.contains("Grant admin consent")));
}

#[tokio::test]
async fn delegated_only_mail_send_is_error_access_denied() {
    let emulator = sandbox().await;
    emulator.update(|s| {
        let app = &mut s.microsoft.tenants[0].apps[0];
        app.application_permissions = vec!["User.Read.All".into()];
        app.delegated_permissions.push("Mail.Send".into());
    });
    let report = run_ms(&sandbox_ms(&emulator), &secret(ids::APP_SECRET), Some(ids::MS_RECIPIENT)).await;
    let permissions = step(&report, "permissions");
    assert_eq!(permissions.status, StepStatus::Fail);
    assert_eq!(permissions.code.as_deref(), Some("ErrorAccessDenied"));
    assert!(permissions.fix.iter().any(|f| f.contains("Type column") && f.contains("Application")));
}

async fn send_failure(emulator: &mailwire_emulator::Emulator) -> mailwire_core::check::Step {
    let report = run_ms(&sandbox_ms(emulator), &secret(ids::APP_SECRET), Some(ids::MS_RECIPIENT)).await;
    assert_eq!(step(&report, "permissions").status, StepStatus::Pass);
    let send = step(&report, "send").clone();
    assert_eq!(send.status, StepStatus::Fail, "{report:#?}");
    assert!(!report.ok);
    send
}

#[tokio::test]
async fn mailbox_blocked_by_access_policy_names_the_exchange_cmdlets() {
    let emulator = sandbox().await;
    emulator.update(|s| s.microsoft.tenants[0].mailboxes[0].blocked_apps.push(ids::APP_CLIENT_ID.into()));
    let send = send_failure(&emulator).await;
    assert_eq!(send.code.as_deref(), Some("ErrorAccessDenied"));
    let fix = send.fix.join("\n");
    for cmdlet in ["Test-ApplicationAccessPolicy", "Test-ServicePrincipalAuthorization", "New-ManagementRoleAssignment"]
    {
        assert!(fix.contains(cmdlet), "{cmdlet} missing from {fix}");
    }
    assert!(send.detail.contains("request-id"), "{}", send.detail);
}

#[tokio::test]
async fn unknown_mailbox_is_error_invalid_user() {
    let emulator = sandbox().await;
    let settings = ms_settings(&emulator, ids::TENANT_ID, ids::APP_CLIENT_ID, "nobody@contoso-sandbox.onmicrosoft.com");
    let report = run_ms(&settings, &secret(ids::APP_SECRET), Some(ids::MS_RECIPIENT)).await;
    let send = step(&report, "send");
    assert_eq!(send.code.as_deref(), Some("ErrorInvalidUser"));
    assert!(send.fix.iter().any(|f| f.contains("Active users")));
}

#[tokio::test]
async fn unlicensed_mailbox_is_mailbox_not_enabled_for_rest_api() {
    let emulator = sandbox().await;
    emulator.update(|s| s.microsoft.tenants[0].mailboxes[0].state = MailboxState::Unlicensed);
    let send = send_failure(&emulator).await;
    assert_eq!(send.code.as_deref(), Some("MailboxNotEnabledForRESTAPI"));
    assert!(send.fix.iter().any(|f| f.contains("licence")));
}

#[tokio::test]
async fn throttling_is_retried_after_the_asked_delay() {
    let emulator = sandbox().await;
    emulator.set_fault(
        Route::GraphSendMail,
        Fault { throttle: Some(Throttle { count: 1, retry_after_secs: 1 }), ..Fault::default() },
    );
    let started = std::time::Instant::now();
    let report = run_ms(&sandbox_ms(&emulator), &secret(ids::APP_SECRET), Some(ids::MS_RECIPIENT)).await;
    assert!(report.ok, "{report:#?}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was honoured");
    assert!(step(&report, "send").detail.contains("after 2 attempts"));
    assert_eq!(emulator.outbox().len(), 1, "sent exactly once");
}

#[tokio::test]
async fn persistent_throttling_gives_up_and_says_so() {
    let emulator = sandbox().await;
    emulator.set_fault(
        Route::GraphSendMail,
        Fault { throttle: Some(Throttle { count: 50, retry_after_secs: 30 }), ..Fault::default() },
    );
    let send = send_failure(&emulator).await;
    assert!(send.detail.contains("gave up"), "{}", send.detail);
    assert!(send.fix.iter().any(|f| f.contains("4 requests")), "{:?}", send.fix);
    assert!(emulator.outbox().is_empty());
}

/// Rows the validated client can never produce are checked by sending the malformed request
/// by hand and diagnosing the emulator's answer with the client's parser.
#[tokio::test]
async fn malformed_tenant_and_missing_parameter_rows_are_diagnosed() {
    let emulator = sandbox().await;
    let settings = sandbox_ms(&emulator);
    let raw = reqwest::Client::new();
    let cases = [
        (format!("{}/not_a_tenant!/oauth2/v2.0/token", emulator.base_url()), "AADSTS900023", "Tenant ID"),
        (format!("{}/{}/oauth2/v2.0/token", emulator.base_url(), ids::TENANT_ID), "", "client secret"),
    ];
    for (url, expected, fix_word) in cases {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", ids::APP_CLIENT_ID),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        let response = raw.post(&url).form(&form).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap().to_vec();
        let parsed = microsoft::parse_entra_error(
            &HttpResponse { status, headers: Default::default(), body, attempts: 1, gave_up: None },
            "emulator",
        );
        let MicrosoftError::Token(e) = &parsed else { panic!("{parsed:?}") };
        if expected.is_empty() {
            assert!(["AADSTS7000218", "AADSTS900144"].contains(&e.code().as_str()), "{}", e.code());
        } else {
            assert_eq!(e.code(), expected);
        }
        let finding = diagnose::microsoft(&parsed, &settings);
        assert!(finding.fix.iter().any(|f| f.contains(fix_word)), "{fix_word}: {:?}", finding.fix);
    }
}

fn certificate_valid_until(not_after: chrono::DateTime<Utc>) -> Credential {
    use chrono::Datelike;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    let day = |at: chrono::DateTime<Utc>| rcgen::date_time_ymd(at.year(), at.month() as u8, at.day() as u8);
    params.not_before = day(not_after - chrono::Duration::days(400));
    params.not_after = day(not_after);
    let certificate = params.self_signed(&key).unwrap();
    Credential::Certificate {
        certificate_pem: certificate.pem(),
        private_key_pem: SecretString::new(key.serialize_pem()),
    }
}

#[tokio::test]
async fn an_expired_certificate_stops_before_entra_and_one_about_to_expire_warns() {
    let emulator = sandbox().await;
    let expired = certificate_valid_until(Utc::now() - chrono::Duration::days(3));
    let report = run_ms(&sandbox_ms(&emulator), &expired, None).await;
    let inputs = step(&report, "inputs");
    assert_eq!((inputs.status, inputs.code.as_deref()), (StepStatus::Fail, Some("certificate-expired")), "{report:#?}");
    assert!(inputs.fix.iter().any(|f| f.contains("Upload certificate")));
    assert_eq!(emulator.request_count(Route::MsToken), 0, "nothing was sent to Entra");

    let expiring = certificate_valid_until(Utc::now() + chrono::Duration::days(10));
    let report = run_ms(&sandbox_ms(&emulator), &expiring, None).await;
    let inputs = step(&report, "inputs");
    assert_eq!(
        (inputs.status, inputs.code.as_deref()),
        (StepStatus::Warn, Some("certificate-expiring")),
        "{report:#?}"
    );
    // Not uploaded to the app: Entra refuses it, and the fix names the thumbprint to look for.
    let token = step(&report, "token");
    assert_eq!(token.code.as_deref(), Some("AADSTS700027"), "{report:#?}");
    assert!(token.fix.iter().any(|f| f.contains("Look for thumbprint")), "{:#?}", token.fix);
}
