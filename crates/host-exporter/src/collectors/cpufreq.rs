//! /sys/devices/system/cpu/cpu*/cpufreq → node_cpu_frequency_*_hertz and
//! node_cpu_scaling_frequency_*_hertz (node_exporter "cpufreq" names).
//!
//! Values are kHz in sysfs, exposed in Hz. A CPU without cpufreq (a VM) adds nothing, and
//! the collector still succeeds, as node_exporter's does.

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "cpufreq",
    default_enabled: true,
    help: "Exposes CPU frequency statistics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Cpufreq)),
};

const FILES: [(&str, Desc); 6] = [
    ("cpuinfo_cur_freq", Desc::gauge("node_cpu_frequency_hertz", "Current frequency of each CPU, in hertz.", &["cpu"])),
    ("cpuinfo_max_freq", Desc::gauge("node_cpu_frequency_max_hertz", "Highest frequency of each CPU, in hertz.", &["cpu"])),
    ("cpuinfo_min_freq", Desc::gauge("node_cpu_frequency_min_hertz", "Lowest frequency of each CPU, in hertz.", &["cpu"])),
    (
        "scaling_cur_freq",
        Desc::gauge("node_cpu_scaling_frequency_hertz", "Frequency the governor set for each CPU, in hertz.", &["cpu"]),
    ),
    (
        "scaling_max_freq",
        Desc::gauge("node_cpu_scaling_frequency_max_hertz", "Highest frequency the governor may set, in hertz.", &["cpu"]),
    ),
    (
        "scaling_min_freq",
        Desc::gauge("node_cpu_scaling_frequency_min_hertz", "Lowest frequency the governor may set, in hertz.", &["cpu"]),
    ),
];

/// Reads each CPU's cpufreq directory.
pub struct Cpufreq;

impl SyncCollector for Cpufreq {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let dir = cx.paths.sys("devices/system/cpu");
        let cpus: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| CollectError::io(&dir, e))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.strip_prefix("cpu").is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit())))
            .collect();
        for cpu in &cpus {
            let freq = dir.join(cpu).join("cpufreq");
            if !cx.exists(&freq, true) {
                continue;
            }
            let id = &cpu[3..];
            for (file, desc) in &FILES {
                let path = freq.join(file);
                let text = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    // cpuinfo_cur_freq is readable by root only; node_exporter skips what it
                    // cannot read.
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) => {
                        continue
                    }
                    Err(e) => return Err(CollectError::io(path, e)),
                };
                let khz: u64 =
                    text.trim().parse().map_err(|_| CollectError::parse(&path, format!("not kHz: {:?}", text.trim())))?;
                out.add(desc, &[id], khz as f64 * 1000.0);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_tree() {
        // cpu0/cpufreq is constructed; cpu1 has none (as on this VM) and adds nothing.
        let text = crate::collectors::fixture_text(&Cpufreq).unwrap();
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            [
                "node_cpu_frequency_hertz{cpu=\"0\"} 2.445406e+09",
                "node_cpu_frequency_max_hertz{cpu=\"0\"} 3.2e+09",
                "node_cpu_frequency_min_hertz{cpu=\"0\"} 1.5e+09",
                "node_cpu_scaling_frequency_hertz{cpu=\"0\"} 2.4e+09",
                "node_cpu_scaling_frequency_max_hertz{cpu=\"0\"} 3.2e+09",
                "node_cpu_scaling_frequency_min_hertz{cpu=\"0\"} 1.5e+09",
            ]
        );
    }

    #[test]
    fn malformed_value_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let freq = dir.path().join("devices/system/cpu/cpu3/cpufreq");
        std::fs::create_dir_all(&freq).unwrap();
        std::fs::write(freq.join("scaling_cur_freq"), "fast\n").unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().into(), ..vigie_kit::Paths::default() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Cpufreq, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("cpu3/cpufreq/scaling_cur_freq") && err.contains("fast"), "{err}");
    }
}
