//! The collector list: one line per collector, in `--help` order; `on` or `off` is its
//! default, as in node_exporter 1.5.

vigie_kit::collectors! { ();
    loadavg: on,
}
