//! Processes of each container → `container_processes`, `container_threads`,
//! `container_threads_max`, `container_file_descriptors`, `container_sockets`,
//! `container_ulimits_soft{ulimit}` (cAdvisor "process" names; off by default there and here,
//! as it walks every process's `/proc/<pid>/fd`). Reads `cgroup.procs` (cpu controller or
//! the v2 directory), `pids.current`/`pids.max`, `/proc/<pid>/fd` and the init's
//! `/proc/<pid>/limits`.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Paths, Registration, Scrape};

use super::{emit, per_container, Conn};
use crate::cgroup::files::read_path;
use crate::cgroup::Files;
use crate::engine::Running;

/// The registration.
pub const REG: Registration<Conn> = Registration {
    name: "process",
    default_enabled: false,
    help: "Processes, threads, file descriptors and sockets per container.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Process)),
};

const PROCESSES: Desc = Desc::gauge("container_processes", "Processes in the container.", &[]);
const THREADS: Desc = Desc::gauge("container_threads", "Threads in the container.", &[]);
const THREADS_MAX: Desc = Desc::gauge("container_threads_max", "Most threads the container may have (0: no limit).", &[]);
const FDS: Desc = Desc::gauge("container_file_descriptors", "Open file descriptors of the container's processes.", &[]);
const SOCKETS: Desc = Desc::gauge("container_sockets", "Open sockets of the container's processes.", &[]);
const ULIMITS: Desc = Desc::gauge("container_ulimits_soft", "Soft limits of the container's init process.", &["ulimit"]);

/// Counts processes and their descriptors.
pub struct Process;

impl Collector<Conn> for Process {
    fn collect<'a>(&'a self, cx: &'a Scrape<Conn>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        per_container(cx, out, container)
    }
}

/// One container's samples.
fn container(paths: &Paths, r: &Running, out: &mut MetricSet) -> CollectResult {
    let base = &r.labels;
    let mut files = Files::new(&r.cgroup);
    let Some(procs) = files.read("cpu", "cgroup.procs")? else { return Ok(()) };
    let pids: Vec<String> = procs.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
    let (mut fds, mut sockets) = (0u64, 0u64);
    for pid in &pids {
        let Ok(entries) = std::fs::read_dir(paths.proc(format!("{pid}/fd"))) else { continue };
        for entry in entries.flatten() {
            fds += 1;
            if std::fs::read_link(entry.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket")) {
                sockets += 1;
            }
        }
    }
    emit(out, &PROCESSES, base, &[], pids.len() as f64);
    emit(out, &FDS, base, &[], fds as f64);
    emit(out, &SOCKETS, base, &[], sockets as f64);
    let threads = files.single("pids", "pids.current")?.unwrap_or(0);
    // "max" means no limit, which cAdvisor writes as 0.
    let max = files.single("pids", "pids.max")?.filter(|m| *m != u64::MAX).unwrap_or(0);
    emit(out, &THREADS, base, &[], threads as f64);
    emit(out, &THREADS_MAX, base, &[], max as f64);
    if let Ok(Some(limits)) = read_path(&paths.proc(format!("{}/limits", r.container.pid))) {
        if let Some(soft) = open_files_soft(&limits) {
            emit(out, &ULIMITS, base, &["max_open_files"], soft);
        }
    }
    Ok(())
}

/// The soft "Max open files" of a `/proc/<pid>/limits` (`unlimited` is -1, as cAdvisor).
fn open_files_soft(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_ascii_whitespace().next()?;
    if soft == "unlimited" {
        return Some(-1.0);
    }
    soft.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::run;

    #[test]
    fn counts() {
        let text = run(&Process, "v2");
        assert!(text.contains("container_processes{") && text.contains("} 2\n"), "{text}");
        assert!(text.contains("container_threads{") && text.contains("} 3\n"), "{text}");
        assert!(text.contains("container_threads_max{") && text.contains("} 0\n"), "{text}");
        assert!(text.contains("ulimit=\"max_open_files\"} 1.048576e+06\n"), "{text}");
        let v1 = run(&Process, "v1");
        assert!(v1.contains("container_threads_max{") && v1.contains("} 0\n"), "pids.max is max: {v1}");
    }

    #[test]
    fn limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1048576              1048576              files     \n";
        assert_eq!(open_files_soft(text), Some(1_048_576.0));
        assert_eq!(open_files_soft("Max open files unlimited unlimited files"), Some(-1.0));
    }
}
