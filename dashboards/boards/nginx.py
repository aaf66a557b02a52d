"""Vigie / nginx: stub_status with nginx-prometheus-exporter's names, and the access logs with
prometheus-nginxlog-exporter's names (namespace `nginx`, one `service` label per log file),
both from vigie-nginx-exporter.

Access-log families: nginx_http_response_count_total{method, status} (status is the code),
nginx_http_response_size_bytes (a counter of $body_bytes_sent), and the histograms
nginx_http_response_time_seconds_hist ($request_time; buckets include 0.2 for the latency
SLO) and nginx_http_upstream_time_seconds_hist ($upstream_response_time).
"""
from .common import SEL, Board, jobinst, thr, var_query

R = "$__rate_interval"
LOG = f'{SEL}, service=~"$service"'
COUNT = "nginx_http_response_count_total"
TIME = "nginx_http_response_time_seconds_hist"
UPSTREAM = "nginx_http_upstream_time_seconds_hist"


def rate(metric, sel=LOG, by=""):
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{{{sel}}}[{R}]))"


def ratio_5xx(by=""):
    """5xx responses over all; 0 (not "no data") for a service without any 5xx."""
    bad, total = rate(COUNT, f'{LOG}, status=~"5.."', by), rate(COUNT, LOG, by)
    return f"({bad} or 0 * {total}) / {total}"


def within(le, by=""):
    """Share of requests answered within `le` seconds (a bucket of the histogram)."""
    good = rate(f"{TIME}_bucket", f'{LOG}, le="{le}"', by)
    return f"{good} / {rate(f'{TIME}_count', LOG, by)}"


def quantile(q, metric, by="service"):
    return f"histogram_quantile({q}, {rate(f'{metric}_bucket', LOG, f'{by}, le')})"


def board():
    v = jobinst("nginx_up") + [var_query(
        "service", "Service", f'label_values({COUNT}{{job=~"$job", instance=~"$instance"}}, service)')]
    b = Board("vigie-nginx", "Vigie / nginx",
              "nginx: connections and requests (stub_status, nginx-prometheus-exporter names) and "
              "per-service traffic, errors and latency from the access logs (prometheus-nginxlog-exporter names).",
              v, ["nginx"])
    b.row("Server (stub_status)")
    b.stat("Up", [f"nginx_up{{{SEL}}}"])
    b.stat("Active connections", [f"sum(nginx_connections_active{{{SEL}}})"])
    b.stat("Requests/s (stub_status)", [rate("nginx_http_requests_total", SEL)], "reqps")
    b.stat("Dropped connections/s", [f"{rate('nginx_connections_accepted', SEL)} - {rate('nginx_connections_handled', SEL)}"], "cps",
           desc="Accepted minus handled: connections nginx closed at once, out of worker_connections or another resource limit.")
    b.ts("Connections by state", [(f"nginx_connections_{s}{{{SEL}}}", f"{{{{instance}}}} {s}")
                                  for s in ("active", "reading", "writing", "waiting")], w=12)
    b.ts("Connections accepted and handled", [(rate("nginx_connections_accepted", SEL, "instance"), "{{instance}} accepted"),
                                              (rate("nginx_connections_handled", SEL, "instance"), "{{instance}} handled")], "cps", w=12)
    b.ts("Requests/s (unusual above 1000)", [(rate("nginx_http_requests_total", SEL, "instance"), "{{instance}}"),
                                             thr("api_requests_per_second")], "reqps", w=12)
    b.ts("Requests per connection", [(f"{rate('nginx_http_requests_total', SEL, 'instance')} / {rate('nginx_connections_handled', SEL, 'instance')}",
                                      "{{instance}}")], w=12, desc="Keep-alive at work: 1 means a new connection for every request.")
    b.row("Access logs, by service")
    b.stat("Logged requests/s", [rate(COUNT)], "reqps")
    b.stat("5xx ratio", [ratio_5xx()], "percentunit")
    b.stat("Within 0.2 s", [within("0.2")], "percentunit")
    b.stat("Sent", [rate("nginx_http_response_size_bytes")], "Bps")
    b.ts("Requests/s by service (unusual above 1000)", [(rate(COUNT, by="service"), "{{service}}"),
                                                        thr("api_requests_per_second")], "reqps", w=12)
    b.ts("Requests/s by status", [(rate(COUNT, by="service, status"), "{{service}} {{status}}")], "reqps", w=12)
    b.ts("5xx ratio by service (SLO: under 0.1 %)", [(ratio_5xx("service"), "{{service}}"),
                                          ('1 - vigie:slo:objective{slo="errors"}', "objective")], "percentunit", w=12)
    b.ts("Requests within 0.2 s by service (SLO: 99 %)", [(within("0.2", "service"), "{{service}}"),
                                               ('vigie:slo:objective{slo="latency"}', "objective")], "percentunit", w=12)
    b.ts("Response time (nginx request_time)", [(quantile(q, TIME), f"{{{{service}}}} p{round(q * 100)}") for q in (0.5, 0.95, 0.99)]
         + [thr("slo_latency_seconds")], "s", w=12)
    b.ts("Upstream response time", [(quantile(q, UPSTREAM), f"{{{{service}}}} p{round(q * 100)}") for q in (0.5, 0.95)],
         "s", w=12, desc="Time the upstream (the app behind nginx) took; requests nginx answered itself have none.")
    b.ts("Requests/s by method", [(rate(COUNT, by="service, method"), "{{service}} {{method}}")], "reqps")
    b.ts("Bytes sent", [(rate("nginx_http_response_size_bytes", by="service"), "{{service}}")], "Bps")
    b.ts("Unparsed log lines", [(rate("nginx_parse_errors_total", SEL, "instance, service"), "{{instance}} {{service}}")],
         desc="Access-log lines the exporter could not parse (nginx_parse_errors_total): a log_format it does not know?")
    return b
