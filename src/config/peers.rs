//! The configured peers: each `[peers.<name>]` checked by its connector (the connection table,
//! with line:col), its sync flows gated on what the peer can do. What a loaded config must pass,
//! and what the engine is built from.

use super::error::line_column;
use super::{Config, ConfigError, PeerSection};
use crate::peers::registry::{self, ConnectionSource, Connector, PeerSetup, Rehearsal};
use crate::peers::{EntityCapability, EntityKind};
use crate::sync::SyncSettings;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One peer of the config, ready to build.
#[derive(Debug)]
pub struct ConfiguredPeer {
    pub name: String,
    pub connector: &'static dyn Connector,
    pub setup: Box<dyn PeerSetup>,
    /// The sync settings with every flow the peer cannot do turned off.
    pub sync: SyncSettings,
    /// The mapping file, resolved against the config's folder.
    pub mapping: Option<PathBuf>,
}

impl ConfiguredPeer {
    /// Whether a mapping file's `peer = "<name>"` names this peer: its own name, its
    /// connector's, or its app's (a connector file's `name`).
    pub fn answers_to(&self, name: &str) -> bool {
        name == self.name
            || name == self.connector.name()
            || self.setup.mapping_names().iter().any(|n| n == name)
    }
}

impl std::fmt::Debug for dyn Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every `[peers.<name>]` of `config`, in name order, checked.
pub fn configured_peers(config: &Config, path: &Path) -> Result<Vec<ConfiguredPeer>, ConfigError> {
    config
        .peers
        .iter()
        .map(|(name, section)| configure(config, path, name, section))
        .collect()
}

fn configure(
    config: &Config,
    path: &Path,
    name: &str,
    section: &PeerSection,
) -> Result<ConfiguredPeer, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    check_name(name).map_err(|why| invalid(format!("[peers.{name}]: {why}")))?;
    let wanted = section.connector_name(name);
    let Some(connector) = registry::connector(wanted) else {
        let known = registry::connector_names().join(", ");
        let place = at_key(&config.text, name, "connector");
        return Err(invalid(format!(
            "{place}[peers.{name}]: {} {wanted:?} is not a connector ghlsync has; use one of: {known} (e.g. connector = \"rest\" with a connector file)",
            if section.connector.is_some() {
                "connector"
            } else {
                "the peer's name (no connector = …)"
            }
        )));
    };
    let source = ConnectionSource {
        peer: name,
        text: &config.text,
        path,
    };
    let setup = connector.configure(&source)?;
    let sync = gate_flows(
        &source,
        &section.sync,
        &setup.capabilities(),
        connector.name(),
    )?;
    let mapping = section.mapping.as_deref().map(|file| source.resolve(file));
    Ok(ConfiguredPeer {
        name: name.to_string(),
        connector,
        setup,
        sync,
        mapping,
    })
}

/// Writes the files the rehearsal peers' tables name (a connector file and its mapping) under
/// `folder`, as `sandbox --write-config` writes them beside its config.
pub fn write_rehearsal_files(rehearsals: &[Rehearsal], folder: &Path) -> Result<(), ConfigError> {
    for (relative, contents) in rehearsals.iter().flat_map(|r| &r.files) {
        let file = folder.join(relative);
        file.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::private_file::write_atomic(&file, contents.as_bytes()))
            .map_err(|source| ConfigError::Write { path: file, source })?;
    }
    Ok(())
}

/// The registry's rehearsal peers against a sandbox, configured the way a config holding their
/// tables in `folder` would be (their files written there first): demo mode and `ghlsync
/// sandbox` set their peers up by the code a configured engine uses.
pub fn rehearsal_peers(
    rehearsals: &[Rehearsal],
    folder: &Path,
) -> Result<Vec<ConfiguredPeer>, ConfigError> {
    write_rehearsal_files(rehearsals, folder)?;
    let text: Vec<&str> = rehearsals.iter().map(|r| r.config.as_str()).collect();
    let origin = folder.join(super::file::CONFIG_FILE_NAME);
    let config = Config::parse(&text.join("\n"), &origin)?;
    configured_peers(&config, &origin)
}

/// A peer's name keys its records in the store (`name/kind/id`), its secrets and its env vars.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err("a peer's name is 1–32 lowercase letters, digits, `_` or `-`, starting with a letter (e.g. [peers.shop_eu])".into())
    }
}

/// "file:line:col: " of `key` in `[peers.<peer>]`, when the text has it there.
fn at_key(text: &str, peer: &str, key: &str) -> String {
    let header = format!("[peers.{peer}]");
    let Some(start) = text.find(&header) else {
        return String::new();
    };
    let after = &text[start..];
    let Some(offset) = after
        .find(&format!("{key} "))
        .or_else(|| after.find(&format!("{key}=")))
    else {
        return String::new();
    };
    let (line, column) = line_column(text, start + offset);
    format!("line {line}, column {column}: ")
}

/// The flow switches as written (`None` = not written), with where.
#[derive(Debug, Default, Deserialize)]
struct WrittenFlows {
    #[serde(default)]
    contacts: WrittenFlow,
    #[serde(default)]
    tasks: WrittenFlow,
    #[serde(default)]
    notes: WrittenFlow,
    #[serde(default)]
    appointments: WrittenFlow,
}

#[derive(Debug, Default, Deserialize)]
struct WrittenFlow {
    #[serde(default)]
    to_ghl: Option<toml::Spanned<bool>>,
    #[serde(default)]
    to_peer: Option<toml::Spanned<bool>>,
}

impl WrittenFlows {
    fn of(&self, kind: EntityKind) -> &WrittenFlow {
        match kind {
            EntityKind::Contact => &self.contacts,
            EntityKind::Task => &self.tasks,
            EntityKind::Note => &self.notes,
            EntityKind::Appointment => &self.appointments,
        }
    }
}

/// The sync settings with every flow the peer cannot do turned off. A flow left unwritten
/// follows the peer; one written `true` that the peer cannot do is an error at its place —
/// otherwise every GHL record would queue as a write the peer refuses, retried ten times.
fn gate_flows(
    source: &ConnectionSource<'_>,
    settings: &SyncSettings,
    capabilities: &[EntityCapability],
    connector: &str,
) -> Result<SyncSettings, ConfigError> {
    let written: WrittenFlows = source.parse_table("sync")?;
    let mut gated = settings.clone();
    for kind in EntityKind::ALL {
        let capability = capabilities.iter().find(|c| c.kind == kind);
        let (can_read, can_write) = capability.map_or((false, false), |c| (c.read, c.write));
        let flow = written.of(kind);
        let entity = format!("{}s", kind.as_str());
        for (switch, can, written) in [
            ("to_ghl", can_read, &flow.to_ghl),
            ("to_peer", can_write, &flow.to_peer),
        ] {
            if let Some(value) = written
                && *value.get_ref()
                && !can
            {
                let (line, column) = line_column(source.text, value.span().start);
                let what = if switch == "to_ghl" { "read" } else { "write" };
                return Err(ConfigError::Parse {
                    path: source.path.to_path_buf(),
                    line,
                    column,
                    message: format!(
                        "peers.{}.sync.{entity}.{switch} = true, but the {connector} connector cannot {what} {entity}; set it to false or remove the line",
                        source.peer
                    ),
                });
            }
        }
        let target = match kind {
            EntityKind::Contact => &mut gated.contacts,
            EntityKind::Task => &mut gated.tasks,
            EntityKind::Note => &mut gated.notes,
            EntityKind::Appointment => &mut gated.appointments,
        };
        target.to_ghl &= can_read;
        target.to_peer &= can_write;
    }
    Ok(gated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<(Config, Vec<ConfiguredPeer>), ConfigError> {
        let path = Path::new("/etc/ghlsync/ghlsync.toml");
        let config = Config::parse(text, path)?;
        let peers = configured_peers(&config, path)?;
        Ok((config, peers))
    }

    const TWO_ACCOUNTS: &str = "[peers.repsly_us]\nconnector = \"repsly\"\n\
        [peers.repsly_us.connection]\nusername = \"us-api\"\n\n\
        [peers.repsly]\n[peers.repsly.connection]\nusername = \"eu-api\"\nbase_url = \"https://eu.example/v3\"\n";

    #[test]
    fn two_accounts_of_one_connector_load_in_name_order() {
        let (_, peers) = load(TWO_ACCOUNTS).unwrap();
        let names: Vec<&str> = peers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["repsly", "repsly_us"]);
        assert!(peers.iter().all(|p| p.connector.name() == "repsly"));
        assert_eq!(peers[0].setup.account().user, "eu-api");
        assert_eq!(peers[0].setup.account().base_url, "https://eu.example/v3");
        assert_eq!(peers[1].setup.account().user, "us-api");
        let needs = peers[1].setup.secrets();
        assert_eq!(needs[0].key, "password");
    }

    #[test]
    fn a_repsly_and_a_file_peer_load_side_by_side() {
        let text = "[peers.repsly.connection]\nusername = \"u\"\n\n\
            [peers.csv_drop]\nconnector = \"file\"\n\
            [peers.csv_drop.connection]\ninbox = \"inbox\"\nexport = \"out/contacts.jsonl\"\nformat = \"jsonl\"\n";
        let (_, peers) = load(text).unwrap();
        let file = &peers[0];
        assert_eq!(
            (file.name.as_str(), file.connector.name()),
            ("csv_drop", "file")
        );
        assert!(file.setup.secrets().is_empty());
        assert_eq!(
            file.setup.account().base_url,
            "file:///etc/ghlsync/inbox",
            "paths are the config folder's"
        );
        // A file peer has contacts only: the other flows are off without a word.
        assert!(file.sync.contacts.to_peer && !file.sync.notes.to_ghl);
        let err = load("[peers.drop]\nconnector = \"file\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("inbox") && err.contains("export"), "{err}");
        let err = load("[peers.drop]\nconnector = \"file\"\n[peers.drop.connection]\ninbox = \"i\"\nexport = \"e\"\nformat = \"xml\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":6:10:") && err.contains("csv"), "{err}");
    }

    #[test]
    fn repsly_two_rest_apps_and_a_file_peer_load_together() {
        let dir = tempfile::tempdir().unwrap();
        let connectors = dir.path().join("connectors");
        std::fs::create_dir_all(&connectors).unwrap();
        for name in ["crm-offset", "crm-cursor"] {
            let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/connectors");
            for file in [format!("{name}.toml"), format!("{name}.mapping.toml")] {
                std::fs::copy(assets.join(&file), connectors.join(&file)).unwrap();
            }
        }
        let text = "[peers.repsly.connection]\nusername = \"u\"\n\n\
            [peers.crm_a]\nconnector = \"rest\"\n[peers.crm_a.connection]\nfile = \"connectors/crm-offset.toml\"\n\n\
            [peers.crm_b]\nconnector = \"rest\"\n[peers.crm_b.connection]\nfile = \"connectors/crm-cursor.toml\"\nbase_url = \"http://127.0.0.1:9/generic\"\n\n\
            [peers.drop]\nconnector = \"file\"\n[peers.drop.connection]\ninbox = \"in\"\nexport = \"out.csv\"\n";
        let path = dir.path().join("ghlsync.toml");
        let config = Config::parse(text, &path).unwrap();
        let peers = configured_peers(&config, &path).unwrap();
        let described: Vec<(&str, &str)> = peers
            .iter()
            .map(|p| (p.name.as_str(), p.connector.name()))
            .collect();
        assert_eq!(
            described,
            [
                ("crm_a", "rest"),
                ("crm_b", "rest"),
                ("drop", "file"),
                ("repsly", "repsly")
            ]
        );
        // Each rest peer needs the secrets its file names, under its own name.
        assert!(!peers[0].setup.secrets().is_empty());
        // Its mapping is the one beside its connector file; its account the override.
        assert!(peers[0].setup.builtin_mapping().is_some());
        assert_eq!(
            peers[1].setup.account().base_url,
            "http://127.0.0.1:9/generic"
        );
        assert_ne!(peers[0].setup.account(), peers[1].setup.account());
        // A misspelt connection key, and a mistake inside the connector file, have their place.
        let err = Config::parse(
            "[peers.crm]\nconnector = \"rest\"\n[peers.crm.connection]\nfil = \"x.toml\"\n",
            &path,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(":4:1:") && err.contains("file"), "{err}");
        let broken = connectors.join("broken.toml");
        let original = std::fs::read_to_string(connectors.join("crm-cursor.toml")).unwrap();
        std::fs::write(
            &broken,
            original.replacen("[contact]", "[contact]\nprimary_kee = \"id\"", 1),
        )
        .unwrap();
        let err = Config::parse(
            "[peers.crm]\nconnector = \"rest\"\n[peers.crm.connection]\nfile = \"connectors/broken.toml\"\n",
            &path,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("broken.toml:") && err.contains("primary_kee"),
            "{err}"
        );
    }

    #[test]
    fn a_misspelt_connector_lists_the_known_ones() {
        let err = load("[peers.shop]\nconnector = \"repsley\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2, column 1"), "{err}");
        assert!(
            err.contains("\"repsley\"") && err.contains("repsly"),
            "{err}"
        );
        let err = load("[peers.zoho.connection]\nuser = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no connector = …") && err.contains("repsly"),
            "{err}"
        );
    }

    #[test]
    fn a_misspelt_connection_key_has_its_place() {
        let err = load("[peers.repsly.connection]\nusername = \"u\"\nusernme = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/etc/ghlsync/ghlsync.toml:3:1:"), "{err}");
        assert!(err.contains("usernme") && err.contains("username"), "{err}");
        let err = load("[peers.repsly]\nconection = {}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2:1:") && err.contains("connection"), "{err}");
    }

    #[test]
    fn bad_peer_names_are_refused() {
        let err = load("[peers.\"Repsly/EU\"]\nconnector = \"repsly\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lowercase letters"), "{err}");
    }

    #[test]
    fn flows_the_peer_cannot_do_are_off_and_asking_for_one_is_an_error() {
        let text = "[peers.repsly.connection]\nusername = \"u\"\n";
        let (_, peers) = load(text).unwrap();
        let sync = &peers[0].sync;
        // Repsly cannot write tasks or notes: those flows are off without a word in the config.
        assert!(sync.tasks.to_ghl && !sync.tasks.to_peer);
        assert!(sync.notes.to_ghl && !sync.notes.to_peer);
        assert!(sync.contacts.to_ghl && sync.contacts.to_peer);
        let asked = format!("{text}[peers.repsly.sync.notes]\nto_ghl = true\nto_peer = true\n");
        let err = load(&asked).unwrap_err().to_string();
        assert!(err.contains(":5:11:"), "{err}");
        assert!(
            err.contains("cannot write notes") && err.contains("set it to false"),
            "{err}"
        );
        let off = format!("{text}[peers.repsly.sync.contacts]\nto_peer = false\n");
        let (_, peers) = load(&off).unwrap();
        assert!(!peers[0].sync.contacts.to_peer);
    }

    #[test]
    fn an_empty_username_names_where_to_find_it() {
        let err = load("[peers.repsly]\n").unwrap_err().to_string();
        assert!(
            err.contains("peers.repsly.connection: username is empty"),
            "{err}"
        );
    }

    #[test]
    fn relative_mapping_paths_are_relative_to_the_config() {
        let (_, peers) = load("[peers.repsly]\nmapping = \"maps/r.toml\"\n[peers.repsly.connection]\nusername = \"u\"\n").unwrap();
        assert_eq!(
            peers[0].mapping.as_deref(),
            Some(Path::new("/etc/ghlsync/maps/r.toml"))
        );
    }
}
