"""Vigie / MongoDB: Percona mongodb_exporter's names (its default mode)."""
from .common import Board, SEL, jobinst


def board():
    b = Board("vigie-mongodb", "Vigie / MongoDB", "MongoDB (Percona mongodb_exporter names, default mode).",
              jobinst("mongodb_up"), ["mongodb"])
    b.stat("Up", [f"mongodb_up{{{SEL}}}"], w=8)
    b.stat("Connections used", [f'mongodb_ss_connections{{{SEL}, conn_type="current"}} / ignoring (conn_type) (mongodb_ss_connections{{{SEL}, conn_type="current"}} + ignoring (conn_type) mongodb_ss_connections{{{SEL}, conn_type="available"}})'], "percentunit", w=8)
    b.stat("Uptime", [f"mongodb_ss_uptime{{{SEL}}}"], "s", w=8)
    b.ts("Operations", [(f"rate(mongodb_ss_opcounters{{{SEL}}}[$__rate_interval])", "{{instance}} {{legacy_op_type}}")], "ops", w=12)
    b.ts("Connections", [(f"mongodb_ss_connections{{{SEL}}}", "{{instance}} {{conn_type}}")], w=12)
    b.ts("Replica set member health", [(f"mongodb_rs_members_health{{{SEL}}}", "{{instance}} {{member_idx}}")])
    b.ts("Resident memory", [(f'mongodb_ss_mem_resident{{{SEL}}}', "{{instance}} MiB")], "decmbytes")
    b.ts("Cursors timed out", [(f"rate(mongodb_ss_metrics_cursor_timedOut{{{SEL}}}[$__rate_interval])", "{{instance}}")])
    return b
