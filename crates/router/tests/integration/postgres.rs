//! The router on PostgreSQL, as a process: bad input at start (database unreachable, schema
//! newer than the binary, a password file missing, a URL without its password), and two
//! routers on one database given the same webhook (Alertmanager HA) opening one incident.
//! The database tests need `VIGIE_TEST_POSTGRES_URL` (a superuser on a throwaway server;
//! `tests/run router` starts one); without it they print `skipped:`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_vigie-router");

/// The issue's storage section, then the usual contacts and policies.
fn pg_config(dir: &Path, storage: &str) -> std::path::PathBuf {
    let p = router_config(dir, free_port(), "none", "30m", "1h");
    let text = std::fs::read_to_string(&p).unwrap().replace("storage: {path: router.db}\n", storage);
    write(dir, "router.yml", &text)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn serve(config: &Path, env_url: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--config"]).arg(config).args(["--web.listen-address", &format!("127.0.0.1:{}", free_port())]);
    cmd.env_remove("VIGIE_ROUTER_POSTGRES_URL");
    if let Some(u) = env_url {
        cmd.env("VIGIE_ROUTER_POSTGRES_URL", u);
    }
    cmd.output().unwrap()
}

const ISSUE_STORAGE: &str =
    "storage:\n  postgres:\n    url: {env: VIGIE_ROUTER_POSTGRES_URL}\n    connect_timeout: 5s\n";

#[test]
fn postgres_unreachable_at_start_is_a_clear_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = pg_config(dir.path(), ISSUE_STORAGE);
    // A loopback port nobody listens on.
    let url = format!("postgres://vigie:Hunter2-not-printed@127.0.0.1:{}/vigie", free_port());
    let out = serve(&config, Some(&url));
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("storage.postgres") && shown.contains("refused"), "{shown}");
    assert!(!shown.contains("Hunter2"), "the password is never printed: {shown}");
    // And with the variable unset: the config check names it.
    let out = serve(&config, None);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("storage.postgres.url: environment variable VIGIE_ROUTER_POSTGRES_URL is unset"), "{shown}");
}

#[test]
fn postgres_missing_password_file_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let storage = "storage:\n  postgres:\n    url: {file: pg-url}\n    password: {file: pg-password}\n";
    write(dir.path(), "pg-url", "postgres://vigie@127.0.0.1:5432/vigie");
    let config = pg_config(dir.path(), storage);
    let out = Command::new(BIN).arg("check-config").arg(&config).output().unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("router.yml:4:"), "file and line: {shown}");
    assert!(shown.contains("storage.postgres.password: cannot read secret file"), "{shown}");
    assert!(shown.contains("pg-password"), "{shown}");
    // A URL that is not one: named, its text not echoed.
    write(dir.path(), "pg-url", "postgres://vigie:Hunter2@127.0.0.1:notaport/vigie");
    write(dir.path(), "pg-password", "x");
    let out = Command::new(BIN).arg("check-config").arg(&config).output().unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("storage.postgres.url: not a PostgreSQL URL"), "{shown}");
    assert!(!shown.contains("Hunter2"), "{shown}");
}

/// A fresh database on the test server: its URL (with the admin's credentials).
fn fresh_database(rt: &tokio::runtime::Runtime) -> Option<String> {
    let admin = match std::env::var("VIGIE_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            skip("VIGIE_TEST_POSTGRES_URL unset (tests/run router starts a PostgreSQL)");
            return None;
        }
    };
    let name = format!("vigie_it_{}_{}", std::process::id(), free_port());
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    });
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn query_i64(url: &str, sql: &str) -> i64 {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[test]
fn postgres_newer_schema_is_refused() {
    let rt = runtime();
    let Some(url) = fresh_database(&rt) else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = pg_config(dir.path(), ISSUE_STORAGE);
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(
                "CREATE TABLE vigie_schema(version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
                 INSERT INTO vigie_schema(version) VALUES (1), (99);",
            )
            .await
            .unwrap();
    });
    let out = serve(&config, Some(&url));
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("schema is version 99, newer than this vigie-router"), "{shown}");
    // Nothing was created beside it.
    let tables = rt.block_on(query_i64(&url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    assert_eq!(tables, 1);
}

#[test]
fn postgres_url_without_its_password_is_refused_by_the_server() {
    let rt = runtime();
    let Some(url) = fresh_database(&rt) else { return };
    // The test server asks TCP clients for a password (scram-sha-256).
    let Some((scheme_user, rest)) = url.split_once('@') else { return };
    let Some((user_part, _password)) = scheme_user.rsplit_once(':') else {
        skip("VIGIE_TEST_POSTGRES_URL has no password: nothing to leave out");
        return;
    };
    let no_password = format!("{user_part}@{rest}");
    let dir = tempfile::tempdir().unwrap();
    let config = pg_config(dir.path(), ISSUE_STORAGE);
    let out = serve(&config, Some(&no_password));
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("storage.postgres") && shown.contains("password"), "{shown}");
}

#[test]
fn postgres_two_routers_one_webhook_one_incident() {
    let rt = runtime();
    let Some(url) = fresh_database(&rt) else { return };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pg-url", &url);
    let config = pg_config(dir.path(), "storage:\n  postgres:\n    url: {file: pg-url}\n");
    let a = Router::start(&config, free_port());
    let b = Router::start(&config, free_port());
    // Alertmanager HA: both replicas send the same group to both routers, at once.
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| a.post(FIRING));
        let tb = s.spawn(|| b.post(FIRING));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_eq!((ra.0, rb.0), (200, 200), "{ra:?} {rb:?}");
    // And a different batch of the same group (another replica's view) to B.
    let other = String::from_utf8_lossy(FIRING).replace("10:35:25.115Z", "10:35:26.115Z");
    assert_eq!(b.post(other.as_bytes()).0, 200);
    let (open, total) = rt.block_on(async {
        (
            query_i64(&url, "SELECT count(*) FROM incidents WHERE firing").await,
            query_i64(&url, "SELECT count(*) FROM batches").await,
        )
    });
    assert_eq!(open, 1, "one open incident for the group, whichever router took it");
    assert_eq!(total, 2, "the identical webhook stored once, the other batch once");
}
