//! Go's `filepath.Glob` and `filepath.Match`, which `--collector.textfile.directory` accepts:
//! `*`, `?`, `[a-z]`, `[^a-z]` and `\` escapes, each matching within one path element.

use std::path::PathBuf;

/// The paths matching `pattern`, sorted per directory level; empty when nothing matches or
/// the pattern is malformed (the caller then reads `pattern` as a plain directory).
pub fn glob(pattern: &str) -> Vec<PathBuf> {
    if !has_meta(pattern) {
        return match std::fs::symlink_metadata(pattern) {
            Ok(_) => vec![PathBuf::from(pattern)],
            Err(_) => Vec::new(),
        };
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(at) => (&pattern[..=at], &pattern[at + 1..]),
        None => ("", pattern),
    };
    if matches("", file).is_none() {
        return Vec::new();
    }
    let dir = match dir {
        "" => "",
        "/" => "/",
        d => d.trim_end_matches('/'),
    };
    let dirs: Vec<PathBuf> = if has_meta(dir) { glob(dir) } else { vec![PathBuf::from(dir)] };
    let mut out = Vec::new();
    for d in dirs {
        let listing = if d.as_os_str().is_empty() { std::fs::read_dir(".") } else { std::fs::read_dir(&d) };
        let Ok(entries) = listing else { continue };
        let mut names: Vec<String> =
            entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort_unstable();
        for name in names {
            if matches(&name, file) == Some(true) {
                out.push(d.join(name));
            }
        }
    }
    out
}

fn has_meta(p: &str) -> bool {
    p.contains(['*', '?', '[', '\\'])
}

/// Whether `name` matches `pattern`; `None` for a malformed pattern.
pub fn matches(name: &str, pattern: &str) -> Option<bool> {
    let (n, p): (Vec<char>, Vec<char>) = (name.chars().collect(), pattern.chars().collect());
    // Checks the whole pattern's syntax once, so a bad class is an error even when unreached.
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '[' => i = class(&p, i, None)?.1,
            '\\' => i += if i + 1 < p.len() { 2 } else { return None },
            _ => i += 1,
        }
    }
    Some(walk(&n, &p))
}

fn walk(n: &[char], p: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).take_while(|&k| k == 0 || n[k - 1] != '/').any(|k| walk(&n[k..], &p[1..])),
        Some('?') => n.first().is_some_and(|c| *c != '/') && walk(&n[1..], &p[1..]),
        Some('[') => match (n.first(), class(p, 0, n.first().copied())) {
            (Some(c), Some((true, end))) if *c != '/' => walk(&n[1..], &p[end..]),
            _ => false,
        },
        Some('\\') => p.get(1).is_some_and(|c| n.first() == Some(c)) && walk(&n[1..], &p[2..]),
        Some(c) => n.first() == Some(c) && walk(&n[1..], &p[1..]),
    }
}

/// Parses the class opening at `p[start]`; returns whether `c` is in it and the index past
/// its `]`; `None` if malformed.
fn class(p: &[char], start: usize, c: Option<char>) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let lo = match p.get(i)? {
            ']' if !first => break,
            '\\' => {
                i += 1;
                *p.get(i)?
            }
            '-' | ']' => return None,
            ch => *ch,
        };
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            i += 1;
            hi = match p.get(i)? {
                '\\' => {
                    i += 1;
                    *p.get(i)?
                }
                ']' | '-' => return None,
                ch => *ch,
            };
            i += 1;
        }
        if c.is_some_and(|c| lo <= c && c <= hi) {
            hit = true;
        }
        first = false;
    }
    Some((hit != negated, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_as_go_does() {
        assert_eq!(matches("a.prom", "*.prom"), Some(true));
        assert_eq!(matches("a/b", "*"), Some(false));
        assert_eq!(matches("node1", "node[0-9]"), Some(true));
        assert_eq!(matches("nodex", "node[^0-9]"), Some(true));
        assert_eq!(matches("node5", "node[^0-9]"), Some(false));
        assert_eq!(matches("a*", "a\\*"), Some(true));
        assert_eq!(matches("ab", "a?"), Some(true));
        assert_eq!(matches("a", "[a"), None);
        assert_eq!(matches("a", "[]a]"), None);
    }

    #[test]
    fn globs_directories() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["t1", "t2", "x"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        let base = dir.path().display().to_string();
        assert_eq!(glob(&format!("{base}/t*")), vec![dir.path().join("t1"), dir.path().join("t2")]);
        assert_eq!(glob(&format!("{base}/x")), vec![dir.path().join("x")]);
        assert!(glob(&format!("{base}/missing")).is_empty());
        assert!(glob(&format!("{base}/[")).is_empty());
    }
}
