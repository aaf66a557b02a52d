//! `vigie-router incident show ID --format markdown|json`: an incident as a root-cause
//! analysis skeleton. The facts come from the store (every timeline event in order, time to
//! acknowledge, time to resolve against the resolution target, levels reached); the sections
//! only people can write (summary, cause, corrective actions, prevention) are left empty.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::model::{rfc3339, Millis};
use crate::store::{Detail, EventKind};

/// `1h2m3s`, `45s`, `0s`.
pub fn human(ms: Millis) -> String {
    let s = (ms.max(0) / 1000) as u64;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if sec > 0 || out.is_empty() {
        let _ = write!(out, "{sec}s");
    }
    out
}

/// The figures of an RCA.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// Time from the start to the first acknowledgement, ms.
    pub time_to_acknowledge_ms: Option<Millis>,
    /// Who acknowledged first.
    pub first_acknowledged_by: Option<String>,
    /// Time from the start to the resolve, ms (to now if still open).
    pub time_to_resolve_ms: Millis,
    /// Still open.
    pub open: bool,
    /// The resolution target, ms.
    pub target_ms: Millis,
    /// Resolved (or, open, running) past the target.
    pub over_target: bool,
    /// Every level paged, in increasing order.
    pub levels_reached: Vec<usize>,
}

/// Computes the figures at `now`.
pub fn figures(d: &Detail, target: Duration, now: Millis) -> Figures {
    let s = &d.summary;
    let end = s.resolved_at_ms.unwrap_or(now);
    let target_ms = i64::try_from(target.as_millis()).unwrap_or(i64::MAX);
    let mut levels: Vec<usize> = d
        .timeline
        .iter()
        .filter(|e| {
            e.kind == EventKind::Paged.as_str()
                || e.kind == EventKind::Escalated.as_str()
                || e.kind == EventKind::AckExpired.as_str()
        })
        .filter_map(|e| e.level)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    Figures {
        time_to_acknowledge_ms: s.first_ack_at_ms.map(|a| a - s.started_at_ms),
        first_acknowledged_by: d
            .timeline
            .iter()
            .find(|e| e.kind == EventKind::Acked.as_str())
            .and_then(|e| e.actor.clone()),
        time_to_resolve_ms: end - s.started_at_ms,
        open: s.resolved_at_ms.is_none(),
        target_ms,
        over_target: end - s.started_at_ms > target_ms,
        levels_reached: levels,
    }
}

/// The incident, its figures and its timeline as JSON.
pub fn json(d: &Detail, target: Duration, now: Millis) -> String {
    let v = serde_json::json!({ "incident": d, "figures": figures(d, target, now) });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Markdown table cells: no line breaks, no bare pipes.
fn cell(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}

/// The RCA skeleton in Markdown.
pub fn markdown(d: &Detail, target: Duration, now: Millis) -> String {
    let s = &d.summary;
    let f = figures(d, target, now);
    let mut o = String::new();
    let _ = writeln!(o, "# Incident #{}: {}\n", s.id, cell(&s.title));
    let _ = writeln!(o, "| | |\n| --- | --- |");
    let _ = writeln!(o, "| state | {} |", s.state);
    let _ = writeln!(o, "| policy | {} |", cell(&s.policy));
    let _ = writeln!(o, "| opened | {} |", rfc3339(s.started_at_ms));
    match (f.time_to_acknowledge_ms, &f.first_acknowledged_by) {
        (Some(t), by) => {
            let by = by.as_deref().map(|b| format!(" by {}", cell(b))).unwrap_or_default();
            let _ = writeln!(o, "| time to acknowledge | {}{by} |", human(t));
        }
        (None, _) => {
            let _ = writeln!(o, "| time to acknowledge | never acknowledged |");
        }
    }
    let verdict = match (f.open, f.over_target) {
        (true, true) => "still open, past the target",
        (true, false) => "still open",
        (false, true) => "missed",
        (false, false) => "met",
    };
    let _ = writeln!(
        o,
        "| time to resolve | {}{} (target {}: {verdict}) |",
        human(f.time_to_resolve_ms),
        if f.open { " so far" } else { "" },
        human(f.target_ms)
    );
    if let Some(r) = s.resolved_at_ms {
        let _ = writeln!(o, "| resolved | {} |", rfc3339(r));
    }
    let levels: Vec<String> = f.levels_reached.iter().map(usize::to_string).collect();
    let _ = writeln!(
        o,
        "| levels reached | {} |",
        if levels.is_empty() { "none paged".to_owned() } else { levels.join(", ") }
    );
    let _ = writeln!(o, "| alerts | {} |", d.alerts.len());
    let _ = writeln!(o, "| Alertmanager group | `{}` (receiver {}) |", cell(&s.group_key), cell(&s.receiver));

    let _ = writeln!(o, "\n## Summary\n\n<!-- What happened, who was affected, for how long. -->\n");
    let _ = writeln!(o, "## Alerts\n");
    for a in &d.alerts {
        let name = a.labels.get("alertname").map(String::as_str).unwrap_or("alert");
        let labels: Vec<String> =
            a.labels.iter().filter(|(k, _)| *k != "alertname").map(|(k, v)| format!("{k}={v}")).collect();
        let summary = a.annotations.get("summary").map(|s| format!(": {s}")).unwrap_or_default();
        let _ = writeln!(o, "- **{}** {name} {{{}}}{}", a.status.as_str(), labels.join(", "), cell(&summary));
        for key in ["runbook_url", "dashboard_url", "dashboard"] {
            if let Some(u) = a.annotations.get(key) {
                let _ = writeln!(o, "  - {key}: {u}");
            }
        }
    }
    let _ = writeln!(o, "\n## Timeline (UTC)\n");
    let _ = writeln!(o, "| time | since start | event | who / where | detail |\n| --- | --- | --- | --- | --- |");
    for e in &d.timeline {
        let who: Vec<String> = [
            e.actor.as_deref().map(|a| format!("by {a}")),
            e.channel.as_deref().map(str::to_owned),
            e.contact.as_deref().map(str::to_owned),
            e.level.map(|l| format!("level {l}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = writeln!(
            o,
            "| {} | +{} | {} | {} | {} |",
            rfc3339(e.at_ms),
            human(e.at_ms - s.started_at_ms),
            e.kind,
            cell(&who.join(", ")),
            cell(&e.detail)
        );
    }
    let _ = writeln!(o, "\n## Cause\n\n<!-- The root cause, and how it was found. -->\n");
    let _ = writeln!(o, "## Corrective actions\n\n<!-- What was done to end the incident. -->\n");
    let _ = writeln!(o, "## Prevention\n\n<!-- What will keep it from happening again: owner, due date. -->");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(45_900), "45s");
        assert_eq!(human(3_723_000), "1h2m3s");
        assert_eq!(human(4 * 3_600_000), "4h");
    }
}
