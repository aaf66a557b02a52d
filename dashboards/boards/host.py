"""Vigie / Host: host metrics with node_exporter's names, from vigie-host-exporter."""
from .common import Board, SEL, jobinst, thr


def board():
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
