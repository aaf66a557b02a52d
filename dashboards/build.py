#!/usr/bin/env python3
"""Writes the Grafana dashboards (dashboards/*.json) from the compact definitions below.

Edit here, run `dashboards/build.py`, commit both; `tests/stack` fails when a JSON file is
not what this script writes. Every dashboard has the template variables `datasource`
(Prometheus), `job` and `instance` (the overview adds `service`, the incidents board uses
job/instance of the router), so one Grafana serves several sites.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", instance=~"$instance"'


def var_datasource():
    return {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []}


def var_query(name, label, query, multi=True, include_all=True):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "multi": multi, "includeAll": include_all,
            "allValue": ".*", "current": {}, "options": [], "hide": 0, "sort": 1, "regex": ""}


def jobinst(metric):
    return [var_datasource(),
            var_query("job", "Job", f"label_values({metric}, job)"),
            var_query("instance", "Instance", f'label_values({metric}{{job=~"$job"}}, instance)')]


class Board:
    def __init__(self, uid, title, desc, variables, tags):
        self.uid, self.title, self.desc, self.vars, self.tags = uid, title, desc, variables, tags
        self.panels, self.y, self.x, self.row_h = [], 0, 0, 0

    def _place(self, w, h):
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title):
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        self.panels.append({"type": "row", "title": title, "collapsed": False, "panels": [],
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}})
        self.y += 1

    def panel(self, kind, title, targets, unit="short", w=8, h=8, desc="", **opts):
        targets = [t if isinstance(t, tuple) else (t, "") for t in targets]
        p = {"type": kind, "title": title, "description": desc, "datasource": DS,
             "gridPos": self._place(w, h),
             "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "legendFormat": lf,
                          **({"instant": True, "format": "table"} if kind == "table" else {})}
                         for i, (e, lf) in enumerate(targets)],
             "fieldConfig": {"defaults": {"unit": unit, **opts.pop("defaults", {})}, "overrides": []},
             "options": opts.pop("options", {})}
        p.update(opts)
        self.panels.append(p)

    def ts(self, title, targets, unit="short", **kw):
        self.panel("timeseries", title, targets, unit, **kw)

    def stat(self, title, targets, unit="short", w=6, h=5, **kw):
        self.panel("stat", title, targets, unit, w=w, h=h, **kw)

    def table(self, title, targets, w=24, h=8, **kw):
        self.panel("table", title, targets, "short", w=w, h=h, **kw)

    def json(self):
        for i, p in enumerate(self.panels):
            p["id"] = i + 1
        return {"uid": self.uid, "title": self.title, "description": self.desc, "tags": ["vigie"] + self.tags,
                "editable": True, "schemaVersion": 38, "version": 1, "timezone": "browser",
                "time": {"from": "now-6h", "to": "now"}, "refresh": "1m", "graphTooltip": 1,
                "templating": {"list": self.vars}, "annotations": {"list": []}, "links": [
                    {"title": "Vigie", "type": "dashboards", "tags": ["vigie"], "asDropdown": True}],
                "panels": self.panels}


def thr(name):
    """The alert threshold as a flat line (vigie:threshold:* from alerting-rules/thresholds.yml)."""
    return (f"vigie:threshold:{name}", "threshold")


def host():
    b = Board("vigie-host", "Vigie / Host", "Host metrics (node_exporter names) from vigie-host-exporter.",
              jobinst("node_uname_info"), ["host"])
    b.row("Saturation")
    b.stat("Up", [f"up{{{SEL}}}"], w=4)
    b.stat("CPU busy", [f"instance:node_cpu_utilisation:rate5m{{{SEL}}}"], "percentunit", w=5)
    b.stat("Memory used", [f"instance:node_memory_utilisation:ratio{{{SEL}}}"], "percentunit", w=5)
    b.stat("Fullest file system", [f"max by (instance) (mountpoint:node_filesystem_utilisation:ratio{{{SEL}}})"], "percentunit", w=5)
    b.stat("Uptime", [f"time() - node_boot_time_seconds{{{SEL}}}"], "s", w=5)
    b.ts("CPU busy (alert at 80 %, peak 90 %, daily average 70 %)",
         [(f"instance:node_cpu_utilisation:rate5m{{{SEL}}}", "{{instance}}"), thr("host_cpu_ratio"),
          thr("host_cpu_peak_ratio"), thr("host_cpu_average_ratio")], "percentunit", w=12)
    b.ts("CPU by mode", [(f'sum by (instance, mode) (rate(node_cpu_seconds_total{{{SEL}, mode!="idle"}}[$__rate_interval]))', "{{instance}} {{mode}}")], "short", w=12)
    b.ts("Memory used (alert at 85 %)", [(f"instance:node_memory_utilisation:ratio{{{SEL}}}", "{{instance}}"), thr("host_memory_ratio")], "percentunit")
    b.ts("Swap used (alert at 50 %)", [(f"instance:node_swap_utilisation:ratio{{{SEL}}}", "{{instance}}"), thr("host_swap_ratio")], "percentunit")
    b.ts("Load average", [(f"node_load1{{{SEL}}}", "{{instance}} 1m"), (f"node_load15{{{SEL}}}", "{{instance}} 15m")])
    b.row("Disks and network")
    b.ts("File systems used (alert at 85 %)", [(f"mountpoint:node_filesystem_utilisation:ratio{{{SEL}}}", "{{instance}} {{mountpoint}}"), thr("host_disk_ratio")], "percentunit")
    b.ts("Disk IOPS (alert at 1000)", [(f"device:node_disk_iops:rate5m{{{SEL}}}", "{{instance}} {{device}}"), thr("host_disk_iops")], "iops")
    b.ts("Disk busy time", [(f"rate(node_disk_io_time_seconds_total{{{SEL}}}[$__rate_interval])", "{{instance}} {{device}}")], "percentunit")
    b.ts("Network received", [(f'rate(node_network_receive_bytes_total{{{SEL}, device!="lo"}}[$__rate_interval])', "{{instance}} {{device}}")], "Bps", w=12)
    b.ts("Network sent", [(f'rate(node_network_transmit_bytes_total{{{SEL}, device!="lo"}}[$__rate_interval])', "{{instance}} {{device}}")], "Bps", w=12)
    b.ts("Failing collectors", [(f"sum by (instance) (1 - node_scrape_collector_success{{{SEL}}})", "{{instance}}")], w=12,
         desc="Collectors that failed in the last scrape (0 when all succeed); which ones: node_scrape_collector_success == 0.")
    b.ts("OOM kills", [(f"increase(node_vmstat_oom_kill{{{SEL}}}[$__rate_interval])", "{{instance}}")], w=12)
    return b


def docker():
    b = Board("vigie-docker", "Vigie / Docker", "Containers (cAdvisor names) and Docker state (vigie_docker_*).",
              jobinst("vigie_docker_up"), ["docker"])
    b.stat("Engine reachable", [f"vigie_docker_up{{{SEL}}}"], w=6)
    b.stat("Running containers", [f'sum(vigie_docker_container_state{{{SEL}, state="running"}})'], w=6)
    b.stat("Stopped containers", [f'sum(vigie_docker_container_state{{{SEL}, state="exited"}})'], w=6)
    b.stat("Unhealthy", [f'sum(vigie_docker_container_health_status{{{SEL}, status="unhealthy"}}) or vector(0)'], w=6)
    b.ts("CPU by container", [(f'sum by (name) (rate(container_cpu_usage_seconds_total{{{SEL}, name!=""}}[$__rate_interval]))', "{{name}}")], "short", w=12)
    b.ts("Memory working set by container", [(f'container_memory_working_set_bytes{{{SEL}, name!=""}}', "{{name}}")], "bytes", w=12)
    b.ts("Memory used of limit (alert at 80 %)", [(f'max by (name) (container_memory_working_set_bytes{{{SEL}, name!=""}}) / on (name) max by (name) (container_spec_memory_limit_bytes{{{SEL}, name!=""}} > 0)', "{{name}}"), thr("container_memory_ratio")], "percentunit")
    b.ts("CPU throttled", [(f'rate(container_cpu_cfs_throttled_seconds_total{{{SEL}, name!=""}}[$__rate_interval])', "{{name}}")], "s")
    b.ts("Restarts (15 min)", [(f"increase(vigie_docker_container_restarts_total{{{SEL}}}[15m])", "{{name}}"), thr("container_restarts_15m")])
    b.ts("Network received", [(f'sum by (name) (rate(container_network_receive_bytes_total{{{SEL}, name!=""}}[$__rate_interval]))', "{{name}}")], "Bps", w=12)
    b.ts("Disk writes", [(f'sum by (name) (rate(container_fs_writes_bytes_total{{{SEL}, name!=""}}[$__rate_interval]))', "{{name}}")], "Bps", w=12)
    b.table("Containers", [f"vigie_docker_container_info{{{SEL}}}", f'vigie_docker_container_state{{{SEL}}} == 1'])
    return b


def mysql():
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


def mongodb():
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


def jvm():
    b = Board("vigie-jvm", "Vigie / JVM and Tomcat", "JVM (client_java names) and Tomcat (jmx_exporter example names) from vigie-jvm-exporter.",
              jobinst("jvm_up"), ["jvm", "tomcat"])
    b.stat("Up", [f"jvm_up{{{SEL}}}"], w=6)
    b.stat("Heap used", [f'jvm_memory_bytes_used{{{SEL}, area="heap"}} / jvm_memory_bytes_max{{{SEL}, area="heap"}}'], "percentunit", w=6)
    b.stat("Threads", [f"jvm_threads_current{{{SEL}}}"], w=6)
    b.stat("Requests/s", [f"sum(rate(tomcat_requestcount_total{{{SEL}}}[$__rate_interval]))"], "reqps", w=6)
    b.ts("Heap used of max (alert at 80 %)", [(f'jvm_memory_bytes_used{{{SEL}, area="heap"}} / jvm_memory_bytes_max{{{SEL}, area="heap"}}', "{{instance}}"), thr("jvm_heap_ratio")], "percentunit", w=12)
    b.ts("Memory pools", [(f"jvm_memory_pool_bytes_used{{{SEL}}}", "{{instance}} {{pool}}")], "bytes", w=12)
    b.ts("GC pause, average per collection (alert at 1 s)", [(f"increase(jvm_gc_collection_seconds_sum{{{SEL}}}[5m]) / increase(jvm_gc_collection_seconds_count{{{SEL}}}[5m])", "{{instance}} {{gc}}"), thr("jvm_gc_pause_seconds")], "s")
    b.ts("GC time share", [(f"rate(jvm_gc_collection_seconds_sum{{{SEL}}}[$__rate_interval])", "{{instance}} {{gc}}")], "percentunit")
    b.ts("Threads (alert at 200)", [(f"jvm_threads_current{{{SEL}}}", "{{instance}}"), (f"jvm_threads_deadlocked{{{SEL}}}", "{{instance}} deadlocked"), thr("jvm_threads")])
    b.row("Tomcat")
    b.ts("Requests/s (unusual above 1000)", [(f"sum by (instance) (rate(tomcat_requestcount_total{{{SEL}}}[$__rate_interval]))", "{{instance}}"), thr("api_requests_per_second")], "reqps")
    b.ts("Error ratio (SLO < 0.1 %)", [(f"sum by (instance) (rate(tomcat_errorcount_total{{{SEL}}}[$__rate_interval])) / sum by (instance) (rate(tomcat_requestcount_total{{{SEL}}}[$__rate_interval]))", "{{instance}}")], "percentunit")
    b.ts("Average processing time", [(f"sum by (instance) (rate(tomcat_processingtime_total{{{SEL}}}[$__rate_interval])) / sum by (instance) (rate(tomcat_requestcount_total{{{SEL}}}[$__rate_interval])) / 1000", "{{instance}}")], "s")
    b.ts("Busy threads of max (alert at 90 %)", [(f"tomcat_threadpool_currentthreadsbusy{{{SEL}}} / tomcat_threadpool_maxthreads{{{SEL}}}", "{{instance}} {{protocol}}-{{port}}"), thr("tomcat_threadpool_busy_ratio")], "percentunit", w=12)
    b.ts("Sessions created", [(f"rate(tomcat_session_sessioncounter_total{{{SEL}}}[$__rate_interval])", "{{instance}} {{context}}")], "short", w=12)
    return b


def pm2():
    b = Board("vigie-pm2", "Vigie / PM2", "PM2 apps (pm2-metrics names and vigie_pm2_*) from vigie-pm2-exporter.",
              jobinst("pm2_daemon_up"), ["pm2"])
    b.stat("Daemon up", [f"pm2_daemon_up{{{SEL}}}"], w=6)
    b.stat("Apps online", [f'sum(vigie_pm2_process_status{{{SEL}, status="online"}})'], w=6)
    b.stat("Apps errored", [f'sum(vigie_pm2_process_status{{{SEL}, status="errored"}}) or vector(0)'], w=6)
    b.stat("Requests/s", [f"sum(vigie_pm2_http_requests_per_second{{{SEL}}}) or vector(0)"], "reqps", w=6)
    b.ts("CPU per process (alert at 80 % of a core)", [(f"rate(vigie_pm2_process_cpu_seconds_total{{{SEL}}}[$__rate_interval])", "{{name}} {{id}}"), thr("pm2_cpu_ratio")], "percentunit", w=12)
    b.ts("Resident memory", [(f"vigie_pm2_process_resident_memory_bytes{{{SEL}}}", "{{name}} {{id}}")], "bytes", w=12)
    b.ts("Restarts (15 min)", [(f"increase(vigie_pm2_process_restarts_total{{{SEL}}}[15m])", "{{name}} {{id}}"), thr("pm2_restarts_15m")])
    b.ts("HTTP p95 latency (target 200 ms)", [(f"vigie_pm2_http_p95_latency_seconds{{{SEL}}}", "{{name}} {{id}}"), thr("slo_latency_seconds")], "s")
    b.ts("HTTP requests/s", [(f"vigie_pm2_http_requests_per_second{{{SEL}}}", "{{name}} {{id}}")], "reqps")
    b.table("Processes", [f"vigie_pm2_process_status{{{SEL}}} == 1", f"pm2_uptime{{{SEL}}}"])
    return b


def overview():
    v = [var_datasource(), var_query("job", "Job", "label_values(up, job)"),
         var_query("instance", "Instance", 'label_values(up{job=~"$job"}, instance)'),
         var_query("service", "Service", "label_values(slo:sli_error:ratio_rate5m, service)")]
    b = Board("vigie-overview", "Vigie / Overview", "SLOs, error budgets, burn rates, firing alerts by escalation level, and what is up or down.", v, ["overview", "slo"])
    S = 'service=~"$service"'
    b.row("SLOs (30 days)")
    b.stat("SLO attainment", [(f"1 - slo:sli_error:ratio_rate30d{{{S}}}", "{{service}} {{slo}}")], "percentunit", w=8, h=6, defaults={"decimals": 3})
    b.stat("Error budget left", [(f"slo:error_budget_remaining:ratio{{{S}}}", "{{service}} {{slo}}")], "percentunit", w=8, h=6,
           defaults={"thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": None}, {"color": "orange", "value": 0.25}, {"color": "green", "value": 0.5}]}})
    b.stat("Burn rate (1 h)", [(f"slo:burn_rate:ratio_rate1h{{{S}}}", "{{service}} {{slo}}")], "suffix:×", w=8, h=6,
           defaults={"thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "orange", "value": 1}, {"color": "red", "value": 14.4}]}})
    b.ts("Burn rate by window (page at 14.4× over 1h, 6× over 6h)", [(f"slo:sli_error:ratio_rate{w}{{{S}}} / on (slo) group_left () (1 - vigie:slo:objective)", f"{{{{service}}}} {{{{slo}}}} {w}") for w in ("5m", "1h", "6h", "3d")], "suffix:×", w=12)
    b.ts("Error budget left", [(f"slo:error_budget_remaining:ratio{{{S}}}", "{{service}} {{slo}}")], "percentunit", w=12)
    b.ts("Probe latency (target 200 ms)", [(f'probe_duration_seconds{{job="blackbox", {S}}}', "{{instance}}"), thr("slo_latency_seconds")], "s", w=12)
    b.ts("Probe success", [(f'probe_success{{job="blackbox", {S}}}', "{{instance}}")], "short", w=12)
    b.row("Alerts and targets")
    b.stat("Firing alerts by level (1 support, 2 DevOps, 3 architect)", [('count by (level) (ALERTS{alertstate="firing"}) or label_replace(vector(0), "level", "none", "", "")', "level {{level}}")], w=12, h=6)
    b.table("Firing alerts", ['ALERTS{alertstate="firing"}'], w=12, h=6)
    b.stat("Targets up", [(f'sum by (job) (up{{{SEL}}})', "{{job}}")], w=12, h=6)
    b.table("Targets down", [f"up{{{SEL}}} == 0"], w=12, h=6)
    b.ts("Scrape duration", [(f"scrape_duration_seconds{{{SEL}}}", "{{job}} {{instance}}")], "s", w=24)
    return b


def incidents():
    v = [var_datasource(), var_query("job", "Job", "label_values(vigie_router_webhooks_total, job)"),
         var_query("instance", "Instance", 'label_values(vigie_router_webhooks_total{job=~"$job"}, instance)')]
    b = Board("vigie-incidents", "Vigie / Incidents", "vigie-router: open incidents by level, time to acknowledge and to resolve (target 4 h), delivery.", v, ["router", "incidents"])
    b.stat("Open incidents", [(f"sum by (level) (vigie_router_incidents_open{{{SEL}}})", "level {{level}}")], w=8, h=6)
    b.stat("Resolved within 4 h (30 days)", [f'sum(increase(vigie_router_incident_resolve_seconds_bucket{{{SEL}, le="14400"}}[30d])) / sum(increase(vigie_router_incident_resolve_seconds_count{{{SEL}}}[30d]))'], "percentunit", w=8, h=6)
    b.stat("Time to acknowledge, median (7 days)", [f"histogram_quantile(0.5, sum by (le) (increase(vigie_router_incident_acknowledge_seconds_bucket{{{SEL}}}[7d])))"], "s", w=8, h=6)
    b.ts("Open incidents by level", [(f"sum by (level) (vigie_router_incidents_open{{{SEL}}})", "level {{level}}")], w=12)
    b.ts("Time to resolve (p50, p90) vs 4 h target", [
        (f"histogram_quantile(0.5, sum by (le) (rate(vigie_router_incident_resolve_seconds_bucket{{{SEL}}}[1d])))", "p50"),
        (f"histogram_quantile(0.9, sum by (le) (rate(vigie_router_incident_resolve_seconds_bucket{{{SEL}}}[1d])))", "p90"),
        ("vector(14400)", "target 4 h")], "s", w=12)
    b.ts("Time to acknowledge (p50, p90)", [
        (f"histogram_quantile(0.5, sum by (le) (rate(vigie_router_incident_acknowledge_seconds_bucket{{{SEL}}}[1d])))", "p50"),
        (f"histogram_quantile(0.9, sum by (le) (rate(vigie_router_incident_acknowledge_seconds_bucket{{{SEL}}}[1d])))", "p90")], "s", w=12)
    b.ts("Escalations by level", [(f"sum by (level) (increase(vigie_router_escalations_total{{{SEL}}}[$__rate_interval]))", "level {{level}}")], w=12)
    b.ts("Webhooks by status", [(f"sum by (code) (rate(vigie_router_webhooks_total{{{SEL}}}[$__rate_interval]))", "{{code}}")], "reqps")
    b.ts("Alerts received", [(f"rate(vigie_router_alerts_received_total{{{SEL}}}[$__rate_interval])", "alerts"), (f"rate(vigie_router_webhooks_duplicate_total{{{SEL}}}[$__rate_interval])", "duplicate webhooks")], "reqps")
    b.ts("Ingest commit time p99", [(f"histogram_quantile(0.99, sum by (le) (rate(vigie_router_ingest_commit_seconds_bucket{{{SEL}}}[$__rate_interval])))", "p99")], "s")
    b.ts("Notifications", [(f"sum by (channel) (rate(vigie_router_notifications_sent_total{{{SEL}}}[$__rate_interval]))", "sent {{channel}}"),
                           (f"sum by (channel, reason) (rate(vigie_router_notifications_failed_total{{{SEL}}}[$__rate_interval]))", "failed {{channel}} {{reason}}")], "ops", w=12)
    b.ts("Alertmanager → router failures", [('sum by (integration) (rate(alertmanager_notifications_failed_total[$__rate_interval]))', "{{integration}}")], "ops", w=12)
    return b


BOARDS = [host, docker, mysql, mongodb, jvm, pm2, overview, incidents]


def render():
    out = {}
    for f in BOARDS:
        b = f()
        out[f"{b.uid.removeprefix('vigie-')}.json"] = json.dumps(b.json(), indent=2, ensure_ascii=False) + "\n"
    return out


if __name__ == "__main__":
    check = "--check" in sys.argv
    stale = []
    for name, text in render().items():
        path = os.path.join(HERE, name)
        if check:
            if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
                stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
    if stale:
        sys.exit(f"dashboards/build.py --check: {', '.join(stale)} differ from build.py; run dashboards/build.py")
