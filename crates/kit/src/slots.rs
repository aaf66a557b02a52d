//! How many connections the server holds open, and which one gives way when a flood of idle
//! or half-sent connections reaches that cap.
//!
//! A connection is a file descriptor. Under the limit a systemd service gets by default
//! (soft 1024), a few hundred idle connections used to take every descriptor: `accept` then
//! failed with EMFILE and a scrape (or Alertmanager's webhook) got no answer at all. So:
//! - at start the soft `RLIMIT_NOFILE` is raised to the hard limit (as Go's runtime does for
//!   the exporters we replace) and both are logged ([`raise_nofile_limit`]);
//! - open connections are capped below that limit ([`cap_for`]), keeping descriptors for the
//!   collectors' files, the router's store and outgoing connections;
//! - at the cap, a new connection closes the oldest *idle* one (no request in flight: never
//!   sent one, half-sent headers, or kept alive after its last response), so a scrape always
//!   gets in; only when every held connection has a request in flight is the new one refused.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The most connections held, whatever the file limit: each costs a task and hyper's buffers
/// (~10 KiB once it has sent bytes).
pub const MAX_CONNECTIONS: usize = 16_384;

/// Descriptors kept out of the connections' reach: a quarter of the limit, at least this.
pub const MIN_RESERVE: usize = 128;

/// How often the "at the cap" line is logged while a flood lasts.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Raises the soft open-file limit to the hard one and logs both; returns the soft limit now
/// in force (the old one if raising failed).
pub fn raise_nofile_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let before = getrlimit(Resource::Nofile);
    let soft = before.current.unwrap_or(u64::MAX);
    let hard = before.maximum;
    if before.current == hard {
        tracing::info!(soft = %show(Some(soft)), hard = %show(hard), "Open-file limit already at its hard limit.");
        return soft;
    }
    match setrlimit(Resource::Nofile, Rlimit { current: hard, maximum: hard }) {
        Ok(()) => {
            tracing::info!(from = soft, soft = %show(hard), hard = %show(hard), "Raised the soft open-file limit to the hard limit.");
            hard.unwrap_or(u64::MAX)
        }
        Err(e) => {
            tracing::warn!(soft, hard = %show(hard), err = %e, "Could not raise the soft open-file limit.");
            soft
        }
    }
}

fn show(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
}

/// The connection cap for a soft file limit: the limit less a quarter of it (at least
/// [`MIN_RESERVE`]), at most [`MAX_CONNECTIONS`], at least 1.
pub fn cap_for(soft_limit: u64) -> usize {
    let limit = usize::try_from(soft_limit).unwrap_or(usize::MAX);
    let reserve = (limit / 4).max(MIN_RESERVE);
    limit.saturating_sub(reserve).clamp(1, MAX_CONNECTIONS)
}

/// The open connections of one server (every listener), oldest first.
pub struct Slots {
    cap: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next: u64,
    open: BTreeMap<u64, Arc<Conn>>,
    /// When the cap line was last logged, and the connections closed or refused since.
    logged: Option<Instant>,
    closed: u64,
    refused: u64,
}

/// What the server and a connection share: its requests in flight, and the signal to close.
#[derive(Default)]
pub struct Conn {
    in_flight: AtomicUsize,
    close: Notify,
}

impl Conn {
    /// Marks a request in flight until the returned guard drops: the connection is not idle.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    /// Completes when the server closes this connection to make room.
    pub async fn closed(&self) {
        self.close.notified().await
    }
}

/// A request in flight on a [`Conn`].
pub struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A held slot: dropping it frees the slot.
pub struct Slot {
    slots: Arc<Slots>,
    id: u64,
    /// The connection's shared state.
    pub conn: Arc<Conn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().open.remove(&self.id);
    }
}

impl Slots {
    /// Slots for at most `cap` connections.
    pub fn new(cap: usize) -> Arc<Slots> {
        Arc::new(Slots { cap: cap.max(1), state: Mutex::new(State::default()) })
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Connections held now.
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a new connection; at the cap, the oldest idle connection is told to close
    /// first. `None` (refuse the connection) when every held connection has a request in flight.
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut st = self.lock();
        if st.open.len() >= self.cap {
            let oldest_idle = st.open.iter().find(|(_, c)| c.in_flight.load(Ordering::SeqCst) == 0).map(|(id, _)| *id);
            let admitted = match oldest_idle.and_then(|id| st.open.remove(&id)) {
                Some(idle) => {
                    idle.close.notify_one();
                    st.closed += 1;
                    true
                }
                None => {
                    st.refused += 1;
                    false
                }
            };
            self.log_cap(&mut st);
            if !admitted {
                return None;
            }
        }
        let id = st.next;
        st.next += 1;
        let conn = Arc::new(Conn::default());
        st.open.insert(id, conn.clone());
        Some(Slot { slots: self.clone(), id, conn })
    }

    fn log_cap(&self, st: &mut State) {
        let now = Instant::now();
        if st.logged.is_some_and(|at| now.duration_since(at) < LOG_EVERY) {
            return;
        }
        tracing::warn!(
            cap = self.cap,
            closed_idle = st.closed,
            refused = st.refused,
            "Open connections at the cap: closing the oldest idle connection for each new one (refusing it when none is idle)."
        );
        st.logged = Some(now);
        st.closed = 0;
        st.refused = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_leaves_a_reserve() {
        assert_eq!(cap_for(1024), 768);
        assert_eq!(cap_for(256), 128);
        assert_eq!(cap_for(100), 1);
        assert_eq!(cap_for(4096), 3072);
        assert_eq!(cap_for(524_288), MAX_CONNECTIONS);
        assert_eq!(cap_for(u64::MAX), MAX_CONNECTIONS);
    }

    #[tokio::test]
    async fn the_oldest_idle_connection_gives_way() {
        let slots = Slots::new(3);
        let a = slots.admit().unwrap();
        let b = slots.admit().unwrap();
        let c = slots.admit().unwrap();
        let _busy = a.conn.busy();
        // Full: a is busy, so b (the oldest idle) is told to close and d gets in.
        let d = slots.admit().unwrap();
        tokio::time::timeout(Duration::from_secs(1), b.conn.closed()).await.unwrap();
        assert_eq!(slots.open(), 3);
        let _busy_c = c.conn.busy();
        let _busy_d = d.conn.busy();
        // Every held connection busy: refused.
        assert!(slots.admit().is_none());
        drop(_busy_d);
        let _e = slots.admit().unwrap();
        drop(b);
        assert_eq!(slots.open(), 3, "a closed connection's late drop frees nothing twice");
    }
}
