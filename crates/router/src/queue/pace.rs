//! The queue's pacer: per key (a Slack webhook or channel), one call per interval, and none
//! before a hold-off the far end asked for (429 `Retry-After`) has passed. One [`Pacer`] per
//! channel, owned by the queue and lent to each send ([`crate::channels::SendCx`]), so that a
//! channel keeps no rate-limit state of its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use vigie_kit::BoxFuture;

use crate::channels::Pace;

/// Turns and holds, by key.
#[derive(Default)]
pub struct Pacer {
    state: Mutex<Turns>,
}

/// When each key's next call may go, and until when the far end asked us to hold off.
#[derive(Default)]
struct Turns {
    next: HashMap<String, Instant>,
    held: HashMap<String, Instant>,
}

impl Pacer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Turns> {
        // A panic while holding it leaves consistent maps: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Pace for Pacer {
    fn turn<'a>(&'a self, key: &'a str, every: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            loop {
                let at = {
                    let mut p = self.lock();
                    let now = Instant::now();
                    let slot = p.next.get(key).copied().filter(|t| *t > now).unwrap_or(now);
                    p.next.insert(key.to_owned(), slot + every);
                    slot
                };
                tokio::time::sleep_until(at).await;
                let held = self.lock().held.get(key).copied();
                if held.is_none_or(|h| h <= Instant::now()) {
                    return;
                }
            }
        })
    }

    fn hold(&self, key: &str, after: Duration) {
        let mut guard = self.lock();
        let p = &mut *guard;
        let until = Instant::now() + after;
        for map in [&mut p.next, &mut p.held] {
            let e = map.entry(key.to_owned()).or_insert(until);
            *e = (*e).max(until);
        }
    }
}
