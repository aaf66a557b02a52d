//! The netlink variant of the netclass collector: the sysfs families from the scrape's
//! rtnetlink link dump (shared with netdev), on the live `/sys`.

use vigie_kit::{CollectError, CollectResult, MetricSet, Scrape};

use super::{DeviceDir, Netclass, IFF_UP, INFO, NUMERIC, UP};

/// sysfs `operstate` words, by IF_OPER_* value.
const OPERSTATES: [&str; 7] = ["unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"];

/// A hardware address as sysfs prints it: lowercase hex bytes joined by `:`.
fn mac(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// A device's sysfs directory, opened at its first use: most scrapes of a closed device
/// need nothing from sysfs.
struct LazyDir {
    path: std::path::PathBuf,
    dir: Option<DeviceDir>,
}

impl LazyDir {
    fn get(&mut self) -> Result<&mut DeviceDir, CollectError> {
        let dir = match self.dir.take() {
            Some(dir) => dir,
            None => DeviceDir::open(self.path.clone())?,
        };
        Ok(self.dir.insert(dir))
    }

    fn text(&mut self, attr: &str) -> Result<String, CollectError> {
        Ok(self.get()?.text(attr)?.unwrap_or_default().to_owned())
    }

    fn int(&mut self, attr: &str) -> Result<Option<i64>, CollectError> {
        self.get()?.int(attr)
    }
}

/// What sysfs alone gives about one device.
struct FromSysfs {
    flags: Option<i64>,
    duplex: String,
    speed: Option<i64>,
    fixed: super::Fixed,
    addr_assign: Option<i64>,
}

impl Netclass {
    /// The same families from the link dump plus what netlink lacks: `duplex` and `speed`
    /// of open devices, and `flags` where the dump cannot rebuild them, from sysfs; the
    /// creation-time attributes, read once per device. Used when sysfs is the running
    /// kernel's own (`--path.sysfs=/sys`), so both describe the same network namespace; each
    /// netlink value is the one the kernel's sysfs attribute prints (net/core/net-sysfs.c,
    /// rtnl_fill_ifinfo).
    pub(super) fn collect_netlink(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let dump = crate::collectors::netdev::link_dump(cx)?;
        let mut links: Vec<_> = dump.iter().filter(|l| !self.ignored.is_match(&l.name)).collect();
        links.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let class = cx.paths.sys("class/net");
        for link in links {
            let name = link.name.as_str();
            let address = link.address.as_deref().map(mac).unwrap_or_default();
            let index = Some(i64::from(link.index));
            let mut dir = LazyDir { path: class.join(name), dir: None };
            let sysfs = match self.read_sysfs(link, name, index, &address, &mut dir) {
                Ok(sysfs) => sysfs,
                // Removed since the dump.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            let running = sysfs.flags.is_some_and(|f| f & IFF_UP != 0);
            let operstate = OPERSTATES.get(usize::from(link.operstate.unwrap_or(0))).copied().unwrap_or("unknown");
            let broadcast = link.broadcast.as_deref().map(mac).unwrap_or_default();
            let ifalias = link.ifalias.as_deref().unwrap_or_default();
            out.add(&UP, &[name], if operstate == "up" { 1.0 } else { 0.0 });
            out.add(&INFO, &[name, &address, &broadcast, &sysfs.duplex, operstate, ifalias], 1.0);
            for (attr, desc) in &NUMERIC {
                let value = match *attr {
                    "addr_assign_type" => sysfs.addr_assign,
                    "carrier" => link.carrier.filter(|_| running).map(i64::from),
                    "carrier_changes" => link.carrier_changes.map(i64::from),
                    "carrier_up_count" => link.carrier_up.map(i64::from),
                    "carrier_down_count" => link.carrier_down.map(i64::from),
                    "dev_id" => sysfs.fixed.0,
                    "dormant" => link.dormant().filter(|_| running).map(i64::from),
                    "flags" => sysfs.flags,
                    "ifindex" => index,
                    "iflink" => Some(i64::from(link.link.unwrap_or(link.index))),
                    "link_mode" => link.linkmode.map(i64::from),
                    "mtu" => link.mtu.map(i64::from),
                    "name_assign_type" => sysfs.fixed.1,
                    "netdev_group" => link.group.map(i64::from),
                    "tx_queue_len" => link.txqlen.map(i64::from),
                    "type" => Some(i64::from(link.kind)),
                    _ => None,
                };
                if let Some(v) = value {
                    out.add(desc, &[name], v as f64);
                }
            }
            if running {
                self.speed(name, sysfs.speed, out);
            }
        }
        Ok(())
    }

    /// Everything of one device that comes from sysfs, read before anything is written, so
    /// that a device removed meanwhile is left out whole.
    fn read_sysfs(
        &self,
        link: &crate::collectors::netdev::netlink::Link,
        name: &str,
        index: Option<i64>,
        address: &str,
        dir: &mut LazyDir,
    ) -> Result<FromSysfs, CollectError> {
        let flags = match link.sysfs_flags() {
            Some(flags) => Some(i64::from(flags)),
            None => dir.int("flags")?,
        };
        let running = flags.is_some_and(|f| f & IFF_UP != 0);
        let (duplex, speed) = if running { (dir.text("duplex")?, dir.int("speed")?) } else { (String::new(), None) };
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
                Some((i, a, t)) if *i == index && a == address => *t,
                _ => {
                    let t = dir.int("addr_assign_type")?;
                    cache.insert(name.to_owned(), (index, address.to_owned(), t));
                    t
                }
            }
        };
        Ok(FromSysfs { flags, duplex, speed, fixed, addr_assign })
    }
}
