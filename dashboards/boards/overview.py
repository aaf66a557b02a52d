"""Vigie / Overview: SLOs, error budgets, burn rates, firing alerts by escalation level, targets."""
from .common import SEL, Board, steps, thr, var_datasource, var_query


def board():
    v = [var_datasource(), var_query("job", "Job", "label_values(up, job)"),
         var_query("instance", "Instance", 'label_values(up{job=~"$job"}, instance)'),
         var_query("service", "Service", "label_values(slo:sli_error:ratio_rate5m, service)")]
    b = Board("vigie-overview", "Vigie / Overview", "SLOs, error budgets, burn rates, firing alerts by escalation level, and what is up or down.", v, ["overview", "slo"])
    S = 'service=~"$service"'
    b.row("SLOs (30 days)")
    b.stat("SLO attainment", [(f"1 - slo:sli_error:ratio_rate30d{{{S}}}", "{{service}} {{slo}}")], "percentunit", w=8, h=6, decimals=3)
    b.stat("Error budget left", [(f"slo:error_budget_remaining:ratio{{{S}}}", "{{service}} {{slo}}")], "percentunit", w=8, h=6,
           thresholds=steps((None, "red"), (0.25, "orange"), (0.5, "green")))
    b.stat("Burn rate (1 h)", [(f"slo:burn_rate:ratio_rate1h{{{S}}}", "{{service}} {{slo}}")], "suffix:×", w=8, h=6,
           thresholds=steps((None, "green"), (1, "orange"), (14.4, "red")))
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
