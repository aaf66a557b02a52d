//! The escalation engine: reads incidents with work from the store, decides (with
//! [`plan`], a pure function of the incident, the policy and the clock) who to page next and
//! when the next step is due, and writes that decision and its outbox rows back in one
//! transaction. Every timer lives in the store (`next_at`), so a restart recomputes nothing:
//! the engine just looks for what is due.
//!
//! Semantics: a level's `delay` counts from the incident's start; an incident starts at its
//! `level` label (else 1); after the last level, `repeat` pages the last level (or the whole
//! chain) again; past the resolution target the incident goes straight to the resolution
//! level. Resolve cancels every pending step and notifies everyone already paged.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::config::{Config, Policy, RepeatFrom};
use crate::metrics::Metrics;
use crate::model::{now_ms, ChannelKind, Kind, Millis, Notification, Target, KV, LINK_PATH};
use crate::store::{Event, EventKind, Incident, NewOutbox, Reassign, Step, Store};

fn ms(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The policy of an incident: by name, else (renamed since) what the root route picks.
pub fn policy_of<'a>(cfg: &'a Config, inc: &Incident) -> &'a Policy {
    cfg.policy(&inc.policy).unwrap_or_else(|| cfg.route(&inc.group_labels))
}

/// The signed acknowledgement link of an incident, valid `acks.link_ttl` from `now`, when
/// `acks.public_url` is configured.
pub fn ack_url(cfg: &Config, incident: i64, contact: &str, now: Millis) -> Option<String> {
    let a = cfg.acks.as_ref()?;
    let base = a.public_url.as_ref()?;
    let expiry = (now.saturating_add(ms(a.link_ttl))) / 1000;
    let signer = crate::acks::Signer::new(a.secret.expose().as_bytes());
    Some(format!(
        "{base}{}{incident}?{}",
        LINK_PATH,
        signer.link_query(incident, crate::acks::Action::Ack, contact, expiry)
    ))
}

#[allow(clippy::too_many_arguments)]
fn notification(
    cfg: &Config,
    inc: &Incident,
    p: &Policy,
    kind: Kind,
    level: usize,
    t: &Target,
    repeat: bool,
    now: Millis,
) -> Notification {
    Notification {
        kind,
        incident: inc.id,
        level,
        policy: p.name.clone(),
        receiver: inc.receiver.clone(),
        group_key: inc.group_key.clone(),
        group_labels: inc.group_labels.clone(),
        started_at_ms: inc.started_at,
        resolved_at_ms: inc.resolved_at,
        alerts: inc.alerts.clone(),
        external_url: inc.external_url.clone(),
        contact: t.contact.clone(),
        address: t.address.clone(),
        note: None,
        repeat,
        ack_url: if kind == Kind::Resolved { None } else { ack_url(cfg, inc.id, &t.contact, now) },
        ack: None,
    }
}

fn push(step: &mut Step, n: Notification, t: &Target) {
    // Serialising our own struct cannot fail; an empty body would be rejected at send.
    let body = serde_json::to_string(&n).unwrap_or_default();
    step.outbox.push(NewOutbox { kind: n.kind, level: n.level, target: t.clone(), body });
}

/// When the step after paging `level` (1-based) in `cycle` is due.
fn next_after(p: &Policy, cfg: &Config, level: usize, cycle: u32, now: Millis, deadline: Millis) -> Option<Millis> {
    let n = p.levels.len();
    let mut next = if level < n {
        let gap = p.levels[level].delay.saturating_sub(p.levels[level - 1].delay);
        Some(now.saturating_add(ms(gap)))
    } else {
        p.repeat.filter(|r| cycle < r.times).map(|r| now.saturating_add(ms(r.interval.0)))
    };
    let res_level = cfg.resolution.level.clamp(1, n);
    if level < res_level {
        next = Some(next.map_or(deadline, |t| t.min(deadline)));
    }
    next
}

/// What to do for `inc` at `now`; `None` when nothing is due.
pub fn plan(cfg: &Config, inc: &Incident, now: Millis) -> Option<Step> {
    let p = policy_of(cfg, inc);
    let mut step = Step {
        incident: inc.id,
        version: inc.version,
        level: inc.level,
        cycle: inc.cycle,
        next_at: inc.next_at,
        ..Step::default()
    };
    let highest = inc.paged.iter().map(|(_, l)| *l).max().unwrap_or(inc.level);
    if !inc.firing {
        step.next_at = None;
        if inc.resolve_pending {
            step.clear_resolve = true;
            for (t, _) in &inc.paged {
                push(&mut step, notification(cfg, inc, p, Kind::Resolved, highest, t, false, now), t);
            }
            let what = format!("resolve sent to {} paged contact(s)", inc.paged.len());
            step.events.push(Event::new(EventKind::ResolveAnnounced, None, what));
        }
        return Some(step);
    }
    let mut work = false;
    if inc.announce {
        work = true;
        step.clear_announce = true;
        for (t, _) in &inc.paged {
            push(&mut step, notification(cfg, inc, p, Kind::NewAlerts, highest, t, false, now), t);
        }
    }
    if inc.next_at.is_some_and(|t| t <= now) && !p.levels.is_empty() {
        work = true;
        let n = p.levels.len();
        let res_level = cfg.resolution.level.clamp(1, n);
        if inc.acked || inc.resume || inc.reassign.is_some() {
            return Some(resume(cfg, inc, p, step, now));
        }
        let (target, cycle, repeat) = if inc.level == 0 {
            (inc.start_level.clamp(1, n), inc.cycle, false)
        } else if now >= inc.deadline_at && inc.level < res_level {
            let what = format!("resolution target passed: paging level {res_level}");
            step.events.push(Event::new(EventKind::TargetPassed, Some(res_level), what));
            (res_level, inc.cycle, false)
        } else if inc.level < n {
            (inc.level + 1, inc.cycle, false)
        } else if let Some(r) = p.repeat.filter(|r| inc.cycle < r.times) {
            (if r.from == RepeatFrom::Chain { 1 } else { n }, inc.cycle + 1, true)
        } else {
            step.next_at = None;
            return Some(step);
        };
        let targets = &p.levels[target - 1].targets;
        for t in targets {
            push(&mut step, notification(cfg, inc, p, Kind::Page, target, t, repeat, now), t);
        }
        step.level = target;
        step.cycle = cycle;
        if targets.is_empty() {
            // Only possible if the config changed under a running incident; never silent.
            let what = format!("level {target} has no targets: escalating now");
            step.events.push(Event::new(EventKind::Escalated, Some(target), what));
            step.next_at = Some(now);
        } else {
            let kind = if inc.level == 0 { EventKind::Paged } else { EventKind::Escalated };
            let what =
                format!("paged level {target} ({} target(s)){}", targets.len(), if repeat { ", repeat" } else { "" });
            step.events.push(Event::new(kind, Some(target), what));
            step.next_at = next_after(p, cfg, target, cycle, now, inc.deadline_at);
        }
    }
    work.then_some(step)
}

/// Escalation starting again after a person: an acknowledgement that expired or was
/// withdrawn pages the current level again (then the next levels follow with their usual
/// spacing, counted from now); a reassignment pages its contact or level now.
fn resume(cfg: &Config, inc: &Incident, p: &Policy, mut step: Step, now: Millis) -> Step {
    let n = p.levels.len();
    step.clear_ack = true;
    let current = inc.level.max(inc.start_level).clamp(1, n);
    let (level, targets, note, kind, what) = match &inc.reassign {
        Some(Reassign::Level(l)) => {
            let l = (*l).clamp(1, n);
            (
                l,
                p.levels[l - 1].targets.clone(),
                "Reassigned to this level",
                EventKind::Escalated,
                format!("reassigned: paged level {l}"),
            )
        }
        Some(Reassign::Contact(c)) => {
            let targets = contact_targets(cfg, c);
            (current, targets, "Reassigned to you", EventKind::Escalated, format!("reassigned: paged {c}"))
        }
        None if inc.acked => (
            current,
            p.levels[current - 1].targets.clone(),
            "The acknowledgement expired: escalation resumes",
            EventKind::AckExpired,
            format!("acknowledgement expired: paged level {current} again"),
        ),
        None => (
            current,
            p.levels[current - 1].targets.clone(),
            "The acknowledgement was withdrawn: escalation resumes",
            EventKind::Escalated,
            format!("escalation resumed: paged level {current} again"),
        ),
    };
    for t in &targets {
        let mut note_n = notification(cfg, inc, p, Kind::Page, level, t, true, now);
        note_n.note = Some(note.to_owned());
        push(&mut step, note_n, t);
    }
    // Slack messages of the targets not paged again still say "acknowledged": the ack
    // button comes back on them (an update, nobody is notified).
    let highest = inc.paged.iter().map(|(_, l)| *l).max().unwrap_or(level);
    for (t, _) in inc.paged.iter().filter(|(t, _)| t.channel.edits_in_place() && !targets.contains(t)) {
        let mut n = notification(cfg, inc, p, Kind::Unacked, highest, t, false, now);
        n.note = Some(note.to_owned());
        push(&mut step, n, t);
    }
    step.events.push(Event::new(kind, Some(level), what));
    step.level = level;
    step.next_at = if targets.is_empty() {
        // A contact with no usable channel: never silent, escalate from the current level now.
        step.events.push(Event::new(EventKind::Escalated, Some(level), "reassignment reached nobody: escalating now"));
        Some(now)
    } else {
        next_after(p, cfg, level, inc.cycle, now, inc.deadline_at)
    };
    step
}

/// A contact's targets on every channel this build sends on and the config enables.
pub fn contact_targets(cfg: &Config, contact: &str) -> Vec<Target> {
    let Some(c) = cfg.contacts.get(contact) else { return Vec::new() };
    ChannelKind::ALL
        .iter()
        .copied()
        .filter(|ch| cfg.has_channel(*ch))
        .filter_map(|ch| c.address(ch).map(|a| Target { contact: c.name.clone(), channel: ch, address: a.to_owned() }))
        .collect()
}

/// One step of a dry run: when (from the incident's start), which level, whom.
#[derive(Debug, Clone)]
pub struct Planned {
    /// From the start.
    pub at: Duration,
    /// Level.
    pub level: usize,
    /// A repeat.
    pub repeat: bool,
    /// Whom.
    pub targets: Vec<Target>,
}

/// The steps an incident with these labels would go through if nobody resolved it (the
/// engine's own [`plan`], run on a simulated clock).
pub fn dry_run(cfg: &Config, labels: &KV) -> (String, Vec<Planned>) {
    let p = cfg.route(labels);
    let mut inc = Incident {
        id: 0,
        version: 0,
        receiver: String::new(),
        group_key: String::new(),
        policy: p.name.clone(),
        external_url: String::new(),
        group_labels: labels.clone(),
        firing: true,
        level: 0,
        cycle: 0,
        start_level: Config::start_level(labels, p),
        next_at: Some(0),
        deadline_at: ms(cfg.resolution.target.0),
        started_at: 0,
        resolved_at: None,
        announce: false,
        resolve_pending: false,
        alerts: Vec::new(),
        paged: Vec::new(),
        acked: false,
        resume: false,
        reassign: None,
    };
    let mut out = Vec::new();
    for _ in 0..64 {
        let Some(now) = inc.next_at else { break };
        let Some(step) = plan(cfg, &inc, now) else { break };
        if !step.outbox.is_empty() {
            out.push(Planned {
                at: Duration::from_millis(u64::try_from(now).unwrap_or(0)),
                level: step.level,
                repeat: step.cycle > inc.cycle,
                targets: step.outbox.iter().map(|o| o.target.clone()).collect(),
            });
        }
        inc.level = step.level;
        inc.cycle = step.cycle;
        inc.next_at = step.next_at;
    }
    (p.name.clone(), out)
}

/// Runs the engine until the process stops: wakes at the earliest `next_at`, when `wake` is
/// notified (a webhook was stored, a delivery failed) or every second at the latest.
pub async fn run(cfg: Arc<Config>, store: Arc<dyn Store>, wake: Arc<Notify>, deliver: Arc<Notify>, m: Arc<Metrics>) {
    loop {
        let now = now_ms();
        match store.due(now, 256).await {
            Ok(incidents) => {
                let full = incidents.len() == 256;
                let steps: Vec<Step> = incidents.iter().filter_map(|i| plan(&cfg, i, now)).collect();
                let queued: usize = steps.iter().map(|s| s.outbox.len()).sum();
                if !steps.is_empty() {
                    // What to count once the steps are on disk.
                    let counted: Vec<(i64, Option<usize>, Option<Millis>)> = steps
                        .iter()
                        .map(|s| {
                            let paged = s.outbox.iter().any(|o| o.kind == Kind::Page).then_some(s.level);
                            let inc = incidents.iter().find(|i| i.id == s.incident);
                            let resolved =
                                inc.filter(|_| s.clear_resolve).and_then(|i| i.resolved_at.map(|r| r - i.started_at));
                            (s.incident, paged, resolved)
                        })
                        .collect();
                    match store.apply(steps, now).await {
                        Ok(applied) => {
                            for (id, paged, resolved) in counted.iter().filter(|c| applied.contains(&c.0)) {
                                let _ = id;
                                if let Some(l) = paged {
                                    m.escalations.with_label_values(&[&l.to_string()]).inc();
                                }
                                if let Some(d) = resolved {
                                    m.resolve_seconds.observe(*d as f64 / 1000.0);
                                }
                            }
                            if queued > 0 {
                                m.notifications_queued.inc_by(queued as u64);
                                deliver.notify_one();
                            }
                        }
                        Err(e) => tracing::error!(err = %e, "Cannot record escalation steps."),
                    }
                }
                if full {
                    continue;
                }
            }
            Err(e) => tracing::error!(err = %e, "Cannot read due incidents."),
        }
        let next = store.wakeups().await.ok().and_then(|(a, _)| a);
        let wait = next.map_or(1000, |t| (t - now_ms()).clamp(0, 1000));
        if wait > 0 {
            let _ = tokio::time::timeout(Duration::from_millis(wait as u64), wake.notified()).await;
        }
    }
}

#[cfg(test)]
mod tests;
