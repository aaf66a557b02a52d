//! A small Chrome DevTools Protocol client for the web page test: Debian's `chromium`
//! headless with `--remote-debugging-port=0`, its page target over a WebSocket (RFC 6455,
//! client side only: masked text frames out, unmasked frames in), JSON commands and answers.
//! Written here with std only: the test needs a few dozen lines of the protocol, not a crate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{request, Proc};

/// The browser binary: `VIGIE_TEST_CHROMIUM` or Debian's.
pub fn chromium() -> Option<PathBuf> {
    let p = std::env::var_os("VIGIE_TEST_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
    p.exists().then_some(p)
}

/// A headless browser and a WebSocket to its first page.
pub struct Browser {
    _proc: Proc,
    ws: TcpStream,
    next_id: u64,
}

impl Browser {
    pub fn start(bin: &Path, profile: &Path) -> Browser {
        let log = std::fs::File::create(profile.with_extension("log")).unwrap();
        let child = Command::new(bin)
            .args([
                "--headless=new",
                "--no-sandbox", // tests/run runs as root, where the sandbox refuses to start
                "--disable-gpu",
                "--disable-dev-shm-usage", // containers often have a 64 MB /dev/shm
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let proc = Proc(child);
        // Chromium writes the port it chose to DevToolsActivePort in the profile.
        let t0 = Instant::now();
        let port: u16 = loop {
            if let Ok(s) = std::fs::read_to_string(profile.join("DevToolsActivePort")) {
                if let Some(p) = s.lines().next().and_then(|l| l.trim().parse().ok()) {
                    break p;
                }
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "chromium did not open its DevTools port");
            std::thread::sleep(Duration::from_millis(50));
        };
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        let ws_url = loop {
            if let Ok((200, body)) = request(addr, "GET", "/json/list", &[], b"") {
                let list: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let page = list.as_array().and_then(|l| l.iter().find(|t| t["type"] == "page"));
                if let Some(u) = page.and_then(|p| p["webSocketDebuggerUrl"].as_str()) {
                    break u.to_owned();
                }
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "chromium lists no page target");
            std::thread::sleep(Duration::from_millis(50));
        };
        let path = ws_url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
        let mut ws = TcpStream::connect(addr).unwrap();
        ws.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        // Any 16 bytes, base64: the server only echoes a hash of it.
        write!(
            ws,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dmlnaWUgdGVzdCBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = String::new();
        let mut r = BufReader::new(ws.try_clone().unwrap());
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        assert!(head.starts_with("HTTP/1.1 101"), "websocket upgrade refused: {head}");
        Browser { _proc: proc, ws, next_id: 0 }
    }

    fn send_text(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8]; // FIN + text
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x5a, 0x1e, 0x93, 0x07];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.ws.write_all(&frame).unwrap();
    }

    fn read_message(&mut self) -> String {
        let mut msg = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.ws.read_exact(&mut h).unwrap();
            let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0f);
            let mut len = u64::from(h[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                self.ws.read_exact(&mut b).unwrap();
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.ws.read_exact(&mut b).unwrap();
                len = u64::from_be_bytes(b);
            }
            let mut data = vec![0u8; len as usize];
            self.ws.read_exact(&mut data).unwrap();
            match opcode {
                0x8 => panic!("chromium closed the DevTools websocket"),
                0x9 | 0xa => continue, // ping/pong: Chromium sends none to clients in practice
                _ => msg.extend_from_slice(&data),
            }
            if fin {
                return String::from_utf8(msg).unwrap();
            }
        }
    }

    /// Sends a command and returns its `result` (events in between are dropped).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send_text(&json!({"id": id, "method": method, "params": params}).to_string());
        loop {
            let v: Value = serde_json::from_str(&self.read_message()).unwrap();
            if v["id"].as_u64() == Some(id) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression in the page; its JSON value.
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call("Runtime.evaluate", json!({"expression": expr, "returnByValue": true}));
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is `true`, or panics with `what` after 15 s.
    pub fn wait_for(&mut self, expr: &str, what: &str) {
        let t0 = Instant::now();
        while self.eval(expr) != Value::Bool(true) {
            if t0.elapsed() > Duration::from_secs(15) {
                let html = self.eval("document.documentElement.outerHTML");
                panic!("timed out waiting for {what}; page:\n{html}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A real mouse click (pressed + released through the input pipeline) at the centre of
    /// the element `selector` matches.
    pub fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        let rect = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; e.scrollIntoView(); \
             const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (x, y) = (rect[0].as_f64().unwrap_or_else(|| panic!("no element {selector}")), rect[1].as_f64().unwrap());
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }
}
