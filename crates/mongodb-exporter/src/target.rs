//! The MongoDB targets: one per `--mongodb.uri`, each with one driver client kept across
//! scrapes (the driver reconnects by itself). A scrape sends `isMaster` (primaryPreferred)
//! within the scrape deadline: its answer is both the up check (where Percona sends a `ping`)
//! and the node type; then it reads the other topology labels (`cl_role`, `cl_id`, `rs_nm`).
//! `rs_state` is found when a collector first needs the labels ([`Conn::topology`]): from
//! the `replSetGetStatus` the diagnosticdata collector's getDiagnosticData reply holds,
//! else from the scrape's `replSetGetStatus` reply, asked once and shared with the
//! replicasetstatus collector ([`Conn::status`]). When
//! `isMaster` fails the collectors see a down [`Conn`] and only `mongodb_up 0` is written.
//!
//! Replies that cannot change while one server process lives (`getCmdLineOpts`, `buildInfo`,
//! and for the topology labels `replSetGetConfig` and `config.version`'s cluster id) are kept in [`Facts`] across scrapes and asked again after at most 60 s, after a scrape
//! found the server down, when the driver cleared its connection pool (what a restart or a
//! network fault causes), when a different process answers (`isMaster`'s
//! `topologyVersion.processId` or `me` changed), or when serverStatus shows a restart
//! (`uptime` went down, `pid` or `host` changed). `/scrape?target=host:port` picks the configured URI whose host
//! part matches, as Percona's multi-target endpoint does.
//!
//! A URI may hold a password: it lives in a [`Secret`], targets are named by their host part
//! only, and every driver message is scrubbed of the password before it is logged.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, rawdoc, Bson, Document, RawDocumentBuf};
use mongodb::event::cmap::CmapEvent;
use mongodb::event::EventHandler;
use mongodb::options::{ClientOptions, ReadPreference, SelectionCriteria};
use mongodb::Client;
use vigie_kit::{BoxFuture, Probe, Secret};

use crate::Options;
use vigie_mongodb_exporter::naming::Label;
use vigie_mongodb_exporter::sink::Drops;

/// What every scrape shares: the options and the drop counts.
pub struct Shared {
    /// The parsed flags collectors read.
    pub opts: Options,
    /// Samples dropped so far.
    pub drops: Drops,
}

/// One configured server.
pub struct Session {
    uri: Secret,
    password: Option<Secret>,
    /// Host part of the URI (`host:port[,host:port]`), the only name logs and labels use.
    pub hosts: String,
    client: tokio::sync::OnceCell<Client>,
    facts: Arc<Mutex<Facts>>,
}

/// How long a kept reply serves at most.
const FACTS_MAX_AGE: Duration = Duration::from_secs(60);

/// Replies that cannot change while one server process lives, kept across scrapes (see the
/// module documentation for when they are dropped). Only answers are kept: a failed command
/// is sent again at the next scrape, unless the server said it has no such command
/// (CommandNotFound, which the same process never answers differently).
#[derive(Default)]
pub struct Facts {
    /// When the first reply now kept came.
    since: Option<Instant>,
    /// Who answered: `topologyVersion.processId` (4.4 and later) or `me` of `isMaster`.
    who: Option<String>,
    /// serverStatus `uptime`, `pid`, `host` last seen.
    process: Option<(f64, Option<f64>, Option<String>)>,
    cmdline: Option<Kept>,
    build: Option<Kept>,
    /// replSetGetConfig, for the topology labels only: the set's name (`_id`) and
    /// `settings.replicaSetId` are fixed when the set is initiated.
    rs_config: Option<Kept>,
    /// `clusterId` of `config.version` (None: no such document), fixed for a sharded
    /// cluster's life.
    cluster_id: Option<Result<Option<ObjectId>, mongodb::error::Error>>,
}

/// A kept reply, or the CommandNotFound error.
type Kept = Result<Arc<Document>, mongodb::error::Error>;

/// Whether `e` is the server's CommandNotFound (code 59).
fn not_found(e: &mongodb::error::Error) -> bool {
    matches!(&*e.kind, mongodb::error::ErrorKind::Command(c) if c.code == 59)
}

impl Facts {
    fn clear(&mut self) {
        *self = Facts::default();
    }

    /// Drops the kept replies when they are too old or another process answers now.
    fn check(&mut self, who: Option<String>, now: Instant) {
        let stale = self.since.is_some_and(|t| now.saturating_duration_since(t) >= FACTS_MAX_AGE);
        if stale || self.who != who {
            let process = self.process.take();
            self.clear();
            // The serverStatus identity stays: it tells a restart, not an age.
            self.process = process;
        }
        self.who = who;
    }

    fn keep(&mut self, now: Instant) {
        self.since.get_or_insert(now);
    }

    /// Compares serverStatus `uptime`, `pid` and `host` with the last ones seen; drops the
    /// kept replies when the server restarted. Returns whether it did.
    pub fn observe(&mut self, uptime: f64, pid: Option<f64>, host: Option<String>) -> bool {
        let restarted = match &self.process {
            Some((u, p, h)) => uptime < *u || *p != pid || *h != host,
            None => false,
        };
        if restarted {
            let who = self.who.take();
            self.clear();
            self.who = who;
        }
        self.process = Some((uptime, pid, host));
        restarted
    }
}

/// The kept replies, locked (a panic while they were locked left them usable).
pub fn lock(facts: &Mutex<Facts>) -> std::sync::MutexGuard<'_, Facts> {
    facts.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The node's kind, as `mongodb_up{cluster_role}` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    /// A mongod (standalone, replica-set member or shard server).
    Mongod,
    /// A mongos router.
    Mongos,
    /// A replica-set arbiter.
    Arbiter,
    /// Not known (the server is down).
    Unknown,
}

impl NodeType {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Mongod => "mongod",
            NodeType::Mongos => "mongos",
            NodeType::Arbiter => "arbiter",
            NodeType::Unknown => "",
        }
    }
}

/// Databases, each with its collection names.
pub type Namespaces = Vec<(String, Vec<String>)>;

/// What collectors get as `cx.target` for one scrape.
pub struct Conn {
    /// The client, when the server answered the ping.
    pub client: Option<Client>,
    /// Why the server is down (logged once by the general collector).
    pub down: Option<String>,
    /// `mongod`, `mongos`, `arbiter`.
    pub node: NodeType,
    /// `cl_id`, `cl_role`, `rs_nm`, as known, sorted by name: [`Conn::topology`] adds
    /// `rs_state`.
    known: Vec<Label>,
    /// Options and counters.
    pub shared: Arc<Shared>,
    /// Host part of the target, for logs.
    pub hosts: String,
    /// The `isMaster` reply, when it came.
    pub hello: Option<Document>,
    /// The `getCmdLineOpts` reply, when it came (kept across scrapes, see [`Facts`]).
    pub cmdline: Option<Arc<Document>>,
    /// The target's kept replies.
    pub facts: Arc<Mutex<Facts>>,
    /// This member's replica-set state (`myState`), found once per scrape ([`Conn::my_state`]).
    state: tokio::sync::OnceCell<Option<f64>>,
    /// This scrape's `replSetGetStatus` reply, asked at most once ([`Conn::status`]).
    status: tokio::sync::OnceCell<Result<Document, mongodb::error::Error>>,
    /// The topology labels with `rs_state`, made once per scrape ([`Conn::topology`]).
    labels: tokio::sync::OnceCell<Vec<Label>>,
    /// Non-system databases and their collections (views left out), listed at most once per
    /// scrape and shared by the collstats-limit check and the discovering collectors.
    pub namespaces: tokio::sync::OnceCell<Result<Namespaces, String>>,
}

/// The host part of a URI: between `://` (or the start) and the path, without user info.
pub fn host_part(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let rest = rest.split(['/', '?']).next().unwrap_or(rest);
    rest.rsplit_once('@').map_or(rest, |(_, h)| h)
}

/// The `--mongodb.uri` values, split at commas, back into targets as Percona reads them: a
/// piece with a scheme starts a target, the pieces after it without one are more hosts of
/// that target (`mongodb://a:1,b:2/?replicaSet=rs` stays one target), and a piece without a
/// scheme and no target before it is a target of its own.
pub fn join_uri_list(pieces: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for p in pieces.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        if p.starts_with("mongodb://") || p.starts_with("mongodb+srv://") {
            out.push(p.to_owned());
            // An SRV URI names one host; what follows stands alone.
            open = p.starts_with("mongodb://");
        } else if let (true, Some(last)) = (open, out.last_mut()) {
            last.push(',');
            last.push_str(p);
        } else {
            out.push(p.to_owned());
        }
    }
    out
}

/// `mongodb+srv://` needs DNS SRV and TXT lookups, which this build does not link.
pub fn check_scheme(uri: &str) -> Result<(), String> {
    if uri.starts_with("mongodb+srv://") {
        return Err(format!(
            "--mongodb.uri {}: mongodb+srv:// URIs are not supported (this build does no DNS SRV lookups); \
             give the hosts in a mongodb:// URI instead",
            host_part(uri)
        ));
    }
    Ok(())
}

/// Percona's URI handling: `mongodb://` is added when missing, and `user:password@` when
/// the URI has none and a user is given.
pub fn complete_uri(uri: &str, user: Option<&str>, password: Option<&Secret>) -> String {
    let uri = if uri.contains("://") { uri.to_owned() } else { format!("mongodb://{uri}") };
    match user {
        Some(user) if !user.is_empty() && !host_and_userinfo(&uri).contains('@') => {
            let (scheme, rest) = uri.split_once("://").unwrap_or(("mongodb", &uri));
            let pass = password.map(|p| format!(":{}", percent_encode(p.expose()))).unwrap_or_default();
            format!("{scheme}://{}{pass}@{rest}", percent_encode(user))
        }
        _ => uri,
    }
}

fn host_and_userinfo(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The password inside a URI's user info, if any.
fn uri_password(uri: &str) -> Option<String> {
    let info = host_and_userinfo(uri).rsplit_once('@')?.0;
    let (_, pass) = info.split_once(':')?;
    (!pass.is_empty()).then(|| pass.to_owned())
}

impl Session {
    /// A session for a complete URI; nothing is opened yet.
    pub fn new(uri: String) -> Session {
        let hosts = host_part(&uri).to_owned();
        let password = uri_password(&uri).map(Secret::new);
        Session {
            uri: Secret::new(uri),
            password,
            hosts,
            client: tokio::sync::OnceCell::new(),
            facts: Default::default(),
        }
    }

    /// `msg` with the password (raw and percent-decoded forms) replaced.
    pub fn scrub(&self, msg: String) -> String {
        match &self.password {
            Some(p) if !p.expose().is_empty() => {
                let decoded =
                    vigie_kit::query_pairs(&format!("x={}", p.expose())).pop().map(|(_, v)| v).unwrap_or_default();
                let mut msg = msg.replace(p.expose(), "<redacted>");
                if !decoded.is_empty() {
                    msg = msg.replace(&decoded, "<redacted>");
                }
                msg
            }
            _ => msg,
        }
    }

    async fn client(&self, opts: &Options) -> Result<Client, String> {
        self.client
            .get_or_try_init(|| async {
                let mut o = ClientOptions::parse(self.uri.expose())
                    .await
                    .map_err(|e| self.scrub(format!("invalid --mongodb.uri for {}: {e}", self.hosts)))?;
                if o.direct_connection.is_none() && opts.direct_connect && o.hosts.len() == 1 {
                    o.direct_connection = Some(true);
                }
                o.connect_timeout.get_or_insert(opts.connect_timeout);
                o.server_selection_timeout.get_or_insert(opts.connect_timeout);
                o.app_name.get_or_insert_with(|| "vigie-mongodb-exporter".to_owned());
                // A cleared pool means the driver saw the server fail (a restart does that):
                // the kept replies may be another process's.
                let facts = self.facts.clone();
                o.cmap_event_handler = Some(EventHandler::callback(move |e| {
                    if let CmapEvent::PoolCleared(_) = e {
                        lock(&facts).clear();
                    }
                }));
                Client::with_options(o).map_err(|e| self.scrub(format!("{}: {e}", self.hosts)))
            })
            .await
            .cloned()
    }

    /// Sends `isMaster` and reads the topology, giving up a little before `deadline`.
    pub async fn connect(&self, shared: Arc<Shared>, deadline: Instant) -> Conn {
        let down = |why: String| {
            lock(&self.facts).clear();
            self.down_conn(shared.clone(), why)
        };
        // Leave time to write the answer: a tenth of what is left, at most 200 ms.
        let left = deadline.saturating_duration_since(Instant::now());
        let stop = deadline - (left / 10).min(Duration::from_millis(200));
        let client = match self.client(&shared.opts).await {
            Ok(c) => c,
            Err(e) => return down(e),
        };
        // The first command is the up check: Percona pings, then asks isMaster; both are
        // answered without authentication and go to the same server (primaryPreferred).
        let hello = command_raw(&client, "admin", &IS_MASTER);
        let hello = match tokio::time::timeout_at(stop.into(), hello).await {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return down(self.scrub(format!("{}: {e}", self.hosts))),
            Err(_) => return down(format!("{}: no answer to isMaster before the scrape deadline", self.hosts)),
        };
        let who = walk(&hello, &["topologyVersion", "processId"])
            .and_then(|b| b.as_object_id().map(|o| o.to_hex()))
            .or_else(|| hello.get_str("me").ok().map(str::to_owned));
        // Several hosts and no name in the answer: which one answered is not known, so
        // nothing is kept.
        if who.is_none() && self.hosts.contains(',') {
            lock(&self.facts).clear();
        } else {
            lock(&self.facts).check(who, Instant::now());
        }
        // A command the server never answers must not eat the whole scrape: the topology
        // gets two seconds at most.
        let topo_stop = stop.min(Instant::now() + Duration::from_secs(2));
        let t = tokio::time::timeout_at(topo_stop.into(), topology(&client, &hello, &self.facts))
            .await
            .unwrap_or_else(|_| Topology { node: node_type(&hello), ..Topology::default() });
        Conn {
            client: Some(client),
            down: None,
            node: t.node,
            known: t.labels,
            shared,
            hosts: self.hosts.clone(),
            hello: Some(hello),
            cmdline: t.cmdline,
            facts: self.facts.clone(),
            state: Default::default(),
            status: Default::default(),
            labels: Default::default(),
            namespaces: Default::default(),
        }
    }

    fn down_conn(&self, shared: Arc<Shared>, why: String) -> Conn {
        Conn {
            client: None,
            down: Some(why),
            node: NodeType::Unknown,
            known: Vec::new(),
            shared: shared.clone(),
            hosts: self.hosts.clone(),
            hello: None,
            cmdline: None,
            facts: self.facts.clone(),
            state: Default::default(),
            status: Default::default(),
            labels: Default::default(),
            namespaces: Default::default(),
        }
    }
}

/// Runs an admin command, primaryPreferred.
pub async fn admin(client: &Client, cmd: Document) -> Result<Document, mongodb::error::Error> {
    command(client, "admin", cmd).await
}

/// Runs a command on database `db`, primaryPreferred.
pub async fn command(client: &Client, db: &str, cmd: Document) -> Result<Document, mongodb::error::Error> {
    client.database(db).run_command(cmd).selection_criteria(primary_preferred()).await
}

/// [`command`] of a command built once (a `static`): sent every scrape, it is copied as
/// it is, not built as a document and converted to BSON each time.
pub async fn command_raw(client: &Client, db: &str, cmd: &RawDocumentBuf) -> Result<Document, mongodb::error::Error> {
    client.database(db).run_raw_command(cmd.clone()).selection_criteria(primary_preferred()).await
}

fn primary_preferred() -> SelectionCriteria {
    SelectionCriteria::ReadPreference(ReadPreference::PrimaryPreferred { options: Default::default() })
}

/// `{ isMaster: 1 }`, the up check.
static IS_MASTER: LazyLock<RawDocumentBuf> = LazyLock::new(|| rawdoc! { "isMaster": 1 });

/// A dotted path into a document.
pub fn walk<'a>(d: &'a Document, path: &[&str]) -> Option<&'a Bson> {
    let (last, parents) = path.split_last()?;
    let mut cur = d;
    for p in parents {
        cur = cur.get_document(p).ok()?;
    }
    cur.get(last)
}

/// What one scrape learns about the server before the collectors run.
struct Topology {
    node: NodeType,
    labels: Vec<Label>,
    cmdline: Option<Arc<Document>>,
}

impl Default for Topology {
    fn default() -> Topology {
        Topology { node: NodeType::Unknown, labels: Vec::new(), cmdline: None }
    }
}

/// A topology command on its own clock: one the server never answers loses only its label.
async fn limit<T, F: std::future::Future<Output = Result<T, mongodb::error::Error>>>(f: F) -> Option<T> {
    tokio::time::timeout(Duration::from_secs(2), f).await.ok().and_then(Result::ok)
}

impl Conn {
    /// The topology labels (`cl_id`, `cl_role`, `rs_nm`, `rs_state` as known, sorted by
    /// name) every collector's generic samples carry.
    pub async fn topology(&self) -> &[Label] {
        self.labels
            .get_or_init(|| async {
                let mut labels = self.known.clone();
                if let Some(state) = self.my_state().await {
                    labels.push(("rs_state".into(), format!("{}", state as i64).into()));
                    // Sorted once here: every sample copies them, and a sorted copy needs
                    // no sorting.
                    labels.sort();
                }
                labels
            })
            .await
    }

    /// This member's replica-set state: `myState` of the scrape's `replSetGetStatus` reply
    /// ([`Conn::status`]), unless [`Conn::know_state`] told it first. None on a server that
    /// is not a replica-set member (or did not answer within two seconds: the labels wait
    /// no longer, a collector waiting for the same reply may).
    pub async fn my_state(&self) -> Option<f64> {
        *self
            .state
            .get_or_init(|| async {
                let client = self.client.as_ref()?;
                let status = tokio::time::timeout(Duration::from_secs(2), self.status(client)).await.ok()?;
                status.as_ref().ok()?.get("myState").and_then(number)
            })
            .await
    }

    /// The scrape's `replSetGetStatus` reply, asked at most once whoever needs it first
    /// (the topology labels, the replicasetstatus collector).
    pub async fn status(&self, client: &Client) -> &Result<Document, mongodb::error::Error> {
        self.status.get_or_init(|| admin(client, doc! { "replSetGetStatus": 1 })).await
    }

    /// Tells the scrape this member's state as another reply of this scrape gives it
    /// (getDiagnosticData holds a `replSetGetStatus`): the command is then not sent. Once
    /// the state is known, or being asked, it stays what it is, so that every sample of the
    /// scrape carries the same `rs_state`.
    pub fn know_state(&self, state: f64) {
        let _ = self.state.set(Some(state));
    }
}

/// The node type from an `isMaster` reply.
fn node_type(hello: &Document) -> NodeType {
    if hello.get_bool("arbiterOnly").unwrap_or(false) {
        NodeType::Arbiter
    } else if hello.get_str("msg") == Ok("isdbgrid") {
        NodeType::Mongos
    } else {
        NodeType::Mongod
    }
}

/// `cmd`'s reply from `facts` (picked by `slot`), else asked (and kept when it is a reply or
/// CommandNotFound).
async fn kept(client: &Client, facts: &Mutex<Facts>, slot: fn(&mut Facts) -> &mut Option<Kept>, cmd: Document) -> Kept {
    remembered(facts, slot, async { admin(client, cmd).await.map(Arc::new) }).await
}

/// What `slot` of `facts` holds, else `ask`'s answer, kept when it is one (or the server's
/// CommandNotFound).
async fn remembered<T: Clone>(
    facts: &Mutex<Facts>,
    slot: fn(&mut Facts) -> &mut Option<Result<T, mongodb::error::Error>>,
    ask: impl std::future::Future<Output = Result<T, mongodb::error::Error>>,
) -> Result<T, mongodb::error::Error> {
    if let Some(d) = slot(&mut lock(facts)).clone() {
        return d;
    }
    let d = ask.await;
    if d.as_ref().err().is_none_or(not_found) {
        let mut f = lock(facts);
        f.keep(Instant::now());
        *slot(&mut f) = Some(d.clone());
    }
    d
}

/// The `getCmdLineOpts` reply, kept across scrapes.
pub async fn cmdline(client: &Client, facts: &Mutex<Facts>) -> Kept {
    kept(client, facts, |f| &mut f.cmdline, doc! { "getCmdLineOpts": 1 }).await
}

/// `clusterId` of the `config.version` document, kept across scrapes as the command replies
/// are ([`remembered`]).
async fn cluster_id(client: &Client, facts: &Mutex<Facts>) -> Result<Option<ObjectId>, mongodb::error::Error> {
    let ask = async {
        let version = client.database("config").collection::<Document>("version").find_one(doc! {}).await?;
        Ok(version.and_then(|v| v.get_object_id("clusterId").ok()))
    };
    remembered(facts, |f| &mut f.cluster_id, ask).await
}

/// The `buildInfo` reply, kept across scrapes.
pub async fn build_info(client: &Client, facts: &Mutex<Facts>) -> Kept {
    kept(client, facts, |f| &mut f.build, doc! { "buildInfo": 1 }).await
}

/// Node type and topology labels (Percona's `topology_info.go`, current release) but
/// `rs_state` ([`Conn::topology`] adds it), from the scrape's `isMaster` reply and three
/// more commands, all kept across scrapes.
async fn topology(client: &Client, hello: &Document, facts: &Mutex<Facts>) -> Topology {
    let (opts, config, version) = futures_util::future::join3(
        limit(cmdline(client, facts)),
        limit(kept(client, facts, |f| &mut f.rs_config, doc! { "replSetGetConfig": 1 })),
        limit(cluster_id(client, facts)),
    )
    .await;
    let node = node_type(hello);
    let role = match &opts {
        Some(o) if walk(o, &["parsed", "sharding", "configDB"]).is_some() => "mongos".to_owned(),
        Some(o) => match walk(o, &["parsed", "sharding", "clusterRole"]) {
            Some(Bson::String(s)) => s.clone(),
            _ => String::new(),
        },
        None => String::new(),
    };
    let mut labels = vec![("cl_role".into(), role.into())];
    if let Some(id) = config.as_ref().and_then(|c| walk(c, &["config", "_id"])).and_then(Bson::as_str) {
        labels.push(("rs_nm".into(), id.into()));
    }
    let from_version = version.flatten();
    let from_config =
        config.as_ref().and_then(|c| walk(c, &["config", "settings", "replicaSetId"])).and_then(|b| match b {
            Bson::ObjectId(o) => Some(*o),
            _ => None,
        });
    let cl_id = from_version.or(from_config).map(|o| o.to_hex()).unwrap_or_default();
    labels.push(("cl_id".into(), cl_id.into()));
    labels.sort();
    Topology { node, labels, cmdline: opts }
}

/// A BSON number as f64.
pub fn number(b: &Bson) -> Option<f64> {
    match b {
        Bson::Int32(i) => Some(f64::from(*i)),
        Bson::Int64(i) => Some(*i as f64),
        Bson::Double(d) => Some(*d),
        _ => None,
    }
}

/// Every configured target.
pub struct Targets {
    sessions: Vec<Arc<Session>>,
    shared: Arc<Shared>,
}

impl Targets {
    /// Sessions for complete URIs; the first serves `/metrics`.
    pub fn new(uris: Vec<String>, opts: Options) -> Targets {
        Targets {
            sessions: uris.into_iter().map(|u| Arc::new(Session::new(u))).collect(),
            shared: Arc::new(Shared { opts, drops: Drops::default() }),
        }
    }

    /// The kit's connect function.
    pub fn into_connect(self) -> vigie_kit::Connect<Arc<Conn>> {
        let me = Arc::new(self);
        Arc::new(
            move |probe: Option<Probe>,
                  deadline: Instant|
                  -> BoxFuture<'static, Result<Arc<Conn>, vigie_kit::TargetError>> {
                let me = me.clone();
                Box::pin(async move {
                    let session = match probe.as_ref().and_then(|p| p.get("target")) {
                        None => me.sessions.first().cloned(),
                        Some(t) => {
                            let wanted = host_part(t);
                            me.sessions.iter().find(|s| s.hosts == wanted).cloned()
                        }
                    };
                    let session =
                        session.ok_or_else(|| vigie_kit::TargetError::Unknown("Unable to find target".into()))?;
                    Ok(Arc::new(session.connect(me.shared.clone(), deadline).await))
                })
            },
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(host_part("mongodb://u:p@h1:27017,h2/db?x=1"), "h1:27017,h2");
        assert_eq!(host_part("127.0.0.1:1"), "127.0.0.1:1");
        let pw = Secret::new("p@ss:w");
        assert_eq!(complete_uri("h:1", Some("me"), Some(&pw)), "mongodb://me:p%40ss%3Aw@h:1");
        assert_eq!(complete_uri("mongodb://a:b@h:1", Some("me"), Some(&pw)), "mongodb://a:b@h:1");
        assert_eq!(uri_password("mongodb://a:s3cr%40t@h:1/?x").as_deref(), Some("s3cr%40t"));
        let s = Session::new("mongodb://a:s3cr%40t@h:1/".into());
        assert_eq!(s.scrub("bad s3cr%40t and s3cr@t".into()), "bad <redacted> and <redacted>");
        assert_eq!(s.hosts, "h:1");
    }

    #[test]
    fn facts_dropped_on_restart_age_and_other_process() {
        let reply = || Some(Ok(Arc::new(doc! { "parsed": {} })));
        let now = Instant::now();
        let mut f = Facts::default();
        f.check(Some("a".into()), now);
        f.cmdline = reply();
        f.keep(now);
        assert!(!f.observe(100.0, Some(7.0), Some("h".into())));
        assert!(!f.observe(101.0, Some(7.0), Some("h".into())));
        f.check(Some("a".into()), now + Duration::from_secs(59));
        assert!(f.cmdline.is_some(), "same process, 59 s: kept");
        // uptime went down: restarted.
        assert!(f.observe(5.0, Some(7.0), Some("h".into())));
        assert!(f.cmdline.is_none());
        for (uptime, pid, host) in [(6.0, Some(8.0), "h"), (7.0, Some(8.0), "other")] {
            f.cmdline = reply();
            assert!(f.observe(uptime, pid, Some(host.into())), "{uptime} {pid:?} {host}");
            assert!(f.cmdline.is_none());
        }
        f.cmdline = reply();
        f.keep(now);
        f.check(Some("a".into()), now + FACTS_MAX_AGE);
        assert!(f.cmdline.is_none(), "60 s: asked again");
        f.cmdline = reply();
        f.keep(now);
        f.check(Some("b".into()), now);
        assert!(f.cmdline.is_none(), "another process answers");
        // The serverStatus identity survives an age or process check.
        assert!(!f.observe(8.0, Some(8.0), Some("other".into())));
    }

    #[test]
    fn uri_lists_as_percona_joins_them() {
        let v = |a: &[&str]| join_uri_list(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        // clap splits `mongodb://a:1,b:2/?replicaSet=rs` at the comma: one target again.
        assert_eq!(v(&["mongodb://a:1", "b:2/?replicaSet=rs"]), ["mongodb://a:1,b:2/?replicaSet=rs"]);
        assert_eq!(v(&["a:1", "b:2"]), ["a:1", "b:2"]);
        assert_eq!(v(&["mongodb://a:1", "mongodb://c:3", "d:4"]), ["mongodb://a:1", "mongodb://c:3,d:4"]);
        assert_eq!(v(&["mongodb+srv://u:p@cluster.example", "d:4"]), ["mongodb+srv://u:p@cluster.example", "d:4"]);
        // SRV: refused with a reason naming the host part only (no DNS here, so only the
        // check can be tested).
        let e = check_scheme("mongodb+srv://u:Secr3t@cluster.example/db").unwrap_err();
        assert!(e.contains("cluster.example") && e.contains("not supported") && !e.contains("Secr3t"), "{e}");
        assert!(check_scheme("mongodb://h:1").is_ok());
    }
}
