"""Prove the providers' official client libraries accept the emulator.

Usage: official_clients.py OUTDIR BASEURL, where OUTDIR is what `mailwire-emulator serve --tls
--out OUTDIR` wrote. google-auth gets a delegated token with the key file; msal gets an app-only
token with the client secret and with a certificate, over https trusting the emulator's CA. The
caller sets REQUESTS_CA_BUNDLE to OUTDIR/ca.pem and unsets CURL_CA_BUNDLE.
"""

import datetime
import json
import os
import sys

import requests


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def google(out, base):
    from google.auth.exceptions import RefreshError
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    facts = json.load(open(os.path.join(out, "google.json")))
    key_file = os.path.join(out, "google-key.json")
    creds = service_account.Credentials.from_service_account_file(
        key_file, scopes=["https://mail.google.com/"]
    ).with_subject(facts["sender"])
    creds.refresh(Request())
    check(creds.token and creds.token.startswith("ya29."), f"google-auth token {creds.token!r}")
    check(creds.expiry is not None, "google-auth read expires_in")

    profile = requests.get(
        f"{facts['gmail_url']}/gmail/v1/users/me/profile",
        headers={"Authorization": f"Bearer {creds.token}"},
        timeout=30,
    )
    check(profile.status_code == 200, f"Gmail profile: {profile.status_code} {profile.text}")
    check(profile.json()["emailAddress"] == facts["sender"], profile.text)

    # A scope outside the delegation grant is refused the way Google refuses it.
    narrow = service_account.Credentials.from_service_account_file(
        key_file, scopes=["https://www.googleapis.com/auth/gmail.send"]
    ).with_subject(facts["sender"])
    try:
        narrow.refresh(Request())
        check(False, "an undelegated scope was granted")
    except RefreshError as error:
        check("unauthorized_client" in str(error), f"unexpected refusal: {error}")
    return {"google_token": True, "gmail_profile": facts["sender"]}


def make_certificate():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailwire-official-clients")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()
    return key_pem, cert_pem, thumbprint


def microsoft(out, base):
    import msal

    facts = json.load(open(os.path.join(out, "microsoft.json")))
    scopes = ["https://graph.microsoft.com/.default"]
    results = {}
    for tenant in (facts["tenant_id"], facts["tenant_domain"]):
        app = msal.ConfidentialClientApplication(
            facts["client_id"],
            client_credential=facts["client_secret"],
            authority=f"{facts['authority_host']}/{tenant}",
            validate_authority=False,
            instance_discovery=False,
        )
        result = app.acquire_token_for_client(scopes=scopes)
        check("access_token" in result, f"msal with a secret ({tenant}): {result}")
    token = result["access_token"]

    sent = requests.post(
        f"{facts['graph_url']}/v1.0/users/{facts['sender']}/sendMail",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "message": {
                "subject": "official clients",
                "body": {"contentType": "Text", "content": "sent with an msal token"},
                "toRecipients": [{"emailAddress": {"address": facts["recipient"]}}],
            },
            "saveToSentItems": False,
        },
        timeout=30,
    )
    check(sent.status_code == 202, f"sendMail: {sent.status_code} {sent.text}")
    results["msal_secret"] = True

    wrong = msal.ConfidentialClientApplication(
        facts["client_id"],
        client_credential=facts["client_id"],
        authority=f"{facts['authority_host']}/{facts['tenant_id']}",
        validate_authority=False,
        instance_discovery=False,
    ).acquire_token_for_client(scopes=scopes)
    check(wrong.get("error") == "invalid_client", f"wrong secret: {wrong}")
    check(wrong.get("error_codes") == [7000215], f"wrong secret codes: {wrong}")

    # Upload a certificate to the app through the admin endpoint, then sign in with it.
    key_pem, cert_pem, thumbprint = make_certificate()
    scenario = requests.get(f"{base}/_emulator/scenario", timeout=30).json()
    for tenant in scenario["microsoft"]["tenants"]:
        for app in tenant["apps"]:
            if app["client_id"] == facts["client_id"]:
                app["certificates"].append({"cert_pem": cert_pem})
    put = requests.put(f"{base}/_emulator/scenario", json=scenario, timeout=60)
    check(put.status_code == 204, f"scenario upload: {put.status_code} {put.text}")
    app = msal.ConfidentialClientApplication(
        facts["client_id"],
        client_credential={"private_key": key_pem, "thumbprint": thumbprint},
        authority=f"{facts['authority_host']}/{facts['tenant_id']}",
        validate_authority=False,
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=scopes)
    check("access_token" in result, f"msal with a certificate: {result}")
    results["msal_certificate"] = True
    return results


def main():
    out, base = sys.argv[1], sys.argv[2].rstrip("/")
    check(os.environ.get("REQUESTS_CA_BUNDLE") == os.path.join(out, "ca.pem"), "REQUESTS_CA_BUNDLE must be the emulator's CA")
    results = {}
    results.update(google(out, base))
    results.update(microsoft(out, base))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
