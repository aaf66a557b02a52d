//! The host exporter's one integration test binary (one binary keeps link time down): the
//! release binary against node_exporter 1.5 on this host (parity, promtool lint), over the
//! captured fixture tree (golden exposition), and the kit's HTTP behaviour end to end (TLS,
//! basic auth, flags, signals, gzip, filters, health).
//!
//! Tests that need node_exporter, promtool, openssl or curl print `skipped: …` when one is
//! missing, unless `VIGIE_REQUIRE_SERVICES=1` (set by `tests/run`), which makes them fail.

mod integration {
    mod common;
    mod golden;
    mod kit;
    mod parity;
}
