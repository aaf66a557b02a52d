//! Acknowledgements that come back through Slack and Twilio.
//!
//! - `POST /api/v1/slack/interactions`: Slack's interactivity request (form field `payload`,
//!   JSON) when someone presses the ack button of a message (`action_id` `vigie_ack…`,
//!   `value` = incident id). Signed with the app's signing secret; see `acks::slack_ok`.
//!   Recorded as `slack:<contact>` when the Slack user id or `@name` is a contact's `slack`,
//!   else `slack:<user id> (<name>)`.
//! - `POST /api/v1/twilio/sms`: Twilio's inbound-message webhook. Signed with the auth token
//!   over the URL Twilio called (`acks.public_url` + path + query) and the sorted form
//!   parameters. `Body` is parsed as `ACK 42`; `From` must be a contact's `phone`. The
//!   answer is TwiML, which Twilio sends back to the person as an SMS.

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use vigie_kit::server::{self, Body};

use super::api::{perform, read_body, reason, store_error};
use super::State;
use crate::acks;
use crate::model::{now_ms, Via};
use crate::store::{Act, Acted, What};

/// Slack's interactivity request URL.
pub const SLACK_PATH: &str = "/api/v1/slack/interactions";
/// Twilio's inbound SMS webhook.
pub const TWILIO_PATH: &str = "/api/v1/twilio/sms";

#[derive(Debug, Deserialize)]
struct SlackPayload {
    #[serde(default)]
    user: SlackUser,
    #[serde(default)]
    actions: Vec<SlackAction>,
}

#[derive(Debug, Default, Deserialize)]
struct SlackUser {
    #[serde(default)]
    id: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct SlackAction {
    #[serde(default)]
    action_id: String,
    #[serde(default)]
    value: String,
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> &'a str {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

pub(super) async fn slack(state: &State, req: Request<Incoming>) -> Response<Body> {
    let Some(secret) = state.config.acks.as_ref().and_then(|a| a.slack_signing_secret.as_ref()) else {
        return reason(StatusCode::NOT_FOUND, "acks.slack_signing_secret is not configured");
    };
    let ts = header(&req, "x-slack-request-timestamp").to_owned();
    let sig = header(&req, "x-slack-signature").to_owned();
    let body = match read_body(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(why) = acks::slack_ok(secret.expose().as_bytes(), &ts, &sig, &body, now_ms() / 1000) {
        tracing::warn!(err = %why, "Slack request refused.");
        return reason(StatusCode::FORBIDDEN, why);
    }
    let pairs = acks::form(&body);
    let Some(payload) = acks::field(&pairs, "payload") else {
        return reason(StatusCode::BAD_REQUEST, "no `payload` form field");
    };
    let p: SlackPayload = match serde_json::from_str(payload) {
        Ok(p) => p,
        Err(e) => return reason(StatusCode::BAD_REQUEST, format!("payload: {e}")),
    };
    let who = {
        let u = &p.user;
        let handle = if u.username.is_empty() { &u.name } else { &u.username };
        let contact = state.config.contacts.values().find(|c| {
            c.slack.as_deref().is_some_and(|s| {
                let s = s.trim();
                (!u.id.is_empty() && s == u.id) || (!handle.is_empty() && s.trim_start_matches('@') == handle)
            })
        });
        match contact {
            Some(c) => format!("slack:{}", c.name),
            None if handle.is_empty() => format!("slack:{}", u.id),
            None => format!("slack:{} ({handle})", u.id),
        }
    };
    let Some(action) = p.actions.iter().find(|a| a.action_id.starts_with("vigie_ack")) else {
        // Other buttons (links to runbooks, dashboards) also post here: nothing to do.
        return server::text(StatusCode::OK, "text/plain; charset=utf-8", "");
    };
    let Ok(id) = action.value.trim().parse::<i64>() else {
        return reason(StatusCode::BAD_REQUEST, format!("action value {:?} is not an incident id", action.value));
    };
    let until = now_ms() + state.config.ack_ttl().as_millis() as i64;
    match perform(state, Act { incident: id, actor: who, via: Via::Slack, what: What::Ack { until }, note: None }).await
    {
        // Slack shows nothing for an empty 200; the message update is the channel's job.
        Ok(Acted::Done { .. }) | Ok(Acted::NotApplicable) => {
            server::text(StatusCode::OK, "text/plain; charset=utf-8", "")
        }
        Ok(Acted::NotFound) => reason(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(e) => store_error(e),
    }
}

fn twiml(msg: &str) -> Response<Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Message>{}</Message></Response>\n",
        super::web::esc(msg)
    );
    server::text(StatusCode::OK, "text/xml; charset=utf-8", body)
}

/// `+33 6 00-00-00-01` → `+33600000001`.
fn phone(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
}

pub(super) async fn twilio(state: &State, req: Request<Incoming>) -> Response<Body> {
    let acks_cfg = state.config.acks.as_ref();
    let (Some(token), Some(base)) =
        (acks_cfg.and_then(|a| a.twilio_auth_token.as_ref()), acks_cfg.and_then(|a| a.public_url.as_ref()))
    else {
        return reason(StatusCode::NOT_FOUND, "acks.twilio_auth_token is not configured");
    };
    let sig = header(&req, "x-twilio-signature").to_owned();
    let url = match req.uri().query() {
        Some(q) => format!("{base}{TWILIO_PATH}?{q}"),
        None => format!("{base}{TWILIO_PATH}"),
    };
    let body = match read_body(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let params = acks::form(&body);
    if !acks::twilio_ok(token.expose().as_bytes(), &url, &params, &sig) {
        tracing::warn!("Twilio request refused: X-Twilio-Signature does not match.");
        return reason(StatusCode::FORBIDDEN, "X-Twilio-Signature does not match");
    }
    let from = phone(acks::field(&params, "From").unwrap_or(""));
    let text = acks::field(&params, "Body").unwrap_or("");
    let Some(contact) = state.config.contacts.values().find(|c| c.phone.as_deref().is_some_and(|p| phone(p) == from))
    else {
        tracing::warn!("SMS from a number that is no contact's phone: ignored.");
        return twiml("This number is not a Vigie contact.");
    };
    let Some(id) = acks::parse_ack_reply(text) else {
        return twiml("Reply ACK followed by the incident number, e.g. ACK 42.");
    };
    let until = now_ms() + state.config.ack_ttl().as_millis() as i64;
    let act = Act {
        incident: id,
        actor: format!("sms:{}", contact.name),
        via: Via::Sms,
        what: What::Ack { until },
        note: None,
    };
    match perform(state, act).await {
        Ok(Acted::Done { .. }) => {
            let mins = state.config.ack_ttl().as_secs() / 60;
            twiml(&format!("Incident {id} acknowledged for {mins} min: escalation stopped."))
        }
        Ok(Acted::NotApplicable) => twiml(&format!("Incident {id} is already resolved.")),
        Ok(Acted::NotFound) => twiml(&format!("No incident {id}.")),
        Err(e) => store_error(e),
    }
}
