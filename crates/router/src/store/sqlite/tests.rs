//! SQLite-only store tests (the shared suite is `store::tests`): an attempt left `uncertain`
//! by an older version, pruning of idempotency keys, the CLI's read-only reader.

use super::*;
use crate::store::tests::{batch, one_page, Backend, SqliteBackend};

#[tokio::test]
async fn a_page_left_uncertain_by_the_old_rule_gets_one_more_attempt() {
    let b = SqliteBackend::fresh().await.unwrap();
    let path = b.path.clone();
    let id = one_page(&b).await;
    // What versions before this one left after two crashes: `uncertain`, never sent again.
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE outbox SET state = 'uncertain', inflight = 0, maybe_sent = 2 WHERE id = ?1", [id])
        .unwrap();
    let s = Sqlite::open(&path).unwrap();
    let again = s.claim(now_ms(), 10).await.unwrap();
    assert_eq!(again.len(), 1, "never confirmed sent: one more attempt");
    s.finish(id, Outcome::Sent("250 ok".into()), now_ms()).await.unwrap();
    drop(s);
    let s = Sqlite::open(&path).unwrap();
    assert!(s.claim(now_ms(), 10).await.unwrap().is_empty(), "sent: done");
    drop(s);
    assert_eq!(b.outcomes(id).await, ["retry", "sent"]);
}

#[tokio::test]
async fn old_idempotency_keys_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let now = now_ms();
    {
        // Keys older than the retention (an hour here), more than one commit prunes at once.
        let mut c = Connection::open(&path).unwrap();
        c.execute_batch(SCHEMA).unwrap();
        let tx = c.transaction().unwrap();
        {
            let mut ins = tx.prepare("INSERT INTO batches(key, at) VALUES (?1, ?2)").unwrap();
            for i in 0..1200u32 {
                ins.execute(params![&i.to_be_bytes()[..], now - 7_200_000]).unwrap();
            }
            ins.execute(params![&[9u8; 32][..], now - 60_000]).unwrap();
        }
        tx.commit().unwrap();
    }
    let s = Sqlite::open_with(&path, Options { key_retention: Duration::from_secs(3600) }).unwrap();
    let count =
        || Connection::open(&path).unwrap().query_row("SELECT count(*) FROM batches", [], |r| r.get::<_, i64>(0));
    // Each commit deletes a few hundred; commits happen as the store is used.
    let t0 = Instant::now();
    while count().unwrap() > 1 && t0.elapsed() < Duration::from_secs(20) {
        s.wakeups().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count().unwrap(), 1, "only the recent key is left");
    // The recent key still recognises its retry.
    let mut b = batch(9, "g", &[("a", Status::Firing)], now);
    b.key = [9; 32];
    assert_eq!(s.ingest(b).await.unwrap(), Ingested::Duplicate);
}

#[tokio::test]
async fn the_cli_reader_sees_the_writers_commits() {
    let b = SqliteBackend::fresh().await.unwrap();
    let s = b.open().await;
    s.ingest(batch(1, "g", &[("a", Status::Firing)], 1000)).await.unwrap();
    let listed = Reader::open(&b.path).unwrap().incidents(0, 10).unwrap();
    assert_eq!(listed.iter().map(|i| i.state).collect::<Vec<_>>(), ["firing"]);
    let id = listed[0].id;
    assert_eq!(Reader::open(&b.path).unwrap().incident(id).unwrap().unwrap().timeline[0].kind, "alert_fired");
}
