//! A peer under its configured name. The store, the sync log and the failed queue key records by
//! the peer's name, so two accounts of one connector (`[peers.repsly_us]`, `[peers.repsly_eu]`)
//! must answer to theirs; a connector that knows only its own name is wrapped in this.

use super::{
    ChangePage, EntityCapability, EntityKind, Peer, PeerError, PeerHealth, PeerRecord, WriteOutcome,
};
use std::sync::Arc;

pub struct NamedPeer {
    name: String,
    inner: Arc<dyn Peer>,
}

impl NamedPeer {
    /// `inner` as `name`; itself when that is already its name.
    pub fn wrap(name: &str, inner: Arc<dyn Peer>) -> Arc<dyn Peer> {
        if inner.name() == name {
            return inner;
        }
        Arc::new(NamedPeer {
            name: name.to_string(),
            inner,
        })
    }
}

#[async_trait::async_trait]
impl Peer for NamedPeer {
    fn name(&self) -> &str {
        &self.name
    }
    fn capabilities(&self) -> Vec<EntityCapability> {
        self.inner.capabilities()
    }
    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        self.inner.fetch_changes(kind, cursor).await
    }
    fn can_get(&self, kind: EntityKind) -> bool {
        self.inner.can_get(kind)
    }
    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        self.inner.get(kind, id).await
    }
    async fn upsert(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        self.inner.upsert(record).await
    }
    async fn delete(&self, kind: EntityKind, id: &str) -> Result<(), PeerError> {
        self.inner.delete(kind, id).await
    }
    async fn page_committed(&self, kind: EntityKind, cursor: &str) -> Result<(), PeerError> {
        self.inner.page_committed(kind, cursor).await
    }
    fn check(&self, record: &PeerRecord) -> Result<(), PeerError> {
        self.inner.check(record)
    }
    fn health(&self) -> PeerHealth {
        self.inner.health()
    }
    fn accept_push(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Option<Result<super::push::PushAccepted, super::push::Refused>> {
        self.inner.accept_push(headers, body)
    }
}
