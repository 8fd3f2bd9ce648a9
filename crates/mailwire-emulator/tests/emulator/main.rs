//! The emulator's own tests: plain HTTP requests built here (never Mailwire's client) against a
//! running emulator, covering every success path, every error row of PROTOCOL.md and every
//! fault. One test binary with small helpers in `common`, like ripgrep's integration tests.

mod admin;
mod common;
mod faults;
mod google;
mod microsoft;
mod robustness;
