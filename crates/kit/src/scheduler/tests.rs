//! Tests of the scrape loop: failing, slow and stuck collectors.

use super::*;
use crate::collector::{BoxFuture, SyncCollector};
use crate::exposition::Desc;
use crate::scrape::blocking;

struct Fine;
const FINE: Desc = Desc::gauge("t_fine", "A value.", &[]);
impl SyncCollector for Fine {
    fn collect_sync(&self, _: &Scrape, out: &mut MetricSet) -> CollectResult {
        out.add(&FINE, &[], 1.0);
        Ok(())
    }
}

struct Broken;
impl SyncCollector for Broken {
    fn collect_sync(&self, _: &Scrape, out: &mut MetricSet) -> CollectResult {
        out.add(&FINE, &[], 2.0);
        Err(CollectError::parse("/proc/x", "line 1: nonsense"))
    }
}

struct Slow;
impl Collector for Slow {
    fn collect<'a>(&'a self, _: &'a Scrape, _: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
    }
}

const NAMES: ScrapeNames = ScrapeNames::node_style("t_success", "t_duration_seconds");

#[tokio::test]
async fn a_failing_or_slow_collector_never_fails_the_scrape() {
    let collectors = Arc::new(vec![
        Enabled::new("fine", Box::new(Fine) as Box<dyn Collector>),
        Enabled::new("broken", Box::new(Broken)),
        Enabled::new("slow", Box::new(Slow)),
    ]);
    let deadline = Instant::now() + Duration::from_millis(200);
    let cx = Arc::new(Scrape::new(deadline, Arc::new(Paths::default()), ()));
    let text = run(&collectors, |_| true, cx, &NAMES).await.encode();
    assert!(text.contains("t_success{collector=\"fine\"} 1\n"), "{text}");
    assert!(text.contains("t_success{collector=\"broken\"} 0\n"), "{text}");
    assert!(text.contains("t_success{collector=\"slow\"} 0\n"), "{text}");
    // The broken collector's sample written before the error is kept.
    assert!(text.contains("t_fine 2\n") && text.contains("t_fine 1\n"), "{text}");
    assert!(Instant::now() < deadline + Duration::from_secs(2));
}

/// Blocks in its first run until the test lets it go, as a read of a FIFO would.
struct Stuck {
    runs: std::sync::atomic::AtomicUsize,
    release: Mutex<std::sync::mpsc::Receiver<()>>,
}
impl SyncCollector for Stuck {
    fn collect_sync(&self, _: &Scrape, out: &mut MetricSet) -> CollectResult {
        if self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            let _ = self.release.lock().unwrap().recv();
        }
        out.add(&FINE, &[], 3.0);
        Ok(())
    }
}

#[tokio::test]
async fn a_stuck_sync_collector_fails_alone_and_is_not_started_twice() {
    let (release, rx) = std::sync::mpsc::channel();
    let stuck = Arc::new(Stuck { runs: Default::default(), release: Mutex::new(rx) });
    struct Shared(Arc<Stuck>);
    impl SyncCollector for Shared {
        fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
            self.0.collect_sync(cx, out)
        }
    }
    // "stuck" is first in the queue: the collectors after it run on another thread once
    // the batch has made no progress for the stall time.
    let collectors = Arc::new(vec![
        Enabled::new("stuck", Box::new(Shared(stuck.clone())) as Box<dyn Collector>),
        Enabled::new("fine", Box::new(Fine)),
        Enabled::new("broken", Box::new(Broken)),
    ]);
    let paths = Arc::new(Paths::default());
    let scrape = |ms: u64| {
        let cx = Arc::new(Scrape::new(Instant::now() + Duration::from_millis(ms), paths.clone(), ()));
        run(&collectors, |_| true, cx, &NAMES)
    };
    let text = scrape(1000).await.encode();
    assert!(text.contains("t_success{collector=\"stuck\"} 0\n"), "{text}");
    assert!(text.contains("t_success{collector=\"fine\"} 1\n"), "{text}");
    assert!(text.contains("t_success{collector=\"broken\"} 0\n"), "{text}");
    assert!(text.contains("t_fine 1\n") && !text.contains("t_fine 3\n"), "{text}");
    // Still stuck: reported failed again, and not started a second time.
    let text = scrape(100).await.encode();
    assert!(text.contains("t_success{collector=\"stuck\"} 0\n"), "{text}");
    assert_eq!(stuck.runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    release.send(()).unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        let text = scrape(1000).await.encode();
        if text.contains("t_success{collector=\"stuck\"} 1\n") {
            assert!(text.contains("t_fine 3\n"), "{text}");
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(recovered, "the collector never ran again once its read returned");
}

#[tokio::test]
async fn blocking_calls_give_up_at_the_deadline() {
    let deadline = Instant::now() + Duration::from_millis(50);
    let r = blocking(deadline, || std::thread::sleep(Duration::from_millis(500))).await;
    assert!(matches!(r, Err(CollectError::Timeout(_))), "{r:?}");
    let r = blocking(Instant::now() + Duration::from_secs(5), || 7).await;
    assert_eq!(r.ok(), Some(7));
}
