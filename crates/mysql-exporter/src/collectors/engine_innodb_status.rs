//! `SHOW ENGINE INNODB STATUS` → queries inside InnoDB and in its queue, and open read
//! views, read from the monitor text (mysqld_exporter "engine_innodb_status").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::text;
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "engine_innodb_status",
    default_enabled: false,
    help: "Collect from SHOW ENGINE INNODB STATUS",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(EngineInnodbStatus)),
};

const INSIDE: Desc =
    Desc::gauge("mysql_engine_innodb_queries_inside_innodb", "Queries executing inside InnoDB now.", &[]);
const QUEUE: Desc = Desc::gauge("mysql_engine_innodb_queries_in_queue", "Queries waiting to enter InnoDB.", &[]);
const VIEWS: Desc =
    Desc::gauge("mysql_engine_innodb_read_views_open_inside_innodb", "Read views open inside InnoDB.", &[]);

/// Reads the InnoDB monitor output.
pub struct EngineInnodbStatus;

/// The digits that end `head` (`"… 3"` → 3).
fn trailing_number(head: &str) -> Option<f64> {
    let start = head.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
    head[start..].parse().ok()
}

/// The digits that start `tail` when `rest` follows them (`"7 queries in queue"`).
fn leading_number(tail: &str, rest: &str) -> Option<f64> {
    let end = tail.find(|c: char| !c.is_ascii_digit()).unwrap_or(tail.len());
    tail[end..].starts_with(rest).then(|| tail[..end].parse().ok()).flatten()
}

/// (queries inside, queries in queue) and read views from the monitor text; the last
/// matching line of each kind wins.
pub fn parse(status: &str) -> (Option<(f64, f64)>, Option<f64>) {
    let (mut queries, mut views) = (None, None);
    for line in status.lines() {
        if let Some((head, tail)) = line.split_once(" queries inside InnoDB, ") {
            if let (Some(inside), Some(queue)) = (trailing_number(head), leading_number(tail, " queries in queue")) {
                queries = Some((inside, queue));
            }
        } else if let Some((head, _)) = line.split_once(" read views open inside InnoDB") {
            if let Some(v) = trailing_number(head) {
                views = Some(v);
            }
        }
    }
    (queries, views)
}

impl Collector<Db> for EngineInnodbStatus {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.1 {
                return Ok(());
            }
            let rows = cx.target.query("SHOW ENGINE INNODB STATUS").await?;
            let status = rows.first().map(|r| text(r, 2)).unwrap_or_default();
            let (queries, views) = parse(&status);
            if let Some((inside, queue)) = queries {
                out.add(&INSIDE, &[], inside);
                out.add(&QUEUE, &[], queue);
            }
            if let Some(v) = views {
                out.add(&VIEWS, &[], v);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn monitor_text() {
        let text = "ROW OPERATIONS\n--------------\n2 queries inside InnoDB, 7 queries in queue\n3 read views open inside InnoDB\n";
        assert_eq!(super::parse(text), (Some((2.0, 7.0)), Some(3.0)));
        // MariaDB 10.11 prints only the read views line.
        assert_eq!(super::parse("0 read views open inside InnoDB\nProcess ID=1"), (None, Some(0.0)));
    }
}
