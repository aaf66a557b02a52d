//! The netlink variant of the netclass collector: the sysfs families from one rtnetlink link
//! dump, on the live `/sys`.

use vigie_kit::{CollectError, CollectResult, MetricSet, Scrape};

use super::{DeviceDir, Netclass, IFF_UP, INFO, NUMERIC, UP};

/// sysfs `operstate` words, by IF_OPER_* value.
const OPERSTATES: [&str; 7] = ["unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"];

/// A hardware address as sysfs prints it: lowercase hex bytes joined by `:`.
fn mac(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl Netclass {
    /// The same families from one rtnetlink link dump plus the few attributes netlink lacks
    /// (`flags`, and `dormant`, `duplex`, `speed` of open devices) and cached creation-time
    /// ones. Used when sysfs is the running kernel's own (`--path.sysfs=/sys`), so both
    /// describe the same network namespace; each netlink value is the one the kernel's
    /// sysfs attribute prints (net/core/net-sysfs.c, rtnl_fill_ifinfo).
    pub(super) fn collect_netlink(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        use crate::collectors::netdev::netlink;
        let raw = netlink::dump_links().map_err(|e| CollectError::Other(format!("rtnetlink link dump: {e}")))?;
        let mut links = netlink::parse_links(&raw).map_err(|e| CollectError::parse("rtnetlink RTM_GETLINK", e))?;
        links.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let class = cx.paths.sys("class/net");
        for link in links.iter().filter(|l| !self.ignored.is_match(&l.name)) {
            let name = link.name.as_str();
            let mut dir = match DeviceDir::open(class.join(name)) {
                Ok(d) => d,
                // Removed since the dump.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            let flags = dir.int("flags")?;
            let running = flags.is_some_and(|f| f & IFF_UP != 0);
            let operstate = OPERSTATES.get(usize::from(link.operstate.unwrap_or(0))).copied().unwrap_or("unknown");
            let address = link.address.as_deref().map(mac).unwrap_or_default();
            let broadcast = link.broadcast.as_deref().map(mac).unwrap_or_default();
            let duplex = if running { dir.text("duplex")?.unwrap_or_default().to_owned() } else { String::new() };
            let ifalias = link.ifalias.as_deref().unwrap_or_default();
            out.add(&UP, &[name], if operstate == "up" { 1.0 } else { 0.0 });
            out.add(&INFO, &[name, &address, &broadcast, &duplex, operstate, ifalias], 1.0);
            let index = Some(i64::from(link.index));
            let fixed = {
                let mut cache = self.fixed.lock().unwrap_or_else(|e| e.into_inner());
                match cache.get(name) {
                    Some((i, fixed)) if *i == index => *fixed,
                    _ => {
                        let fixed = (dir.int("dev_id")?, dir.int("name_assign_type")?);
                        cache.insert(name.to_owned(), (index, fixed));
                        fixed
                    }
                }
            };
            // addr_assign_type changes only with the address (NET_ADDR_SET once it is set).
            let addr_assign = {
                let mut cache = self.addr_assign.lock().unwrap_or_else(|e| e.into_inner());
                match cache.get(name) {
                    Some((i, a, t)) if *i == index && *a == address => *t,
                    _ => {
                        let t = dir.int("addr_assign_type")?;
                        cache.insert(name.to_owned(), (index, address.clone(), t));
                        t
                    }
                }
            };
            for (attr, desc) in &NUMERIC {
                let value = match *attr {
                    "addr_assign_type" => addr_assign,
                    "carrier" => link.carrier.filter(|_| running).map(i64::from),
                    "carrier_changes" => link.carrier_changes.map(i64::from),
                    "carrier_up_count" => link.carrier_up.map(i64::from),
                    "carrier_down_count" => link.carrier_down.map(i64::from),
                    "dev_id" => fixed.0,
                    "dormant" if running => dir.int("dormant")?,
                    "dormant" => None,
                    "flags" => flags,
                    "ifindex" => index,
                    "iflink" => Some(i64::from(link.link.unwrap_or(link.index))),
                    "link_mode" => link.linkmode.map(i64::from),
                    "mtu" => link.mtu.map(i64::from),
                    "name_assign_type" => fixed.1,
                    "netdev_group" => link.group.map(i64::from),
                    "tx_queue_len" => link.txqlen.map(i64::from),
                    "type" => Some(i64::from(link.kind)),
                    _ => dir.int(attr)?,
                };
                if let Some(v) = value {
                    out.add(desc, &[name], v as f64);
                }
            }
            if running {
                self.speed(name, &mut dir, out)?;
            }
        }
        Ok(())
    }
}

