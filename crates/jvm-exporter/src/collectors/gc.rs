//! `java.lang:type=GarbageCollector,name=*` → `jvm_gc_collection_seconds{gc}`, a summary of
//! collection count and time (client_java's name in both generations).

use vigie_kit::{CollectResult, Kind, MetricSet, Registration, Scrape, SyncCollector};

use crate::reply::{num, object_key, Part};

/// The registration.
pub const REG: Registration<crate::Target> = Registration {
    name: "gc",
    default_enabled: true,
    help: "Garbage collection count and time per collector.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Gc)),
};

/// Reads the garbage collectors.
pub struct Gc;

impl SyncCollector<crate::Target> for Gc {
    fn collect_sync(&self, cx: &Scrape<crate::Target>, out: &mut MetricSet) -> CollectResult {
        let Some(gcs) = cx.target.get(Part::Collectors).and_then(serde_json::Value::as_object) else { return Ok(()) };
        let family = out.family(
            "jvm_gc_collection_seconds",
            "Time spent in a given JVM garbage collector in seconds.",
            Kind::Summary,
        );
        for (object_name, attrs) in gcs {
            let Some(name) = object_key(object_name, "name") else { continue };
            let (Some(count), Some(ms)) = (num(attrs, "CollectionCount"), num(attrs, "CollectionTime")) else {
                continue;
            };
            family.push_suffixed("_count", &[("gc", name)], count);
            family.push_suffixed("_sum", &[("gc", name)], ms / 1000.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_reply() {
        let t = crate::collectors::testing::text(&Gc, "tomcat10-bulk.json");
        assert!(t.contains("# TYPE jvm_gc_collection_seconds summary\n"), "{t}");
        assert!(t.contains("jvm_gc_collection_seconds_count{gc=\"G1 Young Generation\"} 4\n"), "{t}");
        assert!(t.contains("jvm_gc_collection_seconds_sum{gc=\"G1 Young Generation\"} 0.03\n"), "{t}");
    }
}
