//! Per-process state from `getMonitorData` → pm2-metrics' `pm2_up`, `pm2_cpu`, `pm2_memory`,
//! `pm2_uptime`, `pm2_instances`, `pm2_restarts`, `pm2_prev_restart_delay` (same names and
//! labels, so its dashboards keep working), plus our `vigie_pm2_process_*` families: status as
//! a state set, restarts as counters, exit code, start and creation times, pid, and CPU
//! seconds and RSS read from `/proc/PID` (the daemon's CPU figure depends on who asked last).

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::time::{SystemTime, UNIX_EPOCH};

use vigie_kit::fasthash::FastMap;

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape};
use vigie_kit::{BoxFuture, Collector};

use crate::collectors::{compat_values, COMPAT_LABELS};
use crate::model::Process;

/// The registration.
pub const REG: Registration<crate::Snapshot> = Registration {
    name: "process",
    default_enabled: true,
    help: "Per-process state, restarts, CPU and memory.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Processes::default())),
};

const UP: Desc = Desc::gauge("pm2_up", "Whether the process is online (1) or not (0).", COMPAT_LABELS);
const CPU: Desc = Desc::gauge("pm2_cpu", "CPU use in percent of one core, as the PM2 daemon last measured it.", COMPAT_LABELS);
const MEMORY: Desc = Desc::gauge("pm2_memory", "Resident memory in bytes, as the PM2 daemon measured it.", COMPAT_LABELS);
const UPTIME: Desc = Desc::gauge("pm2_uptime", "Seconds since the process last (re)started.", COMPAT_LABELS);
const INSTANCES: Desc = Desc::gauge("pm2_instances", "Configured number of instances of the app.", COMPAT_LABELS);
const RESTARTS: Desc = Desc::gauge("pm2_restarts", "Restarts since start or the last pm2 reset.", COMPAT_LABELS);
const PREV_DELAY: Desc =
    Desc::gauge("pm2_prev_restart_delay", "Delay before the last restart, in milliseconds.", COMPAT_LABELS);

const LABELS: &[&str] = &["id", "name", "instance", "exec_mode", "version"];
const STATUS_LABELS: &[&str] = &["id", "name", "instance", "exec_mode", "version", "status"];
const STATUS: Desc = Desc::gauge("vigie_pm2_process_status", "1 for the status the process is in, 0 for the others.", STATUS_LABELS);
const RESTARTS_TOTAL: Desc =
    Desc::counter("vigie_pm2_process_restarts_total", "Restarts since start or the last pm2 reset.", LABELS);
const UNSTABLE_TOTAL: Desc = Desc::counter(
    "vigie_pm2_process_unstable_restarts_total",
    "Restarts that came sooner than min_uptime after the previous start.",
    LABELS,
);
const EXIT_CODE: Desc = Desc::gauge("vigie_pm2_process_exit_code", "Exit code of the process's last exit.", LABELS);
const STARTED: Desc =
    Desc::gauge("vigie_pm2_process_start_time_seconds", "When the process last (re)started, seconds since the epoch.", LABELS);
const CREATED: Desc =
    Desc::gauge("vigie_pm2_process_created_time_seconds", "When the app was created in PM2, seconds since the epoch.", LABELS);
const PID: Desc = Desc::gauge("vigie_pm2_process_pid", "OS process id (0 when not running).", LABELS);
const CPU_SECONDS: Desc = Desc::counter(
    "vigie_pm2_process_cpu_seconds_total",
    "User and system CPU time of the process, from /proc/PID/stat.",
    LABELS,
);
const RSS: Desc =
    Desc::gauge("vigie_pm2_process_resident_memory_bytes", "Resident memory of the process, from /proc/PID/stat.", LABELS);

/// Every status PM2 7 uses, so that the state set always has the same members.
pub const STATUSES: &[&str] =
    &["online", "stopping", "stopped", "launching", "errored", "one-launch-status", "waiting restart"];

/// Reads the process list of the scrape's snapshot.
#[derive(Default)]
pub struct Processes {
    /// `/proc/PID/stat` of each running process, kept open between scrapes and read again
    /// at offset 0: the path lookup costs more than the read. A kept file of a process that
    /// has exited fails to read (ESRCH) even when its pid has been reused, so it is never
    /// another process's figures; it is then opened again by path. Not the kit's kept
    /// kernel files (`Scrape::read`), which are kept by path with no end: these
    /// are closed as soon as their process leaves the list.
    stats: std::sync::Mutex<FastMap<u32, File>>,
}

// Not a SyncCollector: the kit would hand the batch to its collector thread and back, which
// costs more than the work itself (a few /proc/PID/stat reads that never block, and no I/O
// at all for the custom metrics); this runs on the scrape's own thread instead.
impl Collector<crate::Snapshot> for Processes {
    fn collect<'a>(&'a self, cx: &'a Scrape<crate::Snapshot>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(std::future::ready(self.collect_now(cx, out)))
    }
}

impl Processes {
    fn collect_now(&self, cx: &Scrape<crate::Snapshot>, out: &mut MetricSet) -> CollectResult {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as f64).unwrap_or(0.0);
        let page = vigie_kit::process::page_size() as f64;
        let mut stats = self.stats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        stats.retain(|pid, _| cx.target.iter().any(|p| p.pid == *pid));
        for p in cx.target.iter() {
            let id = p.pm_id.to_string();
            compat(p, &id, now_ms, out);
            let labels = [id.as_str(), &p.name, &p.instance, &p.exec_mode, &p.version];
            let mut with = [labels[0], labels[1], labels[2], labels[3], labels[4], ""];
            for status in STATUSES {
                with[5] = status;
                out.add(&STATUS, &with, if p.status == *status { 1.0 } else { 0.0 });
            }
            out.add(&RESTARTS_TOTAL, &labels, p.restarts);
            out.add(&UNSTABLE_TOTAL, &labels, p.unstable_restarts);
            out.add(&PID, &labels, p.pid as f64);
            if let Some(code) = p.exit_code {
                out.add(&EXIT_CODE, &labels, code);
            }
            if let Some(ms) = p.started_ms {
                out.add(&STARTED, &labels, ms / 1000.0);
            }
            if let Some(ms) = p.created_ms {
                out.add(&CREATED, &labels, ms / 1000.0);
            }
            // The process may have exited since the daemon answered: then no sample.
            if let Some(stat) = (p.pid > 0).then(|| read_stat(cx, &mut stats, p.pid)).flatten() {
                out.add(&CPU_SECONDS, &labels, stat.cpu_ticks as f64 / vigie_kit::process::USER_HZ);
                out.add(&RSS, &labels, stat.rss_pages as f64 * page);
            }
        }
        Ok(())
    }
}

/// `/proc/PID/stat` of `pid`, from its kept file, else (first sight, or the kept one belongs
/// to an exited process) from a fresh open that is then kept.
fn read_stat(cx: &Scrape<crate::Snapshot>, stats: &mut FastMap<u32, File>, pid: u32) -> Option<vigie_kit::process::Stat> {
    // The kernel prints 52 fields of at most 20 digits and a command name of at most 15
    // bytes: a stat line never fills this, so one read gets it whole.
    let mut buf = [0u8; 2048];
    let kept = stats.get(&pid).and_then(|f| f.read_at(&mut buf, 0).ok());
    let n = match kept {
        Some(n) => n,
        None => {
            stats.remove(&pid);
            let file = File::open(cx.paths.proc(format!("{pid}/stat"))).ok()?;
            let n = file.read_at(&mut buf, 0).ok()?;
            stats.insert(pid, file);
            n
        }
    };
    vigie_kit::process::parse_stat(std::str::from_utf8(&buf[..n]).ok()?)
}

fn compat(p: &Process, id: &str, now_ms: f64, out: &mut MetricSet) {
    let labels = compat_values(p, id);
    out.add(&UP, &labels, if p.status == "online" { 1.0 } else { 0.0 });
    out.add(&CPU, &labels, p.monit_cpu);
    out.add(&MEMORY, &labels, p.monit_memory);
    if let Some(started) = p.started_ms {
        out.add(&UPTIME, &labels, ((now_ms - started) / 1000.0).round());
    }
    out.add(&INSTANCES, &labels, p.instances.filter(|n| *n != 0.0).unwrap_or(1.0));
    out.add(&RESTARTS, &labels, p.restarts);
    if let Some(delay) = p.prev_restart_delay_ms {
        out.add(&PREV_DELAY, &labels, delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_over_the_captured_reply() {
        let dir = tempfile::tempdir().unwrap();
        // A /proc entry for the web instance's pid (25049), in /proc/PID/stat's format.
        std::fs::create_dir_all(dir.path().join("25049")).unwrap();
        std::fs::write(
            dir.path().join("25049/stat"),
            "25049 (node /srv/web) S 1 1 1 0 -1 0 0 0 0 0 150 50 0 0 20 0 11 0 100 1000000 2500 0 0 0",
        )
        .unwrap();
        let text = crate::collectors::testing::text(&Processes::default(), dir.path());
        let web0 = r#"id="0",instance="0",interpreter="node",name="web",node_version="20.20.2",version="1.0.0""#;
        assert!(text.contains(&format!("pm2_up{{{web0}}} 1\n")), "{text}");
        assert!(text.contains(&format!("pm2_memory{{{web0}}} 5.1109888e+07\n")), "{text}");
        assert!(text.contains(&format!("pm2_instances{{{web0}}} 2\n")), "{text}");
        let flaky = r#"id="4",instance="0",interpreter="node",name="flaky",node_version="20.20.2",version="1.0.0""#;
        assert!(text.contains(&format!("pm2_restarts{{{flaky}}} 17\n")), "{text}");
        let crash = r#"id="5",instance="0",interpreter="node",name="crash",node_version="20.20.2",version="1.0.0""#;
        assert!(text.contains(&format!("pm2_up{{{crash}}} 0\n")), "{text}");
        assert!(text.contains(
            r#"vigie_pm2_process_status{exec_mode="fork_mode",id="5",instance="0",name="crash",status="errored",version="1.0.0"} 1"#
        ));
        assert!(text.contains(
            r#"vigie_pm2_process_status{exec_mode="fork_mode",id="5",instance="0",name="crash",status="online",version="1.0.0"} 0"#
        ));
        assert!(text.contains(r#"vigie_pm2_process_exit_code{exec_mode="fork_mode",id="5",instance="0",name="crash",version="1.0.0"} 2"#));
        assert!(!text.contains(r#"vigie_pm2_process_created_time_seconds{exec_mode="fork_mode",id="5""#), "created_at null");
        let web0v = r#"{exec_mode="cluster_mode",id="0",instance="0",name="web",version="1.0.0"}"#;
        assert!(text.contains(&format!("vigie_pm2_process_cpu_seconds_total{web0v} 2\n")), "{text}");
        assert!(text.contains(&format!("vigie_pm2_process_pid{web0v} 25049\n")), "{text}");
        assert!(!text.contains("vigie_pm2_process_cpu_seconds_total{exec_mode=\"cluster_mode\",id=\"1\""), "no /proc entry");
        assert_eq!(text.matches("vigie_pm2_process_status{").count(), 7 * STATUSES.len());
    }

    #[test]
    fn kept_stat_files_follow_the_process() {
        use std::sync::Arc;
        use std::time::{Duration, Instant};
        use vigie_kit::{Collector as _, Paths};
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let mut list = (*crate::collectors::testing::snapshot()).clone();
        list.truncate(1);
        list[0].pid = child.id();
        let snapshot = Arc::new(list);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let collector = Processes::default();
        let scrape = || {
            let cx = Scrape::new(Instant::now() + Duration::from_secs(5), Arc::new(Paths::default()), snapshot.clone());
            let mut out = MetricSet::new();
            rt.block_on(collector.collect(&cx, &mut out)).unwrap();
            out.encode()
        };
        for _ in 0..2 {
            let text = scrape();
            assert!(text.contains("vigie_pm2_process_resident_memory_bytes{"), "{text}");
            assert_eq!(collector.stats.lock().unwrap().len(), 1, "kept open");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // The kept file now fails to read; opening by path fails too: no figures, none kept.
        let text = scrape();
        assert!(!text.contains("vigie_pm2_process_resident_memory_bytes{"), "{text}");
        assert!(collector.stats.lock().unwrap().is_empty());
    }
}
