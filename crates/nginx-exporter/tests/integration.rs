//! Integration tests of vigie-nginx-exporter against a real nginx (Debian's `nginx`,
//! started on loopback with its own config by `integration/env.rs`) and, beside it,
//! Debian's prometheus-nginx-exporter when installed.

// Test helpers panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "integration/env.rs"]
mod env;
#[path = "integration/faults.rs"]
mod faults;
#[path = "integration/golden.rs"]
mod golden;
#[path = "integration/parity.rs"]
mod parity;
#[path = "integration/traffic.rs"]
mod traffic;
