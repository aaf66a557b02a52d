//! The web page in headless Chromium (Debian's `chromium`, driven through the DevTools
//! protocol by `cdp.rs`): sign in with the API token, see the live incident Alertmanager
//! opened, click its Acknowledge button, and the incident is acknowledged (by `web`).

use serde_json::json;

use crate::acks::start;
use crate::cdp::{chromium, Browser};
use crate::support::*;

#[test]
fn web_page_lists_a_live_incident_and_its_ack_button_acks_it() {
    let Some(bin) = chromium() else {
        skip("no chromium (apt-get install chromium, or VIGIE_TEST_CHROMIUM)");
        return;
    };
    let Some(r) = start("1h") else { return };
    let profile = tempfile::tempdir().unwrap();
    let mut b = Browser::start(&bin, &profile.path().join("profile"));
    let base = format!("http://127.0.0.1:{}", r.router.addr.port());

    // Without a session: the login form, and a POST without a session or CSRF token is refused.
    b.call("Page.enable", json!({}));
    b.call("Page.navigate", json!({"url": format!("{base}/ui")}));
    b.wait_for("document.readyState === 'complete' && !!document.getElementById('token')", "the login form");
    let (st, _) = post_form(r.router.addr, "/ui/incidents/1/ack", &[], "csrf=x");
    assert_eq!(st, 403);

    // Type the token and press "Sign in".
    b.eval("document.getElementById('token').focus()");
    b.call("Input.insertText", json!({"text": API_TOKEN}));
    b.click("#login");
    b.wait_for("!!document.getElementById('incident-1')", "the incident list");
    let row = b.eval("document.getElementById('incident-1').innerText").as_str().unwrap().to_owned();
    assert!(row.contains("DiskFull db-1:9100") && row.contains("firing"), "{row}");
    assert_eq!(b.eval("document.cookie"), json!(""), "the session cookie must be HttpOnly");
    let timeline = b.eval("document.getElementById('timeline-1').innerText").as_str().unwrap().to_owned();
    assert!(timeline.contains("alert_fired") && timeline.contains("notification_sent"), "{timeline}");

    // Click Acknowledge.
    b.click("button[data-incident='1'][data-action='ack']");
    b.wait_for(
        "document.getElementById('incident-1')?.dataset.state === 'acknowledged'",
        "the row to show the acknowledgement",
    );
    assert_eq!(incident_state(&r.router, 1), ("acknowledged".into(), Some("web".into())));
    let row = b.eval("document.getElementById('incident-1').innerText").as_str().unwrap().to_owned();
    assert!(row.contains("web until"), "{row}");
}
