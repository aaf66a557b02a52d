//! `--config.file` with jmx_exporter rules against the real JVMs: the documented heap rule
//! and the default format on the plain JVM, Tomcat MBeans matched in Tomcat's own
//! ObjectName order (type first), and a bad file refused at start-up with file and line.

use std::time::Duration;

use vigie_kit::testing::{self, TempDir};

use super::common::{ours, plain_jvm, promtool_clean, scrape, spawn_ours, tomcat};

fn config(dir: &TempDir, yaml: &str) -> String {
    let path = dir.path().join("jmx.yml");
    std::fs::write(&path, yaml).expect("write config");
    path.display().to_string()
}

#[test]
fn rules_on_the_plain_jvm() {
    let Some(jvm) = plain_jvm(None) else { return };
    let dir = TempDir::new("vigie-jvm-rules").expect("temp dir");
    let file = config(
        &dir,
        r#"
includeObjectNames: ["java.lang:type=Memory", "java.lang:type=Threading"]
rules:
- pattern: 'java.lang<type=Memory><HeapMemoryUsage>used: (.*)'
  name: vigie_test_heap_used_bytes
  value: '$1'
  labels:
    area: heap
  help: Used heap memory in bytes.
  type: GAUGE
- pattern: ".*"
"#,
    );
    let ours = spawn_ours(&jvm.url, &[&format!("--config.file={file}")]);
    let s = scrape(&ours);
    assert_eq!(s.one("jvm_up", &[]), 1.0, "{}", ours.log());
    let heap = s.one("vigie_test_heap_used_bytes", &[("area", "heap")]);
    assert!(heap > 0.0 && heap <= s.one("jvm_memory_bytes_max", &[("area", "heap")]));
    // The default format for the rest of the included MBeans.
    assert!(s.one("java_lang_Threading_ThreadCount", &[]) > 0.0, "{}", s.text);
    assert!(!s.has("java_lang_OperatingSystem_OpenFileDescriptorCount"), "not included");
    promtool_clean(&s.text);
}

#[test]
fn rules_on_tomcat_use_tomcat_s_property_order() {
    let Some(jvm) = tomcat() else { return };
    let port = jvm.addr().port().to_string();
    let dir = TempDir::new("vigie-jvm-rules").expect("temp dir");
    // examples/tomcat.yml's first rules; the connector carries its address here, so the
    // GlobalRequestProcessor pattern allows it.
    let file = config(
        &dir,
        r#"
lowercaseOutputLabelNames: true
lowercaseOutputName: true
whitelistObjectNames: ["java.lang:type=OperatingSystem", "Catalina:*"]
blacklistObjectNames: []
rules:
  - pattern: 'Catalina<type=Server><>serverInfo: (.+)'
    name: vigie_test_serverinfo
    value: 1
    labels:
      serverInfo: "$1"
    type: GAUGE
  - pattern: 'Catalina<type=GlobalRequestProcessor, name=\"(\w+-\w+)-[\d.]+-(\d+)\"><>(\w+):'
    name: vigie_test_$3_total
    labels:
      port: "$2"
      protocol: "$1"
    help: Tomcat global $3
    type: COUNTER
"#,
    );
    let ours = spawn_ours(&jvm.url, &[&format!("--config.file={file}")]);
    let s = scrape(&ours);
    assert_eq!(s.one("jvm_up", &[]), 1.0, "{}", ours.log());
    let labels = [("port", port.as_str()), ("protocol", "http-nio")];
    let ours_count = s.one("vigie_test_requestcount_total", &labels);
    assert_eq!(ours_count, s.one("tomcat_requestcount_total", &labels), "the rule and the built-in family agree");
    let info = s.label_values("vigie_test_serverinfo", "serverinfo");
    assert!(info.len() == 1 && info[0].starts_with("Apache Tomcat/10.1"), "{info:?}\n{}", s.text);
    promtool_clean(&s.text);
}

#[test]
fn bad_config_names_file_line_and_rule() {
    let dir = TempDir::new("vigie-jvm-rules").expect("temp dir");
    let file = config(&dir, "rules:\n  - pattern: 'fine'\n    name: a\n  - pattern: 'broken(['\n    name: b\n");
    let out =
        testing::run_to_exit(&ours(), &[&format!("--config.file={file}")], Duration::from_secs(30)).expect("runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains(&format!("{file}:4:")) && text.contains("rule 2"), "{text}");
}
