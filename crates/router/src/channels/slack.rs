//! The Slack channel: Block Kit messages through incoming webhooks, or through the Web API
//! with a bot token, in which case later notifications of an incident update its first
//! message in place (`chat.update`: the new level, new alerts, green when resolved) and an
//! escalation also posts a broadcast reply in its thread, so that the channel hears it.
//!
//! A contact's `slack:` is either the name of an entry of `slack.webhooks` (the webhook URL is
//! a secret: only the name is stored in the outbox and the timeline; the URL is resolved at
//! send) or, with a bot token, a channel or user id (`C0123ABCD`, `U0123ABCD`).
//!
//! Each message has the title, the severity as the attachment's colour, the level, the alerts
//! with their labels, the links (runbook, dashboard, source, Alertmanager), an "Acknowledge"
//! button (`action_id` [`ACK_ACTION`], value = the incident id, for the interactivity
//! endpoint) and, when the notification carries a signed ack link, a button opening it.
//!
//! Outcome mapping: 429 (and the Web API's `ratelimited`) is [`SendError::Retry`] after the
//! `Retry-After` Slack asked for, 5xx and transport failures are retried, other 4xx
//! (`invalid_payload`, `channel_not_found`, `no_service`…) and Web API errors are rejected
//! with Slack's reason. Calls to one webhook or channel are spaced by `min_interval` (Slack
//! allows about one message per second), so that a storm does not earn 429s: the queue's
//! pacer keeps the turns ([`SendCx::pace`]), and the queue hands the bot the receipt of the
//! incident's first message ([`SendCx::first_receipt`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use vigie_kit::config::{Dur, FieldError, SecretRef};
use vigie_kit::{BoxFuture, Secret};

use super::email::{alert_links, state_line};
use super::http::{Client, Response, Url};
use super::{Channel, ChannelSettings, Receipt, SendCx, SendError};
use crate::model::{AckView, ChannelKind, Kind, Notification, Status};

/// `action_id` of the "Acknowledge" button; its `value` is the incident id.
pub const ACK_ACTION: &str = "vigie_ack";
/// `action_id` of the button that opens the signed ack link. Slack also reports presses of
/// link buttons to the interactivity endpoint: this id must not start with [`ACK_ACTION`],
/// which that endpoint acts on.
pub const ACK_LINK_ACTION: &str = "vigie_link_ack";
/// Prefix of the receipts of messages posted with the bot token: `slack:CHANNEL:TS`.
const RECEIPT: &str = "slack:";
/// Most alerts shown in one message (Slack allows 50 blocks).
const MAX_ALERTS: usize = 10;

/// `slack:` in the config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Incoming webhooks by name; contacts name them in `slack:`.
    #[serde(default)]
    pub webhooks: Vec<WebhookFile>,
    /// Bot token (`xoxb-…`) with `chat:write`: posts with `chat.postMessage` to channel or user
    /// ids and updates messages in place.
    #[serde(default)]
    pub bot_token: Option<SecretRef>,
    /// Web API base (default `https://slack.com/api`).
    #[serde(default)]
    pub api_url: Option<String>,
    /// Least time between two messages to one webhook or channel (default 1s).
    #[serde(default)]
    pub min_interval: Option<Dur>,
    /// Per request (default 10s).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Extra CA certificate (PEM) to trust, e.g. an outgoing proxy's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// `slack.webhooks[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFile {
    /// What contacts write in `slack:`.
    pub name: String,
    /// The webhook URL: a secret (`{file: …}` or `{env: …}`).
    pub url: SecretRef,
}

/// The checked Slack settings. `Debug` shows names, never URLs or the token.
#[derive(Clone)]
pub struct Settings {
    webhooks: BTreeMap<String, Url>,
    bot: Option<(Secret, Url)>,
    min_interval: Duration,
    client: Client,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("webhooks", &self.webhooks.keys().collect::<Vec<_>>())
            .field("bot", &self.bot.is_some())
            .finish()
    }
}

/// A Slack conversation or user id: `C0123ABCD`, `G…`, `D…`, `U…`, `W…`.
pub fn is_slack_id(s: &str) -> bool {
    s.len() >= 7
        && s.starts_with(['C', 'G', 'D', 'U', 'W'])
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl ChannelSettings for Settings {
    type File = Config;

    fn from_config(c: &Config, base: &Path) -> Result<Settings, FieldError> {
        Settings::check(c, base).map_err(|(field, msg)| FieldError::new(field, msg))
    }

    /// Whether a contact's `slack:` can be reached; else why not.
    fn check_address(&self, address: &str) -> Result<(), String> {
        Settings::check_address(self, address)
    }
}

impl Settings {
    /// Checks the config, reads the secrets; an error names the field under `slack.`.
    fn check(c: &Config, base: &Path) -> Result<Settings, (String, String)> {
        let mut webhooks = BTreeMap::new();
        for (i, w) in c.webhooks.iter().enumerate() {
            let secret = w.url.resolve(base).map_err(|m| (format!("webhooks[{i}].url"), m))?;
            let url = Url::parse(secret.expose()).map_err(|m| (format!("webhooks[{i}].url"), m))?;
            if webhooks.insert(w.name.clone(), url).is_some() {
                return Err((format!("webhooks[{i}].name"), format!("duplicate webhook {:?}", w.name)));
            }
        }
        let bot = match &c.bot_token {
            Some(t) => {
                let token = t.resolve(base).map_err(|m| ("bot_token".to_owned(), m))?;
                let api = c.api_url.as_deref().unwrap_or("https://slack.com/api");
                let api = Url::parse(api).map_err(|m| ("api_url".to_owned(), m))?;
                Some((token, api))
            }
            None if c.api_url.is_some() => return Err(("api_url".into(), "only used with `bot_token`".into())),
            None => None,
        };
        if webhooks.is_empty() && bot.is_none() {
            return Err((String::new(), "give `webhooks`, `bot_token` or both".into()));
        }
        let client =
            Client::from_config(c.ca_file.as_deref(), c.timeout, base).map_err(|m| ("ca_file".to_owned(), m))?;
        let min_interval = c.min_interval.map_or(Duration::from_secs(1), |d| d.0);
        Ok(Settings { webhooks, bot, min_interval, client })
    }

    /// Whether a contact's `slack:` can be reached; else why not.
    pub fn check_address(&self, address: &str) -> Result<(), String> {
        if self.webhooks.contains_key(address) || (self.bot.is_some() && is_slack_id(address)) {
            return Ok(());
        }
        let names: Vec<&str> = self.webhooks.keys().map(String::as_str).collect();
        Err(if self.bot.is_some() {
            format!(
                "{address:?} is neither a `slack.webhooks` name ({}) nor a channel or user id like C0123ABCD",
                names.join(", ")
            )
        } else {
            format!(
                "{address:?} is not a `slack.webhooks` name ({}); channel ids need `slack.bot_token`",
                names.join(", ")
            )
        })
    }
}

/// The channel.
pub struct Slack {
    settings: Settings,
}

/// A Web API failure: a transport/HTTP outcome, or Slack's `error` string.
enum ApiError {
    Send(SendError),
    Slack(String, Option<Duration>),
}

impl Slack {
    /// The channel.
    pub fn new(settings: Settings) -> Slack {
        Slack { settings }
    }

    /// Whether `address` goes through the Web API (a webhook name wins).
    fn uses_bot(&self, address: &str) -> bool {
        !self.settings.webhooks.contains_key(address) && self.settings.bot.is_some() && is_slack_id(address)
    }

    fn http_outcome(&self, cx: &SendCx<'_>, key: &str, what: &str, r: &Response) -> Option<SendError> {
        match r.status {
            200..=299 => None,
            429 => {
                let after = r.retry_after.unwrap_or(Duration::from_secs(1));
                cx.pace.hold(key, after);
                Some(SendError::Retry { after: Some(after), reason: format!("slack {what}: 429 rate limited") })
            }
            s if s >= 500 || s == 408 => {
                Some(SendError::Retry { after: r.retry_after, reason: format!("slack {what}: {s} {}", r.snippet()) })
            }
            s => Some(SendError::Reject(format!("slack {what}: {s} {}", r.snippet()))),
        }
    }

    async fn webhook(&self, cx: &SendCx<'_>, url: &Url, n: &Notification) -> Result<Receipt, SendError> {
        cx.pace.turn(&n.address, self.settings.min_interval).await;
        // A webhook cannot edit what it posted: an ack (or its end) is one short line instead.
        let msg = if is_update_only(n.kind) { json!({"text": short_line(n)}) } else { message(n) };
        let body = serde_json::to_vec(&msg).map_err(|e| SendError::Reject(e.to_string()))?;
        let headers = [("Content-Type".to_owned(), "application/json".to_owned())];
        let r = self.settings.client.send("POST", url, &headers, body).await?;
        match self.http_outcome(cx, &n.address, "webhook", &r) {
            Some(e) => Err(e),
            None => Ok(Receipt(format!("webhook {}: {}", n.address, r.snippet()))),
        }
    }

    /// One Web API call; `Ok` is Slack's JSON reply with `ok: true`.
    async fn api(&self, cx: &SendCx<'_>, key: &str, method: &str, body: &Value) -> Result<Value, ApiError> {
        let Some((token, base)) = &self.settings.bot else {
            return Err(ApiError::Send(SendError::Reject("no slack.bot_token".into())));
        };
        cx.pace.turn(key, self.settings.min_interval).await;
        let headers = [
            ("Content-Type".to_owned(), "application/json; charset=utf-8".to_owned()),
            ("Authorization".to_owned(), format!("Bearer {}", token.expose())),
        ];
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Send(SendError::Reject(e.to_string())))?;
        let r = self.settings.client.send("POST", &base.join(method), &headers, bytes).await.map_err(ApiError::Send)?;
        if let Some(e) = self.http_outcome(cx, key, method, &r) {
            return Err(ApiError::Send(e));
        }
        let v: Value = serde_json::from_str(&r.body).map_err(|_| {
            ApiError::Send(SendError::Retry { after: None, reason: format!("slack {method}: reply is not JSON") })
        })?;
        if v["ok"].as_bool() == Some(true) {
            Ok(v)
        } else {
            let code = v["error"].as_str().unwrap_or("unknown_error").to_owned();
            Err(ApiError::Slack(code, r.retry_after))
        }
    }

    fn api_error(&self, cx: &SendCx<'_>, key: &str, method: &str, e: ApiError) -> SendError {
        match e {
            ApiError::Send(e) => e,
            ApiError::Slack(code, after) => match code.as_str() {
                "ratelimited" | "rate_limited" => {
                    let after = after.unwrap_or(Duration::from_secs(1));
                    cx.pace.hold(key, after);
                    SendError::Retry { after: Some(after), reason: format!("slack {method}: {code}") }
                }
                "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
                    SendError::Retry { after, reason: format!("slack {method}: {code}") }
                }
                _ => SendError::Reject(format!("slack {method}: {code}")),
            },
        }
    }

    async fn bot(&self, cx: &SendCx<'_>, n: &Notification) -> Result<Receipt, SendError> {
        let key = n.address.as_str();
        let first = cx.first_receipt.as_deref();
        let mut msg = message(n);
        if let Some((channel, ts)) = first.and_then(parse_receipt) {
            msg["channel"] = json!(channel);
            msg["ts"] = json!(ts);
            match self.api(cx, key, "chat.update", &msg).await {
                Ok(_) => {
                    if n.kind == Kind::Page {
                        // An update notifies nobody: say it in the thread, shown in the channel.
                        let reply = json!({"channel": channel, "thread_ts": ts, "reply_broadcast": true,
                                           "text": format!("{}{}", n.subject(), n.note.as_deref().map(|x| format!(" — {x}")).unwrap_or_default())});
                        self.api(cx, key, "chat.postMessage", &reply)
                            .await
                            .map_err(|e| self.api_error(cx, key, "chat.postMessage", e))?;
                    }
                    return Ok(Receipt(format!("{RECEIPT}{channel}:{ts}")));
                }
                // The message is gone or too old to edit: post a new one.
                Err(ApiError::Slack(code, _))
                    if matches!(code.as_str(), "message_not_found" | "cant_update_message" | "edit_window_closed") =>
                {
                    if let Some(o) = msg.as_object_mut() {
                        o.remove("ts");
                    }
                }
                Err(e) => return Err(self.api_error(cx, key, "chat.update", e)),
            }
        } else {
            msg["channel"] = json!(n.address);
        }
        if is_update_only(n.kind) {
            // Nothing to edit (never posted, or gone): a new message for an ack would be noise.
            return Ok(Receipt("no slack message to update".into()));
        }
        let v = self
            .api(cx, key, "chat.postMessage", &msg)
            .await
            .map_err(|e| self.api_error(cx, key, "chat.postMessage", e))?;
        let channel = v["channel"].as_str().unwrap_or(&n.address);
        let ts = v["ts"].as_str().unwrap_or_default();
        Ok(Receipt(format!("{RECEIPT}{channel}:{ts}")))
    }
}

/// Kinds that only change a message already posted.
fn is_update_only(k: Kind) -> bool {
    matches!(k, Kind::Acked | Kind::Unacked)
}

/// "Acknowledged by api:ops via api, until 2026-11-22T11:00:00.000Z".
fn ack_line(a: &AckView) -> String {
    format!(
        "Acknowledged by {} via {}, until {}",
        a.by,
        a.via,
        vigie_kit::log::rfc3339_millis(super::email::ms_to_time(a.until_ms))
    )
}

/// The one line a webhook gets for an ack or its end.
fn short_line(n: &Notification) -> String {
    let what = n.subject();
    match (&n.ack, n.kind) {
        (Some(a), Kind::Acked) => format!("{} — incident #{}: {}", esc(&what), n.incident, esc(&ack_line(a))),
        _ => format!(
            "{} — incident #{}: {}",
            esc(&what),
            n.incident,
            esc(n.note.as_deref().unwrap_or("the acknowledgement ended: escalation resumes"))
        ),
    }
}

/// `slack:C0123:1700000000.000100` → (`C0123`, `1700000000.000100`).
fn parse_receipt(r: &str) -> Option<(&str, &str)> {
    let (channel, ts) = r.strip_prefix(RECEIPT)?.split_once(':')?;
    (!channel.is_empty() && !ts.is_empty()).then_some((channel, ts))
}

impl Channel for Slack {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Slack
    }

    /// The bot updates the incident's first message to this address in place.
    fn wants_receipt(&self, n: &Notification) -> Option<&'static str> {
        self.uses_bot(&n.address).then_some(RECEIPT)
    }

    fn send<'a>(&'a self, n: &'a Notification, cx: &'a SendCx<'a>) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            if let Some(url) = self.settings.webhooks.get(&n.address) {
                self.webhook(cx, url, n).await
            } else if self.uses_bot(&n.address) {
                self.bot(cx, n).await
            } else {
                Err(SendError::Reject(format!("slack address {:?} is not configured", n.address)))
            }
        })
    }
}

// ---- the message ----

/// Escapes Slack mrkdwn's control characters.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `<url|name>` for http(s) URLs; anything else as escaped text.
fn link(url: &str, name: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        format!("<{}|{}>", url.replace('|', "%7C").replace('>', "%3E").replace('<', "%3C"), esc(name))
    } else {
        esc(url)
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": cut(&text, 3000)})
}

fn severity(n: &Notification) -> Option<&str> {
    n.group_labels
        .get("severity")
        .or_else(|| n.alerts.iter().find(|a| a.status == Status::Firing).and_then(|a| a.labels.get("severity")))
        .map(String::as_str)
}

/// The attachment colour: green when resolved, else by severity.
pub fn colour(n: &Notification) -> &'static str {
    if n.kind == Kind::Resolved {
        return "#2eb67d";
    }
    match severity(n).map(str::to_ascii_lowercase).as_deref() {
        Some("warning" | "warn" | "major") => "#ecb22e",
        Some("info" | "informational" | "minor" | "low" | "none") => "#36c5f0",
        _ => "#e01e5a",
    }
}

/// The whole Block Kit payload (without `channel`/`ts`, which the bot path adds).
pub fn message(n: &Notification) -> Value {
    let subject = n.subject();
    let firing = n.kind != Kind::Resolved;
    let mut head = String::new();
    if let Some(note) = &n.note {
        head.push_str(&format!("*{}*\n", esc(note)));
    }
    if let (Kind::Acked, Some(a)) = (n.kind, &n.ack) {
        head.push_str(&format!(":white_check_mark: *{}*\n", esc(&ack_line(a))));
    }
    head.push_str(&esc(&state_line(n)));
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&subject, 150), "emoji": false}}),
        json!({"type": "section", "text": mrkdwn(head)}),
    ];
    if firing && n.kind != Kind::Acked {
        let mut buttons = vec![json!({
            "type": "button", "action_id": ACK_ACTION, "style": "primary",
            "text": {"type": "plain_text", "text": "Acknowledge"}, "value": n.incident.to_string()
        })];
        if let Some(url) = &n.ack_url {
            buttons.push(json!({
                "type": "button", "action_id": ACK_LINK_ACTION,
                "text": {"type": "plain_text", "text": "Acknowledge (link)"}, "url": url
            }));
        }
        blocks.push(
            json!({"type": "actions", "block_id": format!("vigie_incident_{}", n.incident), "elements": buttons}),
        );
    }

    let mut fields = vec![
        mrkdwn(format!("*Level*\n{}{}", n.level, if n.repeat { " (repeat)" } else { "" })),
        mrkdwn(format!("*Severity*\n{}", esc(severity(n).unwrap_or("—")))),
        mrkdwn(format!("*Incident*\n#{}", n.incident)),
        mrkdwn(format!("*Policy*\n{}", esc(&n.policy))),
    ];
    if !n.external_url.is_empty() {
        fields.push(mrkdwn(format!("*Alertmanager*\n{}", link(&n.external_url, "open"))));
    }
    let mut details = vec![json!({"type": "section", "fields": fields})];
    for a in n.alerts.iter().take(MAX_ALERTS) {
        let summary = a.annotations.get("summary").map(String::as_str).unwrap_or("");
        let mut t = format!("*[{}]* {}", esc(&a.status.as_str().to_uppercase()), esc(summary));
        if let Some(d) = a.annotations.get("description") {
            t.push_str(&format!("\n{}", esc(d)));
        }
        let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("`{}={}`", esc(k), esc(v))).collect();
        t.push_str(&format!("\n{}", labels.join(" ")));
        let links: Vec<String> = alert_links(a).into_iter().map(|(name, u)| link(u, name)).collect();
        if !links.is_empty() {
            t.push_str(&format!("\n{}", links.join(" · ")));
        }
        details.push(json!({"type": "section", "text": mrkdwn(t)}));
    }
    if n.alerts.len() > MAX_ALERTS {
        details.push(json!({"type": "context", "elements": [
            mrkdwn(format!("… and {} more alert(s)", n.alerts.len() - MAX_ALERTS))
        ]}));
    }
    details.push(json!({"type": "context", "elements": [
        mrkdwn(format!("Group {} (receiver {})", esc(&n.group_key), esc(&n.receiver)))
    ]}));
    json!({
        "text": subject,
        "blocks": blocks,
        "attachments": [{"color": colour(n), "blocks": details}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::notification;

    #[test]
    fn block_kit_shape() {
        let m = message(&notification(Kind::Page));
        assert_eq!(m["text"], "[FIRING:1] HighCPU warning (level 2)");
        assert_eq!(m["blocks"][0]["type"], "header");
        let actions = m["blocks"].as_array().unwrap().iter().find(|b| b["type"] == "actions").unwrap();
        assert_eq!(actions["elements"][0]["action_id"], ACK_ACTION);
        assert_eq!(actions["elements"][0]["value"], "42");
        assert_eq!(actions["elements"][1]["url"], "https://router.example/ack?t=abc");
        assert_eq!(m["attachments"][0]["color"], "#ecb22e");
        let all = m.to_string();
        assert!(all.contains("web&lt;1&gt;"), "labels escaped: {all}");
        assert!(all.contains("<https://runbooks.example/cpu?a%7Cb|Runbook>"), "{all}");
        assert!(all.contains("<http://prometheus.example/graph|Source>"), "{all}");
        assert!(all.contains("<http://am.example|open>"), "{all}");

        let r = message(&notification(Kind::Resolved));
        assert_eq!(r["attachments"][0]["color"], "#2eb67d");
        assert!(!r.to_string().contains(ACK_ACTION), "no ack button once resolved");
    }

    #[test]
    fn acked_drops_the_button_and_says_who() {
        let mut n = notification(Kind::Acked);
        n.ack = Some(AckView { by: "api:dora".into(), via: crate::model::Via::Api, until_ms: 1_700_003_600_000 });
        let m = message(&n).to_string();
        assert!(m.contains("Acknowledged by api:dora via api, until 2023-11-14T23:13:20.000Z"), "{m}");
        assert!(!m.contains(ACK_ACTION) && !m.contains(ACK_LINK_ACTION), "{m}");
        assert!(short_line(&n).contains("Acknowledged by api:dora"), "{}", short_line(&n));
        let u = message(&notification(Kind::Unacked)).to_string();
        assert!(u.contains(ACK_ACTION) && !u.contains("Acknowledged by"), "button back: {u}");
        assert!(is_update_only(Kind::Unacked) && !is_update_only(Kind::Page));
    }

    #[test]
    fn ids_and_receipts() {
        assert!(is_slack_id("C0123ABCD") && is_slack_id("U024BE7LH"));
        assert!(!is_slack_id("ops-l1") && !is_slack_id("#ops") && !is_slack_id("@dora") && !is_slack_id("C1"));
        assert_eq!(parse_receipt("slack:C1:1700.0001"), Some(("C1", "1700.0001")));
        assert_eq!(parse_receipt("webhook ops: ok"), None);
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hook"), "https://hooks.slack.com/services/T0/B0/SEKRIT\n").unwrap();
        std::fs::write(dir.path().join("bot"), "xoxb-SEKRIT2\n").unwrap();
        let c: Config =
            serde_yaml::from_str("webhooks: [{name: ops, url: {file: hook}}]\nbot_token: {file: bot}\n").unwrap();
        let s = Settings::from_config(&c, dir.path()).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("SEKRIT"), "{shown}");
        assert!(s.check_address("ops").is_ok() && s.check_address("C0123ABCD").is_ok());
        assert!(s.check_address("@dora").unwrap_err().contains("neither"));
    }
}
