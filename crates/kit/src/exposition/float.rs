//! Values printed as Go's `strconv.FormatFloat(v, 'g', -1, 64)` prints them (the shortest
//! text that reads back as the same float, exponent from 1e21 and below 1e-4), with `+Inf`,
//! `-Inf` and `NaN`, as client_golang writes sample values.

use std::fmt::Write as _;

/// Writes `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, with `+Inf`/`-Inf`/`NaN`.
pub fn write_value(out: &mut String, v: f64) {
    let mut bytes = Vec::with_capacity(24);
    value_into(&mut bytes, v);
    out.push_str(std::str::from_utf8(&bytes).unwrap_or("NaN"));
}

/// A small stack buffer for `{:e}`: formatting a float allocates nothing.
struct Digits {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes the decimal digits of `n` at the end of `buf`; returns where they start.
fn decimal_digits(buf: &mut [u8], mut n: u64) -> usize {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return at;
        }
    }
}

/// Appends the decimal digits of `n`.
fn integer_into(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let at = decimal_digits(&mut buf, n);
    out.extend_from_slice(&buf[at..]);
}

/// [`write_value`] into bytes.
pub(super) fn value_into(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    // Fast path: small integers print the same in both notations.
    if v.fract() == 0.0 && v.abs() < 1e6 {
        if v < 0.0 {
            out.push(b'-');
        }
        integer_into(out, v.abs() as u64);
        return;
    }
    // Shortest round-trip digits (no leading or trailing zeros) and decimal exponent. An
    // integer below 2^53 is exact and its neighbours are at most 1 away, so its own digits
    // are the shortest that round-trip (byte counters, dates in ms: most large values); the
    // rest come from Rust's `{:e}`, which is shortest round-trip too.
    let mut d = Digits { buf: [0; 40], len: 0 };
    let exp: i32 = if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        let at = decimal_digits(&mut d.buf, v.abs() as u64);
        let count = d.buf.len() - at;
        d.buf.copy_within(at.., 0);
        d.len = count;
        count as i32 - 1
    } else {
        let _ = write!(d, "{:e}", v.abs());
        let text = &d.buf[..d.len];
        let e = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
        let exp = std::str::from_utf8(&text[(e + 1).min(text.len())..]).ok().and_then(|x| x.parse().ok()).unwrap_or(0);
        // "1.2345" → "12345", in place.
        let mut n = 0;
        for i in 0..e {
            if d.buf[i].is_ascii_digit() {
                d.buf[n] = d.buf[i];
                n += 1;
            }
        }
        d.len = n;
        exp
    };
    while d.len > 1 && d.buf[d.len - 1] == b'0' {
        d.len -= 1;
    }
    let digits = &d.buf[..d.len];
    if v < 0.0 {
        out.push(b'-');
    }
    // Go's shortest 'g' switches to %e when the exponent is < -4 or >= 6 (its precision 6).
    if !(-4..6).contains(&exp) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        if exp.abs() < 10 {
            out.push(b'0');
        }
        integer_into(out, u64::from(exp.unsigned_abs()));
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.extend_from_slice(digits);
            out.resize(out.len() + point - digits.len(), b'0');
        } else {
            out.extend_from_slice(&digits[..point]);
            out.push(b'.');
            out.extend_from_slice(&digits[point..]);
        }
    }
}
