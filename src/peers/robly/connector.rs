//! Robly's entry in the connector registry: its connection table, its two secrets (the API ID
//! and key, both sent as query parameters), its account and its built-in mapping.

use super::{RoblyPeer, RoblySettings};
use crate::config::ConfigError;
use crate::peers::registry::{
    ConnectionSource, Connector, PeerSecrets, PeerSetup, Rehearsal, SecretNeed, toml_string,
};
use crate::peers::{ChangeDetection, EntityCapability, EntityKind, NamedPeer, Peer, PeerError};
use crate::store::PeerAccount;
use std::sync::Arc;

pub struct Robly;

pub static CONNECTOR: Robly = Robly;

const WHERE: &str =
    "Robly → Settings → My Account → API Details (shown once billing details are on file)";

impl Connector for Robly {
    fn name(&self) -> &'static str {
        "robly"
    }

    fn summary(&self) -> &'static str {
        "Robly API v1 (email marketing): members ↔ contacts, sub-lists ↔ tags, opt-outs → DND"
    }

    fn configure(&self, source: &ConnectionSource<'_>) -> Result<Box<dyn PeerSetup>, ConfigError> {
        let settings: RoblySettings = source.parse()?;
        if url::Url::parse(&settings.base_url).is_err() {
            return Err(source.invalid(format!(
                "base_url {:?} is not a URL; Robly's is {:?}",
                settings.base_url,
                super::DEFAULT_BASE_URL
            )));
        }
        if settings.account.trim().is_empty() {
            return Err(source.invalid(
                "account is empty; name the Robly account (any label: the store is bound to it)",
            ));
        }
        if !(1..=100).contains(&settings.page_size) {
            return Err(source.invalid(format!(
                "page_size {} is out of range; Robly serves 1 to 100 members a page",
                settings.page_size
            )));
        }
        Ok(Box::new(RoblySetup { settings }))
    }

    fn builtin_mapping(&self) -> Option<&'static str> {
        Some(include_str!("../../../assets/mappings/robly.toml"))
    }

    fn rehearsal(&self, sandbox: &crate::sandbox::RunningSandbox) -> Option<Rehearsal> {
        let access = &sandbox.robly;
        let config = format!(
            "[peers.robly]\nconnector = \"robly\"\n\n[peers.robly.connection]\nbase_url = {}\naccount = \"sandbox\"\n\
             # The sandbox answers at once: no pacing.\nmin_request_interval_ms = 0\n",
            toml_string(&access.base_url),
        );
        Some(Rehearsal {
            peer: "robly".into(),
            base_url: access.base_url.clone(),
            config,
            secrets: [
                ("api_id".to_string(), access.api_id.clone()),
                ("api_key".to_string(), access.api_key.clone()),
            ]
            .into(),
            files: Vec::new(),
        })
    }
}

#[derive(Debug)]
struct RoblySetup {
    settings: RoblySettings,
}

impl PeerSetup for RoblySetup {
    fn secrets(&self) -> Vec<SecretNeed> {
        vec![
            SecretNeed {
                key: "api_id".into(),
                what: format!("the Robly API ID ({WHERE})"),
            },
            SecretNeed {
                key: "api_key".into(),
                what: format!("the Robly API key ({WHERE})"),
            },
        ]
    }

    fn account(&self) -> PeerAccount {
        PeerAccount::new(&self.settings.base_url, &self.settings.account)
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        capabilities()
    }

    fn build(&self, peer: &str, secrets: &PeerSecrets) -> Result<Arc<dyn Peer>, PeerError> {
        let mut settings = self.settings.clone();
        if let Some(id) = secrets.get("api_id") {
            settings.api_id = id.clone();
        }
        if let Some(key) = secrets.get("api_key") {
            settings.api_key = key.clone();
        }
        Ok(NamedPeer::wrap(peer, Arc::new(RoblyPeer::new(settings)?)))
    }
}

/// Robly has contacts only: no tasks, notes or appointments.
pub(super) fn capabilities() -> Vec<EntityCapability> {
    vec![EntityCapability {
        kind: EntityKind::Contact,
        read: true,
        write: true,
        changes: ChangeDetection::Cursor,
    }]
}
