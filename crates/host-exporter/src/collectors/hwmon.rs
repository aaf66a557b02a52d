//! `/sys/class/hwmon/*` → `node_hwmon_*` (node_exporter "hwmon" names).
//!
//! Every sensor file (`temp1_input`, `fan2_min`, `in0_alarm`, `beep_enable`…) of each chip,
//! and of its `device/` directory, becomes a sample labelled `chip` and `sensor`, in base
//! units (°C, V, A, W, J, s, ratio) with node_exporter's family names; `*_label` files give
//! `node_hwmon_sensor_label` and the `name` file `node_hwmon_chip_names`. Unreadable or
//! non-numeric sensor files are skipped, as node_exporter does (some sensors answer EIO).
//! No `/sys/class/hwmon`: no data (success 0), as in node_exporter.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use vigie_kit::exposition::Kind;
use vigie_kit::{CollectError, CollectResult, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "hwmon",
    default_enabled: true,
    help: "Exposes hardware monitoring and sensor data from /sys/class/hwmon/.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Hwmon)),
};

const SENSOR_TYPES: &[&str] = &[
    "vrm",
    "beep_enable",
    "update_interval",
    "in",
    "cpu",
    "fan",
    "pwm",
    "temp",
    "curr",
    "power",
    "energy",
    "humidity",
    "intrusion",
];

/// node_exporter's split of a sensor file name into type, number and property.
static FILENAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(?P<type>[^0-9]+)(?P<id>[0-9]*)?(_(?P<property>.+))?$").ok());

/// Reads `/sys/class/hwmon`.
pub struct Hwmon;

/// A chip's sensors: sensor (`temp1`) → property (`input`, `max`, `` for none) → raw value.
type Sensors = BTreeMap<String, BTreeMap<String, String>>;

impl SyncCollector for Hwmon {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let class = cx.paths.sys("class/hwmon");
        let entries = match cx.read_dir(&class) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CollectError::NoData("no /sys/class/hwmon".into()))
            }
            Err(e) => return Err(CollectError::io(&class, e)),
        };
        let mut last = Ok(());
        for entry in entries.flatten() {
            let dir = entry.path();
            // Follows the class symlink; entries that are not directories are skipped.
            if !std::fs::metadata(&dir).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            if let Err(e) = chip(&dir, out) {
                last = Err(e);
            }
        }
        last
    }
}

/// Exposes one chip.
fn chip(dir: &Path, out: &mut MetricSet) -> CollectResult {
    let chip = chip_label(dir).ok_or_else(|| CollectError::Other(format!("no name for {}", dir.display())))?;
    let mut sensors = Sensors::new();
    read_sensors(dir, &mut sensors)?;
    let device = dir.join("device");
    if std::fs::metadata(&device).is_ok() {
        read_sensors(&device, &mut sensors)?;
    }
    if let Some(name) = std::fs::read(dir.join("name")).ok().map(|raw| clean_name(&String::from_utf8_lossy(&raw))) {
        if !name.is_empty() {
            out.family("node_hwmon_chip_names", "Human-readable name of each hwmon chip, as a label.", Kind::Gauge)
                .push(&[("chip", &chip), ("chip_name", &name)], 1.0);
        }
    }
    for (sensor, props) in &sensors {
        let Some((kind, _, _)) = split_filename(sensor) else { continue };
        let labels = [("chip", chip.as_str()), ("sensor", sensor.as_str())];
        if let Some(text) = props.get("label") {
            out.family("node_hwmon_sensor_label", "Label of a hwmon sensor, as a label.", Kind::Gauge).push(
                &[("chip", &chip), ("sensor", sensor), ("label", text)],
                1.0,
            );
        }
        let bare = props.get("");
        match kind {
            "beep_enable" => {
                let on = if bare.map(String::as_str) == Some("1") { 1.0 } else { 0.0 };
                out.family("node_hwmon_beep_enabled", "Whether the chip's beep is enabled.", Kind::Gauge)
                    .push(&labels, on);
                continue;
            }
            "vrm" => {
                if let Some(v) = bare.and_then(|v| number(v)) {
                    out.family(
                        "node_hwmon_voltage_regulator_version",
                        "Version of the voltage regulator the chip reports.",
                        Kind::Gauge,
                    )
                    .push(&labels, v);
                }
                continue;
            }
            "update_interval" => {
                if let Some(v) = bare.and_then(|v| number(v)) {
                    out.family(
                        "node_hwmon_update_interval_seconds",
                        "How often the chip updates its readings, in seconds.",
                        Kind::Gauge,
                    )
                    .push(&labels, v * 0.001);
                }
                continue;
            }
            _ => {}
        }
        for (element, raw) in props {
            if element == "label" {
                continue;
            }
            let Some(value) = number(raw) else { continue };
            let (name, help, kind, value) = family_of(kind, element, bare.is_some(), value);
            out.family(name, help, kind).push(&labels, value);
        }
    }
    Ok(())
}

/// The family name, help, type and scaled value of one sensor property, by node_exporter's
/// rules.
fn family_of(sensor: &str, element: &str, has_bare: bool, v: f64) -> (String, String, Kind, f64) {
    let mut name = format!("node_hwmon_{sensor}");
    if element == "input" {
        if has_bare {
            name.push_str("_input");
        }
    } else if !element.is_empty() {
        name.push('_');
        name.push_str(&clean_name(element));
    }
    let gauge = |name: String, help: String, v: f64| (name, help, Kind::Gauge, v);
    if element == "fault" || element == "alarm" {
        return gauge(name, format!("Whether the {sensor} sensor reports a {element}."), v);
    }
    if element == "beep" {
        return gauge(name + "_enabled", "Whether the sensor beeps on alarm.".into(), v);
    }
    match sensor {
        "in" | "cpu" => gauge(name + "_volts", format!("Voltage read by a hwmon sensor ({element}), in volts."), v * 0.001),
        "temp" if element != "type" => {
            let element = if element.is_empty() { "input" } else { element };
            gauge(name + "_celsius", format!("Temperature read by a hwmon sensor ({element}), in °C."), v * 0.001)
        }
        "curr" => gauge(name + "_amps", format!("Current read by a hwmon sensor ({element}), in amperes."), v * 0.001),
        "energy" => (
            name + "_joule_total",
            format!("Energy used as read by a hwmon sensor ({element}), in joules."),
            Kind::Counter,
            v / 1e6,
        ),
        "power" if element == "accuracy" => gauge(name, "Accuracy of a hwmon power meter, as a ratio.".into(), v / 1e6),
        "power" if matches!(element, "average_interval" | "average_interval_min" | "average_interval_max") => gauge(
            name + "_seconds",
            format!("Averaging interval of a hwmon power meter ({element}), in seconds."),
            v * 0.001,
        ),
        "power" => gauge(name + "_watt", format!("Power read by a hwmon sensor ({element}), in watts."), v / 1e6),
        "humidity" => gauge(name, format!("Relative humidity read by a hwmon sensor ({element}), as a ratio."), v / 1e6),
        "fan" if matches!(element, "input" | "min" | "max" | "target") => {
            gauge(name + "_rpm", format!("Fan speed read by a hwmon sensor ({element}), in revolutions per minute."), v)
        }
        _ => gauge(name, format!("Raw {sensor} sensor value ({element}) of a hwmon chip."), v),
    }
}

/// Reads the sensor files of one directory into `sensors`.
fn read_sensors(dir: &Path, sensors: &mut Sensors) -> CollectResult {
    let entries = std::fs::read_dir(dir).map_err(|e| CollectError::io(dir, e))?;
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        let Some((kind, num, prop)) = split_filename(file) else { continue };
        if !SENSOR_TYPES.contains(&kind) {
            continue;
        }
        if let Some(value) = read_value(&entry.path()) {
            sensors.entry(format!("{kind}{num}")).or_default().insert(prop.to_owned(), value);
        }
    }
    Ok(())
}

/// Splits `temp1_input` into (`temp`, 1, `input`); `None` if it is not a sensor file name.
pub fn split_filename(file: &str) -> Option<(&str, u64, &str)> {
    let caps = FILENAME.as_ref()?.captures(file)?;
    let kind = caps.name("type")?.as_str();
    let num = match caps.name("id").map(|m| m.as_str()) {
        Some(id) if !id.is_empty() => id.parse().ok()?,
        _ => 0,
    };
    Some((kind, num, caps.name("property").map_or("", |m| m.as_str())))
}

/// One read of at most 128 bytes (sysfs attributes are small), newlines trimmed; `None` on
/// any error.
fn read_value(path: &Path) -> Option<String> {
    let mut buf = [0u8; 128];
    let n = std::fs::File::open(path).ok()?.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).trim_matches('\n').to_owned())
}

/// A sensor value, as Go's `strconv.ParseFloat` reads it.
fn number(raw: &str) -> Option<f64> {
    vigie_kit::parse::parse_value(raw)
}

/// The `chip` label: `<bus>_<device>` of the `device` link, else the `name` file, else the
/// directory's own name; all cleaned with [`clean_name`].
fn chip_label(dir: &Path) -> Option<String> {
    if let Ok(device) = std::fs::canonicalize(dir.join("device")) {
        let dev = device.file_name().map(|n| clean_name(&n.to_string_lossy())).unwrap_or_default();
        let bus = device
            .parent()
            .and_then(Path::file_name)
            .map(|n| clean_name(&n.to_string_lossy()))
            .unwrap_or_default();
        if !bus.is_empty() && !dev.is_empty() {
            return Some(format!("{bus}_{dev}"));
        }
        if !dev.is_empty() {
            return Some(dev);
        }
    }
    if let Ok(raw) = std::fs::read(dir.join("name")) {
        let name = clean_name(&String::from_utf8_lossy(&raw));
        if !name.is_empty() {
            return Some(name);
        }
    }
    let real = std::fs::canonicalize(dir).ok()?;
    let name = clean_name(&real.file_name()?.to_string_lossy());
    (!name.is_empty()).then_some(name)
}

/// Lower case, every character outside `[a-z0-9:_]` replaced by `_`, `_` trimmed at both
/// ends.
pub fn clean_name(name: &str) -> String {
    let lower = name.to_lowercase();
    let replaced: String = lower
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == ':' || c == '_' { c } else { '_' })
        .collect();
    replaced.trim_matches('_').to_owned()
}

#[cfg(test)]
mod tests;
