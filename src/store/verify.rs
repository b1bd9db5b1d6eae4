//! `Store::verify`: checks a store the way the sync relies on it, and says what to do about each
//! problem. `ghlsync store verify` prints the report; `restore` runs it on the restored copy
//! before that copy takes the store's place.
//!
//! What is checked: every value decodes as its tree's type; `idmap` and `idmap_rev` point at
//! each other; a child's link names a linked contact; no operation is left in flight;
//! `ops_by_state` matches `ops`; `meta/schema_version` is there and understood. A tree this
//! release has no type for (one a newer release added) is listed as unchecked, not failed.

use super::contact_list;
use super::keys::state_key;
use super::records::{Baseline, IdLink, LogEntry, MappingVersion, OpState, Operation, RunRecord};
use super::{SCHEMA_VERSION, Store, StoreError, TREE_NAMES, codec};
use crate::peers::EntityKind;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One problem found, where it is and what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub tree: String,
    /// The key as `store export` prints it (text, or hex when it is not text).
    pub key: String,
    pub problem: String,
    pub fix: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A value (or key) that is not what its tree holds.
    Undecodable,
    /// An `idmap` link without its `idmap_rev` entry (both are written in one transaction).
    MissingReverse,
    /// An `idmap_rev` entry naming a peer record that has no link at all.
    OrphanReverse,
    /// Two peer records linked to one GHL record: the reverse names the other one. The sync
    /// makes this when GHL's upsert matches a second peer record (same email or phone) to a
    /// contact the first one created: duplicates in the peer.
    SharedGhlRecord,
    /// An `idmap_rev` entry left behind when its peer record was linked to another GHL record.
    StaleReverse,
    /// A task, note or appointment whose contact has no link.
    OrphanChild,
    /// An operation whose request may have been sent and whose outcome is not recorded.
    InFlight,
    /// `ops_by_state` and `ops` disagree.
    IndexMismatch,
    /// `meta/schema_version` missing or not understood.
    Schema,
}

impl FindingKind {
    /// Whether the store is damaged: something the store's own transactions never leave behind.
    /// The rest is work a crash (or a backup taken mid-run) left unfinished, which the next sync
    /// finishes by lookup, or data the sync made from what the two sides hold (shared and stale
    /// links), for a person to look at: a backup holding them restores as it was.
    pub fn is_damage(self) -> bool {
        !matches!(
            self,
            FindingKind::InFlight | FindingKind::SharedGhlRecord | FindingKind::StaleReverse
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Values read, across every checked tree.
    pub records: u64,
    /// Trees this release has no type for (added by a newer one): their values were not checked.
    pub unchecked_trees: Vec<String>,
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    pub fn damage(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.kind.is_damage())
    }
}

const RESTORE_FIX: &str = "restore the newest backup that verifies clean (`ghlsync store restore BACKUP` into an empty path, then point [store] path at it), or keep this store and report it";

/// Whether `value` is what `tree` holds under `key`. `None`: a tree this release does not know.
/// The restore checks each backup line with it, so a bad value is refused naming its line.
pub(super) fn check_value(tree: &str, key: &[u8], value: &[u8]) -> Option<Result<(), StoreError>> {
    fn is<T: DeserializeOwned>(tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        codec::decode::<T>(tree, key, value).map(|_| ())
    }
    Some(match tree {
        "meta" => match key {
            b"schema_version" => is::<u32>(tree, key, value),
            _ if key.starts_with(super::binding::KEY_PREFIX) => {
                super::binding::check_value(key, value)
            }
            // A meta entry a later release added: at least a stored value.
            _ => is::<serde_json::Value>(tree, key, value),
        },
        "idmap" => is::<IdLink>(tree, key, value),
        "idmap_rev" | "cursors" => is::<String>(tree, key, value),
        "baselines" => is::<Baseline>(tree, key, value),
        "ops" => is::<Operation>(tree, key, value),
        "ops_by_state" => match (index_entry(key), value.is_empty()) {
            (Some(_), true) => Ok(()),
            (None, _) => Err(corrupt(
                tree,
                key,
                "the key is not `state/` and an operation id",
            )),
            (_, false) => Err(corrupt(tree, key, "an index entry's value is empty")),
        },
        "mappings" => is::<MappingVersion>(tree, key, value),
        "runs" => is::<RunRecord>(tree, key, value),
        "synclog" => is::<LogEntry>(tree, key, value),
        "contact_list" => contact_list::check_entry(key, value),
        "peer_identity" => super::identity::check_entry(key, value),
        "child_surveys" if value.is_empty() => Ok(()),
        "child_surveys" => Err(corrupt(tree, key, "a survey mark's value is empty")),
        _ => return None,
    })
}

fn corrupt(tree: &str, key: &[u8], detail: &str) -> StoreError {
    StoreError::Corrupt {
        tree: tree.to_string(),
        key: codec::printable_key(key),
        detail: detail.to_string(),
    }
}

/// `state/` + a big-endian operation id → (state, id).
fn index_entry(key: &[u8]) -> Option<(&str, u64)> {
    let split = key.len().checked_sub(8)?;
    let (state, id) = key.split_at(split);
    let state = std::str::from_utf8(state).ok()?.strip_suffix('/')?;
    Some((state, u64::from_be_bytes(<[u8; 8]>::try_from(id).ok()?)))
}

/// `peer/kind/id` → its parts (ids may hold `/`: only the first two are structural).
fn entity_parts(key: &[u8]) -> Option<(&str, EntityKind, &str)> {
    let text = std::str::from_utf8(key).ok()?;
    let mut parts = text.splitn(3, '/');
    let peer = parts.next()?;
    let kind = parts.next()?.parse().ok()?;
    Some((peer, kind, parts.next()?))
}

impl Store {
    /// Checks the whole store (see the module comment). Store I/O errors are errors; everything
    /// wrong with what the store holds is a finding.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        self.check_values(&mut report)?;
        self.check_links(&mut report)?;
        self.check_ops(&mut report)?;
        self.check_schema(&mut report)?;
        Ok(report)
    }

    fn check_values(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        for name in TREE_NAMES {
            let Some(tree) = self.tree_by_name(name) else {
                report.unchecked_trees.push(name.to_string());
                continue;
            };
            for item in tree.iter() {
                let (key, value) = item?;
                report.records += 1;
                match check_value(name, &key, &value) {
                    None => {
                        report.unchecked_trees.push(name.to_string());
                        break;
                    }
                    Some(Ok(())) => {}
                    Some(Err(err)) => report.findings.push(Finding {
                        kind: FindingKind::Undecodable,
                        tree: name.to_string(),
                        key: codec::printable_key(&key),
                        problem: format!("cannot be read: {}", detail(&err)),
                        fix: format!(
                            "ghlsync refuses to use this record until it is fixed: {RESTORE_FIX}"
                        ),
                    }),
                }
            }
        }
        Ok(())
    }

    /// `idmap` → `idmap_rev` and back, and each child's contact. A value that does not decode
    /// was reported by `check_values` and is passed over here.
    fn check_links(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        for item in self.idmap.iter() {
            let (key, value) = item?;
            let (Ok(link), Some((peer, kind, peer_id))) = (
                codec::decode::<IdLink>("idmap", &key, &value),
                entity_parts(&key),
            ) else {
                continue;
            };
            let rev_key = super::entity_key(peer, kind, &link.ghl_id);
            let reverse = self.idmap_rev.get(&rev_key)?;
            let reverse = reverse
                .map(|bytes| codec::decode::<String>("idmap_rev", &rev_key, &bytes))
                .transpose();
            let ghl_id = &link.ghl_id;
            let finding = match reverse {
                Ok(None) => Some((
                    FindingKind::MissingReverse,
                    format!(
                        "links {kind} {peer_id} to GHL {ghl_id}, but idmap_rev has no entry for {}",
                        codec::printable_key(&rev_key)
                    ),
                    format!(
                        "until fixed, a GHL → {peer} sync does not see GHL {ghl_id} as linked to {peer_id} and may create it in {peer} again; {RESTORE_FIX}"
                    ),
                )),
                Ok(Some(other)) if other != peer_id => Some((
                    FindingKind::SharedGhlRecord,
                    format!(
                        "links {kind} {peer_id} to GHL {ghl_id}, which is linked to {peer} {kind} {other} too: GHL took them for one record (same email or phone)"
                    ),
                    format!(
                        "if {peer_id} and {other} are duplicates, merge them in {peer}; if not, give them different emails and phones there. Until then both write to GHL {ghl_id}, and its GHL changes reach {other} only"
                    ),
                )),
                _ => None,
            };
            if let Some((kind, problem, fix)) = finding {
                report.findings.push(Finding {
                    kind,
                    tree: "idmap".into(),
                    key: codec::printable_key(&key),
                    problem,
                    fix,
                });
            }
            if let Some(parent) = link
                .parent
                .as_deref()
                .filter(|_| kind != EntityKind::Contact)
                && self
                    .idmap
                    .get(super::entity_key(peer, EntityKind::Contact, parent))?
                    .is_none()
            {
                report.findings.push(Finding {
                    kind: FindingKind::OrphanChild,
                    tree: "idmap".into(),
                    key: codec::printable_key(&key),
                    problem: format!(
                        "this {kind} belongs to {peer} contact {parent}, which has no link"
                    ),
                    fix: format!(
                        "run `ghlsync sync --full --entity contact` so contact {parent} is matched by key and linked again; if it no longer exists in {peer}, the {kind} is left as it is in GHL"
                    ),
                });
            }
        }
        for item in self.idmap_rev.iter() {
            let (key, value) = item?;
            let (Ok(peer_id), Some((peer, kind, ghl_id))) = (
                codec::decode::<String>("idmap_rev", &key, &value),
                entity_parts(&key),
            ) else {
                continue;
            };
            let link_key = super::entity_key(peer, kind, &peer_id);
            let link = self.idmap.get(&link_key)?;
            let link = link
                .map(|bytes| codec::decode::<IdLink>("idmap", &link_key, &bytes))
                .transpose();
            let (kind, problem, fix) = match link {
                Ok(None) => (
                    FindingKind::OrphanReverse,
                    format!(
                        "says GHL {ghl_id} is {peer} {kind} {peer_id}, which has no link in idmap"
                    ),
                    format!(
                        "until fixed, changes to GHL {ghl_id} may be applied to {peer} {kind} {peer_id}; {RESTORE_FIX}"
                    ),
                ),
                Ok(Some(link)) if link.ghl_id != ghl_id => (
                    FindingKind::StaleReverse,
                    format!(
                        "says GHL {ghl_id} is {peer} {kind} {peer_id}, but {peer_id} is now linked to GHL {}",
                        link.ghl_id
                    ),
                    format!(
                        "look GHL {ghl_id} up (`ghlsync ghl contact get {ghl_id}` for a contact): if it still exists it is likely a duplicate of GHL {}; merge or delete it in GHL, or its changes may be applied to {peer_id}",
                        link.ghl_id
                    ),
                ),
                _ => continue,
            };
            report.findings.push(Finding {
                kind,
                tree: "idmap_rev".into(),
                key: codec::printable_key(&key),
                problem,
                fix,
            });
        }
        Ok(())
    }

    /// In-flight operations, and `ops_by_state` against `ops` both ways.
    fn check_ops(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let index_fix = "the failed queue (`ghlsync failures list`) reads this index: until fixed it may miss an operation or show one that is gone; ".to_string() + RESTORE_FIX;
        for item in self.ops.iter() {
            let (key, value) = item?;
            let Ok(op) = codec::decode::<Operation>("ops", &key, &value) else {
                continue;
            };
            let printable = codec::printable_key(&key);
            let mut finding = |kind, problem: String, fix: String| {
                report.findings.push(Finding {
                    kind,
                    tree: "ops".into(),
                    key: printable.clone(),
                    problem,
                    fix,
                })
            };
            if key.as_ref() != super::keys::op_key(op.id) {
                finding(
                    FindingKind::IndexMismatch,
                    format!("holds operation {} under another id's key", op.id),
                    RESTORE_FIX.to_string(),
                );
                continue;
            }
            match &op.state {
                OpState::InFlight { owner, since } => finding(
                    FindingKind::InFlight,
                    format!(
                        "operation {} ({} {} {} {}) is in flight since {since} ({owner}): its request may have been sent",
                        op.id,
                        op.peer,
                        op.action.as_str(),
                        op.kind,
                        op.source_id
                    ),
                    "run `ghlsync sync` once: it reconciles in-flight operations by lookup before sending anything".into(),
                ),
                OpState::Done => finding(
                    FindingKind::IndexMismatch,
                    format!("operation {} is done but still stored (done operations leave `ops`)", op.id),
                    index_fix.clone(),
                ),
                state => {
                    if !self.ops_by_state.contains_key(state_key(state.name(), op.id))? {
                        finding(
                            FindingKind::IndexMismatch,
                            format!(
                                "operation {} is {}, but ops_by_state has no {}/ entry for it",
                                op.id,
                                state.name(),
                                state.name()
                            ),
                            index_fix.clone(),
                        );
                    }
                }
            }
        }
        for item in self.ops_by_state.iter() {
            let (key, _) = item?;
            let Some((state, id)) = index_entry(&key) else {
                continue;
            };
            let stored = self.ops.get(super::keys::op_key(id))?;
            let found = match stored
                .as_deref()
                .map(|bytes| codec::decode::<Operation>("ops", &super::keys::op_key(id), bytes))
            {
                None => Some("no such operation is stored".to_string()),
                Some(Ok(op)) if op.state.name() != state || state == "in_flight" => Some(format!(
                    "the operation is {}{}",
                    op.state.name(),
                    if state == "in_flight" {
                        " (in-flight operations are not indexed)"
                    } else {
                        ""
                    }
                )),
                _ => None,
            };
            if let Some(found) = found {
                report.findings.push(Finding {
                    kind: FindingKind::IndexMismatch,
                    tree: "ops_by_state".into(),
                    key: format!("{state}/{id}"),
                    problem: format!("lists operation {id} as {state}, but {found}"),
                    fix: index_fix.clone(),
                });
            }
        }
        Ok(())
    }

    fn check_schema(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let problem = match self.meta.get("schema_version")? {
            None => "there is no schema version: the store was not written by ghlsync, or its meta tree is lost".to_string(),
            Some(bytes) => match codec::decode::<u32>("meta", b"schema_version", &bytes) {
                // Undecodable: already a finding of its own.
                Err(_) => return Ok(()),
                Ok(version) if version == 0 || version > SCHEMA_VERSION => format!(
                    "schema version {version} is not one this ghlsync reads (1 to {SCHEMA_VERSION}); a newer release wrote it, or it is damaged"
                ),
                Ok(_) => return Ok(()),
            },
        };
        report.findings.push(Finding {
            kind: FindingKind::Schema,
            tree: "meta".into(),
            key: "schema_version".into(),
            problem,
            fix: format!(
                "if a newer ghlsync wrote this store, use that release; otherwise {RESTORE_FIX}"
            ),
        });
        Ok(())
    }
}

/// A `Corrupt` error's detail without the tree and key the finding already names.
fn detail(err: &StoreError) -> String {
    match err {
        StoreError::Corrupt { detail, .. } => detail.clone(),
        other => other.to_string(),
    }
}
