//! The router's modules import one way only. Allowed direction, bottom to top (a module may
//! import modules of lower layers, never of its own or a higher one):
//!
//! 0. `payload` (Alertmanager's wire format), `acks` (signing): leaves
//! 1. `model`: the shared vocabulary (channel kinds, targets, notifications, views, `Via`)
//! 2. `schedule`: on-call rotations and their arithmetic (issue 18); pure, below `config`
//!    so the config can compile `schedules:` and, in phase 2, escalation can ask who is on call
//! 3. `channels`: one file per channel, the registry
//! 4. `config`: the file, checked
//! 5. `store`: durable state, behind the `Store` trait; imports `model` and nothing else
//! 6. `maintenance`, `stale`: rules over incoming alerts (issue 19)
//! 7. `heartbeat`: the dead-man's switch (issue 19; reads maintenance's example in tests)
//! 8. `metrics`, `rca`: read the store's views
//! 9. `escalation`: who is paged when
//! 10. `queue`: delivery, retries, every rate limit
//! 11. `http`: the one route table and its leaf handlers
//! 12. `serve`: wires everything together
//!
//! The check reads every `crate::…` path in `src/` (imports and inline paths, comments
//! skipped), attributes it to the top-level module of its file, and fails on any edge that
//! points sideways or up, naming the file and line. An unknown top-level module fails too:
//! place it in a layer first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LAYERS: &[&[&str]] = &[
    &["payload", "acks"],
    &["model"],
    &["schedule"],
    &["channels"],
    &["config"],
    &["store"],
    &["maintenance", "stale"],
    &["heartbeat"],
    &["metrics", "rca"],
    &["escalation"],
    &["queue"],
    &["http"],
    &["serve"],
];

/// Modules held to a narrower rule than their layer: what they may import, at most.
const ONLY: &[(&str, &[&str])] =
    &[("store", &["model"]), ("model", &["payload"]), ("schedule", &["model", "payload"]), ("channels", &["model"])];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules named by `crate::` paths on one line of code.
fn crate_paths(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() && name != "self" {
                    found.push(name);
                }
            }
        } else {
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
        rest = after;
    }
    found
}

/// Every import edge: (from, to, where).
fn edges(src: &Path) -> Vec<(String, String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for to in crate_paths(line) {
                if to != top {
                    out.push((top.clone(), to, format!("src/{}:{}", rel.display(), n + 1)));
                }
            }
        }
    }
    out
}

/// Every edge that points sideways or up, or breaks an `ONLY` rule.
fn violations(edges: &[(String, String, String)]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (from, to, at) in edges {
        let (Some(lf), Some(lt)) = (layer(from), layer(to)) else {
            wrong.push(format!("{at}: {from} → {to}: module not placed in LAYERS"));
            continue;
        };
        if lt >= lf {
            wrong.push(format!("{at}: {from} (layer {lf}) imports {to} (layer {lt}): imports must point down"));
        }
        if let Some((_, allowed)) = ONLY.iter().find(|(m, _)| m == from) {
            if !allowed.contains(&to.as_str()) {
                wrong.push(format!("{at}: {from} may import only {allowed:?}, not {to}"));
            }
        }
    }
    wrong
}

#[test]
fn router_modules_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = edges(&src);
    let mut map: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for (from, to, _) in &edges {
        map.entry(from).or_default().insert(to);
    }
    assert!(map.len() >= 8, "the scan found too few modules: {map:?}");
    let wrong = violations(&edges);
    assert!(wrong.is_empty(), "import direction broken:\n{}\nmodule map: {map:#?}", wrong.join("\n"));
}

#[test]
fn the_scan_reads_groups_and_inline_paths_and_refuses_cycles() {
    assert_eq!(crate_paths("use crate::store::{Act, What};"), ["store"]);
    assert_eq!(crate_paths("use crate::{model, store::Store};"), ["model", "store"]);
    assert_eq!(crate_paths("let x = crate::acks::Signer::new(crate::api::LINK_PATH);"), ["acks", "api"]);
    let e = |from: &str, to: &str| (from.to_owned(), to.to_owned(), "x.rs:1".to_owned());
    // The shape before issue 23: store → channels → store, escalation → http (api).
    assert_eq!(violations(&[e("store", "channels"), e("channels", "store")]).len(), 3, "a cycle and store's rule");
    assert_eq!(violations(&[e("escalation", "http")]).len(), 1);
    assert!(violations(&[e("queue", "store"), e("store", "model")]).is_empty());
    // The config compiles schedules; a schedule never reads the config.
    assert!(violations(&[e("config", "schedule"), e("schedule", "model")]).is_empty());
    assert_eq!(violations(&[e("schedule", "config")]).len(), 2, "upwards and outside schedule's rule");
    assert_eq!(violations(&[e("newthing", "model")]).len(), 1, "unplaced modules are refused");
}
