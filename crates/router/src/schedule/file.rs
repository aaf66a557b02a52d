//! `schedules[]` as written in `router.yml`. Values stay strings here so that
//! [`super::compile`] can report every bad one with its field path, not just the first.
//!
//! ```yaml
//! schedules:
//!   - name: support-rota
//!     time_zone: Europe/Paris
//!     layers:
//!       - rotation: {members: [alice, bob], shift: 1w, handoff: "monday 09:00", start: 2026-01-05}
//!       - rotation: {members: [carol], shift: 1d, handoff: "18:00", start: 2026-01-05}
//!         restrict: [{days: [mon, tue, wed, thu, fri], from: "18:00", to: "09:00"}]
//! ```

use serde::Deserialize;

/// `schedules[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleFile {
    /// Unique name; teams refer to it with `schedule:`.
    pub name: String,
    /// IANA zone (`Europe/Paris`): handoffs and restrictions are wall-clock times there.
    pub time_zone: String,
    /// Layers, lowest first: a later layer covers an earlier one where it has someone.
    pub layers: Vec<LayerFile>,
}

/// `schedules[].layers[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerFile {
    /// Who, in turn.
    pub rotation: RotationFile,
    /// When this layer counts; none means always.
    #[serde(default)]
    pub restrict: Vec<RestrictFile>,
}

/// `schedules[].layers[].rotation`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationFile {
    /// Contact names, in turn order.
    pub members: Vec<String>,
    /// Length of one shift: `12h`, `1d`, `1w`, `2w`, `1d12h` (calendar days and weeks of the
    /// schedule's zone).
    pub shift: String,
    /// Local time of the handoff, `"18:00"`, or weekday and time, `"monday 09:00"` (then the
    /// shift must be whole weeks).
    pub handoff: String,
    /// Date (`2026-01-05`) from which the first shift, `members[0]`'s, starts at the first
    /// handoff on or after it. Before it the layer has nobody.
    pub start: String,
}

/// `schedules[].layers[].restrict[]`: a window that starts on each of `days` at `from` and
/// ends at `to`, on the next day when `to` is not after `from` (`18:00`→`09:00`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictFile {
    /// Days the window starts on (`mon`…`sun` or full names); default every day.
    #[serde(default)]
    pub days: Vec<String>,
    /// Local start, `HH:MM`.
    pub from: String,
    /// Local end, `HH:MM` (`24:00` for midnight at the end of the day).
    pub to: String,
}
