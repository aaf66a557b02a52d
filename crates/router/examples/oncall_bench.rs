//! Benchmark (not a test): the cost of "who is on call" for 50 schedules × 3 layers over
//! 28 days (issue 18 asks for well under a millisecond per lookup).
//!
//! ```sh
//! cargo run --release -p vigie-router --example oncall_bench [-- --step-minutes 10]
//! ```
//!
//! Each schedule has a weekly 4-person rotation, a 12 h daytime layer restricted to weekday
//! business hours, and a nightly layer whose window crosses midnight; zones alternate
//! between Europe/Paris, America/New_York, Asia/Tokyo and Australia/Sydney, and the window
//! spans a daylight-saving change. Side by side, the same answers three ways:
//! 1. `Schedule::on_call` at every step (what paging does: compute from the rules);
//! 2. `Schedule::shifts` for the 28 days once per schedule (what `oncall --days` and the
//!    coverage check do);
//! 3. a binary search in those precomputed shifts (the cheapest possible lookup), as the
//!    yardstick for 1.
//!
//! It checks that 1 and 3 agree at every step before printing times.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use jiff::Timestamp;
use vigie_router::schedule::{compile, Schedule, ScheduleFile, Shift};

const ZONES: [&str; 4] = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"];

fn schedules() -> Vec<Schedule> {
    let mut yaml = String::new();
    for i in 0..50 {
        let p = |k: usize| format!("p{}", (i * 7 + k) % 40);
        yaml.push_str(&format!(
            r#"
- name: s{i}
  time_zone: {zone}
  layers:
    - rotation: {{members: [{a}, {b}, {c}, {d}], shift: 1w, handoff: "monday 09:00", start: 2026-01-05}}
    - rotation: {{members: [{e}, {f}], shift: 12h, handoff: "08:00", start: 2026-01-06}}
      restrict: [{{days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00"}}]
    - rotation: {{members: [{g}, {h}, {k}], shift: 1d, handoff: "22:00", start: 2026-01-07}}
      restrict: [{{from: "22:00", to: "06:00"}}]
"#,
            zone = ZONES[i % 4],
            a = p(0),
            b = p(1),
            c = p(2),
            d = p(3),
            e = p(4),
            f = p(5),
            g = p(6),
            h = p(7),
            k = p(8),
        ));
    }
    let files: Vec<ScheduleFile> = serde_yaml::from_str(&yaml).unwrap();
    compile(&files, &|_| true).unwrap()
}

fn lookup(shifts: &[Shift], t: Timestamp) -> Option<&str> {
    let i = shifts.partition_point(|s| s.start <= t);
    let s = shifts.get(i.checked_sub(1)?)?;
    (t < s.end).then_some(s.contact.as_str())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let step_min: i64 = args
        .iter()
        .position(|a| a == "--step-minutes")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let all = schedules();
    // 28 days from 2026-03-16: Europe and New York change to summer time, Sydney to winter.
    let from: Timestamp = "2026-03-16T00:00:00Z".parse().unwrap();
    let to = Timestamp::from_second(from.as_second() + 28 * 86_400).unwrap();
    let steps: Vec<Timestamp> = (0..28 * 24 * 60 / step_min)
        .map(|k| Timestamp::from_second(from.as_second() + k * step_min * 60).unwrap())
        .collect();

    let started = Instant::now();
    let tables: Vec<Vec<Shift>> = all.iter().map(|s| s.shifts(from, to, &[])).collect();
    let shifts_time = started.elapsed();

    for (s, table) in all.iter().zip(&tables) {
        for &t in &steps {
            let direct = s.on_call(t, &[]);
            assert_eq!(direct.first().map(|c| c.contact.as_str()), lookup(table, t), "{} at {t}", s.name);
        }
    }

    let lookups = (all.len() * steps.len()) as f64;
    let started = Instant::now();
    for s in &all {
        for &t in &steps {
            black_box(s.on_call(black_box(t), &[]));
        }
    }
    let direct = started.elapsed().as_secs_f64() / lookups;
    let started = Instant::now();
    for table in &tables {
        for &t in &steps {
            black_box(lookup(table, black_box(t)));
        }
    }
    let table = started.elapsed().as_secs_f64() / lookups;

    let n_shifts: usize = tables.iter().map(Vec::len).sum();
    println!("{} schedules × 3 layers, 28 days, a lookup every {step_min} min: {lookups} lookups", all.len());
    println!("on_call (from the rules):      {:>9.3} µs per lookup", direct * 1e6);
    println!("binary search in shifts table: {:>9.3} µs per lookup", table * 1e6);
    println!("ratio on_call / table:         {:>9.1}×", direct / table);
    println!("budget 1 ms / on_call:         {:>9.0}×", 1e-3 / direct);
    println!(
        "shifts() over 28 days:         {:>9.3} ms per schedule ({n_shifts} shifts in all)",
        shifts_time.as_secs_f64() * 1e3 / all.len() as f64
    );
}
