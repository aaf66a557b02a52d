//! `--config.my-cnf`: the MySQL client option file, read the way mysqld_exporter reads it.
//!
//! Sections are `[name]`; keys are `key = value` or a bare `key` (true). A dotted section
//! (`[client.servers]`) falls back to its parent (`[client]`) for the keys it lacks, as the
//! Go ini library mysqld_exporter uses does. The keys read are `user`, `password`, `host`,
//! `port`, `socket`, `ssl-ca`, `ssl-cert`, `ssl-key`, `ssl-skip-verfication` (upstream's
//! spelling) and `enable-cleartext-plugin`. `DATA_SOURCE_NAME` (mysqld_exporter 0.14) is
//! parsed here too.

use std::collections::BTreeMap;
use std::path::PathBuf;

use vigie_kit::Secret;

/// Where a server is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// `host:port`.
    Tcp(String, u16),
    /// A Unix socket path.
    Socket(PathBuf),
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp(host, port) if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp(host, port) => write!(f, "{host}:{port}"),
            Address::Socket(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

/// Parses `host:port`, `[v6]:port` or `unix:///path` (a probe target or `--mysqld.address`).
pub fn parse_address(text: &str) -> Result<Address, String> {
    if let Some(path) = text.strip_prefix("unix://") {
        return Ok(Address::Socket(path.into()));
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(|| format!("address {text:?}: missing port"))?;
    let port: u16 = port.parse().map_err(|_| format!("address {text:?}: invalid port {port:?}"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() {
        return Err(format!("address {text:?}: missing host"));
    }
    Ok(Address::Tcp(host.to_owned(), port))
}

/// One section's client settings, parents applied.
#[derive(Clone, Debug, Default)]
pub struct Client {
    /// `user`.
    pub user: String,
    /// `password`.
    pub password: Option<Secret>,
    /// `host`.
    pub host: Option<String>,
    /// `port`.
    pub port: Option<u16>,
    /// `socket`.
    pub socket: Option<PathBuf>,
    /// `ssl-ca`.
    pub ssl_ca: Option<PathBuf>,
    /// `ssl-cert`.
    pub ssl_cert: Option<PathBuf>,
    /// `ssl-key`.
    pub ssl_key: Option<PathBuf>,
    /// `ssl-skip-verfication` (sic, as upstream), or `--tls.insecure-skip-verify`.
    pub skip_verify: bool,
    /// `enable-cleartext-plugin`.
    pub cleartext: bool,
}

impl Client {
    /// Where this section points when no probe target overrides it.
    pub fn address(&self) -> Address {
        match &self.socket {
            Some(path) => Address::Socket(path.clone()),
            None => Address::Tcp(self.host.clone().unwrap_or_else(|| "127.0.0.1".into()), self.port.unwrap_or(3306)),
        }
    }
}

/// A parsed option file: section name → key → value.
#[derive(Clone, Debug, Default)]
pub struct MyCnf {
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl MyCnf {
    /// Parses the text of an option file; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<MyCnf, String> {
        let mut cnf = MyCnf::default();
        let mut current: Option<String> = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') || line.starts_with('!') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let section = rest
                    .strip_suffix(']')
                    .ok_or_else(|| format!("{name}:{}: unclosed section header", n + 1))?
                    .trim()
                    .to_owned();
                cnf.sections.entry(section.clone()).or_default();
                current = Some(section);
                continue;
            }
            let Some(section) = &current else {
                return Err(format!("{name}:{}: key outside any [section]", n + 1));
            };
            let (key, value) = match line.split_once('=') {
                Some((k, v)) => (k.trim(), unquote(v.trim())),
                None => (line, "true"),
            };
            // `ssl_ca` and `ssl-ca` are the same option to MySQL clients.
            let key = key.replace('_', "-");
            cnf.sections.entry(section.clone()).or_default().insert(key, value.to_owned());
        }
        Ok(cnf)
    }

    /// Sets `key` in `section` unless it is already set there (flags fill what the file lacks).
    pub fn set_default(&mut self, section: &str, key: &str, value: &str) {
        self.sections.entry(section.to_owned()).or_default().entry(key.to_owned()).or_insert_with(|| value.to_owned());
    }

    /// Whether `section` exists.
    pub fn has(&self, section: &str) -> bool {
        self.sections.contains_key(section)
    }

    fn get(&self, section: &str, key: &str) -> Option<&str> {
        let mut name = section;
        loop {
            if let Some(v) = self.sections.get(name).and_then(|s| s.get(key)) {
                return Some(v);
            }
            name = name.rsplit_once('.')?.0;
        }
    }

    /// The settings of `section`, with its parents' for what it lacks. An error names the
    /// section and key, never a password.
    pub fn client(&self, section: &str, skip_verify_flag: bool) -> Result<Client, String> {
        if !self.has(section) {
            return Err(format!("no section [{section}]"));
        }
        let path = |key: &str| self.get(section, key).filter(|v| !v.is_empty()).map(PathBuf::from);
        let user = self.get(section, "user").unwrap_or("").to_owned();
        if user.is_empty() {
            return Err(format!("[{section}]: no user specified in section or parent"));
        }
        let port = match self.get(section, "port").filter(|v| !v.is_empty()) {
            Some(p) => Some(p.parse().map_err(|_| format!("[{section}] port: invalid value {p:?}"))?),
            None => None,
        };
        Ok(Client {
            user,
            password: self.get(section, "password").filter(|v| !v.is_empty()).map(Secret::new),
            host: self.get(section, "host").filter(|v| !v.is_empty()).map(str::to_owned),
            port,
            socket: path("socket"),
            ssl_ca: path("ssl-ca"),
            ssl_cert: path("ssl-cert"),
            ssl_key: path("ssl-key"),
            skip_verify: skip_verify_flag || self.get(section, "ssl-skip-verfication").is_some_and(truthy),
            cleartext: self.get(section, "enable-cleartext-plugin").is_some_and(truthy),
        })
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Parses mysqld_exporter 0.14's `DATA_SOURCE_NAME` (go-sql-driver's DSN:
/// `user:password@tcp(host:port)/`, `user@unix(/path)/`, `user:pw@(host:port)/`) into a
/// `[client]` section. Errors never quote the DSN, which holds the password.
pub fn from_dsn(dsn: &str) -> Result<MyCnf, String> {
    let (cred, rest) = dsn.rsplit_once('@').ok_or("DATA_SOURCE_NAME: no '@' between user and address")?;
    let (user, password) = match cred.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (cred, None),
    };
    let (net, addr) = match rest.split_once('(') {
        Some((net, a)) => (net, a.split_once(')').ok_or("DATA_SOURCE_NAME: unclosed '(' in the address")?.0),
        None => ("tcp", rest.split_once('/').map_or(rest, |(a, _)| a)),
    };
    let mut cnf = MyCnf::default();
    cnf.set_default("client", "user", user);
    if let Some(p) = password {
        cnf.set_default("client", "password", p);
    }
    match net {
        "unix" => cnf.set_default("client", "socket", addr),
        "tcp" | "" => {
            let addr = if addr.is_empty() { "127.0.0.1:3306" } else { addr };
            match parse_address(addr).map_err(|_| "DATA_SOURCE_NAME: invalid host:port".to_owned())? {
                Address::Tcp(host, port) => {
                    cnf.set_default("client", "host", &host);
                    cnf.set_default("client", "port", &port.to_string());
                }
                Address::Socket(p) => cnf.set_default("client", "socket", &p.to_string_lossy()),
            }
        }
        other => return Err(format!("DATA_SOURCE_NAME: unsupported network {other:?}")),
    }
    Ok(cnf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_sections_inherit_and_override() {
        let cnf = MyCnf::parse(
            "t.cnf",
            "# comment\n[client]\nuser = root\npassword = \"s3cret\"\nhost=db1\nport=3307\nssl_ca=/ca.pem\n\n[client.servers]\nuser = ro\nssl-skip-verfication\n",
        )
        .unwrap();
        let c = cnf.client("client.servers", false).unwrap();
        assert_eq!(c.user, "ro");
        assert_eq!(c.password.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(c.address(), Address::Tcp("db1".into(), 3307));
        assert_eq!(c.ssl_ca, Some(PathBuf::from("/ca.pem")));
        assert!(c.skip_verify);
        assert!(!cnf.client("client", false).unwrap().skip_verify);
        assert!(cnf.client("nope", false).unwrap_err().contains("[nope]"));
    }

    #[test]
    fn missing_user_is_named() {
        let cnf = MyCnf::parse("t.cnf", "[client]\npassword=abc\n").unwrap();
        let err = cnf.client("client", false).unwrap_err();
        assert!(err.contains("no user") && !err.contains("abc"), "{err}");
        assert!(MyCnf::parse("t.cnf", "user=x\n").unwrap_err().contains("t.cnf:1"));
    }

    #[test]
    fn dsn_forms() {
        let c = from_dsn("exporter:pw@(127.0.0.1:3306)/").unwrap().client("client", false).unwrap();
        assert_eq!((c.user.as_str(), c.address()), ("exporter", Address::Tcp("127.0.0.1".into(), 3306)));
        let c = from_dsn("u:p@w@tcp([::1]:3307)/db?x=1").unwrap().client("client", false).unwrap();
        assert_eq!(c.password.as_ref().map(|p| p.expose()), Some("p@w"));
        assert_eq!(c.address(), Address::Tcp("::1".into(), 3307));
        let c = from_dsn("u@unix(/run/mysqld.sock)/").unwrap().client("client", false).unwrap();
        assert_eq!(c.address(), Address::Socket("/run/mysqld.sock".into()));
        let err = from_dsn("u:hunter2@tcp(db:x)/").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_address("db:3306"), Ok(Address::Tcp("db".into(), 3306)));
        assert_eq!(parse_address("[::1]:3306"), Ok(Address::Tcp("::1".into(), 3306)));
        assert_eq!(parse_address("unix:///tmp/s"), Ok(Address::Socket("/tmp/s".into())));
        assert!(parse_address("db").is_err() && parse_address(":1").is_err());
        assert_eq!(Address::Tcp("::1".into(), 1).to_string(), "[::1]:1");
    }
}
