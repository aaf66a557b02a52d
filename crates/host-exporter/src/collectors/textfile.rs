//! `*.prom` files in `--collector.textfile.directory` → their own families, plus
//! `node_textfile_mtime_seconds` and `node_textfile_scrape_error` (node_exporter "textfile").
//!
//! node_exporter's rules, kept here: the directory may be a glob; only `*.prom` files are
//! read, in name order; a file that does not parse, or whose samples carry client-side
//! timestamps, is skipped whole and sets `node_textfile_scrape_error` to 1 (logged with the
//! file and line), while the other files are still exported and the collector succeeds.
//! Within one file, a family's samples that lack some of the family's label names get them
//! with an empty value. A family without HELP gets "Metric read from <files>". Across files
//! (and against the two families of this collector) the first family of a name fixes its
//! help and type: a later family that disagrees is dropped, as is a sample whose name and
//! labels were already seen — what client_golang's registry does when node_exporter gathers.

mod glob;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use vigie_kit::exposition::{write_value, Family, Kind, Sample};
use vigie_kit::parse::Parsed;
use vigie_kit::{CollectResult, MetricSet, Registration, Scrape, SyncCollector};

const DIRECTORY: &str = "collector.textfile.directory";

/// The registration.
pub const REG: Registration = Registration {
    name: "textfile",
    default_enabled: true,
    help: "Exposes the metrics of *.prom files in a directory.",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new(DIRECTORY)
                .long(DIRECTORY)
                .value_name("DIR")
                .default_value("")
                .help("Directory (or glob of directories) whose *.prom files are exposed."),
        )
    },
    build: |m| {
        let dir = m.get_one::<String>(DIRECTORY).cloned().unwrap_or_default();
        Ok(Box::new(Textfile { dir }))
    },
};

const MTIME: &str = "node_textfile_mtime_seconds";
const MTIME_HELP: &str = "Modification time of each textfile read without error, in seconds since the epoch.";
const SCRAPE_ERROR: &str = "node_textfile_scrape_error";
const SCRAPE_ERROR_HELP: &str = "Whether opening, reading or parsing some textfile failed (1) or not (0).";

/// Reads `*.prom` files from a directory (or a glob of directories).
pub struct Textfile {
    /// As given on the command line; empty: read nothing.
    pub dir: String,
}

impl SyncCollector for Textfile {
    fn collect_sync(&self, _cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let mut errored = false;
        let mut dirs = glob::glob(&self.dir);
        if dirs.is_empty() {
            // Not a glob, or it matched nothing: let reading the directory say what is wrong.
            dirs.push(PathBuf::from(&self.dir));
        }
        let mut files: Vec<(PathBuf, Parsed)> = Vec::new();
        let mut mtimes: Vec<(String, f64)> = Vec::new();
        for dir in &dirs {
            let names = match list_prom_files(dir) {
                Ok(names) => names,
                Err(e) => {
                    // node_exporter stays quiet about the default, empty directory.
                    if !self.dir.is_empty() {
                        errored = true;
                        tracing::error!(collector = "textfile", path = %dir.display(), err = %e, "Failed to read the textfile directory.");
                    }
                    continue;
                }
            };
            for name in names {
                let path = dir.join(&name);
                match read_file(&path) {
                    Ok((parsed, mtime)) => {
                        if let Some(mtime) = mtime {
                            mtimes.push((path.display().to_string(), mtime));
                        } else {
                            errored = true;
                            tracing::error!(collector = "textfile", file = %name, err = "cannot stat", "Failed to collect textfile data.");
                        }
                        files.push((path, parsed));
                    }
                    Err(e) => {
                        errored = true;
                        tracing::error!(collector = "textfile", file = %name, err = %e, "Failed to collect textfile data.");
                    }
                }
            }
        }
        let mut merged = Merged::default();
        merged.add_files(files);
        // node_exporter sorts the mtime samples by path; the encoder sorts them anyway.
        let mtime = merged.family(MTIME, MTIME_HELP, Kind::Gauge);
        if let Some(fam) = mtime {
            for (file, t) in mtimes {
                fam.add(Sample { suffix: "".into(), labels: vec![("file".into(), file.into())].into(), value: t });
            }
        }
        if let Some(fam) = merged.family(SCRAPE_ERROR, SCRAPE_ERROR_HELP, Kind::Gauge) {
            fam.add(Sample { suffix: "".into(), labels: Default::default(), value: if errored { 1.0 } else { 0.0 } });
        }
        merged.write(out);
        Ok(())
    }
}

/// Names of the `*.prom` entries of `dir`, sorted as Go's `os.ReadDir` sorts them.
fn list_prom_files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".prom") {
            names.push(name);
        }
    }
    names.sort_unstable();
    Ok(names)
}

/// Reads and parses one file: its families and its modification time in whole seconds
/// (`None` if it could not be had). Stat comes after parsing, so a broken file never looks
/// fresh.
fn read_file(path: &Path) -> Result<(Parsed, Option<f64>), String> {
    let text = vigie_kit::scrape::read_text(path).map_err(|e| format!("failed to open {}: {e}", path.display()))?;
    let parsed = parse(&text).map_err(|e| format!("failed to parse {}: {e}", path.display()))?;
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as f64);
    Ok((parsed, mtime))
}

/// Parses a textfile: the exposition parser, plus node_exporter's refusals (timestamps,
/// histogram and summary samples that its parser rejects).
pub fn parse(text: &str) -> Result<Parsed, String> {
    let parsed = vigie_kit::parse::parse(text).map_err(|e| e.to_string())?;
    if parsed.has_timestamps {
        return Err("contains unsupported client-side timestamps, skipping entire file".into());
    }
    for f in &parsed.families {
        for s in &f.samples {
            let bound = match (f.kind, s.suffix.as_ref()) {
                (Kind::Histogram, "_bucket") => Some("le"),
                (Kind::Summary, "") => Some("quantile"),
                (Kind::Histogram, "") => return Err(format!("sample of histogram {:?} without a suffix", f.name)),
                _ => None,
            };
            if let Some(label) = bound {
                let v = s.labels.iter().find(|(k, _)| k == label).map(|(_, v)| v.as_str());
                match v.and_then(vigie_kit::parse::parse_value) {
                    Some(_) => {}
                    None => return Err(format!("{:?}: missing or invalid {label:?} label", f.name)),
                }
            }
        }
    }
    Ok(parsed)
}

/// A label set sorted by name.
type LabelKey = Vec<(String, String)>;

/// Families merged over files with client_golang's consistency rules.
#[derive(Default)]
struct Merged {
    families: Vec<MergedFamily>,
    index: HashMap<String, usize>,
    /// File paths each family name was read from, for the default help.
    files_of: HashMap<String, Vec<String>>,
}

struct MergedFamily {
    family: Family,
    seen: HashSet<Vec<(String, String)>>,
}

impl MergedFamily {
    /// Adds a sample unless one with the same labels is there already.
    fn add(&mut self, sample: Sample) {
        let mut key: Vec<(String, String)> = sample.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        key.sort();
        if self.seen.insert(key) {
            self.family.samples.push(sample);
        } else {
            tracing::error!(collector = "textfile", metric = %self.family.name, "Dropped a sample whose name and labels were already collected.");
        }
    }
}

impl Merged {
    /// The family `name`, if absent or consistent with `help` and `kind`; `None` (logged) if
    /// a family of that name with another help or type came first.
    fn family(&mut self, name: &str, help: &str, kind: Kind) -> Option<&mut MergedFamily> {
        let at = match self.index.get(name) {
            Some(&at) => {
                let f = &self.families[at].family;
                if f.help != help || f.kind != kind {
                    tracing::error!(
                        collector = "textfile",
                        metric = name,
                        err = format!("help {help:?} and type {} but should have {:?} and {}", kind.as_str(), f.help, f.kind.as_str()),
                        "Dropped an inconsistent metric family."
                    );
                    return None;
                }
                at
            }
            None => {
                self.index.insert(name.to_owned(), self.families.len());
                self.families.push(MergedFamily {
                    family: Family { name: name.to_owned().into(), help: help.to_owned().into(), kind, samples: Vec::new() },
                    seen: HashSet::new(),
                });
                self.families.len() - 1
            }
        };
        Some(&mut self.families[at])
    }

    fn add_files(&mut self, files: Vec<(PathBuf, Parsed)>) {
        for (path, parsed) in &files {
            for f in &parsed.families {
                self.files_of.entry(f.name.to_string()).or_default().push(path.display().to_string());
            }
        }
        for (_, parsed) in files {
            for f in parsed.families {
                let help = if f.help.is_empty() {
                    format!("Metric read from {}", self.files_of.get(f.name.as_ref()).map(|v| v.join(", ")).unwrap_or_default())
                } else {
                    f.help.to_string()
                };
                let kind = f.kind;
                let samples = fill_labels(f.samples, kind);
                let samples = match kind {
                    Kind::Histogram | Kind::Summary => regroup(samples, kind),
                    _ => samples,
                };
                if let Some(fam) = self.family(&f.name, &help, kind) {
                    if matches!(kind, Kind::Histogram | Kind::Summary) {
                        fam.add_grouped(samples, kind);
                    } else {
                        for s in samples {
                            fam.add(s);
                        }
                    }
                }
            }
        }
    }

    fn write(self, out: &mut MetricSet) {
        for m in self.families {
            let f = m.family;
            out.family(f.name, f.help, f.kind).samples.extend(f.samples);
        }
    }
}

impl MergedFamily {
    /// Adds regrouped histogram or summary samples, one group (its labels less `le` or
    /// `quantile`) at a time; a group already seen is dropped whole. Groups are kept sorted
    /// as client_golang sorts metrics (the encoder leaves these families in order).
    fn add_grouped(&mut self, samples: Vec<Sample>, kind: Kind) {
        let bound = if kind == Kind::Histogram { "le" } else { "quantile" };
        let mut groups: Vec<(LabelKey, Vec<Sample>)> = Vec::new();
        for s in samples {
            let key = group_key(&s, bound);
            match groups.last_mut() {
                Some((k, g)) if *k == key => g.push(s),
                _ => groups.push((key, vec![s])),
            }
        }
        for (key, group) in groups {
            if self.seen.insert(key) {
                self.family.samples.extend(group);
            } else {
                tracing::error!(collector = "textfile", metric = %self.family.name, "Dropped a sample whose name and labels were already collected.");
            }
        }
        let mut keyed: Vec<(LabelKey, Vec<Sample>)> = Vec::new();
        for s in std::mem::take(&mut self.family.samples) {
            let key = group_key(&s, bound);
            match keyed.iter_mut().find(|(k, _)| *k == key) {
                Some((_, g)) => g.push(s),
                None => keyed.push((key, vec![s])),
            }
        }
        keyed.sort_by(|a, b| go_metric_order(&a.0, &b.0));
        self.family.samples = keyed.into_iter().flat_map(|(_, g)| g).collect();
    }
}

/// A sample's labels less the bucket or quantile label, sorted by name.
fn group_key(s: &Sample, bound: &str) -> Vec<(String, String)> {
    let mut key: Vec<(String, String)> =
        s.labels.iter().filter(|(k, _)| k != bound).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    key.sort();
    key
}

/// client_golang's metric order: fewer labels first, then label values in label-name order.
fn go_metric_order(a: &[(String, String)], b: &[(String, String)]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.iter().map(|p| &p.1).cmp(b.iter().map(|p| &p.1)))
}

/// Gives every sample of one file's family every label name the family uses (less `le` and
/// `quantile` of histograms and summaries), with an empty value where it had none.
fn fill_labels(mut samples: Vec<Sample>, kind: Kind) -> Vec<Sample> {
    let bound = match kind {
        Kind::Histogram => Some("le"),
        Kind::Summary => Some("quantile"),
        _ => None,
    };
    let mut names: Vec<String> = Vec::new();
    for s in &samples {
        for (k, _) in &s.labels {
            if Some(k.as_ref()) != bound && !names.iter().any(|n| n == k) {
                names.push(k.to_string());
            }
        }
    }
    for s in &mut samples {
        for n in &names {
            if !s.labels.iter().any(|(k, _)| k == n) {
                s.labels.push((n.clone().into(), "".into()));
            }
        }
    }
    samples
}

/// Rewrites a histogram's or summary's samples as client_golang writes a const histogram or
/// summary: per label set, buckets (quantiles) sorted by bound with the bound printed as Go
/// prints floats, a `+Inf` bucket if the file had none, then `_sum` and `_count` (0 when
/// absent). Counts are whole numbers, as in the protobuf model.
fn regroup(samples: Vec<Sample>, kind: Kind) -> Vec<Sample> {
    let bound = if kind == Kind::Histogram { "le" } else { "quantile" };
    struct Group {
        key: Vec<(String, String)>,
        labels: Vec<(std::borrow::Cow<'static, str>, vigie_kit::LabelValue)>,
        bounds: Vec<(f64, f64)>,
        sum: f64,
        count: f64,
    }
    let mut groups: Vec<Group> = Vec::new();
    for s in samples {
        let key = group_key(&s, bound);
        let at = match groups.iter().position(|g| g.key == key) {
            Some(at) => at,
            None => {
                let labels = s.labels.iter().filter(|(k, _)| k != bound).cloned().collect();
                groups.push(Group { key, labels, bounds: Vec::new(), sum: 0.0, count: 0.0 });
                groups.len() - 1
            }
        };
        let g = &mut groups[at];
        match s.suffix.as_ref() {
            "_sum" => g.sum = s.value,
            "_count" => g.count = whole(s.value),
            _ => {
                let b = s.labels.iter().find(|(k, _)| k == bound).and_then(|(_, v)| vigie_kit::parse::parse_value(v));
                if let Some(b) = b {
                    let v = if kind == Kind::Histogram { whole(s.value) } else { s.value };
                    match g.bounds.iter_mut().find(|(x, _)| *x == b) {
                        Some(slot) => slot.1 = v,
                        None => g.bounds.push((b, v)),
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for mut g in groups {
        g.bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        if kind == Kind::Histogram && !g.bounds.iter().any(|(b, _)| *b == f64::INFINITY) {
            g.bounds.push((f64::INFINITY, g.count));
        }
        let suffix = if kind == Kind::Histogram { "_bucket" } else { "" };
        for (b, v) in g.bounds {
            let mut text = String::new();
            write_value(&mut text, b);
            let mut labels = g.labels.clone();
            labels.push((bound.into(), text.into()));
            out.push(Sample { suffix: suffix.into(), labels: labels.into(), value: v });
        }
        out.push(Sample { suffix: "_sum".into(), labels: g.labels.clone().into(), value: g.sum });
        out.push(Sample { suffix: "_count".into(), labels: g.labels.into(), value: g.count });
    }
    out
}

/// A count as the protobuf model keeps it (uint64).
fn whole(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v.trunc()
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;
