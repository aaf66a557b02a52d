//! OOM kills inside the container's cgroup → `container_oom_events_total` (cAdvisor
//! "oom_event" name). v1: `memory.oom_control` `oom_kill`; v2: `memory.events` `oom_kill`.
//! cAdvisor counts the kernel log's OOM lines instead; the kernel's own counter is the same
//! number without reading `/dev/kmsg`.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use super::{emit, per_container, Conn};
use crate::cgroup::{keyed, Files};

/// The registration.
pub const REG: Registration<Conn> = Registration {
    name: "oom_event",
    default_enabled: true,
    help: "Processes killed by the OOM killer in each container.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(OomEvent)),
};

const OOM: Desc = Desc::counter("container_oom_events_total", "Processes of the container killed for lack of memory.", &[]);

/// Reads the OOM kill counter.
pub struct OomEvent;

impl Collector<Conn> for OomEvent {
    fn collect<'a>(&'a self, cx: &'a Scrape<Conn>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        per_container(cx, out, |_, r, out| {
            let file = if r.cgroup.is_v2() { "memory.events" } else { "memory.oom_control" };
            if let Some(text) = Files::new(&r.cgroup).read("memory", file)? {
                emit(out, &OOM, &r.labels, &[], keyed(text, "oom_kill").unwrap_or(0) as f64);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::run;

    #[test]
    fn both_versions() {
        assert!(run(&OomEvent, "v1").contains("name=\"busy\"} 0\n"));
        assert!(run(&OomEvent, "v2").contains("name=\"busy\"} 1\n"));
    }
}
