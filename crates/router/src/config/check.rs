//! The semantic checks of the router's config, after `serde_yaml` has parsed it: unknown
//! contacts and teams, on-call schedules (compiled by `schedule::compile`; a team's schedule
//! checked in `on_call`), levels with no reachable target, delays that do not increase, channel
//! sections (each checked by its channel), secrets that cannot be read. Every problem is
//! collected with its field path, placed at its line, so one run lists them all.

use super::*;

/// The semantic checks.
pub fn check(path: &Path, text: &str, file: File) -> Result<Config, Vec<ConfigError>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut errs = Vec::new();
    let mut err = |field: String, msg: String| errs.push(located(path, text, &field, msg));

    if file.storage.idempotency_retention.0 < Duration::from_secs(60) {
        // Alertmanager re-sends a failed notification for a whole flush, at least 10 s.
        err("storage.idempotency_retention".into(), "must be at least 1m".into());
    }
    let storage =
        storage::check(&file.storage, base).map_err(|es| es.into_iter().for_each(|e| err(e.field, e.msg))).ok();

    // Ingest.
    let mut ingest = IngestAuth { max_body_bytes: file.ingest.max_body_bytes.unwrap_or(1 << 20), ..Default::default() };
    if ingest.max_body_bytes < 1024 {
        err("ingest.max_body_bytes".into(), "must be at least 1024".into());
    }
    if let Some(r) = &file.ingest.bearer_token {
        match r.resolve(base) {
            Ok(s) => ingest.bearer = Some(s),
            Err(m) => err("ingest.bearer_token".into(), m),
        }
    }
    if let Some(b) = &file.ingest.basic_auth {
        match b.password.resolve(base) {
            Ok(s) => ingest.basic = Some((b.username.clone(), s)),
            Err(m) => err("ingest.basic_auth.password".into(), m),
        }
    }

    // Channels.
    let (channels, channel_errs) = file.channel_settings(base);
    for e in channel_errs {
        err(e.field, e.msg);
    }
    if file.delivery.max_attempts == 0 {
        err("delivery.max_attempts".into(), "must be at least 1".into());
    }
    if file.resolution.level == 0 {
        err("resolution.level".into(), "levels start at 1".into());
    }

    // Contacts and teams.
    let mut contacts: BTreeMap<&str, &ContactFile> = BTreeMap::new();
    for (i, c) in file.contacts.iter().enumerate() {
        if contacts.insert(c.name.as_str(), c).is_some() {
            err(format!("contacts[{i}].name"), format!("duplicate contact {:?}", c.name));
        }
        if let Some(addr) = &c.email {
            if addr.parse::<lettre::Address>().is_err() {
                err(format!("contacts[{i}].email"), format!("invalid email address {addr:?}"));
            }
        }
        if let Some(phone) = &c.phone {
            if !sms::is_e164(phone) {
                err(format!("contacts[{i}].phone"), format!("{phone:?} is not an E.164 number (+33612345678)"));
            }
        }
        for s in &channels {
            if let Some(addr) = c.address(s.kind()) {
                if let Err(m) = s.check_address(addr) {
                    err(format!("contacts[{i}].{}", ContactFile::field(s.kind())), m);
                }
            }
        }
        if c.email.is_none() && c.slack.is_none() && c.phone.is_none() {
            err(format!("contacts[{i}]"), format!("contact {:?} has no email, slack or phone", c.name));
        }
    }
    let schedules = crate::schedule::compile(&file.schedules, &|n| contacts.contains_key(n)).unwrap_or_else(|ps| {
        ps.into_iter().for_each(|p| err(p.field, p.msg));
        Vec::new()
    });
    // A team's people: its members, or everyone its schedule can put on call.
    let team_people = |t: &TeamFile| -> Vec<&ContactFile> {
        let names: Vec<&str> = match &t.schedule {
            Some(s) => schedules.iter().find(|x| &x.name == s).map(|x| x.members()).unwrap_or_default(),
            None => t.members.iter().map(String::as_str).collect(),
        };
        names.into_iter().filter_map(|m| contacts.get(m).copied()).collect()
    };
    let mut teams: BTreeMap<&str, &TeamFile> = BTreeMap::new();
    for (i, t) in file.teams.iter().enumerate() {
        on_call::check_team(t, &file.schedules, &format!("teams[{i}]"), &mut err);
        if contacts.contains_key(t.name.as_str()) || teams.insert(t.name.as_str(), t).is_some() {
            err(format!("teams[{i}].name"), format!("duplicate name {:?} (contacts and teams share names)", t.name));
        }
        for (j, m) in t.members.iter().enumerate() {
            if !contacts.contains_key(m.as_str()) {
                err(format!("teams[{i}].members[{j}]"), format!("unknown contact {m:?}"));
            }
        }
        if t.level == Some(0) {
            err(format!("teams[{i}].level"), "levels start at 1".into());
        }
    }

    // Policies.
    let mut policies = Vec::new();
    let mut names = BTreeSet::new();
    for (p, pf) in file.policies.iter().enumerate() {
        if !names.insert(pf.name.as_str()) {
            err(format!("policies[{p}].name"), format!("duplicate policy {:?}", pf.name));
        }
        if pf.levels.is_empty() {
            err(format!("policies[{p}].levels"), "a policy needs at least one level".into());
        }
        let mut levels = Vec::new();
        let mut last: Option<Duration> = None;
        for (l, lf) in pf.levels.iter().enumerate() {
            let at = format!("policies[{p}].levels[{l}]");
            let delay = lf.delay.map(|d| d.0);
            let delay = match (l, delay) {
                (0, d) => d.unwrap_or(Duration::ZERO),
                (_, Some(d)) => d,
                (_, None) => {
                    err(at.clone(), format!("level {} needs a delay (time from the incident's start)", l + 1));
                    Duration::ZERO
                }
            };
            if let Some(prev) = last {
                if l > 0 && lf.delay.is_some() && delay <= prev {
                    err(
                        format!("{at}.delay"),
                        format!(
                            "delays must increase: level {} at {:?} is not after level {} at {:?}",
                            l + 1,
                            delay,
                            l,
                            prev
                        ),
                    );
                }
            }
            last = Some(delay);
            // Expand targets to contacts.
            let mut people: Vec<&ContactFile> = Vec::new();
            let mut rotas: Vec<&str> = Vec::new();
            if lf.targets.is_empty() {
                for t in teams.values().filter(|t| t.level == Some(l + 1)) {
                    people.extend(team_people(t));
                    rotas.extend(t.schedule.as_deref());
                }
                // A team whose schedule did not compile has its own error already.
                if people.is_empty() && rotas.is_empty() {
                    err(at.clone(), format!("level {} has no targets and no team has `level: {}`", l + 1, l + 1));
                }
            }
            for (k, name) in lf.targets.iter().enumerate() {
                if let Some(c) = contacts.get(name.as_str()) {
                    people.push(c);
                } else if let Some(t) = teams.get(name.as_str()) {
                    people.extend(team_people(t));
                    rotas.extend(t.schedule.as_deref());
                } else {
                    err(format!("{at}.targets[{k}]"), format!("unknown contact or team {name:?}"));
                }
            }
            let mut targets = BTreeSet::new();
            // Point at `channels:` when written, else at the level.
            let ch_at = if kitconfig::locate(text, &format!("{at}.channels")).is_some() {
                format!("{at}.channels")
            } else {
                at.clone()
            };
            let mut channel_errors = false;
            for ch in &lf.channels {
                if !file.has_section(*ch) {
                    err(ch_at.clone(), format!("channel {0} needs the top-level `{0}` section", ch.as_str()));
                    channel_errors = true;
                    continue;
                }
                for c in &people {
                    if let Some(address) = c.address(*ch) {
                        targets.insert(Target { contact: c.name.clone(), channel: *ch, address: address.to_owned() });
                    }
                }
            }
            if targets.is_empty() && !people.is_empty() && !channel_errors {
                err(
                    at.clone(),
                    format!(
                        "level {} has no working channel: none of its contacts has an address on {}",
                        l + 1,
                        lf.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            for m in on_call::unreachable(&rotas, &schedules, &contacts, &lf.channels) {
                err(at.clone(), m);
            }
            levels.push(Level { delay, targets: targets.into_iter().collect() });
        }
        if let Some(r) = &pf.repeat {
            if r.interval.0.is_zero() {
                err(format!("policies[{p}].repeat.interval"), "must be more than 0s".into());
            }
        }
        policies.push(Policy { name: pf.name.clone(), levels, repeat: pf.repeat });
    }

    // Routes.
    fn route(
        rf: &RouteFile,
        at: &str,
        inherited: Option<usize>,
        policies: &[Policy],
        err: &mut dyn FnMut(String, String),
    ) -> Route {
        let policy = match &rf.policy {
            Some(name) => match policies.iter().position(|p| &p.name == name) {
                Some(i) => Some(i),
                None => {
                    err(format!("{at}.policy"), format!("unknown policy {name:?}"));
                    inherited
                }
            },
            None => inherited,
        };
        if policy.is_none() && inherited.is_none() && rf.policy.is_none() {
            err(at.to_owned(), "the root route needs a policy".into());
        }
        let routes = rf
            .routes
            .iter()
            .enumerate()
            .map(|(i, c)| route(c, &format!("{at}.routes[{i}]"), policy, policies, err))
            .collect();
        Route { matchers: rf.matchers.clone(), policy: policy.unwrap_or(0), routes }
    }
    let route = route(&file.route, "route", None, &policies, &mut err);

    let mut acks = None;
    if let Some(a) = &file.acks {
        let secret = a.secret.resolve(base).map_err(|m| err("acks.secret".into(), m)).ok();
        if secret.as_ref().is_some_and(|s| s.expose().len() < 32) {
            err("acks.secret".into(), "use at least 32 bytes (e.g. `openssl rand -hex 32`)".into());
        }
        let public_url = a.public_url.as_ref().map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(['?', '#', ' ']) {
                err("acks.public_url".into(), format!("{u:?} is not an http(s) base URL"));
            }
        }
        if a.ack_ttl.0.is_zero() || a.link_ttl.0.is_zero() {
            err("acks".into(), "link_ttl and ack_ttl must be more than 0s".into());
        }
        let opt = |r: &Option<SecretRef>, field: &str, err: &mut dyn FnMut(String, String)| {
            r.as_ref().and_then(|r| r.resolve(base).map_err(|m| err(format!("acks.{field}"), m)).ok())
        };
        let slack_signing_secret = opt(&a.slack_signing_secret, "slack_signing_secret", &mut err);
        let mut twilio_auth_token = opt(&a.twilio_auth_token, "twilio_auth_token", &mut err);
        // Replies come back to the account that sent the texts: its token signs them too.
        if a.twilio_auth_token.is_none() && public_url.is_some() {
            let sending = file.sms.as_ref().and_then(|s| s.twilio.as_ref());
            twilio_auth_token = sending.and_then(|t| t.auth_token.resolve(base).ok());
        }
        if a.twilio_auth_token.is_some() && public_url.is_none() {
            err("acks.twilio_auth_token".into(), "needs acks.public_url (Twilio signs the URL it calls)".into());
        }
        if let Some(secret) = secret {
            acks = Some(Acks {
                public_url,
                secret,
                link_ttl: a.link_ttl.0,
                ack_ttl: a.ack_ttl.0,
                slack_signing_secret,
                twilio_auth_token,
            });
        }
    }
    let api_token = file
        .api
        .as_ref()
        .and_then(|a| a.bearer_token.resolve(base).map_err(|m| err("api.bearer_token".into(), m)).ok());

    let (true, Some(storage)) = (errs.is_empty(), storage) else { return Err(errs) };
    let contacts = file.contacts.into_iter().map(|c| (c.name.clone(), c)).collect();
    Ok(Config {
        storage,
        idempotency_retention: file.storage.idempotency_retention.0,
        ingest,
        channels,
        delivery: file.delivery,
        resolution: file.resolution,
        policies,
        route,
        acks,
        api_token,
        contacts,
        schedules,
    })
}

/// An error about `field`, at the line of the field or, when it is inside a flow mapping
/// (`rotation: {shift: 1w, …}`) that `locate` cannot enter, of its nearest parent.
pub(super) fn located(path: &Path, text: &str, field: &str, msg: String) -> ConfigError {
    let mut e = ConfigError::at_field(path, text, field, msg);
    let mut parent = field;
    while e.location.is_none() {
        let Some(cut) = parent.rfind(['.', '[']) else { break };
        parent = &parent[..cut];
        // `locate` finds `key[i]` only in block sequences: try the key itself.
        if !parent.ends_with(']') {
            e.location = kitconfig::locate(text, parent);
        }
    }
    e
}
