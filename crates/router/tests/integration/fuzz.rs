//! Property test: the real captures mutated ≥ 10,000 times (a small deterministic mutator:
//! byte flips, cuts, duplications, hostile tokens) through the parser: never a panic, every
//! result accepted or refused with a reason. 1,000 of them also go over HTTP to the router:
//! every reply a 2xx, or a 4xx with a reason. Mutated configs go through the config checks.

use std::path::Path;

use vigie_router::payload;

use crate::support::*;

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "null",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "9e999",
    "-1",
    "1.5",
    "true",
    "\"\"",
    "\\u0000",
    "\\ud800",
    "\"version\":\"4\"",
    "\"alerts\":[]",
    "\"status\":\"firing\"",
    "\"fingerprint\":\"\"",
    "{}",
    "[]",
    "é",
    "\u{0}",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len().max(1);
        match rng.below(7) {
            0 => {
                let i = rng.below(len);
                if let Some(b) = v.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                let (a, b) = (a.min(b), a.max(b).min(v.len()));
                v.drain(a..b);
            }
            2 => {
                let (a, b) = (rng.below(len), rng.below(len));
                let (a, b) = (a.min(b), a.max(b).min(v.len()));
                let piece = v[a..b].to_vec();
                let at = rng.below(v.len() + 1).min(v.len());
                v.splice(at..at, piece);
            }
            3 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(v.len() + 1).min(v.len());
                v.splice(at..at, t.iter().copied());
            }
            4 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len).min(v.len());
                let end = (at + rng.below(8)).min(v.len());
                v.splice(at..end, t.iter().copied());
            }
            5 => v.truncate(rng.below(len)),
            _ => {
                // Swap a string value for another JSON type.
                let s = String::from_utf8_lossy(&v).into_owned();
                let keys =
                    ["\"alerts\":", "\"labels\":", "\"startsAt\":", "\"groupKey\":", "\"receiver\":", "\"status\":"];
                let k = keys[rng.below(keys.len())];
                let t = ["1", "null", "[]", "{}", "\"x\"", "true"][rng.below(6)];
                v = s.replacen(k, &format!("{k}{t},\"_was\":"), 1).into_bytes();
            }
        }
    }
    v
}

#[test]
fn ten_thousand_mutated_webhooks() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut ok, mut refused) = (0, 0);
    let mut bodies = Vec::new();
    for i in 0..10_000 {
        let base = if i % 2 == 0 { FIRING } else { RESOLVED };
        let body = mutate(&mut rng, base);
        match payload::parse(&body) {
            Ok(m) => {
                ok += 1;
                let _ = m.key();
                let _ = m.route_labels();
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().trim().is_empty(), "empty reason for {:?}", String::from_utf8_lossy(&body));
            }
        }
        if i % 10 == 0 {
            bodies.push(body);
        }
    }
    println!("parser: {ok} accepted, {refused} refused");
    assert!(ok > 100 && refused > 100, "the mutator should produce both: {ok} / {refused}");

    let dir = tempfile::tempdir().unwrap();
    let cfg = router_config(dir.path(), free_port(), "none", "1h", "2h");
    let r = Router::start(&cfg, free_port());
    let (mut ok2, mut refused2) = (0, 0);
    for body in &bodies {
        let (st, reason) = r.post(body);
        match st {
            200..=299 => ok2 += 1,
            400..=499 => {
                refused2 += 1;
                assert!(!reason.trim().is_empty(), "4xx without a reason");
            }
            other => panic!("status {other} ({reason}) for {:?}", String::from_utf8_lossy(body)),
        }
    }
    println!("http: {ok2} accepted, {refused2} refused");
    assert_eq!(ok2 + refused2, 1000);
}

#[test]
fn mutated_configs_never_panic() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/router.yml")).unwrap();
    let mut rng = Rng(0xc0ff_ee00_1234_5678);
    let mut errors = 0;
    for _ in 0..2_000 {
        let m = mutate(&mut rng, text.as_bytes());
        let s = String::from_utf8_lossy(&m);
        let p = Path::new("fuzz.yml");
        match vigie_kit::config::parse::<vigie_router::config::File>(p, &s) {
            Ok(file) => {
                if let Err(errs) = vigie_router::config::check(p, &s, file) {
                    assert!(errs.iter().all(|e| !e.msg.is_empty()));
                    errors += 1;
                }
            }
            Err(e) => {
                assert!(!e.msg.is_empty());
                errors += 1;
            }
        }
    }
    assert!(errors > 100);
}
