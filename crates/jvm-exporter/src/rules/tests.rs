//! Rule-format tests: the examples of jmx_exporter's documentation (`docs/configuration/
//! rules.md`, `examples/tomcat.yml`) written out here as configs, run over captured Jolokia
//! replies; and the errors a bad config gives.

use std::path::Path;

use serde_json::{json, Value};

use super::java::{expand, java_double, java_parse_double, safe_name, snake_case};
use super::*;
use crate::collectors::rules::{matched, write};
use crate::collectors::Names;

fn rules(yaml: &str) -> Rules {
    Rules::parse(Path::new("jmx.yml"), yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn error(yaml: &str) -> String {
    Rules::parse(Path::new("jmx.yml"), yaml).map(|_| ()).unwrap_err().to_string()
}

/// The entry for `mbean` of a captured bulk reply.
fn captured(file: &str, mbean: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(file);
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let entries = if v.is_array() { v.as_array().unwrap().clone() } else { vec![v] };
    entries.into_iter().find(|e| e["request"]["mbean"] == mbean).unwrap()["value"].clone()
}

fn text(rules: &Rules, reads: &[(&str, Value)], names: Names) -> String {
    let reads: Vec<(String, Value)> = reads.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
    let mut out = vigie_kit::MetricSet::new();
    write(matched(rules, &reads), names, &mut out);
    out.encode()
}

#[test]
fn documented_named_metric_with_labels() {
    let r = rules(
        r#"
rules:
- pattern: 'java.lang<type=Memory><HeapMemoryUsage>used: (.*)'
  name: jvm_heap_memory_used_bytes
  value: '$1'
  labels:
    area: heap
  help: Used heap memory in bytes.
  type: GAUGE
"#,
    );
    let memory = captured("plain-jvm-bulk-all-attributes.json", "java.lang:type=Memory");
    let t = text(&r, &[("java.lang:type=Memory", memory.clone())], Names::Simpleclient);
    let used = memory["HeapMemoryUsage"]["used"].as_f64().unwrap();
    let mut expected = String::new();
    vigie_kit::exposition::write_value(&mut expected, used);
    assert_eq!(
        t,
        format!(
            "# HELP jvm_heap_memory_used_bytes Used heap memory in bytes.\n# TYPE jvm_heap_memory_used_bytes gauge\n\
             jvm_heap_memory_used_bytes{{area=\"heap\"}} {expected}\n"
        )
    );
}

#[test]
fn documented_value_factor_and_counter() {
    // rules.md: `.*ProcessingTimeMillis` ×0.001 and `.*RequestCount` as a counter, here over
    // Tomcat's GlobalRequestProcessor (processingTime is in ms as well).
    let r = rules(
        r#"
rules:
- pattern: '.*processingTime: (.*)'
  name: application_processing_time_seconds
  value: '$1'
  valueFactor: 0.001
  type: GAUGE
- pattern: '.*requestCount: (.*)'
  name: application_requests_total
  value: '$1'
  type: COUNTER
"#,
    );
    let grp = captured("tomcat10-get-read-grp-all-attrs.json", "Catalina:name=*,type=GlobalRequestProcessor");
    let attrs = grp.as_object().unwrap().values().next().unwrap().clone();
    let ms = attrs["processingTime"].as_f64().unwrap();
    let count = attrs["requestCount"].as_f64().unwrap();
    for names in [Names::Simpleclient, Names::ClientJava1] {
        let t = text(&r, &[("Catalina:type=GlobalRequestProcessor,*", grp.clone())], names);
        assert!(t.contains(&format!("application_processing_time_seconds {}\n", ms / 1000.0)), "{t}");
        assert!(t.contains(&format!("application_requests_total {count}\n")), "{t}");
        assert!(t.contains("# TYPE application_requests_total counter\n"), "{t}");
    }
}

#[test]
fn documented_default_format() {
    // `rules: [{pattern: ".*"}]` and an empty file both collect everything by default.
    let memory = captured("plain-jvm-bulk-all-attributes.json", "java.lang:type=Memory");
    let gcs = captured("plain-jvm-bulk-all-attributes.json", "java.lang:name=*,type=GarbageCollector");
    for yaml in ["rules:\n- pattern: \".*\"\n", "---\n", ""] {
        let r = rules(yaml);
        let t =
            text(&r, &[("java.lang:type=Memory", memory.clone()), ("java.lang:*", gcs.clone())], Names::Simpleclient);
        assert!(t.contains("\njava_lang_Memory_HeapMemoryUsage_used "), "{t}");
        assert!(t.contains("\njava_lang_Memory_Verbose 0\n"), "booleans are 0/1: {t}");
        assert!(
            t.contains("# HELP java_lang_Memory_HeapMemoryUsage_max java.lang:name=null,type=Memory,attribute=max\n"),
            "{t}"
        );
        // The first property names the metric, the others are labels (values as written).
        assert!(t.contains("\njava_lang_G1_Young_Generation_CollectionCount{type=\"GarbageCollector\"} "), "{t}");
        assert!(!t.contains("ObjectName") && !t.contains("MemoryPoolNames"), "strings and arrays are skipped: {t}");
    }
    let r = rules("lowercaseOutputName: true\nlowercaseOutputLabelNames: true\n");
    let t = text(&r, &[("java.lang:type=Memory", memory)], Names::Simpleclient);
    assert!(t.contains("\njava_lang_memory_heapmemoryusage_used "), "{t}");
}

#[test]
fn documented_tomcat_example() {
    // examples/tomcat.yml, with Tomcat's own ObjectName order (type first); values captured
    // from Tomcat 10.1 (tomcat10-get-read-grp-all-attrs.json), connector without address.
    let r = rules(
        r#"
lowercaseOutputLabelNames: true
lowercaseOutputName: true
whitelistObjectNames: ["java.lang:type=OperatingSystem", "Catalina:*"]
blacklistObjectNames: []
rules:
  - pattern: 'Catalina<type=Server><>serverInfo: (.+)'
    name: tomcat_serverinfo
    value: 1
    labels:
      serverInfo: "$1"
    type: COUNTER
  - pattern: 'Catalina<type=GlobalRequestProcessor, name=\"(\w+-\w+)-(\d+)\"><>(\w+):'
    name: tomcat_$3_total
    labels:
      port: "$2"
      protocol: "$1"
    help: Tomcat global $3
    type: COUNTER
"#,
    );
    assert_eq!(r.include, ["java.lang:type=OperatingSystem", "Catalina:*"]);
    let grp = captured("tomcat10-get-read-grp-all-attrs.json", "Catalina:name=*,type=GlobalRequestProcessor");
    let attrs = grp.as_object().unwrap().values().next().unwrap().clone();
    let reads = json!({
        "Catalina:type=GlobalRequestProcessor,name=\"http-nio-8080\"": attrs,
        "Catalina:type=Server": {"serverInfo": "Apache Tomcat/10.1.60 (Debian)"},
        "Catalina:type=GlobalRequestProcessor,name=\"http-nio-127.0.0.1-8080\"": attrs,
    });
    let t = text(&r, &[("Catalina:*", reads)], Names::Simpleclient);
    let count = attrs["requestCount"].as_f64().unwrap();
    assert!(t.contains(&format!("tomcat_requestcount_total{{port=\"8080\",protocol=\"http-nio\"}} {count}\n")), "{t}");
    assert!(t.contains("# HELP tomcat_errorcount_total Tomcat global errorCount\n"), "{t}");
    assert!(t.contains("tomcat_serverinfo{serverinfo=\"Apache Tomcat/10.1.60 (Debian)\"} 1\n"), "{t}");
    assert_eq!(t.matches("tomcat_requestcount_total{").count(), 1, "the address form does not match: {t}");
    // client_java 1.x: a counter named tomcat_serverinfo is served as tomcat_serverinfo_total.
    let t = text(&r, &[("Catalina:*", json!({"Catalina:type=Server": {"serverInfo": "x"}}))], Names::ClientJava1);
    assert!(t.contains("tomcat_serverinfo_total{serverinfo=\"x\"} 1\n"), "{t}");
}

#[test]
fn exclude_snake_case_and_colliding_labels() {
    let r = rules(
        r#"
excludeObjectNames: ["java.lang:type=MemoryPool,name=Metaspace"]
rules:
- pattern: 'java.lang<name=([^,>]+), type=MemoryPool><Usage>used: (\d+)'
  name: pool_used_bytes
  labels:
    pool: $1
- pattern: 'java.lang<name=([^,>]+), type=MemoryPool><>usage_threshold_count: (\d+)'
  attrNameSnakeCase: true
  name: pool_threshold_crossings
  value: $2
  labels:
    pool: $1
- pattern: 'java.lang<name=[^>]+><Usage>max'
  name: pool_max_bytes
"#,
    );
    let pools = captured("plain-jvm-bulk-all-attributes.json", "java.lang:name=*,type=MemoryPool");
    let t = text(&r, &[("java.lang:type=MemoryPool,*", pools)], Names::Simpleclient);
    assert!(t.contains("pool_used_bytes{pool=\"G1 Eden Space\"} "), "{t}");
    assert!(!t.contains("pool=\"Metaspace\""), "excluded: {t}");
    assert!(t.contains("pool_threshold_crossings{pool=\"G1 Old Gen\"} 0\n"), "{t}");
    assert!(t.contains("pool_max_bytes{_objectname=\"java.lang<name=G1 Old Gen, type=MemoryPool><Usage>max\"}"), "{t}");
    assert!(t.contains("# TYPE pool_used_bytes untyped\n"), "{t}");
}

#[test]
fn java_semantics() {
    let re = regex::Regex::new("^.*(?:a(b)(c)?).*$").unwrap();
    let caps = re.captures("xab").unwrap();
    assert_eq!(expand("$1-$2-\\$1-$12", Some(&caps)).as_deref(), Some("b--$1-b2"));
    assert_eq!(safe_name("1a.b--c"), "_1a_b_c");
    assert_eq!(safe_name("tomcat_$x"), "tomcat_x");
    assert_eq!(snake_case("HeapMemoryUsage"), "heap_memory_usage");
    assert_eq!(snake_case("CPULoad"), "cpuload");
    assert_eq!(snake_case("processCpu_Time"), "process_cpu_time");
    assert_eq!(java_double(1.0), "1.0");
    assert_eq!(java_double(0.5), "0.5");
    assert_eq!(java_double(1.0458984375), "1.0458984375");
    assert_eq!(java_double(1e10), "1.0E10");
    assert_eq!(java_double(1.5e-5), "1.5E-5");
    assert_eq!(java_parse_double(" 2 "), Some(2.0));
    assert_eq!(java_parse_double("1.5d"), Some(1.5));
    assert_eq!(java_parse_double("abc"), None);
    assert!(java_parse_double("NaN").unwrap().is_nan());
}

#[test]
fn bad_configs_name_file_line_and_rule() {
    let e = error("rules:\n- pattern: 'ok'\n  name: a\n- pattern: 'broken(['\n  name: b\n");
    assert!(e.starts_with("jmx.yml:4:"), "{e}");
    assert!(e.contains("rules[1].pattern: rule 2: invalid regular expression"), "{e}");
    let e = error("rules:\n- pattern: 'x(y)'\n  name: a_$2\n");
    assert!(e.starts_with("jmx.yml:3:") && e.contains("rule 1") && e.contains("$2 but the pattern has 1 group"), "{e}");
    let e = error("rules:\n- name: a\n");
    assert!(e.contains("rules[0].name: rule 1: a name needs a pattern"), "{e}");
    let e = error("rules:\n- pattern: x\n  help: h\n");
    assert!(e.contains("rules[0].help: rule 1: help and labels need a name"), "{e}");
    let e = error("rules:\n- pattern: x\n  name: y\n  valueFactr: 2\n");
    assert!(e.starts_with("jmx.yml:4:") && e.contains("unknown field `valueFactr`"), "{e}");
    let e = error("whitelistObjectNames: [\"nocolon\"]\n");
    assert!(e.contains("whitelistObjectNames[0]") && e.contains("not an ObjectName"), "{e}");
    // jmx_exporter's connection settings are accepted (and unused), so its files load.
    rules("hostPort: localhost:9999\nusername: u\npassword: p\nssl: false\nstartDelaySeconds: 0\nrules:\n- pattern: '.*'\n");
}

#[test]
fn bulk_body_appends_one_read_per_include() {
    let r = rules("includeObjectNames: [\"java.lang:type=Memory\", \"Catalina:*\"]\n");
    let body: Vec<Value> = serde_json::from_str(&crate::reply::bulk_body(Some(&r))).unwrap();
    assert_eq!(body.len(), crate::reply::bulk_len() + 2);
    assert_eq!(body[crate::reply::bulk_len() + 1]["mbean"], "Catalina:*");
    assert_eq!(crate::reply::bulk_body(None), crate::reply::BULK);
}
