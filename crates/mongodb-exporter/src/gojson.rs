//! Turns a reply captured as Go `encoding/json` of a `bson.M` (Percona's test data) back
//! into BSON: `{"T": secs, "I": inc}` objects become Timestamps and RFC 3339 strings become
//! dates, which is what the server sent before Go encoded it. Integers become int64 (int32
//! when they fit), other numbers doubles. Used by the tests and the replay responder.

use mongodb::bson::{Bson, DateTime, Document, Timestamp};
use serde_json::Value;

/// The BSON document of a Go-JSON object; `None` if `v` is not an object.
pub fn document(v: &Value) -> Option<Document> {
    match bson(v) {
        Bson::Document(d) => Some(d),
        _ => None,
    }
}

/// The BSON value of one Go-JSON value.
pub fn bson(v: &Value) -> Bson {
    match v {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i32::try_from(i).map_or(Bson::Int64(i), Bson::Int32),
            (None, Some(f)) => Bson::Double(f),
            _ => Bson::Double(f64::NAN),
        },
        Value::String(s) => match looks_like_date(s).then(|| DateTime::parse_rfc3339_str(s).ok()).flatten() {
            Some(d) => Bson::DateTime(d),
            None => Bson::String(s.clone()),
        },
        Value::Array(items) => Bson::Array(items.iter().map(bson).collect()),
        Value::Object(map) => {
            if map.len() == 2 {
                if let (Some(t), Some(i)) = (map.get("T").and_then(Value::as_u64), map.get("I").and_then(Value::as_u64))
                {
                    if let (Ok(time), Ok(increment)) = (u32::try_from(t), u32::try_from(i)) {
                        return Bson::Timestamp(Timestamp { time, increment });
                    }
                }
            }
            Bson::Document(map.iter().map(|(k, v)| (k.clone(), bson(v))).collect())
        }
    }
}

/// `2020-09-10T14:39:52.002-03:00`: the shape Go gives a `time.Time`.
fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_dates_and_numbers() {
        let v: Value = serde_json::from_str(
            r#"{"ts":{"T":1599759590,"I":1},"d":"2020-09-10T14:39:52.002-03:00","i":3,"f":0.5,"big":5000000000,"s":"x"}"#,
        )
        .unwrap();
        let d = document(&v).unwrap();
        assert_eq!(d.get("ts"), Some(&Bson::Timestamp(Timestamp { time: 1599759590, increment: 1 })));
        assert_eq!(d.get_datetime("d").unwrap().timestamp_millis(), 1599759592002);
        assert_eq!(d.get("i"), Some(&Bson::Int32(3)));
        assert_eq!(d.get("f"), Some(&Bson::Double(0.5)));
        assert_eq!(d.get("big"), Some(&Bson::Int64(5_000_000_000)));
        assert_eq!(d.get("s"), Some(&Bson::String("x".into())));
    }
}
