//! `java.nio:type=BufferPool,name=*` → `jvm_buffer_pool_used_bytes`, `_capacity_bytes`,
//! `_used_buffers` {pool} (client_java names, both generations).

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use crate::reply::{num, object_key, Part};

/// The registration.
pub const REG: Registration<crate::Target> = Registration {
    name: "buffer_pools",
    default_enabled: true,
    help: "Direct and mapped buffer pools.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(BufferPools)),
};

const USED: Desc = Desc::gauge("jvm_buffer_pool_used_bytes", "Bytes used by a JVM buffer pool.", &["pool"]);
const CAPACITY: Desc = Desc::gauge("jvm_buffer_pool_capacity_bytes", "Bytes of capacity of a JVM buffer pool.", &["pool"]);
const BUFFERS: Desc = Desc::gauge("jvm_buffer_pool_used_buffers", "Buffers in a JVM buffer pool.", &["pool"]);

/// Reads the buffer pools.
pub struct BufferPools;

impl SyncCollector<crate::Target> for BufferPools {
    fn collect_sync(&self, cx: &Scrape<crate::Target>, out: &mut MetricSet) -> CollectResult {
        let Some(pools) = cx.target.get(Part::BufferPools).and_then(serde_json::Value::as_object) else { return Ok(()) };
        for (object_name, attrs) in pools {
            let Some(name) = object_key(object_name, "name") else { continue };
            for (desc, key) in [(&USED, "MemoryUsed"), (&CAPACITY, "TotalCapacity"), (&BUFFERS, "Count")] {
                if let Some(v) = num(attrs, key) {
                    out.add(desc, &[name], v);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn captured_reply() {
        let t = crate::collectors::testing::text(&super::BufferPools, "tomcat10-bulk.json");
        assert!(t.contains("jvm_buffer_pool_used_buffers{pool=\"direct\"} 11\n"), "{t}");
        assert!(t.contains("jvm_buffer_pool_capacity_bytes{pool=\"mapped\"} 0\n"), "{t}");
    }
}
