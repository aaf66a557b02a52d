//! The scrape loop: runs the enabled collectors of one scrape, each bounded by the deadline,
//! and writes `<ns>_scrape_collector_success` and `<ns>_scrape_collector_duration_seconds`
//! per collector, as node_exporter's `collector.go` does. A collector that fails, or is
//! still running at the deadline, is reported with success 0; the samples it wrote before
//! are kept and the rest of the scrape stands.
//!
//! Async collectors run on the server's runtime; sync collectors run on one long-lived
//! collector thread (`CollectorThread`, owned by the exporter's [`crate::Engine`]), with a
//! helper thread when one of them is stuck in a read.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::collector::{CollectError, CollectResult, Collector};
use crate::exposition::{Kind, MetricSet};
use crate::scrape::{Paths, Scrape};

/// The families the kit writes about each collector; their names are the incumbent's
/// (`node_scrape_collector_success`, `mysql_exporter_collector_success`…).
#[derive(Clone, Debug)]
pub struct ScrapeNames {
    /// e.g. `node_scrape_collector_success`.
    pub success: &'static str,
    /// e.g. `node_scrape_collector_duration_seconds`.
    pub duration: &'static str,
    /// The collector flags' stem: `collector` gives `--[no-]collector.<name>`.
    pub flag: &'static str,
    /// Put before the name in the `collector` label (mysqld_exporter's `collect.`).
    pub label_prefix: &'static str,
}

impl ScrapeNames {
    /// `<ns>_scrape_collector_success` and `<ns>_scrape_collector_duration_seconds`, with
    /// node_exporter's `--[no-]collector.<name>` flags and bare names as labels.
    pub const fn node_style(success: &'static str, duration: &'static str) -> ScrapeNames {
        ScrapeNames { success, duration, flag: "collector", label_prefix: "" }
    }

    /// The same names with other flags and labels: mysqld_exporter's
    /// `.prefixed("collect", "collect.")` gives `--[no-]collect.global_status` and
    /// `collector="collect.global_status"`.
    pub const fn prefixed(self, flag: &'static str, label_prefix: &'static str) -> ScrapeNames {
        ScrapeNames { flag, label_prefix, ..self }
    }
}

/// An enabled, built collector.
pub struct Enabled<T = ()> {
    /// Its name.
    pub name: &'static str,
    /// Its `collector` label value: the name, or the name behind a prefix.
    pub label: &'static str,
    /// The collector.
    pub collector: Box<dyn Collector<T>>,
    /// Log the next error at error level (only the first of a run of failures is).
    failing: std::sync::atomic::AtomicBool,
    /// A blocking thread is inside this (sync) collector: it is not started again until it
    /// returns, so a collector stuck in a read costs one thread, not one per scrape.
    busy: std::sync::atomic::AtomicBool,
}

impl<T> Enabled<T> {
    /// Wraps a built collector.
    pub fn new(name: &'static str, collector: Box<dyn Collector<T>>) -> Enabled<T> {
        Enabled {
            name,
            label: name,
            collector,
            failing: std::sync::atomic::AtomicBool::new(false),
            busy: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Wraps a built collector whose `collector` label is not its bare name.
    pub fn labelled(name: &'static str, label: &'static str, collector: Box<dyn Collector<T>>) -> Enabled<T> {
        Enabled { label, ..Enabled::new(name, collector) }
    }
}

/// Runs the collectors of `all` that `pick` accepts against `cx`, each until it ends or the
/// deadline, and returns all their samples plus the per-collector success and duration
/// families.
///
/// Async collectors run concurrently on this (async) thread. Sync collectors — most `/proc`
/// readers — run one after the other on a thread of the blocking pool, one batch per scrape
/// (one thread hand-off, not one per collector). When the batch makes no progress for
/// [`stall`], another thread takes the collectors still queued, so one stuck read (a FIFO
/// under `--path.procfs`, a hung NFS sysfs file) delays the others by at most that. At the
/// deadline the scrape answers with what finished; a collector still running reports
/// success 0, and is not started again by later scrapes until its thread comes back.
pub async fn run<T: Send + Sync + 'static>(
    all: &Arc<Vec<Enabled<T>>>,
    pick: impl Fn(&Enabled<T>) -> bool,
    cx: Arc<Scrape<T>>,
    names: &ScrapeNames,
) -> MetricSet {
    let picked: Vec<usize> = (0..all.len()).filter(|&i| pick(&all[i])).collect();
    let (sync, not_sync): (Vec<usize>, Vec<usize>) =
        picked.iter().partition(|&&i| all[i].collector.as_sync().is_some());
    let runs = not_sync.iter().map(|&i| {
        let (c, cx) = (&all[i], &cx);
        async move {
            let mut out = MetricSet::new();
            let started = Instant::now();
            let result = match tokio::time::timeout_at(cx.deadline.into(), c.collector.collect(cx, &mut out)).await {
                Ok(result) => result,
                Err(_) => Err(CollectError::Timeout(started.elapsed())),
            };
            (i, out, started.elapsed(), result)
        }
    });
    let (async_done, sync_done) = tokio::join!(futures_util::future::join_all(runs), run_sync(all, &sync, &cx));
    let mut done: Vec<Option<(MetricSet, Duration, CollectResult)>> = (0..all.len()).map(|_| None).collect();
    for (i, out, took, result) in async_done.into_iter().chain(sync_done) {
        done[i] = Some((out, took, result));
    }
    let mut set = MetricSet::new();
    let mut results = Vec::with_capacity(picked.len());
    for &i in &picked {
        let c = &all[i];
        let (out, took, result) = done[i].take().unwrap_or_else(|| {
            (
                MetricSet::new(),
                cx.deadline.saturating_duration_since(cx.started),
                Err(CollectError::Timeout(cx.started.elapsed())),
            )
        });
        set.merge(out);
        report(c, &result);
        results.push((c.label, took, result.is_ok()));
    }
    let success = set.family(names.success, "Whether a collector succeeded.", Kind::Gauge);
    for (name, _, ok) in &results {
        success.push(&[("collector", name)], if *ok { 1.0 } else { 0.0 });
    }
    let duration = set.family(names.duration, "How long a collector took, in seconds.", Kind::Gauge);
    for (name, took, _) in &results {
        duration.push(&[("collector", name)], took.as_secs_f64());
    }
    set
}

/// How long a batch of sync collectors may make no progress before another thread takes the
/// rest of its queue.
/// A quarter of the scrape's time, between 50 ms and 1 s: long enough that a busy machine
/// descheduling the thread for a while does not start a helper thread (each thread grows a
/// malloc arena of its own), short enough to leave the queued collectors most of the time.
pub fn stall(budget: Duration) -> Duration {
    (budget / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

type Done = (usize, MetricSet, Duration, CollectResult);

/// Runs the sync collectors `which` of `all` on the blocking pool; returns those that ended
/// before the deadline. A collector still busy from an earlier scrape is reported as such.
async fn run_sync<T: Send + Sync + 'static>(
    all: &Arc<Vec<Enabled<T>>>,
    which: &[usize],
    cx: &Arc<Scrape<T>>,
) -> Vec<Done> {
    use std::sync::atomic::Ordering;
    let mut early = Vec::new();
    let mut queue = std::collections::VecDeque::with_capacity(which.len());
    for &i in which {
        if all[i].busy.load(Ordering::Acquire) {
            let err = CollectError::Other("still running since an earlier scrape".into());
            early.push((i, MetricSet::new(), Duration::ZERO, Err(err)));
        } else {
            queue.push_back(i);
        }
    }
    if queue.is_empty() {
        return early;
    }
    let batch = Arc::new(Batch {
        expected: queue.len(),
        queue: Mutex::new(queue),
        done: Mutex::new(early),
        finished: std::sync::atomic::AtomicUsize::new(0),
        all_done: tokio::sync::Notify::new(),
    });
    let job = |all: Arc<Vec<Enabled<T>>>, cx: Arc<Scrape<T>>, batch: Arc<Batch>| -> Job {
        Box::new(move || sync_worker(&all, &cx, &batch))
    };
    cx.engine.thread.run(job(all.clone(), cx.clone(), batch.clone()));
    let spawn_worker = || {
        let work = job(all.clone(), cx.clone(), batch.clone());
        // A helper thread for the rest of this batch; it ends when the queue is empty.
        if let Err(e) = std::thread::Builder::new().name("collector-helper".into()).spawn(work) {
            tracing::error!(err = %e, "Cannot start a collector thread.");
        }
    };
    let deadline = tokio::time::Instant::from_std(cx.deadline);
    let mut seen = 0;
    let patience = stall(cx.deadline.saturating_duration_since(cx.started));
    loop {
        let stall = tokio::time::Instant::now() + patience;
        // One wake-up when the batch is over, not one per collector.
        let over = tokio::time::timeout_at(stall.min(deadline), batch.all_done.notified()).await.is_ok();
        let finished = batch.finished.load(Ordering::Acquire);
        if over || finished >= batch.expected || tokio::time::Instant::now() >= deadline {
            break;
        }
        if finished == seen && batch.queue.lock().is_ok_and(|q| !q.is_empty()) {
            // No collector ended for the stall time: a thread is stuck in one; let another take
            // what is left of the queue.
            spawn_worker();
        }
        seen = finished;
    }
    // Collectors not started by the deadline never will be (the workers check it).
    batch.done.lock().map(|mut d| std::mem::take(&mut *d)).unwrap_or_default()
}

type Job = Box<dyn FnOnce() + Send>;

/// The thread that runs the sync collectors, one scrape's batch after the other. One
/// long-lived thread, rather than whichever thread of the blocking pool is free, keeps the
/// collectors' allocations in one malloc arena: glibc gives each thread its own, and each
/// arena grows to a whole scrape's worth of samples.
#[derive(Default)]
pub(crate) struct CollectorThread {
    /// Jobs for the current thread, and since when it has been inside one.
    current: Mutex<Option<(std::sync::mpsc::Sender<Job>, Arc<InJob>)>>,
}

/// A collector thread in a job for longer than this is taken as stuck and replaced. A batch
/// takes milliseconds; the next scrape's job may well arrive while the thread is still
/// finishing the previous one, and must then wait its turn, not start a thread.
const STUCK: Duration = Duration::from_secs(2);

/// Since when a thread has been inside a job: milliseconds after [`InJob::anchor`], plus one;
/// 0 when idle.
#[derive(Default)]
struct InJob(std::sync::atomic::AtomicU64);

impl InJob {
    fn anchor() -> Instant {
        static ANCHOR: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *ANCHOR.get_or_init(Instant::now)
    }

    fn enter(&self) {
        let since = InJob::anchor().elapsed().as_millis() as u64 + 1;
        self.0.store(since, std::sync::atomic::Ordering::Release);
    }

    fn leave(&self) {
        self.0.store(0, std::sync::atomic::Ordering::Release);
    }

    fn stuck(&self) -> bool {
        match self.0.load(std::sync::atomic::Ordering::Acquire) {
            0 => false,
            since => {
                (InJob::anchor().elapsed().as_millis() as u64 + 1).saturating_sub(since) > STUCK.as_millis() as u64
            }
        }
    }

    /// Runs the jobs sent on `rx` until its sender is gone.
    fn serve(&self, rx: &std::sync::mpsc::Receiver<Job>) {
        while let Ok(job) = rx.recv() {
            self.enter();
            job();
            self.leave();
        }
    }
}

impl CollectorThread {
    /// Runs `job` on the collector thread; starts one if there is none, or if the current one
    /// has been inside a job for longer than [`STUCK`] (stuck in a read: it is left to end on
    /// its own, and exits then).
    fn run(&self, job: Job) {
        let Ok(mut current) = self.current.lock() else { return job() };
        let job = match current.as_ref() {
            Some((tx, in_job)) if !in_job.stuck() => match tx.send(job) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError(job)) => job,
            },
            _ => job,
        };
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let in_job = Arc::new(InJob::default());
        let flag = in_job.clone();
        let started = std::thread::Builder::new().name("collectors".into()).spawn(move || flag.serve(&rx));
        match started {
            Ok(_) => {
                let _ = tx.send(job);
                *current = Some((tx, in_job));
            }
            Err(e) => {
                tracing::error!(err = %e, "Cannot start the collector thread.");
                *current = None;
            }
        }
    }

    /// Makes the calling thread the one that runs the sync collectors of every scrape
    /// (`run_target` gives it the main thread). Returns only if the thread got stuck in a
    /// collector and was replaced, once that collector returns. `then` runs once the thread
    /// is registered (it starts the server, so that no scrape comes before).
    pub(crate) fn take_this_thread(&self, then: impl FnOnce()) {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let in_job = Arc::new(InJob::default());
        match self.current.lock() {
            Ok(mut current) => *current = Some((tx, in_job.clone())),
            Err(_) => return then(),
        }
        then();
        in_job.serve(&rx);
    }
}

/// One scrape's sync collectors, shared by the threads that run them.
struct Batch {
    /// How many collectors were queued.
    expected: usize,
    /// Collectors not started yet.
    queue: Mutex<std::collections::VecDeque<usize>>,
    /// Their outcomes, as they end.
    done: Mutex<Vec<Done>>,
    /// How many have ended.
    finished: std::sync::atomic::AtomicUsize,
    /// Told when the last one ends.
    all_done: tokio::sync::Notify,
}

/// A blocking-pool thread: takes sync collectors from the batch's queue until it is empty or
/// the deadline has passed, recording each one's outcome.
fn sync_worker<T: Send + Sync>(all: &[Enabled<T>], cx: &Scrape<T>, batch: &Batch) {
    use std::sync::atomic::Ordering;
    loop {
        if Instant::now() >= cx.deadline {
            return;
        }
        let Some(i) = batch.queue.lock().ok().and_then(|mut q| q.pop_front()) else { return };
        let c = &all[i];
        let Some(sync) = c.collector.as_sync() else { continue };
        c.busy.store(true, Ordering::Release);
        let mut out = MetricSet::new();
        let started = Instant::now();
        let mut result = sync.collect_sync(cx, &mut out);
        let took = started.elapsed();
        c.busy.store(false, Ordering::Release);
        if result.is_ok() && Instant::now() > cx.deadline {
            result = Err(CollectError::Timeout(took));
        }
        if let Ok(mut done) = batch.done.lock() {
            done.push((i, out, took, result));
        }
        if batch.finished.fetch_add(1, Ordering::AcqRel) + 1 == batch.expected {
            batch.all_done.notify_one();
        }
    }
}

fn report<T>(c: &Enabled<T>, result: &CollectResult) {
    use std::sync::atomic::Ordering;
    match result {
        Ok(()) => {
            if c.failing.swap(false, Ordering::Relaxed) {
                tracing::info!(collector = c.name, "Collector recovered.");
            }
        }
        Err(CollectError::NoData(why)) => {
            tracing::debug!(collector = c.name, err = %why, "Collector returned no data.");
        }
        Err(e) => {
            if c.failing.swap(true, Ordering::Relaxed) {
                tracing::debug!(collector = c.name, err = %e, "Collector failed again.");
            } else {
                tracing::error!(collector = c.name, err = %e, "Collector failed.");
            }
        }
    }
}

/// Runs one collector once over `paths` (a fixture tree, in tests) with a 10 s deadline,
/// on a fresh single-thread runtime; returns what it wrote and its result.
pub fn collect_once(collector: &dyn Collector, paths: Paths) -> (MetricSet, CollectResult) {
    let cx = Scrape::new(Instant::now() + Duration::from_secs(10), Arc::new(paths), ());
    let mut out = MetricSet::new();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let result = match runtime {
        Ok(rt) => rt.block_on(collector.collect(&cx, &mut out)),
        Err(e) => Err(CollectError::Other(e.to_string())),
    };
    (out, result)
}

#[cfg(test)]
mod tests;
