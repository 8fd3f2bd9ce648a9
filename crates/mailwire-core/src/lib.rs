//! Mailwire's core: everything the desktop app and the `mailwire` CLI share.
//!
//! It checks and uses an email connection that sends through a provider's API: Microsoft Graph for
//! Microsoft 365 ([`microsoft`]) and the Gmail API for Google Workspace ([`google`]). Checks run as
//! a [`check::Pipeline`] of steps; every failure becomes a [`diagnose::Finding`] a helpdesk person
//! can act on. Saved connections live in [`store`], their secrets only in a [`secret::SecretStore`].
//! No GUI code lives here.

// Provider errors carry the provider's code, message and trace IDs by value: they are built once per
// failed request, so their size costs nothing that boxing would save.
#![allow(clippy::result_large_err)]

/// The byte-order mark some Windows editors put at the start of a UTF-8 file; files a user hands
/// over (keys, certificates, mailbox lists) are read as if it were not there.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub mod bulk;
pub mod certificate;
pub mod check;
pub mod diagnose;
pub mod google;
pub mod http;
pub mod message;
pub mod microsoft;
pub mod profile;
pub mod secret;
pub mod store;
pub mod token;
pub mod validate;
