//! Integration tests of vigie-mysql-exporter against real MariaDB servers (and, beside it,
//! Debian's prometheus-mysqld-exporter when installed). See `integration/mariadb.rs` for how
//! the servers are found or started.

// Test helpers panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "integration/faults.rs"]
mod faults;
#[path = "integration/golden.rs"]
mod golden;
#[path = "integration/mariadb.rs"]
mod mariadb;
#[path = "integration/parity.rs"]
mod parity;
#[path = "integration/replication.rs"]
mod replication;
#[path = "integration/scrapers.rs"]
mod scrapers;
