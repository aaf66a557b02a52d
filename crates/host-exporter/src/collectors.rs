//! The collector list: one line per collector, in `--help` order; `on` or `off` is its
//! default, as in node_exporter 1.5.

vigie_kit::collectors! { ();
    arp: on,
    bcache: on,
    bonding: on,
    btrfs: on,
    conntrack: on,
    cpu: on,
    cpufreq: on,
    diskstats: on,
    dmi: on,
    edac: on,
    entropy: on,
    fibrechannel: on,
    filefd: on,
    filesystem: on,
    hwmon: on,
    infiniband: on,
    ipvs: on,
    loadavg: on,
    mdadm: on,
    meminfo: on,
    netclass: on,
    netdev: on,
    netstat: on,
    nfs: on,
    nfsd: on,
    nvme: on,
    os: on,
    powersupplyclass: on,
    pressure: on,
    processes: off,
    rapl: on,
    schedstat: on,
    selinux: on,
    sockstat: on,
    softnet: on,
    stat: on,
    systemd: off,
    tapestats: on,
    textfile: on,
    thermal_zone: on,
    time: on,
    timex: on,
    udp_queues: on,
    uname: on,
    vmstat: on,
    xfs: on,
    zfs: on,
}

/// Strings leaked once each: family names and help texts made from the kernel's field names
/// (a set fixed while it runs), so that a scrape reuses them without formatting anything.
#[derive(Debug, Default)]
pub struct Interned(std::sync::Mutex<std::collections::HashSet<&'static str>>);

impl Interned {
    /// `s`, leaked the first time it is seen.
    pub fn get(&self, s: String) -> &'static str {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&known) = all.get(s.as_str()) {
            return known;
        }
        let leaked: &'static str = Box::leak(s.into_boxed_str());
        all.insert(leaked);
        leaked
    }
}

/// A flag's regular expression, matched against names the kernel gives (fields, devices,
/// file system types, mount points). Those names repeat from scrape to scrape, and the
/// collectors remember the answers, so the regex is compiled ([`Pattern::compile`]) only to
/// answer for names not seen before, and dropped after: a regex kept for the exporter's
/// life keeps its matching cache too (~36 KiB each for node_exporter's default patterns).
///
/// An ASCII pattern is compiled in ASCII mode for ASCII names (nearly all): it answers
/// exactly as the Unicode regex on ASCII text, and compiles `.` and classes into a few byte
/// ranges, where the Unicode compiler builds UTF-8 automata with a 320 KB scratch table
/// per class (memory glibc then keeps in its heap). The Unicode regex is compiled for a
/// non-ASCII name, or for a pattern that needs it (`\pL`, non-ASCII text).
#[derive(Debug)]
pub struct Pattern {
    pattern: Box<str>,
}

impl Pattern {
    /// Checks that `pattern` (Go's RE2 syntax, as node_exporter's flags) compiles.
    pub fn new(pattern: &str) -> Result<Pattern, regex::Error> {
        let pattern = Pattern { pattern: pattern.into() };
        if pattern.ascii().is_none() {
            regex::Regex::new(&pattern.pattern)?;
        }
        Ok(pattern)
    }

    fn ascii(&self) -> Option<regex::bytes::Regex> {
        self.pattern
            .is_ascii()
            .then(|| regex::bytes::RegexBuilder::new(&self.pattern).unicode(false).build().ok())
            .flatten()
    }

    /// The compiled regex, for a batch of names.
    pub fn compile(&self) -> Matcher {
        Matcher { pattern: self.pattern.clone(), ascii: self.ascii(), unicode: std::sync::OnceLock::new() }
    }
}

/// A compiled [`Pattern`].
pub struct Matcher {
    pattern: Box<str>,
    ascii: Option<regex::bytes::Regex>,
    unicode: std::sync::OnceLock<Option<regex::Regex>>,
}

impl Matcher {
    /// Whether the pattern matches somewhere in `name`.
    pub fn is_match(&self, name: &str) -> bool {
        match &self.ascii {
            Some(ascii) if name.is_ascii() => ascii.is_match(name.as_bytes()),
            ascii => match self.unicode.get_or_init(|| regex::Regex::new(&self.pattern).ok()) {
                Some(unicode) => unicode.is_match(name),
                None => ascii.as_ref().is_some_and(|a| a.is_match(name.as_bytes())),
            },
        }
    }
}

/// A name filter's regex, with its answers remembered: device names, mount points and file
/// system types come back at every scrape, and a lookup is cheaper than compiling the
/// regex and matching (the regex crate is built without its DFA engines, to keep the binary
/// small). At most
/// [`Remembered::KEEP`] answers are kept; past that the memory starts over.
#[derive(Debug)]
pub struct Remembered {
    re: Pattern,
    seen: std::sync::Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    answers: vigie_kit::fasthash::FastMap<Box<str>, bool>,
    /// The regex, kept while new names keep coming (a first scrape's mounts), dropped after
    /// [`Remembered::KEEP_COMPILED`] answers in a row were found in `answers`.
    compiled: Option<Matcher>,
    known_in_a_row: usize,
}

impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seen")
            .field("answers", &self.answers.len())
            .field("compiled", &self.compiled.is_some())
            .finish()
    }
}

impl Remembered {
    /// Answers kept before the memory is cleared (containers come and go with their mounts).
    pub const KEEP: usize = 1024;

    /// Remembers `re`'s answers.
    pub fn new(re: Pattern) -> Remembered {
        Remembered { re, seen: Default::default() }
    }

    /// Known answers in a row after which the compiled regex is dropped.
    pub const KEEP_COMPILED: usize = 64;

    /// Whether `re` matches `name`.
    pub fn is_match(&self, name: &str) -> bool {
        let Ok(mut seen) = self.seen.lock() else { return self.re.compile().is_match(name) };
        let seen = &mut *seen;
        if let Some(&matched) = seen.answers.get(name) {
            seen.known_in_a_row += 1;
            if seen.known_in_a_row >= Remembered::KEEP_COMPILED {
                seen.compiled = None;
            }
            return matched;
        }
        seen.known_in_a_row = 0;
        let matched = seen.compiled.get_or_insert_with(|| self.re.compile()).is_match(name);
        if seen.answers.len() >= Remembered::KEEP {
            seen.answers.clear();
        }
        seen.answers.insert(name.into(), matched);
        matched
    }
}

/// `paths` with nothing remembered as missing: for tests that create a file after a scrape
/// found it absent (a real exporter looks again only [`vigie_kit::Missing::RECHECK`] scrapes later).
#[cfg(test)]
pub fn fresh(paths: &vigie_kit::Paths) -> vigie_kit::Paths {
    vigie_kit::Paths { missing: Default::default(), ..paths.clone() }
}

/// Paths of the captured fixture tree (`tests/fixtures/{proc,sys,rootfs,udev}`).
#[cfg(test)]
pub fn fixtures() -> vigie_kit::Paths {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    vigie_kit::Paths {
        procfs: base.join("proc"),
        sysfs: base.join("sys"),
        rootfs: base.join("rootfs"),
        udev_data: base.join("udev"),
        missing: Default::default(),
    }
}

/// Runs `collector` over the fixture tree and returns its exposition text (or the error).
#[cfg(test)]
pub fn fixture_text(collector: &dyn vigie_kit::Collector) -> Result<String, vigie_kit::CollectError> {
    fixture_text_with(collector, fixtures())
}

/// [`fixture_text`] over `paths` (the live `/proc`, say).
#[cfg(test)]
pub fn fixture_text_with(
    collector: &dyn vigie_kit::Collector,
    paths: vigie_kit::Paths,
) -> Result<String, vigie_kit::CollectError> {
    let (set, result) = vigie_kit::scheduler::collect_once(collector, paths);
    result.map(|()| set.encode())
}

/// Adds a kingpin-style boolean option: `--<id>` sets it, `--no-<id>` clears it, and
/// `default` holds when neither is given (node_exporter's `--[no-]collector.cpu.guest`).
pub fn bool_arg(cmd: clap::Command, id: &'static str, default: bool, help: &'static str) -> clap::Command {
    let off: &'static str = Box::leak(format!("no-{id}").into_boxed_str());
    let shown = if default { "enabled" } else { "disabled" };
    cmd.arg(
        clap::Arg::new(id)
            .long(id)
            .action(clap::ArgAction::SetTrue)
            .overrides_with(off)
            .help(format!("{help} (default: {shown}; --no-{id} turns it off)")),
    )
    .arg(clap::Arg::new(off).long(off).action(clap::ArgAction::SetTrue).overrides_with(id).hide(true))
}

/// The value of an option added with [`bool_arg`].
pub fn get_bool(matches: &clap::ArgMatches, id: &str, default: bool) -> bool {
    let on = matches.try_get_one::<bool>(id).ok().flatten().copied().unwrap_or(false);
    let off = matches.try_get_one::<bool>(&format!("no-{id}")).ok().flatten().copied().unwrap_or(false);
    on || (default && !off)
}

/// Parses `args` (after the program name) with `reg`'s flags and builds its collector.
#[cfg(test)]
pub fn build(reg: &vigie_kit::Registration, args: &[&str]) -> Result<Box<dyn vigie_kit::Collector>, String> {
    let cmd = vigie_kit::flags::with_collectors(clap::Command::new("t"), std::slice::from_ref(reg));
    let matches =
        cmd.try_get_matches_from(std::iter::once("t").chain(args.iter().copied())).map_err(|e| e.to_string())?;
    (reg.build)(&matches)
}

/// `text` less its `# HELP` lines (our help is our own prose; names, types, labels and
/// values are what tests compare with node_exporter's output).
#[cfg(test)]
pub fn without_help(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with("# HELP ")).map(|l| format!("{l}\n")).collect()
}

/// Runs `collector` over a proc tree holding only `files` (path under procfs, content) and
/// returns its error text: for tests that a malformed file fails with its name.
#[cfg(test)]
pub fn proc_error(collector: &dyn vigie_kit::Collector, files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let paths = vigie_kit::Paths { procfs: dir.path().into(), ..fixtures() };
    let (_, result) = vigie_kit::scheduler::collect_once(collector, paths);
    match result {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_regexp_syntax_still_compiles() {
        // The regex crate is built with only the Unicode tables RE2's syntax needs.
        for p in [r"^\d+$", r"\w\s", r"(?i)^LOOP", r"^\pL+$", r"\p{Greek}", r"[[:alpha:]]", r"^(sd|vd)[a-z]\d*$"] {
            assert!(regex::Regex::new(p).is_ok(), "{p}");
        }
        assert!(regex::Regex::new(r"(?i)^loop\d").unwrap().is_match("LOOP7"));
    }

    #[test]
    fn ascii_patterns_answer_as_unicode_ones() {
        let names =
            ["loop0", "sda1", "LOOP7", "/var/lib/docker/x", "/média/clé", "eth0", "ſda", "K", "Tcp_InErrs", "", "a\nb"];
        for p in [
            r"^(ram|loop)\d+$",
            r"(?i)^loop\d",
            r"^/(dev|var/lib/docker/.+)($|/)",
            r"\w+\s?",
            r".*_(InErrors|InErrs)$",
            r"(?i)k",
            r"^[^/]{2}$",
            r"^\pL+$",
            "^m.dia",
        ] {
            let (ours, theirs) = (Pattern::new(p).unwrap(), regex::Regex::new(p).unwrap());
            let ours = ours.compile();
            for n in names {
                assert_eq!(ours.is_match(n), theirs.is_match(n), "{p} on {n:?}");
            }
        }
        assert!(Pattern::new("(").is_err() && Pattern::new(r"\p{Nope}").is_err());
    }

    #[test]
    fn remembered_answers_are_the_regex_answers() {
        let r = Remembered::new(Pattern::new(r"^(ram|loop)\d+$").unwrap());
        for _ in 0..2 {
            assert!(r.is_match("loop0") && r.is_match("ram12") && !r.is_match("vda") && !r.is_match("loop"));
        }
        for n in 0..Remembered::KEEP * 3 {
            assert!(r.is_match(&format!("loop{n}")));
            assert!(!r.is_match(&format!("sd{n}")));
        }
        assert!(r.seen.lock().unwrap().answers.len() <= Remembered::KEEP);
        // Known names only: the compiled regex is let go.
        for _ in 0..=Remembered::KEEP_COMPILED {
            assert!(r.is_match("loop0"));
        }
        assert!(r.seen.lock().unwrap().compiled.is_none());
    }

    #[test]
    fn kingpin_style_booleans() {
        let cmd = || bool_arg(clap::Command::new("t"), "collector.x.on", true, "X.");
        let m = cmd().try_get_matches_from(["t"]).unwrap();
        assert!(get_bool(&m, "collector.x.on", true));
        let m = cmd().try_get_matches_from(["t", "--no-collector.x.on"]).unwrap();
        assert!(!get_bool(&m, "collector.x.on", true));
        let m = cmd().try_get_matches_from(["t", "--no-collector.x.on", "--collector.x.on"]).unwrap();
        assert!(get_bool(&m, "collector.x.on", true));
        let m = clap::Command::new("t").try_get_matches_from(["t"]).unwrap();
        assert!(!get_bool(&m, "collector.x.on", false));
    }
}
