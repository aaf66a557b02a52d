//! The system clock, the local time zone and /sys/devices/system/clocksource →
//! node_time_seconds, node_time_zone_offset_seconds, node_time_clocksource_*_info
//! (node_exporter "time" names).
//!
//! The zone is the process's, found as Go finds it: `TZ` if set (empty means UTC), else
//! `/etc/localtime`; its TZif data is loaded once, as Go loads it once per process.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "time",
    default_enabled: true,
    help: "Exposes the current system time.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Time::default())),
};

const NOW: Desc = Desc::gauge("node_time_seconds", "The system clock, in seconds since the Unix epoch.", &[]);
const ZONE: Desc =
    Desc::gauge("node_time_zone_offset_seconds", "Offset of the local time zone from UTC, in seconds.", &["time_zone"]);
const AVAILABLE: Desc = Desc::gauge(
    "node_time_clocksource_available_info",
    "A clock source the kernel can use, per clocksource device; always 1.",
    &["device", "clocksource"],
);
const CURRENT: Desc = Desc::gauge(
    "node_time_clocksource_current_info",
    "The clock source the kernel uses, per clocksource device; always 1.",
    &["device", "clocksource"],
);

/// Reads the clock and the clock sources.
#[derive(Default)]
pub struct Time {
    zone: OnceLock<Zone>,
}

impl SyncCollector for Time {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| CollectError::Other(e.to_string()))?;
        // As node_exporter: nanoseconds as a float, divided.
        out.add(&NOW, &[], now.as_nanos() as f64 / 1e9);
        let zone = self.zone.get_or_init(Zone::local);
        let (name, offset) = zone.at(now.as_secs() as i64);
        out.add(&ZONE, &[name], offset as f64);
        clocksources(cx, out)
    }
}

fn clocksources(cx: &Scrape, out: &mut MetricSet) -> CollectResult {
    let dir = cx.paths.sys("devices/system/clocksource");
    let mut devices: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| CollectError::io(&dir, e))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.strip_prefix("clocksource").is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit())))
        .collect();
    // Go's filepath.Glob order (byte order), whose index is the "device" label.
    devices.sort_unstable();
    for (i, device) in devices.iter().enumerate() {
        let i = i.to_string();
        let available = cx.read(dir.join(device).join("available_clocksource"))?;
        for source in available.split_ascii_whitespace() {
            out.add(&AVAILABLE, &[&i, source], 1.0);
        }
        let current = cx.read(dir.join(device).join("current_clocksource"))?;
        out.add(&CURRENT, &[&i, current.trim()], 1.0);
    }
    Ok(())
}

/// A time zone: its transitions and local time types, from TZif data.
#[derive(Debug, Default, PartialEq)]
pub struct Zone {
    /// (start, index into `types`), ascending.
    transitions: Vec<(i64, usize)>,
    /// (abbreviation, offset in seconds, is DST).
    types: Vec<(String, i32, bool)>,
    /// The TZif footer's standard time, when it has no DST rule: holds after the last transition.
    tail: Option<(String, i32)>,
}

impl Zone {
    fn utc() -> Zone {
        Zone { transitions: Vec::new(), types: vec![("UTC".into(), 0, false)], tail: None }
    }

    /// The process's zone, found as Go's time package finds it; UTC when unreadable.
    fn local() -> Zone {
        let file = match std::env::var_os("TZ") {
            None => std::path::PathBuf::from("/etc/localtime"),
            Some(tz) if tz.is_empty() => return Zone::utc(),
            Some(tz) => {
                let tz = tz.to_string_lossy();
                let tz = tz.strip_prefix(':').unwrap_or(&tz);
                if tz.starts_with('/') {
                    tz.into()
                } else {
                    std::path::Path::new("/usr/share/zoneinfo").join(tz)
                }
            }
        };
        match std::fs::read(&file).map_err(|e| e.to_string()).and_then(|data| parse_tzif(&data)) {
            Ok(zone) => zone,
            Err(e) => {
                tracing::debug!(err = %e, file = %file.display(), "Using UTC.");
                Zone::utc()
            }
        }
    }

    /// The abbreviation and UTC offset in force at `t` (seconds since the epoch).
    pub fn at(&self, t: i64) -> (&str, i32) {
        let after = self.transitions.partition_point(|(start, _)| *start <= t);
        if after == self.transitions.len() && !self.transitions.is_empty() {
            if let Some((name, offset)) = &self.tail {
                return (name, *offset);
            }
        }
        let index = match after {
            // Before the first transition: the first standard-time type, as Go picks it.
            0 => self.types.iter().position(|t| !t.2).unwrap_or(0),
            n => self.transitions[n - 1].1,
        };
        match self.types.get(index) {
            Some((name, offset, _)) => (name, *offset),
            None => ("UTC", 0),
        }
    }
}

/// Parses TZif data (RFC 8536), versions 1 to 4.
pub fn parse_tzif(data: &[u8]) -> Result<Zone, String> {
    let header = |at: usize| -> Result<[usize; 6], String> {
        let h = data.get(at..at + 44).ok_or("short TZif header")?;
        if &h[..4] != b"TZif" {
            return Err("not TZif data".into());
        }
        let mut counts = [0; 6];
        for (i, c) in counts.iter_mut().enumerate() {
            let b = &h[20 + 4 * i..24 + 4 * i];
            *c = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        }
        Ok(counts)
    };
    let [isut, isstd, leap, time, typ, chars] = header(0)?;
    let v1_len = time * 5 + typ * 6 + chars + leap * 8 + isstd + isut;
    let (at, width, counts) = if data.get(4).is_some_and(|v| *v >= b'2') {
        let at = 44 + v1_len;
        (at + 44, 8, header(at)?)
    } else {
        (44, 4, [isut, isstd, leap, time, typ, chars])
    };
    let [_, _, _, time, typ, chars] = counts;
    let body = data.get(at..).ok_or("short TZif data")?;
    let need = time * (width + 1) + typ * 6 + chars;
    if body.len() < need {
        return Err("short TZif data".into());
    }
    let (times, rest) = body.split_at(time * width);
    let (indices, rest) = rest.split_at(time);
    let (infos, rest) = rest.split_at(typ * 6);
    let abbrevs = &rest[..chars];
    let abbrev = |i: usize| -> String {
        let s = abbrevs.get(i..).unwrap_or(&[]);
        let end = s.iter().position(|b| *b == 0).unwrap_or(s.len());
        String::from_utf8_lossy(&s[..end]).into_owned()
    };
    let types: Vec<(String, i32, bool)> = infos
        .chunks_exact(6)
        .map(|t| (abbrev(t[5] as usize), i32::from_be_bytes([t[0], t[1], t[2], t[3]]), t[4] != 0))
        .collect();
    let mut transitions = Vec::with_capacity(time);
    for (chunk, index) in times.chunks_exact(width).zip(indices) {
        let start = match width {
            8 => i64::from_be_bytes(chunk.try_into().map_err(|_| "bad transition")?),
            _ => i32::from_be_bytes(chunk.try_into().map_err(|_| "bad transition")?) as i64,
        };
        let index = *index as usize;
        if index >= types.len() {
            return Err(format!("transition to type {index} of {}", types.len()));
        }
        transitions.push((start, index));
    }
    if types.is_empty() {
        return Err("no local time types".into());
    }
    // The footer (v2+) after the leap-second and indicator arrays: "\n<POSIX TZ>\n".
    let tail = if width == 8 {
        let after = at + need + counts[2] * 12 + counts[1] + counts[0];
        data.get(after..).and_then(|f| std::str::from_utf8(f).ok()).and_then(|f| standard_only(f.trim()))
    } else {
        None
    };
    Ok(Zone { transitions, types, tail })
}

/// A POSIX TZ string without DST (`UTC0`, `<+03>-3`): its name and UTC offset.
fn standard_only(tz: &str) -> Option<(String, i32)> {
    let (name, rest) = if let Some(quoted) = tz.strip_prefix('<') {
        let end = quoted.find('>')?;
        (&quoted[..end], &quoted[end + 1..])
    } else {
        let end = tz.find(|c: char| !c.is_ascii_alphabetic())?;
        (&tz[..end], &tz[end..])
    };
    // A name after the offset means DST rules: leave those to the transitions.
    if name.is_empty() || rest.is_empty() || rest.contains(|c: char| c.is_ascii_alphabetic() || c == '<' || c == ',') {
        return None;
    }
    let (sign, hms) = match rest.as_bytes()[0] {
        b'-' => (1, &rest[1..]),
        b'+' => (-1, &rest[1..]),
        _ => (-1, rest),
    };
    let mut seconds = 0;
    for (part, scale) in hms.split(':').zip([3600, 60, 1]) {
        seconds += part.parse::<i32>().ok()? * scale;
    }
    // POSIX offsets are west of Greenwich: "-3" is UTC+3.
    Some((name.to_owned(), sign * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> Zone {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zoneinfo").join(name);
        parse_tzif(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn tzif_zones() {
        // Captured from this VM's tzdata.
        let utc = zone("UTC");
        assert_eq!(utc.at(1_795_344_918), ("UTC", 0));
        let paris = zone("Paris");
        assert_eq!(paris.at(1_768_000_000), ("CET", 3600)); // 2026-01-09
        assert_eq!(paris.at(1_783_000_000), ("CEST", 7200)); // 2026-07-02
        assert_eq!(paris.at(-3_000_000_000), ("LMT", 561));
        assert!(parse_tzif(b"TZif2").is_err());
        assert!(parse_tzif(b"nope").is_err());
    }

    #[test]
    fn posix_footers() {
        assert_eq!(standard_only("UTC0"), Some(("UTC".into(), 0)));
        assert_eq!(standard_only("<+03>-3"), Some(("+03".into(), 10800)));
        assert_eq!(standard_only("<-0330>3:30"), Some(("-0330".into(), -12600)));
        assert_eq!(standard_only("CET-1CEST,M3.5.0,M10.5.0/3"), None);
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Time::default()).unwrap();
        assert!(text.contains("node_time_clocksource_available_info{clocksource=\"kvm-clock\",device=\"0\"} 1\n"), "{text}");
        assert!(text.contains("node_time_clocksource_available_info{clocksource=\"tsc\",device=\"0\"} 1\n"), "{text}");
        assert!(text.contains("node_time_clocksource_current_info{clocksource=\"tsc\",device=\"0\"} 1\n"), "{text}");
        assert!(text.contains("# TYPE node_time_seconds gauge\nnode_time_seconds 1."), "{text}");
        assert!(text.contains("node_time_zone_offset_seconds{time_zone=\""), "{text}");
    }
}
