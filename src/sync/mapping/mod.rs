//! The field-mapping engine: one TOML file per peer says, per entity, how a peer record and a GHL
//! record find each other (match keys) and how each field flows (direction, source of truth,
//! transforms). Built-in defaults live in `assets/mappings/<peer>.toml`; the header of
//! `assets/mappings/repsly.toml` documents the file format for support staff.
//!
//! - `file.rs` is the TOML schema, `compile.rs` checks it into a [`Mapping`];
//! - `transforms.rs`, `dates.rs`, `phone.rs`, `text.rs` are the value transforms;
//! - `apply.rs` maps records both ways, `preview.rs` shows a mapping on one real record.

mod apply;
mod compile;
mod dates;
mod error;
mod file;
mod ghl_fields;
mod location_fields;
mod phone;
mod preview;
mod rules;
mod syntax;
mod text;
mod transforms;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono_tz::Tz;
use serde::Serialize;

pub use error::MappingError;
pub use location_fields::{
    FieldsError, MissingField, NamedField, create_missing_fields, resolve_against_location,
};
pub use preview::{FieldPreview, preview, preview_to_peer, render_preview};
pub use rules::{
    Authority, CustomFieldRef, Direction, FieldProblem, FieldRule, GhlField, MappedRecord, MatchKey,
};
pub use text::NamePart;
pub use transforms::{CastType, Transform};

use crate::peers::EntityKind;

/// Built-in mappings, compiled into the binary so a fresh install works without files.
/// A whole mapping file: one peer, up to one mapping per entity kind.
#[derive(Debug, Clone, Serialize)]
pub struct Mapping {
    pub peer: String,
    /// Where it was read from (a path, or "assets/mappings/<peer>.toml (built-in)").
    #[serde(skip)]
    pub origin: String,
    /// The text it was parsed from (the console's editor starts from it).
    #[serde(skip)]
    text: String,
    entities: BTreeMap<EntityKind, EntityMapping>,
    /// Computed once at parse: every operation records it, and hashing the whole compiled
    /// mapping per operation cost more than the rest of mapping a record.
    #[serde(skip)]
    fingerprint: String,
}

impl Mapping {
    /// Parses and checks a mapping. `origin` names the text in errors (`origin:line:column`).
    pub fn parse(text: &str, origin: &str) -> Result<Mapping, MappingError> {
        let src = error::Source { text, origin };
        let doc: file::FileDoc = toml::from_str(text).map_err(|err| src.parse_error(&err))?;
        compile::compile(doc, src)
    }

    /// The text this mapping was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Reads and parses a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = crate::bounded_file::read_text(path, crate::bounded_file::DEFINITION_FILE_BYTES)
            .map_err(|source| MappingError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Mapping::parse(&text, &path.display().to_string())
    }

    /// The built-in default mapping of `peer`, if there is one.
    pub fn builtin(peer: &str) -> Option<Mapping> {
        let text = Mapping::builtin_text(peer)?;
        // The built-in files are checked by the tests; a broken one is reported, not hidden.
        match Mapping::parse(text, &format!("assets/mappings/{peer}.toml (built-in)")) {
            Ok(mapping) => Some(mapping),
            Err(err) => {
                tracing::error!("built-in mapping is invalid: {err}");
                None
            }
        }
    }

    /// The built-in mapping text of connector `connector` (the registry's).
    pub fn builtin_text(connector: &str) -> Option<&'static str> {
        crate::peers::registry::connector(connector)?.builtin_mapping()
    }

    /// Connectors that have a built-in mapping.
    pub fn builtin_peers() -> impl Iterator<Item = &'static str> {
        crate::peers::registry::CONNECTORS
            .iter()
            .filter(|c| c.builtin_mapping().is_some())
            .map(|c| c.name())
    }

    pub fn entity(&self, kind: EntityKind) -> Option<&EntityMapping> {
        self.entities.get(&kind)
    }

    pub fn entities(&self) -> impl Iterator<Item = &EntityMapping> {
        self.entities.values()
    }

    /// A stable hash of the normalised mapping: comments, layout and key order do not change it,
    /// any change of meaning does. Stored with each payload to tell which mapping produced it.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn compute_fingerprint(&self) -> String {
        // Serialising the compiled form cannot fail: every map key is a string or a unit enum.
        let canonical = serde_json::to_string(self).unwrap_or_default();
        format!("{:016x}", fnv1a64(canonical.as_bytes()))
    }

    /// Teaches the mapping the ids of custom fields it names by key (GHL reads carry only ids),
    /// so GHL → peer can find them. `ids` maps a key (with or without `contact.`) to its id.
    pub fn resolve_custom_field_ids(&mut self, ids: &HashMap<String, String>) {
        for entity in self.entities.values_mut() {
            for (key, id) in ids {
                let key = key.strip_prefix("contact.").unwrap_or(key);
                entity.resolved_ids.insert(key.to_string(), id.clone());
            }
        }
    }
}

/// FNV-1a, 64-bit: tiny, and unlike std's hasher its output is fixed forever, which a
/// fingerprint stored across versions needs.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How one entity kind maps.
#[derive(Debug, Clone, Serialize)]
pub struct EntityMapping {
    kind: EntityKind,
    match_keys: Vec<MatchKey>,
    external_id: Option<CustomFieldRef>,
    parent: Option<String>,
    default_region: Option<String>,
    timezone: String,
    #[serde(skip)]
    tz: Tz,
    conflict: Authority,
    rules: Vec<FieldRule>,
    /// Custom field key → id, learnt at run time; not part of the mapping's meaning.
    #[serde(skip)]
    resolved_ids: BTreeMap<String, String>,
    /// Line and column of `external_id`, for a missing field's error.
    #[serde(skip)]
    external_id_at: Option<(usize, usize)>,
}

impl EntityMapping {
    pub fn kind(&self) -> EntityKind {
        self.kind
    }

    /// How to find the GHL contact of a peer record, in the order to try.
    pub fn match_keys(&self) -> &[MatchKey] {
        &self.match_keys
    }

    /// The GHL custom field that holds the peer's id.
    pub fn external_id_field(&self) -> Option<&CustomFieldRef> {
        self.external_id.as_ref()
    }

    /// The id of the external-id custom field: given, or resolved from its key against the
    /// location (`None` until then: GHL reads name custom fields by id only).
    pub fn external_id_field_id(&self) -> Option<&str> {
        match self.external_id.as_ref()? {
            CustomFieldRef::Id(id) => Some(id),
            key @ CustomFieldRef::Key(_) => self.resolved_id(key),
        }
    }

    /// The peer field naming the owning contact (notes, tasks, appointments).
    pub fn parent_field(&self) -> Option<&str> {
        self.parent.as_deref()
    }

    pub fn default_region(&self) -> Option<&str> {
        self.default_region.as_deref()
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The entity's default authority for two-way fields.
    pub fn conflict(&self) -> Authority {
        self.conflict
    }

    pub fn rules(&self) -> &[FieldRule] {
        &self.rules
    }

    /// Who wins a conflict on `ghl_field` (a GHL name such as `email` or
    /// `customField:key:repsly_code`). A one-way field belongs to the side it flows from; a field
    /// no rule names falls back on the entity's `conflict`.
    pub fn authority(&self, ghl_field: &str) -> Authority {
        match self.rules.iter().find(|rule| rule.touches_ghl(ghl_field)) {
            Some(rule) => match rule.direction {
                Direction::ToGhl => Authority::Peer,
                Direction::ToPeer => Authority::Ghl,
                Direction::Both => rule.authority,
            },
            None => self.conflict,
        }
    }

    /// GHL fields written from a constant (`constant = "repsly"`): the peer never changes them,
    /// so once a record is linked they are never a peer change to send (a GHL contact born in
    /// GHL keeps its own `source`).
    pub fn constant_ghl_fields(&self) -> Vec<String> {
        self.rules
            .iter()
            .filter(|rule| rule.constant.is_some() && rule.direction.to_ghl())
            .flat_map(|rule| rule.ghl.iter().map(|field| field.to_string()))
            .collect()
    }

    /// The peer fields the GHL → peer rules fill from any of `ghl_fields`: what a write to the
    /// peer needs to carry when only those GHL fields change.
    pub fn peer_fields_from(&self, ghl_fields: &[String]) -> Vec<String> {
        self.rules
            .iter()
            .filter(|rule| rule.direction.to_peer())
            .filter(|rule| ghl_fields.iter().any(|name| rule.touches_ghl(name)))
            .flat_map(|rule| rule.peer.iter().cloned())
            .collect()
    }

    fn context(&self) -> transforms::Context<'_> {
        transforms::Context {
            region: self.default_region.as_deref(),
            tz: self.tz,
        }
    }

    fn resolved_id(&self, field: &CustomFieldRef) -> Option<&str> {
        match field {
            CustomFieldRef::Key(key) => self.resolved_ids.get(key).map(String::as_str),
            CustomFieldRef::Id(_) => None,
        }
    }
}
