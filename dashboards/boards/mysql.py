"""Vigie / MySQL: MySQL and MariaDB with mysqld_exporter's names, from vigie-mysql-exporter."""
from .common import Board, SEL, jobinst, thr


def board():
    b = Board("vigie-mysql", "Vigie / MySQL", "MySQL/MariaDB (mysqld_exporter names) from vigie-mysql-exporter.",
              jobinst("mysql_up"), ["mysql"])
    b.stat("Up", [f"mysql_up{{{SEL}}}"], w=6)
    b.stat("Uptime", [f"mysql_global_status_uptime{{{SEL}}}"], "s", w=6)
    b.stat("Connections used", [f"mysql_global_status_threads_connected{{{SEL}}} / mysql_global_variables_max_connections{{{SEL}}}"], "percentunit", w=6)
    b.stat("Queries/s", [f"sum(rate(mysql_global_status_queries{{{SEL}}}[$__rate_interval]))"], "reqps", w=6)
    b.ts("Connections (alert at 80 % of max)", [(f"mysql_global_status_threads_connected{{{SEL}}}", "{{instance}} connected"), (f"mysql_global_status_threads_running{{{SEL}}}", "{{instance}} running"), (f"mysql_global_variables_max_connections{{{SEL}}}", "{{instance}} max")], w=12)
    b.ts("Commands", [(f'topk(8, rate(mysql_global_status_commands_total{{{SEL}}}[$__rate_interval]))', "{{instance}} {{command}}")], "ops", w=12)
    b.ts("Slow queries (5 min)", [(f"increase(mysql_global_status_slow_queries{{{SEL}}}[5m])", "{{instance}}"), thr("mysql_slow_queries_5m")])
    b.ts("InnoDB buffer pool hit ratio", [(f"1 - rate(mysql_global_status_innodb_buffer_pool_reads{{{SEL}}}[$__rate_interval]) / rate(mysql_global_status_innodb_buffer_pool_read_requests{{{SEL}}}[$__rate_interval])", "{{instance}}")], "percentunit")
    b.ts("Network", [(f"rate(mysql_global_status_bytes_received{{{SEL}}}[$__rate_interval])", "{{instance}} in"), (f"rate(mysql_global_status_bytes_sent{{{SEL}}}[$__rate_interval])", "{{instance}} out")], "Bps")
    b.ts("Replication lag (replicas only)", [(f"mysql_slave_status_seconds_behind_master{{{SEL}}}", "{{instance}} from {{master_host}}"), thr("mysql_replication_lag_seconds")], "s", w=12)
    b.ts("Failing scrapers", [(f"sum by (instance) (1 - mysql_exporter_collector_success{{{SEL}}})", "{{instance}}")], w=12,
         desc="Scrapers that failed in the last scrape (0 when all succeed); which ones: mysql_exporter_collector_success == 0.")
    return b
