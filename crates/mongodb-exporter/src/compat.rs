//! `--compatible-mode`: the 0.1x names Percona's exporter still emits beside the generic ones
//! (its `v1_compatibility.go` table), which dashboards and alert rules of that era use. Only
//! rows that can match a generic name are here; the README lists the dead rows left out.

use std::borrow::Cow;
use std::sync::OnceLock;

use vigie_kit::LabelValue;

use crate::naming::{FastMap, Label, Metric};

/// old ← new, same value; label names and values renamed as listed.
struct Direct {
    old: &'static str,
    new: &'static str,
    label_names: &'static [(&'static str, &'static str)],
    label_values: &'static [(&'static str, &'static str)],
}

/// old{label=<mapped suffix>} ← `<prefix>_<suffix>`; the old sample has only that label.
struct Suffix {
    old: &'static str,
    prefix: &'static str,
    label: &'static str,
    map: &'static [(&'static str, &'static str)],
}

const fn d(old: &'static str, new: &'static str) -> Direct {
    Direct { old, new, label_names: &[], label_values: &[] }
}

const READERS: &[(&str, &str)] = &[("readers", "reader"), ("writers", "writer")];
const OPS: &[(&str, &str)] = &[("commands", "command"), ("reads", "read"), ("writes", "write")];

const DIRECT: &[Direct] = &[
    Direct { label_names: &[("assert_type", "type")], ..d("mongodb_asserts_total", "mongodb_ss_asserts") },
    Direct { label_names: &[("conn_type", "state")], ..d("mongodb_connections", "mongodb_ss_connections") },
    d("mongodb_extra_info_page_faults_total", "mongodb_ss_extra_info_page_faults"),
    d("mongodb_mongod_durability_journaled_megabytes", "mongodb_ss_dur_journaledMB"),
    d("mongodb_mongod_durability_commits", "mongodb_ss_dur_commits"),
    d("mongodb_mongod_background_flushing_average_milliseconds", "mongodb_ss_backgroundFlushing_average_ms"),
    Direct {
        label_names: &[("count_type", "type")],
        label_values: READERS,
        ..d("mongodb_mongod_global_lock_current_queue", "mongodb_ss_globalLock_currentQueue")
    },
    d("mongodb_instance_local_time", "mongodb_start"),
    d("mongodb_mongod_instance_uptime_seconds", "mongodb_ss_uptime"),
    d("mongodb_instance_uptime_seconds", "mongodb_ss_uptime"),
    Direct {
        label_names: &[("csr_type", "state")],
        ..d("mongodb_mongod_metrics_cursor_open", "mongodb_ss_metrics_cursor_open")
    },
    d("mongodb_mongod_metrics_cursor_timed_out_total", "mongodb_ss_metrics_cursor_timedOut"),
    d("mongodb_mongod_metrics_get_last_error_wtime_num_total", "mongodb_ss_metrics_getLastError_wtime_num"),
    d("mongodb_mongod_metrics_get_last_error_wtimeouts_total", "mongodb_ss_metrics_getLastError_wtimeouts"),
    d("mongodb_mongod_metrics_record_moves_total", "mongodb_ss_metrics_record_moves"),
    d("mongodb_mongod_metrics_repl_apply_batches_num_total", "mongodb_ss_metrics_repl_apply_batches_num"),
    d(
        "mongodb_mongod_metrics_repl_apply_batches_total_milliseconds",
        "mongodb_ss_metrics_repl_apply_batches_totalMillis",
    ),
    d("mongodb_mongod_metrics_repl_apply_ops_total", "mongodb_ss_metrics_repl_apply_ops"),
    d("mongodb_mongod_metrics_repl_buffer_count", "mongodb_ss_metrics_repl_buffer_count"),
    d("mongodb_mongod_metrics_repl_buffer_max_size_bytes", "mongodb_ss_metrics_repl_buffer_maxSizeBytes"),
    d("mongodb_mongod_metrics_repl_buffer_size_bytes", "mongodb_ss_metrics_repl_buffer_sizeBytes"),
    d("mongodb_mongod_metrics_repl_executor_unsignaled_events", "mongodb_ss_metrics_repl_executor_unsignaledEvents"),
    d("mongodb_mongod_metrics_repl_network_bytes_total", "mongodb_ss_metrics_repl_network_bytes"),
    d("mongodb_mongod_metrics_repl_network_getmores_num_total", "mongodb_ss_metrics_repl_network_getmores_num"),
    d(
        "mongodb_mongod_metrics_repl_network_getmores_total_milliseconds",
        "mongodb_ss_metrics_repl_network_getmores_totalMillis",
    ),
    d("mongodb_mongod_metrics_repl_network_ops_total", "mongodb_ss_metrics_repl_network_ops"),
    d("mongodb_mongod_metrics_repl_network_readers_created_total", "mongodb_ss_metrics_repl_network_readersCreated"),
    d("mongodb_mongod_metrics_ttl_deleted_documents_total", "mongodb_ss_metrics_ttl_deletedDocuments"),
    d("mongodb_mongod_metrics_ttl_passes_total", "mongodb_ss_metrics_ttl_passes"),
    d("mongodb_network_metrics_num_requests_total", "mongodb_ss_network_numRequests"),
    Direct {
        label_names: &[("legacy_op_type", "type")],
        ..d("mongodb_mongod_op_counters_repl_total", "mongodb_ss_opcountersRepl")
    },
    Direct { label_names: &[("legacy_op_type", "type")], ..d("mongodb_op_counters_total", "mongodb_ss_opcounters") },
    d("mongodb_mongod_wiredtiger_cache_max_bytes", "mongodb_ss_wt_cache_maximum_bytes_configured"),
    d("mongodb_mongod_wiredtiger_cache_overhead_percent", "mongodb_ss_wt_cache_percentage_overhead"),
    d(
        "mongodb_mongod_wiredtiger_concurrent_transactions_available_tickets",
        "mongodb_ss_wt_concurrentTransactions_available",
    ),
    d("mongodb_mongod_wiredtiger_concurrent_transactions_out_tickets", "mongodb_ss_wt_concurrentTransactions_out"),
    d(
        "mongodb_mongod_wiredtiger_concurrent_transactions_total_tickets",
        "mongodb_ss_wt_concurrentTransactions_totalTickets",
    ),
    d("mongodb_mongod_wiredtiger_log_records_scanned_total", "mongodb_ss_wt_log_records_processed_by_log_scan"),
    d("mongodb_mongod_wiredtiger_session_open_cursors_total", "mongodb_ss_wt_session_open_cursor_count"),
    d("mongodb_mongod_wiredtiger_session_open_sessions_total", "mongodb_ss_wt_session_open_session_count"),
    d(
        "mongodb_mongod_wiredtiger_transactions_checkpoint_milliseconds_total",
        "mongodb_ss_wt_txn_transaction_checkpoint_total_time_msecs",
    ),
    d(
        "mongodb_mongod_wiredtiger_transactions_checkpoint_milliseconds_total",
        "mongodb_ss_wt_checkpoint_total_time_msecs",
    ),
    d(
        "mongodb_mongod_wiredtiger_transactions_running_checkpoints",
        "mongodb_ss_wt_txn_transaction_checkpoint_currently_running",
    ),
    d("mongodb_mongod_wiredtiger_transactions_running_checkpoints", "mongodb_ss_wt_checkpoint_currently_running"),
    d("mongodb_ss_tcmalloc_tcmalloc_thread_cache_free_bytes", "mongodb_ss_tcmalloc_tcmalloc_thread_cache_free"),
    Direct {
        label_names: &[("op_type", "type")],
        label_values: OPS,
        ..d("mongodb_mongod_op_latencies_ops_total", "mongodb_ss_opLatencies_ops")
    },
    Direct {
        label_names: &[("op_type", "type")],
        label_values: OPS,
        ..d("mongodb_mongod_op_latencies_latency_total", "mongodb_ss_opLatencies_latency")
    },
    Direct {
        label_names: &[("doc_op_type", "state")],
        ..d("mongodb_mongod_metrics_document_total", "mongodb_ss_metrics_document")
    },
    d(
        "mongodb_mongod_metrics_get_last_error_wtime_total_milliseconds",
        "mongodb_ss_metrics_getLastError_wtime_totalMillis",
    ),
    d("mongodb_mongod_db_collections_total", "mongodb_dbstats_collections"),
    d("mongodb_mongod_db_data_size_bytes", "mongodb_dbstats_dataSize"),
    d("mongodb_mongod_db_index_size_bytes", "mongodb_dbstats_indexSize"),
    d("mongodb_mongod_db_indexes_total", "mongodb_dbstats_indexes"),
    d("mongodb_mongod_db_objects_total", "mongodb_dbstats_objects"),
];

const SUFFIX: &[Suffix] = &[
    Suffix {
        old: "mongodb_mongod_global_lock_client",
        prefix: "mongodb_ss_globalLock_activeClients",
        label: "type",
        map: &[("readers", "reader"), ("writers", "writer"), ("total", "total")],
    },
    Suffix {
        old: "mongodb_memory",
        prefix: "mongodb_ss_mem",
        label: "type",
        map: &[("mapped", "mapped"), ("mappedWithJournal", "mapped_with_journal")],
    },
    Suffix {
        old: "mongodb_mongod_metrics_operation_total",
        prefix: "mongodb_ss_metrics_operation",
        label: "state",
        map: &[("scanAndOrder", "scanAndOrder"), ("writeConflicts", "writeConflicts")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_transactions_total",
        prefix: "mongodb_ss_wt_txn_transactions",
        label: "type",
        map: &[
            ("begins", "begins"),
            ("checkpoints", "checkpoints"),
            ("committed", "committed"),
            ("rolled_back", "rolled_back"),
        ],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_blockmanager_bytes_total",
        prefix: "mongodb_ss_wt_block_manager",
        label: "type",
        map: &[("bytes_read", "read"), ("mapped_bytes_read", "read_mapped"), ("bytes_written", "written")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_cache_bytes",
        prefix: "mongodb_ss_wt_cache_bytes",
        label: "type",
        map: &[("currently_in_the_cache", "total")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_cache_bytes_total",
        prefix: "mongodb_ss_wt_cache",
        label: "type",
        map: &[("bytes_read_into_cache", "read"), ("bytes_written_from_cache", "written")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_cache_pages",
        prefix: "mongodb_ss_wt_cache",
        label: "type",
        map: &[("pages_currently_held_in_the_cache", "total"), ("tracked_dirty_pages_in_the_cache", "dirty")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_cache_pages_total",
        prefix: "mongodb_ss_wt_cache",
        label: "type",
        map: &[("pages_read_into_cache", "read"), ("pages_written_from_cache", "written")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_log_records_total",
        prefix: "mongodb_ss_wt_log",
        label: "type",
        map: &[("log_records_compressed", "compressed"), ("log_records_not_compressed", "uncompressed")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_log_bytes_total",
        prefix: "mongodb_ss_wt_log",
        label: "type",
        map: &[("log_bytes_of_payload_data", "payload"), ("log_bytes_written", "unwritten")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_log_operations_total",
        prefix: "mongodb_ss_wt_log",
        label: "type",
        map: &[
            ("log_read_operations", "read"),
            ("log_write_operations", "write"),
            ("log_scan_operations", "scan"),
            ("log_scan_records_requiring_two_reads", "scan_double"),
            ("log_sync_operations", "sync"),
            ("log_sync_dir_operations", "sync_dir"),
            ("log_flush_operations", "flush"),
        ],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_transactions_checkpoint_milliseconds",
        prefix: "mongodb_ss_wt_txn_transaction_checkpoint",
        label: "type",
        map: &[("min_time_msecs", "min"), ("max_time_msecs", "max")],
    },
    Suffix {
        old: "mongodb_mongod_wiredtiger_transactions_checkpoint_milliseconds",
        prefix: "mongodb_ss_wt_checkpoint",
        label: "type",
        map: &[("min_time_msecs", "min"), ("max_time_msecs", "max")],
    },
    Suffix {
        old: "mongodb_mongod_metrics_query_executor_total",
        prefix: "mongodb_ss_metrics_queryExecutor",
        label: "state",
        map: &[("scanned", "scanned"), ("scannedObjects", "scanned_objects")],
    },
    Suffix {
        old: "mongodb_memory",
        prefix: "mongodb_ss_mem",
        label: "type",
        map: &[("resident", "resident"), ("virtual", "virtual")],
    },
];

pub(crate) fn find(table: &[(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The rows that can match a generic name, found by that name: the [`DIRECT`] rows whose
/// `new` it is, and the [`SUFFIX`] rows with a map entry it spells (`<prefix>_<suffix>` or
/// `<prefix><suffix>`), each in table order. Built once: a scrape looks up every sample.
struct Index {
    direct: FastMap<&'static str, Vec<&'static Direct>>,
    suffix: FastMap<String, Vec<(&'static Suffix, &'static str)>>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut direct: FastMap<&'static str, Vec<&'static Direct>> = FastMap::default();
        for c in DIRECT {
            direct.entry(c.new).or_default().push(c);
        }
        let mut suffix: FastMap<String, Vec<(&'static Suffix, &'static str)>> = FastMap::default();
        for c in SUFFIX {
            for (s, v) in c.map {
                // What `strip_prefix(prefix)` then an optional `_` accepts; a map key that
                // itself starts with `_` matches only with the separator.
                let mut names = vec![format!("{}_{s}", c.prefix)];
                if !s.starts_with('_') {
                    names.push(format!("{}{s}", c.prefix));
                }
                for name in names {
                    let rows = suffix.entry(name).or_default();
                    if !rows.iter().any(|(r, _)| std::ptr::eq(*r, c)) {
                        rows.push((c, v));
                    }
                }
            }
        }
        for rows in suffix.values_mut() {
            rows.sort_by_key(|(r, _)| SUFFIX.iter().position(|x| std::ptr::eq(x, *r)));
        }
        Index { direct, suffix }
    })
}

/// How one old-style sample is made from a generic one.
#[derive(Clone, Copy, Debug)]
pub enum OldRow {
    /// `old`, the generic sample's HELP and labels, label names and values renamed through
    /// the two tables (see [`map_label`]).
    Mapped {
        /// The old name.
        old: &'static str,
        /// Label names renamed (`assert_type` → `type`).
        names: &'static [(&'static str, &'static str)],
        /// Label values renamed (`readers` → `reader`).
        values: &'static [(&'static str, &'static str)],
    },
    /// `old{label="value"}`, HELP the old name: nothing else of the generic sample but its
    /// value and type.
    Fixed {
        /// The old name.
        old: &'static str,
        /// The one label.
        label: &'static str,
        /// Its value.
        value: &'static str,
    },
}

/// The old-style rows a generic sample called `name` yields in compatible mode, in the
/// order they are written (often none).
pub fn old_rows(name: &str) -> impl Iterator<Item = OldRow> {
    let index = index();
    let direct = index.direct.get(name).into_iter().flatten().map(|c| OldRow::Mapped {
        old: c.old,
        names: c.label_names,
        values: c.label_values,
    });
    let suffix = index.suffix.get(name).into_iter().flatten().map(|(c, v)| OldRow::Fixed {
        old: c.old,
        label: c.label,
        value: v,
    });
    direct.chain(suffix)
}

/// A label pair of a generic sample as a [`OldRow::Mapped`] row renames it.
pub fn map_label(
    names: &'static [(&'static str, &'static str)],
    values: &'static [(&'static str, &'static str)],
    (k, v): &Label,
) -> Label {
    let k = find(names, k).map_or_else(|| k.clone(), Cow::Borrowed);
    let v = find(values, v).map_or_else(|| v.clone(), LabelValue::from);
    (k, v)
}

/// The old-style samples `m` also yields in compatible mode (often none).
pub fn old_samples(m: &Metric) -> Vec<Metric> {
    old_rows(&m.name)
        .map(|row| match row {
            OldRow::Mapped { old, names, values } => Metric {
                name: old.to_owned(),
                help: m.help.clone(),
                kind: m.kind,
                labels: m.labels.iter().map(|l| map_label(names, values, l)).collect(),
                value: m.value,
            },
            OldRow::Fixed { old, label, value } => Metric {
                name: old.to_owned(),
                help: old.to_owned(),
                kind: m.kind,
                labels: vec![(Cow::Borrowed(label), LabelValue::from(value))],
                value: m.value,
            },
        })
        .collect()
}

/// Every sample of `metrics` followed, in compatible mode, by its old-style ones.
pub fn with_old(metrics: Vec<Metric>, compatible: bool) -> Vec<Metric> {
    if !compatible {
        return metrics;
    }
    let mut out = Vec::with_capacity(metrics.len() + 64);
    for m in metrics {
        let old = old_samples(&m);
        out.push(m);
        out.extend(old);
    }
    out
}
