//! `/sys/class/power_supply/*` → `node_power_supply_*` (node_exporter "powersupplyclass"
//! names).
//!
//! As node_exporter (procfs): only regular files are read; a file that is gone, or answers
//! EINVAL or EOPNOTSUPP (absent batteries do), is skipped; any other read error, or a
//! numeric attribute that is not an integer, fails the collector. No `power_supply` class:
//! no data. Attributes node_exporter does not expose (`*_avg`, `uevent`…) are not read.

use std::path::Path;

use regex::Regex;
use vigie_kit::exposition::Kind;
use vigie_kit::{CollectError, CollectResult, MetricSet, Registration, Scrape, SyncCollector};

const IGNORED: &str = "collector.powersupply.ignored-supplies";

/// The registration.
pub const REG: Registration = Registration {
    name: "powersupplyclass",
    default_enabled: true,
    help: "Exposes power supply statistics from /sys/class/power_supply.",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new(IGNORED)
                .long(IGNORED)
                .value_name("REGEX")
                .default_value("^$")
                .help("Regexp of power supplies to ignore for powersupplyclass collector."),
        )
    },
    build: |m| {
        let pattern = m.get_one::<String>(IGNORED).map_or("^$", String::as_str);
        let ignored = Regex::new(pattern).map_err(|e| format!("--{IGNORED}: {e}"))?;
        Ok(Box::new(PowerSupplyClass { ignored }))
    },
};

/// How a numeric attribute is exposed: the family-name suffix and the divisor to base units.
struct Numeric {
    file: &'static str,
    metric: &'static str,
    divisor: f64,
    help: &'static str,
}

const fn n(file: &'static str, metric: &'static str, divisor: f64, help: &'static str) -> Numeric {
    Numeric { file, metric, divisor, help }
}

/// Every numeric attribute node_exporter 1.5 exposes (µA, µV, µW, µWh, µAh → base units;
/// tenths of °C → °C).
const NUMERIC: &[Numeric] = &[
    n("authentic", "authentic", 1.0, "Whether the battery is authentic (authentic attribute)."),
    n("calibrate", "calibrate", 1.0, "Calibration state (calibrate attribute)."),
    n("capacity", "capacity", 1.0, "Charge as a percentage of full (capacity attribute)."),
    n("capacity_alert_max", "capacity_alert_max", 1.0, "Upper capacity alert, in percent."),
    n("capacity_alert_min", "capacity_alert_min", 1.0, "Lower capacity alert, in percent."),
    n("cycle_count", "cyclecount", 1.0, "Charge cycles the battery went through."),
    n("online", "online", 1.0, "Whether the supply is online (online attribute)."),
    n("present", "present", 1.0, "Whether the supply is present (present attribute)."),
    n("time_to_empty_now", "time_to_empty_seconds", 1.0, "Estimated time until empty, in seconds."),
    n("time_to_full_now", "time_to_full_seconds", 1.0, "Estimated time until full, in seconds."),
    n("current_boot", "current_boot", 1e6, "Current at boot, in amperes."),
    n("current_max", "current_max", 1e6, "Maximum current, in amperes."),
    n("current_now", "current_ampere", 1e6, "Current now, in amperes."),
    n("energy_empty", "energy_empty", 1e6, "Energy when empty, in watt-hours."),
    n("energy_empty_design", "energy_empty_design", 1e6, "Design energy when empty, in watt-hours."),
    n("energy_full", "energy_full", 1e6, "Energy when full, in watt-hours."),
    n("energy_full_design", "energy_full_design", 1e6, "Design energy when full, in watt-hours."),
    n("energy_now", "energy_watthour", 1e6, "Energy now, in watt-hours."),
    n("voltage_boot", "voltage_boot", 1e6, "Voltage at boot, in volts."),
    n("voltage_max", "voltage_max", 1e6, "Maximum voltage seen, in volts."),
    n("voltage_max_design", "voltage_max_design", 1e6, "Design maximum voltage, in volts."),
    n("voltage_min", "voltage_min", 1e6, "Minimum voltage seen, in volts."),
    n("voltage_min_design", "voltage_min_design", 1e6, "Design minimum voltage, in volts."),
    n("voltage_now", "voltage_volt", 1e6, "Voltage now, in volts."),
    n("voltage_ocv", "voltage_ocv", 1e6, "Open-circuit voltage, in volts."),
    n("charge_control_limit", "charge_control_limit", 1e6, "Charge control limit (charge_control_limit / 1e6)."),
    n("charge_control_limit_max", "charge_control_limit_max", 1e6, "Highest charge control limit (/ 1e6)."),
    n("charge_counter", "charge_counter", 1e6, "Charge counter, in ampere-hours."),
    n("charge_empty", "charge_empty", 1e6, "Charge when empty, in ampere-hours."),
    n("charge_empty_design", "charge_empty_design", 1e6, "Design charge when empty, in ampere-hours."),
    n("charge_full", "charge_full", 1e6, "Charge when full, in ampere-hours."),
    n("charge_full_design", "charge_full_design", 1e6, "Design charge when full, in ampere-hours."),
    n("charge_now", "charge_ampere", 1e6, "Charge now, in ampere-hours."),
    n("charge_term_current", "charge_term_current", 1e6, "Charge termination current, in amperes."),
    n("constant_charge_current", "constant_charge_current", 1e6, "Constant charge current, in amperes."),
    n("constant_charge_current_max", "constant_charge_current_max", 1e6, "Highest constant charge current, in amperes."),
    n("constant_charge_voltage", "constant_charge_voltage", 1e6, "Constant charge voltage, in volts."),
    n("constant_charge_voltage_max", "constant_charge_voltage_max", 1e6, "Highest constant charge voltage, in volts."),
    n("precharge_current", "precharge_current", 1e6, "Pre-charge current, in amperes."),
    n("input_current_limit", "input_current_limit", 1e6, "Input current limit, in amperes."),
    n("power_now", "power_watt", 1e6, "Power now, in watts."),
    n("temp", "temp_celsius", 10.0, "Temperature, in °C."),
    n("temp_alert_max", "temp_alert_max_celsius", 10.0, "Upper temperature alert, in °C."),
    n("temp_alert_min", "temp_alert_min_celsius", 10.0, "Lower temperature alert, in °C."),
    n("temp_ambient", "temp_ambient_celsius", 10.0, "Ambient temperature, in °C."),
    n("temp_ambient_max", "temp_ambient_max_celsius", 10.0, "Upper ambient temperature alert, in °C."),
    n("temp_ambient_min", "temp_ambient_min_celsius", 10.0, "Lower ambient temperature alert, in °C."),
    n("temp_max", "temp_max_celsius", 10.0, "Highest allowed temperature, in °C."),
    n("temp_min", "temp_min_celsius", 10.0, "Lowest allowed temperature, in °C."),
];

/// Text attributes that become labels of `node_power_supply_info` (file, label).
const TEXT: &[(&str, &str)] = &[
    ("capacity_level", "capacity_level"),
    ("charge_type", "charge_type"),
    ("health", "health"),
    ("manufacturer", "manufacturer"),
    ("model_name", "model_name"),
    ("serial_number", "serial_number"),
    ("status", "status"),
    ("technology", "technology"),
    ("type", "type"),
    ("usb_type", "usb_type"),
    ("scope", "scope"),
];

/// Reads `/sys/class/power_supply`.
pub struct PowerSupplyClass {
    ignored: Regex,
}

impl SyncCollector for PowerSupplyClass {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let class = cx.paths.sys("class/power_supply");
        let entries = match std::fs::read_dir(&class) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CollectError::NoData("no /sys/class/power_supply".into()))
            }
            Err(e) => return Err(CollectError::io(&class, e)),
        };
        // Read every supply before writing anything: one bad file fails the whole collector
        // with no samples, as in node_exporter.
        let mut supplies = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| CollectError::io(&class, e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
            if self.ignored.is_match(&name) {
                continue;
            }
            supplies.push(supply(&entry.path(), name)?);
        }
        for s in supplies {
            s.write(out);
        }
        Ok(())
    }
}

/// One supply's exposed attributes.
struct Supply {
    name: String,
    numeric: Vec<(&'static Numeric, f64)>,
    info: Vec<(&'static str, String)>,
}

impl Supply {
    fn write(self, out: &mut MetricSet) {
        for (n, v) in self.numeric {
            let family = out.family(format!("node_power_supply_{}", n.metric), n.help, Kind::Gauge);
            family.push(&[("power_supply", &self.name)], v);
        }
        let labels: Vec<(&str, &str)> = self.info.iter().map(|(k, v)| (*k, v.as_str())).collect();
        out.family("node_power_supply_info", "Text attributes of a power supply, as labels.", Kind::Gauge)
            .push(&labels, 1.0);
    }
}

/// Reads one supply.
fn supply(dir: &Path, name: String) -> Result<Supply, CollectError> {
    let mut info: Vec<(&'static str, String)> = vec![("power_supply", name.clone())];
    let entries = std::fs::read_dir(dir).map_err(|e| CollectError::io(dir, e))?;
    let mut numeric: Vec<(&'static Numeric, f64)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| CollectError::io(dir, e))?;
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        let num = NUMERIC.iter().find(|n| n.file == file);
        let text = TEXT.iter().find(|(f, _)| *f == file);
        if num.is_none() && text.is_none() {
            continue;
        }
        let path = entry.path();
        let Some(value) = read_attr(&path)? else { continue };
        if let Some(n) = num {
            let v: i64 = parse_int(&value).ok_or_else(|| CollectError::parse(&path, format!("invalid integer {value:?}")))?;
            numeric.push((n, v as f64 / n.divisor));
        } else if let Some((_, label)) = text {
            if !value.is_empty() {
                info.push((label, value));
            }
        }
    }
    Ok(Supply { name, numeric, info })
}

/// One read of at most 128 bytes, whitespace trimmed; `None` for the errors procfs skips
/// (gone, EINVAL, EOPNOTSUPP).
fn read_attr(path: &Path) -> Result<Option<String>, CollectError> {
    use std::io::Read as _;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CollectError::io(path, e)),
    };
    let mut buf = [0u8; 128];
    match f.read(&mut buf) {
        Ok(n) => Ok(Some(String::from_utf8_lossy(&buf[..n]).trim().to_owned())),
        Err(e)
            if [rustix::io::Errno::INVAL, rustix::io::Errno::OPNOTSUPP]
                .iter()
                .any(|x| e.raw_os_error() == Some(x.raw_os_error())) =>
        {
            Ok(None)
        }
        Err(e) => Err(CollectError::io(path, e)),
    }
}

/// An integer as Go's `strconv.ParseInt(s, 0, 64)` reads it: decimal, `0x`, `0o`, `0b` or
/// leading-zero octal (Go's `_` digit separators are not accepted).
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if neg { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests;
