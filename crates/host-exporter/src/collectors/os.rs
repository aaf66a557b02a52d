//! /etc/os-release (or /usr/lib/os-release) under `--path.rootfs` → node_os_info,
//! node_os_version (node_exporter "os" names).
//!
//! The file is parsed again only when its path or modification time changes, as node_exporter
//! does.

use std::sync::Mutex;
use std::time::SystemTime;

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "os",
    default_enabled: true,
    help: "Exposes OS release information from os-release files.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Os::default())),
};

/// os-release keys, in the label order of [`INFO`].
const KEYS: [&str; 12] = [
    "BUILD_ID",
    "ID",
    "ID_LIKE",
    "IMAGE_ID",
    "IMAGE_VERSION",
    "NAME",
    "PRETTY_NAME",
    "VARIANT",
    "VARIANT_ID",
    "VERSION",
    "VERSION_CODENAME",
    "VERSION_ID",
];
const INFO: Desc = Desc::gauge(
    "node_os_info",
    "The operating system's identity from its os-release file; always 1.",
    &[
        "build_id",
        "id",
        "id_like",
        "image_id",
        "image_version",
        "name",
        "pretty_name",
        "variant",
        "variant_id",
        "version",
        "version_codename",
        "version_id",
    ],
);
const VERSION: Desc =
    Desc::gauge("node_os_version", "The major.minor part of the OS version (VERSION_ID).", &["id", "id_like", "name"]);

/// The os-release files node_exporter tries, in order.
const FILES: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

/// Reads the os-release file when it changed.
#[derive(Default)]
pub struct Os {
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    path: std::path::PathBuf,
    mtime: SystemTime,
    labels: [String; 12],
    version: f64,
}

impl SyncCollector for Os {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let mut cache = self.cache.lock().map_err(|_| CollectError::Other("os state poisoned".into()))?;
        let mut found = None;
        for file in FILES {
            let path = cx.paths.root(file);
            match std::fs::metadata(&path) {
                Ok(meta) => {
                    found = Some((path, meta.modified().map_err(|e| CollectError::io(file, e))?));
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(CollectError::io(path, e)),
            }
        }
        let Some((path, mtime)) = found else {
            return Err(CollectError::NoData("no os-release file".into()));
        };
        let fresh = cache.as_ref().is_some_and(|c| c.path == path && c.mtime == mtime);
        if !fresh {
            let text = vigie_kit::scrape::read_text(&path)?;
            let vars = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
            let get = |key: &str| vars.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
            let labels = KEYS.map(get);
            let version = major_minor(&labels[11]);
            *cache = Some(Cached { path, mtime, labels, version });
        }
        if let Some(c) = cache.as_ref() {
            let labels: Vec<&str> = c.labels.iter().map(String::as_str).collect();
            out.add(&INFO, &labels, 1.0);
            if c.version > 0.0 {
                out.add(&VERSION, &[labels[1], labels[2], labels[5]], c.version);
            }
        }
        Ok(())
    }
}

/// The leading `major[.minor]` of VERSION_ID as a number (`22.04.1` → 22.04), 0 if none.
pub fn major_minor(version_id: &str) -> f64 {
    let int_end = version_id.find(|c: char| !c.is_ascii_digit()).unwrap_or(version_id.len());
    if int_end == 0 {
        return 0.0;
    }
    let mut end = int_end;
    if version_id[end..].starts_with('.') {
        end += 1;
        end += version_id[end..].find(|c: char| !c.is_ascii_digit()).unwrap_or(version_id.len() - end);
    }
    version_id[..end].trim_end_matches('.').parse().unwrap_or(0.0)
}

/// Parses an os-release (shell-like `KEY=value`) file into its assignments, in order.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut vars = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let bad = |what: &str| format!("line {}: {what}: {raw:?}", n + 1);
        let (key, value) = line.split_once('=').ok_or_else(|| bad("no '='"))?;
        let valid_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            return Err(bad("invalid name"));
        }
        vars.push((key.to_owned(), unquote(value).map_err(bad)?));
    }
    Ok(vars)
}

fn unquote(value: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => out.push(c),
                    None => return Err("unterminated single quote"),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('\\' | '"' | '$' | '`')) => out.push(c),
                        Some(c) => {
                            out.push('\\');
                            out.push(c);
                        }
                        None => return Err("unterminated double quote"),
                    },
                    Some(c) => out.push(c),
                    None => return Err("unterminated double quote"),
                }
            },
            '\\' => out.extend(chars.next()),
            '#' if out.is_empty() => break,
            c if c.is_whitespace() => break,
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_os_release() {
        let vars = parse("# c\nNAME=\"Debian GNU/Linux\"\nID=debian\nX='a \"b\"'\nY=\"q\\\"z\"\n\n").unwrap();
        assert_eq!(
            vars,
            [("NAME", "Debian GNU/Linux"), ("ID", "debian"), ("X", "a \"b\""), ("Y", "q\"z")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert!(parse("NAME=\"open\n").unwrap_err().contains("line 1"));
        assert!(parse("ok=1\njunk\n").unwrap_err().contains("line 2"));
    }

    #[test]
    fn versions() {
        assert_eq!(major_minor("12"), 12.0);
        assert_eq!(major_minor("22.04"), 22.04);
        assert_eq!(major_minor("22.04.1"), 22.04);
        assert_eq!(major_minor("7."), 7.0);
        assert_eq!(major_minor("rolling"), 0.0);
        assert_eq!(major_minor(""), 0.0);
    }

    #[test]
    fn fixture_tree() {
        // rootfs/etc/os-release is the captured symlink to ../usr/lib/os-release.
        let os = Os::default();
        let text = crate::collectors::fixture_text(&os).unwrap();
        assert!(text.contains(
            "node_os_info{build_id=\"\",id=\"debian\",id_like=\"\",image_id=\"\",image_version=\"\",\
             name=\"Debian GNU/Linux\",pretty_name=\"Debian GNU/Linux 12 (bookworm)\",variant=\"\",variant_id=\"\",\
             version=\"12 (bookworm)\",version_codename=\"bookworm\",version_id=\"12\"} 1\n"
        ), "{text}");
        assert!(text.contains("node_os_version{id=\"debian\",id_like=\"\",name=\"Debian GNU/Linux\"} 12\n"), "{text}");
        assert_eq!(crate::collectors::fixture_text(&os).unwrap(), text);
    }

    #[test]
    fn reread_on_change_and_no_data_without_file() {
        let dir = tempfile::tempdir().unwrap();
        let paths = || vigie_kit::Paths { rootfs: dir.path().into(), ..vigie_kit::Paths::default() };
        let os = Os::default();
        let (_, result) = vigie_kit::scheduler::collect_once(&os, paths());
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
        std::fs::create_dir_all(dir.path().join("usr/lib")).unwrap();
        let file = dir.path().join("usr/lib/os-release");
        std::fs::write(&file, "ID=one\nVERSION_ID=1\n").unwrap();
        let (set, _) = vigie_kit::scheduler::collect_once(&os, paths());
        assert!(set.encode().contains("node_os_version{id=\"one\",id_like=\"\",name=\"\"} 1\n"));
        std::fs::write(&file, "ID=two\nVERSION_ID=2.5\n").unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options().write(true).open(&file).unwrap().set_modified(later).unwrap();
        let (set, _) = vigie_kit::scheduler::collect_once(&os, paths());
        assert!(set.encode().contains("node_os_version{id=\"two\",id_like=\"\",name=\"\"} 2.5\n"));
    }
}
