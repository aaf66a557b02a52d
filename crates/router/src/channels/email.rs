//! The email channel: SMTP through `lettre` (rustls), plain, STARTTLS or implicit TLS, with
//! optional AUTH. Each message is text + HTML: the summary, the alerts with their labels, the
//! links (generator, runbook, dashboard, Alertmanager) and the incident's state.
//!
//! Outcome mapping: SMTP 5xx is a [`SendError::Reject`]; 4xx, connection and TLS failures and
//! timeouts are [`SendError::Retry`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use vigie_kit::{BoxFuture, Secret};

use vigie_kit::config::{Dur, FieldError, SecretRef};

use super::{Channel, ChannelSettings, Receipt, SendCx, SendError};
use crate::model::{AlertView, ChannelKind, Kind, Notification};

mod direct;

/// `email:` in the config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `host:port` of the SMTP server.
    pub smarthost: String,
    /// Sender address.
    pub from: String,
    /// `starttls` (default), `tls` (implicit, port 465) or `none`.
    #[serde(default)]
    pub tls: TlsMode,
    /// EHLO name (default: this host's name).
    #[serde(default)]
    pub hello: Option<String>,
    /// AUTH user.
    #[serde(default)]
    pub username: Option<String>,
    /// AUTH password.
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// Extra CA certificate (PEM) to trust, e.g. a private relay's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name to verify the server certificate against (default: the smarthost's host).
    #[serde(default)]
    pub server_name: Option<String>,
    /// Per-connection timeout (default 10s).
    #[serde(default)]
    pub timeout: Option<Dur>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// STARTTLS, required.
    #[default]
    Starttls,
    /// Implicit TLS (SMTPS).
    Tls,
    /// No TLS: only for a relay on loopback.
    None,
}

/// The checked email settings.
#[derive(Clone)]
pub struct Settings {
    // The builder, not the transport: with lettre's connection pool, building spawns a task,
    // which needs the runtime that `check-config` does not start.
    builder: AsyncSmtpTransportBuilder,
    /// Plain and STARTTLS: our own connections, with `TCP_NODELAY` (see `direct`).
    direct: Option<direct::Direct>,
    from: Mailbox,
    /// `host:port`, for logs.
    pub smarthost: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings").field("smarthost", &self.smarthost).field("from", &self.from).finish()
    }
}

impl ChannelSettings for Settings {
    type File = Config;

    fn from_config(c: &Config, base: &Path) -> Result<Settings, FieldError> {
        Settings::check(c, base).map_err(|(field, msg)| FieldError::new(field, msg))
    }
}

impl Settings {
    /// Checks the config and builds the transport; an error names the field.
    fn check(c: &Config, base: &Path) -> Result<Settings, (&'static str, String)> {
        let (host, port) = c
            .smarthost
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
            .ok_or(("smarthost", format!("expected host:port, got {:?}", c.smarthost)))?;
        let from: Mailbox = c.from.parse().map_err(|e| ("from", format!("invalid address {:?}: {e}", c.from)))?;
        let name = c.server_name.clone().unwrap_or_else(|| host.to_owned());
        let timeout = c.timeout.map_or(Duration::from_secs(10), |d| d.0);
        let mut direct = direct::Direct {
            host: host.to_owned(),
            port,
            starttls: None,
            hello: c.hello.clone().map_or_else(ClientId::default, ClientId::Domain),
            credentials: None,
            timeout,
        };
        let tls = match c.tls {
            TlsMode::None => Tls::None,
            mode => {
                let mut b = TlsParameters::builder(name);
                if let Some(ca) = &c.ca_file {
                    let p = if ca.is_absolute() { ca.clone() } else { base.join(ca) };
                    let pem = std::fs::read(&p).map_err(|e| ("ca_file", format!("{}: {e}", p.display())))?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| ("ca_file", format!("{}: {e}", p.display())))?;
                    b = b.add_root_certificate(cert);
                }
                let params = b.build_rustls().map_err(|e| ("tls", e.to_string()))?;
                if mode == TlsMode::Tls {
                    Tls::Wrapper(params)
                } else {
                    direct.starttls = Some(params.clone());
                    Tls::Required(params)
                }
            }
        };
        let mut t =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(tls).timeout(Some(timeout));
        if let Some(h) = &c.hello {
            t = t.hello_name(ClientId::Domain(h.clone()));
        }
        match (&c.username, &c.password) {
            (Some(u), Some(p)) => {
                let pw: Secret = p.resolve(base).map_err(|m| ("password", m))?;
                let cred = Credentials::new(u.clone(), pw.expose().to_owned());
                direct.credentials = Some(cred.clone());
                t = t.credentials(cred);
            }
            (None, None) => {}
            _ => return Err(("username", "give both username and password, or neither".into())),
        }
        let direct = (c.tls != TlsMode::Tls).then_some(direct);
        Ok(Settings { builder: t, direct, from, smarthost: c.smarthost.clone() })
    }
}

/// The channel.
pub struct Email {
    settings: Settings,
    transport: Transport,
}

enum Transport {
    /// Implicit TLS: lettre's pool.
    Lettre(AsyncSmtpTransport<Tokio1Executor>),
    /// Plain or STARTTLS.
    Direct(direct::Pool),
}

impl Email {
    /// From checked settings; call inside the Tokio runtime (the connection pool is a task).
    pub fn new(settings: Settings) -> Email {
        let transport = match &settings.direct {
            Some(d) => Transport::Direct(direct::Pool::new(d.clone())),
            None => Transport::Lettre(settings.builder.clone().build()),
        };
        Email { settings, transport }
    }

    fn message(&self, n: &Notification) -> Result<Message, SendError> {
        let to: Mailbox =
            n.address.parse().map_err(|e| SendError::Reject(format!("invalid address {:?}: {e}", n.address)))?;
        Message::builder()
            .from(self.settings.from.clone())
            .to(to)
            .subject(n.subject())
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text(n)))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html(n))),
            )
            .map_err(|e| SendError::Reject(format!("cannot build message: {e}")))
    }
}

impl Channel for Email {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn send<'a>(&'a self, n: &'a Notification, _: &'a SendCx<'a>) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let msg = self.message(n)?;
            let sent = match &self.transport {
                Transport::Lettre(t) => t.send(msg).await.map_err(direct::DirectError::Smtp),
                Transport::Direct(p) => p.send(msg.envelope(), &msg.formatted()).await,
            };
            match sent {
                Ok(resp) => Ok(Receipt(format!("{} {}", resp.code(), resp.message().collect::<Vec<_>>().join(" ")))),
                Err(direct::DirectError::Smtp(e)) if e.is_permanent() => Err(SendError::Reject(e.to_string())),
                Err(e) => Err(SendError::Retry { after: None, reason: e.to_string() }),
            }
        })
    }
}

/// `Incident #42 firing since …; 1 of 2 alerts firing; paged up to level 1 (policy p).`
pub(crate) fn state_line(n: &Notification) -> String {
    let since = vigie_kit::log::rfc3339_millis(ms_to_time(n.started_at_ms));
    match (n.kind, n.resolved_at_ms) {
        (Kind::Resolved, Some(end)) => format!(
            "Incident #{} resolved at {} (open since {since}, levels paged: 1..{}).",
            n.incident,
            vigie_kit::log::rfc3339_millis(ms_to_time(end)),
            n.level
        ),
        _ => format!(
            "Incident #{} firing since {since}; {} of {} alerts firing; paged up to level {} (policy {}).",
            n.incident,
            n.firing(),
            n.alerts.len(),
            n.level,
            n.policy
        ),
    }
}

pub(crate) fn ms_to_time(ms: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Annotations shown as links, with their names.
const LINKS: [(&str, &str); 2] = [("runbook_url", "Runbook"), ("dashboard_url", "Dashboard")];

/// An alert's links as (name, URL), in the order every channel shows them: its source
/// (`generatorURL`), then the [`LINKS`] annotations it has.
pub(crate) fn alert_links(a: &AlertView) -> Vec<(&'static str, &str)> {
    let mut links = Vec::new();
    if !a.generator_url.is_empty() {
        links.push(("Source", a.generator_url.as_str()));
    }
    for (k, name) in LINKS {
        if let Some(u) = a.annotations.get(k) {
            links.push((name, u.as_str()));
        }
    }
    links
}

/// The plain-text body.
pub fn text(n: &Notification) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}\n", n.subject());
    if let Some(note) = &n.note {
        let _ = writeln!(s, "{note}\n");
    }
    let _ = writeln!(s, "{}\n", state_line(n));
    if let Some(u) = &n.ack_url {
        let _ = writeln!(s, "Acknowledge (stops the escalation): {u}\n");
    }
    for a in &n.alerts {
        let summary = a.annotations.get("summary").map(String::as_str).unwrap_or("");
        let _ = writeln!(s, "* [{}] {summary}", a.status.as_str().to_uppercase());
        if let Some(d) = a.annotations.get("description") {
            let _ = writeln!(s, "  {d}");
        }
        let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(s, "  Labels: {}", labels.join(", "));
        let _ = writeln!(s, "  Since: {}", a.starts_at);
        for (name, u) in alert_links(a) {
            let _ = writeln!(s, "  {name}: {u}");
        }
    }
    if !n.external_url.is_empty() {
        let _ = writeln!(s, "\nAlertmanager: {}", n.external_url);
    }
    let _ = writeln!(s, "Group: {} (receiver {})", n.group_key, n.receiver);
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn link(url: &str, name: &str) -> String {
    // Only http(s) links become anchors; anything else is shown as text.
    if url.starts_with("http://") || url.starts_with("https://") {
        format!("<a href=\"{}\">{}</a>", esc(url), esc(name))
    } else {
        esc(url)
    }
}

/// The HTML body.
pub fn html(n: &Notification) -> String {
    let colour = if n.kind == Kind::Resolved { "#2e7d32" } else { "#c62828" };
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h2 style=\"color:{colour}\">{}</h2>",
        esc(&n.subject())
    );
    if let Some(note) = &n.note {
        let _ = write!(s, "<p><strong>{}</strong></p>", esc(note));
    }
    let _ = write!(s, "<p>{}</p>", esc(&state_line(n)));
    if let Some(u) = &n.ack_url {
        let _ = write!(s, "<p>{} (stops the escalation)</p>", link(u, "Acknowledge"));
    }
    s.push_str("<ul>");
    for a in &n.alerts {
        let summary = a.annotations.get("summary").map(String::as_str).unwrap_or("");
        let _ = write!(s, "<li><strong>[{}]</strong> {}", esc(&a.status.as_str().to_uppercase()), esc(summary));
        if let Some(d) = a.annotations.get("description") {
            let _ = write!(s, "<br>{}", esc(d));
        }
        let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{}={}", esc(k), esc(v))).collect();
        let _ = write!(s, "<br><code>{}</code><br>Since {}", labels.join(", "), esc(&a.starts_at));
        let links: Vec<String> = alert_links(a).into_iter().map(|(name, u)| link(u, name)).collect();
        if !links.is_empty() {
            let _ = write!(s, "<br>{}", links.join(" · "));
        }
        s.push_str("</li>");
    }
    s.push_str("</ul>");
    if !n.external_url.is_empty() {
        let _ = write!(s, "<p>{}</p>", link(&n.external_url, "Alertmanager"));
    }
    let _ =
        write!(s, "<p><small>Group {} (receiver {})</small></p></body></html>", esc(&n.group_key), esc(&n.receiver));
    s
}
