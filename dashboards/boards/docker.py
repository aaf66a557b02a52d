"""Vigie / Docker: containers (cAdvisor's names) and Docker's own state (vigie_docker_*)."""
from .common import Board, SEL, jobinst, thr


def board():
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
