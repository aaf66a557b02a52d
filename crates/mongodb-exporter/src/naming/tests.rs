//! The naming rules against the real 4.2.8 and 8.3 captures and the real exporter output.

use std::collections::BTreeSet;

use mongodb::bson::{doc, Bson, DateTime, Timestamp};

use super::*;
use crate::fixture;

fn names(flat: &Flat) -> BTreeSet<String> {
    flat.metrics.iter().map(|m| m.name.clone()).collect()
}

fn find<'a>(flat: &'a Flat, name: &str, label: (&str, &str)) -> &'a Metric {
    flat.metrics
        .iter()
        .find(|m| m.name == name && m.labels.iter().any(|(k, v)| k == label.0 && v == label.1))
        .unwrap_or_else(|| panic!("no {name}{{{}={:?}}}", label.0, label.1))
}

/// Names of the real exporter's 4.4.0 output (`# TYPE` lines).
fn expected_names() -> BTreeSet<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/expected.percona-2020-09.diagnosticdata-compatible-4.4.0.lines.json"
    );
    let lines: Vec<String> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn prometheusize_as_percona() {
    assert_eq!(
        prometheusize("serverStatus.wiredTiger.cache.bytes currently in the cache"),
        "mongodb_ss_wt_cache_bytes_currently_in_the_cache"
    );
    assert_eq!(
        prometheusize("serverStatus.metrics.aggStageCounters.$match"),
        "mongodb_ss_metrics_aggStageCounters_match"
    );
    assert_eq!(
        prometheusize("serverStatus.wiredTiger.transaction.transaction begins"),
        "mongodb_ss_wt_txn_transaction_begins"
    );
    assert_eq!(prometheusize("local.oplog.rs.stats.wiredTiger.cache.x"), "mongodb_oplog_stats_wt_cache_x");
    assert_eq!(prometheusize("systemMetrics.cpu.user_ms"), "mongodb_sys_cpu_user_ms");
    assert_eq!(prometheusize("start"), "mongodb_start");
    // One trailing underscore goes, runs collapse, one leading underscore goes.
    assert_eq!(prometheusize("_a..b__c_"), "mongodb_a_b_c");
    // A prefix matches only before a dot.
    assert_eq!(prometheusize("serverStatusX.a"), "mongodb_serverStatusX_a");
}

#[test]
fn diagnostic_data_4_2_8_names_labels_values() {
    let data = fixture("getDiagnosticData.data-4.2.8-rs-primary.json").unwrap();
    let topo = vec![("rs_nm".into(), "rs1".into())];
    let flat = flatten("", &data, &topo, false);
    assert!(flat.invalid.is_empty(), "{:?}", flat.invalid);
    let ours = names(&flat);
    assert!(ours.len() > 1400, "{}", ours.len());

    // Label-promoted keys.
    let current = find(&flat, "mongodb_ss_connections", ("conn_type", "current"));
    assert_eq!(current.help, "serverStatus.connections");
    assert!(current.labels.contains(&("rs_nm".into(), "rs1".into())));
    find(&flat, "mongodb_ss_opcounters", ("legacy_op_type", "query"));
    find(&flat, "mongodb_ss_metrics_cursor_open", ("csr_type", "total"));
    find(&flat, "mongodb_ss_asserts", ("assert_type", "regular"));
    find(&flat, "mongodb_ss_metrics_document", ("doc_op_type", "inserted"));
    assert!(ours.contains("mongodb_ss_metrics_commands_find_total"));
    // Array members: name and stateStr.
    let h = find(&flat, "mongodb_rs_members_health", ("member_state", "SECONDARY"));
    assert!(h.labels.iter().any(|(k, _)| k == "member_idx"), "{h:?}");
    // Dates in ms, Timestamps in s, booleans.
    let d = find(&flat, "mongodb_rs_members_optimeDate", ("member_state", "PRIMARY"));
    assert!(d.value > 1.5e12 && d.value < 2e12, "{d:?}");
    let ts = find(&flat, "mongodb_rs_members_optime_ts", ("member_state", "PRIMARY"));
    assert!(ts.value > 1.5e9 && ts.value < 2e9, "{ts:?}");
    assert!((d.value / 1000.0 - ts.value).abs() < 2.0, "optimeDate {} vs optime.ts {}", d.value, ts.value);
    let start = flat.metrics.iter().find(|m| m.name == "mongodb_start").unwrap();
    assert_eq!(start.help, "start");
    // Counter when the last key ends in "count".
    let open = flat.metrics.iter().find(|m| m.name == "mongodb_ss_wt_session_open_session_count").unwrap();
    assert_eq!(open.kind, Kind::Counter);
    assert_eq!(flat.metrics.iter().find(|m| m.name == "mongodb_ss_uptime").unwrap().kind, Kind::Untyped);
    // Always-on renames carry only their own label.
    let r = find(&flat, "mongodb_ss_opLatencies_latency", ("op_type", "reads"));
    assert_eq!(r.labels.len(), 1);
    let t = find(&flat, "mongodb_ss_wt_concurrentTransactions_available", ("txn_rw", "write"));
    assert_eq!((t.labels.len(), t.help.as_str()), (1, "mongodb_ss_wt_concurrentTransactions_available"));
    assert!(!ours.contains("mongodb_ss_opLatencies_reads_latency"));

    // Against the real exporter's output on 4.4.0: most generic names agree; the rest are
    // 4.2-vs-4.4 fields, Timestamp `_ts` names (v0.40+) and dates Go-JSON kept as strings.
    let expected = expected_names();
    let common = ours.intersection(&expected).count();
    assert!(common >= 1390, "only {common} of {} names in the real output", ours.len());
    let extra: Vec<&String> = ours.difference(&expected).collect();
    eprintln!("{} generic names, {common} in the real 4.4.0 output, {} not", ours.len(), extra.len());
    assert!(extra.len() < 80, "{extra:#?}");
}

#[test]
fn collisions_and_bad_values_drop_one_sample_each() {
    use crate::sink::{Drops, Reason, Sink};
    // 8.3: "     giant hdr" and "  giant hdr" sanitise alike; histogram buckets have no labels.
    let data = fixture("getDiagnosticData.data-8.3.excerpt.json").unwrap();
    let mut flat = flatten("", &data, &[], false);
    // A value no sample can carry, and one of another type under a promoted key.
    let odd = doc! { "serverStatus": { "x": Bson::Null, "connections": { "current": 1, "bad": Bson::Decimal128(mongodb::bson::Decimal128::from_bytes([0; 16])) } } };
    let more = flatten("", &odd, &[], false);
    flat.metrics.extend(more.metrics);
    flat.invalid.extend(more.invalid);
    let (drops, mut out) = (Drops::default(), vigie_kit::MetricSet::new());
    let total = flat.metrics.len();
    Sink::new(&mut out, &drops).flat(flat);
    assert_eq!(drops.count(Reason::InvalidValue), 2);
    assert!(drops.count(Reason::Duplicate) >= 8 * 4, "histogram buckets: {}", drops.count(Reason::Duplicate));
    assert!(drops.count(Reason::Inconsistent) >= 1, "giant hdr");
    assert_eq!(
        out.sample_count() as u64 + drops.count(Reason::Duplicate) + drops.count(Reason::Inconsistent),
        total as u64
    );
    let text = out.encode();
    assert!(text.contains("mongodb_sys_ethtool_ens192_giant_hdr "), "one of the two kept");
    assert!(text.contains("mongodb_ss_connections{conn_type=\"current\"} 1\n"), "{text}");
}

#[test]
fn values_by_bson_type() {
    let d = doc! {
        "t": true, "f": false, "i": 3_i32, "l": 4_i64, "x": 0.5,
        "d": DateTime::from_millis(1_600_000_000_123), "ts": Timestamp { time: 1_600_000_000, increment: 7 },
        "s": "text", "o": mongodb::bson::oid::ObjectId::new(), "a": [1, 2],
    };
    let flat = flatten("dbstats", &d, &[], false);
    let v = |n: &str| flat.metrics.iter().find(|m| m.name == n).map(|m| m.value);
    assert_eq!(v("mongodb_dbstats_t"), Some(1.0));
    assert_eq!(v("mongodb_dbstats_f"), Some(0.0));
    assert_eq!(v("mongodb_dbstats_i"), Some(3.0));
    assert_eq!(v("mongodb_dbstats_l"), Some(4.0));
    assert_eq!(v("mongodb_dbstats_x"), Some(0.5));
    assert_eq!(v("mongodb_dbstats_d"), Some(1_600_000_000_123.0));
    assert_eq!(v("mongodb_dbstats_ts"), Some(1_600_000_000.0));
    assert_eq!(flat.metrics.len(), 7, "strings, ids and scalar arrays give nothing");
    assert_eq!(flat.metrics[0].help, "dbstats.t");
}

#[test]
fn index_names_become_labels() {
    let d = doc! { "storageStats": { "indexSizes": { "_id_": 4096, "a_1": 8192 }, "indexDetails": { "_id_": { "cache": { "bytes read into cache": 5 } } }, "count": 3 } };
    let flat = flatten("collstats", &d, &[("database".into(), "db".into())], false);
    let s = find(&flat, "mongodb_collstats_storageStats_indexSizes", ("index_name", "a_1"));
    assert_eq!(s.value, 8192.0);
    let det = find(
        &flat,
        "mongodb_collstats_storageStats_indexDetails_index_name_cache_bytes_read_into_cache",
        ("index_name", "_id_"),
    );
    assert_eq!(det.value, 5.0);
    assert_eq!(
        flat.metrics.iter().find(|m| m.name == "mongodb_collstats_storageStats_count").unwrap().kind,
        Kind::Counter
    );
}

#[test]
fn compatible_mode_names() {
    let data = fixture("getDiagnosticData.data-4.2.8-rs-primary.json").unwrap();
    let flat = flatten("", &data, &[], false);
    let all = crate::compat::with_old(flat.metrics, true);
    let got: BTreeSet<&str> = all.iter().map(|m| m.name.as_str()).collect();
    for n in [
        "mongodb_connections",
        "mongodb_op_counters_total",
        "mongodb_mongod_op_latencies_latency_total",
        "mongodb_mongod_wiredtiger_concurrent_transactions_out_tickets",
        "mongodb_memory",
        "mongodb_mongod_wiredtiger_cache_bytes",
        "mongodb_mongod_wiredtiger_log_operations_total",
        "mongodb_instance_uptime_seconds",
        "mongodb_mongod_instance_uptime_seconds",
        "mongodb_mongod_metrics_cursor_open",
    ] {
        assert!(got.contains(n), "{n}");
    }
    let conn = all
        .iter()
        .find(|m| m.name == "mongodb_connections" && m.labels.iter().any(|(k, v)| k == "state" && v == "current"));
    assert!(conn.is_some());
    let lat = all.iter().find(|m| m.name == "mongodb_mongod_op_latencies_ops_total").unwrap();
    assert_eq!(lat.labels[0].0, "type");
    assert!(["read", "write", "command", "transactions"].contains(&lat.labels[0].1.as_str()));
    let mem = all.iter().find(|m| m.name == "mongodb_memory").unwrap();
    assert_eq!(mem.help, "mongodb_memory");
    // Every old name we give is one the real exporter gave (4.4.0, compatible mode).
    let expected = expected_names();
    let old: Vec<&str> = got
        .iter()
        .copied()
        .filter(|n| {
            !n.starts_with("mongodb_ss_")
                && !n.starts_with("mongodb_rs_")
                && !n.starts_with("mongodb_sys_")
                && !n.starts_with("mongodb_oplog_")
                && !["mongodb_start", "mongodb_end"].contains(n)
        })
        .collect();
    let unknown: Vec<&&str> = old.iter().filter(|n| !expected.contains(**n)).collect();
    assert!(unknown.is_empty(), "{unknown:?}");
}

#[test]
fn histogram_check_of_a_key_agrees_with_the_whole_path() {
    // Parents the walk enters (no histogram path themselves), keys with and without dots.
    let parents = ["", "serverStatus.", "a.histo", "a.x.histograms_not.", "dbstats.", "ü.histograms2."];
    let keys = ["histograms", "grams.x", "histograms.y", "x.histograms.y", "x.histograms", "opLatencies", "h", "ü"];
    for parent in parents {
        let parent_path = parent.strip_suffix('.').unwrap_or(parent);
        assert!(parent_path.is_empty() || !is_histogram_path(parent_path), "{parent}");
        for key in keys {
            let p = format!("{parent}{key}");
            assert_eq!(is_histogram_key(&p, parent.len()), is_histogram_path(&p), "{p}");
        }
    }
    assert!(is_histogram_key("serverStatus.metrics.histograms", 21));
}
