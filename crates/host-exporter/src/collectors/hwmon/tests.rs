use super::*;

#[test]
fn splits_sensor_file_names_as_node_exporter() {
    assert_eq!(split_filename("temp1_input"), Some(("temp", 1, "input")));
    assert_eq!(split_filename("temp12_crit_alarm"), Some(("temp", 12, "crit_alarm")));
    assert_eq!(split_filename("fan1"), Some(("fan", 1, "")));
    assert_eq!(split_filename("beep_enable"), Some(("beep_enable", 0, "")));
    assert_eq!(split_filename("in07_min"), Some(("in", 7, "min")));
    // Greedy type fails, a shorter one matches: the regex's backtracking is kept.
    assert_eq!(split_filename("ab_1x"), Some(("ab", 0, "1x")));
    assert_eq!(split_filename("temp1x"), None);
    assert_eq!(split_filename("0abc"), None);
}

#[test]
fn cleans_names_as_node_exporter() {
    assert_eq!(clean_name("Test Chip\n"), "test_chip");
    assert_eq!(clean_name("coretemp.0"), "coretemp_0");
    assert_eq!(clean_name("pci0000:00"), "pci0000:00");
    assert_eq!(clean_name("__x__"), "x");
}

#[test]
fn fixture_tree() {
    // Expected: node_exporter 1.5's output on the same (constructed) tree, HELP aside.
    let text = crate::collectors::fixture_text(&Hwmon).unwrap();
    let want = "# TYPE node_hwmon_beep_enabled gauge\n\
node_hwmon_beep_enabled{chip=\"test_chip\",sensor=\"beep_enable0\"} 1\n\
# TYPE node_hwmon_chip_names gauge\n\
node_hwmon_chip_names{chip=\"platform_coretemp_0\",chip_name=\"coretemp\"} 1\n\
node_hwmon_chip_names{chip=\"test_chip\",chip_name=\"test_chip\"} 1\n\
# TYPE node_hwmon_cpu_vid_volts gauge\n\
node_hwmon_cpu_vid_volts{chip=\"test_chip\",sensor=\"cpu0\"} 1.2\n\
# TYPE node_hwmon_curr_amps gauge\n\
node_hwmon_curr_amps{chip=\"test_chip\",sensor=\"curr1\"} 1.5\n\
# TYPE node_hwmon_energy_joule_total counter\n\
node_hwmon_energy_joule_total{chip=\"test_chip\",sensor=\"energy1\"} 1\n\
# TYPE node_hwmon_fan_alarm gauge\n\
node_hwmon_fan_alarm{chip=\"test_chip\",sensor=\"fan1\"} 0\n\
# TYPE node_hwmon_fan_div gauge\n\
node_hwmon_fan_div{chip=\"test_chip\",sensor=\"fan1\"} 2\n\
# TYPE node_hwmon_fan_min_rpm gauge\n\
node_hwmon_fan_min_rpm{chip=\"test_chip\",sensor=\"fan1\"} 300\n\
# TYPE node_hwmon_fan_rpm gauge\n\
node_hwmon_fan_rpm{chip=\"test_chip\",sensor=\"fan1\"} 1200\n\
# TYPE node_hwmon_humidity gauge\n\
node_hwmon_humidity{chip=\"test_chip\",sensor=\"humidity1\"} 0.045\n\
# TYPE node_hwmon_in_alarm gauge\n\
node_hwmon_in_alarm{chip=\"test_chip\",sensor=\"in0\"} 0\n\
# TYPE node_hwmon_in_max_volts gauge\n\
node_hwmon_in_max_volts{chip=\"test_chip\",sensor=\"in0\"} 1.744\n\
# TYPE node_hwmon_in_min_volts gauge\n\
node_hwmon_in_min_volts{chip=\"test_chip\",sensor=\"in0\"} 0\n\
# TYPE node_hwmon_in_volts gauge\n\
node_hwmon_in_volts{chip=\"test_chip\",sensor=\"in0\"} 1.024\n\
# TYPE node_hwmon_intrusion_alarm gauge\n\
node_hwmon_intrusion_alarm{chip=\"test_chip\",sensor=\"intrusion0\"} 1\n\
# TYPE node_hwmon_power_accuracy gauge\n\
node_hwmon_power_accuracy{chip=\"test_chip\",sensor=\"power1\"} 0.05\n\
# TYPE node_hwmon_power_average_interval_seconds gauge\n\
node_hwmon_power_average_interval_seconds{chip=\"test_chip\",sensor=\"power1\"} 1\n\
# TYPE node_hwmon_power_average_watt gauge\n\
node_hwmon_power_average_watt{chip=\"test_chip\",sensor=\"power1\"} 25\n\
# TYPE node_hwmon_pwm gauge\n\
node_hwmon_pwm{chip=\"test_chip\",sensor=\"pwm1\"} 128\n\
# TYPE node_hwmon_pwm_enable gauge\n\
node_hwmon_pwm_enable{chip=\"test_chip\",sensor=\"pwm1\"} 2\n\
# TYPE node_hwmon_sensor_label gauge\n\
node_hwmon_sensor_label{chip=\"platform_coretemp_0\",label=\"Core 0\",sensor=\"temp2\"} 1\n\
node_hwmon_sensor_label{chip=\"platform_coretemp_0\",label=\"Package id 0\",sensor=\"temp1\"} 1\n\
node_hwmon_sensor_label{chip=\"test_chip\",label=\"Vcore\",sensor=\"in0\"} 1\n\
# TYPE node_hwmon_temp_beep_enabled gauge\n\
node_hwmon_temp_beep_enabled{chip=\"test_chip\",sensor=\"temp1\"} 1\n\
# TYPE node_hwmon_temp_celsius gauge\n\
node_hwmon_temp_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} 55\n\
node_hwmon_temp_celsius{chip=\"platform_coretemp_0\",sensor=\"temp2\"} 53\n\
node_hwmon_temp_celsius{chip=\"test_chip\",sensor=\"temp1\"} 42\n\
# TYPE node_hwmon_temp_crit_alarm_celsius gauge\n\
node_hwmon_temp_crit_alarm_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} 0\n\
# TYPE node_hwmon_temp_crit_celsius gauge\n\
node_hwmon_temp_crit_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} 100\n\
# TYPE node_hwmon_temp_fault gauge\n\
node_hwmon_temp_fault{chip=\"test_chip\",sensor=\"temp1\"} 0\n\
# TYPE node_hwmon_temp_max_celsius gauge\n\
node_hwmon_temp_max_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} 100\n\
# TYPE node_hwmon_temp_type gauge\n\
node_hwmon_temp_type{chip=\"test_chip\",sensor=\"temp1\"} 4\n\
# TYPE node_hwmon_update_interval_seconds gauge\n\
node_hwmon_update_interval_seconds{chip=\"test_chip\",sensor=\"update_interval0\"} 1\n\
# TYPE node_hwmon_voltage_regulator_version gauge\n\
node_hwmon_voltage_regulator_version{chip=\"test_chip\",sensor=\"vrm0\"} 90\n";
    assert_eq!(crate::collectors::without_help(&text), want);
}

#[test]
fn no_hwmon_class_is_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let paths = vigie_kit::Paths { sysfs: dir.path().to_owned(), ..crate::collectors::fixtures() };
    let (_, result) = vigie_kit::scheduler::collect_once(&Hwmon, paths);
    assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
}
