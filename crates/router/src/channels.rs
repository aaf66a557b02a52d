//! How a notification leaves the router: the [`Channel`] trait, and the registry built from
//! the one `channel_list!` in `model` (one line per channel). A channel only renders and
//! maps outcomes (`Retry` for transient failures, `Reject` for permanent ones); backoff, the
//! durable outbox, pacing and escalation on failure belong to `queue`, once. A channel holds
//! no store: the queue hands it the earlier receipt it asks for ([`Channel::wants_receipt`])
//! and the pacer it spaces its calls with, in a [`SendCx`].
//!
//! This layer sits just above `model` and imports nothing else of the crate: config parses
//! each channel's own section through the registry, and the queue drives `dyn Channel`.
//!
//! Adding a channel: one file under `channels/` (`Config`, its section as written;
//! `Settings`, implementing [`ChannelSettings`]; the channel type, implementing [`Channel`]
//! with `new(Settings)`), and one line in `model::channel_list!`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use vigie_kit::config::FieldError;
use vigie_kit::BoxFuture;

use crate::model::{self, ChannelKind, Notification};

/// A channel module's checked settings.
pub trait ChannelSettings: Clone + std::fmt::Debug + Send + Sync + Sized {
    /// The channel's top-level section as written (`email:`).
    type File: std::fmt::Debug + serde::de::DeserializeOwned;
    /// Checks the section; `base` is the config file's directory (for secret files). An
    /// error names its field within the section (`""` for the section itself).
    fn from_config(c: &Self::File, base: &Path) -> Result<Self, FieldError>;
    /// Checks a contact's address on this channel (e.g. a Slack webhook name exists).
    fn check_address(&self, _address: &str) -> Result<(), String> {
        Ok(())
    }
}

macro_rules! registry {
    ($($variant:ident $module:ident $field:ident,)*) => {
        $(pub mod $module;)*

        /// A configured channel's checked settings: one variant per channel.
        // One per configured channel, built once at start: size does not matter.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone)]
        pub enum Settings {
            $(
                #[doc = concat!("`", stringify!($module), ":`.")]
                $variant($module::Settings),
            )*
        }

        impl Settings {
            /// Which channel.
            pub fn kind(&self) -> ChannelKind {
                match self {
                    $(Settings::$variant(_) => ChannelKind::$variant,)*
                }
            }

            /// [`ChannelSettings::check_address`].
            pub fn check_address(&self, address: &str) -> Result<(), String> {
                match self {
                    $(Settings::$variant(s) => s.check_address(address),)*
                }
            }

            /// The channel, ready to send.
            pub fn open(&self) -> Arc<dyn Channel> {
                match self {
                    $(Settings::$variant(s) => Arc::new($module::$variant::new(s.clone())),)*
                }
            }
        }
    };
}
model::channel_list!(registry);

pub mod http;

/// What a channel got back on success.
#[derive(Debug, Clone)]
pub struct Receipt(pub String);

/// Why a send failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Transient: try again, after `after` if the far end said so.
    #[error("retry{}: {reason}", after.map(|a| format!(" after {a:?}")).unwrap_or_default())]
    Retry {
        /// The far end's wish (`Retry-After`), else the queue's backoff.
        after: Option<Duration>,
        /// What happened.
        reason: String,
    },
    /// Permanent: retrying will not help.
    #[error("rejected: {0}")]
    Reject(String),
}

/// What the queue hands a channel with each notification.
pub struct SendCx<'a> {
    /// The receipt of this incident's first delivered notification to the same address on
    /// this channel that starts with the prefix [`Channel::wants_receipt`] gave.
    pub first_receipt: Option<String>,
    /// The queue's pacer.
    pub pace: &'a dyn Pace,
}

/// Rate limits, owned by the queue: a channel asks for its turn before each call to the far
/// end and reports a hold-off the far end asked for.
pub trait Pace: Send + Sync {
    /// Waits for `key`'s turn: one call per `every` per key, and none before a hold set by
    /// [`Pace::hold`] has passed (also for calls already waiting then).
    fn turn<'a>(&'a self, key: &'a str, every: Duration) -> BoxFuture<'a, ()>;
    /// The far end said "too many" (429): nothing more to `key` before `after`.
    fn hold(&self, key: &str, after: Duration);
}

/// A way to reach a person.
pub trait Channel: Send + Sync {
    /// Which one.
    fn kind(&self) -> ChannelKind;
    /// The prefix of an earlier receipt this notification builds on (a Slack message to
    /// update in place), if any: the queue looks it up in the store.
    fn wants_receipt(&self, _n: &Notification) -> Option<&'static str> {
        None
    }
    /// Sends one notification.
    fn send<'a>(&'a self, n: &'a Notification, cx: &'a SendCx<'a>) -> BoxFuture<'a, Result<Receipt, SendError>>;
}
