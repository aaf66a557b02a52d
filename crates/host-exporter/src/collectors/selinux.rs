//! SELinux state (selinuxfs under `--path.sysfs`, /etc/selinux/config under `--path.rootfs`) →
//! node_selinux_* (node_exporter "selinux" names).
//!
//! As go-selinux decides: SELinux is on when selinuxfs is mounted and this process's label is
//! not "kernel". Off, only `node_selinux_enabled 0` is written.

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "selinux",
    default_enabled: true,
    help: "Exposes SELinux statistics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Selinux)),
};

const ENABLED: Desc = Desc::gauge("node_selinux_enabled", "1 if SELinux is on, 0 if not.", &[]);
const CONFIG_MODE: Desc = Desc::gauge(
    "node_selinux_config_mode",
    "SELinux mode set in /etc/selinux/config: 1 enforcing, 0 permissive, -1 disabled.",
    &[],
);
const CURRENT_MODE: Desc =
    Desc::gauge("node_selinux_current_mode", "SELinux mode now in force: 1 enforcing, 0 permissive.", &[]);

/// Reads SELinux's state.
pub struct Selinux;

impl SyncCollector for Selinux {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let enforce = cx.paths.sys("fs/selinux/enforce");
        let mounted = cx.exists(&enforce, false);
        let label = if mounted { cx.proc("self/attr/current").ok() } else { None };
        let on = label.is_some_and(|l| l.trim_end_matches(['\0', '\n']) != "kernel");
        if !on {
            out.add(&ENABLED, &[], 0.0);
            return Ok(());
        }
        out.add(&ENABLED, &[], 1.0);
        let config = vigie_kit::scrape::read_text(&cx.paths.root("etc/selinux/config")).unwrap_or_default();
        out.add(&CONFIG_MODE, &[], config_mode(&config));
        let text = cx.read(&enforce)?;
        let mode: f64 = text.trim().parse().map_err(|_| CollectError::parse(&enforce, format!("not a number: {text:?}")))?;
        out.add(&CURRENT_MODE, &[], mode);
        Ok(())
    }
}

/// The `SELINUX=` mode of /etc/selinux/config: 1 enforcing, 0 permissive, -1 otherwise.
pub fn config_mode(config: &str) -> f64 {
    let value = config.lines().rev().find_map(|l| l.trim().strip_prefix("SELINUX=")).unwrap_or("");
    match value.trim().trim_matches('"') {
        "enforcing" => 1.0,
        "permissive" => 0.0,
        _ => -1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_on_this_vm() {
        let text = crate::collectors::fixture_text(&Selinux).unwrap();
        assert!(text.ends_with("# TYPE node_selinux_enabled gauge\nnode_selinux_enabled 0\n"), "{text}");
        assert!(!text.contains("mode"), "{text}");
    }

    #[test]
    fn on_in_a_constructed_tree() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sys/fs/selinux")).unwrap();
        std::fs::write(d.join("sys/fs/selinux/enforce"), "0").unwrap();
        std::fs::create_dir_all(d.join("proc/self/attr")).unwrap();
        std::fs::write(d.join("proc/self/attr/current"), "system_u:system_r:unconfined_t:s0\0").unwrap();
        std::fs::create_dir_all(d.join("root/etc/selinux")).unwrap();
        std::fs::write(d.join("root/etc/selinux/config"), "# x\nSELINUX=enforcing\nSELINUXTYPE=targeted\n").unwrap();
        let paths =
            vigie_kit::Paths { procfs: d.join("proc"), sysfs: d.join("sys"), rootfs: d.join("root"), udev_data: d.into(), missing: Default::default() };
        let (set, result) = vigie_kit::scheduler::collect_once(&Selinux, paths.clone());
        result.unwrap();
        let text = set.encode();
        assert!(text.contains("node_selinux_enabled 1\n"), "{text}");
        assert!(text.contains("node_selinux_config_mode 1\n"), "{text}");
        assert!(text.contains("node_selinux_current_mode 0\n"), "{text}");
        std::fs::write(d.join("proc/self/attr/current"), "kernel\0").unwrap();
        let (set, _) = vigie_kit::scheduler::collect_once(&Selinux, paths);
        assert!(set.encode().contains("node_selinux_enabled 0\n"));
        assert_eq!(config_mode("SELINUX=permissive\n"), 0.0);
        assert_eq!(config_mode("SELINUX=disabled\n"), -1.0);
    }
}
