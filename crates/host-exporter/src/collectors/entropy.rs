//! /proc/sys/kernel/random/{entropy_avail,poolsize} → node_entropy_available_bits,
//! node_entropy_pool_size_bits (node_exporter "entropy").

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "entropy",
    default_enabled: true,
    help: "Exposes available entropy.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Entropy)),
};

const AVAILABLE: Desc = Desc::gauge("node_entropy_available_bits", "Entropy the kernel's pool holds, in bits.", &[]);
const POOL_SIZE: Desc = Desc::gauge("node_entropy_pool_size_bits", "Size of the kernel's entropy pool, in bits.", &[]);

/// Reads `/proc/sys/kernel/random/`.
pub struct Entropy;

impl SyncCollector for Entropy {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        for (file, desc) in [("entropy_avail", &AVAILABLE), ("poolsize", &POOL_SIZE)] {
            let path = cx.paths.proc(format!("sys/kernel/random/{file}"));
            let text = cx.read(&path)?;
            let bits: u64 = text.trim().parse().map_err(|_| CollectError::parse(&path, format!("not an integer: {:?}", text.trim())))?;
            out.add(desc, &[], bits as f64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Entropy).unwrap();
        assert!(text.contains("\nnode_entropy_available_bits 256\n"), "{text}");
        assert!(text.contains("\nnode_entropy_pool_size_bits 256\n"), "{text}");
    }

    #[test]
    fn malformed_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sys/kernel/random")).unwrap();
        std::fs::write(dir.path().join("sys/kernel/random/entropy_avail"), "lots\n").unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..vigie_kit::Paths::default() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Entropy, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("entropy_avail") && err.contains("lots"), "{err}");
    }
}
