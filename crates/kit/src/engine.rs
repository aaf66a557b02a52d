//! [`Engine`]: what one running exporter keeps from one scrape to the next, owned by it and
//! passed down to its scrapes, never process-wide: the kernel files it keeps open and its
//! read buffers, the thread its sync collectors run on, and the sort memo of each target's
//! exposition. Two exporters in one process (two tests) share none of it.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::exposition::{MetricSet, SortMemo};
use crate::fasthash::FastMap;
use crate::scheduler::CollectorThread;
use crate::scrape::kernel::KernelFiles;
use crate::scrape::{Paths, Scrape};

/// At most this many probe targets keep a sort memo of their own; past it, the memos are
/// dropped and learnt again (a multi-target exporter usually has a handful of targets).
const MAX_TARGET_MEMOS: usize = 64;

/// The state of one running exporter between scrapes.
#[derive(Default)]
pub struct Engine {
    paths: Arc<Paths>,
    /// Kept-open kernel files and read buffers.
    pub(crate) files: KernelFiles,
    /// The thread that runs the sync collectors.
    pub(crate) thread: CollectorThread,
    /// The family order of `/metrics`' last answer.
    metrics_memo: SortMemo,
    /// The family order of each probe target's last answer: targets write different family
    /// sets, and one memo for all would be relearnt at every change of target.
    target_memos: Mutex<FastMap<String, Arc<SortMemo>>>,
}

impl Engine {
    /// An engine reading the host's files under `paths`.
    pub fn new(paths: Arc<Paths>) -> Engine {
        Engine { paths, ..Engine::default() }
    }

    /// Where `/proc`, `/sys` and `/` are.
    pub fn paths(&self) -> &Arc<Paths> {
        &self.paths
    }

    /// The context of one scrape of this exporter, ending at `deadline`.
    pub fn scrape<T>(self: &Arc<Self>, deadline: Instant, target: T) -> Scrape<T> {
        Scrape::with_engine(self.clone(), deadline, target)
    }

    /// Makes the calling thread the one that runs the sync collectors of every scrape; `then`
    /// runs once it is (it starts the server). Returns only if the thread got stuck in a
    /// collector and was replaced, once that collector returns.
    pub fn collect_on_this_thread(&self, then: impl FnOnce()) {
        self.thread.take_this_thread(then);
    }

    /// `set` as text format 0.0.4, sorted with the memo of `target` (`None`: `/metrics`).
    pub fn encode(&self, set: MetricSet, target: Option<&str>) -> Vec<u8> {
        let Some(target) = target else { return set.encode_bytes_with(&self.metrics_memo) };
        let memo = match self.target_memos.lock() {
            Ok(mut memos) => {
                if memos.len() >= MAX_TARGET_MEMOS && !memos.contains_key(target) {
                    memos.clear();
                }
                memos.entry(target.to_owned()).or_default().clone()
            }
            Err(_) => Arc::default(),
        };
        set.encode_bytes_with(&memo)
    }
}
