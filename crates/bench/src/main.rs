//! `vigie-bench`: measures two exporters side by side, in one run, scraping them alternately
//! so that both see the same host load. For each target it prints the median and p90 scrape
//! latency, the CPU seconds its process spent per scrape (utime + stime from
//! `/proc/PID/stat`, USER_HZ = 100), its peak resident memory (`VmRSS` from
//! `/proc/PID/status`, sampled after every scrape), the samples and bytes of one answer, and
//! the first target's ratios to the second. Each target is scraped over one kept-alive
//! connection, as Prometheus scrapes; `--new-connections` opens one per scrape instead.
//!
//! `vigie-bench [--scrapes N] [--warmup N] NAME=URL=PID [NAME=URL=PID]`, e.g.
//! `vigie-bench vigie=http://127.0.0.1:41000/metrics=1234 node_exporter=http://127.0.0.1:41001/metrics=1240`.
//! With one target (an exporter whose incumbent cannot run here) it prints its line and no
//! ratios. Measurements, never assertions: `tests/bench/host` runs it; no test depends on its numbers.

#![forbid(unsafe_code)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use vigie_kit::process::USER_HZ;

/// Fewer scrapes than this make the p90 and the CPU ticks (10 ms each) too coarse.
const MIN_SCRAPES: usize = 200;

#[derive(Debug)]
struct Target {
    name: String,
    addr: SocketAddr,
    path: String,
    pid: u32,
    latencies: Vec<Duration>,
    cpu_ticks_start: u64,
    cpu_ticks_end: u64,
    rss_max_kib: u64,
    samples: usize,
    bytes: usize,
    /// The kept-alive connection, when scraping as Prometheus does.
    conn: Option<TcpStream>,
}

fn parse_target(arg: &str) -> Result<Target, String> {
    let bad = || format!("{arg:?}: expected NAME=URL=PID (URL like http://127.0.0.1:9100/metrics)");
    let (name, rest) = arg.split_once('=').ok_or_else(bad)?;
    let (url, pid) = rest.rsplit_once('=').ok_or_else(bad)?;
    let pid: u32 = pid.parse().map_err(|_| bad())?;
    let hostpath = url.strip_prefix("http://").ok_or_else(|| format!("{url:?}: only http:// URLs"))?;
    let (host, path) =
        hostpath.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((hostpath, "/metrics".into()));
    let addr = host
        .to_socket_addrs()
        .map_err(|e| format!("{host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    Ok(Target {
        name: name.to_owned(),
        addr,
        path,
        pid,
        latencies: Vec::new(),
        cpu_ticks_start: 0,
        cpu_ticks_end: 0,
        rss_max_kib: 0,
        samples: 0,
        bytes: 0,
        conn: None,
    })
}

/// utime + stime of `pid`, in ticks.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    vigie_kit::process::parse_stat(&text).map(|s| s.cpu_ticks).ok_or_else(|| format!("{path}: unexpected format"))
}

/// `VmRSS` of `pid`, in KiB.
fn rss_kib(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("{path}: no VmRSS line"))
}

fn scrape(t: &mut Target, keep_alive: bool) -> Result<(Duration, String), String> {
    let started = Instant::now();
    let (status, body) = if keep_alive {
        get_kept_alive(t).map_err(|e| format!("{}: {e}", t.name))?
    } else {
        let r = vigie_kit::testing::get(t.addr, &t.path, &[]).map_err(|e| format!("{}: {e}", t.name))?;
        (r.status, r.text())
    };
    let took = started.elapsed();
    if status != 200 {
        return Err(format!("{}: status {status}", t.name));
    }
    Ok((took, body))
}

/// One `GET` on the target's kept-alive connection (opened on first use, and again once if
/// the server closed it between scrapes), as Prometheus scrapes.
fn get_kept_alive(t: &mut Target) -> std::io::Result<(u16, String)> {
    for attempt in 0..2 {
        let fresh = t.conn.is_none();
        if fresh {
            let s = TcpStream::connect_timeout(&t.addr, Duration::from_secs(5))?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
            s.set_nodelay(true)?;
            t.conn = Some(s);
        }
        let Some(stream) = t.conn.as_mut() else { continue };
        let req = format!("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: vigie-bench\r\n\r\n", t.path, t.addr);
        match stream.write_all(req.as_bytes()).and_then(|()| read_response(stream)) {
            Ok(r) => return Ok(r),
            // A server may close an idle connection: reconnect once.
            Err(_) if !fresh && attempt == 0 => t.conn = None,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no connection"))
}

/// Reads one HTTP/1.1 response: its status and body (by Content-Length or chunked).
fn read_response(stream: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let mut raw = Vec::with_capacity(64 * 1024);
    let mut buf = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad status line"))?;
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.lines().any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
    let complete = |raw: &[u8]| -> bool {
        match length {
            Some(n) => raw.len() >= head_end + n,
            None => chunked && raw[head_end..].ends_with(b"0\r\n\r\n"),
        }
    };
    while !complete(&raw) {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed mid-response"));
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let r = vigie_kit::testing::parse_response(&raw).map_err(|e| bad(&e))?;
    Ok((status, r.text()))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank.
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Summary {
    median_ms: f64,
    p90_ms: f64,
    cpu_ms_per_scrape: f64,
    rss_mib: f64,
}

fn summary(t: &Target) -> Summary {
    let mut sorted = t.latencies.clone();
    sorted.sort();
    let n = t.latencies.len().max(1) as f64;
    Summary {
        median_ms: percentile(&sorted, 0.5).as_secs_f64() * 1e3,
        p90_ms: percentile(&sorted, 0.9).as_secs_f64() * 1e3,
        cpu_ms_per_scrape: (t.cpu_ticks_end.saturating_sub(t.cpu_ticks_start)) as f64 / USER_HZ / n * 1e3,
        rss_mib: t.rss_max_kib as f64 / 1024.0,
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut scrapes = MIN_SCRAPES;
    let mut warmup = 5;
    let mut keep_alive = true;
    let mut targets = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> Result<usize, String> {
            it.next().and_then(|v| v.parse().ok()).ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--scrapes" => scrapes = value("--scrapes")?,
            "--warmup" => warmup = value("--warmup")?,
            "--new-connections" => keep_alive = false,
            "-h" | "--help" => {
                println!(
                    "usage: vigie-bench [--scrapes N (default {MIN_SCRAPES})] [--warmup N] [--new-connections] NAME=URL=PID [NAME=URL=PID]"
                );
                return Ok(());
            }
            _ => targets.push(parse_target(&arg)?),
        }
    }
    if !(1..=2).contains(&targets.len()) {
        return Err("give one target, or two: ours first, the incumbent second".into());
    }
    if scrapes < MIN_SCRAPES {
        eprintln!("note: {scrapes} scrapes (< {MIN_SCRAPES}): a smoke run, numbers too coarse to report");
    }
    for t in &mut targets {
        for _ in 0..warmup {
            scrape(t, keep_alive)?;
        }
    }
    for t in &mut targets {
        t.cpu_ticks_start = cpu_ticks(t.pid)?;
        t.rss_max_kib = rss_kib(t.pid)?;
    }
    for i in 0..scrapes {
        // Alternate which goes first, so neither always scrapes a warmer page cache.
        let order: [usize; 2] = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        let n = targets.len();
        for &k in order.iter().filter(|&&k| k < n) {
            let t = &mut targets[k];
            let (took, body) = scrape(t, keep_alive)?;
            t.latencies.push(took);
            t.rss_max_kib = t.rss_max_kib.max(rss_kib(t.pid)?);
            if i == 0 {
                t.bytes = body.len();
                t.samples = body.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).count();
            }
        }
    }
    for t in &mut targets {
        t.cpu_ticks_end = cpu_ticks(t.pid)?;
    }
    let s: Vec<Summary> = targets.iter().map(summary).collect();
    let how = if keep_alive { "one kept-alive connection each, as Prometheus" } else { "a new connection per scrape" };
    println!(
        "{scrapes} scrapes each, alternating, {how}; CPU from /proc/PID/stat (USER_HZ {USER_HZ}), RSS = max VmRSS"
    );
    println!(
        "{:<24} {:>10} {:>10} {:>14} {:>10} {:>8} {:>10}",
        "target", "median ms", "p90 ms", "CPU ms/scrape", "RSS MiB", "samples", "bytes"
    );
    for (t, s) in targets.iter().zip(&s) {
        println!(
            "{:<24} {:>10.2} {:>10.2} {:>14.3} {:>10.1} {:>8} {:>10}",
            t.name, s.median_ms, s.p90_ms, s.cpu_ms_per_scrape, s.rss_mib, t.samples, t.bytes
        );
    }
    if s.len() < 2 {
        return Ok(());
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.3}", a / b) } else { "n/a".into() };
    println!(
        "ratio {}/{}: median {}  p90 {}  CPU/scrape {}  RSS {}  samples {}  bytes {}",
        targets[0].name,
        targets[1].name,
        ratio(s[0].median_ms, s[1].median_ms),
        ratio(s[0].p90_ms, s[1].p90_ms),
        ratio(s[0].cpu_ms_per_scrape, s[1].cpu_ms_per_scrape),
        ratio(s[0].rss_mib, s[1].rss_mib),
        ratio(targets[0].samples as f64, targets[1].samples as f64),
        ratio(targets[0].bytes as f64, targets[1].bytes as f64),
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigie-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let t = parse_target("node=http://127.0.0.1:9100/metrics=42").unwrap();
        assert_eq!((t.name.as_str(), t.addr.port(), t.path.as_str(), t.pid), ("node", 9100, "/metrics", 42));
        let t = parse_target("x=http://127.0.0.1:1=7").unwrap();
        assert_eq!(t.path, "/metrics");
        assert!(parse_target("x=https://127.0.0.1:1/m=7").is_err());
        assert!(parse_target("x=http://127.0.0.1:1/m").is_err());
    }

    #[test]
    fn nearest_rank_percentiles() {
        let d: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 0.5), Duration::from_millis(5));
        assert_eq!(percentile(&d, 0.9), Duration::from_millis(9));
        assert_eq!(percentile(&[], 0.9), Duration::ZERO);
    }

    #[test]
    fn own_process_is_readable() {
        let pid = std::process::id();
        assert!(rss_kib(pid).unwrap() > 0);
        cpu_ticks(pid).unwrap();
    }
}
