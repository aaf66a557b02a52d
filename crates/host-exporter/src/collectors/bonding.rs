//! `/sys/class/net/bonding_masters` and each bond's slaves' `mii_status` →
//! `node_bonding_slaves{master}`, `node_bonding_active{master}` (node_exporter "bonding" names).

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "bonding",
    default_enabled: true,
    help: "Exposes the number of configured and active slaves of Linux bonding interfaces.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Bonding)),
};

const MASTER: &[&str] = &["master"];
const SLAVES: Desc = Desc::gauge("node_bonding_slaves", "Slaves configured in the bond.", MASTER);
const ACTIVE: Desc = Desc::gauge("node_bonding_active", "Slaves of the bond whose MII status is up.", MASTER);

/// Reads the bonding driver's sysfs files.
pub struct Bonding;

fn not_found_is_no_data(e: CollectError) -> CollectError {
    if e.is_not_found() {
        CollectError::NoData(format!("no bonding: {e}"))
    } else {
        e
    }
}

impl SyncCollector for Bonding {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let net = cx.paths.sys("class/net");
        // As node_exporter: any missing file (the driver not loaded, a slave gone
        // mid-scrape) is "no data".
        let masters = cx.read_optional(net.join("bonding_masters")).map_err(not_found_is_no_data)?;
        for master in masters.split_ascii_whitespace() {
            let slaves = cx.read(net.join(master).join("bonding/slaves")).map_err(not_found_is_no_data)?;
            let (mut configured, mut active) = (0u32, 0u32);
            for slave in slaves.split_ascii_whitespace() {
                let lower = net.join(master).join(format!("lower_{slave}")).join("bonding_slave/mii_status");
                let state = match cx.read(&lower) {
                    // Older kernels name the link slave_<name>.
                    Err(e) if e.is_not_found() => {
                        let old = net.join(master).join(format!("slave_{slave}")).join("bonding_slave/mii_status");
                        cx.read(old).map_err(not_found_is_no_data)?
                    }
                    other => other?,
                };
                configured += 1;
                if state.trim() == "up" {
                    active += 1;
                }
            }
            out.add(&SLAVES, &[master], configured.into());
            out.add(&ACTIVE, &[master], active.into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constructed() -> vigie_kit::Paths {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/constructed/bonding");
        vigie_kit::Paths { sysfs: base.join("sys"), ..crate::collectors::fixtures() }
    }

    #[test]
    fn constructed_tree() {
        let (set, r) = vigie_kit::scheduler::collect_once(&Bonding, constructed());
        r.unwrap();
        let text = set.encode();
        for line in [
            "node_bonding_slaves{master=\"bond0\"} 2\n",
            "node_bonding_active{master=\"bond0\"} 1\n",
            "node_bonding_slaves{master=\"bond1\"} 1\n",
            "node_bonding_active{master=\"bond1\"} 1\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn this_host_has_no_bonding() {
        let r = crate::collectors::fixture_text(&Bonding);
        assert!(matches!(r, Err(CollectError::NoData(_))), "{r:?}");
    }
}
