//! rtnetlink dumps without `unsafe` (rustix sockets, byte parsing here): `RTM_GETLINK` for
//! every interface's name, index and `rtnl_link_stats64` (include/uapi/linux/if_link.h), and
//! `RTM_GETADDR` for its addresses (include/uapi/linux/if_addr.h).

use std::time::Duration;

use rustix::net::{socket, AddressFamily, RecvFlags, SendFlags, SocketType};

const NLMSG_HDR: usize = 16;
const IFINFOMSG: usize = 16;
const IFADDRMSG: usize = 8;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const IFLA_ADDRESS: u16 = 1;
const IFLA_BROADCAST: u16 = 2;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_TXQLEN: u16 = 13;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKMODE: u16 = 17;
const IFLA_IFALIAS: u16 = 20;
const IFLA_STATS64: u16 = 23;
const IFLA_GROUP: u16 = 27;
const IFLA_PROMISCUITY: u16 = 30;
const IFLA_CARRIER: u16 = 33;
const IFLA_CARRIER_CHANGES: u16 = 35;
const IFLA_CARRIER_UP_COUNT: u16 = 47;
const IFLA_CARRIER_DOWN_COUNT: u16 = 48;
const IFLA_ALLMULTI: u16 = 61;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const SEQ: u32 = 1;

/// The fields of `struct rtnl_link_stats64` we read, in kernel order, under node_exporter's
/// detailed names.
pub const STATS64_NAMES: [&str; 24] = [
    "receive_packets",
    "transmit_packets",
    "receive_bytes",
    "transmit_bytes",
    "receive_errors",
    "transmit_errors",
    "receive_dropped",
    "transmit_dropped",
    "multicast",
    "collisions",
    "receive_length_errors",
    "receive_over_errors",
    "receive_crc_errors",
    "receive_frame_errors",
    "receive_fifo_errors",
    "receive_missed_errors",
    "transmit_aborted_errors",
    "transmit_carrier_errors",
    "transmit_fifo_errors",
    "transmit_heartbeat_errors",
    "transmit_window_errors",
    "receive_compressed",
    "transmit_compressed",
    "receive_nohandler",
];

/// One device's counters, indexed as [`STATS64_NAMES`] (fields the kernel does not send are 0).
pub type Stats64 = [u64; 24];

/// The raw reply of a `kind` dump request whose body is `body` (every datagram, concatenated).
fn dump(kind: u16, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let fd = socket(AddressFamily::NETLINK, SocketType::RAW, None)?;
    rustix::net::sockopt::set_socket_timeout(&fd, rustix::net::sockopt::Timeout::Recv, Some(Duration::from_secs(2)))?;
    let mut req = Vec::with_capacity(NLMSG_HDR + body.len());
    req.extend_from_slice(&((NLMSG_HDR + body.len()) as u32).to_ne_bytes());
    req.extend_from_slice(&kind.to_ne_bytes());
    req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req.extend_from_slice(&SEQ.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(body);
    rustix::net::send(&fd, &req, SendFlags::empty())?;
    let mut all = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let (n, _) = rustix::net::recv(&fd, &mut buf[..], RecvFlags::empty())?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        all.extend_from_slice(chunk);
        if last_type(chunk).is_some_and(|t| t == NLMSG_DONE || t == NLMSG_ERROR) {
            break;
        }
    }
    Ok(all)
}

/// The raw reply of a link dump (family AF_UNSPEC).
pub fn dump_links() -> std::io::Result<Vec<u8>> {
    dump(RTM_GETLINK, &[0; IFINFOMSG])
}

/// The raw reply of an address dump (IPv4 and IPv6).
pub fn dump_addrs() -> std::io::Result<Vec<u8>> {
    dump(RTM_GETADDR, &[0; IFADDRMSG])
}

fn last_type(mut chunk: &[u8]) -> Option<u16> {
    let mut last = None;
    while chunk.len() >= NLMSG_HDR {
        let len = u32::from_ne_bytes(chunk[0..4].try_into().ok()?) as usize;
        last = Some(u16::from_ne_bytes(chunk[4..6].try_into().ok()?));
        if len < NLMSG_HDR {
            break;
        }
        chunk = chunk.get(align(len)..).unwrap_or_default();
    }
    last
}

const fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// The messages of a dump up to `NLMSG_DONE`: (type, body).
fn messages(mut raw: &[u8]) -> Result<Vec<(u16, &[u8])>, String> {
    let mut out = Vec::new();
    while raw.len() >= NLMSG_HDR {
        let len = u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
        let kind = u16::from_ne_bytes([raw[4], raw[5]]);
        if len < NLMSG_HDR || len > raw.len() {
            return Err(format!("message length {len} out of range"));
        }
        let body = &raw[NLMSG_HDR..len];
        match kind {
            NLMSG_DONE => return Ok(out),
            NLMSG_ERROR => {
                let errno = body.get(0..4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
                return Err(format!("kernel answered error {}", std::io::Error::from_raw_os_error(-errno)));
            }
            _ => out.push((kind, body)),
        }
        raw = raw.get(align(len)..).unwrap_or_default();
    }
    Err("dump ended without NLMSG_DONE".into())
}

/// The attributes after a fixed header of `skip` bytes: (type, payload).
fn attributes(body: &[u8], skip: usize) -> Result<Vec<(u16, &[u8])>, String> {
    let mut attrs = body.get(skip..).ok_or("message shorter than its fixed header")?;
    let mut out = Vec::new();
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]) & 0x3fff;
        if len < 4 || len > attrs.len() {
            return Err(format!("attribute length {len} out of range"));
        }
        out.push((kind, &attrs[4..len]));
        attrs = attrs.get(align(len)..).unwrap_or_default();
    }
    Ok(out)
}

/// One interface of a link dump. Optional fields are attributes the kernel may leave out.
#[derive(Debug, Default)]
pub struct Link {
    /// ifindex.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Counters.
    pub stats: Option<Stats64>,
    /// ARPHRD_* hardware type.
    pub kind: u16,
    /// Hardware address.
    pub address: Option<Vec<u8>>,
    /// Broadcast address.
    pub broadcast: Option<Vec<u8>>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Underlying link (absent: the device itself).
    pub link: Option<u32>,
    /// Transmit queue length.
    pub txqlen: Option<u32>,
    /// RFC 2863 operational state (IF_OPER_*), DOWN when the device is not open.
    pub operstate: Option<u8>,
    /// Link mode.
    pub linkmode: Option<u8>,
    /// Alias (absent: none).
    pub ifalias: Option<String>,
    /// Device group.
    pub group: Option<u32>,
    /// Carrier present.
    pub carrier: Option<u8>,
    /// Carrier changes, ups, downs.
    pub carrier_changes: Option<u32>,
    /// Carrier up events.
    pub carrier_up: Option<u32>,
    /// Carrier down events.
    pub carrier_down: Option<u32>,
    /// `ifi_flags`: the device's flags as `dev_get_flags()` reports them.
    pub flags: u32,
    /// How many users asked for promiscuous mode (IFLA_PROMISCUITY).
    pub promiscuity: Option<u32>,
    /// How many users asked for all-multicast mode (IFLA_ALLMULTI, Linux 6.6 and later).
    pub allmulti: Option<u32>,
}

const IFF_UP: u32 = 0x1;
const IFF_RUNNING: u32 = 0x40;
const IFF_PROMISC: u32 = 0x100;
const IFF_ALLMULTI: u32 = 0x200;
const IFF_LOWER_UP: u32 = 0x1_0000;
const IFF_DORMANT: u32 = 0x2_0000;

impl Link {
    /// The flags sysfs prints (`dev->flags`), where the dump says enough to rebuild them.
    /// `dev_get_flags()` takes `dev->flags` without PROMISC, ALLMULTI and the operational
    /// bits (RUNNING, LOWER_UP, DORMANT), which `dev->flags` never holds, adds PROMISC and
    /// ALLMULTI only as users asked for them, and the operational bits of an open device.
    /// `dev->flags` has PROMISC exactly while the promiscuity count is above 0, ALLMULTI
    /// while the allmulti count is: both counts are in the dump (ALLMULTI's since 6.6).
    pub fn sysfs_flags(&self) -> Option<u32> {
        let mut flags = self.flags & !(IFF_PROMISC | IFF_ALLMULTI | IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT);
        if self.promiscuity? > 0 {
            flags |= IFF_PROMISC;
        }
        if self.allmulti? > 0 {
            flags |= IFF_ALLMULTI;
        }
        Some(flags)
    }

    /// sysfs `dormant` of an open device (`ifi_flags` has DORMANT only when the device is
    /// open and dormant); `None` for a closed one, whose sysfs `dormant` cannot be read.
    pub fn dormant(&self) -> Option<bool> {
        (self.flags & IFF_UP != 0).then_some(self.flags & IFF_DORMANT != 0)
    }
}

/// The interfaces of a link dump, in the kernel's order.
pub fn parse_links(raw: &[u8]) -> Result<Vec<Link>, String> {
    let mut out = Vec::new();
    for (kind, body) in messages(raw)? {
        if kind != RTM_NEWLINK {
            continue;
        }
        let hdr = body.get(..IFINFOMSG).ok_or("RTM_NEWLINK shorter than ifinfomsg")?;
        let mut link = Link {
            index: u32::from_ne_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]),
            kind: u16::from_ne_bytes([hdr[2], hdr[3]]),
            flags: u32::from_ne_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]),
            ..Link::default()
        };
        let (mut name, mut stats) = (None, None);
        let u32_of = |d: &[u8]| d.get(..4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        let text = |d: &[u8]| {
            let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
            String::from_utf8_lossy(&d[..end]).into_owned()
        };
        for (attr, data) in attributes(body, IFINFOMSG)? {
            match attr {
                IFLA_IFNAME => name = Some(text(data)),
                IFLA_ADDRESS => link.address = Some(data.to_vec()),
                IFLA_BROADCAST => link.broadcast = Some(data.to_vec()),
                IFLA_MTU => link.mtu = u32_of(data),
                IFLA_LINK => link.link = u32_of(data),
                IFLA_TXQLEN => link.txqlen = u32_of(data),
                IFLA_OPERSTATE => link.operstate = data.first().copied(),
                IFLA_LINKMODE => link.linkmode = data.first().copied(),
                IFLA_IFALIAS => link.ifalias = Some(text(data)),
                IFLA_GROUP => link.group = u32_of(data),
                IFLA_CARRIER => link.carrier = data.first().copied(),
                IFLA_CARRIER_CHANGES => link.carrier_changes = u32_of(data),
                IFLA_CARRIER_UP_COUNT => link.carrier_up = u32_of(data),
                IFLA_CARRIER_DOWN_COUNT => link.carrier_down = u32_of(data),
                IFLA_PROMISCUITY => link.promiscuity = u32_of(data),
                IFLA_ALLMULTI => link.allmulti = u32_of(data),
                IFLA_STATS64 => {
                    let mut s = [0u64; 24];
                    for (v, chunk) in s.iter_mut().zip(data.chunks_exact(8)) {
                        *v = u64::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
                    }
                    stats = Some(s);
                }
                _ => {}
            }
        }
        link.name = name.ok_or("RTM_NEWLINK without IFLA_IFNAME")?;
        link.stats = stats;
        out.push(link);
    }
    Ok(out)
}

/// One address of an address dump: interface index, address, prefix length.
pub type Addr = (u32, std::net::IpAddr, u8);

/// The addresses of an address dump. As Go's `net.Interface.Addrs`, an address with an
/// `IFA_LOCAL` attribute (point-to-point) is that local address, else `IFA_ADDRESS`.
pub fn parse_addrs(raw: &[u8]) -> Result<Vec<Addr>, String> {
    let mut out = Vec::new();
    for (kind, body) in messages(raw)? {
        if kind != RTM_NEWADDR {
            continue;
        }
        let hdr = body.get(..IFADDRMSG).ok_or("RTM_NEWADDR shorter than ifaddrmsg")?;
        let (family, prefix) = (hdr[0], hdr[1]);
        let index = u32::from_ne_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
        let attrs = attributes(body, IFADDRMSG)?;
        let pick = |t: u16| attrs.iter().find(|(a, _)| *a == t).map(|(_, d)| *d);
        let Some(data) = pick(IFA_LOCAL).or_else(|| pick(IFA_ADDRESS)) else { continue };
        let ip = match (family, data.len()) {
            (2, 4) => std::net::IpAddr::from([data[0], data[1], data[2], data[3]]),
            (10, 16) => {
                let mut b = [0u8; 16];
                b.copy_from_slice(data);
                std::net::IpAddr::from(b)
            }
            _ => continue,
        };
        out.push((index, ip, prefix));
    }
    Ok(out)
}

/// The counters folded as the kernel folds them for `/proc/net/dev` (net/core/net-procfs.c),
/// in `/proc/net/dev` column order, then `receive_nohandler`.
pub fn legacy(s: &Stats64) -> [u64; 17] {
    [
        s[2],
        s[0],
        s[4],
        s[6] + s[15],
        s[14],
        s[13] + s[10] + s[11] + s[12],
        s[21],
        s[8],
        s[3],
        s[1],
        s[5],
        s[7],
        s[18],
        s[9],
        s[17] + s[16] + s[19] + s[20],
        s[22],
        s[23],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_flags_from_the_dump() {
        // eth0 here: sysfs 0x1003; the dump adds RUNNING and LOWER_UP.
        let up = Link { flags: 0x1_1043, promiscuity: Some(0), allmulti: Some(0), ..Link::default() };
        assert_eq!(up.sysfs_flags(), Some(0x1003));
        assert_eq!(up.dormant(), Some(false));
        // A bridge port: promiscuous for the bridge, not by a user's request, so ifi_flags
        // lacks PROMISC; and asked for all-multicast by a user.
        let port = Link { flags: 0x1_1243, promiscuity: Some(1), allmulti: Some(2), ..Link::default() };
        assert_eq!(port.sysfs_flags(), Some(0x1303));
        let dormant = Link { flags: 0x2_1003, ..up };
        assert_eq!((dormant.sysfs_flags(), dormant.dormant()), (Some(0x1003), Some(true)));
        // Closed: no dormant; a kernel without IFLA_ALLMULTI: flags from sysfs.
        assert_eq!(Link { flags: 0x1002, ..Link::default() }.dormant(), None);
        assert_eq!(Link { allmulti: None, ..port }.sysfs_flags(), None);
    }

    fn attr(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(data);
        a.resize(align(a.len()), 0);
        a
    }

    fn msg(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDR + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(body);
        m.resize(align(m.len()), 0);
        m
    }

    #[test]
    fn parses_a_dump() {
        let mut stats = Vec::new();
        for i in 0..24u64 {
            stats.extend_from_slice(&(i + 1).to_ne_bytes());
        }
        let mut body = vec![0u8; IFINFOMSG];
        body[4..8].copy_from_slice(&7u32.to_ne_bytes());
        body.extend(attr(IFLA_IFNAME, b"eth0\0"));
        body.extend(attr(IFLA_STATS64, &stats));
        let mut raw = msg(RTM_NEWLINK, &body);
        raw.extend(msg(NLMSG_DONE, &[0; 4]));
        let links = parse_links(&raw).unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!((links[0].index, links[0].name.as_str()), (7, "eth0"));
        let stats = links[0].stats.unwrap();
        assert_eq!(stats[23], 24);
        let l = legacy(&stats);
        assert_eq!(l[3], 7 + 16); // dropped + missed
        assert_eq!(l[5], 14 + 11 + 12 + 13);
        assert_eq!(l[14], 18 + 17 + 20 + 21);
        assert_eq!(l[16], 24);
        // Truncated and unterminated dumps are errors, not panics.
        assert!(parse_links(&raw[..raw.len() - 24]).is_err());
        assert!(parse_links(&raw[..20]).is_err());
        let mut err = msg(NLMSG_ERROR, &(-1i32).to_ne_bytes());
        err.extend(msg(NLMSG_DONE, &[]));
        assert!(parse_links(&err).unwrap_err().contains("error"));
    }

    #[test]
    fn parses_addresses() {
        // An IPv4 point-to-point address (IFA_ADDRESS is the peer, IFA_LOCAL ours) and an IPv6 one.
        let mut v4 = vec![2u8, 32, 0, 0];
        v4.extend_from_slice(&3u32.to_ne_bytes());
        v4.extend(attr(IFA_ADDRESS, &[10, 0, 0, 2]));
        v4.extend(attr(IFA_LOCAL, &[10, 0, 0, 1]));
        let mut v6 = vec![10u8, 64, 0, 0xfd];
        v6.extend_from_slice(&2u32.to_ne_bytes());
        let fe80: std::net::Ipv6Addr = "fe80::1".parse().unwrap();
        v6.extend(attr(IFA_ADDRESS, &fe80.octets()));
        let mut raw = msg(RTM_NEWADDR, &v4);
        raw.extend(msg(RTM_NEWADDR, &v6));
        raw.extend(msg(NLMSG_DONE, &[0; 4]));
        let addrs = parse_addrs(&raw).unwrap();
        assert_eq!(addrs, [(3, "10.0.0.1".parse().unwrap(), 32), (2, "fe80::1".parse().unwrap(), 64)]);
        assert!(parse_addrs(&msg(RTM_NEWADDR, &[2, 24])).is_err());
    }
}
