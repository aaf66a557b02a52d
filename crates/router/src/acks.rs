//! The signatures behind acknowledgements, all HMAC through `ring` (already linked for TLS):
//!
//! - **signed links** put in every notification: HMAC-SHA256, keyed with `acks.secret`, over
//!   `link:{incident}:{action}:{expiry}`; no login, valid until `expiry` (Unix seconds);
//! - **web sessions** (the `/ui` cookie) and their CSRF tokens, signed with the same key;
//! - **Slack** interactivity requests: `X-Slack-Signature: v0=hex(HMAC-SHA256(signing
//!   secret, "v0:{X-Slack-Request-Timestamp}:{body}"))`, refused when the timestamp is more
//!   than 5 minutes away from now (replays);
//! - **Twilio** webhooks: `X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + each POST
//!   parameter's name and value, sorted by name))`;
//! - the SMS reply `ACK 42` (any case, any spacing).
//!
//! Every comparison is constant-time (`ring::hmac::verify`).

use ring::hmac;

/// What a signed link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Acknowledge.
    Ack,
    /// Resolve (close by hand).
    Resolve,
}

impl Action {
    /// Its name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Ack => "ack",
            Action::Resolve => "resolve",
        }
    }

    /// From its name in URLs.
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "ack" => Some(Action::Ack),
            "resolve" => Some(Action::Resolve),
            _ => None,
        }
    }
}

/// A signed link's fields.
#[derive(Debug, Clone)]
pub struct Link {
    /// Incident.
    pub incident: i64,
    /// What it does.
    pub action: Action,
    /// Whom it was sent to (recorded as the actor).
    pub contact: String,
    /// Unix seconds.
    pub expiry: i64,
    /// Hex HMAC.
    pub sig: String,
}

impl Link {
    /// From form or query pairs (`a`, `c`, `e`, `s`).
    pub fn from_pairs(incident: i64, pairs: &[(String, String)]) -> Option<Link> {
        Some(Link {
            incident,
            action: Action::parse(field(pairs, "a")?)?,
            contact: field(pairs, "c").unwrap_or("").to_owned(),
            expiry: field(pairs, "e")?.parse().ok()?,
            sig: field(pairs, "s")?.to_owned(),
        })
    }
}

fn link_msg(incident: i64, action: Action, contact: &str, expiry: i64) -> String {
    // The contact goes last: it is the only free text, so it cannot shift the other fields.
    format!("link:{incident}:{}:{expiry}:{contact}", action.as_str())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// The key of links and sessions.
#[derive(Clone)]
pub struct Signer {
    key: hmac::Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

impl Signer {
    /// A signer keyed with `secret`.
    pub fn new(secret: &[u8]) -> Signer {
        Signer { key: hmac::Key::new(hmac::HMAC_SHA256, secret) }
    }

    fn sign(&self, msg: &str) -> String {
        hex(hmac::sign(&self.key, msg.as_bytes()).as_ref())
    }

    fn verify(&self, msg: &str, sig_hex: &str) -> bool {
        unhex(sig_hex).is_some_and(|sig| hmac::verify(&self.key, msg.as_bytes(), &sig).is_ok())
    }

    /// The query string of a link for `contact`: `a=ack&c=CONTACT&e=EXPIRY&s=SIG`.
    pub fn link_query(&self, incident: i64, action: Action, contact: &str, expiry_unix: i64) -> String {
        let sig = self.sign(&link_msg(incident, action, contact, expiry_unix));
        let c: String = form_urlencoded::byte_serialize(contact.as_bytes()).collect();
        format!("a={}&c={c}&e={expiry_unix}&s={sig}", action.as_str())
    }

    /// Whether a link's signature is right and it has not expired at `now_unix`.
    pub fn check_link(&self, l: &Link, now_unix: i64) -> bool {
        now_unix <= l.expiry && self.verify(&link_msg(l.incident, l.action, &l.contact, l.expiry), &l.sig)
    }

    /// A session cookie value valid until `expiry_unix`: `EXPIRY.SIG`.
    pub fn session(&self, expiry_unix: i64) -> String {
        format!("{expiry_unix}.{}", self.sign(&format!("session:{expiry_unix}")))
    }

    /// Whether a session cookie value is ours and current.
    pub fn check_session(&self, value: &str, now_unix: i64) -> bool {
        let Some((exp, sig)) = value.split_once('.') else { return false };
        let Ok(exp_n) = exp.parse::<i64>() else { return false };
        now_unix <= exp_n && self.verify(&format!("session:{exp_n}"), sig)
    }

    /// The CSRF token bound to a session (a form must carry it; another site cannot read it).
    pub fn csrf(&self, session: &str) -> String {
        self.sign(&format!("csrf:{session}"))
    }

    /// Whether `token` is the CSRF token of `session`.
    pub fn check_csrf(&self, session: &str, token: &str) -> bool {
        self.verify(&format!("csrf:{session}"), token)
    }
}

/// Slack refuses requests older than this; so do we.
pub const SLACK_MAX_SKEW_SECS: i64 = 300;

/// Checks Slack's request signature (`X-Slack-Signature`, `X-Slack-Request-Timestamp`).
pub fn slack_ok(secret: &[u8], timestamp: &str, signature: &str, body: &[u8], now_unix: i64) -> Result<(), String> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| "X-Slack-Request-Timestamp is not a number".to_owned())?;
    if (now_unix - ts).abs() > SLACK_MAX_SKEW_SECS {
        return Err("X-Slack-Request-Timestamp is more than 5 minutes away (replay?)".into());
    }
    let sig = signature.strip_prefix("v0=").ok_or("X-Slack-Signature is not v0=…")?;
    let sig = unhex(sig).ok_or("X-Slack-Signature is not hex")?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut msg = format!("v0:{ts}:").into_bytes();
    msg.extend_from_slice(body);
    hmac::verify(&key, &msg, &sig).map_err(|_| "X-Slack-Signature does not match".to_owned())
}

/// Slack's signature of `body` at `ts` (tests and documentation).
pub fn slack_sign(secret: &[u8], ts: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut msg = format!("v0:{ts}:").into_bytes();
    msg.extend_from_slice(body);
    format!("v0={}", hex(hmac::sign(&key, &msg).as_ref()))
}

/// Twilio's signature of a form POST to `url` with `params`.
pub fn twilio_sign(token: &[u8], url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut msg = url.to_owned();
    for (k, v) in sorted {
        msg.push_str(k);
        msg.push_str(v);
    }
    // Twilio signs with SHA-1; ring names it "for legacy use only", which this is.
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, token);
    vigie_kit::web_config::base64_encode(hmac::sign(&key, msg.as_bytes()).as_ref())
}

/// Checks `X-Twilio-Signature` in constant time.
pub fn twilio_ok(token: &[u8], url: &str, params: &[(String, String)], signature: &str) -> bool {
    let want = twilio_sign(token, url, params);
    // Compare two HMACs of the values under a throwaway key: constant-time for equal lengths,
    // and the lengths are public (base64 of 20 bytes).
    let k = hmac::Key::new(hmac::HMAC_SHA256, b"compare");
    hmac::verify(&k, want.as_bytes(), hmac::sign(&k, signature.trim().as_bytes()).as_ref()).is_ok()
}

/// The incident in an SMS reply: `ACK 42`, `ack42`, ` Ack  #42 ` → 42.
pub fn parse_ack_reply(text: &str) -> Option<i64> {
    let t = text.trim();
    let rest = t.get(..3).filter(|p| p.eq_ignore_ascii_case("ack")).map(|_| &t[3..])?;
    let rest = rest.trim_start().trim_start_matches('#').trim();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !rest[digits.len()..].trim().is_empty() {
        return None;
    }
    digits.parse().ok()
}

/// `application/x-www-form-urlencoded` pairs.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of `name` in form pairs.
pub fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_sign_and_expire() {
        let s = Signer::new(b"0123456789abcdef0123456789abcdef");
        let q = s.link_query(42, Action::Ack, "alice b", 1000);
        assert!(q.starts_with("a=ack&c=alice+b&e=1000&s="), "{q}");
        let l = Link::from_pairs(42, &form(q.as_bytes())).unwrap();
        assert_eq!(l.contact, "alice b");
        assert!(s.check_link(&l, 999));
        assert!(s.check_link(&l, 1000));
        assert!(!s.check_link(&l, 1001), "expired");
        assert!(!s.check_link(&Link { incident: 43, ..l.clone() }, 999), "other incident");
        assert!(!s.check_link(&Link { action: Action::Resolve, ..l.clone() }, 999), "other action");
        assert!(!s.check_link(&Link { expiry: 2000, ..l.clone() }, 999), "expiry moved");
        assert!(!s.check_link(&Link { contact: "mallory".into(), ..l.clone() }, 999), "other contact");
        assert!(!s.check_link(&Link { sig: "zz".into(), ..l.clone() }, 999));
        let other = Signer::new(b"another key, another key, another");
        assert!(!other.check_link(&l, 999));
    }

    #[test]
    fn sessions_and_csrf() {
        let s = Signer::new(b"k");
        let v = s.session(100);
        assert!(s.check_session(&v, 50));
        assert!(!s.check_session(&v, 101));
        assert!(!s.check_session(&v.replace("100.", "200."), 50));
        let t = s.csrf(&v);
        assert!(s.check_csrf(&v, &t));
        assert!(!s.check_csrf(&s.session(99), &t));
    }

    #[test]
    fn slack_signature() {
        // Slack's documented example: secret 8f742231b10e8888abcd99yyyzzz85a5, timestamp
        // 1531420618 and the slash-command body below give this signature.
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let secret = b"8f742231b10e8888abcd99yyyzzz85a5";
        let sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(slack_sign(secret, 1531420618, body), sig);
        assert!(slack_ok(secret, "1531420618", sig, body, 1531420618 + 10).is_ok());
        assert!(slack_ok(secret, "1531420618", sig, body, 1531420618 + 301).is_err(), "stale");
        assert!(slack_ok(secret, "1531420619", sig, body, 1531420618).is_err(), "timestamp changed");
        assert!(slack_ok(b"other", "1531420618", sig, body, 1531420618).is_err());
        assert!(slack_ok(secret, "1531420618", &sig.replace("v0=", "v1="), body, 1531420618).is_err());
    }

    #[test]
    fn twilio_signature() {
        // Twilio's documented example (auth token 12345, this URL and these parameters).
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let want = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
        assert_eq!(twilio_sign(b"12345", url, &params), want);
        assert!(twilio_ok(b"12345", url, &params, want));
        assert!(!twilio_ok(b"12346", url, &params, want));
        assert!(!twilio_ok(b"12345", "https://mycompany.com/other", &params, want));
    }

    #[test]
    fn ack_replies() {
        assert_eq!(parse_ack_reply("ACK 42"), Some(42));
        assert_eq!(parse_ack_reply("  ack42 "), Some(42));
        assert_eq!(parse_ack_reply("Ack  #7\n"), Some(7));
        assert_eq!(parse_ack_reply("ACK"), None);
        assert_eq!(parse_ack_reply("ACK 4x"), None);
        assert_eq!(parse_ack_reply("hello"), None);
        assert_eq!(parse_ack_reply("ACKNOWLEDGE 4"), None);
        assert_eq!(parse_ack_reply("é"), None);
    }
}
