//! /proc/stat cpu lines, /proc/cpuinfo and /sys/devices/system/cpu → node_cpu_* (node_exporter
//! "cpu" names).
//!
//! Per-CPU times are kept between scrapes so that a counter the kernel reports lower than
//! before (it happens with jiffies on some hypervisors and on CPU hotplug) never makes
//! `node_cpu_seconds_total` go backwards: the last value is repeated, and a CPU whose idle time
//! dropped by 3 s or more is taken as replugged and starts over, as node_exporter does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use regex::Regex;

use crate::collectors::{bool_arg, get_bool};
use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "cpu",
    default_enabled: true,
    help: "Exposes CPU statistics.",
    args,
    build: |m| {
        let regex = |id: &str| -> Result<Option<Regex>, String> {
            match m.get_one::<String>(id).filter(|s| !s.is_empty()) {
                Some(re) => Regex::new(re).map(Some).map_err(|e| format!("--{id}: {e}")),
                None => Ok(None),
            }
        };
        let flags_include = regex("collector.cpu.info.flags-include")?;
        let bugs_include = regex("collector.cpu.info.bugs-include")?;
        // Like node_exporter, a flags or bugs filter turns on --collector.cpu.info.
        let info = get_bool(m, "collector.cpu.info", false) || flags_include.is_some() || bugs_include.is_some();
        Ok(Box::new(Cpu {
            guest: get_bool(m, "collector.cpu.guest", true),
            info,
            flags_include,
            bugs_include,
            isolated: OnceLock::new(),
            last: Mutex::new(Vec::new()),
            topology: Mutex::new(Topology::default()),
        }))
    },
};

fn args(cmd: clap::Command) -> clap::Command {
    let cmd = bool_arg(cmd, "collector.cpu.guest", true, "Expose node_cpu_guest_seconds_total");
    let cmd = bool_arg(cmd, "collector.cpu.info", false, "Expose node_cpu_info from /proc/cpuinfo");
    cmd.arg(
        clap::Arg::new("collector.cpu.info.flags-include")
            .long("collector.cpu.info.flags-include")
            .value_name("REGEX")
            .help("Expose node_cpu_flag_info for the first CPU's flags matching this regex"),
    )
    .arg(
        clap::Arg::new("collector.cpu.info.bugs-include")
            .long("collector.cpu.info.bugs-include")
            .value_name("REGEX")
            .help("Expose node_cpu_bug_info for the first CPU's bugs matching this regex"),
    )
}

const SECONDS: Desc = Desc::counter("node_cpu_seconds_total", "Time each CPU spent in each mode, in seconds.", &["cpu", "mode"]);
const GUEST: Desc = Desc::counter(
    "node_cpu_guest_seconds_total",
    "Time each CPU spent running virtual machines, in seconds (also counted in user and nice).",
    &["cpu", "mode"],
);
const INFO: Desc = Desc::gauge(
    "node_cpu_info",
    "Identity of each CPU as /proc/cpuinfo gives it; always 1.",
    &["package", "core", "cpu", "vendor", "family", "model", "model_name", "microcode", "stepping", "cachesize"],
);
const FLAG_INFO: Desc = Desc::gauge("node_cpu_flag_info", "A feature flag of the first CPU in /proc/cpuinfo; always 1.", &["flag"]);
const BUG_INFO: Desc = Desc::gauge("node_cpu_bug_info", "A bug the kernel lists for the first CPU in /proc/cpuinfo; always 1.", &["bug"]);
const CORE_THROTTLES: Desc =
    Desc::counter("node_cpu_core_throttles_total", "Times a CPU core was throttled for heat.", &["package", "core"]);
const PACKAGE_THROTTLES: Desc =
    Desc::counter("node_cpu_package_throttles_total", "Times a CPU package was throttled for heat.", &["package"]);
const ISOLATED: Desc =
    Desc::gauge("node_cpu_isolated", "1 for each CPU isolated from the scheduler (isolcpus).", &["cpu"]);

/// node_exporter's limit: idle going back this much (seconds) means the CPU was replugged.
const JUMP_BACK_SECONDS: f64 = 3.0;
/// procfs divides jiffies by a fixed USER_HZ of 100, as the kernel's ABI does.
const USER_HZ: f64 = 100.0;

/// The modes of a `/proc/stat` cpu line, in file order.
pub const MODES: [&str; 10] = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"];

/// Reads per-CPU times, and optionally CPU identity, throttling and isolation.
pub struct Cpu {
    guest: bool,
    info: bool,
    flags_include: Option<Regex>,
    bugs_include: Option<Regex>,
    /// `devices/system/cpu/isolated`, read once (node_exporter reads it at start-up).
    isolated: OnceLock<Result<Vec<u32>, String>>,
    /// Last values shown, per CPU number: the counters never go back.
    last: Mutex<Vec<[f64; 10]>>,
    /// Which CPUs have thermal_throttle, and their package and core: topology only changes
    /// with hotplug, so it is re-read only when the list of CPU directories changes.
    topology: Mutex<Topology>,
}

#[derive(Default)]
struct Topology {
    cpus: Vec<String>,
    /// (cpu directory, package, core) of each CPU with topology and thermal_throttle.
    throttled: Vec<(String, u64, u64)>,
}

impl SyncCollector for Cpu {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        if self.info {
            self.collect_info(cx, out)?;
        }
        let path = cx.paths.proc("stat");
        let text = cx.read(&path)?;
        let now = parse_stat(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        let shown = {
            let mut last = self.last.lock().map_err(|_| CollectError::Other("cpu state poisoned".into()))?;
            update(&mut last, &now);
            last.clone()
        };
        let mut id = String::new();
        for (n, times) in shown.iter().enumerate() {
            id.clear();
            id.push_str(&n.to_string());
            for (mode, value) in MODES[..8].iter().zip(times) {
                out.add(&SECONDS, &[&id, mode], *value);
            }
            if self.guest {
                out.add(&GUEST, &[&id, "user"], times[8]);
                out.add(&GUEST, &[&id, "nice"], times[9]);
            }
        }
        let isolated = self.isolated.get_or_init(|| read_isolated(cx));
        for cpu in isolated.as_ref().map_err(|e| CollectError::Other(e.clone()))? {
            out.add(&ISOLATED, &[&cpu.to_string()], 1.0);
        }
        self.collect_throttles(cx, out)
    }
}

impl Cpu {
    fn collect_info(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("cpuinfo");
        let text = cx.read(&path)?;
        let cpus = parse_cpuinfo(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        for c in &cpus {
            let f = |key: &str| c.get(key).copied().unwrap_or("");
            let vendor = c.get("vendor_id").or_else(|| c.get("vendor")).copied().unwrap_or("");
            let labels = [
                f("physical id"),
                f("core id"),
                f("processor"),
                vendor,
                f("cpu family"),
                f("model"),
                f("model name"),
                f("microcode"),
                f("stepping"),
                f("cache size"),
            ];
            out.add(&INFO, &labels, 1.0);
        }
        if let Some(first) = cpus.first() {
            for (key, filter, desc) in [("flags", &self.flags_include, &FLAG_INFO), ("bugs", &self.bugs_include, &BUG_INFO)] {
                let Some(filter) = filter else { continue };
                let words = first.get(key).copied().unwrap_or("").split_ascii_whitespace();
                for word in words.filter(|w| filter.is_match(w)) {
                    out.add(desc, &[word], 1.0);
                }
            }
        }
        Ok(())
    }

    fn collect_throttles(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let dir = cx.paths.sys("devices/system/cpu");
        let mut cpus: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| name.strip_prefix("cpu").is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit())))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(CollectError::io(dir, e)),
        };
        cpus.sort_unstable();
        let mut topology = self.topology.lock().map_err(|_| CollectError::Other("cpu state poisoned".into()))?;
        if topology.cpus != cpus {
            let read = |cpu: &str, file: &str| read_u64(&dir.join(cpu).join(file));
            let throttled = cpus
                .iter()
                .filter(|cpu| dir.join(cpu).join("thermal_throttle").is_dir())
                .filter_map(|cpu| {
                    let package = read(cpu, "topology/physical_package_id").ok()?;
                    let core = read(cpu, "topology/core_id").ok()?;
                    Some((cpu.clone(), package, core))
                })
                .collect();
            *topology = Topology { cpus, throttled };
        }
        // As node_exporter: each core's and each package's count is read from its first CPU.
        let mut packages: BTreeMap<u64, Option<u64>> = BTreeMap::new();
        let mut cores: BTreeMap<(u64, u64), Option<u64>> = BTreeMap::new();
        for (cpu, package, core) in &topology.throttled {
            let base = dir.join(cpu).join("thermal_throttle");
            cores.entry((*package, *core)).or_insert_with(|| read_u64(&base.join("core_throttle_count")).ok());
            packages.entry(*package).or_insert_with(|| read_u64(&base.join("package_throttle_count")).ok());
        }
        for (package, count) in packages {
            if let Some(count) = count {
                out.add(&PACKAGE_THROTTLES, &[&package.to_string()], count as f64);
            }
        }
        for ((package, core), count) in cores {
            if let Some(count) = count {
                out.add(&CORE_THROTTLES, &[&package.to_string(), &core.to_string()], count as f64);
            }
        }
        Ok(())
    }
}

fn read_u64(path: &std::path::Path) -> Result<u64, CollectError> {
    let text = vigie_kit::scrape::read_text(path)?;
    text.trim().parse().map_err(|_| CollectError::parse(path, format!("not an integer: {:?}", text.trim())))
}

fn read_isolated(cx: &Scrape) -> Result<Vec<u32>, String> {
    let path = cx.paths.sys("devices/system/cpu/isolated");
    match vigie_kit::scrape::read_text(&path) {
        Ok(text) => parse_cpu_list(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// Parses a kernel CPU list (`0-2,5`).
pub fn parse_cpu_list(text: &str) -> Result<Vec<u32>, String> {
    let mut cpus = Vec::new();
    for part in text.trim_end_matches('\n').split(',').filter(|p| !p.is_empty()) {
        let num = |s: &str| s.parse::<u32>().map_err(|_| format!("invalid CPU list entry {part:?}"));
        match part.split_once('-') {
            Some((a, b)) => cpus.extend(num(a)?..=num(b)?),
            None => cpus.push(num(part)?),
        }
    }
    Ok(cpus)
}

/// Per-CPU times (seconds, in [`MODES`] order) from the `cpuN` lines of `/proc/stat`, indexed
/// by CPU number; numbers missing from the file (offline CPUs) get zeroes, as in procfs.
pub fn parse_stat(text: &str) -> Result<Vec<[f64; 10]>, String> {
    let mut cpus: Vec<[f64; 10]> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("cpu") else { continue };
        let mut fields = rest.split_ascii_whitespace();
        let Some(id) = fields.next().filter(|_| !rest.starts_with(' ')) else { continue }; // "cpu " total
        let bad = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
        let id: usize = id.parse().map_err(|_| bad("invalid CPU number"))?;
        let mut times = [0.0; 10];
        let mut count = 0;
        for (slot, field) in times.iter_mut().zip(fields) {
            let jiffies: f64 = field.parse().map_err(|_| bad("invalid time"))?;
            *slot = jiffies / USER_HZ;
            count += 1;
        }
        if count == 0 {
            return Err(bad("no times"));
        }
        if cpus.len() <= id {
            cpus.resize(id + 1, [0.0; 10]);
        }
        cpus[id] = times;
    }
    Ok(cpus)
}

/// Folds this scrape's times into the last shown: a counter that went down keeps its last
/// value; a CPU whose idle time fell by [`JUMP_BACK_SECONDS`] or more starts over; a change in
/// the number of CPUs starts all over.
pub fn update(last: &mut Vec<[f64; 10]>, now: &[[f64; 10]]) {
    if last.len() != now.len() {
        *last = vec![[0.0; 10]; now.len()];
    }
    for (old, new) in last.iter_mut().zip(now) {
        if old[3] - new[3] >= JUMP_BACK_SECONDS {
            tracing::debug!(old = old[3], new = new[3], "CPU idle time jumped back; assuming hotplug");
            *old = [0.0; 10];
        }
        for (o, n) in old.iter_mut().zip(new) {
            if *n >= *o {
                *o = *n;
            }
        }
    }
}

/// The `key: value` pairs of each processor block of `/proc/cpuinfo`.
pub fn parse_cpuinfo(text: &str) -> Result<Vec<HashMap<&str, &str>>, String> {
    let mut cpus: Vec<HashMap<&str, &str>> = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let (key, value) = (key.trim(), value.trim());
        if key == "processor" {
            cpus.push(HashMap::new());
        }
        match cpus.last_mut() {
            Some(cpu) => {
                cpu.insert(key, value);
            }
            None => return Err(format!("first field is {key:?}, not \"processor\"")),
        }
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(args: &[&str]) -> Box<dyn vigie_kit::Collector> {
        crate::collectors::build(&REG, args).unwrap()
    }

    #[test]
    fn parses_stat_cpu_lines() {
        let text = "cpu  21893 0 5897 116656 630 0 126 68 0 0\ncpu0 10209 0 2748 59425 177 0 35 32 0 0\n\
                    cpu2 1 2 3\nintr 5 0\n";
        let cpus = parse_stat(text).unwrap();
        assert_eq!(cpus.len(), 3);
        assert_eq!(cpus[0], [102.09, 0.0, 27.48, 594.25, 1.77, 0.0, 0.35, 0.32, 0.0, 0.0]);
        assert_eq!(cpus[1], [0.0; 10]);
        assert_eq!(cpus[2][..4], [0.01, 0.02, 0.03, 0.0]);
        assert!(parse_stat("cpu0 1 x\n").unwrap_err().contains("line 1"));
        assert!(parse_stat("cpux 1\n").unwrap_err().contains("CPU number"));
    }

    #[test]
    fn counters_never_go_back() {
        let mut last = Vec::new();
        let t = |user: f64, idle: f64| [user, 0.0, 0.0, idle, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        update(&mut last, &[t(10.0, 100.0)]);
        // user went back: keep 10; idle went back by less than 3 s: keep 100.
        update(&mut last, &[t(9.0, 98.5)]);
        assert_eq!(last, vec![t(10.0, 100.0)]);
        update(&mut last, &[t(11.0, 101.0)]);
        assert_eq!(last, vec![t(11.0, 101.0)]);
        // idle fell by 3 s or more: the CPU starts over.
        update(&mut last, &[t(1.0, 98.0)]);
        assert_eq!(last, vec![t(1.0, 98.0)]);
        // a CPU appeared: all start over.
        update(&mut last, &[t(0.5, 1.0), t(2.0, 2.0)]);
        assert_eq!(last, vec![t(0.5, 1.0), t(2.0, 2.0)]);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("\n"), Ok(vec![]));
        assert_eq!(parse_cpu_list("0-2,5\n"), Ok(vec![0, 1, 2, 5]));
        assert!(parse_cpu_list("a-b").is_err());
    }

    #[test]
    fn fixture_tree() {
        // proc/stat captured on this VM; thermal_throttle counts constructed.
        let text = crate::collectors::fixture_text(&*cpu(&[])).unwrap();
        for line in [
            "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 594.25\n",
            "node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 116.83\n",
            "node_cpu_seconds_total{cpu=\"1\",mode=\"steal\"} 0.36\n",
            "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"nice\"} 0\n",
            "node_cpu_core_throttles_total{core=\"0\",package=\"0\"} 7\n",
            "node_cpu_core_throttles_total{core=\"1\",package=\"0\"} 5\n",
            "node_cpu_package_throttles_total{package=\"0\"} 3\n",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
        assert_eq!(text.matches("\nnode_cpu_seconds_total{").count(), 16, "{text}");
        assert_eq!(text.matches("\nnode_cpu_package_throttles_total{").count(), 1, "{text}");
        assert!(!text.contains("node_cpu_info") && !text.contains("isolated"), "{text}");
        assert!(!text.contains("mode=\"guest"), "{text}");
    }

    #[test]
    fn options() {
        let text = crate::collectors::fixture_text(&*cpu(&["--no-collector.cpu.guest"])).unwrap();
        assert!(!text.contains("node_cpu_guest_seconds_total"), "{text}");
        let text = crate::collectors::fixture_text(&*cpu(&["--collector.cpu.info.flags-include", "^(sse4_2|aes)$"]))
            .unwrap();
        assert!(text.contains(
            "node_cpu_info{cachesize=\"512 KB\",core=\"1\",cpu=\"1\",family=\"25\",microcode=\"0x1000065\",\
             model=\"1\",model_name=\"AMD EPYC\",package=\"0\",stepping=\"1\",vendor=\"AuthenticAMD\"} 1\n"
        ), "{text}");
        assert!(text.contains("node_cpu_flag_info{flag=\"aes\"} 1\nnode_cpu_flag_info{flag=\"sse4_2\"} 1\n"), "{text}");
        assert!(!text.contains("node_cpu_bug_info"), "{text}");
        assert!(crate::collectors::build(&REG, &["--collector.cpu.info.bugs-include", "("]).is_err());
    }
}
