//! Parser tests over literal file contents: captured here (cgroup v1, kernel 6.18) or, for
//! v2, written after the kernel's cgroup-v2 documentation (marked "constructed").

use super::*;

#[test]
fn proc_cgroup_v1_with_cgroup_parent() {
    // Captured: /proc/<pid>/cgroup of a container under dockerd --cgroup-parent=vigie-test.
    let text = "4:memory:/process_api/ce48/vigie-test/0ba3\n2:cpuacct:/vigie-test/0ba3\n1:cpu:/vigie-test/0ba3\n0::/vigie-test/0ba3\n";
    let mounts: HashMap<String, PathBuf> = ["cpu", "cpuacct", "memory"]
        .iter()
        .map(|c| ((*c).to_owned(), PathBuf::from(format!("/sys/fs/cgroup/{c}"))))
        .collect();
    let cg = locate(&Layout::V1 { mounts }, text).unwrap();
    assert_eq!(cg.name, "/vigie-test/0ba3");
    assert_eq!(
        cg.file("memory", "memory.stat").unwrap(),
        PathBuf::from("/sys/fs/cgroup/memory/process_api/ce48/vigie-test/0ba3/memory.stat")
    );
    assert_eq!(cg.file("blkio", "x"), None, "blkio is not mounted in this layout");
}

#[test]
fn proc_cgroup_v1_joint_mount() {
    // cpu and cpuacct mounted together, systemd driver naming (constructed).
    let text = "3:cpu,cpuacct:/system.slice/docker-ab12.scope\n";
    let mounts: HashMap<String, PathBuf> = [("cpu", "cpu,cpuacct"), ("cpuacct", "cpu,cpuacct")]
        .iter()
        .map(|(c, d)| ((*c).to_owned(), PathBuf::from(format!("/sys/fs/cgroup/{d}"))))
        .collect();
    let cg = locate(&Layout::V1 { mounts }, text).unwrap();
    assert_eq!(cg.name, "/system.slice/docker-ab12.scope");
    assert_eq!(
        cg.file("cpuacct", "cpuacct.usage").unwrap(),
        PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/system.slice/docker-ab12.scope/cpuacct.usage")
    );
}

#[test]
fn proc_cgroup_v2() {
    let layout = Layout::V2 { root: "/host/sys/fs/cgroup".into() };
    let cg = locate(&layout, "0::/system.slice/docker-4f3c.scope\n").unwrap();
    assert!(cg.is_v2());
    assert_eq!(
        cg.file("cpu", "cpu.stat").unwrap(),
        PathBuf::from("/host/sys/fs/cgroup/system.slice/docker-4f3c.scope/cpu.stat")
    );
    assert!(locate(&layout, "1:cpu:/x\n").is_err());
    assert!(parse_proc_cgroup("garbage").is_err());
}

#[test]
fn detects_the_layout_of_fixture_trees() {
    let v1 = Layout::detect(&crate::collectors::testing::paths("v1"));
    assert!(matches!(&v1, Layout::V1 { mounts } if mounts.contains_key("memory")), "{v1:?}");
    let v2 = Layout::detect(&crate::collectors::testing::paths("v2"));
    assert!(matches!(v2, Layout::V2 { .. }), "{v2:?}");
}

#[test]
fn an_empty_directory_beside_the_mounts_does_not_shadow_a_controller() {
    // Seen on the test VM: `cpu` and `cpuacct` mounted apart, and an empty `cpu,cpuacct`
    // directory beside them that read_dir may list first.
    let dir = tempfile::tempdir().unwrap();
    let cgroup = dir.path().join("sys/fs/cgroup");
    for d in ["cpu,cpuacct", "cpu/vigie-test", "cpuacct/vigie-test", "memory/vigie-test"] {
        std::fs::create_dir_all(cgroup.join(d)).unwrap();
    }
    let mut paths = crate::collectors::testing::paths("v1");
    paths.sysfs = dir.path().join("sys");
    let Layout::V1 { mounts } = Layout::detect(&paths) else { panic!("v1 expected") };
    assert_eq!(mounts["cpu"], cgroup.join("cpu"));
    assert_eq!(mounts["cpuacct"], cgroup.join("cpuacct"));
    assert_eq!(mounts["memory"], cgroup.join("memory"));
}

#[test]
fn flat_files() {
    let stat = "usage_usec 12500000\nuser_usec 10000000\nnr_throttled 90\n";
    assert_eq!(keyed(stat, "nr_throttled"), Some(90));
    assert_eq!(keyed(stat, "usage"), None);
    assert_eq!(single("max\n"), Some(u64::MAX));
    assert_eq!(single("67108864\n"), Some(67_108_864));
    assert_eq!(single_signed("-1\n"), Some(-1));
    assert_eq!(cpu_max("max 100000\n"), Some((None, 100_000)));
    assert_eq!(cpu_max("50000 100000\n"), Some((Some(50_000), 100_000)));
    assert_eq!(weight_to_shares(100), Some(2597));
    assert_eq!(weight_to_shares(0), None);
}

#[test]
fn block_io() {
    // Captured format (blkio.throttle.io_service_bytes_recursive of a container that wrote).
    let v1 = "254:0 Read 4096\n254:0 Write 8192\n254:0 Sync 0\n254:0 Async 12288\n254:0 Discard 0\n254:0 Total 12288\nTotal 12288\n";
    let stats = blkio_v1(v1);
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].0, (254, 0));
    assert_eq!(stats[0].1[1], ("Write".to_owned(), 8192));
    assert!(blkio_v1("Total 0\n").is_empty());
    // Constructed after Documentation/admin-guide/cgroup-v2.rst, "io.stat".
    let (bytes, ios) = io_stat_v2("8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n");
    assert_eq!(bytes[0].1[0], ("Read".to_owned(), 1_459_200));
    assert_eq!(ios[0].1[1], ("Write".to_owned(), 353));
}

#[test]
fn network_devices() {
    // Captured: /proc/<pid>/net/dev of a --network host container on this VM.
    let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:   85462     195    0    0    0     0          0         0    85462     195    0    0    0     0       0          0\n  eth0: 323718214   13500    0    0    0     0          0         0  1013379    9773    0    0    0     0       0          0\n";
    let ifaces = net_dev(text).unwrap();
    assert_eq!(ifaces.len(), 1);
    assert_eq!(ifaces[0].name, "eth0");
    assert_eq!(ifaces[0].rx, [323_718_214, 13_500, 0, 0]);
    assert_eq!(ifaces[0].tx, [1_013_379, 9773, 0, 0]);
    assert!(net_dev("h1\nh2\n  eth0: 1 2 3\n").is_err());
}
