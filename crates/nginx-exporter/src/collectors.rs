//! The collector list, in `--help` order; each is `--[no-]collector.<name>` and reports
//! `vigie_nginx_scrape_collector_*{collector="<name>"}`.

use crate::target::Scope;

vigie_kit::collectors! { Scope;
    stub_status: on,
    access_log: on,
}
