"""The steps of `mailwire check microsoft --to R --json`, done with Microsoft's official library.

Usage: microsoft_check.py OUTDIR RECIPIENT, where OUTDIR is what `mailwire-emulator serve --tls
--out OUTDIR` wrote. msal (ConfidentialClientApplication.acquire_token_for_client) gets an
app-only token with the client secret, the token's `roles` are read for Mail.Send, and `requests`
posts Graph's sendMail, as Mailwire does. msal needs https and reads the authority's OpenID
discovery document first (one request more than Mailwire makes). Prints one JSON object.
"""

import base64
import json
import os
import sys
import time

import msal
import requests


def main(out, recipient):
    steps = []

    def step(name, started, ok, detail=""):
        steps.append({"id": name, "ok": ok, "duration_ms": round((time.perf_counter() - started) * 1000), "detail": detail})
        return ok

    facts = json.load(open(os.path.join(out, "microsoft.json")))
    session = requests.Session()
    started = time.perf_counter()
    app = msal.ConfidentialClientApplication(
        facts["client_id"],
        client_credential=facts["client_secret"],
        authority=f"{facts['authority_host']}/{facts['tenant_id']}",
        validate_authority=False,
        instance_discovery=False,
        http_client=session,
    )
    result = app.acquire_token_for_client(scopes=[f"{facts['graph_url']}/.default"])
    if not step("token", started, "access_token" in result, result.get("error_description", "")[:200]):
        return steps
    token = result["access_token"]

    started = time.perf_counter()
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if not step("permissions", started, "Mail.Send" in claims.get("roles", []), ",".join(claims.get("roles", []))):
        return steps

    started = time.perf_counter()
    sent = session.post(
        f"{facts['graph_url']}/v1.0/users/{facts['sender']}/sendMail",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "message": {
                "subject": "Mailwire test from \"Microsoft 365\" (official clients)",
                "body": {
                    "contentType": "Text",
                    "content": "This is a test email sent through the Microsoft Graph API, not SMTP.\n\n"
                    "What was verified before sending:\n  1. Entra ID accepted the credentials.\n"
                    "  2. The token carries Mail.Send.\n",
                },
                "toRecipients": [{"emailAddress": {"address": recipient}}],
            },
            "saveToSentItems": False,
        },
        timeout=30,
    )
    step("send", started, sent.status_code == 202, sent.text[:200])
    return steps


if __name__ == "__main__":
    steps = main(sys.argv[1], sys.argv[2])
    ok = all(s["ok"] for s in steps) and len(steps) == 3
    print(json.dumps({"ok": ok, "provider": "microsoft", "steps": steps}))
    sys.exit(0 if ok else 1)
