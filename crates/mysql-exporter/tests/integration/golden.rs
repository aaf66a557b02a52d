//! The golden exposition: our binary against a fresh MariaDB server of our own, with the
//! default collectors, every sample's value masked (counters differ from one run to the
//! next; families, label sets and their order do not), minus the families that change
//! between runs, compared with `tests/golden/mysql.prom`. `VIGIE_UPDATE_GOLDEN=1` rewrites it.

use vigie_kit::testing;

use super::mariadb::{ours, Server, PASSWORD};

/// Families left out of the golden file, each with why; a trailing `*` is a prefix.
const VOLATILE: &[(&str, &str)] = &[
    ("mysql_exporter_collector_duration_seconds", "how long each collector took"),
    ("mysql_exporter_last_scrape_duration_seconds", "how long the scrape took"),
    ("process_*", "the exporter process itself"),
    ("mysqld_exporter_build_info", "revision and rustc change with every commit and toolchain"),
];

#[test]
fn fresh_server_exposition_matches_golden() {
    let Some(server) = Server::own("golden") else { return };
    let dir = tempfile::tempdir().unwrap();
    let exporter =
        ours(dir.path(), PASSWORD, &[&format!("--mysqld.address={}", server.addr()), "--mysqld.username=exporter"]);
    let text = exporter.get("/metrics", Some(10.0));
    assert!(text.contains("mysql_up 1\n"), "{text}\n{}", exporter.log());
    let text = testing::masked_values(&testing::without_families(&text, VOLATILE));
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/mysql.prom");
    testing::assert_golden_exposition(&golden, &text);
}
