//! The connectors ghlsync knows, and the one interface each offers: its name, how it reads its
//! own `[peers.<name>.connection]` table, the secrets it needs, the peer it builds and its
//! built-in mapping. Config, secrets, the CLI, the sandbox and demo mode go through this list;
//! nothing outside a connector's folder matches on a peer's or connector's name.
//!
//! Adding a connector: a folder under `src/peers/` that implements `Connector`, and one line in
//! `CONNECTORS` (ARCHITECTURE.md, "How to add a peer").

use super::{EntityCapability, Peer, PeerError};
use crate::config::{ConfigError, Secret};
use crate::store::PeerAccount;
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every connector, in the order `ghlsync` lists them. One line per connector.
pub static CONNECTORS: &[&dyn Connector] = &[
    &super::repsly::CONNECTOR,
    &super::robly::CONNECTOR,
    &super::rezora::CONNECTOR,
    &super::growbots::CONNECTOR,
    &super::rest::CONNECTOR,
    &super::file::CONNECTOR,
];

/// The connector called `name`.
pub fn connector(name: &str) -> Option<&'static dyn Connector> {
    CONNECTORS.iter().copied().find(|c| c.name() == name)
}

/// The connectors' names, for messages that list the valid ones.
pub fn connector_names() -> Vec<&'static str> {
    CONNECTORS.iter().map(|c| c.name()).collect()
}

/// A connector: a kind of peer app.
pub trait Connector: Sync {
    /// The `connector = "…"` value that selects it.
    fn name(&self) -> &'static str;
    /// One line for `ghlsync connector list` and messages.
    fn summary(&self) -> &'static str;
    /// Reads the peer's connection table (`source.parse()` keeps line:col in its errors) and
    /// checks it, without any request.
    fn configure(&self, source: &ConnectionSource<'_>) -> Result<Box<dyn PeerSetup>, ConfigError>;
    /// The mapping a peer of this connector starts with (`assets/mappings/`), if it has one.
    fn builtin_mapping(&self) -> Option<&'static str> {
        None
    }
    /// A peer of this connector against its emulation in a running sandbox, for
    /// `ghlsync sandbox --write-config` and demo mode; `None` when the sandbox has none.
    fn rehearsal(&self, sandbox: &crate::sandbox::RunningSandbox) -> Option<Rehearsal> {
        let _ = sandbox;
        None
    }
}

/// A ready-made peer against the sandbox: its `[peers.<name>]` lines and its secrets.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    pub peer: String,
    /// Where its emulation answers (for people and tests that look at its data).
    pub base_url: String,
    /// TOML lines of `[peers.<peer>]` and its tables, the header included.
    pub config: String,
    /// Secrets by key (`password`), as `PeerSetup::build` takes them.
    pub secrets: PeerSecrets,
    /// Files the config names (a connector file), by path relative to the config's folder.
    pub files: Vec<(String, String)>,
}

/// Every connector's rehearsal peer against `sandbox`, in registry order.
pub fn rehearsals(sandbox: &crate::sandbox::RunningSandbox) -> Vec<Rehearsal> {
    CONNECTORS
        .iter()
        .filter_map(|c| c.rehearsal(sandbox))
        .collect()
}

/// The rehearsal peers named in `only` (empty: every one); a name the sandbox does not emulate
/// is an error listing the ones it does.
pub fn rehearsals_named(
    sandbox: &crate::sandbox::RunningSandbox,
    only: &[String],
) -> Result<Vec<Rehearsal>, String> {
    let mut all = rehearsals(sandbox);
    if let Some(unknown) = only
        .iter()
        .find(|name| !all.iter().any(|r| r.peer == **name))
    {
        let known: Vec<&str> = all.iter().map(|r| r.peer.as_str()).collect();
        return Err(format!(
            "{unknown:?} is not a peer the sandbox emulates; it emulates {}",
            known.join(", ")
        ));
    }
    if !only.is_empty() {
        all.retain(|r| only.contains(&r.peer));
    }
    Ok(all)
}

/// A TOML string literal (quoted, escaped).
pub fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// One configured peer, checked, before any secret is read or request sent.
pub trait PeerSetup: Send + Sync + std::fmt::Debug {
    /// The secrets `build` needs, by key (`password` → `GHLSYNC_<PEER>_PASSWORD`, or
    /// `<peer>_password` in secrets.toml).
    fn secrets(&self) -> Vec<SecretNeed>;
    /// The account the store's links belong to (no secret): what the store is bound to.
    fn account(&self) -> PeerAccount;
    /// What the peer can read and write, per entity: the sync's flows are gated on it.
    fn capabilities(&self) -> Vec<EntityCapability>;
    /// This peer's built-in mapping, when it is not the connector's (a connector file's own).
    fn builtin_mapping(&self) -> Option<Cow<'static, str>> {
        None
    }
    /// Other names a mapping file for this peer may give as its `peer = …` (beside the peer's
    /// and the connector's): a connector file's app name.
    fn mapping_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// The peer itself; `peer` is its configured name (its key in the store and the sync log).
    fn build(&self, peer: &str, secrets: &PeerSecrets) -> Result<Arc<dyn Peer>, PeerError>;
}

/// A secret a peer needs, by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretNeed {
    pub key: String,
    /// What it is and where to find it, for the "missing secret" message.
    pub what: String,
}

/// A peer's secrets, by key (`password`), as `build` receives them.
pub type PeerSecrets = BTreeMap<String, Secret>;

/// The environment variable holding secret `key` of peer `peer`: `GHLSYNC_<PEER>_<KEY>`.
pub fn secret_env_var(peer: &str, key: &str) -> String {
    format!("GHLSYNC_{peer}_{key}")
        .to_ascii_uppercase()
        .replace(['-', '.'], "_")
}

/// The secrets.toml key holding secret `key` of peer `peer`: `<peer>_<key>`.
pub fn secret_file_key(peer: &str, key: &str) -> String {
    format!("{peer}_{key}")
}

/// Where a peer's connection table is: the config text and file, for errors with line:col.
pub struct ConnectionSource<'a> {
    pub peer: &'a str,
    pub text: &'a str,
    pub path: &'a Path,
}

impl ConnectionSource<'_> {
    /// `[peers.<peer>.connection]` as the connector's own type. Unknown keys and wrong types are
    /// errors at their line and column; a missing table is the type's default.
    pub fn parse<T: DeserializeOwned + Default>(&self) -> Result<T, ConfigError> {
        self.parse_table("connection")
    }

    /// `[peers.<peer>.<table>]` as `T`, read in place so errors keep line:col.
    pub fn parse_table<T: DeserializeOwned + Default>(
        &self,
        table: &str,
    ) -> Result<T, ConfigError> {
        let deserializer = toml::Deserializer::new(self.text);
        let found = Doc::<T> {
            peer: self.peer,
            table,
            wanted: PhantomData,
        }
        .deserialize(deserializer)
        .map_err(|err| {
            let (line, column) = err.span().map_or((1, 1), |span| {
                crate::config::line_column(self.text, span.start)
            });
            ConfigError::Parse {
                path: self.path.to_path_buf(),
                line,
                column,
                message: format!("peers.{}.{table}: {}", self.peer, err.message().trim()),
            }
        })?;
        Ok(found.unwrap_or_default())
    }

    /// A path from the connection table: relative ones are relative to the config's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_relative()
            && let Some(dir) = self.path.parent()
        {
            return dir.join(path);
        }
        path.to_path_buf()
    }

    /// An invalid connection value, said with the file.
    pub fn invalid(&self, message: impl std::fmt::Display) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            message: format!("peers.{}.connection: {message}", self.peer),
        }
    }
}

/// Reads the whole document, keeping only `peers.<peer>.<table>` as `T`: deserializing it in
/// place (not from a detached `toml::Value`) is what keeps the spans for line:col.
struct Doc<'p, T> {
    peer: &'p str,
    table: &'p str,
    wanted: PhantomData<T>,
}

/// Which level of the document a `Doc` visitor is at.
#[derive(Clone, Copy)]
enum Level {
    Root,
    Peers,
    Peer,
}

struct At<'p, T> {
    peer: &'p str,
    table: &'p str,
    level: Level,
    wanted: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Doc<'_, T> {
    type Value = Option<T>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_map(At {
            peer: self.peer,
            table: self.table,
            level: Level::Root,
            wanted: self.wanted,
        })
    }
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for At<'_, T> {
    type Value = Option<T>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for At<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            let next = match (self.level, key.as_str()) {
                (Level::Root, "peers") => Some(Level::Peers),
                (Level::Peers, name) if name == self.peer => Some(Level::Peer),
                _ => None,
            };
            match (self.level, next) {
                (Level::Peer, _) if key == self.table => found = Some(map.next_value::<T>()?),
                (_, Some(level)) => {
                    found = map.next_value_seed(At {
                        peer: self.peer,
                        table: self.table,
                        level,
                        wanted: PhantomData::<T>,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Conn {
        #[serde(default)]
        user: String,
        #[serde(default)]
        pages: u32,
    }

    fn parse(text: &str, peer: &str) -> Result<Conn, ConfigError> {
        ConnectionSource {
            peer,
            text,
            path: Path::new("/etc/ghlsync.toml"),
        }
        .parse()
    }

    #[test]
    fn reads_only_its_own_peers_connection() {
        let text = "[ghl]\nlocation_id = \"x\"\n[peers.a.connection]\nuser = \"ann\"\n\
                    [peers.b.connection]\nuser = \"bob\"\nother = 1\n";
        assert_eq!(parse(text, "a").unwrap().user, "ann");
        assert!(parse(text, "b").is_err(), "b's unknown key is b's error");
        assert_eq!(parse(text, "c").unwrap(), Conn::default());
    }

    #[test]
    fn errors_keep_line_and_column() {
        let text =
            "[peers.a]\nconnector = \"x\"\n[peers.a.connection]\nuser = \"ann\"\npagez = 3\n";
        let err = parse(text, "a").unwrap_err().to_string();
        assert!(err.starts_with("/etc/ghlsync.toml:5:1:"), "{err}");
        assert!(err.contains("pagez") && err.contains("pages"), "{err}");
        let text = "[peers.a.connection]\npages = \"many\"\n";
        let err = parse(text, "a").unwrap_err().to_string();
        assert!(err.contains(":2:9:"), "{err}");
    }

    #[test]
    fn secret_names_follow_the_peer() {
        assert_eq!(
            secret_env_var("repsly-eu", "password"),
            "GHLSYNC_REPSLY_EU_PASSWORD"
        );
        assert_eq!(
            secret_file_key("repsly-eu", "password"),
            "repsly-eu_password"
        );
    }
}

/// The connectors' own parsers, for `crate::fuzzing` (the cargo-fuzz targets): named here, with
/// the registry's other lines, so that no code outside a connector's folder names it.
#[doc(hidden)]
pub mod fuzz {
    use serde_json::Value;

    /// A peer's answer through each connector's page reader: Repsly's clients and notes pages,
    /// Robly's member, Rezora's contact rows.
    pub fn peer_answer(json: &Value) {
        use super::super::repsly::paging::{CLIENT_NOTES, CLIENTS, parse_page};
        let op = "GET export/clients/0";
        let _ = parse_page(
            json,
            CLIENTS,
            "0",
            op,
            super::super::repsly::clients::client_record,
        );
        let _ = parse_page(json, CLIENT_NOTES, "0", op, |row| {
            super::super::repsly::notes::note_record(row, None)
        });
        if let Some(member) = super::super::robly::members::member_of(json) {
            let _ = super::super::robly::members::record(member);
        }
        let rows = json
            .get("data")
            .and_then(Value::as_array)
            .or_else(|| json.as_array());
        for row in rows.into_iter().flatten() {
            let _ = super::super::rezora::records::contact_record(row, &["Primary".to_string()]);
        }
    }

    /// A file peer's inbox file, as CSV (two delimiters) and as JSONL.
    pub fn inbox_file(bytes: &[u8]) {
        use super::super::file::parse::parse;
        use super::super::file::{FileFormat, FileLimits};
        let limits = FileLimits::default();
        let _ = parse(bytes, FileFormat::Csv, b',', &limits);
        let _ = parse(bytes, FileFormat::Csv, b';', &limits);
        let _ = parse(bytes, FileFormat::Jsonl, b',', &limits);
    }

    /// A Growbots bridge event.
    pub fn bridge_event(bytes: &[u8]) {
        let _ = super::super::growbots::Event::parse(bytes);
    }

    /// A REST connector file's text.
    pub fn connector_file(text: &str) {
        let _ = super::super::rest::ConnectorFile::parse(text, "fuzz.toml");
    }
}
