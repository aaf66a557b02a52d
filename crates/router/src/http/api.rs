//! People's side of the router, beside the webhook (leaf handlers of `http`'s route table):
//!
//! - `GET /api/v1/incidents`, `GET /api/v1/incidents/{id}` (JSON) and
//!   `POST /api/v1/incidents/{id}/{ack,unack,resolve,reassign,notes}`, behind `api.bearer_token`
//!   ([`incidents`]);
//! - `GET|POST /ack/{id}?a=ack&c=CONTACT&e=EXPIRY&s=SIG` ([`link`]): the signed link in every
//!   notification. GET only shows a confirmation page (mail scanners fetch links), POST acts;
//!   a forged or expired link gets 403 and changes nothing;
//! - what the Slack and Twilio webhooks (`inbound.rs`) and the web page (`web.rs`) share:
//!   bodies, reasons, signers.
//!
//! Every action goes through [`perform`]: one store transaction (state + timeline event),
//! then the metrics and a wake-up of the engine.

use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde::Deserialize;
use vigie_kit::secret::constant_time_eq;
use vigie_kit::server::{self, Body};

use super::{web, State};
use crate::acks::{self, Link, Signer};
use crate::model::{now_ms, Via, LINK_PATH};
use crate::store::{Act, Acted, Reassign, StoreError, What};

/// The incidents API's prefix.
pub const INCIDENTS: &str = "/api/v1/incidents";
/// Incidents resolved within this are "recent".
pub const RECENT: Duration = Duration::from_secs(7 * 24 * 3600);
const JSON: &str = "application/json";
const PLAIN: &str = "text/plain; charset=utf-8";
/// Largest body of an action, a Slack or a Twilio request.
const MAX_BODY: usize = 64 * 1024;

/// `/api/v1/incidents…`, behind `api.bearer_token`.
pub async fn incidents(state: &State, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let rest = path.strip_prefix(INCIDENTS).unwrap_or_default();
    if !bearer_ok(state, req.headers()) {
        let mut r = reason(StatusCode::UNAUTHORIZED, "missing or wrong bearer token (api.bearer_token)");
        r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Bearer"));
        return r;
    }
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    match (&method, parts.as_slice()) {
        (&Method::GET, []) => match state.store.incidents(now_ms() - RECENT.as_millis() as i64, 500).await {
            Ok(list) => json(StatusCode::OK, &serde_json::json!({ "incidents": list })),
            Err(e) => store_error(e),
        },
        (&Method::GET, [id]) => {
            let Ok(id) = id.parse::<i64>() else {
                return reason(StatusCode::BAD_REQUEST, "incident id is not a number");
            };
            match state.store.incident(id).await {
                Ok(Some(d)) => json(StatusCode::OK, &d),
                Ok(None) => reason(StatusCode::NOT_FOUND, format!("no incident {id}")),
                Err(e) => store_error(e),
            }
        }
        (&Method::POST, [id, action]) => {
            let Ok(id) = id.parse::<i64>() else {
                return reason(StatusCode::BAD_REQUEST, "incident id is not a number");
            };
            let action = (*action).to_owned();
            let body = match read_body(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            api_action(state, id, &action, &body).await
        }
        (_, [] | [_] | [_, _]) => reason(StatusCode::METHOD_NOT_ALLOWED, "GET to read, POST to act"),
        _ => reason(StatusCode::NOT_FOUND, "no such resource"),
    }
}

/// The body of `POST /api/v1/incidents/{id}/{action}` (JSON; every field optional except
/// `text` for notes and one of `contact`/`level` for reassign).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    /// Who acts (recorded as `api:NAME`).
    #[serde(default)]
    by: Option<String>,
    /// A note recorded with the event.
    #[serde(default)]
    note: Option<String>,
    /// Note text (`notes`).
    #[serde(default)]
    text: Option<String>,
    /// Reassign to this contact.
    #[serde(default)]
    contact: Option<String>,
    /// Reassign to this level.
    #[serde(default)]
    level: Option<usize>,
}

async fn api_action(state: &State, id: i64, action: &str, body: &[u8]) -> Response<Body> {
    let b: ActionBody = if body.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(b) => b,
            Err(e) => return reason(StatusCode::BAD_REQUEST, format!("body: {e}")),
        }
    };
    let what = match action {
        "ack" => What::Ack { until: now_ms() + state.config.ack_ttl().as_millis() as i64 },
        "unack" => What::Unack,
        "resolve" => What::Resolve,
        "notes" => match b.text.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => What::Note(t.to_owned()),
            _ => return reason(StatusCode::BAD_REQUEST, "notes: `text` is required"),
        },
        "reassign" => match (&b.contact, b.level) {
            (Some(c), None) if state.config.contacts.contains_key(c) => What::Reassign(Reassign::Contact(c.clone())),
            (Some(c), None) => return reason(StatusCode::BAD_REQUEST, format!("reassign: unknown contact {c:?}")),
            (None, Some(l)) if l >= 1 => What::Reassign(Reassign::Level(l)),
            _ => return reason(StatusCode::BAD_REQUEST, "reassign: give exactly one of `contact` or `level` (≥ 1)"),
        },
        _ => {
            return reason(
                StatusCode::NOT_FOUND,
                format!("unknown action {action:?} (ack, unack, resolve, reassign, notes)"),
            )
        }
    };
    let by = b.by.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let actor = by.map_or_else(|| "api".to_owned(), |b| format!("api:{b}"));
    let act = Act { incident: id, actor, via: Via::Api, what, note: b.note };
    match perform(state, act).await {
        Ok(Acted::Done { .. }) => match state.store.incident(id).await {
            Ok(Some(d)) => json(StatusCode::OK, &d.summary),
            Ok(None) => reason(StatusCode::NOT_FOUND, format!("no incident {id}")),
            Err(e) => store_error(e),
        },
        Ok(Acted::NotFound) => reason(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Ok(Acted::NotApplicable) => {
            reason(StatusCode::CONFLICT, format!("incident {id} is resolved (or not acknowledged, for unack)"))
        }
        Err(e) => store_error(e),
    }
}

/// Applies an action: store, metrics, engine.
pub async fn perform(state: &State, act: Act) -> Result<Acted, StoreError> {
    let via = act.via;
    let is_ack = matches!(act.what, What::Ack { .. });
    let incident = act.incident;
    let actor = act.actor.clone();
    let r = state.store.act(act, now_ms()).await?;
    if let Acted::Done { first_ack_after } = r {
        if is_ack {
            state.metrics.acknowledgements.with_label_values(&[via.as_str()]).inc();
            if let Some(d) = first_ack_after {
                state.metrics.acknowledge_seconds.observe(d.max(0) as f64 / 1000.0);
            }
        }
        tracing::info!(incident, actor = %actor, via = %via, "Incident action recorded.");
        state.engine.notify_one();
        state.deliver.notify_one();
    }
    Ok(r)
}

/// `/ack/{id}`: `rest` is what follows [`LINK_PATH`].
pub async fn link(state: &State, req: Request<Incoming>, rest: &str) -> Response<Body> {
    let Ok(id) = rest.trim_end_matches('/').parse::<i64>() else {
        return reason(StatusCode::NOT_FOUND, "no such link");
    };
    let Some(signer) = signer(state) else { return reason(StatusCode::NOT_FOUND, "signed links are not configured") };
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_owned();
    let pairs = match method {
        Method::GET | Method::HEAD => acks::form(query.as_bytes()),
        Method::POST => match read_body(req).await {
            Ok(b) => acks::form(&b),
            Err(r) => return r,
        },
        _ => return reason(StatusCode::METHOD_NOT_ALLOWED, "GET shows, POST acts"),
    };
    let now_s = now_ms() / 1000;
    let Some(l) = Link::from_pairs(id, &pairs).filter(|l| signer.check_link(l, now_s)) else {
        return web::page(
            StatusCode::FORBIDDEN,
            "Link refused",
            "<p>This link is forged, altered or expired. Nothing was changed.</p>",
        );
    };
    let detail = match state.store.incident(id).await {
        Ok(Some(d)) => d,
        Ok(None) => return reason(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(e) => return store_error(e),
    };
    let title = web::esc(&detail.summary.title);
    if method != Method::POST {
        let body = format!(
            "<p>Incident <b>#{id}</b>: {title} ({state}, level {level}).</p>
<form method=\"post\" action=\"{LINK_PATH}{id}\">
<input type=\"hidden\" name=\"a\" value=\"{a}\"><input type=\"hidden\" name=\"c\" value=\"{c}\">
<input type=\"hidden\" name=\"e\" value=\"{e}\"><input type=\"hidden\" name=\"s\" value=\"{s}\">
<button type=\"submit\" id=\"confirm\">{verb} incident #{id}</button></form>",
            state = detail.summary.state,
            level = detail.summary.level,
            a = l.action.as_str(),
            c = web::esc(&l.contact),
            e = l.expiry,
            s = web::esc(&l.sig),
            verb = if l.action == acks::Action::Ack { "Acknowledge" } else { "Resolve" },
        );
        return web::page(StatusCode::OK, "Confirm", &body);
    }
    let what = match l.action {
        acks::Action::Ack => What::Ack { until: now_ms() + state.config.ack_ttl().as_millis() as i64 },
        acks::Action::Resolve => What::Resolve,
    };
    let actor = if l.contact.is_empty() { "link".to_owned() } else { format!("link:{}", l.contact) };
    match perform(state, Act { incident: id, actor, via: Via::Link, what, note: None }).await {
        Ok(Acted::Done { .. }) => {
            let done = if l.action == acks::Action::Ack { "acknowledged: escalation stopped" } else { "resolved" };
            web::page(StatusCode::OK, "Done", &format!("<p>Incident <b>#{id}</b> ({title}) {done}.</p>"))
        }
        Ok(Acted::NotFound) => reason(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Ok(Acted::NotApplicable) => {
            web::page(StatusCode::CONFLICT, "Already resolved", &format!("<p>Incident <b>#{id}</b> is resolved.</p>"))
        }
        Err(e) => store_error(e),
    }
}

/// The signer of links, when `acks` is configured.
pub fn signer(state: &State) -> Option<Signer> {
    state.config.acks.as_ref().map(|a| Signer::new(a.secret.expose().as_bytes()))
}

/// The signer of web sessions: the `acks` key, else one derived from the API token (so the
/// page works with `api` alone; a new token ends every session).
pub fn session_signer(state: &State) -> Option<Signer> {
    signer(state).or_else(|| {
        let t = state.config.api_token.as_ref()?;
        Some(Signer::new(format!("vigie-router web sessions:{}", t.expose()).as_bytes()))
    })
}

/// Whether the request carries the API token.
pub fn bearer_ok(state: &State, headers: &HeaderMap) -> bool {
    let Some(token) = &state.config.api_token else { return false };
    let Some(h) = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let (scheme, value) = h.split_once(' ').unwrap_or((h, ""));
    scheme.eq_ignore_ascii_case("bearer") && constant_time_eq(value.trim().as_bytes(), token.expose().as_bytes())
}

/// Reads a small body (actions, forms, Slack and Twilio requests).
pub async fn read_body(req: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(reason(StatusCode::PAYLOAD_TOO_LARGE, format!("body larger than {MAX_BODY} bytes")))
        }
        Err(e) => Err(reason(StatusCode::BAD_REQUEST, format!("cannot read body: {e}"))),
    }
}

/// A 4xx/5xx with its reason as text.
pub fn reason(status: StatusCode, why: impl Into<String>) -> Response<Body> {
    let mut r = why.into();
    r.push('\n');
    server::text(status, PLAIN, r)
}

fn json(status: StatusCode, v: &impl serde::Serialize) -> Response<Body> {
    match serde_json::to_string_pretty(v) {
        Ok(mut s) => {
            s.push('\n');
            server::text(status, JSON, s)
        }
        Err(e) => reason(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode: {e}")),
    }
}

/// 503 for a store failure (logged).
pub fn store_error(e: StoreError) -> Response<Body> {
    tracing::error!(err = %e, "Store failure on an incident request.");
    reason(StatusCode::SERVICE_UNAVAILABLE, "the store cannot answer right now; retry")
}
