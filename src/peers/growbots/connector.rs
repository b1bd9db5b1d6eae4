//! Growbots' entry in the registry: its connection table (paths relative to the config's
//! folder), the bridge's shared secret, its account (the inbox and export) and built-in mapping,
//! and its rehearsal: the sandbox's seeded exports written into the config's folder.

use super::{GrowbotsConnection, GrowbotsPeer};
use crate::config::ConfigError;
use crate::peers::registry::{
    ConnectionSource, Connector, PeerSecrets, PeerSetup, Rehearsal, SecretNeed,
};
use crate::peers::{EntityCapability, Peer, PeerError};
use crate::store::PeerAccount;
use std::sync::Arc;

pub struct Growbots;

pub static CONNECTOR: Growbots = Growbots;

/// Where the rehearsal puts things, relative to the config's folder.
const REHEARSAL_DIR: &str = "growbots";

impl Connector for Growbots {
    fn name(&self) -> &'static str {
        "growbots"
    }

    fn summary(&self) -> &'static str {
        "Growbots (no public API): prospects and companies CSV exports, events from a Zapier bridge, a prospects CSV out"
    }

    fn configure(&self, source: &ConnectionSource<'_>) -> Result<Box<dyn PeerSetup>, ConfigError> {
        let Some(mut connection) = source.parse::<Option<GrowbotsConnection>>()? else {
            return Err(source.invalid(
                "a Growbots peer needs inbox = \"FOLDER\", export = \"FILE\" and events = \"FOLDER\" in its connection table",
            ));
        };
        for (key, columns) in [
            ("columns", &connection.columns),
            ("company_columns", &connection.company_columns),
        ] {
            let defaults = if key == "columns" {
                super::PROSPECT_COLUMNS
            } else {
                super::COMPANY_COLUMNS
            };
            super::Columns::new(defaults, columns)
                .map_err(|why| source.invalid(format!("{key}: {why}")))?;
        }
        if let Some(base) = source.path.parent() {
            connection.resolve_paths(base);
        }
        Ok(Box::new(GrowbotsSetup { connection }))
    }

    fn builtin_mapping(&self) -> Option<&'static str> {
        Some(include_str!("../../../assets/mappings/growbots.toml"))
    }

    fn rehearsal(&self, sandbox: &crate::sandbox::RunningSandbox) -> Option<Rehearsal> {
        let access = &sandbox.growbots;
        let config = format!(
            "[peers.growbots]\nconnector = \"growbots\"\n\n[peers.growbots.connection]\n\
             # The sandbox's seeded Growbots exports are written into inbox and companies_inbox.\n\
             inbox = \"{REHEARSAL_DIR}/inbox\"\ncompanies_inbox = \"{REHEARSAL_DIR}/companies\"\n\
             export = \"{REHEARSAL_DIR}/prospects-for-growbots.csv\"\nevents = \"{REHEARSAL_DIR}/events\"\n",
        );
        let files = vec![
            (
                format!("{REHEARSAL_DIR}/inbox/growbots-prospects.csv"),
                access.prospects_csv.clone(),
            ),
            (
                format!("{REHEARSAL_DIR}/companies/growbots-companies.csv"),
                access.companies_csv.clone(),
            ),
        ];
        Some(Rehearsal {
            peer: "growbots".into(),
            base_url: access.base_url.clone(),
            config,
            secrets: [("webhook_secret".to_string(), access.webhook_secret.clone())].into(),
            files,
        })
    }
}

#[derive(Debug)]
struct GrowbotsSetup {
    connection: GrowbotsConnection,
}

impl PeerSetup for GrowbotsSetup {
    fn secrets(&self) -> Vec<SecretNeed> {
        vec![SecretNeed {
            key: "webhook_secret".into(),
            what: "the secret the Zapier bridge signs Growbots events with (choose a long random one and give the bridge the same)".into(),
        }]
    }

    /// The export files are the account: another inbox or export is another Growbots.
    fn account(&self) -> PeerAccount {
        PeerAccount::new(
            &format!("growbots://{}", self.connection.inbox.display()),
            &self.connection.export.display().to_string(),
        )
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        super::capabilities()
    }

    fn build(&self, peer: &str, secrets: &PeerSecrets) -> Result<Arc<dyn Peer>, PeerError> {
        let mut built = GrowbotsPeer::new(peer, &self.connection)?;
        if let Some(secret) = secrets.get("webhook_secret") {
            let receiver = self.connection.receiver(secret.clone()).map_err(|err| {
                PeerError::unsupported(
                    peer,
                    format!(
                        "the bridge's receiver cannot open {}: {err}; check the events folder's permissions",
                        self.connection.events.display()
                    ),
                )
            })?;
            built = built.with_receiver(receiver);
        }
        Ok(Arc::new(built))
    }
}
