//! The engine the console talks to in the bench: an in-memory peer and a GHL client pointed at a
//! closed port, over the seeded store, so every answer comes from the store.

use super::*;

/// A peer held in memory: contacts and the parents of children are computed from their ids,
/// so the engine's detail, mapping preview and children queries have something to read.
pub struct BenchPeer {
    contacts: usize,
}

#[async_trait::async_trait]
impl Peer for BenchPeer {
    fn name(&self) -> &str {
        PEER
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        EntityKind::ALL
            .iter()
            .map(|&kind| EntityCapability {
                kind,
                read: true,
                write: false,
                changes: ChangeDetection::Cursor,
            })
            .collect()
    }

    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        let count = match kind {
            EntityKind::Task => seed::TASKS,
            EntityKind::Note => seed::NOTES,
            EntityKind::Appointment => seed::APPOINTMENTS,
            EntityKind::Contact => 0,
        };
        let records = if cursor.is_some() {
            Vec::new()
        } else {
            (0..count)
                .map(|j| PeerRecord {
                    kind,
                    id: seed::child_id(kind, j),
                    parent_id: Some(seed::peer_id(seed::parent_of(kind, j, self.contacts))),
                    updated_at: None,
                    active: true,
                    fields: Map::new(),
                    raw: Value::Null,
                })
                .collect()
        };
        Ok(ChangePage {
            records,
            next_cursor: Some("end".into()),
            done: true,
        })
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        let index = id.strip_prefix('C').and_then(|n| n.parse::<usize>().ok());
        Ok(match (kind, index) {
            (EntityKind::Contact, Some(i)) if i < self.contacts => Some(seed::peer_record(i)),
            _ => None,
        })
    }

    async fn upsert(&self, _record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        Err(PeerError::unsupported(
            PEER,
            "the console bench writes nothing",
        ))
    }
}

/// The engine's context over the seeded store. GHL is a closed port, tried once: the console's
/// list, log, status and failed queue come from the store alone.
pub fn context(
    store: Store,
    contacts: usize,
    events: Option<broadcast::Sender<LogEntry>>,
) -> SyncContext {
    let mut settings = ClientSettings::new(
        "http://127.0.0.1:9",
        "bench-location",
        AuthSettings::PrivateToken(Secret::new("bench")),
    );
    settings.retry.max_attempts = 1;
    settings.timeout = Duration::from_secs(2);
    SyncContext {
        store,
        ghl: GhlClient::new(settings).expect("GHL client"),
        peer: Arc::new(BenchPeer { contacts }),
        mapping: Mapping::builtin(PEER).expect("built-in mapping"),
        settings: Default::default(),
        events,
    }
}

/// Opens the store, waiting while another process (or a stopping engine) still holds its lock.
pub fn open_when_free(path: &Path) -> Store {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Store::open(path) {
            Ok(store) => return store,
            Err(ghlsync::store::StoreError::Locked { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(err) => panic!("opening the store: {err}"),
        }
    }
}
