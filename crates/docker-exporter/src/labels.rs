//! cAdvisor's per-container label set: `id` (the cgroup path), `name` (the first alias: the
//! container name), `image`, `container_label_<label>` for Docker labels (all of them by
//! default, `--store_container_labels`; only `--whitelisted_container_labels` when that is
//! false), and `container_env_<VAR>` for variables matching `--env_metadata_whitelist`.

use crate::engine::Container;

/// The cgroup path label.
pub const ID: &str = "id";
/// The container name label.
pub const NAME: &str = "name";
/// The image label.
pub const IMAGE: &str = "image";

/// Which Docker labels and environment variables become Prometheus labels.
#[derive(Clone, Debug, Default)]
pub struct LabelPolicy {
    /// Every Docker label (cAdvisor's `--store_container_labels`, default true).
    pub store_all: bool,
    /// Labels kept when `store_all` is false.
    pub whitelist: Vec<String>,
    /// Environment variable name prefixes (`--env_metadata_whitelist`).
    pub env_prefixes: Vec<String>,
}

/// The base label pairs of `c` (all but `id`), sanitized as cAdvisor does; `env` is
/// `Config.Env` (`KEY=value`). The first of two names that sanitize alike wins.
pub fn base(c: &Container, env: &[String], policy: &LabelPolicy) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |k: String, v: &str| {
        if !out.iter().any(|(n, _)| *n == k) {
            out.push((k, v.to_owned()));
        }
    };
    add(NAME.to_owned(), &c.name);
    if !c.image.is_empty() {
        add(IMAGE.to_owned(), &c.image);
    }
    for (k, v) in &c.labels {
        if policy.store_all || policy.whitelist.iter().any(|w| w == k) {
            add(sanitize(&format!("container_label_{k}")), v);
        }
    }
    for kv in env {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        if policy.env_prefixes.iter().any(|p| !p.is_empty() && k.starts_with(p.as_str())) {
            add(sanitize(&format!("container_env_{k}")), v);
        }
    }
    out
}

/// Replaces every character outside `[a-zA-Z0-9_]` with `_`.
pub fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_policy() {
        let c = Container {
            name: "web".into(),
            image: "nginx:1".into(),
            labels: [("com.docker.compose.project".to_owned(), "shop".to_owned()), ("team".to_owned(), "a".to_owned())]
                .into_iter()
                .collect(),
            ..Container::default()
        };
        let env = vec!["APP_MODE=prod".to_owned(), "PATH=/bin".to_owned(), "APP_EMPTY".to_owned()];
        let all = LabelPolicy { store_all: true, whitelist: vec![], env_prefixes: vec!["APP_".into()] };
        let got = base(&c, &env, &all);
        assert!(got.contains(&("container_label_com_docker_compose_project".into(), "shop".into())), "{got:?}");
        assert!(got.contains(&("container_env_APP_MODE".into(), "prod".into())), "{got:?}");
        assert!(got.contains(&("container_env_APP_EMPTY".into(), "".into())), "{got:?}");
        assert!(!got.iter().any(|(k, _)| k.contains("PATH")), "{got:?}");
        let some = LabelPolicy { store_all: false, whitelist: vec!["team".into()], env_prefixes: vec![] };
        let got = base(&c, &env, &some);
        assert_eq!(
            got,
            [
                ("name".into(), "web".into()),
                ("image".into(), "nginx:1".into()),
                ("container_label_team".into(), "a".into())
            ]
        );
    }
}
