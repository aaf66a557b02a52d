//! The collector contract: what one source of metrics implements ([`Collector`], or
//! [`SyncCollector`] for a few quick reads), how it fails ([`CollectError`]), and how an
//! exporter lists it ([`Registration`], the [`collectors!`](crate::collectors) macro).
//! Nothing else: reading files is [`crate::scrape`], running collectors
//! [`crate::scheduler`].
//!
//! # A whole collector
//!
//! One file, `collectors/loadavg.rs`, then one line in the exporter's `collectors.rs`:
//! `vigie_kit::collectors! { (); loadavg: on, … }`.
//!
//! ```
//! //! /proc/loadavg → node_load1, node_load5, node_load15 (node_exporter "loadavg" names).
//! use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};
//!
//! const LOAD1: Desc = Desc::gauge("node_load1", "1m load average.", &[]);
//! const LOAD5: Desc = Desc::gauge("node_load5", "5m load average.", &[]);
//! const LOAD15: Desc = Desc::gauge("node_load15", "15m load average.", &[]);
//!
//! /// Reads `/proc/loadavg`.
//! pub struct Loadavg;
//!
//! /// Its name (flag `--collector.loadavg`, label `collector="loadavg"`), help and build.
//! pub const REG: Registration = Registration {
//!     name: "loadavg",
//!     default_enabled: true,
//!     help: "Exposes load average.",
//!     args: vigie_kit::collector::no_args,
//!     build: |_| Ok(Box::new(Loadavg)),
//! };
//!
//! /// The three averages of `/proc/loadavg` (`0.25 0.10 0.05 1/123 4567`): parsing is kept
//! /// apart from reading so that it is tested on a literal.
//! pub fn parse(text: &str) -> Result<[f64; 3], String> {
//!     let mut fields = text.split_ascii_whitespace().map(|f| f.parse::<f64>());
//!     let mut next = || fields.next().and_then(Result::ok).ok_or_else(|| format!("not a load average: {text:?}"));
//!     Ok([next()?, next()?, next()?])
//! }
//!
//! impl SyncCollector for Loadavg {
//!     fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
//!         let path = cx.paths.proc("loadavg");
//!         let [one, five, fifteen] = parse(&cx.read(&path)?).map_err(|e| CollectError::parse(&path, e))?;
//!         out.add(&LOAD1, &[], one);
//!         out.add(&LOAD5, &[], five);
//!         out.add(&LOAD15, &[], fifteen);
//!         Ok(())
//!     }
//! }
//!
//! assert_eq!(parse("0.25 0.10 0.05 1/123 4567\n"), Ok([0.25, 0.10, 0.05]));
//! // Run once over a tree of captured files, as a test does:
//! let dir = std::env::temp_dir().join(format!("loadavg-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("loadavg"), "0.25 0.10 0.05 1/123 4567\n").unwrap();
//! let paths = vigie_kit::Paths { procfs: dir.clone(), ..Default::default() };
//! let (out, result) = vigie_kit::scheduler::collect_once(&Loadavg, paths);
//! assert!(result.is_ok());
//! assert!(out.encode().contains("node_load5 0.1\n"));
//! # std::fs::remove_dir_all(dir).unwrap();
//! ```

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use crate::exposition::MetricSet;
use crate::scrape::Scrape;

/// A boxed, sendable future: what [`Collector::collect`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The outcome of one collector's run.
pub type CollectResult = Result<(), CollectError>;

/// Why a collector produced nothing, or not everything.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A file was read but its content is not what the kernel (or the service) writes.
    #[error("{path}: {msg}")]
    Parse {
        /// The file, or another name of the input.
        path: String,
        /// What was wrong, with the line where it helps.
        msg: String,
    },
    /// The source exists on some systems but not this one (node_exporter's ErrNoData):
    /// logged at debug only.
    #[error("no data: {0}")]
    NoData(String),
    /// The collector did not finish before the scrape deadline.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Anything else, with its message.
    #[error("{0}")]
    Other(String),
}

impl CollectError {
    /// A parse error about `path`.
    pub fn parse(path: impl AsRef<Path>, msg: impl Into<String>) -> CollectError {
        CollectError::Parse { path: path.as_ref().display().to_string(), msg: msg.into() }
    }

    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> CollectError {
        CollectError::Io { path: path.into(), source }
    }

    /// Whether the error is a file that does not exist (a missing subsystem).
    pub fn is_not_found(&self) -> bool {
        matches!(self, CollectError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// One source of metrics. The future it returns must not block the thread for long: calls
/// that can hang (statfs on a dead NFS mount, a socket with no timeout) go through
/// [`crate::blocking`], which bounds them by the deadline.
pub trait Collector<T = ()>: Send + Sync {
    /// Writes this scrape's samples into `out`.
    fn collect<'a>(&'a self, cx: &'a Scrape<T>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult>;

    /// The collector as a [`SyncCollector`], if it is one: [`crate::scheduler::run`] runs those off the async
    /// thread, so that a read that hangs (a FIFO, a dead NFS sysfs) stalls only its own
    /// collector.
    fn as_sync(&self) -> Option<&dyn SyncCollector<T>> {
        None
    }
}

/// A collector whose work is a few quick reads and no awaiting: most `/proc` readers.
pub trait SyncCollector<T = ()>: Send + Sync {
    /// Writes this scrape's samples into `out`.
    fn collect_sync(&self, cx: &Scrape<T>, out: &mut MetricSet) -> CollectResult;
}

impl<T: Sync, C: SyncCollector<T>> Collector<T> for C {
    fn collect<'a>(&'a self, cx: &'a Scrape<T>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move { self.collect_sync(cx, out) })
    }

    fn as_sync(&self) -> Option<&dyn SyncCollector<T>> {
        Some(self)
    }
}

/// Builds a collector from the parsed flags, or says why it cannot.
pub type Build<T> = fn(&clap::ArgMatches) -> Result<Box<dyn Collector<T>>, String>;

/// How a collector is known to the exporter: its name (flag `--collector.<name>`, label
/// `collector="<name>"`), whether it is on by default, its help, its own flags, and how to
/// build it from the parsed flags.
pub struct Registration<T = ()> {
    /// The collector's one name.
    pub name: &'static str,
    /// On unless `--no-collector.<name>`.
    pub default_enabled: bool,
    /// One line for `--help` and the README.
    pub help: &'static str,
    /// Adds the collector's own `--collector.<name>.<option>` flags.
    pub args: fn(clap::Command) -> clap::Command,
    /// Builds the collector from the parsed flags; an error stops the exporter at start-up.
    pub build: Build<T>,
}

/// For a registration with no flags of its own.
pub fn no_args(cmd: clap::Command) -> clap::Command {
    cmd
}

/// Declares a collector list: `collectors! { T; loadavg: on, meminfo: on, processes: off }`
/// writes a `pub mod` line per collector and a `REGISTRY` of their registrations in that order.
/// Each module defines `pub const REG: Registration<T>` (name, help, args, build) whose
/// `default_enabled` this list overrides.
#[macro_export]
macro_rules! collectors {
    ($target:ty; $($name:ident : $state:ident),* $(,)?) => {
        $(pub mod $name;)*
        /// Every collector this exporter has, in `--help` order.
        pub fn registry() -> ::std::vec::Vec<$crate::collector::Registration<$target>> {
            ::std::vec![$($crate::collector::Registration {
                default_enabled: $crate::collectors!(@on $state),
                ..$name::REG
            }),*]
        }
    };
    (@on on) => { true };
    (@on off) => { false };
}
