//! One rtnetlink `RTM_GETLINK` dump: every interface's name and `rtnl_link_stats64`
//! (include/uapi/linux/if_link.h), without `unsafe` (rustix sockets, byte parsing here).

use std::time::Duration;

use rustix::net::{socket, AddressFamily, RecvFlags, SendFlags, SocketType};

const NLMSG_HDR: usize = 16;
const IFINFOMSG: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const IFLA_IFNAME: u16 = 3;
const IFLA_STATS64: u16 = 23;
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

/// The raw reply of a link dump: every datagram, concatenated.
pub fn dump_links() -> std::io::Result<Vec<u8>> {
    let fd = socket(AddressFamily::NETLINK, SocketType::RAW, None)?;
    rustix::net::sockopt::set_socket_timeout(&fd, rustix::net::sockopt::Timeout::Recv, Some(Duration::from_secs(2)))?;
    let mut req = [0u8; NLMSG_HDR + IFINFOMSG];
    req[0..4].copy_from_slice(&((NLMSG_HDR + IFINFOMSG) as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&RTM_GETLINK.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&SEQ.to_ne_bytes());
    // ifinfomsg: family AF_UNSPEC and the rest zero.
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

/// The devices of a link dump: name and counters, in the kernel's order. Links without
/// `IFLA_STATS64` are left out.
pub fn parse_links(mut raw: &[u8]) -> Result<Vec<(String, Stats64)>, String> {
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
            RTM_NEWLINK => {
                if let Some(link) = parse_link(body)? {
                    out.push(link);
                }
            }
            _ => {}
        }
        raw = raw.get(align(len)..).unwrap_or_default();
    }
    Err("dump ended without NLMSG_DONE".into())
}

fn parse_link(body: &[u8]) -> Result<Option<(String, Stats64)>, String> {
    let mut attrs = body.get(IFINFOMSG..).ok_or("RTM_NEWLINK shorter than ifinfomsg")?;
    let mut name = None;
    let mut stats = None;
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]) & 0x3fff;
        if len < 4 || len > attrs.len() {
            return Err(format!("attribute length {len} out of range"));
        }
        let data = &attrs[4..len];
        match kind {
            IFLA_IFNAME => {
                let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                name = Some(String::from_utf8_lossy(&data[..end]).into_owned());
            }
            IFLA_STATS64 => {
                let mut s = [0u64; 24];
                for (v, chunk) in s.iter_mut().zip(data.chunks_exact(8)) {
                    *v = u64::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
                }
                stats = Some(s);
            }
            _ => {}
        }
        attrs = attrs.get(align(len)..).unwrap_or_default();
    }
    match (name, stats) {
        (Some(name), Some(stats)) => Ok(Some((name, stats))),
        (None, _) => Err("RTM_NEWLINK without IFLA_IFNAME".into()),
        (Some(_), None) => Ok(None),
    }
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
        body.extend(attr(IFLA_IFNAME, b"eth0\0"));
        body.extend(attr(IFLA_STATS64, &stats));
        let mut raw = msg(RTM_NEWLINK, &body);
        raw.extend(msg(NLMSG_DONE, &[0; 4]));
        let links = parse_links(&raw).unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].0, "eth0");
        assert_eq!(links[0].1[23], 24);
        let l = legacy(&links[0].1);
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
}
