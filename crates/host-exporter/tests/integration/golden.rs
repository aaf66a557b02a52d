//! The golden exposition: our binary over the captured fixture tree
//! (`tests/fixtures/{proc,sys,rootfs,udev}`, and `tests/fixtures/textfile` when present),
//! scraped once, minus the families that change between runs or come from the test
//! machine rather than the fixtures, compared with `tests/golden/host.prom`.
//! `VIGIE_UPDATE_GOLDEN=1 cargo test` rewrites it; reviewers read its diff as the metrics
//! changelog.

use std::path::PathBuf;

use vigie_kit::testing;
use vigie_kit::MetricSet;

use super::common;

/// Families left out of the golden file, each with why; a trailing `*` is a prefix.
const VOLATILE: &[(&str, &str)] = &[
    ("node_scrape_collector_duration_seconds", "how long each collector took: differs every scrape"),
    ("process_*", "the exporter process itself: CPU, memory, file descriptors, start time"),
    ("node_exporter_build_info", "revision and rustc change with every commit and toolchain"),
    ("node_textfile_mtime_seconds", "modification times of the fixture files change with every checkout"),
    ("node_time_seconds", "the wall clock (clock_gettime), not a file"),
    ("node_time_zone_offset_seconds", "the test machine's time zone, not a file"),
    ("node_timex_*", "adjtimex(2) of the test machine, not a file"),
    ("node_uname_info", "uname(2) of the test machine, not a file"),
    ("node_filesystem_avail_bytes", "statfs(2) of wherever the fixture mount points resolve: live"),
    ("node_filesystem_free_bytes", "statfs(2), live"),
    ("node_filesystem_size_bytes", "statfs(2), live"),
    ("node_filesystem_files", "statfs(2), live"),
    ("node_filesystem_files_free", "statfs(2), live"),
];

/// Also left out when netdev cannot be told to read `/proc/net/dev` (node_exporter 1.5 reads
/// interface counters over netlink by default: the test machine's, not the fixture's).
const NETLINK: &[(&str, &str)] = &[
    ("node_network_receive_*", "netlink statistics of the test machine's interfaces"),
    ("node_network_transmit_*", "netlink statistics of the test machine's interfaces"),
];

fn matches(list: &[(&str, &str)], family: &str) -> bool {
    list.iter().any(|(p, _)| match p.strip_suffix('*') {
        Some(prefix) => family.starts_with(prefix),
        None => family == *p,
    })
}

fn golden_path() -> PathBuf {
    common::crate_dir().join("tests/golden/host.prom")
}

/// Our flags for the fixture run. Options of collectors that are not merged yet are passed
/// only once the binary accepts them.
fn fixture_args() -> (Vec<String>, bool) {
    let mut args = vec![
        format!("--path.procfs={}", common::fixture("proc").display()),
        format!("--path.sysfs={}", common::fixture("sys").display()),
        format!("--path.rootfs={}", common::fixture("rootfs").display()),
        format!("--path.udev.data={}", common::fixture("udev").display()),
    ];
    let textfile = common::fixture("textfile");
    if textfile.is_dir() {
        let flag = format!("--collector.textfile.directory={}", textfile.display());
        if common::accepts(&flag) {
            args.push(flag);
        }
    }
    let mut netlink_off = true;
    if common::help().contains("collector.netdev.netlink") {
        netlink_off = false;
        for flag in ["--no-collector.netdev.netlink", "--collector.netdev.netlink=false"] {
            if common::accepts(flag) {
                args.push(flag.to_owned());
                netlink_off = true;
                break;
            }
        }
    }
    (args, netlink_off)
}

/// The scrape, minus the volatile families, re-encoded by the kit's encoder.
fn stable(text: &str, netlink_off: bool) -> String {
    let parsed = vigie_kit::parse::parse(text).unwrap_or_else(|e| panic!("our /metrics does not parse: {e}"));
    let mut set = MetricSet::new();
    for f in parsed.families {
        if matches(VOLATILE, &f.name) || (!netlink_off && matches(NETLINK, &f.name)) {
            continue;
        }
        set.family(f.name.clone(), f.help.clone(), f.kind).samples.extend(f.samples);
    }
    set.encode()
}

#[test]
fn fixture_tree_exposition_matches_golden() {
    let (args, netlink_off) = fixture_args();
    let ours = common::spawn_ours(&args);
    let first = stable(&ours.scrape(), netlink_off);
    // A family that changes between two scrapes of the same files reads something live.
    let second = stable(&ours.scrape(), netlink_off);
    assert!(
        first == second,
        "two scrapes of the fixture tree differ; these families read something live (fix the collector to \
         read through --path.*, or add them to VOLATILE in tests/integration/golden.rs with a reason):\n{}",
        testing::line_diff(&first, &second)
    );
    // Label values that hold a path (node_rapl_*{path}) name the checkout's fixture tree:
    // the golden file says FIXTURES so that it does not depend on where the repo lives.
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let first = first.replace(&*fixtures.to_string_lossy(), "FIXTURES");
    testing::assert_golden(&golden_path(), &first);
    golden_passes_promtool();
}

/// Every golden file passes `promtool check metrics`: it parses and every family has HELP
/// (node_exporter's own names draw lint warnings, e.g. camelCase, so those are not errors).
/// Checked in the same test that writes it, so that an update run checks the new file.
fn golden_passes_promtool() {
    let Some(promtool) = common::promtool() else { return };
    let text = std::fs::read_to_string(golden_path()).expect("golden file (VIGIE_UPDATE_GOLDEN=1 cargo test)");
    let lint = testing::promtool_check_metrics(&promtool, &text).expect("promtool runs");
    assert!(lint.errors.is_empty(), "promtool cannot parse tests/golden/host.prom: {:?}", lint.errors);
    let no_help: Vec<&String> = lint.problems.iter().filter(|(_, m)| m.contains("no help")).map(|(n, _)| n).collect();
    assert!(no_help.is_empty(), "families without HELP in the golden file: {no_help:?}");
}

#[test]
fn volatile_list_matches_as_documented() {
    assert!(matches(VOLATILE, "process_open_fds"));
    assert!(matches(VOLATILE, "node_timex_offset_seconds"));
    assert!(!matches(VOLATILE, "node_time_clocksource_current_info"), "clock source is a sysfs file");
    assert!(!matches(VOLATILE, "node_load1"));
    assert!(VOLATILE.iter().chain(NETLINK).all(|(_, why)| !why.is_empty()));
}
