//! Records the git revision and the rustc version for `<ns>_exporter_build_info` and
//! `--version`. Both are "unknown" when git or rustc cannot be asked (a source tarball).

use std::process::Command;

fn main() {
    let revision = std::env::var("VIGIE_REVISION").ok().filter(|r| !r.is_empty()).or_else(|| {
        let out = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    });
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().nth(1).map(str::to_owned));
    println!("cargo:rustc-env=VIGIE_REVISION={}", revision.unwrap_or_else(|| "unknown".into()));
    println!("cargo:rustc-env=VIGIE_RUSTC={}", rustc_version.unwrap_or_else(|| "unknown".into()));
    println!("cargo:rerun-if-env-changed=VIGIE_REVISION");
    for head in ["../../.git/HEAD", "../../.git/refs/heads"] {
        if std::path::Path::new(head).exists() {
            println!("cargo:rerun-if-changed={head}");
        }
    }
}
