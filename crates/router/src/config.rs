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

pub mod matcher;
mod on_call;

pub use on_call::load_schedules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use vigie_kit::config::{self as kitconfig, ConfigError};
use vigie_kit::Secret;

use crate::channels::{email, slack, sms, ChannelKind};
use crate::payload::KV;
use crate::schedule::{Schedule, ScheduleFile};
pub use matcher::Matcher;

/// A duration written as `30s`, `5m`, `1h30m`, `250ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        let s = String::deserialize(d)?;
        vigie_kit::flags::parse_duration(&s).map(Dur).map_err(serde::de::Error::custom)
    }
}

/// Where a secret comes from: a file (one trailing newline trimmed) or an environment
/// variable. Never inline, so that a config file can be shared.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// File holding the secret (relative to the config file).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Environment variable holding the secret.
    #[serde(default)]
    pub env: Option<String>,
}

impl SecretRef {
    pub fn resolve(&self, base: &Path) -> Result<Secret, String> {
        match (&self.file, &self.env) {
            (Some(f), None) => {
                let p = if f.is_absolute() { f.clone() } else { base.join(f) };
                Secret::from_file(&p).map_err(|e| format!("cannot read secret file {}: {e}", p.display()))
            }
            (None, Some(v)) => match std::env::var(v) {
                Ok(s) if !s.is_empty() => Ok(Secret::new(s)),
                _ => Err(format!("environment variable {v} is unset or empty")),
            },
            _ => Err("give exactly one of `file` or `env`".into()),
        }
    }
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Where the store lives.
    #[serde(default)]
    pub storage: Storage,
    /// The webhook endpoint.
    #[serde(default)]
    pub ingest: Ingest,
    /// The SMTP channel; required if any level uses `email`.
    #[serde(default)]
    pub email: Option<email::Config>,
    /// Slack webhooks and/or bot token; required if any level uses `slack`.
    #[serde(default)]
    pub slack: Option<slack::Config>,
    /// Twilio or an HTTP SMS gateway; required if any level uses `sms`.
    #[serde(default)]
    pub sms: Option<sms::Config>,
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

/// `storage`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// SQLite file (relative to the config file).
    #[serde(default = "default_db")]
    pub path: PathBuf,
    /// How long a webhook's idempotency key is kept: an identical batch sent again within
    /// this window is recognised as a retry (default 24h).
    #[serde(default = "d_24h")]
    pub idempotency_retention: Dur,
}

impl Default for Storage {
    fn default() -> Self {
        Storage { path: default_db(), idempotency_retention: d_24h() }
    }
}

fn default_db() -> PathBuf {
    PathBuf::from("vigie-router.db")
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
    /// The SQLite file.
    pub storage_path: PathBuf,
    /// How long idempotency keys are kept.
    pub idempotency_retention: Duration,
    /// Webhook auth and limits.
    pub ingest: IngestAuth,
    /// SMTP, if configured.
    pub email: Option<email::Settings>,
    /// Slack, if configured.
    pub slack: Option<slack::Settings>,
    /// SMS, if configured.
    pub sms: Option<sms::Settings>,
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

/// One contact on one channel.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// Contact name.
    pub contact: String,
    /// Channel.
    pub channel: ChannelKind,
    /// Address on that channel.
    pub address: String,
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

/// The semantic checks.
pub fn check(path: &Path, text: &str, file: File) -> Result<Config, Vec<ConfigError>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut errs = Vec::new();
    let mut err = |field: String, msg: String| errs.push(located(path, text, &field, msg));

    if file.storage.idempotency_retention.0 < Duration::from_secs(60) {
        // Alertmanager re-sends a failed notification for a whole flush, at least 10 s.
        err("storage.idempotency_retention".into(), "must be at least 1m".into());
    }

    // Ingest.
    let mut ingest = IngestAuth { max_body_bytes: file.ingest.max_body_bytes.unwrap_or(1 << 20), ..Default::default() };
    if ingest.max_body_bytes < 1024 {
        err("ingest.max_body_bytes".into(), "must be at least 1024".into());
    }
    if let Some(r) = &file.ingest.bearer_token {
        match r.resolve(base) {
            Ok(s) => ingest.bearer = Some(s),
            Err(m) => err("ingest.bearer_token".into(), m),
        }
    }
    if let Some(b) = &file.ingest.basic_auth {
        match b.password.resolve(base) {
            Ok(s) => ingest.basic = Some((b.username.clone(), s)),
            Err(m) => err("ingest.basic_auth.password".into(), m),
        }
    }

    // Email.
    let email = match &file.email {
        Some(e) => match email::Settings::from_config(e, base) {
            Ok(s) => Some(s),
            Err((field, m)) => {
                err(format!("email.{field}"), m);
                None
            }
        },
        None => None,
    };
    let at = |section: &str, field: String| {
        if field.is_empty() {
            section.to_owned()
        } else {
            format!("{section}.{field}")
        }
    };
    let slack = match &file.slack {
        Some(c) => match slack::Settings::from_config(c, base) {
            Ok(s) => Some(s),
            Err((field, m)) => {
                err(at("slack", field), m);
                None
            }
        },
        None => None,
    };
    let sms = match &file.sms {
        Some(c) => match sms::Settings::from_config(c, base) {
            Ok(s) => Some(s),
            Err((field, m)) => {
                err(at("sms", field), m);
                None
            }
        },
        None => None,
    };
    if file.delivery.max_attempts == 0 {
        err("delivery.max_attempts".into(), "must be at least 1".into());
    }
    if file.resolution.level == 0 {
        err("resolution.level".into(), "levels start at 1".into());
    }

    // Contacts and teams.
    let mut contacts: BTreeMap<&str, &ContactFile> = BTreeMap::new();
    for (i, c) in file.contacts.iter().enumerate() {
        if contacts.insert(c.name.as_str(), c).is_some() {
            err(format!("contacts[{i}].name"), format!("duplicate contact {:?}", c.name));
        }
        if let Some(addr) = &c.email {
            if addr.parse::<lettre::Address>().is_err() {
                err(format!("contacts[{i}].email"), format!("invalid email address {addr:?}"));
            }
        }
        if let Some(phone) = &c.phone {
            if !sms::is_e164(phone) {
                err(format!("contacts[{i}].phone"), format!("{phone:?} is not an E.164 number (+33612345678)"));
            }
        }
        if let (Some(addr), Some(s)) = (&c.slack, &slack) {
            if let Err(m) = s.check_address(addr) {
                err(format!("contacts[{i}].slack"), m);
            }
        }
        if c.email.is_none() && c.slack.is_none() && c.phone.is_none() {
            err(format!("contacts[{i}]"), format!("contact {:?} has no email, slack or phone", c.name));
        }
    }
    let schedules = crate::schedule::compile(&file.schedules, &|n| contacts.contains_key(n)).unwrap_or_else(|ps| {
        ps.into_iter().for_each(|p| err(p.field, p.msg));
        Vec::new()
    });
    // A team's people: its members, or everyone its schedule can put on call.
    let team_people = |t: &TeamFile| -> Vec<&ContactFile> {
        let names: Vec<&str> = match &t.schedule {
            Some(s) => schedules.iter().find(|x| &x.name == s).map(|x| x.members()).unwrap_or_default(),
            None => t.members.iter().map(String::as_str).collect(),
        };
        names.into_iter().filter_map(|m| contacts.get(m).copied()).collect()
    };
    let mut teams: BTreeMap<&str, &TeamFile> = BTreeMap::new();
    for (i, t) in file.teams.iter().enumerate() {
        on_call::check_team(t, &file.schedules, &format!("teams[{i}]"), &mut err);
        if contacts.contains_key(t.name.as_str()) || teams.insert(t.name.as_str(), t).is_some() {
            err(format!("teams[{i}].name"), format!("duplicate name {:?} (contacts and teams share names)", t.name));
        }
        for (j, m) in t.members.iter().enumerate() {
            if !contacts.contains_key(m.as_str()) {
                err(format!("teams[{i}].members[{j}]"), format!("unknown contact {m:?}"));
            }
        }
        if t.level == Some(0) {
            err(format!("teams[{i}].level"), "levels start at 1".into());
        }
    }

    // Policies.
    let mut policies = Vec::new();
    let mut names = BTreeSet::new();
    for (p, pf) in file.policies.iter().enumerate() {
        if !names.insert(pf.name.as_str()) {
            err(format!("policies[{p}].name"), format!("duplicate policy {:?}", pf.name));
        }
        if pf.levels.is_empty() {
            err(format!("policies[{p}].levels"), "a policy needs at least one level".into());
        }
        let mut levels = Vec::new();
        let mut last: Option<Duration> = None;
        for (l, lf) in pf.levels.iter().enumerate() {
            let at = format!("policies[{p}].levels[{l}]");
            let delay = lf.delay.map(|d| d.0);
            let delay = match (l, delay) {
                (0, d) => d.unwrap_or(Duration::ZERO),
                (_, Some(d)) => d,
                (_, None) => {
                    err(at.clone(), format!("level {} needs a delay (time from the incident's start)", l + 1));
                    Duration::ZERO
                }
            };
            if let Some(prev) = last {
                if l > 0 && lf.delay.is_some() && delay <= prev {
                    err(
                        format!("{at}.delay"),
                        format!(
                            "delays must increase: level {} at {:?} is not after level {} at {:?}",
                            l + 1,
                            delay,
                            l,
                            prev
                        ),
                    );
                }
            }
            last = Some(delay);
            // Expand targets to contacts.
            let mut people: Vec<&ContactFile> = Vec::new();
            let mut rotas: Vec<&str> = Vec::new();
            if lf.targets.is_empty() {
                for t in teams.values().filter(|t| t.level == Some(l + 1)) {
                    people.extend(team_people(t));
                    rotas.extend(t.schedule.as_deref());
                }
                // A team whose schedule did not compile has its own error already.
                if people.is_empty() && rotas.is_empty() {
                    err(at.clone(), format!("level {} has no targets and no team has `level: {}`", l + 1, l + 1));
                }
            }
            for (k, name) in lf.targets.iter().enumerate() {
                if let Some(c) = contacts.get(name.as_str()) {
                    people.push(c);
                } else if let Some(t) = teams.get(name.as_str()) {
                    people.extend(team_people(t));
                    rotas.extend(t.schedule.as_deref());
                } else {
                    err(format!("{at}.targets[{k}]"), format!("unknown contact or team {name:?}"));
                }
            }
            let mut targets = BTreeSet::new();
            // Point at `channels:` when written, else at the level.
            let ch_at = if kitconfig::locate(text, &format!("{at}.channels")).is_some() {
                format!("{at}.channels")
            } else {
                at.clone()
            };
            let mut channel_errors = false;
            for ch in &lf.channels {
                let configured = match ch {
                    ChannelKind::Email => file.email.is_some(),
                    ChannelKind::Slack => file.slack.is_some(),
                    ChannelKind::Sms => file.sms.is_some(),
                };
                if !ch.available() || !configured {
                    err(ch_at.clone(), format!("channel {0} needs the top-level `{0}` section", ch.as_str()));
                    channel_errors = true;
                    continue;
                }
                for c in &people {
                    if let Some(address) = ch.address(c) {
                        targets.insert(Target { contact: c.name.clone(), channel: *ch, address: address.to_owned() });
                    }
                }
            }
            if targets.is_empty() && !people.is_empty() && !channel_errors {
                err(
                    at.clone(),
                    format!(
                        "level {} has no working channel: none of its contacts has an address on {}",
                        l + 1,
                        lf.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            for m in on_call::unreachable(&rotas, &schedules, &contacts, &lf.channels) {
                err(at.clone(), m);
            }
            levels.push(Level { delay, targets: targets.into_iter().collect() });
        }
        if let Some(r) = &pf.repeat {
            if r.interval.0.is_zero() {
                err(format!("policies[{p}].repeat.interval"), "must be more than 0s".into());
            }
        }
        policies.push(Policy { name: pf.name.clone(), levels, repeat: pf.repeat });
    }

    // Routes.
    fn route(
        rf: &RouteFile,
        at: &str,
        inherited: Option<usize>,
        policies: &[Policy],
        err: &mut dyn FnMut(String, String),
    ) -> Route {
        let policy = match &rf.policy {
            Some(name) => match policies.iter().position(|p| &p.name == name) {
                Some(i) => Some(i),
                None => {
                    err(format!("{at}.policy"), format!("unknown policy {name:?}"));
                    inherited
                }
            },
            None => inherited,
        };
        if policy.is_none() && inherited.is_none() && rf.policy.is_none() {
            err(at.to_owned(), "the root route needs a policy".into());
        }
        let routes = rf
            .routes
            .iter()
            .enumerate()
            .map(|(i, c)| route(c, &format!("{at}.routes[{i}]"), policy, policies, err))
            .collect();
        Route { matchers: rf.matchers.clone(), policy: policy.unwrap_or(0), routes }
    }
    let route = route(&file.route, "route", None, &policies, &mut err);

    let mut acks = None;
    if let Some(a) = &file.acks {
        let secret = a.secret.resolve(base).map_err(|m| err("acks.secret".into(), m)).ok();
        if secret.as_ref().is_some_and(|s| s.expose().len() < 32) {
            err("acks.secret".into(), "use at least 32 bytes (e.g. `openssl rand -hex 32`)".into());
        }
        let public_url = a.public_url.as_ref().map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(['?', '#', ' ']) {
                err("acks.public_url".into(), format!("{u:?} is not an http(s) base URL"));
            }
        }
        if a.ack_ttl.0.is_zero() || a.link_ttl.0.is_zero() {
            err("acks".into(), "link_ttl and ack_ttl must be more than 0s".into());
        }
        let opt = |r: &Option<SecretRef>, field: &str, err: &mut dyn FnMut(String, String)| {
            r.as_ref().and_then(|r| r.resolve(base).map_err(|m| err(format!("acks.{field}"), m)).ok())
        };
        let slack_signing_secret = opt(&a.slack_signing_secret, "slack_signing_secret", &mut err);
        let mut twilio_auth_token = opt(&a.twilio_auth_token, "twilio_auth_token", &mut err);
        // Replies come back to the account that sent the texts: its token signs them too.
        if a.twilio_auth_token.is_none() && public_url.is_some() {
            let sending = file.sms.as_ref().and_then(|s| s.twilio.as_ref());
            twilio_auth_token = sending.and_then(|t| t.auth_token.resolve(base).ok());
        }
        if a.twilio_auth_token.is_some() && public_url.is_none() {
            err("acks.twilio_auth_token".into(), "needs acks.public_url (Twilio signs the URL it calls)".into());
        }
        if let Some(secret) = secret {
            acks = Some(Acks {
                public_url,
                secret,
                link_ttl: a.link_ttl.0,
                ack_ttl: a.ack_ttl.0,
                slack_signing_secret,
                twilio_auth_token,
            });
        }
    }
    let api_token = file
        .api
        .as_ref()
        .and_then(|a| a.bearer_token.resolve(base).map_err(|m| err("api.bearer_token".into(), m)).ok());

    if !errs.is_empty() {
        return Err(errs);
    }
    let storage_path =
        if file.storage.path.is_absolute() { file.storage.path.clone() } else { base.join(&file.storage.path) };
    let contacts = file.contacts.into_iter().map(|c| (c.name.clone(), c)).collect();
    Ok(Config {
        storage_path,
        idempotency_retention: file.storage.idempotency_retention.0,
        ingest,
        email,
        slack,
        sms,
        delivery: file.delivery,
        resolution: file.resolution,
        policies,
        route,
        acks,
        api_token,
        contacts,
        schedules,
    })
}

/// An error about `field`, at the line of the field or, when it is inside a flow mapping
/// (`rotation: {shift: 1w, …}`) that `locate` cannot enter, of its nearest parent.
fn located(path: &Path, text: &str, field: &str, msg: String) -> ConfigError {
    let mut e = ConfigError::at_field(path, text, field, msg);
    let mut parent = field;
    while e.location.is_none() {
        let Some(cut) = parent.rfind(['.', '[']) else { break };
        parent = &parent[..cut];
        // `locate` finds `key[i]` only in block sequences: try the key itself.
        if !parent.ends_with(']') {
            e.location = kitconfig::locate(text, parent);
        }
    }
    e
}

#[cfg(test)]
pub(crate) mod tests;
