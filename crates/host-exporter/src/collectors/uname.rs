//! uname(2) → node_uname_info (node_exporter "uname" names).
//!
//! Read once: the kernel's identity does not change while it runs (node_exporter asks every
//! scrape; only a hostname change would show the difference, and it is rare).

use std::sync::OnceLock;

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "uname",
    default_enabled: true,
    help: "Exposes system information as provided by the uname system call.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Uname::default())),
};

const INFO: Desc = Desc::gauge(
    "node_uname_info",
    "The kernel's identity as uname(2) gives it; always 1.",
    &["sysname", "release", "version", "machine", "nodename", "domainname"],
);

/// Calls uname(2) once.
#[derive(Default)]
pub struct Uname {
    labels: OnceLock<[String; 6]>,
}

impl SyncCollector for Uname {
    fn collect_sync(&self, _: &Scrape, out: &mut MetricSet) -> CollectResult {
        let labels = self.labels.get_or_init(|| {
            let u = rustix::system::uname();
            let s = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
            [s(u.sysname()), s(u.release()), s(u.version()), s(u.machine()), s(u.nodename()), s(u.domainname())]
        });
        let values: Vec<&str> = labels.iter().map(String::as_str).collect();
        out.add(&INFO, &values, 1.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_kernel() {
        let text = crate::collectors::fixture_text(&Uname::default()).unwrap();
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert!(text.contains(&format!("release=\"{}\"", release.trim())), "{text}");
        assert!(text.contains("sysname=\"Linux\""), "{text}");
        assert!(text.contains("domainname=\"") && text.ends_with("} 1\n"), "{text}");
    }
}
