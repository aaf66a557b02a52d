use super::*;
use std::time::{Duration, SystemTime};

/// Writes `files` into a fresh directory, each with mtime 1700000000 s.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)).unwrap();
    }
    dir
}

fn scrape(dir: &str) -> String {
    crate::collectors::fixture_text(&Textfile { dir: dir.to_owned() }).unwrap()
}

/// The exposition without HELP lines (checked separately where they matter).
fn samples(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with("# HELP")).map(|l| format!("{l}\n")).collect()
}

#[test]
fn good_bad_and_timestamped_files() {
    let dir = dir_with(&[
        ("good.prom", "# HELP app_up Is the app up.\n# TYPE app_up gauge\napp_up{app=\"x\"} 1\n"),
        ("bad.prom", "fine 1\nbad{ 2\n"),
        ("stamped.prom", "stamped 1 1700000000000\n"),
        ("ignored.txt", "not_read 1\n"),
    ]);
    let base = dir.path().display().to_string();
    let text = scrape(&base);
    let want = format!(
        "# HELP app_up Is the app up.\n# TYPE app_up gauge\napp_up{{app=\"x\"}} 1\n\
# HELP {MTIME} {MTIME_HELP}\n# TYPE {MTIME} gauge\n{MTIME}{{file=\"{base}/good.prom\"}} 1.7e+09\n\
# HELP {SCRAPE_ERROR} {SCRAPE_ERROR_HELP}\n# TYPE {SCRAPE_ERROR} gauge\n{SCRAPE_ERROR} 1\n"
    );
    assert_eq!(text, want);
}

#[test]
fn a_malformed_file_names_its_line() {
    let e = parse("fine 1\nbad{ 2\n").unwrap_err();
    assert!(e.starts_with("line 2:"), "{e}");
    let e = parse("x 1 1700000000000\n").unwrap_err();
    assert!(e.contains("timestamps"), "{e}");
    let e = parse("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n").unwrap_err();
    assert!(e.contains("\"le\""), "{e}");
    assert!(parse("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n").is_ok());
}

#[test]
fn empty_missing_and_unset_directories() {
    let empty = tempfile::tempdir().unwrap();
    let text = scrape(&empty.path().display().to_string());
    assert_eq!(samples(&text), format!("# TYPE {SCRAPE_ERROR} gauge\n{SCRAPE_ERROR} 0\n"));

    let missing = empty.path().join("nope").display().to_string();
    assert_eq!(samples(&scrape(&missing)), format!("# TYPE {SCRAPE_ERROR} gauge\n{SCRAPE_ERROR} 1\n"));

    // The default: no directory, nothing read, no error.
    assert_eq!(samples(&scrape("")), format!("# TYPE {SCRAPE_ERROR} gauge\n{SCRAPE_ERROR} 0\n"));
}

#[test]
fn families_merge_across_files_as_node_exporter_does() {
    // The same files node_exporter 1.5 was run on (see the module doc); the expected text is
    // its output with our HELP for its own two families.
    let dir = dir_with(&[
        (
            "a.prom",
            "# HELP shared_metric from a\n# TYPE shared_metric gauge\nshared_metric{f=\"a\"} 1\n\
untyped_nohelp{x=\"1\"} 3\nuntyped_nohelp{y=\"2\"} 4\n\
# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_sum 3\nh_count 2\n",
        ),
        (
            "b.prom",
            "# HELP shared_metric from b\n# TYPE shared_metric gauge\nshared_metric{f=\"b\"} 2\n\
untyped_nohelp{x=\"9\"} 5\nuntyped_nohelp{x=\"9\"} 6\n",
        ),
        ("c.prom", "# TYPE shared2 counter\nshared2 1\n"),
        ("d.prom", "# TYPE shared2 gauge\nshared2{k=\"d\"} 1\n"),
    ]);
    let base = dir.path().display().to_string();
    let text = scrape(&base);
    let want = format!(
        "# HELP h Metric read from {base}/a.prom\n# TYPE h histogram\n\
h_bucket{{le=\"1\"}} 1\nh_bucket{{le=\"+Inf\"}} 2\nh_sum 3\nh_count 2\n\
# HELP {MTIME} {MTIME_HELP}\n# TYPE {MTIME} gauge\n\
{MTIME}{{file=\"{base}/a.prom\"}} 1.7e+09\n{MTIME}{{file=\"{base}/b.prom\"}} 1.7e+09\n\
{MTIME}{{file=\"{base}/c.prom\"}} 1.7e+09\n{MTIME}{{file=\"{base}/d.prom\"}} 1.7e+09\n\
# HELP {SCRAPE_ERROR} {SCRAPE_ERROR_HELP}\n# TYPE {SCRAPE_ERROR} gauge\n{SCRAPE_ERROR} 0\n\
# HELP shared2 Metric read from {base}/c.prom, {base}/d.prom\n# TYPE shared2 counter\nshared2 1\n\
# HELP shared_metric from a\n# TYPE shared_metric gauge\nshared_metric{{f=\"a\"}} 1\n\
# HELP untyped_nohelp Metric read from {base}/a.prom, {base}/b.prom\n# TYPE untyped_nohelp untyped\n\
untyped_nohelp{{x=\"9\"}} 5\nuntyped_nohelp{{x=\"\",y=\"2\"}} 4\nuntyped_nohelp{{x=\"1\",y=\"\"}} 3\n"
    );
    assert_eq!(text, want);
}

#[test]
fn summaries_and_histograms_are_regrouped() {
    let dir = dir_with(&[(
        "s.prom",
        "# TYPE s summary\ns{a=\"2\",quantile=\"0.90\"} 9\ns{a=\"2\",quantile=\"0.5\"} 5\ns_count{a=\"2\"} 3.7\n\
s{a=\"1\",quantile=\"0.5\"} 1\n\
# TYPE h histogram\nh_bucket{le=\"+Inf\"} 4\nh_bucket{le=\"0.5\"} 2\nh_count 4\nh_sum 1.5\n",
    )]);
    let text = samples(&scrape(&dir.path().display().to_string()));
    let want = "# TYPE h histogram\nh_bucket{le=\"0.5\"} 2\nh_bucket{le=\"+Inf\"} 4\nh_sum 1.5\nh_count 4\n";
    assert!(text.starts_with(want), "{text}");
    let want = "# TYPE s summary\ns{a=\"1\",quantile=\"0.5\"} 1\ns_sum{a=\"1\"} 0\ns_count{a=\"1\"} 0\n\
s{a=\"2\",quantile=\"0.5\"} 5\ns{a=\"2\",quantile=\"0.9\"} 9\ns_sum{a=\"2\"} 0\ns_count{a=\"2\"} 3\n";
    assert!(text.ends_with(want), "{text}");
}

#[test]
fn directory_globs() {
    let dir = dir_with(&[]);
    for (sub, value) in [("one", "1"), ("two", "2")] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join("m.prom"), format!("m{{d=\"{sub}\"}} {value}\n")).unwrap();
    }
    let text = scrape(&format!("{}/*", dir.path().display()));
    assert!(text.contains("m{d=\"one\"} 1\nm{d=\"two\"} 2\n"), "{text}");
    assert!(text.contains(&format!("{SCRAPE_ERROR} 0\n")), "{text}");
}
