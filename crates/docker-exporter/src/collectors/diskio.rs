//! cgroup block I/O → `container_fs_{reads,writes}_bytes_total{device}`,
//! `container_fs_{reads,writes}_total{device}` and
//! `container_blkio_device_usage_total{device,major,minor,operation}` (cAdvisor "diskIO"
//! names). v1: the first non-empty of the CFQ, BFQ and throttle `*_recursive` files that
//! exist, as libcontainer picks; v2: `io.stat`. `device` is `/dev/<name>` from
//! `<sysfs>/dev/block/MAJ:MIN/uevent`, empty when unknown.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Paths, Registration, Scrape};

use super::{emit, per_container, Conn};
use crate::cgroup::files::read_path;
use crate::cgroup::{blkio_v1, io_stat_v2, DeviceStats, Files};
use crate::engine::Running;

/// The registration.
pub const REG: Registration<Conn> = Registration {
    name: "diskio",
    default_enabled: true,
    help: "Block I/O bytes and operations per device of each container.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(DiskIo)),
};

const D: &[&str] = &["device"];
const READ_BYTES: Desc = Desc::counter("container_fs_reads_bytes_total", "Bytes read from the device.", D);
const WRITE_BYTES: Desc = Desc::counter("container_fs_writes_bytes_total", "Bytes written to the device.", D);
const READS: Desc = Desc::counter("container_fs_reads_total", "Read operations completed.", D);
const WRITES: Desc = Desc::counter("container_fs_writes_total", "Write operations completed.", D);
const DEVICE_USAGE: Desc = Desc::counter(
    "container_blkio_device_usage_total",
    "Bytes of block I/O per device and operation.",
    &["device", "major", "minor", "operation"],
);

/// Reads block I/O accounting.
pub struct DiskIo;

/// v1: the first non-empty of the `<prefix><what>_recursive` files that exist (known from
/// the container's limits), as libcontainer picks.
fn v1(files: &mut Files<'_>, prefixes: &[&str], what: &str) -> Result<DeviceStats, vigie_kit::CollectError> {
    for prefix in prefixes {
        if let Some(text) = files.read("blkio", &format!("{prefix}{what}_recursive"))? {
            let stats = blkio_v1(text);
            if !stats.is_empty() {
                return Ok(stats);
            }
        }
    }
    Ok(Vec::new())
}

/// `/dev/<name>` of a block device, from `<sysfs>/dev/block/MAJ:MIN/uevent`; empty when unknown.
fn device_name(paths: &Paths, (major, minor): (u64, u64)) -> String {
    read_path(&paths.sys(format!("dev/block/{major}:{minor}/uevent")))
        .ok()
        .flatten()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("DEVNAME=").map(|n| format!("/dev/{n}"))))
        .unwrap_or_default()
}

fn op(ops: &[(String, u64)], name: &str) -> f64 {
    ops.iter().find(|(o, _)| o == name).map_or(0.0, |(_, v)| *v as f64)
}

impl Collector<Conn> for DiskIo {
    fn collect<'a>(&'a self, cx: &'a Scrape<Conn>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        per_container(cx, out, container)
    }
}

/// One container's samples.
fn container(paths: &Paths, r: &Running, out: &mut MetricSet) -> CollectResult {
    let (cg, base) = (&r.cgroup, &r.labels);
    let mut files = Files::new(cg);
    let (bytes, ios) = if cg.is_v2() {
        match files.read("io", "io.stat")? {
            Some(t) => io_stat_v2(t),
            None => return Ok(()),
        }
    } else {
        let prefixes = &r.container.limits.blkio;
        (v1(&mut files, prefixes, "io_service_bytes")?, v1(&mut files, prefixes, "io_serviced")?)
    };
    let mut names: Vec<((u64, u64), String)> = Vec::new();
    let mut name = |dev: (u64, u64)| -> String {
        if let Some((_, n)) = names.iter().find(|(d, _)| *d == dev) {
            return n.clone();
        }
        let n = device_name(paths, dev);
        names.push((dev, n.clone()));
        n
    };
    for (dev, ops) in &bytes {
        let name = name(*dev);
        emit(out, &READ_BYTES, base, &[&name], op(ops, "Read"));
        emit(out, &WRITE_BYTES, base, &[&name], op(ops, "Write"));
        let (major, minor) = (dev.0.to_string(), dev.1.to_string());
        for (operation, v) in ops {
            emit(out, &DEVICE_USAGE, base, &[&name, &major, &minor, operation], *v as f64);
        }
    }
    for (dev, ops) in &ios {
        let name = name(*dev);
        emit(out, &READS, base, &[&name], op(ops, "Read"));
        emit(out, &WRITES, base, &[&name], op(ops, "Write"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::run;

    #[test]
    fn both_versions() {
        // busy did no block I/O: its files hold only "Total 0".
        assert_eq!(run(&DiskIo, "v1"), "");
        let text = run(&DiskIo, "v2");
        assert!(text.contains("container_fs_reads_bytes_total{device=\"/dev/vda\",id=\"/system.slice/docker-4f3c.scope\",image=\"vigie/busybox:test\",name=\"busy\"} 4096\n"), "{text}");
        assert!(text.contains("container_fs_writes_total{device=\"/dev/vda\"") && text.contains("} 3\n"), "{text}");
        assert!(text.contains("major=\"254\",minor=\"0\",name=\"busy\",operation=\"Write\"} 12288\n"), "{text}");
    }
}
