//! A small client for the PM2 daemon's RPC socket (`$PM2_HOME/rpc.sock`): axon req/rep over
//! amp frames, with amp-message argument encoding.
//!
//! Frame: one meta byte (high nibble: protocol version 1, low nibble: argument count), then
//! each argument as a u32 big-endian length and its bytes. An argument starting `j:` is JSON,
//! `s:` a string. A request is `[j:{"type":"call","method":M,"args":[{}]}, s:<id>]`; the reply
//! is `[j:{"args":[result…]} | j:{"error":…}, <id echoed>]`. Replies can come out of order,
//! so they are matched by id. Only read-only methods are ever sent (see [`Method`]): a
//! connection to this socket could otherwise stop or delete apps.

#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::Mutex;

/// Largest argument accepted from the daemon; replies grow with every app's environment,
/// but anything past this is not a PM2 reply.
pub const MAX_ARG: usize = 64 << 20;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Connecting to the socket failed (missing, permission denied, refused).
    #[error("connect {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reading or writing failed after connecting (the daemon went away).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The deadline passed.
    #[error("no reply before the scrape deadline")]
    Timeout,
    /// The bytes are not an amp frame or the argument not what PM2 sends.
    #[error("malformed reply: {0}")]
    Frame(String),
    /// The daemon answered with an error.
    #[error("daemon error: {0}")]
    Daemon(String),
    /// The reply parsed, but an entry of the process list lacks what every process has.
    #[error("{0}")]
    List(String),
}

/// The read-only methods this client may call: the allow-list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The process list with monitoring data (what `pm2 jlist` shows).
    GetMonitorData,
    /// `{"msg":"pong"}`.
    #[allow(dead_code)] // on the allow-list; the unit tests speak it
    Ping,
    /// The daemon's version string.
    #[allow(dead_code)] // on the allow-list; not needed by a scrape yet
    GetVersion,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::GetMonitorData => "getMonitorData",
            Method::Ping => "ping",
            Method::GetVersion => "getVersion",
        }
    }
}

/// Encodes one amp frame of the given arguments (at most 15).
pub fn encode_frame(args: &[&[u8]]) -> Vec<u8> {
    debug_assert!(args.len() <= 15);
    let mut out = Vec::with_capacity(1 + args.iter().map(|a| 4 + a.len()).sum::<usize>());
    out.push(0x10 | args.len() as u8);
    for arg in args {
        out.extend_from_slice(&(arg.len() as u32).to_be_bytes());
        out.extend_from_slice(arg);
    }
    out
}

/// The request frame for `method` with id `id`. PM2 appends its callback to `args`, so
/// `args` must hold exactly the method's one parameter: `{}`.
pub fn request(method: Method, id: &str) -> Vec<u8> {
    let call = format!(r#"j:{{"type":"call","method":"{}","args":[{{}}]}}"#, method.name());
    let id = format!("s:{id}");
    encode_frame(&[call.as_bytes(), id.as_bytes()])
}

/// A decoded frame's arguments and the number of bytes it took.
pub type Frame = (Vec<Vec<u8>>, usize);

/// Splits one complete frame off the front of `buf`: `Ok(None)` if more bytes are needed.
pub fn decode_frame(buf: &[u8]) -> Result<Option<Frame>, Error> {
    let Some(&meta) = buf.first() else { return Ok(None) };
    if meta >> 4 != 1 {
        return Err(Error::Frame(format!("protocol version {} (expected 1)", meta >> 4)));
    }
    let argc = (meta & 0x0f) as usize;
    let mut at = 1;
    let mut args = Vec::with_capacity(argc);
    for _ in 0..argc {
        let Some(len) = buf.get(at..at + 4) else { return Ok(None) };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if len > MAX_ARG {
            return Err(Error::Frame(format!("argument of {len} bytes")));
        }
        at += 4;
        let Some(arg) = buf.get(at..at + len) else { return Ok(None) };
        args.push(arg.to_vec());
        at += len;
    }
    Ok(Some((args, at)))
}

/// The result of a reply frame: `args[0]` of the JSON, or the daemon's error.
pub fn reply_result(args: &[Vec<u8>]) -> Result<serde_json::Value, Error> {
    let json = reply_json(args)?;
    let mut value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| Error::Frame(format!("reply JSON: {e}")))?;
    if let Some(err) = value.get("error") {
        // Only the message: the daemon's stack trace may quote the environment.
        let msg = err.as_str().unwrap_or("unknown error");
        return Err(Error::Daemon(msg.chars().take(200).collect()));
    }
    match value.get_mut("args").and_then(|a| a.as_array_mut()) {
        Some(list) if !list.is_empty() => Ok(list.swap_remove(0)),
        _ => Err(Error::Frame("reply without args".into())),
    }
}

/// One kept connection to the daemon, re-opened after any failure.
/// The JSON text of a reply's first argument.
fn reply_json(args: &[Vec<u8>]) -> Result<&[u8], Error> {
    let first = args.first().ok_or_else(|| Error::Frame("reply with no arguments".into()))?;
    first.strip_prefix(b"j:").ok_or_else(|| Error::Frame("reply argument is not JSON".into()))
}

/// [`reply_result`] of a `getMonitorData` reply, read straight into the process list
/// ([`crate::model::parse_list_from`]): no JSON tree of every app's environment.
pub fn reply_list(args: &[Vec<u8>]) -> Result<Vec<crate::model::Process>, Error> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    struct Reply {
        error: Option<serde_json::Value>,
        list: Option<Vec<crate::model::Process>>,
    }
    struct ListSeed;
    impl<'de> DeserializeSeed<'de> for ListSeed {
        type Value = Vec<crate::model::Process>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            crate::model::parse_list_from(d)
        }
    }
    struct Top;
    impl<'de> Visitor<'de> for Top {
        type Value = Reply;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a reply object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reply, A::Error> {
            let mut reply = Reply { error: None, list: None };
            while let Some(key) = map.next_key::<crate::model::Key<'de>>()? {
                match &*key {
                    "error" => reply.error = Some(map.next_value()?),
                    "args" => reply.list = map.next_value_seed(FirstArg)?,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(reply)
        }
    }
    /// `args`: the first element is the list; `None` when empty or not an array.
    struct FirstArg;
    impl<'de> DeserializeSeed<'de> for FirstArg {
        type Value = Option<Vec<crate::model::Process>>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for FirstArg {
        type Value = Option<Vec<crate::model::Process>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the reply's args")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element_seed(ListSeed)?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(first)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    let json = reply_json(args)?;
    let mut de = serde_json::Deserializer::from_slice(json);
    let reply = match de.deserialize_map(Top).and_then(|r| de.end().map(|()| r)) {
        Ok(reply) => reply,
        Err(e) => {
            let msg = e.to_string();
            // An entry without pm_id, name or pm2_env: the reply itself was fine.
            if let Some(list_error) = msg.strip_prefix("process #") {
                let list_error = list_error.rsplit_once(" at line ").map_or(list_error, |(m, _)| m);
                return Err(Error::List(format!("process #{list_error}")));
            }
            return Err(Error::Frame(format!("reply JSON: {msg}")));
        }
    };
    if let Some(err) = reply.error {
        let msg = err.as_str().unwrap_or("unknown error");
        return Err(Error::Daemon(msg.chars().take(200).collect()));
    }
    reply.list.ok_or_else(|| Error::Frame("reply without args".into()))
}

pub struct Client {
    path: PathBuf,
    conn: Mutex<Option<Conn>>,
}

struct Conn {
    stream: UnixStream,
    buf: Vec<u8>,
    next_id: u64,
}

impl Client {
    /// A client for the socket at `path`; nothing is opened yet.
    pub fn new(path: impl Into<PathBuf>) -> Client {
        Client { path: path.into(), conn: Mutex::new(None) }
    }

    /// Calls `method`, giving up at `deadline`. Any failure drops the connection, so the next
    /// call reconnects (the daemon may have restarted).
    #[allow(dead_code)] // the unit tests and other methods read the reply as JSON
    pub async fn call(&self, method: Method, deadline: Instant) -> Result<serde_json::Value, Error> {
        self.call_with(method, deadline, reply_result).await
    }

    /// [`Client::call`] with the reply frame's arguments read by `parse` (e.g. [`reply_list`]).
    pub async fn call_with<R>(
        &self,
        method: Method,
        deadline: Instant,
        parse: fn(&[Vec<u8>]) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut slot = self.conn.lock().await;
        let result = tokio::time::timeout_at(deadline.into(), self.call_on(&mut slot, method, parse)).await;
        let result = result.unwrap_or(Err(Error::Timeout));
        if matches!(result, Err(Error::Io(_) | Error::Timeout | Error::Frame(_) | Error::Connect { .. })) {
            *slot = None;
        }
        result
    }

    async fn call_on<R>(
        &self,
        slot: &mut Option<Conn>,
        method: Method,
        parse: fn(&[Vec<u8>]) -> Result<R, Error>,
    ) -> Result<R, Error> {
        if slot.is_none() {
            let stream = UnixStream::connect(&self.path)
                .await
                .map_err(|source| Error::Connect { path: self.path.clone(), source })?;
            *slot = Some(Conn { stream, buf: Vec::with_capacity(64 << 10), next_id: 0 });
        }
        let Some(conn) = slot.as_mut() else { return Err(Error::Frame("no connection".into())) };
        conn.next_id += 1;
        let id = format!("vigie:{}", conn.next_id);
        conn.stream.write_all(&request(method, &id)).await?;
        let want = format!("s:{id}");
        loop {
            if let Some((args, used)) = decode_frame(&conn.buf)? {
                conn.buf.drain(..used);
                // A reply to an earlier, abandoned call is skipped.
                if args.last().map(Vec::as_slice) == Some(want.as_bytes()) {
                    return parse(&args);
                }
                continue;
            }
            conn.buf.reserve(64 << 10);
            let n = conn.stream.read_buf(&mut conn.buf).await?;
            if n == 0 {
                return Err(Error::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "daemon closed the socket",
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
    }

    #[test]
    fn requests_match_the_captured_bytes() {
        assert_eq!(request(Method::Ping, "4242:0"), fixture("ping.request.bin"));
        assert_eq!(request(Method::GetMonitorData, "4242:1"), fixture("getMonitorData.request.bin"));
    }

    #[test]
    fn decodes_captured_replies() {
        let (args, used) = decode_frame(&fixture("ping.reply.bin")).unwrap().unwrap();
        assert_eq!(used, 44);
        assert_eq!(args[1], b"s:4242:0");
        assert_eq!(reply_result(&args).unwrap(), serde_json::json!({"msg": "pong"}));

        let bytes = fixture("getMonitorData.reply.bin");
        let (args, used) = decode_frame(&bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        let list = reply_result(&args).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 7);
        assert_eq!(list[0]["name"], "web");
    }

    #[test]
    fn the_typed_reading_equals_the_json_tree_reading() {
        let bytes = fixture("getMonitorData.reply.bin");
        let (args, _) = decode_frame(&bytes).unwrap().unwrap();
        let typed = reply_list(&args).unwrap();
        let tree = crate::model::parse_list(&reply_result(&args).unwrap()).unwrap();
        assert_eq!(typed.len(), 7);
        assert_eq!(typed, tree);
        let bad = [br#"j:{"args":[[{"pm_id":0,"name":"a","pm2_env":{}},{"name":"b","pm2_env":{}}]]}"#.to_vec()];
        let err = reply_list(&bad).unwrap_err();
        assert!(matches!(&err, Error::List(m) if m == "process #1: no pm_id"), "{err:?}");
        let daemon = [br#"j:{"error":"nope","args":[[]]}"#.to_vec()];
        assert!(matches!(reply_list(&daemon), Err(Error::Daemon(m)) if m == "nope"));
        assert!(matches!(reply_list(&[br#"j:{"args":[]}"#.to_vec()]), Err(Error::Frame(_))));
    }

    #[test]
    fn partial_and_joined_frames() {
        let bytes = fixture("ping.reply.bin");
        for cut in 0..bytes.len() {
            assert!(decode_frame(&bytes[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        let mut two = bytes.clone();
        two.extend_from_slice(&bytes);
        let (_, used) = decode_frame(&two).unwrap().unwrap();
        assert_eq!(used, bytes.len());
    }

    #[test]
    fn bad_frames_are_errors() {
        assert!(matches!(decode_frame(&[0x22, 0, 0, 0, 0]), Err(Error::Frame(_))));
        assert!(matches!(decode_frame(&[0x11, 0xff, 0xff, 0xff, 0xff]), Err(Error::Frame(_))));
        let err = reply_result(&[br#"j:{"error":"method \"nope\" does not exist","stack":"secret"}"#.to_vec()]);
        assert!(matches!(&err, Err(Error::Daemon(m)) if m.contains("nope") && !m.contains("secret")), "{err:?}");
        assert!(reply_result(&[b"s:hello".to_vec()]).is_err());
        assert!(reply_result(&[b"j:{nope".to_vec()]).is_err());
    }

    #[tokio::test]
    async fn out_of_order_replies_are_matched_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("rpc.sock");
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap();
            let (args, _) = decode_frame(&buf[..n]).unwrap().unwrap();
            let id = args[1].clone();
            // A stale reply first, then ours.
            let stale = encode_frame(&[br#"j:{"args":["stale"]}"#, b"s:other"]);
            let ours = encode_frame(&[br#"j:{"args":["fresh"]}"#, &id]);
            s.write_all(&[stale, ours].concat()).await.unwrap();
        });
        let client = Client::new(&sock);
        let v = client.call(Method::GetVersion, Instant::now() + std::time::Duration::from_secs(5)).await.unwrap();
        assert_eq!(v, "fresh");
    }

    #[tokio::test]
    async fn missing_socket_and_silent_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let client = Client::new(dir.path().join("nope.sock"));
        let soon = Instant::now() + std::time::Duration::from_secs(5);
        assert!(matches!(client.call(Method::Ping, soon).await, Err(Error::Connect { .. })));

        let sock = dir.path().join("rpc.sock");
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        tokio::spawn(async move {
            let (_s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        });
        let client = Client::new(&sock);
        let soon = Instant::now() + std::time::Duration::from_millis(200);
        assert!(matches!(client.call(Method::Ping, soon).await, Err(Error::Timeout)));
    }
}
