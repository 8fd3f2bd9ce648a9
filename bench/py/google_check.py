"""The steps of `mailwire check google --to R --json`, done with Google's official libraries.

Usage: google_check.py OUTDIR RECIPIENT, where OUTDIR is what `mailwire-emulator serve --tls
--out OUTDIR` wrote. google-auth signs the JWT-bearer assertion and gets a delegated token
(service_account.Credentials.with_subject), then `requests` reads the Gmail profile and sends an
RFC 5322 test message, as Mailwire does. Prints one JSON object; exit status 0 when all passed.
"""

import base64
import json
import os
import sys
import time
from email.message import EmailMessage
from datetime import datetime, timezone
from email.utils import format_datetime, make_msgid

import requests
from google.auth.transport.requests import Request
from google.oauth2 import service_account

SCOPE = "https://mail.google.com/"


def main(out, recipient):
    steps = []

    def step(name, started, ok, detail=""):
        steps.append({"id": name, "ok": ok, "duration_ms": round((time.perf_counter() - started) * 1000), "detail": detail})
        return ok

    facts = json.load(open(os.path.join(out, "google.json")))
    sender = facts["sender"]
    started = time.perf_counter()
    creds = service_account.Credentials.from_service_account_file(
        os.path.join(out, "google-key.json"), scopes=[SCOPE]
    ).with_subject(sender)
    step("key", started, True, creds.service_account_email)

    session = requests.Session()
    started = time.perf_counter()
    creds.refresh(Request(session))
    if not step("delegation", started, bool(creds.token)):
        return steps
    headers = {"Authorization": f"Bearer {creds.token}"}
    base = f"{facts['gmail_url']}/gmail/v1/users/{sender}"

    started = time.perf_counter()
    profile = session.get(f"{base}/profile", headers=headers, timeout=30)
    ok = profile.status_code == 200 and profile.json().get("emailAddress") == sender
    if not step("gmail_api", started, ok, profile.text[:200]):
        return steps

    started = time.perf_counter()
    message = EmailMessage()
    message["From"] = f"Mailwire test <{sender}>"
    message["To"] = recipient
    message["Subject"] = "Mailwire test from \"Google Workspace\" (official clients)"
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    message.set_content(
        "This is a test email sent through the Gmail API, not SMTP.\n\n"
        "What was verified before sending:\n  1. The key signs valid requests.\n"
        "  2. Domain-wide delegation allows the scope.\n  3. The Gmail API is enabled.\n"
    )
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode().rstrip("=")
    sent = session.post(f"{base}/messages/send", headers=headers, json={"raw": raw}, timeout=30)
    step("send", started, sent.status_code == 200 and "id" in sent.json(), sent.text[:200])
    return steps


if __name__ == "__main__":
    steps = main(sys.argv[1], sys.argv[2])
    ok = all(s["ok"] for s in steps) and len(steps) == 4
    print(json.dumps({"ok": ok, "provider": "google", "steps": steps}))
    sys.exit(0 if ok else 1)
