//! `java.lang:type=Threading` → `jvm_threads_current`, `_daemon`, `_peak`, `_started_total`,
//! `_deadlocked`, `_deadlocked_monitor` and `jvm_threads_state{state}` (client_java names in
//! both generations). States come from one `dumpAllThreads` exec with path `*/threadState`.

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use crate::reply::{num, Part};

/// The registration.
pub const REG: Registration<crate::Target> = Registration {
    name: "threads",
    default_enabled: true,
    help: "Thread counts, deadlocks and threads by state.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Threads)),
};

const CURRENT: Desc = Desc::gauge("jvm_threads_current", "Current thread count of the JVM.", &[]);
const DAEMON: Desc = Desc::gauge("jvm_threads_daemon", "Daemon thread count of the JVM.", &[]);
const PEAK: Desc = Desc::gauge("jvm_threads_peak", "Peak thread count of the JVM.", &[]);
const STARTED: Desc = Desc::counter("jvm_threads_started_total", "Threads started since the JVM began.", &[]);
const DEADLOCKED: Desc =
    Desc::gauge("jvm_threads_deadlocked", "Threads in a deadlock on object monitors or synchronizers.", &[]);
const DEADLOCKED_MONITOR: Desc =
    Desc::gauge("jvm_threads_deadlocked_monitor", "Threads in a deadlock on object monitors.", &[]);
const STATE: Desc = Desc::gauge("jvm_threads_state", "Threads of the JVM in each state.", &["state"]);

/// `java.lang.Thread.State`, every member reported (0 when no thread is in it).
pub const STATES: &[&str] = &["NEW", "RUNNABLE", "BLOCKED", "WAITING", "TIMED_WAITING", "TERMINATED"];

/// Reads the Threading MBean.
pub struct Threads;

impl SyncCollector<crate::Target> for Threads {
    fn collect_sync(&self, cx: &Scrape<crate::Target>, out: &mut MetricSet) -> CollectResult {
        let reply = &cx.target;
        if let Some(t) = reply.get(Part::Threading) {
            for (desc, key) in [
                (&CURRENT, "ThreadCount"),
                (&DAEMON, "DaemonThreadCount"),
                (&PEAK, "PeakThreadCount"),
                (&STARTED, "TotalStartedThreadCount"),
            ] {
                if let Some(v) = num(t, key) {
                    out.add(desc, &[], v);
                }
            }
        }
        // findDeadlockedThreads answers null when there is no deadlock.
        for (desc, part) in [(&DEADLOCKED, Part::Deadlocked), (&DEADLOCKED_MONITOR, Part::MonitorDeadlocked)] {
            if let Some(v) = reply.get(part) {
                out.add(desc, &[], v.as_array().map_or(0, Vec::len) as f64);
            }
        }
        if let Some(states) = reply.get(Part::ThreadStates).and_then(serde_json::Value::as_array) {
            for state in STATES {
                let n = states.iter().filter(|s| s.as_str() == Some(state)).count();
                out.add(&STATE, &[state], n as f64);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_replies() {
        let t = crate::collectors::testing::text(&Threads, "tomcat10-bulk.json");
        assert!(t.contains("jvm_threads_current 22\n") && t.contains("jvm_threads_daemon 19\n"), "{t}");
        assert!(t.contains("jvm_threads_deadlocked 0\n"), "{t}");
        let t = crate::collectors::testing::text(&Threads, "plain-jvm-threads-exec.json");
        assert!(t.contains("jvm_threads_state{state=\"RUNNABLE\"} 5\n"), "{t}");
        assert!(t.contains("jvm_threads_state{state=\"TIMED_WAITING\"} 2\n"), "{t}");
        assert!(t.contains("jvm_threads_state{state=\"BLOCKED\"} 0\n"), "{t}");
        assert!(t.contains("jvm_threads_deadlocked_monitor 0\n"), "{t}");
    }
}
