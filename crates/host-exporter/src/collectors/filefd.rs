//! /proc/sys/fs/file-nr → node_filefd_allocated, node_filefd_maximum (node_exporter "filefd").

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "filefd",
    default_enabled: true,
    help: "Exposes file descriptor statistics from /proc/sys/fs/file-nr.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Filefd)),
};

const ALLOCATED: Desc = Desc::gauge("node_filefd_allocated", "File handles the kernel has allocated.", &[]);
const MAXIMUM: Desc = Desc::gauge("node_filefd_maximum", "Most file handles the kernel will allocate.", &[]);

/// Reads `/proc/sys/fs/file-nr`.
pub struct Filefd;

impl SyncCollector for Filefd {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("sys/fs/file-nr");
        let text = cx.read(&path)?;
        let [allocated, maximum] = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        out.add(&ALLOCATED, &[], allocated);
        out.add(&MAXIMUM, &[], maximum);
        Ok(())
    }
}

/// The first (allocated) and third (maximum) tab-separated numbers of `file-nr`.
pub fn parse(text: &str) -> Result<[f64; 2], String> {
    let parts: Vec<&str> = text.trim().split('\t').collect();
    if parts.len() < 3 {
        return Err(format!("expected 3 tab-separated numbers, got {:?}", text.trim()));
    }
    let num = |s: &str| s.parse::<f64>().map_err(|_| format!("invalid number {s:?}"));
    Ok([num(parts[0])?, num(parts[2])?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_nr() {
        assert_eq!(parse("319\t0\t2466181\n"), Ok([319.0, 2466181.0]));
        assert!(parse("319 0 2466181\n").is_err());
        assert!(parse("x\t0\t1\n").unwrap_err().contains("\"x\""));
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Filefd).unwrap();
        assert!(text.contains("\nnode_filefd_allocated 319\n"), "{text}");
        assert!(text.contains("\nnode_filefd_maximum 2.466181e+06\n"), "{text}");
    }
}
