//! Parity with Debian's prometheus-nginx-exporter 0.11 on the same nginx: every stub_status
//! family it exposes, we expose with the same type and label names.

use std::collections::BTreeMap;
use std::path::Path;

use vigie_kit::testing::{which, Running};

use crate::env::{exporter, upstream, Nginx};

/// name → (type, label names) of every family in an exposition.
fn families(text: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let parsed = vigie_kit::parse::parse(text).unwrap();
    parsed
        .families
        .iter()
        .map(|f| {
            let mut labels: Vec<String> = f
                .samples
                .iter()
                .flat_map(|s| s.labels.iter().map(|(k, _)| k.to_string()))
                .filter(|k| k != "le" && k != "quantile")
                .collect();
            labels.sort();
            labels.dedup();
            (f.name.to_string(), (f.kind.as_str().to_owned(), labels))
        })
        .collect()
}

#[test]
fn same_stub_status_families_types_and_labels_as_prometheus_nginx_exporter() {
    let Some(nginx) = Nginx::start(upstream()) else { return };
    let ours = exporter(&[format!("--nginx.scrape-uri={}", nginx.stub_status())]);
    let Some(program) = which(&["prometheus-nginx-exporter"]) else {
        return vigie_kit::testing::skip(
            "prometheus-nginx-exporter not installed (apt-get install -y prometheus-nginx-exporter)",
        );
    };
    let uri = nginx.stub_status();
    let theirs = Running::spawn(Path::new(&program), |listen| {
        vec![format!("-nginx.scrape-uri={uri}"), format!("-web.listen-address={listen}")]
    })
    .unwrap();
    let (a, b) = (families(&ours.scrape()), families(&theirs.scrape()));
    let mut compared = 0;
    let mut problems = Vec::new();
    for (name, (kind, labels)) in &b {
        // Go runtime, process and build-info families are the incumbent's own plumbing.
        if name.starts_with("go_") || name.starts_with("process_") || name.starts_with("promhttp_") {
            continue;
        }
        if name == "nginxexporter_build_info" {
            assert!(a.contains_key(name), "no {name}");
            continue;
        }
        compared += 1;
        match a.get(name) {
            None => problems.push(format!("missing: {name} ({kind})")),
            Some((k, l)) if k != kind || l != labels => {
                problems.push(format!("differs: {name}: ours {k} {l:?}, theirs {kind} {labels:?}"))
            }
            Some(_) => {}
        }
    }
    assert!(compared >= 8, "only {compared} nginx families from the incumbent: {b:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
