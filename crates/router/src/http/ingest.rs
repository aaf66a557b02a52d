//! `POST /api/v1/alertmanager`: Alertmanager's webhook (payload v4), a leaf handler of
//! `http`'s route table.
//!
//! A webhook is answered 200 only once it is committed to disk; an identical retry gets 200
//! and changes nothing. Bad input gets a 4xx with the reason (400 malformed or wrong version,
//! 401 bad credentials, 413 too large: the body is read through a limit, never buffered
//! whole); a store failure gets 503, which Alertmanager retries within the same flush.

use std::time::Instant;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use vigie_kit::secret::constant_time_eq as same;
use vigie_kit::server::{self, Body};
use vigie_kit::web_config::base64_encode;

use super::State;
use crate::config::{Config, IngestAuth};
use crate::model::now_ms;
use crate::payload;
use crate::store::{AlertRow, IngestBatch, Ingested};

/// The webhook path.
pub const PATH: &str = "/api/v1/alertmanager";
const PLAIN: &str = "text/plain; charset=utf-8";

/// Whether the `Authorization` header satisfies the configured auth (none configured: yes).
pub fn authorised(auth: &IngestAuth, header: Option<&str>) -> bool {
    if auth.bearer.is_none() && auth.basic.is_none() {
        return true;
    }
    let Some(h) = header else { return false };
    let (scheme, value) = h.split_once(' ').unwrap_or((h, ""));
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if let Some(t) = &auth.bearer {
            return same(value.as_bytes(), t.expose().as_bytes());
        }
    }
    if scheme.eq_ignore_ascii_case("basic") {
        if let Some((u, p)) = &auth.basic {
            let expected = base64_encode(format!("{u}:{}", p.expose()).as_bytes());
            return same(value.as_bytes(), expected.as_bytes());
        }
    }
    false
}

fn refuse(status: StatusCode, reason: impl Into<String>) -> Response<Body> {
    let mut r = reason.into();
    r.push('\n');
    server::text(status, PLAIN, r)
}

/// The handler: auth, size limit, then [`accept`]; counts the answer by status code.
pub async fn webhook(state: &State, req: Request<Incoming>) -> Response<Body> {
    let resp = receive(state, req).await;
    state.metrics.webhooks.with_label_values(&[resp.status().as_str()]).inc();
    resp
}

async fn receive(state: &State, req: Request<Incoming>) -> Response<Body> {
    let t0 = Instant::now();
    let auth = req.headers().get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !authorised(&state.config.ingest, auth) {
        let mut r = refuse(StatusCode::UNAUTHORIZED, "Unauthorized: missing or wrong credentials");
        r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Bearer"));
        return r;
    }
    let limit = state.config.ingest.max_body_bytes;
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("body larger than {limit} bytes"));
    }
    let body = match Limited::new(req.into_body(), limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("body larger than {limit} bytes"))
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("cannot read body: {e}")),
    };
    let (resp, _) = accept(state, &body).await;
    state.metrics.commit_seconds.observe(t0.elapsed().as_secs_f64());
    resp
}

/// Parses, routes and stores one body; the reply, and what the store did.
pub async fn accept(state: &State, body: &[u8]) -> (Response<Body>, Option<Ingested>) {
    let msg = match payload::parse(body) {
        Ok(m) => m,
        Err(e) => return (refuse(StatusCode::BAD_REQUEST, e.to_string()), None),
    };
    let labels = msg.route_labels();
    let policy = state.config.route(&labels);
    let now = now_ms();
    let target = i64::try_from(state.config.resolution.target.0.as_millis()).unwrap_or(i64::MAX);
    let batch = IngestBatch {
        key: msg.key(),
        start_level: Config::start_level(&labels, policy),
        policy: policy.name.clone(),
        receiver: msg.receiver,
        group_key: msg.group_key,
        external_url: msg.external_url,
        group_labels: serde_json::to_string(&msg.group_labels).unwrap_or_else(|_| "{}".into()),
        deadline_at: now.saturating_add(target),
        now,
        alerts: msg
            .alerts
            .into_iter()
            .map(|a| AlertRow {
                status: a.status,
                labels: serde_json::to_string(&a.labels).unwrap_or_else(|_| "{}".into()),
                annotations: serde_json::to_string(&a.annotations).unwrap_or_else(|_| "{}".into()),
                fingerprint: a.fingerprint,
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                generator_url: a.generator_url,
            })
            .collect(),
    };
    let n = batch.alerts.len() as u64;
    match state.store.ingest(batch).await {
        Ok(done) => {
            match done {
                Ingested::Duplicate => state.metrics.duplicates.inc(),
                Ingested::Stored { .. } => {
                    state.metrics.alerts.inc_by(n);
                    state.engine.notify_one();
                }
            }
            (server::text(StatusCode::OK, PLAIN, "ok\n"), Some(done))
        }
        Err(e) => {
            tracing::error!(err = %e, "Cannot store a webhook; answering 503 so Alertmanager retries.");
            (refuse(StatusCode::SERVICE_UNAVAILABLE, "cannot store the alerts right now; retry"), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_kit::Secret;

    #[test]
    fn base64_matches_alertmanager_header() {
        // From testenv/router.md: basic_auth am / s3cret → "Basic YW06czNjcmV0".
        assert_eq!(base64_encode(b"am:s3cret"), "YW06czNjcmV0");
        assert_eq!(base64_encode(b"a"), "YQ==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }

    #[test]
    fn auth_checks() {
        let none = IngestAuth::default();
        assert!(authorised(&none, None));
        let a = IngestAuth {
            max_body_bytes: 1024,
            bearer: Some(Secret::new("test-token")),
            basic: Some(("am".into(), Secret::new("s3cret"))),
        };
        assert!(authorised(&a, Some("Bearer test-token")));
        assert!(authorised(&a, Some("Basic YW06czNjcmV0")));
        assert!(!authorised(&a, Some("Bearer test-tokeN")));
        assert!(!authorised(&a, Some("Bearer test-token2")));
        assert!(!authorised(&a, Some("Basic YW06czNjcmV1")));
        assert!(!authorised(&a, None));
        assert!(!authorised(&a, Some("")));
    }
}
