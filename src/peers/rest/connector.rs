//! The REST connector's entry in the registry: `connection = { file = "…" }` names a connector
//! file (read and checked when the config loads, its mistakes at the file's line:col); the
//! secrets are the ones the file names; its mapping is `<file>.mapping.toml` beside it.

use super::{ConnectorFile, RestConnection, RestPeer};
use crate::config::ConfigError;
use crate::peers::registry::{
    ConnectionSource, Connector, PeerSecrets, PeerSetup, Rehearsal, SecretNeed, toml_string,
};
use crate::peers::{EntityCapability, Peer, PeerError};
use crate::store::PeerAccount;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Rest;

pub static CONNECTOR: Rest = Rest;

/// The example connector the sandbox's generic app answers in its default shape.
const EXAMPLE: &str = include_str!("../../../assets/connectors/crm-offset.toml");
const EXAMPLE_MAPPING: &str = include_str!("../../../assets/connectors/crm-offset.mapping.toml");

impl Connector for Rest {
    fn name(&self) -> &'static str {
        "rest"
    }

    fn summary(&self) -> &'static str {
        "any JSON-over-HTTP app described by a connector file (assets/connectors/)"
    }

    fn configure(&self, source: &ConnectionSource<'_>) -> Result<Box<dyn PeerSetup>, ConfigError> {
        let Some(connection) = source.parse::<Option<RestConnection>>()? else {
            return Err(source.invalid(
                "a rest peer needs file = \"connectors/APP.toml\": the connector file describing the app (examples in assets/connectors/; check one with `ghlsync connector check FILE`)",
            ));
        };
        if let Some(url) = &connection.base_url
            && url::Url::parse(url).is_err()
        {
            return Err(source.invalid(format!(
                "base_url {url:?} is not a URL (e.g. \"https://api.example.com/v1\")"
            )));
        }
        let path = source.resolve(Path::new(&connection.file));
        let file =
            ConnectorFile::load(&path).map_err(|err| source.invalid(format!("file: {err}")))?;
        let mapping = crate::bounded_file::read_text(
            &mapping_path(&path),
            crate::bounded_file::DEFINITION_FILE_BYTES,
        )
        .ok();
        Ok(Box::new(RestSetup {
            file,
            base_url: connection.base_url,
            mapping,
            push: connection.push,
        }))
    }

    fn rehearsal(&self, sandbox: &crate::sandbox::RunningSandbox) -> Option<Rehearsal> {
        let config = format!(
            "[peers.crm]\nconnector = \"rest\"\n\n[peers.crm.connection]\nfile = \"connectors/crm-offset.toml\"\nbase_url = {}\n",
            toml_string(&sandbox.generic_base_url),
        );
        Some(Rehearsal {
            peer: "crm".into(),
            base_url: sandbox.generic_base_url.clone(),
            config,
            secrets: [("api_token".to_string(), sandbox.generic_token.clone())].into(),
            files: vec![
                ("connectors/crm-offset.toml".into(), EXAMPLE.into()),
                (
                    "connectors/crm-offset.mapping.toml".into(),
                    EXAMPLE_MAPPING.into(),
                ),
            ],
        })
    }
}

/// A connector file's own mapping: `crm.toml` → `crm.mapping.toml` beside it.
fn mapping_path(file: &Path) -> PathBuf {
    file.with_extension("mapping.toml")
}

#[derive(Debug)]
struct RestSetup {
    file: ConnectorFile,
    base_url: Option<String>,
    mapping: Option<String>,
    /// The app pushes events, signed with secret `webhook_secret`.
    push: bool,
}

impl PeerSetup for RestSetup {
    fn secrets(&self) -> Vec<SecretNeed> {
        let mut needs: Vec<SecretNeed> = self
            .file
            .secret_names()
            .into_iter()
            .map(|key| SecretNeed {
                what: format!("secret {key:?} of connector file {}", self.file.origin),
                key,
            })
            .collect();
        if self.push && !needs.iter().any(|need| need.key == "webhook_secret") {
            needs.push(SecretNeed {
                key: "webhook_secret".into(),
                what: "the secret the app signs its pushed events with (push = true; choose a long random one and give the app the same)".into(),
            });
        }
        needs
    }

    /// An app is its base URL; the file's name tells two apps on one server apart.
    fn account(&self) -> PeerAccount {
        PeerAccount::new(
            self.base_url.as_deref().unwrap_or(&self.file.base_url),
            &self.file.name,
        )
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        self.file.capabilities()
    }

    fn builtin_mapping(&self) -> Option<Cow<'static, str>> {
        self.mapping.clone().map(Cow::Owned)
    }

    fn mapping_names(&self) -> Vec<String> {
        vec![self.file.name.clone()]
    }

    fn build(&self, peer: &str, secrets: &PeerSecrets) -> Result<Arc<dyn Peer>, PeerError> {
        let peer = RestPeer::new(peer, self.file.clone(), self.base_url.as_deref(), secrets)?;
        Ok(Arc::new(peer))
    }
}
