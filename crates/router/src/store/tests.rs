//! The store suite, run against every backend: one generic test per behaviour, instantiated
//! once for SQLite (a temporary file) and once for PostgreSQL (a fresh database per test on
//! the server `VIGIE_TEST_POSTGRES_URL` names; without it those print `skipped:`, or fail
//! under `VIGIE_REQUIRE_SERVICES=1`).

use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::model::{now_ms, Target};

/// A backend under test: a place for the data, and stores opened on it.
pub(crate) trait Backend: Sized {
    /// A fresh, empty place; `None` when the backend cannot run here (skipped).
    async fn fresh() -> Option<Self>;
    /// A store on it. Opening again is what a restart does (after a crash, say).
    async fn open(&self) -> Arc<dyn Store>;
    /// Every recorded attempt outcome of outbox row `id`, in order.
    async fn outcomes(&self, id: i64) -> Vec<String>;
}

pub(crate) struct SqliteBackend {
    _dir: tempfile::TempDir,
    pub(crate) path: PathBuf,
}

impl Backend for SqliteBackend {
    async fn fresh() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        Some(SqliteBackend { _dir: dir, path })
    }
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(sqlite::Sqlite::open(&self.path).unwrap())
    }
    async fn outcomes(&self, id: i64) -> Vec<String> {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        let mut st = c.prepare("SELECT outcome FROM attempts WHERE outbox_id = ?1 ORDER BY rowid").unwrap();
        st.query_map([id], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }
}

/// A database of its own on the test server.
pub(crate) struct PostgresBackend {
    pub(crate) url: String,
}

/// `VIGIE_TEST_POSTGRES_URL` (a superuser on a throwaway server), or a skip.
pub(crate) fn postgres_admin_url() -> Option<String> {
    match std::env::var("VIGIE_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("VIGIE_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
            panic!("VIGIE_REQUIRE_SERVICES=1 but VIGIE_TEST_POSTGRES_URL is unset (tests/run router sets it)")
        }
        _ => {
            eprintln!("skipped: VIGIE_TEST_POSTGRES_URL unset (tests/run router starts a PostgreSQL)");
            None
        }
    }
}

impl PostgresBackend {
    /// Options for a store on this database, with a name of its own in leases.
    pub(crate) fn options(&self) -> postgres::Options {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A 1 ms lease: an attempt a dropped store left is a crashed one at the next claim.
        postgres::Options {
            owner: Some(format!("test-{n}")),
            lease: std::time::Duration::from_millis(1),
            ..postgres::Options::new(self.url.clone())
        }
    }
}

impl Backend for PostgresBackend {
    async fn fresh() -> Option<Self> {
        let admin = postgres_admin_url()?;
        let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let name = format!("vigie_test_{}_{}", std::process::id(), now_ms() % 1_000_000_000);
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!("{name}_{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
        // Back to a URL: the admin one with the database replaced.
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
        let query = admin.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
        Some(PostgresBackend { url: format!("{base}/{name}{query}") })
    }
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(postgres::Postgres::connect(self.options()).await.unwrap())
    }
    async fn outcomes(&self, id: i64) -> Vec<String> {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let rows =
            client.query("SELECT outcome FROM attempts WHERE outbox_id = $1 ORDER BY seq", &[&id]).await.unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    }
}

pub(crate) fn batch(key: u8, group: &str, alerts: &[(&str, Status)], now: Millis) -> IngestBatch {
    IngestBatch {
        key: [key; 32],
        receiver: "vigie".into(),
        group_key: group.into(),
        external_url: "http://am".into(),
        group_labels: "{\"alertname\":\"X\"}".into(),
        policy: "standard".into(),
        start_level: 1,
        deadline_at: now + 3_600_000,
        now,
        alerts: alerts
            .iter()
            .map(|(fp, st)| AlertRow {
                fingerprint: (*fp).into(),
                status: *st,
                labels: "{}".into(),
                annotations: "{}".into(),
                starts_at: "2026-11-22T10:00:00Z".into(),
                ends_at: String::new(),
                generator_url: String::new(),
            })
            .collect(),
    }
}

/// Ingests one firing alert at 1000 ms; the incident it opens.
pub(crate) async fn open_incident(s: &dyn Store) -> Incident {
    s.ingest(batch(1, "g", &[("a", Status::Firing)], 1000)).await.unwrap();
    s.due(1000, 10).await.unwrap().remove(0)
}

pub(crate) fn alice_by_email() -> Target {
    Target { contact: "alice".into(), channel: ChannelKind::Email, address: "a@x".into() }
}

/// A level-1 page to `target`.
pub(crate) fn page(target: Target) -> NewOutbox {
    NewOutbox { kind: Kind::Page, level: 1, target, body: "{}".into() }
}

/// The step that takes `inc` to level 1 and queues `outbox`.
pub(crate) fn to_level_1(inc: &Incident, outbox: Vec<NewOutbox>) -> Step {
    Step { incident: inc.id, version: inc.version, level: 1, outbox, ..Step::default() }
}

/// Opens a store, ingests one alert and queues one page, claims it; the outbox id. The
/// store is then dropped without finishing: a crash.
pub(crate) async fn one_page<B: Backend>(b: &B) -> i64 {
    let s = b.open().await;
    let inc = open_incident(&*s).await;
    s.apply(vec![to_level_1(&inc, vec![page(alice_by_email())])], 1000).await.unwrap();
    let claimed = s.claim(1000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // Claimed rows are not handed out twice.
    assert!(s.claim(1000, 10).await.unwrap().is_empty());
    claimed[0].id
}

fn act(id: i64, what: What) -> Act {
    Act { incident: id, actor: "api:test".into(), via: crate::model::Via::Api, what, note: None }
}

mod cases;

/// One `#[tokio::test]` per case of `cases`, on `$backend`.
macro_rules! suite {
    ($backend:ty) => {
        suite!($backend;
            identical_retry_is_recognised,
            lifecycle_new_alert_then_resolve,
            concurrent_ingests_all_commit,
            interrupted_attempts_are_retried_once_per_crash_then_given_up,
            failed_page_escalates_now,
            ack_unack_resolve_and_the_timeline_in_order,
            first_receipt_finds_the_first_delivered_message,
            claim_on_takes_only_the_channels_asked,
        );
    };
    ($backend:ty; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(b) = <$backend as super::Backend>::fresh().await else { return };
                super::cases::$case(&b).await;
            }
        )*
    };
}

mod sqlite_suite {
    suite!(super::SqliteBackend);
}

mod postgres_suite {
    suite!(super::PostgresBackend);
}
