"""Vigie / PM2: PM2 apps (pm2-metrics names and vigie_pm2_*), from vigie-pm2-exporter."""
from .common import Board, SEL, jobinst, thr


def board():
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
