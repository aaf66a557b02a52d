"""Vigie / Incidents: vigie-router's incidents, time to acknowledge and resolve, delivery."""
from .common import Board, SEL, var_datasource, var_query


def board():
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
