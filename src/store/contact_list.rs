//! The contact list, kept in name order by the store itself. The console opens on a list of every
//! contact sorted by name; building it from `idmap` and `baselines` means reading and decoding
//! every baseline (0.7 s and ~90 MB of sled cache at 100k contacts). Instead, every write that
//! links a contact or changes its baseline also writes its list entry, in the same transaction,
//! so the list is one ordered scan of small values and its first page is a short one.
//!
//! Trees: `contact_list` (`peer/` + lowercased display name + `\0` + peer id → `[ghl_id, name,
//! email, phone, synced_at ms, company]`, a JSON array: the list is read whole, and names on
//! every value would double what sled holds in memory for it; schema 4 wrote no company, and
//! such a value still reads, without one). The contact's link in `idmap` records the
//! lowercased name its entry is filed under (`IdLink::listed_as`), so a rename removes the old
//! entry. Only linked contacts have an entry.

use super::keys::peer_prefix;
use super::ops::{TxResult, abort};
use super::records::{Baseline, IdLink};
use super::{Store, StoreError, codec};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sled::transaction::TransactionalTree;

/// One linked contact as the list shows it: its display name and contact details from the GHL
/// side of its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactListEntry {
    pub peer_id: String,
    pub ghl_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// GHL's `companyName`: the console's filter finds a contact by it even when the display
    /// name is the person's.
    pub company: Option<String>,
    /// When the contact was last synced (absent while it has no baseline).
    pub synced_at: Option<DateTime<Utc>>,
}

impl ContactListEntry {
    pub fn new(peer_id: &str, ghl_id: &str, baseline: Option<&Baseline>) -> ContactListEntry {
        let empty = Map::new();
        let fields = baseline.map_or(&empty, |b| &b.fields);
        let text = |key: &str| match fields.get(key) {
            Some(Value::String(text)) => Some(text.clone()),
            _ => None,
        };
        ContactListEntry {
            name: display_name(
                text("firstName"),
                text("lastName"),
                text("companyName"),
                peer_id,
            ),
            peer_id: peer_id.to_string(),
            ghl_id: ghl_id.to_string(),
            email: text("email"),
            phone: text("phone"),
            company: text("companyName"),
            synced_at: baseline.map(|b| b.synced_at),
        }
    }
}

/// How a contact is named on screen: first and last name, else the company, else its id.
pub fn display_name(
    first: Option<String>,
    last: Option<String>,
    company: Option<String>,
    id: &str,
) -> String {
    let person = [first, last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    match (person.trim().is_empty(), company) {
        (false, _) => person.trim().to_string(),
        (true, Some(company)) if !company.is_empty() => company,
        _ => id.to_string(),
    }
}

/// The list's sort key for a name: what the console's name sort compares. A NUL (possible in
/// a dirty GHL field) is dropped: the key uses it to end the name.
pub fn sort_name(name: &str) -> String {
    name.to_lowercase().replace('\0', "")
}

/// A `ContactListEntry` as `contact_list` stores it: the peer id is in the key. The company
/// comes last and defaults to none, so an entry schema 4 wrote (five elements) still decodes
/// (a restored old backup is read before the next open rebuilds its list).
#[derive(Serialize, Deserialize)]
struct StoredEntry(
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    #[serde(default)] Option<String>,
);

impl StoredEntry {
    fn from_entry(entry: ContactListEntry) -> StoredEntry {
        StoredEntry(
            entry.ghl_id,
            entry.name,
            entry.email,
            entry.phone,
            entry.synced_at.map(|at| at.timestamp_millis()),
            entry.company,
        )
    }

    fn into_entry(self, peer_id: String) -> ContactListEntry {
        let StoredEntry(ghl_id, name, email, phone, synced_at, company) = self;
        ContactListEntry {
            peer_id,
            ghl_id,
            name,
            email,
            phone,
            company,
            synced_at: synced_at.and_then(DateTime::from_timestamp_millis),
        }
    }
}

fn encode_entry(entry: ContactListEntry) -> Result<Vec<u8>, StoreError> {
    codec::encode(&StoredEntry::from_entry(entry))
}

/// `verify`'s check of one `contact_list` record.
pub(super) fn check_entry(key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    decode_entry(key, value).map(|_| ())
}

/// Decodes one `contact_list` record; the peer id is what follows the name's NUL in the key.
fn decode_entry(key: &[u8], value: &[u8]) -> Result<ContactListEntry, StoreError> {
    let stored: StoredEntry = codec::decode("contact_list", key, value)?;
    let peer_id = key
        .iter()
        .position(|&b| b == 0)
        .map(|at| String::from_utf8_lossy(&key[at + 1..]).into_owned())
        .ok_or_else(|| StoreError::Corrupt {
            tree: "contact_list".into(),
            key: codec::printable_key(key),
            detail: "the key has no peer id after the name".into(),
        })?;
    Ok(stored.into_entry(peer_id))
}

fn list_key(peer: &str, sort_name: &str, peer_id: &str) -> Vec<u8> {
    let mut key = peer_prefix(peer);
    key.extend_from_slice(sort_name.as_bytes());
    // NUL sorts before every character a name holds, so "ada" comes before "ada b".
    key.push(0);
    key.extend_from_slice(peer_id.as_bytes());
    key
}

/// The trees a list entry lives in, inside a transaction, and the link and baseline trees it is
/// read from when the write at hand carries only one of the two.
pub(super) struct ListTrees<'a> {
    list: &'a TransactionalTree,
    idmap: &'a TransactionalTree,
    baselines: &'a TransactionalTree,
}

/// What a transaction did to a contact's link before its list entry is brought up to date.
pub(super) enum LinkWrite<'a> {
    /// It left the link alone: the stored link says where the entry is filed.
    Untouched,
    /// It wrote the link under `key`, replacing `old` (if any): the value written may not know
    /// the name yet, the replaced one says where the entry was filed.
    Replaced {
        key: &'a [u8],
        old: Option<&'a [u8]>,
    },
}

impl LinkWrite<'_> {
    /// The name the replaced link says its contact was filed under (none when untouched).
    pub fn replaced_name(&self) -> TxResult<Option<String>> {
        match self {
            LinkWrite::Untouched | LinkWrite::Replaced { old: None, .. } => Ok(None),
            LinkWrite::Replaced {
                key,
                old: Some(bytes),
            } => codec::decode::<IdLink>("idmap", key, bytes)
                .map(|link| link.listed_as)
                .map_err(abort),
        }
    }
}

impl<'a> ListTrees<'a> {
    pub fn new(
        list: &'a TransactionalTree,
        idmap: &'a TransactionalTree,
        baselines: &'a TransactionalTree,
    ) -> ListTrees<'a> {
        ListTrees {
            list,
            idmap,
            baselines,
        }
    }

    /// Brings one contact's entry up to date after its link or baseline changed. `baseline` is
    /// what this transaction writes, if it writes one; the rest is read back (a link this
    /// transaction wrote is read from its own writes). The link learns the name it is filed
    /// under.
    pub fn refresh(
        &self,
        peer: &str,
        peer_id: &str,
        baseline: Option<&Baseline>,
        link_write: LinkWrite<'_>,
    ) -> TxResult<()> {
        let entity_key = super::keys::entity_key(peer, crate::peers::EntityKind::Contact, peer_id);
        let Some(bytes) = self.idmap.get(&entity_key)? else {
            // Not linked (yet): the list shows linked contacts only.
            return Ok(());
        };
        let mut link: IdLink = codec::decode("idmap", &entity_key, &bytes).map_err(abort)?;
        let previous = match link_write {
            LinkWrite::Untouched => link.listed_as.clone(),
            LinkWrite::Replaced { .. } => link_write.replaced_name()?,
        };
        let stored;
        let baseline = match baseline {
            Some(baseline) => Some(baseline),
            None => match self.baselines.get(&entity_key)? {
                Some(bytes) => {
                    stored = codec::decode::<Baseline>("baselines", &entity_key, &bytes)
                        .map_err(abort)?;
                    Some(&stored)
                }
                None => None,
            },
        };
        let filed = FiledEntry::new(peer, ContactListEntry::new(peer_id, &link.ghl_id, baseline))
            .map_err(abort)?;
        self.file(&filed, previous.as_deref())?;
        if link.listed_as.as_deref() != Some(filed.name.as_str()) {
            link.listed_as = Some(filed.name.clone());
            self.idmap
                .insert(entity_key, codec::encode(&link).map_err(abort)?)?;
        }
        Ok(())
    }

    /// Writes an entry encoded beforehand, removing the one filed under `previous` when the
    /// name changed. Recording the new name on the link is the caller's part.
    pub fn file(&self, filed: &FiledEntry, previous: Option<&str>) -> TxResult<()> {
        if let Some(old) = previous
            && old != filed.name
        {
            self.list
                .remove(list_key(&filed.peer, old, &filed.peer_id))?;
        }
        self.list
            .insert(filed.list_key.as_slice(), filed.value.as_slice())?;
        Ok(())
    }
}

/// A list entry with its key and value encoded, outside any transaction (sled may run a
/// transaction's closure more than once).
pub(super) struct FiledEntry {
    peer: String,
    peer_id: String,
    /// The sort name it is filed under (what its link records as `listed_as`).
    pub(super) name: String,
    list_key: Vec<u8>,
    value: Vec<u8>,
}

impl FiledEntry {
    pub fn new(peer: &str, entry: ContactListEntry) -> Result<FiledEntry, StoreError> {
        let name = sort_name(&entry.name);
        let peer_id = entry.peer_id.clone();
        Ok(FiledEntry {
            peer: peer.to_string(),
            list_key: list_key(peer, &name, &peer_id),
            value: encode_entry(entry)?,
            name,
            peer_id,
        })
    }
}

impl Store {
    /// A peer's linked contacts in name order (case-insensitive, then by peer id): the first
    /// `limit`, or all of them.
    pub fn contact_list(
        &self,
        peer: &str,
        limit: Option<usize>,
    ) -> Result<Vec<ContactListEntry>, StoreError> {
        let prefix = peer_prefix(peer);
        self.contact_list
            .scan_prefix(&prefix)
            .take(limit.unwrap_or(usize::MAX))
            .map(|item| {
                let (key, value) = item?;
                decode_entry(&key, &value)
            })
            .collect()
    }

    /// Writes every linked contact's entry from `idmap` and `baselines`, and the name it is
    /// filed under on its link (the migrations to schemas 2, 3 and 5, and a repair). Entries
    /// already there are replaced.
    pub(super) fn rebuild_contact_list(&self) -> Result<u64, StoreError> {
        self.contact_list.clear()?;
        let marker = format!("/{}/", crate::peers::EntityKind::Contact.as_str());
        let (mut list, mut links) = (sled::Batch::default(), sled::Batch::default());
        let mut written = 0u64;
        for item in self.idmap.iter() {
            let (key, value) = item?;
            let text = String::from_utf8_lossy(&key);
            // `peer/contact/id`: only the first two separators are structural.
            let Some((peer, peer_id)) = text
                .split_once('/')
                .and_then(|(peer, rest)| Some((peer, rest.strip_prefix(&marker[1..])?)))
            else {
                continue;
            };
            let mut link: IdLink = codec::decode("idmap", &key, &value)?;
            let baseline: Option<Baseline> = self.get(&self.baselines, "baselines", &key)?;
            let entry = ContactListEntry::new(peer_id, &link.ghl_id, baseline.as_ref());
            let name = sort_name(&entry.name);
            list.insert(list_key(peer, &name, peer_id), encode_entry(entry)?);
            if link.listed_as.as_deref() != Some(name.as_str()) {
                link.listed_as = Some(name);
                links.insert(key.clone(), codec::encode(&link)?);
            }
            written += 1;
        }
        self.contact_list.apply_batch(list)?;
        self.idmap.apply_batch(links)?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_a_nul_keeps_its_peer_id_readable_from_the_key() {
        let key = list_key("repsly", &sort_name("Ada\0 Nul"), "C-1");
        let value = encode_entry(ContactListEntry::new("C-1", "g1", None)).unwrap();
        let entry = decode_entry(&key, &value).unwrap();
        assert_eq!(entry.peer_id, "C-1");
        assert_eq!(entry.ghl_id, "g1");
        assert_eq!(entry.name, "C-1", "no baseline: the id stands for the name");
    }

    #[test]
    fn a_corrupt_entry_is_an_error_naming_the_tree_and_key() {
        let err = decode_entry(b"repsly/ada\0C-1", &[1, b'[']).unwrap_err();
        let text = err.to_string();
        // The key holds a NUL, so it is shown in hex ("repsly/ada" is 726570736c792f616461).
        assert!(
            text.contains("contact_list") && text.contains("726570736c792f616461"),
            "{text}"
        );
        let err = decode_entry(
            b"repsly/ada",
            &codec::encode(&("g", "n", None::<String>, None::<String>, None::<i64>)).unwrap(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("no peer id"), "{err}");
    }

    fn baseline(fields: serde_json::Value) -> Baseline {
        Baseline {
            peer_hash: "p".into(),
            ghl_hash: "g".into(),
            fields: fields.as_object().cloned().unwrap_or_default(),
            synced_at: DateTime::from_timestamp_millis(1_780_000_000_123).unwrap(),
        }
    }

    #[test]
    fn an_entry_with_a_company_round_trips() {
        let fields = serde_json::json!({"firstName": "Ada", "lastName": "Byron",
            "companyName": "Analytical Engines Ltd", "email": "ada@example.com"});
        let entry = ContactListEntry::new("C-1", "g1", Some(&baseline(fields)));
        assert_eq!(
            entry.name, "Ada Byron",
            "a person's name still names the entry"
        );
        assert_eq!(entry.company.as_deref(), Some("Analytical Engines Ltd"));
        let key = list_key("repsly", &sort_name(&entry.name), "C-1");
        let value = encode_entry(entry.clone()).unwrap();
        assert_eq!(decode_entry(&key, &value).unwrap(), entry);
        // No company in GHL: none in the entry.
        let plain = ContactListEntry::new("C-2", "g2", Some(&baseline(serde_json::json!({}))));
        assert_eq!(plain.company, None);
    }

    #[test]
    fn an_entry_schema_4_wrote_decodes_without_a_company() {
        let key = list_key("repsly", "ada byron", "C-1");
        // Byte for byte what schema 4 stored: five elements, no company.
        let old = [
            &[codec::VALUE_VERSION][..],
            br#"["g1","Ada Byron","ada@example.com",null,1780000000123]"#,
        ]
        .concat();
        let entry = decode_entry(&key, &old).unwrap();
        assert_eq!(
            entry,
            ContactListEntry {
                peer_id: "C-1".into(),
                ghl_id: "g1".into(),
                name: "Ada Byron".into(),
                email: Some("ada@example.com".into()),
                phone: None,
                company: None,
                synced_at: DateTime::from_timestamp_millis(1_780_000_000_123),
            }
        );
        assert!(
            check_entry(&key, &old).is_ok(),
            "verify and restore accept it"
        );
        // Four elements was never written: still an error naming the tree.
        let short = [&[codec::VALUE_VERSION][..], br#"["g1","Ada",null,null]"#].concat();
        let err = decode_entry(&key, &short).unwrap_err();
        assert!(err.to_string().contains("contact_list"), "{err}");
    }
}
