//! The typed view of a `getMonitorData` reply: only the keys the collectors expose.
//!
//! Every reply carries each app's whole environment (secrets included), both under
//! `pm2_env.env` and merged over `pm2_env` itself. Nothing here keeps a key it does not know,
//! so no environment value can reach `/metrics` or a log line. Because an app's env var can
//! replace a pm2 field of the same name with a string, numbers are read leniently.

use serde_json::Value;

/// One entry of the process list (one pm_id).
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    /// pm2's stable id.
    pub pm_id: i64,
    /// App name; not unique (every cluster instance shares it).
    pub name: String,
    /// OS pid; 0 when stopped or errored.
    pub pid: u32,
    /// `online`, `stopped`, `errored`, …
    pub status: String,
    /// `fork_mode` or `cluster_mode`.
    pub exec_mode: String,
    /// Configured instance count.
    pub instances: Option<f64>,
    /// `NODE_APP_INSTANCE` (0 for every fork app), as text.
    pub instance: String,
    /// Restarts since start or `pm2 reset`.
    pub restarts: f64,
    /// Restarts with uptime under min_uptime.
    pub unstable_restarts: f64,
    /// Last (re)start, ms since the epoch.
    pub started_ms: Option<f64>,
    /// Creation, ms since the epoch (null after an app errored).
    pub created_ms: Option<f64>,
    /// Last exit code, absent until the first exit.
    pub exit_code: Option<f64>,
    /// Delay before the last restart, ms (exp_backoff_restart_delay).
    pub prev_restart_delay_ms: Option<f64>,
    /// `version` of the app's package.json ("N/A" when absent, as pm2-metrics writes it).
    pub version: String,
    /// Interpreter (`node`, `none`, …).
    pub interpreter: String,
    /// Node.js version.
    pub node_version: String,
    /// The daemon's CPU figure, % of one core since the previous caller's call.
    pub monit_cpu: f64,
    /// RSS in bytes as the daemon measured it.
    pub monit_memory: f64,
    /// `@pm2/io` metrics, in reply order.
    pub custom: Vec<Custom>,
}

/// One `axm_monitor` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Custom {
    /// The display name (`HTTP P95 Latency`).
    pub name: String,
    /// The metric id (`internal/http/builtin/latency/p95`), absent when the app gave none.
    pub id: Option<String>,
    /// Unit as sent (`ms`, `MiB`, `%`, `req/min`).
    pub unit: Option<String>,
    /// The value, when it reads as a number the way pm2-metrics reads it.
    pub value: Option<f64>,
}

/// Parses the process array (`args[0]` of the reply). An entry that is not an object, or has
/// no pm_id or name, is an error naming its index.
pub fn parse_list(list: &Value) -> Result<Vec<Process>, String> {
    let items = list.as_array().ok_or("getMonitorData result is not an array")?;
    items.iter().enumerate().map(|(i, p)| parse_process(p).map_err(|e| format!("process #{i}: {e}"))).collect()
}

fn parse_process(p: &Value) -> Result<Process, String> {
    let env = p.get("pm2_env").filter(|e| e.is_object()).ok_or("no pm2_env")?;
    let pm_id = p.get("pm_id").and_then(number).ok_or("no pm_id")? as i64;
    let name = p.get("name").and_then(Value::as_str).ok_or("no name")?.to_owned();
    let text = |key: &str| env.get(key).and_then(as_text);
    let instance_var = text("instance_var").unwrap_or_else(|| "NODE_APP_INSTANCE".into());
    let monit = p.get("monit");
    Ok(Process {
        pm_id,
        name,
        pid: p.get("pid").and_then(number).unwrap_or(0.0).max(0.0) as u32,
        status: text("status").unwrap_or_else(|| "unknown".into()),
        exec_mode: text("exec_mode").unwrap_or_default(),
        instances: env.get("instances").and_then(number),
        instance: env.get(instance_var.as_str()).and_then(as_text).unwrap_or_default(),
        restarts: env.get("restart_time").and_then(number).unwrap_or(0.0),
        unstable_restarts: env.get("unstable_restarts").and_then(number).unwrap_or(0.0),
        started_ms: env.get("pm_uptime").and_then(number),
        created_ms: env.get("created_at").and_then(number),
        exit_code: env.get("exit_code").and_then(number),
        prev_restart_delay_ms: env.get("prev_restart_delay").and_then(number),
        version: text("version").filter(|v| !v.is_empty()).unwrap_or_else(|| "N/A".into()),
        interpreter: text("exec_interpreter").unwrap_or_default(),
        node_version: text("node_version").unwrap_or_default(),
        monit_cpu: monit.and_then(|m| m.get("cpu")).and_then(number).unwrap_or(0.0),
        monit_memory: monit.and_then(|m| m.get("memory")).and_then(number).unwrap_or(0.0),
        custom: env.get("axm_monitor").and_then(Value::as_object).map(parse_custom).unwrap_or_default(),
    })
}

fn parse_custom(map: &serde_json::Map<String, Value>) -> Vec<Custom> {
    map.iter()
        .map(|(name, m)| Custom {
            name: name.clone(),
            id: m.get("type").and_then(Value::as_str).map(str::to_owned),
            unit: m.get("unit").and_then(Value::as_str).map(str::to_owned),
            value: m.get("value").and_then(|v| match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => parse_float_prefix(s),
                _ => None,
            }),
        })
        .collect()
}

/// A number, or a string holding one (an env var may have replaced the field).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// JavaScript's `parseFloat`: the longest numeric prefix after leading spaces
/// (`"0.38"` → 0.38, `"12ms"` → 12, `"v1.2.3"` → none), as pm2-metrics reads values.
pub fn parse_float_prefix(s: &str) -> Option<f64> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix("Infinity").or_else(|| s.strip_prefix("+Infinity")) {
        let _ = rest;
        return Some(f64::INFINITY);
    }
    if s.starts_with("-Infinity") {
        return Some(f64::NEG_INFINITY);
    }
    let b = s.as_bytes();
    let mut end = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    while b.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if b.get(end) == Some(&b'.') {
        end += 1;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    if !s[digits_start..end].chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    // An exponent only counts when digits follow it.
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(b.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        if b.get(e).is_some_and(u8::is_ascii_digit) {
            while b.get(e).is_some_and(u8::is_ascii_digit) {
                e += 1;
            }
            end = e;
        }
    }
    s[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/getMonitorData.json");
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn parses_the_captured_reply() {
        let list = parse_list(&fixture()).unwrap();
        assert_eq!(list.len(), 7);
        let web1 = &list[1];
        assert_eq!((web1.pm_id, web1.name.as_str(), web1.pid), (1, "web", 25057));
        assert_eq!((web1.exec_mode.as_str(), web1.instance.as_str(), web1.instances), ("cluster_mode", "1", Some(2.0)));
        let flaky = &list[4];
        assert_eq!((flaky.restarts, flaky.exit_code, flaky.custom.len()), (17.0, Some(1.0), 0));
        let crash = &list[5];
        assert_eq!((crash.status.as_str(), crash.pid, crash.created_ms), ("errored", 0, None));
        let io = &list[2];
        let p95 = io.custom.iter().find(|c| c.name == "HTTP P95 Latency").unwrap();
        assert_eq!(p95.unit.as_deref(), Some("ms"));
        assert_eq!(p95.id.as_deref(), Some("internal/http/builtin/latency/p95"));
        assert!(p95.value.is_some());
        let tag = io.custom.iter().find(|c| c.name == "build tag").unwrap();
        assert_eq!(tag.value, None, "v1.2.3 is not a number");
    }

    #[test]
    fn secrets_in_the_environment_are_not_kept() {
        let mut reply = fixture();
        reply[0]["pm2_env"]["DB_PASSWORD"] = "hunter2-secret".into();
        reply[0]["pm2_env"]["env"]["DB_PASSWORD"] = "hunter2-secret".into();
        let list = parse_list(&reply).unwrap();
        assert!(!format!("{list:?}").contains("hunter2"));
    }

    #[test]
    fn env_vars_shadowing_fields_are_read_leniently() {
        let mut reply = fixture();
        reply[0]["pm2_env"]["instances"] = "3".into();
        reply[0]["pm2_env"]["version"] = 7.into();
        let p = &parse_list(&reply).unwrap()[0];
        assert_eq!((p.instances, p.version.as_str()), (Some(3.0), "7"));
    }

    #[test]
    fn malformed_entries_name_their_index() {
        let err =
            parse_list(&serde_json::json!([{"pm_id": 0, "name": "a", "pm2_env": {}}, {"name": "b"}])).unwrap_err();
        assert!(err.starts_with("process #1:"), "{err}");
        assert!(parse_list(&serde_json::json!({"a": 1})).is_err());
    }

    #[test]
    fn parse_float_like_javascript() {
        assert_eq!(parse_float_prefix("0.38"), Some(0.38));
        assert_eq!(parse_float_prefix(" 12ms"), Some(12.0));
        assert_eq!(parse_float_prefix("-3.5e2x"), Some(-350.0));
        assert_eq!(parse_float_prefix("1e"), Some(1.0));
        assert_eq!(parse_float_prefix(".5"), Some(0.5));
        assert_eq!(parse_float_prefix("v1.2.3"), None);
        assert_eq!(parse_float_prefix(""), None);
        assert_eq!(parse_float_prefix("."), None);
    }
}
