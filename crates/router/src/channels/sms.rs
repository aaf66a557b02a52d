//! The SMS channel: Twilio's Messages API, or any HTTP SMS gateway through a request template.
//!
//! Twilio: `POST {api_url}/2010-04-01/Accounts/{SID}/Messages.json`, a form with `To`, `From`
//! (or `MessagingServiceSid`) and `Body`, HTTP basic auth `SID:token`; `201` carries the
//! message `sid` (the receipt). Errors carry Twilio's JSON `code` and `message`: HTTP 429 and
//! code 20429 ("too many concurrent requests", never processed) and 5xx are retried, honouring
//! `Retry-After`; other errors (21211 invalid `To`, 21610 recipient opted out, 20003 bad
//! credentials…) are rejected with Twilio's code and message.
//!
//! Gateway: a method, a URL, headers and a body template with `{{to}}`, `{{text}}`,
//! `{{incident}}` and `{{secret}}` (the gateway's key, read from a file or the environment).
//! Values are percent-encoded in the URL and in form bodies, JSON-escaped in JSON bodies.
//!
//! Every message fits two segments (see [`fit`]): the summary is shortened, the ack code
//! (`ACK 42`) and the signed ack link are never cut.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vigie_kit::{BoxFuture, Secret};

use super::http::{form, url_encode, Client, Response, Url};
use vigie_kit::config::{Dur, FieldError, SecretRef};

use super::{Channel, ChannelSettings, Receipt, SendCx, SendError};
use crate::model::{ChannelKind, Kind, Notification, Status};

/// `sms:` in the config: exactly one of `twilio` and `gateway`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Twilio's Messages API.
    #[serde(default)]
    pub twilio: Option<TwilioFile>,
    /// A generic HTTP gateway.
    #[serde(default)]
    pub gateway: Option<GatewayFile>,
    /// Per request (default 10s).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// `sms.twilio`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioFile {
    /// `AC…`.
    pub account_sid: String,
    /// The auth token (or an API key secret): a secret.
    pub auth_token: SecretRef,
    /// Sender number (E.164).
    #[serde(default)]
    pub from: Option<String>,
    /// Or a Messaging Service (`MG…`).
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// API base (default `https://api.twilio.com`).
    #[serde(default)]
    pub api_url: Option<String>,
}

/// `sms.gateway`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// `POST` (default), `GET`, `PUT`.
    #[serde(default)]
    pub method: Option<String>,
    /// URL template; values are percent-encoded.
    pub url: String,
    /// Header templates (e.g. `Authorization: "Bearer {{secret}}"`).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Body template; empty for none.
    #[serde(default)]
    pub body: String,
    /// `Content-Type` of the body (default `application/json`); decides the escaping:
    /// JSON-escaped for `…json`, percent-encoded for `…x-www-form-urlencoded`, as is otherwise.
    #[serde(default)]
    pub content_type: Option<String>,
    /// What `{{secret}}` stands for.
    #[serde(default)]
    pub secret: Option<SecretRef>,
    /// Statuses meaning "accepted" (default 200, 201, 202, 204).
    #[serde(default)]
    pub success: Vec<u16>,
}

#[derive(Clone)]
enum Provider {
    Twilio { sid: String, token: Secret, sender: (&'static str, String), url: Url },
    Gateway(Gateway),
}

#[derive(Clone)]
struct Gateway {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
    content_type: String,
    secret: Option<Secret>,
    success: Vec<u16>,
}

/// The checked SMS settings. `Debug` never shows the token, the secret or the gateway URL.
#[derive(Clone)]
pub struct Settings {
    provider: Provider,
    client: Client,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = match &self.provider {
            Provider::Twilio { sid, .. } => format!("twilio {sid}"),
            Provider::Gateway(_) => "gateway".to_owned(),
        };
        f.debug_struct("Settings").field("provider", &p).finish()
    }
}

/// `+` and 7 to 15 digits.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'))
}

impl ChannelSettings for Settings {
    type File = Config;

    fn from_config(c: &Config, base: &Path) -> Result<Settings, FieldError> {
        Settings::check(c, base).map_err(|(field, msg)| FieldError::new(field, msg))
    }
}

impl Settings {
    /// Checks the config, reads the secrets; an error names the field under `sms.`.
    fn check(c: &Config, base: &Path) -> Result<Settings, (String, String)> {
        let e = |f: &str, m: String| (f.to_owned(), m);
        let provider = match (&c.twilio, &c.gateway) {
            (Some(t), None) => {
                if !(t.account_sid.starts_with("AC")
                    && t.account_sid.len() > 2
                    && t.account_sid.bytes().all(|b| b.is_ascii_alphanumeric()))
                {
                    return Err(e("twilio.account_sid", "expected AC followed by letters and digits".into()));
                }
                let token = t.auth_token.resolve(base).map_err(|m| e("twilio.auth_token", m))?;
                let sender = match (&t.from, &t.messaging_service_sid) {
                    (Some(f), None) if is_e164(f) => ("From", f.clone()),
                    (Some(f), None) => {
                        return Err(e("twilio.from", format!("{f:?} is not an E.164 number (+33612345678)")))
                    }
                    (None, Some(m)) if m.starts_with("MG") => ("MessagingServiceSid", m.clone()),
                    (None, Some(m)) => {
                        return Err(e("twilio.messaging_service_sid", format!("{m:?} does not start with MG")))
                    }
                    _ => return Err(e("twilio", "give exactly one of `from` and `messaging_service_sid`".into())),
                };
                let api = Url::parse(t.api_url.as_deref().unwrap_or("https://api.twilio.com"))
                    .map_err(|m| e("twilio.api_url", m))?;
                let url = api.join(&format!("2010-04-01/Accounts/{}/Messages.json", t.account_sid));
                Provider::Twilio { sid: t.account_sid.clone(), token, sender, url }
            }
            (None, Some(g)) => {
                let method = g.method.clone().unwrap_or_else(|| "POST".into()).to_ascii_uppercase();
                if !matches!(method.as_str(), "GET" | "POST" | "PUT") {
                    return Err(e("gateway.method", format!("{method:?}: use GET, POST or PUT")));
                }
                // Check the URL with sample values.
                Url::parse(&render(&g.url, Esc::Url, &sample())).map_err(|m| e("gateway.url", m))?;
                if !g.url.contains("{{to}}") && !g.body.contains("{{to}}") {
                    return Err(e("gateway", "neither `url` nor `body` has {{to}}".into()));
                }
                if !g.url.contains("{{text}}") && !g.body.contains("{{text}}") {
                    return Err(e("gateway", "neither `url` nor `body` has {{text}}".into()));
                }
                let secret = match &g.secret {
                    Some(s) => Some(s.resolve(base).map_err(|m| e("gateway.secret", m))?),
                    None => None,
                };
                let uses_secret = g.url.contains("{{secret}}")
                    || g.body.contains("{{secret}}")
                    || g.headers.values().any(|v| v.contains("{{secret}}"));
                if uses_secret && secret.is_none() {
                    return Err(e("gateway.secret", "{{secret}} is used but `secret` is not given".into()));
                }
                let mut success = g.success.clone();
                if success.is_empty() {
                    success = vec![200, 201, 202, 204];
                }
                if let Some(bad) = success.iter().find(|s| !(200..=299).contains(*s)) {
                    return Err(e("gateway.success", format!("{bad} is not a 2xx status")));
                }
                Provider::Gateway(Gateway {
                    method,
                    url: g.url.clone(),
                    headers: g.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    body: g.body.clone(),
                    content_type: g.content_type.clone().unwrap_or_else(|| "application/json".into()),
                    secret,
                    success,
                })
            }
            _ => return Err(e("", "give exactly one of `twilio` and `gateway`".into())),
        };
        let client = Client::from_config(c.ca_file.as_deref(), c.timeout, base).map_err(|m| e("ca_file", m))?;
        Ok(Settings { provider, client })
    }
}

/// The channel.
pub struct Sms {
    settings: Settings,
}

impl Sms {
    /// From checked settings.
    pub fn new(settings: Settings) -> Sms {
        Sms { settings }
    }
}

impl Channel for Sms {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn send<'a>(&'a self, n: &'a Notification, _: &'a SendCx<'a>) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            if !is_e164(&n.address) {
                return Err(SendError::Reject(format!("{:?} is not an E.164 phone number", n.address)));
            }
            let body = text(n);
            match &self.settings.provider {
                Provider::Twilio { token, sender, url, sid } => {
                    let auth = vigie_kit::web_config::base64_encode(format!("{sid}:{}", token.expose()).as_bytes());
                    let headers = [
                        ("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned()),
                        ("Accept".to_owned(), "application/json".to_owned()),
                        ("Authorization".to_owned(), format!("Basic {auth}")),
                    ];
                    let f = form(&[("To", &n.address), (sender.0, &sender.1), ("Body", &body)]);
                    let r = self.settings.client.send("POST", url, &headers, f.into_bytes()).await?;
                    twilio_outcome(&r)
                }
                Provider::Gateway(g) => {
                    let vars = Vars { to: &n.address, text: &body, incident: n.incident, secret: g.secret.as_ref() };
                    let url = Url::parse(&render(&g.url, Esc::Url, &vars))
                        .map_err(|m| SendError::Reject(format!("gateway URL: {m}")))?;
                    let esc = if g.content_type.contains("json") {
                        Esc::Json
                    } else if g.content_type.contains("x-www-form-urlencoded") {
                        Esc::Url
                    } else {
                        Esc::None
                    };
                    let mut headers: Vec<(String, String)> =
                        g.headers.iter().map(|(k, v)| (k.clone(), render(v, Esc::Header, &vars))).collect();
                    if !g.body.is_empty() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                        headers.push(("Content-Type".into(), g.content_type.clone()));
                    }
                    let body = render(&g.body, esc, &vars).into_bytes();
                    let r = self.settings.client.send(&g.method, &url, &headers, body).await?;
                    let redact = |s: String| match &g.secret {
                        Some(k) if !k.expose().is_empty() => s.replace(k.expose(), "<secret>"),
                        _ => s,
                    };
                    if g.success.contains(&r.status) {
                        Ok(Receipt(redact(format!("{} {}", r.status, r.snippet()))))
                    } else if r.status == 429 || r.status == 408 || r.status >= 500 {
                        Err(SendError::Retry {
                            after: r.retry_after,
                            reason: redact(format!("gateway: {} {}", r.status, r.snippet())),
                        })
                    } else {
                        Err(SendError::Reject(redact(format!("gateway: {} {}", r.status, r.snippet()))))
                    }
                }
            }
        })
    }
}

fn twilio_outcome(r: &Response) -> Result<Receipt, SendError> {
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    if r.status == 200 || r.status == 201 {
        return match v["sid"].as_str() {
            Some(sid) => {
                Ok(Receipt(format!("twilio {sid} {}", v["status"].as_str().unwrap_or("")).trim_end().to_owned()))
            }
            None => Ok(Receipt(format!("twilio {}", r.status))),
        };
    }
    let code = v["code"].as_i64();
    let msg = v["message"].as_str().map(str::to_owned).unwrap_or_else(|| r.snippet());
    let reason = match code {
        Some(c) => format!("twilio {} {c}: {msg}", r.status),
        None => format!("twilio {}: {msg}", r.status),
    };
    if r.status == 429 || code == Some(20429) || r.status >= 500 {
        Err(SendError::Retry { after: r.retry_after, reason })
    } else {
        Err(SendError::Reject(reason))
    }
}

// ---- templates ----

struct Vars<'a> {
    to: &'a str,
    text: &'a str,
    incident: i64,
    secret: Option<&'a Secret>,
}

fn sample() -> Vars<'static> {
    Vars { to: "+15005550006", text: "ACK 1", incident: 1, secret: None }
}

#[derive(Clone, Copy)]
enum Esc {
    Url,
    Json,
    Header,
    None,
}

fn render(template: &str, esc: Esc, v: &Vars) -> String {
    let apply = |s: &str| match esc {
        Esc::Url => url_encode(s),
        Esc::Json => {
            let q = serde_json::to_string(s).unwrap_or_default();
            q[1..q.len().saturating_sub(1).max(1)].to_owned()
        }
        Esc::Header => s.replace(['\r', '\n'], " "),
        Esc::None => s.to_owned(),
    };
    template
        .replace("{{to}}", &apply(v.to))
        .replace("{{text}}", &apply(v.text))
        .replace("{{incident}}", &v.incident.to_string())
        .replace("{{secret}}", &apply(v.secret.map(Secret::expose).unwrap_or("")))
}

// ---- segments ----

/// GSM 03.38 basic characters (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM 03.38 extension characters (escape + one: two septets each).
const GSM_EXT: &str = "^{}\\[~]|€\u{0c}";

/// How an SMS is encoded and how long it is in that encoding's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GSM-7: 160 septets alone, 153 per part when split.
    Gsm7,
    /// UCS-2 (UTF-16 units): 70 alone, 67 per part.
    Ucs2,
}

/// Encoding, length in its units, and the number of segments.
pub fn segments(s: &str) -> (Encoding, usize, usize) {
    let mut septets = 0;
    let mut gsm = true;
    for c in s.chars() {
        if GSM_BASIC.contains(c) {
            septets += 1;
        } else if GSM_EXT.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (enc, units, single, part) =
        if gsm { (Encoding::Gsm7, septets, 160, 153) } else { (Encoding::Ucs2, s.encode_utf16().count(), 70, 67) };
    let n = if units <= single { 1 } else { units.div_ceil(part) };
    (enc, units, n)
}

/// Most segments a page may take.
pub const MAX_SEGMENTS: usize = 2;

/// Typographic characters that would force UCS-2, with GSM-7 stand-ins.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '‘' | '’' | '‚' | '′' => '\'',
            '“' | '”' | '„' | '″' => '"',
            '–' | '—' | '‐' | '−' => '-',
            '\u{a0}' | '\t' => ' ',
            c => c,
        })
        .collect::<String>()
        .replace('…', "...")
}

/// `head` + `body` + `tail` in at most [`MAX_SEGMENTS`] segments: `body` is shortened first,
/// then `head`; `tail` (the ack code and link) is kept whole.
pub fn fit(head: &str, body: &str, tail: &str) -> String {
    let join = |h: &str, b: &str| {
        let mut s = h.to_owned();
        if !b.is_empty() {
            s.push_str(if s.is_empty() { "" } else { " " });
            s.push_str(b);
        }
        if !tail.is_empty() {
            s.push_str(if s.is_empty() { "" } else { " " });
            s.push_str(tail);
        }
        s
    };
    let fits = |s: &str| segments(s).2 <= MAX_SEGMENTS;
    let full = join(head, body);
    if fits(&full) {
        return full;
    }
    // Longest prefix of `body` (whole characters) that fits, with "..." marking the cut.
    let shorten = |text: &str, other: &dyn Fn(&str) -> String| -> Option<String> {
        let chars: Vec<char> = text.chars().collect();
        let (mut lo, mut hi) = (0usize, chars.len());
        let make = |k: usize| {
            let t: String = chars[..k].iter().collect();
            if k == 0 {
                String::new()
            } else {
                format!("{}...", t.trim_end())
            }
        };
        if !fits(&other(&make(0))) {
            return None;
        }
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits(&other(&make(mid))) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Some(other(&make(lo)))
    };
    if let Some(s) = shorten(body, &|b| join(head, b)) {
        return s;
    }
    shorten(head, &|h| join(h, "")).unwrap_or_else(|| tail.to_owned())
}

/// The SMS text: `FIRING L2 #42 HighCPU web-1: summary… ACK 42 https://…`.
pub fn text(n: &Notification) -> String {
    let name = n
        .group_labels
        .get("alertname")
        .or_else(|| n.alerts.first().and_then(|a| a.labels.get("alertname")))
        .map(String::as_str)
        .unwrap_or("alert");
    let extra: Vec<&str> = n.group_labels.iter().filter(|(k, _)| *k != "alertname").map(|(_, v)| v.as_str()).collect();
    let what = if extra.is_empty() { name.to_owned() } else { format!("{name} {}", extra.join(" ")) };
    let state = match n.kind {
        Kind::Resolved => "RESOLVED".to_owned(),
        // Queued for Slack only; a readable text all the same.
        Kind::Acked => "ACKNOWLEDGED".to_owned(),
        Kind::Unacked => format!("FIRING L{} (ack ended)", n.level),
        Kind::NewAlerts => format!("NEW ALERTS L{}", n.level),
        Kind::Page if n.repeat => format!("FIRING L{} again", n.level),
        Kind::Page => format!("FIRING L{}", n.level),
    };
    let head = plain(&format!("{state} #{} {what}:", n.incident));
    let summaries: Vec<&str> = n
        .alerts
        .iter()
        .filter(|a| n.kind == Kind::Resolved || a.status == Status::Firing)
        .filter_map(|a| a.annotations.get("summary").map(String::as_str))
        .collect();
    let mut body = match summaries.len() {
        0 => String::new(),
        1 => summaries[0].to_owned(),
        k => format!("{} (+{} more)", summaries[0], k - 1),
    };
    if let Some(note) = &n.note {
        body = format!("{note}. {body}");
    }
    let body = plain(&body.replace(['\n', '\r'], " "));
    let tail = if n.kind == Kind::Resolved {
        String::new()
    } else {
        match &n.ack_url {
            Some(u) => format!("Reply {} or {u}", n.ack_code()),
            None => format!("Reply {}", n.ack_code()),
        }
    };
    fit(&head, &body, &tail)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn segment_math() {
        assert_eq!(segments(&"a".repeat(160)), (Encoding::Gsm7, 160, 1));
        assert_eq!(segments(&"a".repeat(161)), (Encoding::Gsm7, 161, 2));
        assert_eq!(segments(&"a".repeat(306)), (Encoding::Gsm7, 306, 2));
        assert_eq!(segments(&"a".repeat(307)), (Encoding::Gsm7, 307, 3));
        // Extension characters take two septets.
        assert_eq!(segments(&"{".repeat(80)), (Encoding::Gsm7, 160, 1));
        assert_eq!(segments(&format!("{}€", "a".repeat(159))), (Encoding::Gsm7, 161, 2));
        // One non-GSM character switches the whole message to UCS-2.
        assert_eq!(segments(&format!("{}ł", "a".repeat(69))), (Encoding::Ucs2, 70, 1));
        assert_eq!(segments(&format!("{}ł", "a".repeat(70))), (Encoding::Ucs2, 71, 2));
        assert_eq!(segments(&format!("{}ł", "a".repeat(133))), (Encoding::Ucs2, 134, 2));
        assert_eq!(segments(&format!("{}ł", "a".repeat(134))), (Encoding::Ucs2, 135, 3));
        // Outside the BMP: two UTF-16 units.
        assert_eq!(segments("🔥").1, 2);
        assert_eq!(segments("").2, 1);
    }

    #[test]
    fn fit_keeps_the_tail_whole() {
        let tail = "Reply ACK 42 or https://r.example/ack/42?t=abcdef";
        let s = fit("FIRING L1 #42 HighCPU:", &"x".repeat(1000), tail);
        assert!(s.ends_with(tail) && s.contains("...") && s.starts_with("FIRING L1 #42"), "{s}");
        assert_eq!(segments(&s).2, 2);
        assert!(segments(&format!("{s}x")).2 > 2, "as long as two segments allow: {}", s.len());
        // UCS-2 summary: 134 units at most.
        let s = fit("FIRING L1 #42 Disk:", &"żółw ".repeat(100), "Reply ACK 42");
        assert!(s.ends_with("Reply ACK 42"), "{s}");
        assert_eq!(segments(&s).0, Encoding::Ucs2);
        assert!(segments(&s).1 <= 134, "{s}");
        // A short message is untouched.
        assert_eq!(fit("a:", "b", "ACK 1"), "a: b ACK 1");
        // A huge head is cut too; the tail survives.
        let s = fit(&"h".repeat(500), "body", "ACK 7");
        assert!(s.ends_with("ACK 7") && segments(&s).2 <= 2, "{s}");
    }

    #[test]
    fn typographic_characters_stay_gsm() {
        assert_eq!(plain("CPU “high” – it’s…"), "CPU \"high\" - it's...");
        assert_eq!(segments(&plain("CPU “high” – it’s…")).0, Encoding::Gsm7);
    }

    #[test]
    fn templates() {
        let s = Secret::new("k&y");
        let v = Vars { to: "+33 6", text: "a \"b\"\nc&d", incident: 4, secret: Some(&s) };
        assert_eq!(
            render("https://g/?to={{to}}&m={{text}}&key={{secret}}", Esc::Url, &v),
            "https://g/?to=%2B33%206&m=a%20%22b%22%0Ac%26d&key=k%26y"
        );
        assert_eq!(
            render(r#"{"to":"{{to}}","text":"{{text}}","id":{{incident}}}"#, Esc::Json, &v),
            r#"{"to":"+33 6","text":"a \"b\"\nc&d","id":4}"#
        );
        assert_eq!(render("Bearer {{secret}} {{text}}", Esc::Header, &v), "Bearer k&y a \"b\" c&d");
    }

    #[test]
    fn twilio_errors() {
        let r = |status, body: &str| Response { status, retry_after: Some(Duration::from_secs(3)), body: body.into() };
        let ok = twilio_outcome(&r(201, r#"{"sid":"SM123","status":"queued"}"#)).unwrap();
        assert_eq!(ok.0, "twilio SM123 queued");
        match twilio_outcome(&r(400, r#"{"code":21211,"message":"The 'To' number is not valid.","status":400}"#)) {
            Err(SendError::Reject(m)) => assert!(m.contains("21211") && m.contains("not valid"), "{m}"),
            o => panic!("{o:?}"),
        }
        match twilio_outcome(&r(429, r#"{"code":20429,"message":"Too Many Requests"}"#)) {
            Err(SendError::Retry { after, reason }) => {
                assert_eq!(after, Some(Duration::from_secs(3)));
                assert!(reason.contains("20429"));
            }
            o => panic!("{o:?}"),
        }
        assert!(matches!(twilio_outcome(&r(503, "down")), Err(SendError::Retry { .. })));
        assert!(matches!(twilio_outcome(&r(401, r#"{"code":20003}"#)), Err(SendError::Reject(_))));
    }

    #[test]
    fn texts_carry_the_ack_code() {
        use crate::model::tests::notification;
        let mut n = notification(Kind::Page);
        assert_eq!(
            text(&n),
            "FIRING L2 #42 HighCPU warning: CPU > 80% Reply ACK 42 or https://router.example/ack?t=abc"
        );
        n.alerts[0].annotations.insert("summary".into(), "disk żółw ".repeat(40));
        let t = text(&n);
        assert!(t.ends_with("Reply ACK 42 or https://router.example/ack?t=abc") && segments(&t).2 <= 2, "{t}");
        n.ack_url = None;
        n.alerts[0].annotations.insert("summary".into(), "x".repeat(400));
        let t = text(&n);
        assert!(t.ends_with("Reply ACK 42") && segments(&t).2 == 2, "{t}");
        let r = text(&notification(Kind::Resolved));
        assert_eq!(r, "RESOLVED #42 HighCPU warning: CPU > 80%");
    }

    #[test]
    fn numbers() {
        assert!(is_e164("+33612345678") && is_e164("+15005550006"));
        assert!(!is_e164("0612345678") && !is_e164("+33 6 12") && !is_e164("+0123456789"));
    }
}
