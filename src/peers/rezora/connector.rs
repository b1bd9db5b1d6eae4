//! Rezora's entry in the connector registry: its connection table, its secret, its account,
//! its built-in mapping and its rehearsal against the sandbox's emulation.

use super::{Level, RezoraPeer, RezoraSettings};
use crate::config::ConfigError;
use crate::peers::registry::{
    ConnectionSource, Connector, PeerSecrets, PeerSetup, Rehearsal, SecretNeed, toml_string,
};
use crate::peers::{ChangeDetection, EntityCapability, EntityKind, NamedPeer, Peer, PeerError};
use crate::store::PeerAccount;
use std::sync::Arc;

pub struct Rezora;

pub static CONNECTOR: Rezora = Rezora;

impl Connector for Rezora {
    fn name(&self) -> &'static str {
        "rezora"
    }

    fn summary(&self) -> &'static str {
        "Rezora legacy API v1 (real-estate email marketing): contacts and their distribution lists"
    }

    fn configure(&self, source: &ConnectionSource<'_>) -> Result<Box<dyn PeerSetup>, ConfigError> {
        let settings: RezoraSettings = source.parse()?;
        if settings.username.trim().is_empty() {
            return Err(source.invalid(
                "username is empty; set it to the API username your Rezora account manager issued",
            ));
        }
        if settings.level == Level::Company {
            return Err(source.invalid(
                "level = \"company\": company credentials see agents only; contacts and lists need an agent's API credentials",
            ));
        }
        if url::Url::parse(&settings.base_url).is_err() {
            return Err(source.invalid(format!(
                "base_url {:?} is not a URL; Rezora's is {:?}",
                settings.base_url,
                super::DEFAULT_BASE_URL
            )));
        }
        Ok(Box::new(RezoraSetup { settings }))
    }

    fn builtin_mapping(&self) -> Option<&'static str> {
        Some(include_str!("../../../assets/mappings/rezora.toml"))
    }

    fn rehearsal(&self, sandbox: &crate::sandbox::RunningSandbox) -> Option<Rehearsal> {
        let access = &sandbox.rezora;
        let config = format!(
            "[peers.rezora]\nconnector = \"rezora\"\n\n[peers.rezora.connection]\nbase_url = {}\nusername = {}\n\
             auth = \"basic\"\n# The sandbox answers at once: no pacing.\nmin_request_interval_ms = 0\n",
            toml_string(&access.base_url),
            toml_string(&access.username),
        );
        Some(Rehearsal {
            peer: "rezora".into(),
            base_url: access.base_url.clone(),
            config,
            secrets: [("password".to_string(), access.password.clone())].into(),
            files: Vec::new(),
        })
    }
}

#[derive(Debug)]
struct RezoraSetup {
    settings: RezoraSettings,
}

impl PeerSetup for RezoraSetup {
    fn secrets(&self) -> Vec<SecretNeed> {
        vec![SecretNeed {
            key: "password".into(),
            what: "the Rezora API password (issued by your Rezora account manager, agent level)"
                .into(),
        }]
    }

    fn account(&self) -> PeerAccount {
        PeerAccount::new(&self.settings.base_url, &self.settings.username)
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        capabilities()
    }

    fn build(&self, peer: &str, secrets: &PeerSecrets) -> Result<Arc<dyn Peer>, PeerError> {
        let mut settings = self.settings.clone();
        if let Some(password) = secrets.get("password") {
            settings.password = password.clone();
        }
        Ok(NamedPeer::wrap(peer, Arc::new(RezoraPeer::new(settings)?)))
    }
}

/// Contacts, read and written, by a full listing each run; nothing else.
pub(super) fn capabilities() -> Vec<EntityCapability> {
    vec![EntityCapability {
        kind: EntityKind::Contact,
        read: true,
        write: true,
        changes: ChangeDetection::FullListing,
    }]
}
