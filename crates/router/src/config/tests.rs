//! Config tests: the example config, every file under `tests/config/bad/` with the message
//! its first line expects, and routing.

use std::path::PathBuf;

use super::*;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small config with second-scale delays, as the tests use.
pub(crate) const SMALL: &str = r#"
email: {smarthost: "127.0.0.1:25", from: vigie@example.org, tls: none}
resolution: {target: 1h, level: 3}
contacts:
  - {name: alice, email: alice@example.org}
  - {name: bob, email: bob@example.org}
  - {name: dora, email: dora@example.org}
  - {name: arch, email: arch@example.org}
teams:
  - {name: support, level: 1, members: [alice, bob]}
  - {name: devops, level: 2, members: [dora]}
policies:
  - name: standard
    levels:
      - {}
      - {delay: 2s}
      - {targets: [arch], delay: 5s}
    repeat: {times: 2, interval: 10s}
  - name: db
    levels:
      - {targets: [dora]}
route:
  policy: standard
  routes:
    - matchers: ['service=~"db|storage"', 'env!="dev"']
      policy: db
"#;

pub(crate) fn small() -> Config {
    let file: File = kitconfig::parse(Path::new("small.yml"), SMALL).unwrap();
    check(Path::new("small.yml"), SMALL, file).unwrap()
}

#[test]
fn example_config_is_valid() {
    let p = dir().join("examples/router.yml");
    let text = std::fs::read_to_string(&p).unwrap();
    // The example names a secret file that does not exist here: check everything else.
    let text = text.replace("bearer_token: {file: /etc/vigie-router/webhook-token}", "");
    let text = text.replace("password: {env: VIGIE_SMTP_PASSWORD}", "");
    let text = text.replace("username: vigie\n", "");
    // Stand-ins for the Slack and Twilio secrets.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hook"), "https://hooks.slack.com/services/T0/B0/X\n").unwrap();
    std::fs::write(tmp.path().join("twilio"), "t\n").unwrap();
    let hook = format!("{{file: {}}}", tmp.path().join("hook").display());
    let text = text.replace("{file: /etc/vigie-router/slack-ops-l1.url}", &hook);
    let twilio = format!("{{file: {}}}", tmp.path().join("twilio").display());
    let text = text.replace("{env: VIGIE_TWILIO_TOKEN}", &twilio);
    std::fs::write(tmp.path().join("key"), "0123456789abcdef0123456789abcdef\n").unwrap();
    let key = format!("{{file: {}}}", tmp.path().join("key").display());
    let text = text.replace("{file: /etc/vigie-router/ack-key}", &key);
    let text = text.replace("{env: VIGIE_SLACK_SIGNING_SECRET}", &key);
    let text = text.replace("{file: /etc/vigie-router/api-token}", &key);
    let file: File = kitconfig::parse(&p, &text).unwrap();
    let cfg = check(&p, &text, file).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(cfg.policies.len(), 2);
    let acks = cfg.acks.as_ref().unwrap();
    assert!(acks.twilio_auth_token.is_some(), "the inbound token defaults to the sending one");
    assert_eq!(acks.public_url.as_deref(), Some("https://router.example.org"));
    let crit: KV = [("severity".to_string(), "critical".to_string())].into();
    assert_eq!(cfg.route(&crit).name, "critical");
    let db: KV = [("service".to_string(), "db".to_string()), ("env".to_string(), "prod".to_string())].into();
    assert_eq!(cfg.route(&db).name, "critical");
    let dev: KV = [("service".to_string(), "db".to_string()), ("env".to_string(), "dev".to_string())].into();
    assert_eq!(cfg.route(&dev).name, "standard");
    let l1: Vec<(ChannelKind, &str)> =
        cfg.policy("critical").unwrap().levels[0].targets.iter().map(|t| (t.channel, t.address.as_str())).collect();
    assert!(l1.contains(&(ChannelKind::Slack, "ops-l1")) && l1.contains(&(ChannelKind::Sms, "+33600000001")), "{l1:?}");
    // Level 1 of "standard" has no targets: the teams with `level: 1`.
    let l1: Vec<&str> = cfg.policies[0].levels[0].targets.iter().map(|t| t.contact.as_str()).collect();
    assert_eq!(l1, ["alice", "bob"]);
}

#[test]
fn bad_configs_give_their_expected_message() {
    let bad = dir().join("tests/config/bad");
    let mut seen = 0;
    for entry in std::fs::read_dir(&bad).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: first line must be `# expect: <message>`", path.display()));
        let errs = load(&path).err().unwrap_or_else(|| panic!("{} was accepted", path.display()));
        let shown: Vec<String> =
            errs.iter().map(|e| e.to_string().replace(&format!("{}/", bad.display()), "")).collect();
        assert!(
            shown.iter().any(|s| s.starts_with(expect)),
            "{}:\nexpected: {expect}\ngot:\n{}",
            path.display(),
            shown.join("\n")
        );
        seen += 1;
    }
    assert!(seen >= 8, "only {seen} bad configs");
}

#[test]
fn all_problems_are_collected() {
    let text = r#"
contacts:
  - {name: alice, email: not-an-address}
  - {name: alice, email: a@example.org}
policies:
  - name: p
    levels:
      - targets: [nobody]
      - targets: [alice]
route: {policy: q}
"#;
    let file: File = kitconfig::parse(Path::new("x.yml"), text).unwrap();
    let errs: Vec<String> = check(Path::new("x.yml"), text, file).unwrap_err().iter().map(|e| e.to_string()).collect();
    let all = errs.join("\n");
    for want in [
        "contacts[0].email: invalid email address",
        "contacts[1].name: duplicate contact",
        "targets[0]: unknown contact or team \"nobody\"",
        "levels[1]: level 2 needs a delay",
        "route.policy: unknown policy \"q\"",
        "channel email needs the top-level `email` section",
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
}

#[test]
fn start_level_from_label() {
    let cfg = small();
    let p = &cfg.policies[0];
    let l = |v: &str| -> KV { [("level".to_string(), v.to_string())].into() };
    assert_eq!(Config::start_level(&KV::new(), p), 1);
    assert_eq!(Config::start_level(&l("2"), p), 2);
    assert_eq!(Config::start_level(&l("L3"), p), 3);
    assert_eq!(Config::start_level(&l("9"), p), 3);
    assert_eq!(Config::start_level(&l("0"), p), 1);
    assert_eq!(Config::start_level(&l("x"), p), 1);
}

#[test]
fn secrets_never_print() {
    let text = "ingest:\n  bearer_token: {env: VIGIE_TEST_NEVER_SET_TOKEN}\ncontacts: []\npolicies: []\nroute: {}\n";
    let file: File = kitconfig::parse(Path::new("x.yml"), text).unwrap();
    let errs = check(Path::new("x.yml"), text, file).unwrap_err();
    assert!(errs[0].to_string().contains("ingest.bearer_token: environment variable VIGIE_TEST_NEVER_SET_TOKEN"));
}
