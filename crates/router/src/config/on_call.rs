//! The checks tying teams and levels to `schedules[]`: a team names a schedule that exists
//! and has no `members` beside it, and everyone a schedule can put on call has an address on
//! the channels of each level that pages it (else they would be on call and never told).

use std::collections::BTreeMap;

use super::{ContactFile, TeamFile};
use crate::model::ChannelKind;
use crate::schedule::{Schedule, ScheduleFile};

/// Problems of team `t` (at field path `at`) with its `schedule`.
pub(super) fn check_team(t: &TeamFile, schedules: &[ScheduleFile], at: &str, err: &mut dyn FnMut(String, String)) {
    let Some(name) = &t.schedule else { return };
    if !t.members.is_empty() {
        err(format!("{at}.schedule"), "give `members` (all paged) or `schedule` (the person on call), not both".into());
    }
    if !schedules.iter().any(|s| &s.name == name) {
        err(format!("{at}.schedule"), format!("unknown schedule {name:?}"));
    }
}

/// One message per member of the schedules `rotas` who has no address on any of `channels`.
pub(super) fn unreachable(
    rotas: &[&str],
    schedules: &[Schedule],
    contacts: &BTreeMap<&str, &ContactFile>,
    channels: &[ChannelKind],
) -> Vec<String> {
    let mut out = Vec::new();
    for s in schedules.iter().filter(|s| rotas.contains(&s.name.as_str())) {
        for m in s.members() {
            let Some(c) = contacts.get(m) else { continue };
            if !channels.iter().any(|ch| c.address(*ch).is_some()) {
                let list: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
                out.push(format!(
                    "{m:?} can be on call in schedule {:?} but has no address on this level's channels ({})",
                    s.name,
                    list.join(", ")
                ));
            }
        }
    }
    out
}

/// Only the schedules of `path`, for dry runs (`oncall`): parses the whole file but checks
/// just `schedules` against the contact names, so it needs none of the secrets.
pub fn load_schedules(path: &std::path::Path) -> Result<Vec<Schedule>, Vec<vigie_kit::config::ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![vigie_kit::config::ConfigError {
            path: path.to_path_buf(),
            location: None,
            field: None,
            msg: e.to_string(),
        }]
    })?;
    let file: super::File = vigie_kit::config::parse(path, &text).map_err(|e| vec![e])?;
    let known = |n: &str| file.contacts.iter().any(|c| c.name == n);
    crate::schedule::compile(&file.schedules, &known)
        .map_err(|ps| ps.into_iter().map(|p| super::check::located(path, &text, &p.field, p.msg)).collect())
}

#[cfg(test)]
mod tests;
