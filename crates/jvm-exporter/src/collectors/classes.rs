//! `java.lang:type=ClassLoading` → `jvm_classes_currently_loaded`, `jvm_classes_loaded_total`,
//! `jvm_classes_unloaded_total` (client_java names, both generations).

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use crate::reply::{num, Part};

/// The registration.
pub const REG: Registration<crate::Target> = Registration {
    name: "classes",
    default_enabled: true,
    help: "Loaded and unloaded classes.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Classes)),
};

const LOADED: Desc = Desc::gauge("jvm_classes_currently_loaded", "Classes currently loaded in the JVM.", &[]);
const LOADED_TOTAL: Desc = Desc::counter("jvm_classes_loaded_total", "Classes loaded since the JVM started.", &[]);
const UNLOADED_TOTAL: Desc =
    Desc::counter("jvm_classes_unloaded_total", "Classes unloaded since the JVM started.", &[]);

/// Reads the ClassLoading MBean.
pub struct Classes;

impl SyncCollector<crate::Target> for Classes {
    fn collect_sync(&self, cx: &Scrape<crate::Target>, out: &mut MetricSet) -> CollectResult {
        if let Some(c) = cx.target.get(Part::ClassLoading) {
            for (desc, key) in
                [(&LOADED, "LoadedClassCount"), (&LOADED_TOTAL, "TotalLoadedClassCount"), (&UNLOADED_TOTAL, "UnloadedClassCount")]
            {
                if let Some(v) = num(c, key) {
                    out.add(desc, &[], v);
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
        let t = crate::collectors::testing::text(&super::Classes, "tomcat10-bulk.json");
        assert!(t.contains("jvm_classes_currently_loaded 3545\n") && t.contains("jvm_classes_unloaded_total 0\n"), "{t}");
    }
}
