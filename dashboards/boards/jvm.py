"""Vigie / JVM and Tomcat: client_java's JVM names and jmx_exporter's Tomcat example names."""
from .common import Board, SEL, jobinst, thr


def board():
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
