//! Where a container's cgroup lives and how its files read, on cgroup v1 and v2.
//!
//! A container is located from its init process (`<procfs>/<pid>/cgroup`), so the cgroupfs and
//! systemd drivers and a daemon's `--cgroup-parent` all work without guessing. The directories
//! are joined under `<sysfs>/fs/cgroup`, the host's hierarchy as seen by the exporter. The
//! parsers are pure functions over a file's text; the collectors read through `cx.read`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use vigie_kit::{CollectError, Paths};

pub mod files;

pub use files::Files;

/// The v1 controllers the collectors read.
pub const V1_CONTROLLERS: [&str; 5] = ["cpu", "cpuacct", "memory", "blkio", "pids"];

/// How this host mounts its cgroups: unified (v2), or one directory per v1 controller.
#[derive(Clone, Debug, PartialEq)]
pub enum Layout {
    /// `<sysfs>/fs/cgroup` is a cgroup2 mount (it has `cgroup.controllers`).
    V2 { root: PathBuf },
    /// Controller name → its hierarchy's mount directory (`cpu` → `…/cpu,cpuacct`).
    V1 { mounts: HashMap<String, PathBuf> },
}

impl Layout {
    /// Looks at `<sysfs>/fs/cgroup` once. A hybrid host (v1 controllers plus an empty
    /// `unified` mount) is v1: the controllers are where the numbers are.
    pub fn detect(paths: &Paths) -> Layout {
        let root = paths.sys("fs/cgroup");
        if root.join("cgroup.controllers").exists() {
            return Layout::V2 { root };
        }
        let mut mounts = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(&root) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                // Only a hierarchy with something in it counts: an empty directory left beside the real
                // mounts (seen here: `cpu,cpuacct`, `perf_event`, … created by a container
                // runtime on a host that mounts `cpu` and `cpuacct` apart) would otherwise
                // shadow the real `cpu` when read_dir lists it first, and every CPU figure
                // would vanish.
                let empty = std::fs::read_dir(root.join(&name)).map_or(true, |mut d| d.next().is_none());
                if empty {
                    continue;
                }
                // `cpu,cpuacct` holds both; symlinks `cpu` → `cpu,cpuacct` resolve the same.
                for ctrl in name.split(',') {
                    mounts.entry(ctrl.to_owned()).or_insert_with(|| root.join(&name));
                }
            }
        }
        Layout::V1 { mounts }
    }
}

/// One container's cgroup.
#[derive(Clone, Debug, PartialEq)]
pub struct Cgroup {
    /// The cgroup path cAdvisor names the container by (its `id` label): `/docker/<id>`,
    /// `/system.slice/docker-<id>.scope`, `/<cgroup-parent>/<id>`.
    pub name: String,
    /// Where its files are.
    pub dirs: Dirs,
    /// Its directories, opened once (`O_PATH`) on first use and kept for the container's
    /// life in the registry, so that a scrape opens each file without walking the long path.
    pub handles: files::Handles,
}

/// The directories of one cgroup.
#[derive(Clone, Debug, PartialEq)]
pub enum Dirs {
    /// The one unified directory.
    V2(PathBuf),
    /// Controller → directory, for the controllers in [`V1_CONTROLLERS`] that are mounted.
    V1(HashMap<&'static str, PathBuf>),
}

impl Cgroup {
    /// Whether the files are cgroup v2's.
    pub fn is_v2(&self) -> bool {
        matches!(self.dirs, Dirs::V2(_))
    }

    /// The path of `file` in controller `ctrl` (v1) or in the unified directory (v2); the
    /// collectors open files through [`Files`] instead.
    #[cfg(test)]
    pub fn file(&self, ctrl: &str, file: &str) -> Option<PathBuf> {
        match &self.dirs {
            Dirs::V2(dir) => Some(dir.join(file)),
            Dirs::V1(dirs) => dirs.get(ctrl).map(|d| d.join(file)),
        }
    }
}

/// What a container may use, and how its v1 files are laid out: read from its cgroup when it
/// is discovered and again at each of its events (`docker update` sends one), since these
/// change only then. Scrapes read only the usage files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limits {
    /// CFS period, microseconds (v1 `cpu.cfs_period_us`, v2 `cpu.max`).
    pub cpu_period: u64,
    /// CFS quota per period, microseconds; 0 when none.
    pub cpu_quota: u64,
    /// v1 `cpu.shares`, or v2 `cpu.weight` converted as cAdvisor does.
    pub cpu_shares: u64,
    /// Memory limit, bytes (`memory.limit_in_bytes`, `memory.max`; huge or `max`: none).
    pub memory: u64,
    /// Memory plus swap limit (`memory.memsw.limit_in_bytes`), or v2 `memory.swap.max`.
    pub memory_swap: u64,
    /// Soft limit (`memory.soft_limit_in_bytes`), or v2 `memory.min`.
    pub memory_reservation: u64,
    /// v1 `memory.use_hierarchy` is 1: `memory.stat`'s `total_*` keys are the container's.
    pub use_hierarchy: bool,
    /// v1: the prefixes (`blkio.`, `blkio.bfq.`, `blkio.throttle.`) whose `*_recursive`
    /// files exist, in libcontainer's order of preference.
    pub blkio: Vec<&'static str>,
}

/// The v1 block I/O file families, in libcontainer's order: CFQ, BFQ, throttling.
const BLKIO_PREFIXES: [&str; 3] = ["blkio.", "blkio.bfq.", "blkio.throttle."];

impl Limits {
    /// Reads the limits of `cg`; a file that is missing reads as 0.
    pub fn read(cg: &Cgroup) -> Result<Limits, CollectError> {
        let mut f = Files::new(cg);
        let mut l = Limits::default();
        if cg.is_v2() {
            if let Some((quota, period)) = f.read("cpu", "cpu.max")?.and_then(cpu_max) {
                (l.cpu_quota, l.cpu_period) = (quota.unwrap_or(0), period);
            }
            l.cpu_shares = f.single("cpu", "cpu.weight")?.and_then(weight_to_shares).unwrap_or(0);
            l.memory = f.single("memory", "memory.max")?.unwrap_or(0);
            l.memory_swap = f.single("memory", "memory.swap.max")?.unwrap_or(0);
            l.memory_reservation = f.single("memory", "memory.min")?.unwrap_or(0);
        } else {
            l.cpu_period = f.single("cpu", "cpu.cfs_period_us")?.unwrap_or(0);
            l.cpu_quota = f
                .read("cpu", "cpu.cfs_quota_us")?
                .and_then(single_signed)
                .and_then(|q| u64::try_from(q).ok())
                .unwrap_or(0);
            l.cpu_shares = f.single("cpu", "cpu.shares")?.unwrap_or(0);
            l.memory = f.single("memory", "memory.limit_in_bytes")?.unwrap_or(0);
            l.memory_swap = f.single("memory", "memory.memsw.limit_in_bytes")?.unwrap_or(0);
            l.memory_reservation = f.single("memory", "memory.soft_limit_in_bytes")?.unwrap_or(0);
            l.use_hierarchy = f.single("memory", "memory.use_hierarchy")? == Some(1);
            for prefix in BLKIO_PREFIXES {
                if f.read("blkio", &format!("{prefix}io_serviced_recursive"))?.is_some() {
                    l.blkio.push(prefix);
                }
            }
        }
        Ok(l)
    }
}

/// Locates the cgroup of the process whose `/proc/<pid>/cgroup` text is `text`.
pub fn locate(layout: &Layout, text: &str) -> Result<Cgroup, String> {
    let entries = parse_proc_cgroup(text)?;
    match layout {
        Layout::V2 { root } => {
            let path = entries
                .iter()
                .find(|(id, _, _)| *id == "0")
                .map(|(_, _, p)| *p)
                .ok_or_else(|| "no 0:: line for the unified hierarchy".to_owned())?;
            Ok(Cgroup { name: path.to_owned(), dirs: Dirs::V2(join_cgroup(root, path)), handles: Default::default() })
        }
        Layout::V1 { mounts } => {
            let mut dirs = HashMap::new();
            let mut name = None;
            for (_, ctrls, path) in &entries {
                for ctrl in ctrls.split(',') {
                    let Some(known) = V1_CONTROLLERS.iter().find(|c| **c == ctrl) else { continue };
                    if let Some(mount) = mounts.get(ctrl) {
                        dirs.insert(*known, join_cgroup(mount, path));
                    }
                    if ctrl == "cpu" {
                        name = Some((*path).to_owned());
                    }
                }
            }
            let name = name.ok_or_else(|| "no cpu controller line".to_owned())?;
            Ok(Cgroup { name, dirs: Dirs::V1(dirs), handles: Default::default() })
        }
    }
}

fn join_cgroup(mount: &Path, path: &str) -> PathBuf {
    mount.join(path.trim_start_matches('/'))
}

/// `hierarchy-id:controllers:path` lines.
pub fn parse_proc_cgroup(text: &str) -> Result<Vec<(&str, &str, &str)>, String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(n, line)| {
            let mut parts = line.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(id), Some(ctrls), Some(path)) => Ok((id, ctrls, path)),
                _ => Err(format!("line {}: not hierarchy:controllers:path", n + 1)),
            }
        })
        .collect()
}

/// The value of `key` in a flat keyed file (`cpu.stat`, `memory.stat`, `memory.events`,
/// `cpuacct.stat`, `memory.oom_control`): `key value` lines.
pub fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// A one-value file (`memory.usage_in_bytes`, `pids.max`); `max` is `u64::MAX`.
pub fn single(text: &str) -> Option<u64> {
    match text.trim() {
        "max" => Some(u64::MAX),
        v => v.parse().ok(),
    }
}

/// A one-value file that may be negative (`cpu.cfs_quota_us` is `-1` when unlimited).
pub fn single_signed(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// `cpu.max` (v2): `$QUOTA $PERIOD`, quota `max` when unlimited. Returns (quota, period).
pub fn cpu_max(text: &str) -> Option<(Option<u64>, u64)> {
    let mut f = text.split_ascii_whitespace();
    let quota = match f.next()? {
        "max" => None,
        q => Some(q.parse().ok()?),
    };
    Some((quota, f.next()?.parse().ok()?))
}

/// cAdvisor's conversion of a v2 `cpu.weight` (1..=10000) to v1-style shares (2..=262144).
pub fn weight_to_shares(weight: u64) -> Option<u64> {
    (1..=10000).contains(&weight).then(|| 2 + ((weight - 1) * 262_142) / 9999)
}

/// Per-device block I/O counters: (major, minor) → operation → value.
pub type DeviceStats = Vec<((u64, u64), Vec<(String, u64)>)>;

/// A v1 `blkio.*_recursive` file: `MAJ:MIN Op value` lines and a `Total` line.
pub fn blkio_v1(text: &str) -> DeviceStats {
    let mut out: DeviceStats = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        let [dev, op, value] = f[..] else { continue };
        let (Some(dev), Ok(value)) = (major_minor(dev), value.parse::<u64>()) else { continue };
        match out.iter_mut().find(|(d, _)| *d == dev) {
            Some((_, ops)) => ops.push((op.to_owned(), value)),
            None => out.push((dev, vec![(op.to_owned(), value)])),
        }
    }
    out
}

/// v2 `io.stat`: `MAJ:MIN rbytes=… wbytes=… rios=… wios=… dbytes=… dios=…` lines, mapped to
/// v1's operation names (`Read`, `Write`, `Discard`) as libcontainer does, so both versions
/// feed the same families.
pub fn io_stat_v2(text: &str) -> (DeviceStats, DeviceStats) {
    let (mut bytes, mut ios): (DeviceStats, DeviceStats) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let Some(dev) = f.next().and_then(major_minor) else { continue };
        let (mut b, mut n) = (Vec::new(), Vec::new());
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let Ok(v) = v.parse::<u64>() else { continue };
            match k {
                "rbytes" => b.push(("Read".to_owned(), v)),
                "wbytes" => b.push(("Write".to_owned(), v)),
                "dbytes" => b.push(("Discard".to_owned(), v)),
                "rios" => n.push(("Read".to_owned(), v)),
                "wios" => n.push(("Write".to_owned(), v)),
                "dios" => n.push(("Discard".to_owned(), v)),
                _ => {}
            }
        }
        bytes.push((dev, b));
        ios.push((dev, n));
    }
    (bytes, ios)
}

fn major_minor(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// One interface's line of `/proc/<pid>/net/dev`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Iface {
    /// Interface name.
    pub name: String,
    /// rx bytes, packets, errs, drop.
    pub rx: [u64; 4],
    /// tx bytes, packets, errs, drop.
    pub tx: [u64; 4],
}

/// Interfaces cAdvisor leaves out: loopback and the host ends of container links.
const IGNORED_IFACES: [&str; 4] = ["lo", "veth", "docker", "nerdctl"];

/// `/proc/<pid>/net/dev`, minus the interfaces cAdvisor ignores. A malformed line makes the
/// whole file untrusted, as in cAdvisor.
pub fn net_dev(text: &str) -> Result<Vec<Iface>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            return Err(format!("line {}: no interface name", n + 1));
        };
        let name = name.trim();
        let fields: Vec<u64> = rest.split_ascii_whitespace().map_while(|f| f.parse().ok()).collect();
        if fields.len() != 16 {
            return Err(format!("line {}: {} counters, want 16", n + 1, fields.len()));
        }
        if IGNORED_IFACES.iter().any(|p| name.to_ascii_lowercase().starts_with(p)) {
            continue;
        }
        out.push(Iface {
            name: name.to_owned(),
            rx: [fields[0], fields[1], fields[2], fields[3]],
            tx: [fields[8], fields[9], fields[10], fields[11]],
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
