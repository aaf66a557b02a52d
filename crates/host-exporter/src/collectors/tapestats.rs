//! `/sys/class/scsi_tape/st*/stats/*` → `node_tape_*{device}` (node_exporter "tapestats"
//! names).
//!
//! Only the `st<N>` entries are read (not the `nst<N>` and mode variants of the same drive),
//! as in node_exporter 1.5. No `/sys/class/scsi_tape` (no st driver) is "no data" (success
//! 0, this VM); a malformed counter file fails the collector
//! (a missing one is left out, i.e. reads as zero in 1.5).

use clap::{Arg, ArgMatches, Command};
use regex::Regex;
use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "tapestats",
    default_enabled: true,
    help: "Exposes statistics from /sys/class/scsi_tape.",
    args,
    build: |m| Ok(Box::new(Tapestats::from_matches(m)?)),
};

const IGNORED: &str = "collector.tapestats.ignored-devices";

fn args(cmd: Command) -> Command {
    cmd.arg(Arg::new(IGNORED).long(IGNORED).value_name("REGEX").default_value("^$").help("Regexp of tape devices to ignore."))
}

const DEV: &[&str] = &["device"];

/// Each counter file of `stats/`, its family, and the factor to the exposed unit.
const STATS: [(&str, Desc, f64); 10] = [
    ("in_flight", Desc::gauge("node_tape_io_now", "Tape I/Os outstanding now.", DEV), 1.0),
    (
        "io_ns",
        Desc::counter("node_tape_io_time_seconds_total", "Seconds spent on all tape commands, tape movement included.", DEV),
        1e-9,
    ),
    ("other_cnt", Desc::counter("node_tape_io_others_total", "Tape commands other than reads and writes.", DEV), 1.0),
    ("read_byte_cnt", Desc::counter("node_tape_read_bytes_total", "Bytes read from the tape drive.", DEV), 1.0),
    ("read_cnt", Desc::counter("node_tape_reads_completed_total", "Reads issued to the tape drive.", DEV), 1.0),
    ("read_ns", Desc::counter("node_tape_read_time_seconds_total", "Seconds spent waiting for tape reads.", DEV), 1e-9),
    (
        "resid_cnt",
        Desc::counter("node_tape_residual_total", "Reads or writes that ended with a non-zero residual count.", DEV),
        1.0,
    ),
    ("write_byte_cnt", Desc::counter("node_tape_written_bytes_total", "Bytes written to the tape drive.", DEV), 1.0),
    ("write_cnt", Desc::counter("node_tape_writes_completed_total", "Writes issued to the tape drive.", DEV), 1.0),
    ("write_ns", Desc::counter("node_tape_write_time_seconds_total", "Seconds spent waiting for tape writes.", DEV), 1e-9),
];

/// Whether a class entry is a tape drive node_exporter reports (`st<N>`).
pub fn is_drive(name: &str) -> bool {
    name.strip_prefix("st").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads `/sys/class/scsi_tape`.
pub struct Tapestats {
    ignored: Regex,
}

impl Tapestats {
    fn from_matches(m: &ArgMatches) -> Result<Tapestats, String> {
        let pattern = m.get_one::<String>(IGNORED).map_or("^$", String::as_str);
        let ignored = Regex::new(pattern).map_err(|e| format!("--{IGNORED}: invalid regexp {pattern:?}: {e}"))?;
        Ok(Tapestats { ignored })
    }
}

impl SyncCollector for Tapestats {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let class = cx.paths.sys("class/scsi_tape");
        let entries = cx.read_dir(&class).map_err(|e| {
            let e = CollectError::io(&class, e);
            if e.is_not_found() {
                CollectError::NoData(e.to_string())
            } else {
                e
            }
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| CollectError::io(&class, e))?.file_name().to_string_lossy().into_owned();
            if is_drive(&name) && !self.ignored.is_match(&name) {
                names.push(name);
            }
        }
        names.sort();
        for name in &names {
            let dir = class.join(name).join("stats");
            for (file, desc, factor) in &STATS {
                let path = dir.join(file);
                // procfs reads the files that exist: a missing counter is 0.
                let text = match vigie_kit::scrape::read_text(&path) {
                    Err(e) if e.is_not_found() => continue,
                    other => other?,
                };
                let v: u64 = text.trim().parse().map_err(|_| CollectError::parse(&path, format!("invalid number {:?}", text.trim())))?;
                out.add(desc, &[name], v as f64 * factor);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(argv: &[&str]) -> Result<Tapestats, String> {
        Tapestats::from_matches(&args(Command::new("t")).try_get_matches_from(argv).unwrap())
    }

    #[test]
    fn drive_names() {
        assert!(is_drive("st0") && is_drive("st12"));
        assert!(!is_drive("nst0") && !is_drive("st0a") && !is_drive("st") && !is_drive("st0l"));
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&build(&["t"]).unwrap()).unwrap();
        for line in [
            "node_tape_io_now{device=\"st0\"} 1\n",
            "node_tape_io_time_seconds_total{device=\"st0\"} 9.25\n",
            "node_tape_io_others_total{device=\"st0\"} 17\n",
            "node_tape_read_bytes_total{device=\"st0\"} 4.194304e+06\n",
            "node_tape_reads_completed_total{device=\"st0\"} 64\n",
            "node_tape_read_time_seconds_total{device=\"st0\"} 1.5\n",
            "node_tape_residual_total{device=\"st0\"} 2\n",
            "node_tape_written_bytes_total{device=\"st0\"} 1.048576e+08\n",
            "node_tape_writes_completed_total{device=\"st0\"} 1600\n",
            "node_tape_write_time_seconds_total{device=\"st0\"} 6.5\n",
        ] {
            assert!(text.contains(line), "missing {line}in\n{text}");
        }
        // nst0 (the no-rewind node of the same drive) is not reported.
        assert_eq!(text.matches("{device=").count(), 10, "{text}");
        let ignored = crate::collectors::fixture_text(&build(&["t", "--collector.tapestats.ignored-devices=^st0$"]).unwrap());
        assert_eq!(ignored.unwrap(), "");
        assert!(build(&["t", "--collector.tapestats.ignored-devices=("]).is_err());
    }

    #[test]
    fn absent_class_is_no_data_and_bad_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().into(), ..crate::collectors::fixtures() };
        let t = build(&["t"]).unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&t, crate::collectors::fresh(&paths));
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
        let stats = dir.path().join("class/scsi_tape/st1/stats");
        std::fs::create_dir_all(&stats).unwrap();
        for (file, _, _) in &STATS {
            std::fs::write(stats.join(file), "0\n").unwrap();
        }
        std::fs::write(stats.join("read_cnt"), "lots\n").unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&t, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("st1/stats/read_cnt") && err.contains("lots"), "{err}");
    }
}
