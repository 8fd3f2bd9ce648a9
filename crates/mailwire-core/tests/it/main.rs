//! Integration tests: the real client code against the loopback provider emulator over HTTP.

mod google;
mod microsoft;
mod network;
mod store;
mod support;
