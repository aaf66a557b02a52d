//! `/ui`: one server-rendered page listing open and recent incidents, with acknowledge /
//! resolve buttons and each incident's timeline. No build step, no script, no external
//! asset (a strict Content-Security-Policy says so to the browser).
//!
//! Auth: the API token typed once in a login form sets a session cookie (HMAC-signed with
//! `acks.secret`, else a key derived from the token; `HttpOnly`, `SameSite=Strict`, 12 h). Every POST carries a CSRF token
//! derived from the session (another site can neither read it nor, with `SameSite=Strict`,
//! send the cookie), and a present `Origin` must be this host.

use std::fmt::Write as _;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use hyper::{Method, Request, Response, StatusCode};
use vigie_kit::server::{self, Body};

use super::api::{perform, read_body, reason, session_signer, store_error, RECENT};
use super::State;
use crate::acks::{self, Signer};
use crate::model::{now_ms, rfc3339, Via};
use crate::store::{Act, Acted, Detail, What};

const COOKIE_NAME: &str = "vigie_session";
const SESSION_SECS: i64 = 12 * 3600;
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
const STYLE: &str = "body{font:15px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}\
td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
.firing{color:#b00}.acknowledged{color:#b60}.resolved{color:#070}form{display:inline}\
button{margin-right:.3em}details{margin:.4em 0 1em}small{color:#666}";

/// Escapes text for HTML (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole HTML page.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{t} · vigie-router</title><style>{STYLE}</style></head>\
         <body><h1>{t}</h1>\n{body}\n</body></html>\n",
        t = esc(title)
    );
    let mut r = server::text(status, "text/html; charset=utf-8", html);
    r.headers_mut().insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    r.headers_mut().insert("x-frame-options", HeaderValue::from_static("DENY"));
    // Not `no-referrer`: with it Chromium sends `Origin: null` on form POSTs, which the
    // origin check below must refuse.
    r.headers_mut().insert("referrer-policy", HeaderValue::from_static("same-origin"));
    r
}

fn redirect(to: &'static str) -> Response<Body> {
    let mut r = server::text(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    r.headers_mut().insert(LOCATION, HeaderValue::from_static(to));
    r
}

fn session_of(req: &Request<Incoming>) -> Option<String> {
    req.headers().get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == COOKIE_NAME).then(|| v.to_owned())
    })
}

/// A present `Origin` must name this host (browsers send it on every POST).
fn same_origin(req: &Request<Incoming>) -> bool {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else { return true };
    let host = req.headers().get(hyper::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.split_once("://").is_some_and(|(_, h)| h == host)
}

fn login_form(status: StatusCode, msg: &str) -> Response<Body> {
    let body = format!(
        "{msg}<form method=\"post\" action=\"/ui/login\"><label>API token \
         <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"current-password\"></label> \
         <button type=\"submit\" id=\"login\">Sign in</button></form>"
    );
    page(status, "Sign in", &body)
}

/// Routes `/ui…`.
pub(super) async fn route(state: &State, req: Request<Incoming>) -> Response<Body> {
    let (Some(signer), Some(token)) = (session_signer(state), state.config.api_token.as_ref()) else {
        return reason(StatusCode::NOT_FOUND, "the web page needs `api.bearer_token` in the config");
    };
    let now_s = now_ms() / 1000;
    let session = session_of(&req).filter(|s| signer.check_session(s, now_s));
    let path = req.uri().path().to_owned();
    match (req.method().clone(), path.as_str()) {
        (Method::GET, "/ui" | "/ui/") => match session {
            Some(s) => list(state, &signer, &s).await,
            None => login_form(StatusCode::OK, ""),
        },
        (Method::POST, "/ui/login") => {
            if !same_origin(&req) {
                return reason(StatusCode::FORBIDDEN, "cross-origin request refused");
            }
            let body = match read_body(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let pairs = acks::form(&body);
            let given = acks::field(&pairs, "token").unwrap_or("");
            if !vigie_kit::secret::constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
                return login_form(StatusCode::FORBIDDEN, "<p class=\"firing\">Wrong token.</p>");
            }
            let secure =
                state.config.acks.as_ref().and_then(|a| a.public_url.as_ref()).is_some_and(|u| u.starts_with("https:"));
            let cookie = format!(
                "{COOKIE_NAME}={}; Path=/ui; Max-Age={SESSION_SECS}; HttpOnly; SameSite=Strict{}",
                signer.session(now_s + SESSION_SECS),
                if secure { "; Secure" } else { "" }
            );
            let mut r = redirect("/ui");
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(SET_COOKIE, v);
            }
            r
        }
        (Method::POST, "/ui/logout") => {
            let mut r = redirect("/ui");
            r.headers_mut().insert(
                SET_COOKIE,
                HeaderValue::from_static("vigie_session=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict"),
            );
            r
        }
        (Method::POST, p) if p.starts_with("/ui/incidents/") => {
            let Some(s) = session else { return login_form(StatusCode::FORBIDDEN, "<p>Sign in first.</p>") };
            if !same_origin(&req) {
                return reason(StatusCode::FORBIDDEN, "cross-origin request refused");
            }
            let parts: Vec<&str> = p["/ui/incidents/".len()..].split('/').collect();
            let (Some(id), Some(action)) = (parts.first().and_then(|i| i.parse::<i64>().ok()), parts.get(1).copied())
            else {
                return reason(StatusCode::NOT_FOUND, "no such action");
            };
            let action = action.to_owned();
            let body = match read_body(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let pairs = acks::form(&body);
            if !signer.check_csrf(&s, acks::field(&pairs, "csrf").unwrap_or("")) {
                return reason(StatusCode::FORBIDDEN, "missing or wrong CSRF token: reload the page");
            }
            let what = match action.as_str() {
                "ack" => What::Ack { until: now_ms() + state.config.ack_ttl().as_millis() as i64 },
                "unack" => What::Unack,
                "resolve" => What::Resolve,
                _ => return reason(StatusCode::NOT_FOUND, "no such action"),
            };
            let by = acks::field(&pairs, "by").map(str::trim).filter(|b| !b.is_empty());
            let actor = by.map_or_else(|| "web".to_owned(), |b| format!("web:{b}"));
            match perform(state, Act { incident: id, actor, via: Via::Web, what, note: None }).await {
                Ok(Acted::Done { .. }) | Ok(Acted::NotApplicable) => redirect("/ui"),
                Ok(Acted::NotFound) => reason(StatusCode::NOT_FOUND, format!("no incident {id}")),
                Err(e) => store_error(e),
            }
        }
        _ => reason(StatusCode::NOT_FOUND, "no such page"),
    }
}

async fn list(state: &State, signer: &Signer, session: &str) -> Response<Body> {
    let incidents = match state.store.incidents(now_ms() - RECENT.as_millis() as i64, 100).await {
        Ok(l) => l,
        Err(e) => return store_error(e),
    };
    let csrf = signer.csrf(session);
    let mut html = String::new();
    let open = incidents.iter().filter(|i| i.state != "resolved").count();
    let _ = write!(
        html,
        "<p>{open} open, {} resolved in the last 7 days. <small>Times are UTC.</small></p>\
         <form method=\"post\" action=\"/ui/logout\"><button type=\"submit\">Sign out</button></form>",
        incidents.len() - open
    );
    if incidents.is_empty() {
        html.push_str("<p>No incidents.</p>");
    } else {
        html.push_str(
            "<table id=\"incidents\"><thead><tr><th>#</th><th>state</th><th>incident</th><th>level</th>\
             <th>started</th><th>acknowledged</th><th></th></tr></thead><tbody>",
        );
        for i in &incidents {
            let ack = match (&i.acked_by, i.ack_until_ms) {
                (Some(by), Some(until)) => format!("{} until {}", esc(by), esc(&rfc3339(until))),
                _ => String::new(),
            };
            let button = |action: &str, label: &str| {
                format!(
                    "<form method=\"post\" action=\"/ui/incidents/{id}/{action}\"><input type=\"hidden\" \
                     name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" data-incident=\"{id}\" \
                     data-action=\"{action}\">{label}</button></form>",
                    id = i.id
                )
            };
            let buttons = match i.state {
                "firing" => button("ack", "Acknowledge") + &button("resolve", "Resolve"),
                "acknowledged" => button("unack", "Unacknowledge") + &button("resolve", "Resolve"),
                _ => String::new(),
            };
            let _ = write!(
                html,
                "<tr id=\"incident-{id}\" data-state=\"{st}\"><td><a href=\"#timeline-{id}\">{id}</a></td>\
                 <td class=\"{st}\">{st}</td><td>{title} <small>({n} firing, policy {pol})</small></td>\
                 <td>{lvl}</td><td>{start}</td><td>{ack}</td><td>{buttons}</td></tr>",
                id = i.id,
                st = i.state,
                title = esc(&i.title),
                n = i.firing_alerts,
                pol = esc(&i.policy),
                lvl = i.level,
                start = esc(&rfc3339(i.started_at_ms)),
            );
        }
        html.push_str("</tbody></table><h2>Timelines</h2>");
        for i in incidents.iter().take(30) {
            match state.store.incident(i.id).await {
                Ok(Some(d)) => timeline(&mut html, &d),
                Ok(None) => {}
                Err(e) => return store_error(e),
            }
        }
    }
    page(StatusCode::OK, "Incidents", &html)
}

fn timeline(html: &mut String, d: &Detail) {
    let s = &d.summary;
    let _ = write!(
        html,
        "<details id=\"timeline-{id}\"{open}><summary>#{id} {title} — {st}</summary><table><tbody>",
        id = s.id,
        open = if s.state == "resolved" { "" } else { " open" },
        title = esc(&s.title),
        st = s.state
    );
    for e in &d.timeline {
        let who: Vec<String> = [
            e.actor.as_deref().map(|a| format!("by {a}")),
            e.channel.as_deref().map(|c| format!("on {c}")),
            e.contact.as_deref().map(|c| format!("to {c}")),
            e.level.map(|l| format!("level {l}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = write!(
            html,
            "<tr><td><small>{at}</small></td><td>{kind}</td><td>{who}</td><td>{detail}</td></tr>",
            at = esc(&rfc3339(e.at_ms)),
            kind = esc(&e.kind),
            who = esc(&who.join(", ")),
            detail = esc(&e.detail)
        );
    }
    html.push_str("</tbody></table></details>");
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
