//! The router's YAML config (`--config FILE`): storage, ingest auth, the channels (email,
//! Slack, SMS),
//! delivery retries, contacts, teams, escalation policies and the route tree that picks a
//! policy from an alert group's labels (Alertmanager matcher syntax).
//!
//! Loading is two passes. `serde_yaml` with `deny_unknown_fields` through the kit's loader
//! gives `router.yml:14:7: policies[0].levels[1].delay: invalid duration …`; then the semantic
//! checks (unknown contact, a level with no working channel, delays not increasing, …) run and
//! collect every problem, each with its field path and line. The result is a [`Config`] in
//! which names are resolved, secrets read and every level has at least one reachable target.

mod check;
pub mod matcher;
mod on_call;
pub mod storage;

pub use on_call::load_schedules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use vigie_kit::config::{self as kitconfig, ConfigError, Dur, FieldError, SecretRef};
use vigie_kit::Secret;

use crate::channels::{self, sms, ChannelSettings};
use crate::model::{self, ChannelKind, Target, KV};
use crate::schedule::{Schedule, ScheduleFile};
pub use check::check;
pub use matcher::Matcher;
pub use storage::Backend as StorageBackend;

macro_rules! file {
    ($($variant:ident $module:ident $field:ident,)*) => {
        /// The file as written. Each channel's top-level section (`email:`, `slack:`, `sms:`)
        /// is that channel's own `Config` (see `model::channel_list!`).
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct File {
            /// Where the store lives.
            #[serde(default)]
            pub storage: storage::Storage,
            /// The webhook endpoint.
            #[serde(default)]
            pub ingest: Ingest,
            $(
                #[doc = concat!("`", stringify!($module), ":`; required if any level uses it.")]
                #[serde(default)]
                pub $module: Option<<channels::$module::Settings as ChannelSettings>::File>,
            )*
            /// Retries of the outbox.
            #[serde(default)]
            pub delivery: Delivery,
            /// Time to resolve before the incident goes to the resolution level.
            #[serde(default)]
            pub resolution: Resolution,
            /// People.
            pub contacts: Vec<ContactFile>,
            /// Named groups of contacts, each optionally tied to a level.
            #[serde(default)]
            pub teams: Vec<TeamFile>,
            /// On-call schedules (rotations in a time zone); a team with `schedule:` uses one.
            #[serde(default)]
            pub schedules: Vec<ScheduleFile>,
            /// Escalation policies.
            pub policies: Vec<PolicyFile>,
            /// The route tree's root.
            pub route: RouteFile,
            /// Acknowledgements: signed links, Slack buttons, SMS replies.
            #[serde(default)]
            pub acks: Option<AcksFile>,
            /// The incidents API and web page.
            #[serde(default)]
            pub api: Option<ApiFile>,
        }

        impl File {
            /// Whether the channel's section is written.
            pub fn has_section(&self, kind: ChannelKind) -> bool {
                match kind {
                    $(ChannelKind::$variant => self.$module.is_some(),)*
                }
            }

            /// Checks every channel section written; each error is placed under its section.
            fn channel_settings(&self, base: &Path) -> (Vec<channels::Settings>, Vec<FieldError>) {
                let (mut ok, mut errs) = (Vec::new(), Vec::new());
                $(
                    if let Some(c) = &self.$module {
                        match channels::$module::Settings::from_config(c, base) {
                            Ok(s) => ok.push(channels::Settings::$variant(s)),
                            Err(e) => errs.push(e.under(stringify!($module))),
                        }
                    }
                )*
                (ok, errs)
            }
        }

        impl ContactFile {
            /// The contact's address on a channel.
            pub fn address(&self, kind: ChannelKind) -> Option<&str> {
                match kind {
                    $(ChannelKind::$variant => self.$field.as_deref(),)*
                }
            }

            /// The name of the field holding that address.
            pub fn field(kind: ChannelKind) -> &'static str {
                match kind {
                    $(ChannelKind::$variant => stringify!($field),)*
                }
            }
        }
    };
}
model::channel_list!(file);

/// `acks`: how people say "I'm on it".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcksFile {
    /// The router's address as people and Twilio reach it (`https://router.example.org`):
    /// the base of the signed links put in every notification.
    #[serde(default)]
    pub public_url: Option<String>,
    /// HMAC key of the signed links and the web page's sessions (32 bytes or more).
    pub secret: SecretRef,
    /// How long a link in a notification stays valid.
    #[serde(default = "d_24h")]
    pub link_ttl: Dur,
    /// How long an acknowledgement holds; then escalation resumes from the current level.
    #[serde(default = "d_1h")]
    pub ack_ttl: Dur,
    /// Slack app signing secret: enables `POST /api/v1/slack/interactions`.
    #[serde(default)]
    pub slack_signing_secret: Option<SecretRef>,
    /// Twilio auth token: enables `POST /api/v1/twilio/sms` (replies such as `ACK 42`).
    #[serde(default)]
    pub twilio_auth_token: Option<SecretRef>,
}

/// `api`: the incidents API (`/api/v1/incidents`) and the web page (`/ui`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiFile {
    /// `Authorization: Bearer <token>`; also the web page's login.
    pub bearer_token: SecretRef,
}

fn d_24h() -> Dur {
    Dur(Duration::from_secs(24 * 3600))
}
fn d_1h() -> Dur {
    Dur(Duration::from_secs(3600))
}

/// `ingest`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ingest {
    /// Largest accepted body (default 1 MiB, 10× the biggest real group seen).
    #[serde(default)]
    pub max_body_bytes: Option<usize>,
    /// `Authorization: Bearer <token>`, as Alertmanager's `http_config.authorization`.
    #[serde(default)]
    pub bearer_token: Option<SecretRef>,
    /// `Authorization: Basic …`, as Alertmanager's `http_config.basic_auth`.
    #[serde(default)]
    pub basic_auth: Option<BasicAuthFile>,
}

/// `ingest.basic_auth`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthFile {
    /// User name.
    pub username: String,
    /// Password.
    pub password: SecretRef,
}

/// `delivery`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// First retry delay (doubles each attempt, ±50 % jitter).
    #[serde(default = "d_1s")]
    pub initial_backoff: Dur,
    /// Cap of the retry delay.
    #[serde(default = "d_5m")]
    pub max_backoff: Dur,
    /// Attempts before the notification is given up and the next level paged.
    #[serde(default = "d_attempts")]
    pub max_attempts: u32,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery { initial_backoff: d_1s(), max_backoff: d_5m(), max_attempts: d_attempts() }
    }
}

fn d_1s() -> Dur {
    Dur(Duration::from_secs(1))
}
fn d_5m() -> Dur {
    Dur(Duration::from_secs(300))
}
fn d_attempts() -> u32 {
    12
}

/// `resolution`: the target time to resolve (default 4 h); past it the incident is paged to
/// `level` (default 3, or the policy's last level if it has fewer).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// Time from the incident's start.
    #[serde(default = "d_4h")]
    pub target: Dur,
    /// 1-based level paged when the target passes.
    #[serde(default = "d_3")]
    pub level: usize,
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution { target: d_4h(), level: d_3() }
    }
}

fn d_4h() -> Dur {
    Dur(Duration::from_secs(4 * 3600))
}
fn d_3() -> usize {
    3
}

/// `contacts[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactFile {
    /// Unique name.
    pub name: String,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// A `slack.webhooks` name, or (with a bot token) a channel or user id.
    #[serde(default)]
    pub slack: Option<String>,
    /// E.164 phone number (`+33612345678`), for SMS.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `teams[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamFile {
    /// Unique name (shares the name space of contacts).
    pub name: String,
    /// The level this team answers at: a policy level without `targets` pages it.
    #[serde(default)]
    pub level: Option<usize>,
    /// Contact names: all are paged. Give this or `schedule`.
    #[serde(default)]
    pub members: Vec<String>,
    /// A `schedules[].name`: the person on call is paged.
    #[serde(default)]
    pub schedule: Option<String>,
}

/// `policies[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Unique name, used by routes.
    pub name: String,
    /// Level 1, 2, 3… in order.
    pub levels: Vec<LevelFile>,
    /// What happens after the last level.
    #[serde(default)]
    pub repeat: Option<RepeatFile>,
}

/// `policies[].levels[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelFile {
    /// Contact or team names; empty means the teams whose `level` is this one.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Channels to page them on.
    #[serde(default = "default_channels")]
    pub channels: Vec<ChannelKind>,
    /// Time from the incident's start until this level is paged (level 1: default 0s).
    #[serde(default)]
    pub delay: Option<Dur>,
}

fn default_channels() -> Vec<ChannelKind> {
    vec![ChannelKind::Email]
}

/// `policies[].repeat`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatFile {
    /// How many more times.
    pub times: u32,
    /// Wait after the last level before repeating.
    pub interval: Dur,
    /// `last_level` (default) or `chain` (from level 1 again).
    #[serde(default)]
    pub from: RepeatFrom,
}

/// What a repeat pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepeatFrom {
    /// The last level again.
    #[default]
    LastLevel,
    /// The whole chain from level 1.
    Chain,
}

/// `route` and its `routes[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    /// All must match (the root's are ignored: it matches everything).
    #[serde(default)]
    pub matchers: Vec<Matcher>,
    /// Policy name; children inherit it.
    #[serde(default)]
    pub policy: Option<String>,
    /// Children, tried in order; the first that matches wins.
    #[serde(default)]
    pub routes: Vec<RouteFile>,
}

// ---- checked config ----

/// A checked config.
#[derive(Debug)]
pub struct Config {
    /// Where the state lives.
    pub storage: StorageBackend,
    /// How long idempotency keys are kept.
    pub idempotency_retention: Duration,
    /// Webhook auth and limits.
    pub ingest: IngestAuth,
    /// The channels configured (a top-level section each), in `channel_list!` order.
    pub channels: Vec<channels::Settings>,
    /// Retries.
    pub delivery: Delivery,
    /// Resolution target.
    pub resolution: Resolution,
    /// Policies by position.
    pub policies: Vec<Policy>,
    /// The route tree.
    pub route: Route,
    /// Acknowledgement settings, if `acks` is configured.
    pub acks: Option<Acks>,
    /// Token of the incidents API and web page, if `api` is configured.
    pub api_token: Option<Secret>,
    /// Every contact, by name (reassignment, SMS sender lookup, Slack user lookup).
    pub contacts: BTreeMap<String, ContactFile>,
    /// On-call schedules. Phase 1 of issue 18: checked and shown by `oncall`; a level whose
    /// team has a schedule still pages every member of it (see `docs/schedules-phase2.md`).
    pub schedules: Vec<Schedule>,
}

/// Checked `acks`.
#[derive(Debug)]
pub struct Acks {
    /// Base URL of the links, without a trailing `/`.
    pub public_url: Option<String>,
    /// HMAC key.
    pub secret: Secret,
    /// Link validity.
    pub link_ttl: Duration,
    /// Acknowledgement validity.
    pub ack_ttl: Duration,
    /// Slack signing secret.
    pub slack_signing_secret: Option<Secret>,
    /// Twilio auth token.
    pub twilio_auth_token: Option<Secret>,
}

/// Webhook auth.
#[derive(Debug, Default)]
pub struct IngestAuth {
    /// Body limit in bytes.
    pub max_body_bytes: usize,
    /// Accepted bearer token.
    pub bearer: Option<Secret>,
    /// Accepted user and password.
    pub basic: Option<(String, Secret)>,
}

/// A policy with its targets resolved.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Name.
    pub name: String,
    /// Levels; index 0 is level 1.
    pub levels: Vec<Level>,
    /// Repeat after the last level.
    pub repeat: Option<RepeatFile>,
}

/// A level with its targets resolved.
#[derive(Debug, Clone)]
pub struct Level {
    /// From the incident's start.
    pub delay: Duration,
    /// Who, on which channel, at which address.
    pub targets: Vec<Target>,
}

/// A route node.
#[derive(Debug)]
pub struct Route {
    /// Matchers.
    pub matchers: Vec<Matcher>,
    /// Index into `policies` (inherited).
    pub policy: usize,
    /// Children.
    pub routes: Vec<Route>,
}

impl Config {
    /// The policy the route tree picks for `labels`.
    pub fn route(&self, labels: &KV) -> &Policy {
        fn walk(r: &Route, labels: &KV) -> usize {
            for child in &r.routes {
                if child.matchers.iter().all(|m| m.matches(labels)) {
                    return walk(child, labels);
                }
            }
            r.policy
        }
        &self.policies[walk(&self.route, labels)]
    }

    /// How long an acknowledgement holds (`acks.ack_ttl`, default 1 h).
    pub fn ack_ttl(&self) -> Duration {
        self.acks.as_ref().map_or(d_1h().0, |a| a.ack_ttl)
    }

    /// Whether a channel is configured.
    pub fn has_channel(&self, kind: ChannelKind) -> bool {
        self.channels.iter().any(|s| s.kind() == kind)
    }

    /// A policy by name.
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The 1-based level an incident starts at: its `level` label (`2`, `L2`), clamped to
    /// the policy, else 1.
    pub fn start_level(labels: &KV, policy: &Policy) -> usize {
        labels
            .get("level")
            .map(|v| v.trim().trim_start_matches(['L', 'l']))
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|l| *l >= 1)
            .map_or(1, |l| l.min(policy.levels.len()))
    }
}

/// Loads and checks `path`; every problem found, each naming file, line and field.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![ConfigError { path: path.to_path_buf(), location: None, field: None, msg: e.to_string() }])?;
    let file: File = kitconfig::parse(path, &text).map_err(|e| vec![e])?;
    check(path, &text, file)
}

#[cfg(test)]
pub(crate) mod tests;
