//! The bulk request this exporter sends, and the typed view of Jolokia's reply.
//!
//! Entries are recognised by the request Jolokia echoes back (MBean and operation), not by
//! position, so a reply to a differently ordered request still reads right. An entry with a
//! non-200 `status` (a JVM without Tomcat has no `Catalina:*` MBeans) is skipped, never an
//! error for the rest of the scrape.

use std::sync::Arc;

use serde_json::Value;

use crate::rules::Rules;

/// One bulk POST: every MBean the collectors read. `includeStackTrace=false` is not needed in
/// the body: error entries are read for their status only.
pub const BULK: &str = r#"[
{"type":"read","mbean":"java.lang:type=Memory","attribute":["HeapMemoryUsage","NonHeapMemoryUsage","ObjectPendingFinalizationCount"]},
{"type":"read","mbean":"java.lang:type=MemoryPool,name=*","attribute":["Usage","CollectionUsage"]},
{"type":"read","mbean":"java.lang:type=GarbageCollector,name=*","attribute":["CollectionCount","CollectionTime"]},
{"type":"read","mbean":"java.lang:type=Threading","attribute":["ThreadCount","DaemonThreadCount","PeakThreadCount","TotalStartedThreadCount"]},
{"type":"exec","mbean":"java.lang:type=Threading","operation":"dumpAllThreads(boolean,boolean)","arguments":[false,false],"path":"*/threadState"},
{"type":"exec","mbean":"java.lang:type=Threading","operation":"findDeadlockedThreads"},
{"type":"exec","mbean":"java.lang:type=Threading","operation":"findMonitorDeadlockedThreads"},
{"type":"read","mbean":"java.lang:type=ClassLoading","attribute":["LoadedClassCount","TotalLoadedClassCount","UnloadedClassCount"]},
{"type":"read","mbean":"java.nio:type=BufferPool,name=*","attribute":["MemoryUsed","TotalCapacity","Count"]},
{"type":"read","mbean":"java.lang:type=Compilation","attribute":["TotalCompilationTime"]},
{"type":"read","mbean":"java.lang:type=Runtime","attribute":["StartTime"]},
{"type":"read","mbean":"java.lang:type=Runtime","attribute":"SystemProperties","path":"java.runtime.version"},
{"type":"read","mbean":"java.lang:type=Runtime","attribute":"SystemProperties","path":"java.runtime.name"},
{"type":"read","mbean":"java.lang:type=Runtime","attribute":"SystemProperties","path":"java.vm.vendor"},
{"type":"read","mbean":"java.lang:type=OperatingSystem","attribute":["OpenFileDescriptorCount","MaxFileDescriptorCount","ProcessCpuTime","CommittedVirtualMemorySize"]},
{"type":"read","mbean":"Catalina:type=ThreadPool,name=*","attribute":["currentThreadCount","currentThreadsBusy","keepAliveCount","connectionCount","acceptCount","acceptorThreadCount","pollerThreadCount","maxThreads","minSpareThreads"]},
{"type":"read","mbean":"Catalina:type=GlobalRequestProcessor,name=*"},
{"type":"read","mbean":"Catalina:type=Manager,host=*,context=*","attribute":["processingTime","sessionCounter","rejectedSessions","expiredSessions"]},
{"type":"read","mbean":"Catalina:type=Server","attribute":["serverInfo"]}
]"#;

/// What an entry of the reply is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// `java.lang:type=Memory`.
    Memory,
    /// `java.lang:type=MemoryPool,name=*`.
    MemoryPools,
    /// `java.lang:type=GarbageCollector,name=*`.
    Collectors,
    /// `java.lang:type=Threading` attributes.
    Threading,
    /// `dumpAllThreads` with path `*/threadState`: one state per thread.
    ThreadStates,
    /// `findDeadlockedThreads`: null or thread ids.
    Deadlocked,
    /// `findMonitorDeadlockedThreads`.
    MonitorDeadlocked,
    /// `java.lang:type=ClassLoading`.
    ClassLoading,
    /// `java.nio:type=BufferPool,name=*`.
    BufferPools,
    /// `java.lang:type=Compilation`.
    Compilation,
    /// `java.lang:type=Runtime` attributes.
    Runtime,
    /// One system property, by name.
    Property(Prop),
    /// `java.lang:type=OperatingSystem`.
    OperatingSystem,
    /// `Catalina:type=ThreadPool,name=*`.
    TomcatThreadPools,
    /// `Catalina:type=GlobalRequestProcessor,name=*`.
    TomcatRequests,
    /// `Catalina:type=Manager,…`.
    TomcatSessions,
    /// `Catalina:type=Server`.
    TomcatServer,
}

/// The system properties `jvm_info` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prop {
    /// `java.runtime.version`.
    RuntimeVersion,
    /// `java.runtime.name`.
    RuntimeName,
    /// `java.vm.vendor`.
    VmVendor,
}

/// The successful entries of a reply, by part.
#[derive(Debug, Default)]
pub struct Reply {
    entries: Vec<(Part, Value)>,
    /// Entries Jolokia answered with an error status (not an error of the scrape).
    pub failed: usize,
    /// The `--config.file` rules, when given.
    pub rules: Option<Arc<Rules>>,
    /// The rules' reads: (ObjectName pattern as requested, value).
    pub rule_reads: Vec<(String, Value)>,
}

/// The request body: [`BULK`], then one read of every attribute per include pattern of the
/// rules. Jolokia answers a bulk request in order, so entries past `BULK`'s are the rules'.
pub fn bulk_body(rules: Option<&Rules>) -> String {
    let Some(rules) = rules else { return BULK.to_owned() };
    let mut entries: Vec<Value> = serde_json::from_str(BULK).unwrap_or_default();
    for name in &rules.include {
        // ignoreErrors: an attribute that cannot be read does not fail its MBean's read;
        // canonicalNaming off: MBean names keep their registration order, which the rules'
        // `domain<props>` string uses.
        entries.push(serde_json::json!({
            "type": "read",
            "mbean": name,
            "config": {"ignoreErrors": true, "canonicalNaming": false, "serializeException": false},
        }));
    }
    Value::Array(entries).to_string()
}

/// How many entries [`BULK`] holds.
pub fn bulk_len() -> usize {
    static LEN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LEN.get_or_init(|| serde_json::from_str::<Vec<Value>>(BULK).map_or(0, |v| v.len()))
}

impl Reply {
    /// The value of `part`, if Jolokia answered it.
    pub fn get(&self, part: Part) -> Option<&Value> {
        self.entries.iter().find(|(p, _)| *p == part).map(|(_, v)| v)
    }
}

/// Parses a bulk reply body. Not JSON, or not an array: an error (Jolokia is not what
/// answered). Unknown or failed entries are skipped.
pub fn parse(body: &[u8], rules: Option<&Arc<Rules>>) -> Result<Reply, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("reply is not JSON: {e}"))?;
    let entries = match value {
        Value::Array(a) => a,
        // A request-level error (bad JSON in, wrong content type) is one object.
        Value::Object(o) => {
            let err = o.get("error").and_then(Value::as_str).unwrap_or("not a bulk reply");
            return Err(format!("Jolokia error: {}", err.chars().take(200).collect::<String>()));
        }
        _ => return Err("reply is not a JSON array".into()),
    };
    let mut reply = Reply { rules: rules.cloned(), ..Reply::default() };
    let fixed = bulk_len();
    for (i, mut entry) in entries.into_iter().enumerate() {
        let ok = entry.get("status").and_then(Value::as_u64) == Some(200);
        if let Some(rules) = rules.filter(|_| i >= fixed) {
            // A pattern that matches no MBean answers 404: nothing to read, not a failure.
            if let (true, Some(name)) = (ok, rules.include.get(i - fixed)) {
                let mut value = entry.get_mut("value").map(Value::take).unwrap_or(Value::Null);
                sort_objects(&mut value);
                reply.rule_reads.push((name.clone(), value));
            }
            continue;
        }
        let part = entry.get("request").and_then(classify);
        match (ok, part) {
            (true, Some(part)) => {
                let mut value = entry.get_mut("value").map(Value::take).unwrap_or(Value::Null);
                sort_objects(&mut value);
                reply.entries.push((part, value));
            }
            (false, _) => reply.failed += 1,
            (true, None) => {}
        }
    }
    Ok(reply)
}

/// Sorts every object's keys, at every depth. The collectors walk these maps to write
/// samples, and serde_json's map keeps insertion order or sorts depending on a feature
/// (`preserve_order`, turned on by the mongodb driver's bson when the whole workspace is
/// built together): sorted here, the exposition is the same whatever the build.
fn sort_objects(value: &mut Value) {
    match value {
        Value::Object(m) => {
            m.sort_keys();
            m.values_mut().for_each(sort_objects);
        }
        Value::Array(a) => a.iter_mut().for_each(sort_objects),
        _ => {}
    }
}

/// Recognises an echoed request. Jolokia echoes pattern MBean names canonically (keys
/// sorted), so the `type=` key is looked up, not matched as text.
pub fn classify(request: &Value) -> Option<Part> {
    let mbean = request.get("mbean")?.as_str()?;
    let (domain, keys) = mbean.split_once(':')?;
    let ty = keys.split(',').find_map(|kv| kv.strip_prefix("type="))?;
    let operation = request.get("operation").and_then(Value::as_str);
    let path = request.get("path").and_then(Value::as_str);
    Some(match (domain, ty, operation, path) {
        ("java.lang", "Memory", None, _) => Part::Memory,
        ("java.lang", "MemoryPool", None, _) => Part::MemoryPools,
        ("java.lang", "GarbageCollector", None, _) => Part::Collectors,
        ("java.lang", "Threading", None, _) => Part::Threading,
        ("java.lang", "Threading", Some(op), _) if op.starts_with("dumpAllThreads") => Part::ThreadStates,
        ("java.lang", "Threading", Some("findDeadlockedThreads"), _) => Part::Deadlocked,
        ("java.lang", "Threading", Some("findMonitorDeadlockedThreads"), _) => Part::MonitorDeadlocked,
        ("java.lang", "ClassLoading", None, _) => Part::ClassLoading,
        ("java.nio", "BufferPool", None, _) => Part::BufferPools,
        ("java.lang", "Compilation", None, _) => Part::Compilation,
        ("java.lang", "Runtime", None, Some("java.runtime.version")) => Part::Property(Prop::RuntimeVersion),
        ("java.lang", "Runtime", None, Some("java.runtime.name")) => Part::Property(Prop::RuntimeName),
        ("java.lang", "Runtime", None, Some("java.vm.vendor")) => Part::Property(Prop::VmVendor),
        ("java.lang", "Runtime", None, None) => Part::Runtime,
        ("java.lang", "OperatingSystem", None, _) => Part::OperatingSystem,
        ("Catalina", "ThreadPool", None, _) => Part::TomcatThreadPools,
        ("Catalina", "GlobalRequestProcessor", None, _) => Part::TomcatRequests,
        ("Catalina", "Manager", None, _) => Part::TomcatSessions,
        ("Catalina", "Server", None, _) => Part::TomcatServer,
        _ => return None,
    })
}

/// A number attribute (Jolokia sends `"Unsupported"` strings for some).
pub fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// The value of property `key` in an ObjectName (`name` of
/// `java.lang:name=G1 Young Generation,type=GarbageCollector`), quotes removed.
pub fn object_key<'a>(object_name: &'a str, key: &str) -> Option<&'a str> {
    let (_, keys) = object_name.split_once(':')?;
    // Values may be quoted and hold commas: split on commas outside quotes.
    let mut start = 0;
    let mut quoted = false;
    let bytes = keys.as_bytes();
    for i in 0..=bytes.len() {
        if i < bytes.len() && bytes[i] == b'"' {
            quoted = !quoted;
        }
        if i == bytes.len() || (bytes[i] == b',' && !quoted) {
            let kv = &keys[start..i];
            if let Some((k, v)) = kv.split_once('=') {
                if k == key {
                    return Some(v.trim_matches('"'));
                }
            }
            start = i + 1;
        }
    }
    None
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A captured reply under `tests/fixtures`.
    pub fn fixture(name: &str) -> Reply {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        parse(&std::fs::read(path).unwrap(), None).unwrap()
    }

    #[test]
    fn bulk_request_is_valid_json_and_every_entry_classifies() {
        let v: Value = serde_json::from_str(BULK).unwrap();
        for entry in v.as_array().unwrap() {
            assert!(classify(entry).is_some(), "{entry}");
        }
    }

    #[test]
    fn captured_tomcat_reply() {
        let r = fixture("tomcat10-bulk.json");
        assert_eq!(r.failed, 1, "the deliberate 404 entry");
        assert_eq!(num(r.get(Part::Threading).unwrap(), "ThreadCount"), Some(22.0));
        assert!(r.get(Part::TomcatRequests).is_some());
        assert_eq!(r.get(Part::Property(Prop::RuntimeName)).unwrap(), "OpenJDK Runtime Environment");
        assert_eq!(r.get(Part::Deadlocked), Some(&Value::Null));
    }

    #[test]
    fn request_level_errors_and_garbage() {
        let e = parse(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/tomcat10-error-post-form-content-type.json"
            ))
            .unwrap(),
            None,
        );
        assert!(e.unwrap_err().starts_with("Jolokia error:"));
        assert!(parse(b"<html>", None).is_err());
        assert!(parse(b"42", None).is_err());
    }

    #[test]
    fn object_keys() {
        let n = r#"Catalina:name="http-nio-127.0.0.1-55025",type=ThreadPool"#;
        assert_eq!(object_key(n, "name"), Some("http-nio-127.0.0.1-55025"));
        assert_eq!(object_key(n, "type"), Some("ThreadPool"));
        assert_eq!(
            object_key("java.lang:name=G1 Old Generation,type=GarbageCollector", "name"),
            Some("G1 Old Generation")
        );
        assert_eq!(object_key(r#"d:a="x,y",b=2"#, "b"), Some("2"));
        assert_eq!(object_key("nocolon", "a"), None);
    }
}
