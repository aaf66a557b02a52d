//! `java.lang:type=Memory` and `java.lang:type=MemoryPool,name=*` → heap/non-heap and per-pool
//! used/committed/max/init bytes, collection usage and objects pending finalization, with
//! client_java's names (`jvm_memory_bytes_used` in 0.x, `jvm_memory_used_bytes` in 1.x).

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use crate::collectors::{names, usage, Names};
use crate::reply::{object_key, Part};

/// The registration.
pub const REG: Registration<crate::Target> = Registration {
    name: "memory",
    default_enabled: true,
    help: "Heap, non-heap and memory pool usage.",
    args: vigie_kit::collector::no_args,
    build: |m| Ok(Box::new(Memory { names: names(m) })),
};


/// Families in `[init, used, committed, max]` order, per generation.
const AREA_0: [Desc; 4] = [
    Desc::gauge("jvm_memory_bytes_init", "Initial bytes of a JVM memory area.", &["area"]),
    Desc::gauge("jvm_memory_bytes_used", "Used bytes of a JVM memory area.", &["area"]),
    Desc::gauge("jvm_memory_bytes_committed", "Committed bytes of a JVM memory area.", &["area"]),
    Desc::gauge("jvm_memory_bytes_max", "Maximum bytes of a JVM memory area (-1: undefined).", &["area"]),
];
const AREA_1: [Desc; 4] = [
    Desc::gauge("jvm_memory_init_bytes", "Initial bytes of a JVM memory area.", &["area"]),
    Desc::gauge("jvm_memory_used_bytes", "Used bytes of a JVM memory area.", &["area"]),
    Desc::gauge("jvm_memory_committed_bytes", "Committed bytes of a JVM memory area.", &["area"]),
    Desc::gauge("jvm_memory_max_bytes", "Maximum bytes of a JVM memory area (-1: undefined).", &["area"]),
];
const POOL_0: [Desc; 4] = [
    Desc::gauge("jvm_memory_pool_bytes_init", "Initial bytes of a JVM memory pool.", &["pool"]),
    Desc::gauge("jvm_memory_pool_bytes_used", "Used bytes of a JVM memory pool.", &["pool"]),
    Desc::gauge("jvm_memory_pool_bytes_committed", "Committed bytes of a JVM memory pool.", &["pool"]),
    Desc::gauge("jvm_memory_pool_bytes_max", "Maximum bytes of a JVM memory pool (-1: undefined).", &["pool"]),
];
const POOL_1: [Desc; 4] = [
    Desc::gauge("jvm_memory_pool_init_bytes", "Initial bytes of a JVM memory pool.", &["pool"]),
    Desc::gauge("jvm_memory_pool_used_bytes", "Used bytes of a JVM memory pool.", &["pool"]),
    Desc::gauge("jvm_memory_pool_committed_bytes", "Committed bytes of a JVM memory pool.", &["pool"]),
    Desc::gauge("jvm_memory_pool_max_bytes", "Maximum bytes of a JVM memory pool (-1: undefined).", &["pool"]),
];
const COLLECTION: [Desc; 4] = [
    Desc::gauge("jvm_memory_pool_collection_init_bytes", "Initial bytes of a pool after the last collection.", &["pool"]),
    Desc::gauge("jvm_memory_pool_collection_used_bytes", "Used bytes of a pool after the last collection.", &["pool"]),
    Desc::gauge(
        "jvm_memory_pool_collection_committed_bytes",
        "Committed bytes of a pool after the last collection.",
        &["pool"],
    ),
    Desc::gauge("jvm_memory_pool_collection_max_bytes", "Maximum bytes of a pool after the last collection.", &["pool"]),
];
const PENDING: Desc =
    Desc::gauge("jvm_memory_objects_pending_finalization", "Objects waiting in the finalizer queue.", &[]);

/// Reads memory areas and pools.
pub struct Memory {
    names: Names,
}

impl SyncCollector<crate::Target> for Memory {
    fn collect_sync(&self, cx: &Scrape<crate::Target>, out: &mut MetricSet) -> CollectResult {
        let (area, pool) = match self.names {
            Names::Simpleclient => (&AREA_0, &POOL_0),
            Names::ClientJava1 => (&AREA_1, &POOL_1),
        };
        if let Some(mem) = cx.target.get(Part::Memory) {
            for (label, key) in [("heap", "HeapMemoryUsage"), ("nonheap", "NonHeapMemoryUsage")] {
                if let Some(values) = mem.get(key).and_then(usage) {
                    for (desc, v) in area.iter().zip(values) {
                        out.add(desc, &[label], v);
                    }
                }
            }
            if let Some(n) = mem.get("ObjectPendingFinalizationCount").and_then(serde_json::Value::as_f64) {
                out.add(&PENDING, &[], n);
            }
        }
        if let Some(pools) = cx.target.get(Part::MemoryPools).and_then(serde_json::Value::as_object) {
            for (object_name, attrs) in pools {
                let Some(name) = object_key(object_name, "name") else { continue };
                if let Some(values) = attrs.get("Usage").and_then(usage) {
                    for (desc, v) in pool.iter().zip(values) {
                        out.add(desc, &[name], v);
                    }
                }
                if let Some(values) = attrs.get("CollectionUsage").and_then(usage) {
                    for (desc, v) in COLLECTION.iter().zip(values) {
                        out.add(desc, &[name], v);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::text;

    #[test]
    fn both_generations_over_the_captured_reply() {
        let t = text(&Memory { names: Names::Simpleclient }, "tomcat10-bulk.json");
        assert!(t.contains("jvm_memory_bytes_used{area=\"heap\"} 1.2339128e+07\n"), "{t}");
        assert!(t.contains("jvm_memory_bytes_max{area=\"heap\"} 6.320816128e+09\n"), "{t}");
        assert!(t.contains("jvm_memory_pool_bytes_max{pool=\"Metaspace\"} -1\n"), "{t}");
        assert!(t.contains("jvm_memory_pool_collection_used_bytes{pool=\"G1 Eden Space\"}"), "{t}");
        assert!(!t.contains("jvm_memory_pool_collection_used_bytes{pool=\"Metaspace\"}"), "null CollectionUsage");
        assert!(t.contains("jvm_memory_objects_pending_finalization 0\n"));
        let t = text(&Memory { names: Names::ClientJava1 }, "tomcat10-bulk.json");
        assert!(t.contains("jvm_memory_used_bytes{area=\"heap\"} 1.2339128e+07\n"), "{t}");
        assert!(!t.contains("jvm_memory_bytes_used"));
    }
}
