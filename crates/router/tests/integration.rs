//! vigie-router's one integration test binary: the router as a process, over HTTP.
//!
//! - `acks`: each ack path (signed link, API, Slack, Twilio) stops the escalation; forged and
//!   expired links get 403; ack expiry and unack resume; the RCA; promtool on `/metrics`.
//! - `web`: the web page in headless Chromium (DevTools protocol, `cdp.rs`): it lists a live
//!   incident and its Acknowledge button acknowledges it.
//! - `bad_input`: malformed JSON, wrong version, wrong token, 10 MB body, duplicates.
//! - `channels`: Slack (webhook and bot token) and SMS (Twilio, HTTP gateway) against local
//!   HTTP servers standing in for Slack's and Twilio's endpoints (`mock_http`): 429 with
//!   `Retry-After`, 5xx, rejections, message shapes, secrets kept out of logs, `/metrics` and
//!   the store.
//! - `postgres`: on PostgreSQL, bad input at start (unreachable, newer schema, missing
//!   password file, URL without its password), two routers given one webhook, and two
//!   routers with one `kill -9`ed mid-delivery (every page out, none more than twice), an
//!   ack posted to the other router stopping what the first paged, and the database away
//!   and back (503 meanwhile, nothing accepted lost).
//! - `layers`: the modules of `src/` import one way (the layer list is there).
//! - `fuzz`: ≥ 10,000 mutations of the real Alertmanager captures through the parser, a
//!   share of them over HTTP, and mutated configs through the config checks.
//! - `oncall`: `oncall` at an instant and over days (JSON and text, across a DST change,
//!   without secrets) and `check-config`'s warnings about uncovered hours.
//! - `services`: a real Alertmanager 0.25 posting to the router and a real aiosmtpd with
//!   STARTTLS + AUTH: L1 → L2 → L3 → resolve; kill -9 under a stream of webhooks; SMTP down
//!   for a while. Without the services these print `skipped: <why>` and pass, unless
//!   `VIGIE_REQUIRE_SERVICES=1`.

// Test code: a failed unwrap is a failed test (clippy only exempts #[test] bodies).
#![allow(clippy::unwrap_used)]

#[path = "integration/acks.rs"]
mod acks;
#[path = "integration/bad_input.rs"]
mod bad_input;
#[path = "integration/cdp.rs"]
mod cdp;
#[path = "integration/channels.rs"]
mod channels;
#[path = "integration/fuzz.rs"]
mod fuzz;
#[path = "integration/layers.rs"]
mod layers;
#[path = "integration/mock_http.rs"]
mod mock_http;
#[path = "integration/oncall.rs"]
mod oncall;
#[path = "integration/postgres.rs"]
mod postgres;
#[path = "integration/services.rs"]
mod services;
#[path = "integration/support.rs"]
mod support;
#[path = "integration/web.rs"]
mod web;
