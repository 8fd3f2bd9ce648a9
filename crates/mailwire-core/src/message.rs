//! The test email: what it says, as Graph's JSON and as an RFC 5322 message for Gmail.
//!
//! The subject names the connection and the time, so the person watching the inbox knows which
//! check it came from; the body lists what the check verified before sending.

use chrono::{DateTime, Utc};
use lettre::message::{header::ContentType, Mailbox, SinglePart};

use crate::check::Provider;

#[derive(Debug, Clone)]
pub struct TestMessage {
    pub from: lettre::Address,
    pub to: lettre::Address,
    pub subject: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

impl TestMessage {
    pub fn new(
        profile_name: Option<&str>,
        provider: Provider,
        from: &lettre::Address,
        to: &lettre::Address,
        verified: Vec<String>,
    ) -> Self {
        let sent_at = Utc::now();
        let connection = profile_name.unwrap_or(provider.display_name());
        let stamp = sent_at.format("%Y-%m-%d %H:%M UTC");
        let subject = format!("Mailwire test from \"{connection}\" ({stamp})");
        let mut body = format!(
            "This is a test email sent by Mailwire through the {} API, not SMTP.\n\n\
             Connection: {connection}\nSender: {from}\nSent: {}\n\nWhat Mailwire verified before sending:\n",
            match provider {
                Provider::Microsoft => "Microsoft Graph",
                Provider::Google => "Gmail",
            },
            sent_at.to_rfc3339(),
        );
        for (n, line) in verified.iter().enumerate() {
            body.push_str(&format!("  {}. {line}\n", n + 1));
        }
        body.push_str(
            "\nIf this message reached you, applications can send mail with these settings. No reply is needed.\n",
        );
        Self { from: from.clone(), to: to.clone(), subject, body, sent_at }
    }

    /// Graph's sendMail body. Sent items are not kept: a test should leave no trace in the mailbox.
    pub fn graph_json(&self) -> serde_json::Value {
        serde_json::json!({
            "message": {
                "subject": self.subject,
                "body": { "contentType": "Text", "content": self.body },
                "toRecipients": [ { "emailAddress": { "address": self.to.to_string() } } ],
            },
            "saveToSentItems": false,
        })
    }

    /// The RFC 5322 message Gmail's `messages/send` takes (before base64url).
    pub fn rfc5322(&self) -> Vec<u8> {
        let domain = self.from.domain();
        lettre::Message::builder()
            .from(Mailbox::new(Some("Mailwire test".into()), self.from.clone()))
            .to(Mailbox::new(None, self.to.clone()))
            .subject(self.subject.clone())
            .date(self.sent_at.into())
            .message_id(Some(format!("<{}@{domain}>", uuid::Uuid::new_v4())))
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(self.body.clone()))
            .expect("a message with a sender, a recipient and a body always builds")
            .formatted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5322_has_the_required_headers() {
        let from: lettre::Address = "helpdesk@example.com".parse().unwrap();
        let to: lettre::Address = "it@example.com".parse().unwrap();
        let message = TestMessage::new(Some("Zürich office"), Provider::Google, &from, &to, vec!["Key valid".into()]);
        let text = String::from_utf8(message.rfc5322()).unwrap();
        for header in [
            "From: ",
            "To: ",
            "Subject: ",
            "Date: ",
            "Message-ID: <",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ] {
            assert!(text.contains(header), "missing {header} in\n{text}");
        }
        assert!(message.subject.contains("Zürich office"));
        let json = message.graph_json();
        assert_eq!(json["message"]["toRecipients"][0]["emailAddress"]["address"], "it@example.com");
        assert_eq!(json["saveToSentItems"], false);
    }
}
