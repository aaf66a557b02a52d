//! `information_schema.tables` → `mysql_info_schema_table_version`, `_table_rows`,
//! `_table_size{component}` per table of each schema (mysqld_exporter "info_schema.tables",
//! with `--collect.info_schema.tables.databases`).

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text};
use crate::target::Db;

const DATABASES: &str = "collect.info_schema.tables.databases";

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.tables",
    default_enabled: false,
    help: "Collect metrics from information_schema.tables",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new(DATABASES)
                .long(DATABASES)
                .value_name("LIST")
                .default_value("*")
                .help("Comma-separated schemas to read table metrics of, or * for all but the system ones."),
        )
    },
    build: |m| {
        let list = m.get_one::<String>(DATABASES).map_or("*", String::as_str);
        let databases = if list == "*" { None } else { Some(list.split(',').map(str::to_owned).collect()) };
        Ok(Box::new(Tables { databases }))
    },
};

const VERSION: Desc = Desc::gauge(
    "mysql_info_schema_table_version",
    "Table definition version, labelled with the table's engine and format.",
    &["schema", "table", "type", "engine", "row_format", "create_options"],
);
const ROWS: Desc = Desc::gauge("mysql_info_schema_table_rows", "Rows in the table (an estimate for InnoDB).", &["schema", "table"]);
const SIZE: Desc = Desc::gauge(
    "mysql_info_schema_table_size",
    "Table size in bytes, by component (data_length, index_length, data_free).",
    &["schema", "table", "component"],
);

/// Reads table statistics.
pub struct Tables {
    databases: Option<Vec<String>>,
}

/// Quotes a schema name as a SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

impl Collector<Db> for Tables {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let databases = match &self.databases {
                Some(list) => list.clone(),
                None => cx
                    .target
                    .query("SELECT SCHEMA_NAME FROM information_schema.schemata WHERE SCHEMA_NAME NOT IN ('mysql', 'performance_schema', 'information_schema')")
                    .await?
                    .iter()
                    .map(|r| text(r, 0))
                    .collect(),
            };
            for db in databases {
                let sql = format!(
                    "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ifnull(ENGINE, 'NONE'), ifnull(VERSION, '0'), \
                     ifnull(ROW_FORMAT, 'NONE'), ifnull(TABLE_ROWS, '0'), ifnull(DATA_LENGTH, '0'), ifnull(INDEX_LENGTH, '0'), \
                     ifnull(DATA_FREE, '0'), ifnull(CREATE_OPTIONS, 'NONE') FROM information_schema.tables WHERE TABLE_SCHEMA = {}",
                    quote(&db)
                );
                for row in cx.target.query(&sql).await? {
                    let (schema, table) = (text(&row, 0), text(&row, 1));
                    let (kind, engine, format, options) = (text(&row, 2), text(&row, 3), text(&row, 5), text(&row, 10));
                    out.add(&VERSION, &[&schema, &table, &kind, &engine, &format, &options], number(&row, 4));
                    out.add(&ROWS, &[&schema, &table], number(&row, 6));
                    out.add(&SIZE, &[&schema, &table, "data_length"], number(&row, 7));
                    out.add(&SIZE, &[&schema, &table, "index_length"], number(&row, 8));
                    out.add(&SIZE, &[&schema, &table, "data_free"], number(&row, 9));
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("a'b\\"), "'a''b\\\\'");
    }
}
