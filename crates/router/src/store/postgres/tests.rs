//! PostgreSQL-only store tests: what several routers on one database rely on. Two stores
//! with their own owner ids stand in for two routers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::*;
use crate::store::tests::{alice_by_email, batch, open_incident, page, to_level_1, Backend, PostgresBackend};

async fn two(b: &PostgresBackend, lease: Duration) -> (Arc<Postgres>, Arc<Postgres>) {
    let open = || async { Arc::new(Postgres::connect(Options { lease, ..b.options() }).await.unwrap()) };
    (open().await, open().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_group_on_two_routers_opens_one_incident() {
    let Some(b) = PostgresBackend::fresh().await else { return };
    let (a, c) = two(&b, Duration::from_secs(60)).await;
    // 50 groups, each sent as two different batches, one to each router, at once.
    let mut tasks = Vec::new();
    for g in 0..50u8 {
        for (i, s) in [a.clone(), c.clone()].into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let mut bt = batch(g, &format!("g{g}"), &[(if i == 0 { "x" } else { "y" }, Status::Firing)], 1000);
                bt.key[1] = i as u8;
                s.ingest(bt).await.unwrap()
            }));
        }
    }
    let mut opened = 0;
    for t in tasks {
        if let Ingested::Stored { opened: true, .. } = t.await.unwrap() {
            opened += 1;
        }
    }
    assert_eq!(opened, 50, "one incident opened per group");
    let due = a.due(1000, 1000).await.unwrap();
    assert_eq!(due.len(), 50);
    assert!(due.iter().all(|i| i.alerts.len() == 2), "both batches' alerts joined the one incident");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_finish_after_a_takeover_is_fenced_off() {
    let Some(b) = PostgresBackend::fresh().await else { return };
    let (a, c) = two(&b, Duration::from_secs(10)).await;
    let inc = open_incident(&*a).await;
    a.apply(vec![to_level_1(&inc, vec![page(alice_by_email())])], 1000).await.unwrap();
    let mine = a.claim(1000, 10).await.unwrap();
    assert_eq!(mine.len(), 1);
    // Within A's lease, B gets nothing; after it, B takes the attempt over (A seems dead).
    assert!(c.claim(5000, 10).await.unwrap().is_empty(), "leased to A");
    let theirs = c.claim(11_001, 10).await.unwrap();
    assert_eq!((theirs.len(), theirs[0].attempts), (1, 2));
    // A was only slow: its finish comes late and must not overwrite B's attempt.
    a.finish(mine[0].id, Outcome::Failed("late".into()), 12_000).await.unwrap();
    c.finish(theirs[0].id, Outcome::Sent("250 ok".into()), 12_500).await.unwrap();
    assert_eq!(b.outcomes(mine[0].id).await, ["interrupted", "sent"]);
    assert!(a.due(12_000, 10).await.unwrap().is_empty(), "the late failure did not escalate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_wakes_the_other_router() {
    let Some(b) = PostgresBackend::fresh().await else { return };
    let (a, c) = two(&b, Duration::from_secs(60)).await;
    let (engine, deliver) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    c.watch(engine.clone(), deliver.clone());
    // The watcher wakes both once when it starts listening (it may have missed something).
    tokio::time::timeout(Duration::from_secs(30), engine.notified()).await.expect("listening");
    tokio::time::timeout(Duration::from_secs(30), deliver.notified()).await.expect("listening");
    // A opens an incident: B's engine hears of it; A queues a page: B's queue does.
    let inc = open_incident(&*a).await;
    tokio::time::timeout(Duration::from_secs(30), engine.notified()).await.expect("engine woken by A's ingest");
    a.apply(vec![to_level_1(&inc, vec![page(alice_by_email())])], 1000).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), deliver.notified()).await.expect("queue woken by A's step");
}

/// With `ca_file`, the store speaks TLS (rustls) and verifies the server against that CA:
/// the server sees an encrypted connection, and a CA that did not sign its certificate is
/// refused. Needs `VIGIE_TEST_POSTGRES_CA` (tests/run turns TLS on with a test CA).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_ca_file_is_used_and_verified() {
    let Some(b) = PostgresBackend::fresh().await else { return };
    let ca = match std::env::var("VIGIE_TEST_POSTGRES_CA") {
        Ok(c) if !c.is_empty() => std::path::PathBuf::from(c),
        _ if std::env::var("VIGIE_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
            panic!("VIGIE_REQUIRE_SERVICES=1 but VIGIE_TEST_POSTGRES_CA is unset")
        }
        _ => return eprintln!("skipped: VIGIE_TEST_POSTGRES_CA unset"),
    };
    let s = Postgres::connect(Options { ca_file: Some(ca.clone()), ..b.options() }).await.unwrap();
    s.ingest(batch(1, "g", &[("a", Status::Firing)], 1000)).await.unwrap();
    let (client, conn) = tokio_postgres::connect(&b.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let encrypted: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE s.ssl AND a.application_name = 'vigie-router' AND a.datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(encrypted >= 1, "the store's connections are TLS");
    // The server's own certificate as the only root: it is not the CA that signed it.
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong-ca.pem");
    let server_cert = ca.with_file_name("server.pem");
    std::fs::copy(&server_cert, &wrong).unwrap();
    let err = Postgres::connect(Options { ca_file: Some(wrong), ..b.options() }).await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("certificate") || shown.contains("issuer"), "{shown}");
    assert!(!shown.contains(&b.url), "{shown}");
}
