//! A targeted run: the GHL contacts a webhook (or "one contact now") names, each read by id and
//! handed to flow 4's own planner (`Run::ghl_contact_to_peer`), with the run's recovery, due
//! retries and failed queue as any run has them. A contact whose GHL side matches its baseline
//! costs no write; one GHL deleted is logged and its peer record kept (the delete policies are
//! about peer deletions; none applies GHL's deletions to a peer).

use super::context::SyncError;
use super::run::Run;
use crate::net::ErrorClass;
use crate::peers::EntityKind;

impl Run<'_> {
    pub(super) async fn targeted(&self) -> Result<(), SyncError> {
        if !self.wants(EntityKind::Contact) || !self.ctx.settings.contacts.to_peer {
            return Ok(());
        }
        self.load_open()?;
        let mut ids = self.options.ghl_contacts.clone();
        ids.sort();
        ids.dedup();
        for ghl_id in ids {
            if self.limit_reached() {
                break;
            }
            if !self.knows_ghl(&ghl_id) {
                match self.ctx.ghl.get_contact(&ghl_id).await {
                    Ok(found) => self.keep_ghl(&found.contact)?,
                    Err(err) if err.class() == ErrorClass::NotFound => {
                        tracing::info!(
                            peer = self.ctx.peer_name(),
                            ghl_id,
                            "GHL contact is gone (deleted in GHL); its peer record is kept: no delete policy applies GHL's deletions to a peer"
                        );
                        continue;
                    }
                    Err(err) => return Err(err.into()),
                }
            }
            self.ghl_contact_to_peer(&ghl_id).await?;
        }
        if !self.dry_run {
            self.close_moot_holds()?;
        }
        Ok(())
    }
}
