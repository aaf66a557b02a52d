//! `information_schema.INNODB_SYS_TABLESPACES` (MySQL 5.7, MariaDB) or
//! `INNODB_TABLESPACES` (MySQL 8.0) → each tablespace's id, file size and allocated size
//! (mysqld_exporter "info_schema.innodb_tablespaces"). MariaDB 10.5+ has no SPACE_TYPE
//! column: `space_type` is then empty, as in mysqld_exporter 0.15+.

use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.innodb_tablespaces",
    default_enabled: false,
    help: "Collect metrics from information_schema.innodb_sys_tablespaces",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(InnodbTablespaces)),
};

const INFO: Desc = Desc::gauge(
    "mysql_info_schema_innodb_tablespace_space_info",
    "The tablespace's space id, labelled with its formats and type.",
    &["tablespace_name", "file_format", "row_format", "space_type"],
);
const FILE_SIZE: Desc = Desc::gauge(
    "mysql_info_schema_innodb_tablespace_file_size_bytes",
    "Apparent size of the tablespace file, in bytes.",
    &["tablespace_name"],
);
const ALLOCATED: Desc = Desc::gauge(
    "mysql_info_schema_innodb_tablespace_allocated_size_bytes",
    "Disk space allocated to the tablespace file, in bytes.",
    &["tablespace_name"],
);

/// Reads the tablespaces.
pub struct InnodbTablespaces;

impl Collector<Db> for InnodbTablespaces {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.7 {
                return Ok(());
            }
            // Which table this server has, and whether it has SPACE_TYPE and FILE_FORMAT.
            let columns = cx
                .target
                .query(
                    "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'information_schema' \
                     AND TABLE_NAME IN ('INNODB_SYS_TABLESPACES', 'INNODB_TABLESPACES')",
                )
                .await?;
            let Some(table) = columns.first().map(|r| text(r, 0)) else {
                return Err(CollectError::Other(
                    "no INNODB_SYS_TABLESPACES or INNODB_TABLESPACES in information_schema".to_owned(),
                ));
            };
            let has = |c: &str| columns.iter().any(|r| text(r, 0) == table && text(r, 1) == c);
            let file_format = if has("FILE_FORMAT") { "'FILE_FORMAT'" } else { "'NONE'" };
            let space_type = if has("SPACE_TYPE") { "ifnull(SPACE_TYPE, 'NONE')" } else { "''" };
            let sql = format!(
                "SELECT SPACE, NAME, {file_format}, ifnull(ROW_FORMAT, 'NONE'), {space_type}, FILE_SIZE, ALLOCATED_SIZE \
                 FROM information_schema.`{table}`"
            );
            for row in cx.target.query(&sql).await? {
                let name = text(&row, 1);
                let (format, row_format, kind) = (text(&row, 2), text(&row, 3), text(&row, 4));
                out.add(&INFO, &[&name, &format, &row_format, &kind], number(&row, 0));
                out.add(&FILE_SIZE, &[&name], number(&row, 5));
                out.add(&ALLOCATED, &[&name], number(&row, 6));
            }
            Ok(())
        })
    }
}
