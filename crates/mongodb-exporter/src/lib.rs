//! The parts of `vigie-mongodb-exporter` that need no server: Percona's generic naming
//! ([`naming`]), its compatible-mode table ([`compat`]), the sample checks ([`sink`]) and the
//! Go-JSON fixture decoder ([`gojson`]). The binary (`main.rs`) adds the connection and the
//! collectors.

#![forbid(unsafe_code)]

pub mod compat;
pub mod gojson;
pub mod naming;
pub mod sink;

/// Reads a Go-JSON capture from `tests/fixtures/` as BSON (tests and benchmarks).
pub fn fixture(name: &str) -> Result<mongodb::bson::Document, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    gojson::document(&v).ok_or_else(|| format!("{}: not an object", path.display()))
}
