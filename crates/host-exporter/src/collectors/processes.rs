//! /proc/[pid]/stat, /proc/[pid]/task/[tid]/stat, /proc/sys/kernel/{threads-max,pid_max} →
//! node_processes_* (node_exporter "processes" names). Off by default: it reads a file per
//! thread.

use std::collections::BTreeMap;

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "processes",
    default_enabled: false,
    help: "Exposes aggregate process statistics from /proc.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Processes)),
};

const THREADS: Desc = Desc::gauge("node_processes_threads", "Threads in the system.", &[]);
const MAX_THREADS: Desc = Desc::gauge("node_processes_max_threads", "Most threads the kernel allows (threads-max).", &[]);
const STATE: Desc = Desc::gauge("node_processes_state", "Processes in each scheduler state.", &["state"]);
const THREADS_STATE: Desc =
    Desc::gauge("node_processes_threads_state", "Threads in each scheduler state.", &["thread_state"]);
const PIDS: Desc = Desc::gauge("node_processes_pids", "Processes in the system.", &[]);
const MAX_PIDS: Desc = Desc::gauge("node_processes_max_processes", "Highest PID the kernel allows (pid_max).", &[]);

/// Walks `/proc`.
pub struct Processes;

/// ESRCH: the process ended while we read it.
const ESRCH: i32 = 3;

fn gone(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(ESRCH)
}

impl SyncCollector for Processes {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let proc = cx.paths.proc("");
        let mut pids = 0u64;
        let mut threads = 0u64;
        let mut states: BTreeMap<String, u64> = BTreeMap::new();
        let mut thread_states: BTreeMap<String, u64> = BTreeMap::new();
        for pid in numeric_entries(&proc)? {
            let path = proc.join(&pid).join("stat");
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                // Processes end between the listing and the read.
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(CollectError::io(path, e)),
            };
            let (state, num_threads) = parse_stat(&text).map_err(|msg| CollectError::parse(&path, msg))?;
            pids += 1;
            *states.entry(state.to_owned()).or_default() += 1;
            threads += num_threads;
            let tasks = proc.join(&pid).join("task");
            let tids = match numeric_entries(&tasks) {
                Ok(tids) => tids,
                Err(CollectError::Io { source, .. }) if gone(&source) => continue,
                Err(e) => return Err(e),
            };
            for tid in tids {
                if tid == pid {
                    // The main thread is in the process's state, as node_exporter counts it.
                    *thread_states.entry(state.to_owned()).or_default() += 1;
                    continue;
                }
                let path = tasks.join(&tid).join("stat");
                let text = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    Err(e) if gone(&e) => continue,
                    Err(e) => return Err(CollectError::io(path, e)),
                };
                let (thread_state, _) = parse_stat(&text).map_err(|msg| CollectError::parse(&path, msg))?;
                *thread_states.entry(thread_state.to_owned()).or_default() += 1;
            }
        }
        out.add(&THREADS, &[], threads as f64);
        out.add(&MAX_THREADS, &[], read_number(cx, "sys/kernel/threads-max")?);
        for (state, n) in &states {
            out.add(&STATE, &[state], *n as f64);
        }
        for (state, n) in &thread_states {
            out.add(&THREADS_STATE, &[state], *n as f64);
        }
        out.add(&PIDS, &[], pids as f64);
        out.add(&MAX_PIDS, &[], read_number(cx, "sys/kernel/pid_max")?);
        Ok(())
    }
}

fn read_number(cx: &Scrape, rel: &str) -> Result<f64, CollectError> {
    let path = cx.paths.proc(rel);
    let text = cx.read(&path)?;
    let n: u64 = text.trim().parse().map_err(|_| CollectError::parse(&path, format!("not an integer: {:?}", text.trim())))?;
    Ok(n as f64)
}

/// The all-digit names in `dir`, in no particular order.
fn numeric_entries(dir: &std::path::Path) -> Result<Vec<String>, CollectError> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| CollectError::io(dir, e))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .collect())
}

/// The state letter and thread count of a `stat` line; the command name, which may hold
/// spaces and parentheses, ends at the last `)`.
pub fn parse_stat(text: &str) -> Result<(&str, u64), String> {
    let close = text.rfind(')').ok_or("no ')' after the command name")?;
    let mut fields = text[close + 1..].split_ascii_whitespace();
    let state = fields.next().ok_or("no state")?;
    // num_threads is the 20th field of the line, the 18th after the command name.
    let threads = fields.nth(16).ok_or("no thread count")?;
    let threads = threads.parse().map_err(|_| format!("invalid thread count {threads:?}"))?;
    Ok((state, threads))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_lines() {
        let line = "1 (process_api) S 0 0 0 0 -1 4194560 52145 14237504 0 1914 81 139 33854 7364 10 -10 11 0 14 42057728\n";
        assert_eq!(parse_stat(line), Ok(("S", 11)));
        let odd = "42 (a) b (c) R 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 3 0\n";
        assert_eq!(parse_stat(odd), Ok(("R", 3)));
        assert!(parse_stat("42 (a) R 1 2\n").unwrap_err().contains("thread count"));
        assert!(parse_stat("garbage").is_err());
    }

    #[test]
    fn fixture_tree() {
        // proc/1 (11 threads) and proc/30470 (one) captured on this VM.
        let text = crate::collectors::fixture_text(&Processes).unwrap();
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            [
                "node_processes_max_processes 32768",
                "node_processes_max_threads 192730",
                "node_processes_pids 2",
                "node_processes_state{state=\"S\"} 2",
                "node_processes_threads 12",
                "node_processes_threads_state{thread_state=\"S\"} 12",
            ]
        );
        assert!(text.contains("# TYPE node_processes_threads gauge\n"), "{text}");
    }

    #[test]
    fn off_by_default() {
        let reg = crate::collectors::registry().into_iter().find(|r| r.name == "processes").unwrap();
        assert!(!reg.default_enabled);
    }
}
