//! Mail the emulator accepted for delivery, as a test would want to inspect it: addresses,
//! subject, body and headers already parsed out of Graph's JSON or Gmail's raw RFC 5322 text.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutboxMail {
    /// `microsoft` or `google`.
    pub provider: String,
    /// The provider's message ID (Gmail's `id`; a generated one for Graph, which returns none).
    pub id: String,
    /// The mailbox the mail was sent as.
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    /// The text body, or the HTML body when there is no text part.
    pub body: String,
    /// `text` or `html`.
    pub content_type: String,
    /// Header fields in order: Gmail's from the raw message, Graph's `internetMessageHeaders`.
    pub headers: Vec<(String, String)>,
    /// The decoded RFC 5322 message (Gmail only).
    pub raw: Option<String>,
    /// RFC 3339, by the emulator's clock.
    pub accepted_at: String,
}
