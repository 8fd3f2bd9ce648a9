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
