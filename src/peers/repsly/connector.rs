//! Repsly's entry in the connector registry: its connection table, its secret, its account and
//! its built-in mapping.

use super::{RepslyPeer, RepslySettings};
use crate::config::ConfigError;
use crate::peers::registry::{
    ConnectionSource, Connector, PeerSecrets, PeerSetup, Rehearsal, SecretNeed, toml_string,
};
use crate::peers::{ChangeDetection, EntityCapability, EntityKind, NamedPeer, Peer, PeerError};
use crate::store::PeerAccount;
use std::sync::Arc;

pub struct Repsly;

pub static CONNECTOR: Repsly = Repsly;

impl Connector for Repsly {
    fn name(&self) -> &'static str {
        "repsly"
    }

    fn summary(&self) -> &'static str {
        "Repsly API v3 (retail execution): clients, client notes, schedules"
    }

    fn configure(&self, source: &ConnectionSource<'_>) -> Result<Box<dyn PeerSetup>, ConfigError> {
        let settings: RepslySettings = source.parse()?;
        if settings.username.trim().is_empty() {
            // Bound to an empty user, the store would refuse the real one once it is filled in.
            return Err(source.invalid(
                "username is empty; set it to the API username (Repsly → Settings → API Settings)",
            ));
        }
        if url::Url::parse(&settings.base_url).is_err() {
            return Err(source.invalid(format!(
                "base_url {:?} is not a URL; Repsly's is {:?}",
                settings.base_url,
                super::DEFAULT_BASE_URL
            )));
        }
        Ok(Box::new(RepslySetup { settings }))
    }

    fn builtin_mapping(&self) -> Option<&'static str> {
        Some(include_str!("../../../assets/mappings/repsly.toml"))
    }

    fn rehearsal(&self, sandbox: &crate::sandbox::RunningSandbox) -> Option<Rehearsal> {
        let config = format!(
            "[peers.repsly]\nconnector = \"repsly\"\n\n[peers.repsly.connection]\nbase_url = {}\nusername = {}\n\
             # The sandbox answers at once: no pacing, quick import polling.\n\
             min_request_interval_ms = 0\nimport_poll_interval_ms = 20\n",
            toml_string(&sandbox.repsly_base_url),
            toml_string(&sandbox.repsly_username),
        );
        Some(Rehearsal {
            peer: "repsly".into(),
            base_url: sandbox.repsly_base_url.clone(),
            config,
            secrets: [("password".to_string(), sandbox.repsly_password.clone())].into(),
            files: Vec::new(),
        })
    }
}

#[derive(Debug)]
struct RepslySetup {
    settings: RepslySettings,
}

impl PeerSetup for RepslySetup {
    fn secrets(&self) -> Vec<SecretNeed> {
        vec![SecretNeed {
            key: "password".into(),
            what: "the Repsly API password (Repsly → Settings → API Settings)".into(),
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
        Ok(NamedPeer::wrap(peer, Arc::new(RepslyPeer::new(settings)?)))
    }
}

/// What Repsly can read and write, per entity.
pub(super) fn capabilities() -> Vec<EntityCapability> {
    let cap = |kind, write, changes| EntityCapability {
        kind,
        read: true,
        write,
        changes,
    };
    vec![
        cap(EntityKind::Contact, true, ChangeDetection::Cursor),
        // No import route for notes in the help listing. [verify]
        cap(EntityKind::Note, false, ChangeDetection::Cursor),
        cap(EntityKind::Appointment, true, ChangeDetection::PollWindow),
        cap(EntityKind::Task, false, ChangeDetection::PollWindow),
    ]
}
