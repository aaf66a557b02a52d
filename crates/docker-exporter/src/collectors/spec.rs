//! What a container is and what it may use → `container_last_seen`,
//! `container_start_time_seconds`, `container_creation_time_seconds`,
//! `container_health_state`, `container_spec_cpu_{period,quota,shares}`,
//! `container_spec_memory_{limit,swap_limit,reservation_limit}_bytes` (cAdvisor's always-on
//! names). Limits come from the cgroup files as cAdvisor reads them (v1 `cpu.shares`,
//! `cpu.cfs_*_us`, `memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`,
//! `memory.soft_limit_in_bytes`; v2 `cpu.weight`, `cpu.max`, `memory.max`,
//! `memory.swap.max`, `memory.min`), once when the container is discovered and again at each
//! of its events (`docker update` sends one: [`crate::cgroup::Limits`]); times from the
//! Engine's inspect.

use std::time::{SystemTime, UNIX_EPOCH};

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use super::{emit, per_container, Conn};
use crate::cgroup::Files;
use crate::engine::Running;

/// The registration.
pub const REG: Registration<Conn> = Registration {
    name: "spec",
    default_enabled: true,
    help: "Start and creation times, health, CPU and memory limits per container.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Spec)),
};

const LAST_SEEN: Desc = Desc::gauge("container_last_seen", "When the exporter last saw the container, in Unix seconds.", &[]);
const START: Desc = Desc::gauge("container_start_time_seconds", "When the container last started, in Unix seconds.", &[]);
const CREATION: Desc = Desc::gauge("container_creation_time_seconds", "When the container was created, in Unix seconds.", &[]);
const HEALTH: Desc =
    Desc::gauge("container_health_state", "Health check result: 1 healthy, 0 starting or unhealthy, -1 no health check.", &[]);
const CPU_PERIOD: Desc = Desc::gauge("container_spec_cpu_period", "CFS period of the container, in microseconds.", &[]);
const CPU_QUOTA: Desc = Desc::gauge("container_spec_cpu_quota", "CFS quota of the container per period, in microseconds.", &[]);
const CPU_SHARES: Desc = Desc::gauge("container_spec_cpu_shares", "CPU shares (relative weight) of the container.", &[]);
const MEM_LIMIT: Desc = Desc::gauge("container_spec_memory_limit_bytes", "Memory limit, in bytes (0: none).", &[]);
const SWAP_LIMIT: Desc =
    Desc::gauge("container_spec_memory_swap_limit_bytes", "Memory plus swap limit, in bytes (0: none).", &[]);
const RESERVATION: Desc =
    Desc::gauge("container_spec_memory_reservation_limit_bytes", "Memory reservation (soft limit), in bytes (0: none).", &[]);

/// Above this a memory limit means "none" (the kernel rounds its maximum down), as in cAdvisor.
const UNLIMITED: u64 = 1 << 62;

fn memory_value(v: u64) -> f64 {
    if v > UNLIMITED {
        0.0
    } else {
        v as f64
    }
}

/// Writes the spec families.
pub struct Spec;

impl Collector<Conn> for Spec {
    fn collect<'a>(&'a self, cx: &'a Scrape<Conn>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as f64;
        per_container(cx, out, move |_, r, out| container(now, r, out))
    }
}

/// One container's samples: times and health from the Engine, limits as read when the
/// container was discovered or last updated; only the existence of its cgroup is checked.
fn container(now: f64, r: &Running, out: &mut MetricSet) -> CollectResult {
    let (c, base) = (&r.container, &r.labels);
    if !Files::new(&r.cgroup).exists("cpu")? {
        return Ok(());
    }
    emit(out, &LAST_SEEN, base, &[], now);
    if let Some(created) = c.created {
        emit(out, &CREATION, base, &[], created.trunc());
        emit(out, &START, base, &[], c.started.unwrap_or(created).trunc());
    }
    let health = match c.health.as_deref() {
        Some("healthy") => 1.0,
        Some(_) => 0.0,
        None => -1.0,
    };
    emit(out, &HEALTH, base, &[], health);
    let l = &c.limits;
    emit(out, &CPU_PERIOD, base, &[], l.cpu_period as f64);
    if l.cpu_quota != 0 {
        emit(out, &CPU_QUOTA, base, &[], l.cpu_quota as f64);
    }
    emit(out, &CPU_SHARES, base, &[], l.cpu_shares as f64);
    emit(out, &MEM_LIMIT, base, &[], memory_value(l.memory));
    emit(out, &SWAP_LIMIT, base, &[], memory_value(l.memory_swap));
    emit(out, &RESERVATION, base, &[], memory_value(l.memory_reservation));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::run;

    #[test]
    fn v1_captured() {
        // busy ran with --memory 64m --cpus 0.5.
        let text = run(&Spec, "v1");
        assert!(text.contains("container_spec_memory_limit_bytes{") && text.contains("} 6.7108864e+07\n"), "{text}");
        assert!(text.contains("container_spec_cpu_quota{") && text.contains("} 50000\n"), "{text}");
        assert!(text.contains("container_spec_cpu_period{") && text.contains("} 100000\n"), "{text}");
        assert!(text.contains("container_spec_cpu_shares{") && text.contains("} 1024\n"), "{text}");
        assert!(text.contains("container_spec_memory_reservation_limit_bytes{") && text.contains("} 0\n"), "{text}");
        assert!(text.contains("container_start_time_seconds{") && text.contains("} 1.700000001e+09\n"), "{text}");
        assert!(text.contains("container_health_state{") && text.contains("} -1\n"), "{text}");
    }

    #[test]
    fn v2_constructed() {
        let text = run(&Spec, "v2");
        assert!(text.contains("container_spec_cpu_quota{") && text.contains("} 50000\n"), "{text}");
        // cpu.weight 100 (the default) through cAdvisor's conversion: 2 + 99 * 262142 / 9999 = 2597.
        assert!(text.contains("container_spec_cpu_shares{") && text.contains("} 2597\n"), "{text}");
        // memory.swap.max "max": no limit.
        let swap = text.lines().find(|l| l.starts_with("container_spec_memory_swap_limit_bytes{")).unwrap();
        assert!(swap.ends_with(" 0"), "{swap}");
        assert!(text.contains("container_spec_memory_reservation_limit_bytes{") && text.contains("} 1.048576e+06\n"), "{text}");
    }
}
