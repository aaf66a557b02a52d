//! The typed view of a `getMonitorData` reply: only the keys the collectors expose.
//!
//! Every reply carries each app's whole environment (secrets included), both under
//! `pm2_env.env` and merged over `pm2_env` itself. Nothing here keeps a key it does not know,
//! so no environment value can reach `/metrics` or a log line. Because an app's env var can
//! replace a pm2 field of the same name with a string, numbers are read leniently.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
#[cfg(test)]
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
/// no pm_id or name, is an error naming its index. (From a JSON tree: the tests' way in.)
#[cfg(test)]
pub fn parse_list(list: &Value) -> Result<Vec<Process>, String> {
    parse_list_from(list).map_err(|e| e.to_string())
}

/// [`parse_list`] straight from a reply's JSON text: no `serde_json::Value` tree is built,
/// strings are borrowed from the reply, and what the collectors don't read (each app's
/// environment, `pm2_env.env`, `axm_options`…) is skipped as it is parsed.
pub fn parse_list_from<'de, D: Deserializer<'de>>(list: D) -> Result<Vec<Process>, D::Error> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<Process>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("the getMonitorData process array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Process>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(8));
            while let Some(entry) = seq.next_element::<Entry>()? {
                let i = out.len();
                out.push(entry.into_process().map_err(|e| A::Error::custom(format!("process #{i}: {e}")))?);
            }
            Ok(out)
        }
    }
    list.deserialize_seq(Entries)
}

/// A scalar as the reply has it; strings borrowed where they hold no escape.
#[derive(Clone, Debug)]
enum Scalar<'a> {
    Str(Cow<'a, str>),
    Num(serde_json::Number),
    Bool(bool),
    /// null, an object or an array.
    Other,
}

impl Scalar<'_> {
    /// A number, or a string holding one (an env var may have replaced the field).
    fn number(&self) -> Option<f64> {
        match self {
            Scalar::Num(n) => n.as_f64(),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s.to_string()),
            Scalar::Num(n) => Some(n.to_string()),
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Other => None,
        }
    }

    /// A string as is (not a number turned to text).
    fn str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Num(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Num(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Scalar::Other, Scalar::Num))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// An object key, borrowed from the reply when it holds no escape. (serde's own `Cow<str>`
/// always copies: one allocation per key of every app's environment, on every scrape.)
pub struct Key<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Key<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The visitor methods of a value read only when it is an object: anything else (a scalar,
/// null, an array, whose elements are skipped) gives `$none`.
macro_rules! not_an_object {
    ($de:lifetime, $value:ty, $none:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_i64<E>(self, _: i64) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_u64<E>(self, _: u64) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_f64<E>(self, _: f64) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_str<E>(self, _: &str) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_unit<E>(self) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_none<E>(self) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_seq<A: SeqAccess<$de>>(self, mut seq: A) -> Result<$value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($none)
        }
    };
}

/// One entry of the array, before the checks: anything that is not an object is `None`.
struct Entry<'a>(Option<Fields<'a>>);

#[derive(Default)]
struct Fields<'a> {
    pm_id: Option<Scalar<'a>>,
    name: Option<Scalar<'a>>,
    pid: Option<Scalar<'a>>,
    monit: Option<Monit>,
    env: Option<Env<'a>>,
}

#[derive(Default)]
struct Monit {
    cpu: Option<f64>,
    memory: Option<f64>,
}

/// `pm2_env`: the keys we read, plus every other scalar (one may be the instance variable).
#[derive(Default)]
struct Env<'a> {
    known: [Option<Scalar<'a>>; ENV_KEYS.len()],
    axm_monitor: Option<Vec<Custom>>,
    others: Vec<(Cow<'a, str>, Scalar<'a>)>,
}

const ENV_KEYS: [&str; 15] = [
    "instance_var",
    "status",
    "exec_mode",
    "instances",
    "restart_time",
    "unstable_restarts",
    "pm_uptime",
    "created_at",
    "exit_code",
    "prev_restart_delay",
    "version",
    "exec_interpreter",
    "node_version",
    "NODE_APP_INSTANCE",
    "axm_monitor",
];

impl<'a> Env<'a> {
    fn get(&self, key: &str) -> Option<&Scalar<'a>> {
        match ENV_KEYS.iter().position(|k| *k == key) {
            Some(at) => self.known[at].as_ref(),
            None => self.others.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
        }
    }
}

impl<'de> Deserialize<'de> for Entry<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a process")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry<'de>, A::Error> {
                let mut f = Fields::default();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match &*key {
                        "pm_id" => f.pm_id = Some(map.next_value()?),
                        "name" => f.name = Some(map.next_value()?),
                        "pid" => f.pid = Some(map.next_value()?),
                        "monit" => f.monit = map.next_value::<Option<MonitDe>>()?.map(|m| m.0),
                        "pm2_env" => f.env = map.next_value::<EnvDe>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Entry(Some(f)))
            }
            not_an_object!('de, Entry<'de>, Entry(None));
        }
        d.deserialize_any(V)
    }
}

/// `monit` when it is an object (else no figures).
struct MonitDe(Monit);

impl<'de> Deserialize<'de> for MonitDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = ObjectOf::<Scalar<'de>>::deserialize(d)?;
        let mut m = Monit::default();
        for (k, v) in map.0.unwrap_or_default() {
            match &*k {
                "cpu" => m.cpu = v.number(),
                "memory" => m.memory = v.number(),
                _ => {}
            }
        }
        Ok(MonitDe(m))
    }
}

/// `pm2_env` when it is an object, `None` otherwise.
struct EnvDe<'a>(Option<Env<'a>>);

impl<'de> Deserialize<'de> for EnvDe<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvDe<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("pm2_env")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvDe<'de>, A::Error> {
                let mut env = Env::default();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if &*key == "axm_monitor" {
                        env.axm_monitor = map.next_value::<CustomDe>()?.0;
                        env.known[ENV_KEYS.len() - 1] = Some(Scalar::Other);
                    } else if matches!(&*key, "env" | "axm_options" | "axm_actions") {
                        // The environment again, and @pm2/io's options: never read.
                        map.next_value::<IgnoredAny>()?;
                    } else if let Some(at) = ENV_KEYS.iter().position(|k| *k == &*key) {
                        env.known[at] = Some(map.next_value()?);
                    } else if env.known[0].as_ref().and_then(Scalar::str).is_some_and(|var| var != &*key) {
                        // Once `instance_var` is known, only its key is worth keeping.
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        let value: Scalar<'de> = map.next_value()?;
                        if !matches!(value, Scalar::Other) {
                            env.others.push((key.0, value));
                        }
                    }
                }
                Ok(EnvDe(Some(env)))
            }
            not_an_object!('de, EnvDe<'de>, EnvDe(None));
        }
        d.deserialize_any(V)
    }
}

/// An object as (key, value) pairs in reply order; anything else is `None`.
struct ObjectOf<'a, T>(Option<Vec<(Cow<'a, str>, T)>>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOf<'de, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ObjectOf<'de, T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ObjectOf<'de, T>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Key<'de>, T>()? {
                    out.push((k.0, v));
                }
                Ok(ObjectOf(Some(out)))
            }
            not_an_object!('de, ObjectOf<'de, T>, ObjectOf(None));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// One `axm_monitor` value's fields we read.
struct MetricDe<'a> {
    id: Option<Scalar<'a>>,
    unit: Option<Scalar<'a>>,
    value: Option<Scalar<'a>>,
}

impl<'de> Deserialize<'de> for MetricDe<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = ObjectOf::<Scalar<'de>>::deserialize(d)?;
        let mut m = MetricDe { id: None, unit: None, value: None };
        for (k, v) in map.0.unwrap_or_default() {
            match &*k {
                "type" => m.id = Some(v),
                "unit" => m.unit = Some(v),
                "value" => m.value = Some(v),
                _ => {}
            }
        }
        Ok(m)
    }
}

/// `axm_monitor`, sorted by name with the last of a repeated name kept (as a JSON object
/// map reads it); `None` when it is not an object.
struct CustomDe(Option<Vec<Custom>>);

impl<'de> Deserialize<'de> for CustomDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(pairs) = ObjectOf::<MetricDe<'de>>::deserialize(d)?.0 else { return Ok(CustomDe(None)) };
        let mut out: Vec<Custom> = Vec::with_capacity(pairs.len());
        for (name, m) in pairs {
            let custom = Custom {
                name: name.into_owned(),
                id: m.id.as_ref().and_then(Scalar::str).map(str::to_owned),
                unit: m.unit.as_ref().and_then(Scalar::str).map(str::to_owned),
                value: m.value.as_ref().and_then(|v| match v {
                    Scalar::Num(n) => n.as_f64(),
                    Scalar::Str(s) => parse_float_prefix(s),
                    _ => None,
                }),
            };
            match out.iter_mut().find(|c| c.name == custom.name) {
                Some(old) => *old = custom,
                None => out.push(custom),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(CustomDe(Some(out)))
    }
}

impl Entry<'_> {
    fn into_process(self) -> Result<Process, &'static str> {
        let f = self.0.ok_or("no pm2_env")?;
        let env = f.env.ok_or("no pm2_env")?;
        let pm_id = f.pm_id.as_ref().and_then(Scalar::number).ok_or("no pm_id")? as i64;
        let name = f.name.as_ref().and_then(Scalar::str).ok_or("no name")?.to_owned();
        let text = |key: &str| env.get(key).and_then(Scalar::text);
        let num = |key: &str| env.get(key).and_then(Scalar::number);
        let instance_var = text("instance_var").unwrap_or_else(|| "NODE_APP_INSTANCE".into());
        let monit = f.monit.unwrap_or_default();
        Ok(Process {
            pm_id,
            name,
            pid: f.pid.as_ref().and_then(Scalar::number).unwrap_or(0.0).max(0.0) as u32,
            status: text("status").unwrap_or_else(|| "unknown".into()),
            exec_mode: text("exec_mode").unwrap_or_default(),
            instances: num("instances"),
            instance: text(&instance_var).unwrap_or_default(),
            restarts: num("restart_time").unwrap_or(0.0),
            unstable_restarts: num("unstable_restarts").unwrap_or(0.0),
            started_ms: num("pm_uptime"),
            created_ms: num("created_at"),
            exit_code: num("exit_code"),
            prev_restart_delay_ms: num("prev_restart_delay"),
            version: text("version").filter(|v| !v.is_empty()).unwrap_or_else(|| "N/A".into()),
            interpreter: text("exec_interpreter").unwrap_or_default(),
            node_version: text("node_version").unwrap_or_default(),
            monit_cpu: monit.cpu.unwrap_or(0.0),
            monit_memory: monit.memory.unwrap_or(0.0),
            custom: env.axm_monitor.unwrap_or_default(),
        })
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
    fn a_custom_instance_var_is_found_before_or_after_its_name() {
        // From the reply text (keys borrowed, the path a scrape takes), in both orders.
        for text in [
            r#"[{"pm_id":0,"name":"a","pm2_env":{"WORKER":"7","instance_var":"WORKER","OTHER":"x"}}]"#,
            r#"[{"pm_id":0,"name":"a","pm2_env":{"instance_var":"WORKER","OTHER":"x","WORKER":"8"}}]"#,
        ] {
            let list = parse_list_from(&mut serde_json::Deserializer::from_str(text)).unwrap();
            let want = if text.contains(r#""WORKER":"7""#) { "7" } else { "8" };
            assert_eq!(list[0].instance, want, "{text}");
        }
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
