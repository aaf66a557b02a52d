use super::*;

fn collector(pattern: &str) -> PowerSupplyClass {
    PowerSupplyClass { ignored: Regex::new(pattern).unwrap() }
}

#[test]
fn fixture_tree() {
    // Expected: node_exporter 1.5's output on the same (constructed) tree, HELP aside.
    let text = crate::collectors::fixture_text(&collector("^$")).unwrap();
    let want = "# TYPE node_power_supply_capacity gauge\n\
node_power_supply_capacity{power_supply=\"BAT0\"} 66\n\
# TYPE node_power_supply_cyclecount gauge\n\
node_power_supply_cyclecount{power_supply=\"BAT0\"} 12\n\
# TYPE node_power_supply_energy_full gauge\n\
node_power_supply_energy_full{power_supply=\"BAT0\"} 45\n\
# TYPE node_power_supply_energy_full_design gauge\n\
node_power_supply_energy_full_design{power_supply=\"BAT0\"} 50\n\
# TYPE node_power_supply_energy_watthour gauge\n\
node_power_supply_energy_watthour{power_supply=\"BAT0\"} 30\n\
# TYPE node_power_supply_info gauge\n\
node_power_supply_info{power_supply=\"AC\",type=\"Mains\"} 1\n\
node_power_supply_info{capacity_level=\"Normal\",manufacturer=\"Test Vendor\",model_name=\"Test Model\",power_supply=\"BAT0\",status=\"Discharging\",technology=\"Li-ion\",type=\"Battery\"} 1\n\
# TYPE node_power_supply_online gauge\n\
node_power_supply_online{power_supply=\"AC\"} 1\n\
# TYPE node_power_supply_power_watt gauge\n\
node_power_supply_power_watt{power_supply=\"BAT0\"} 9\n\
# TYPE node_power_supply_present gauge\n\
node_power_supply_present{power_supply=\"BAT0\"} 1\n\
# TYPE node_power_supply_temp_celsius gauge\n\
node_power_supply_temp_celsius{power_supply=\"BAT0\"} 25\n\
# TYPE node_power_supply_voltage_min_design gauge\n\
node_power_supply_voltage_min_design{power_supply=\"BAT0\"} 11.1\n\
# TYPE node_power_supply_voltage_volt gauge\n\
node_power_supply_voltage_volt{power_supply=\"BAT0\"} 12\n";
    assert_eq!(crate::collectors::without_help(&text), want);
}

#[test]
fn ignored_supplies() {
    let text = crate::collectors::fixture_text(&collector("^BAT")).unwrap();
    assert_eq!(
        crate::collectors::without_help(&text),
        "# TYPE node_power_supply_info gauge\nnode_power_supply_info{power_supply=\"AC\",type=\"Mains\"} 1\n\
# TYPE node_power_supply_online gauge\nnode_power_supply_online{power_supply=\"AC\"} 1\n"
    );
}

#[test]
fn integers_parse_as_go_base_zero() {
    assert_eq!(parse_int("12000000"), Some(12_000_000));
    assert_eq!(parse_int("-250"), Some(-250));
    assert_eq!(parse_int("0x10"), Some(16));
    assert_eq!(parse_int("010"), Some(8));
    assert_eq!(parse_int("0"), Some(0));
    assert_eq!(parse_int("12.5"), None);
    assert_eq!(parse_int(""), None);
    assert_eq!(parse_int("--1"), None);
}

#[test]
fn a_bad_value_fails_with_no_samples_and_no_class_is_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let paths = vigie_kit::Paths { sysfs: dir.path().to_owned(), ..crate::collectors::fixtures() };
    let (_, result) = vigie_kit::scheduler::collect_once(&collector("^$"), paths.clone());
    assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");

    let bat = dir.path().join("class/power_supply/BAT1");
    std::fs::create_dir_all(&bat).unwrap();
    std::fs::write(bat.join("capacity"), "lots\n").unwrap();
    let (set, result) = vigie_kit::scheduler::collect_once(&collector("^$"), paths);
    let err = result.unwrap_err().to_string();
    assert!(err.contains("BAT1/capacity") && err.contains("lots"), "{err}");
    assert_eq!(set.sample_count(), 0);
}
