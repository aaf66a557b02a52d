//! `--web.config.file`: the Prometheus exporter-toolkit `web-config.yml`, schema unchanged, so
//! users' existing files work. TLS is served by rustls; basic auth checks bcrypt hashes.
//!
//! Supported: `tls_server_config` (`cert_file`/`key_file` or inline `cert`/`key`,
//! `client_auth_type` NoClientCert, VerifyClientCertIfGiven and RequireAndVerifyClientCert with
//! `client_ca_file`, `min_version`/`max_version` TLS12/TLS13, `cipher_suites` by IANA name,
//! `curve_preferences`), `http_server_config` (`http2`, `headers`) and `basic_auth_users`.
//! What rustls cannot do (TLS 1.0/1.1, accepting client certificates without verifying them,
//! P-521) is refused at start-up with the field named, never silently weakened.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

use crate::config::{self, ConfigError};
use crate::secret::Secret;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// TLS settings; absent means plain HTTP.
    #[serde(default)]
    pub tls_server_config: Option<TlsServerConfig>,
    /// HTTP settings.
    #[serde(default)]
    pub http_server_config: HttpServerConfig,
    /// user → bcrypt hash.
    #[serde(default)]
    pub basic_auth_users: BTreeMap<String, Secret>,
}

/// `tls_server_config`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerConfig {
    /// PEM certificate chain file.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM private key file.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Inline PEM certificate chain.
    #[serde(default)]
    pub cert: Option<String>,
    /// Inline PEM private key.
    #[serde(default)]
    pub key: Option<Secret>,
    /// Go's `tls.ClientAuthType` name.
    #[serde(default)]
    pub client_auth_type: Option<ClientAuth>,
    /// CA bundle that client certificates must chain to.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// Accepted subject alternative names of client certificates (empty: any).
    #[serde(default)]
    pub client_allowed_sans: Vec<String>,
    /// Lowest TLS version.
    #[serde(default)]
    pub min_version: Option<TlsVersion>,
    /// Highest TLS version.
    #[serde(default)]
    pub max_version: Option<TlsVersion>,
    /// TLS 1.2 cipher suites by IANA name (TLS 1.3 suites are always on, as in Go).
    #[serde(default)]
    pub cipher_suites: Vec<String>,
    /// Key exchange groups by Go name (`X25519`, `CurveP256`, `CurveP384`).
    #[serde(default)]
    pub curve_preferences: Vec<String>,
    /// Accepted for compatibility; rustls always prefers the server's order.
    #[serde(default)]
    pub prefer_server_cipher_suites: Option<bool>,
}

/// Go's `tls.ClientAuthType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ClientAuth {
    /// No client certificate asked for.
    NoClientCert,
    /// Asked for, not verified: not available with rustls.
    RequestClientCert,
    /// Required, not verified: not available with rustls.
    RequireAnyClientCert,
    /// Verified when given.
    VerifyClientCertIfGiven,
    /// Required and verified.
    RequireAndVerifyClientCert,
}

/// A TLS protocol version as exporter-toolkit names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum TlsVersion {
    /// TLS 1.0 (refused: rustls does not speak it).
    TLS10,
    /// TLS 1.1 (refused likewise).
    TLS11,
    /// TLS 1.2.
    TLS12,
    /// TLS 1.3.
    TLS13,
}

/// `http_server_config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpServerConfig {
    /// Offer HTTP/2 (over TLS, by ALPN). Default true.
    #[serde(default = "yes")]
    pub http2: bool,
    /// Headers added to every response.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig { http2: true, headers: BTreeMap::new() }
    }
}

fn yes() -> bool {
    true
}

/// A loaded web config, ready to serve: the rustls config (if TLS) and the auth checker.
pub struct Web {
    /// TLS acceptor config, when `tls_server_config` is set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Basic auth users; empty means no auth.
    pub auth: BasicAuth,
    /// Extra response headers.
    pub headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
    /// Whether HTTP/2 is offered.
    pub http2: bool,
}

impl Web {
    /// No TLS, no auth: what runs without `--web.config.file`.
    pub fn plain() -> Web {
        Web { tls: None, auth: BasicAuth::default(), headers: Vec::new(), http2: true }
    }

    /// Loads and checks `path`; every error names the file, line and field.
    pub fn load(path: &Path) -> Result<Web, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            location: None,
            field: None,
            msg: e.to_string(),
        })?;
        let cfg: WebConfig = config::parse(path, &text)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let err = |field: &str, msg: String| ConfigError::at_field(path, &text, field, msg);
        let tls = match &cfg.tls_server_config {
            Some(tls) => {
                Some(Arc::new(build_tls(tls, base, cfg.http_server_config.http2).map_err(|(f, m)| err(f, m))?))
            }
            None => None,
        };
        let mut users = BTreeMap::new();
        for (user, hash) in cfg.basic_auth_users {
            if bcrypt_cost(hash.expose()).is_none() {
                let field = format!("basic_auth_users.{user}");
                return Err(err(&field, "not a bcrypt hash (expected $2a$, $2b$ or $2y$)".into()));
            }
            users.insert(user, hash);
        }
        let mut headers = Vec::new();
        for (name, value) in &cfg.http_server_config.headers {
            let field = format!("http_server_config.headers.{name}");
            let n = hyper::header::HeaderName::try_from(name.as_str()).map_err(|e| err(&field, e.to_string()))?;
            let v = hyper::header::HeaderValue::try_from(value.as_str()).map_err(|e| err(&field, e.to_string()))?;
            headers.push((n, v));
        }
        Ok(Web {
            tls,
            auth: BasicAuth { users, cache: Arc::new(Mutex::new(HashSet::new())) },
            headers,
            http2: cfg.http_server_config.http2,
        })
    }
}

fn bcrypt_cost(hash: &str) -> Option<u32> {
    let rest = hash.strip_prefix("$2a$").or_else(|| hash.strip_prefix("$2b$")).or_else(|| hash.strip_prefix("$2y$"))?;
    (rest.len() == 2 + 1 + 53).then(|| rest[..2].parse().ok()).flatten()
}

type FieldError = (&'static str, String);

fn build_tls(tls: &TlsServerConfig, base: &Path, http2: bool) -> Result<rustls::ServerConfig, FieldError> {
    let resolve = |p: &PathBuf| if p.is_absolute() { p.clone() } else { base.join(p) };
    let certs: Vec<CertificateDer<'static>> = match (&tls.cert_file, &tls.cert) {
        (Some(file), None) => {
            let file = resolve(file);
            CertificateDer::pem_file_iter(&file)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| ("tls_server_config.cert_file", format!("{}: {e}", file.display())))?
        }
        (None, Some(pem)) => CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| ("tls_server_config.cert", e.to_string()))?,
        (Some(_), Some(_)) => return Err(("tls_server_config.cert", "set cert or cert_file, not both".into())),
        (None, None) => return Err(("tls_server_config", "missing cert_file (or cert)".into())),
    };
    if certs.is_empty() {
        return Err(("tls_server_config.cert_file", "no certificate found in the PEM".into()));
    }
    let key: PrivateKeyDer<'static> = match (&tls.key_file, &tls.key) {
        // The key's content is never quoted in an error: only its file name.
        (Some(file), None) => {
            let file = resolve(file);
            PrivateKeyDer::from_pem_file(&file)
                .map_err(|e| ("tls_server_config.key_file", format!("{}: {}", file.display(), pem_error(&e))))?
        }
        (None, Some(pem)) => PrivateKeyDer::from_pem_slice(pem.expose().as_bytes())
            .map_err(|e| ("tls_server_config.key", pem_error(&e)))?,
        (Some(_), Some(_)) => return Err(("tls_server_config.key", "set key or key_file, not both".into())),
        (None, None) => return Err(("tls_server_config", "missing key_file (or key)".into())),
    };

    let mut provider = rustls::crypto::ring::default_provider();
    if !tls.cipher_suites.is_empty() {
        let all = provider.cipher_suites.clone();
        let mut chosen: Vec<_> = all.iter().filter(|s| s.version() == &rustls::version::TLS13).cloned().collect();
        for name in &tls.cipher_suites {
            match all.iter().find(|s| format!("{:?}", s.suite()) == *name) {
                Some(s) if !chosen.iter().any(|c| c.suite() == s.suite()) => chosen.push(*s),
                Some(_) => {}
                None => {
                    return Err((
                        "tls_server_config.cipher_suites",
                        format!("unknown or unsupported cipher suite {name:?}"),
                    ))
                }
            }
        }
        provider.cipher_suites = chosen;
    }
    if !tls.curve_preferences.is_empty() {
        let all = provider.kx_groups.clone();
        let mut chosen = Vec::new();
        for name in &tls.curve_preferences {
            let want = match name.as_str() {
                "X25519" => rustls::NamedGroup::X25519,
                "CurveP256" => rustls::NamedGroup::secp256r1,
                "CurveP384" => rustls::NamedGroup::secp384r1,
                _ => return Err(("tls_server_config.curve_preferences", format!("unsupported curve {name:?}"))),
            };
            if let Some(g) = all.iter().find(|g| g.name() == want) {
                chosen.push(*g);
            }
        }
        provider.kx_groups = chosen;
    }

    let min = tls.min_version.unwrap_or(TlsVersion::TLS12);
    let max = tls.max_version.unwrap_or(TlsVersion::TLS13);
    if min < TlsVersion::TLS12 {
        return Err(("tls_server_config.min_version", "TLS 1.0 and 1.1 are not supported; use TLS12 or TLS13".into()));
    }
    if max < min {
        return Err(("tls_server_config.max_version", "max_version is below min_version".into()));
    }
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if min <= TlsVersion::TLS12 && max >= TlsVersion::TLS12 {
        versions.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::TLS13 {
        versions.push(&rustls::version::TLS13);
    }

    let builder = rustls::ServerConfig::builder_with_provider(Arc::new(provider.clone()))
        .with_protocol_versions(&versions)
        .map_err(|e| ("tls_server_config", e.to_string()))?;
    let auth = tls.client_auth_type.unwrap_or(ClientAuth::NoClientCert);
    let builder = match auth {
        ClientAuth::NoClientCert => builder.with_no_client_auth(),
        ClientAuth::RequestClientCert | ClientAuth::RequireAnyClientCert => {
            return Err((
                "tls_server_config.client_auth_type",
                "accepting client certificates without verifying them is not supported; use VerifyClientCertIfGiven or RequireAndVerifyClientCert".into(),
            ))
        }
        ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert => {
            let ca = tls
                .client_ca_file
                .as_ref()
                .ok_or(("tls_server_config.client_ca_file", "required by this client_auth_type".to_string()))?;
            let ca = resolve(ca);
            let mut roots = rustls::RootCertStore::empty();
            let cas = CertificateDer::pem_file_iter(&ca)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| ("tls_server_config.client_ca_file", format!("{}: {e}", ca.display())))?;
            for c in cas {
                roots.add(c).map_err(|e| ("tls_server_config.client_ca_file", e.to_string()))?;
            }
            let mut v = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::new(provider));
            if auth == ClientAuth::VerifyClientCertIfGiven {
                v = v.allow_unauthenticated();
            }
            let v = v.build().map_err(|e| ("tls_server_config.client_ca_file", e.to_string()))?;
            builder.with_client_cert_verifier(v)
        }
    };
    let mut cfg = builder.with_single_cert(certs, key).map_err(|e| {
        ("tls_server_config.key_file", format!("certificate and key do not match or are unusable: {e}"))
    })?;
    cfg.alpn_protocols = if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(cfg)
}

fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::NoItemsFound => "no private key found in the PEM".into(),
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        _ => "malformed PEM".into(),
    }
}

/// Basic auth against bcrypt hashes, with a cache of recent successes so that a scrape every
/// few seconds does not pay a bcrypt verification (tens of milliseconds) each time.
#[derive(Default, Clone)]
pub struct BasicAuth {
    users: BTreeMap<String, Secret>,
    cache: Arc<Mutex<HashSet<(String, Secret)>>>,
}

impl std::hash::Hash for Secret {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.expose().hash(state)
    }
}

/// A bcrypt hash of nothing anyone knows, checked for unknown users so that the answer takes
/// as long as for a known one.
const DUMMY_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

impl BasicAuth {
    /// Whether auth is on.
    pub fn enabled(&self) -> bool {
        !self.users.is_empty()
    }

    /// Checks an `Authorization` header value; blocking (bcrypt), so call it off the runtime.
    pub fn check(&self, header: Option<&str>) -> bool {
        if !self.enabled() {
            return true;
        }
        let Some((user, pass)) = header.and_then(parse_basic) else { return false };
        let key = (user.clone(), Secret::new(pass.clone()));
        if self.cache.lock().map(|c| c.contains(&key)).unwrap_or(false) {
            return true;
        }
        let (hash, known) = match self.users.get(&user) {
            Some(h) => (h.expose(), true),
            None => (DUMMY_HASH, false),
        };
        let ok = bcrypt::verify(pass.as_bytes(), hash).unwrap_or(false) && known;
        if ok {
            if let Ok(mut c) = self.cache.lock() {
                if c.len() > 1024 {
                    c.clear();
                }
                c.insert(key);
            }
        }
        ok
    }
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64_decode(rest.trim())?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

/// Standard base64 with padding (RFC 4648), for `Authorization: Basic` headers.
pub fn base64_encode(input: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 with padding, as `Authorization: Basic` uses.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.trim_end_matches('=').as_bytes();
    if text.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn base64_round_trips_known_values() {
        for (plain, coded) in
            [(&b""[..], ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"alice:s3cret", "YWxpY2U6czNjcmV0")]
        {
            assert_eq!(base64_encode(plain), coded);
            assert_eq!(base64_decode(coded).unwrap(), plain);
        }
        assert_eq!(base64_decode("YWxpY2U6czNjcmV0").unwrap(), b"alice:s3cret");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert!(base64_decode("YQ=").is_none());
        assert!(base64_decode("Y$==").is_none());
    }

    #[test]
    fn basic_auth_checks_bcrypt_and_never_accepts_unknown_users() {
        let dir = tempfile::tempdir().unwrap();
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let p = write(dir.path(), "web.yml", &format!("basic_auth_users:\n  alice: {hash}\n"));
        let web = Web::load(&p).unwrap();
        assert!(web.auth.enabled());
        assert!(web.auth.check(Some("Basic YWxpY2U6czNjcmV0")));
        assert!(web.auth.check(Some("Basic YWxpY2U6czNjcmV0")), "cached success");
        assert!(!web.auth.check(Some("Basic YWxpY2U6d3Jvbmc="))); // alice:wrong
        assert!(!web.auth.check(Some("Basic Ym9iOnMzY3JldA=="))); // bob:s3cret
        assert!(!web.auth.check(None));
        assert!(!web.auth.check(Some("Bearer x")));
    }

    #[test]
    fn bad_hash_is_named_without_printing_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "web.yml", "basic_auth_users:\n  alice: plaintext-password\n");
        let shown = Web::load(&p).err().unwrap().to_string();
        assert!(shown.contains("web.yml:2:3: basic_auth_users.alice: not a bcrypt hash"), "{shown}");
        assert!(!shown.contains("plaintext-password"), "{shown}");
    }

    #[test]
    fn unknown_field_is_named_with_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "web.yml", "tls_server_config:\n  cert_file: a.pem\n  keyfile: b.pem\n");
        let shown = Web::load(&p).err().unwrap().to_string();
        assert!(shown.contains("web.yml:3:"), "{shown}");
        assert!(shown.contains("unknown field `keyfile`"), "{shown}");
    }

    #[test]
    fn missing_cert_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "web.yml", "tls_server_config:\n  cert_file: nope.pem\n  key_file: nope.key\n");
        let shown = Web::load(&p).err().unwrap().to_string();
        assert!(shown.contains("tls_server_config.cert_file") && shown.contains("nope.pem"), "{shown}");
    }

    #[test]
    fn old_tls_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "web.yml", "tls_server_config:\n  cert: x\n  min_version: TLS10\n");
        let shown = Web::load(&p).err().unwrap().to_string();
        assert!(shown.contains("tls_server_config"), "{shown}");
    }
}
