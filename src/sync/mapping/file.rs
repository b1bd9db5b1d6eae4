//! The mapping file as written: a serde schema that only checks the shape (which keys exist, their
//! TOML types). Meaning is checked in `compile.rs`, which needs the spans kept here to point at
//! the offending value.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileDoc {
    pub peer: Spanned<String>,
    pub contact: Option<Spanned<EntityDoc>>,
    pub task: Option<Spanned<EntityDoc>>,
    pub note: Option<Spanned<EntityDoc>>,
    pub appointment: Option<Spanned<EntityDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntityDoc {
    /// `["external_id", "email", "phone"]`, in the order lookups are tried.
    #[serde(rename = "match")]
    pub match_keys: Option<Spanned<Vec<Spanned<String>>>>,
    /// The GHL custom field that holds the peer's id: `{ key = "…" }` or `{ id = "…" }`.
    pub external_id: Option<Spanned<CustomFieldDoc>>,
    /// The peer field holding the owning contact's peer id (tasks, notes, appointments).
    pub parent: Option<Spanned<String>>,
    /// ISO 3166 region for phone numbers written without a country code.
    pub default_region: Option<Spanned<String>>,
    /// IANA zone for peer dates written without an offset.
    pub timezone: Option<Spanned<String>>,
    /// Default authority of two-way fields: `peer`, `ghl` or `latest`.
    pub conflict: Option<Spanned<String>>,
    #[serde(default, rename = "field")]
    pub fields: Vec<Spanned<FieldDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomFieldDoc {
    pub id: Option<Spanned<String>>,
    pub key: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldDoc {
    /// A peer field name, or a list of them.
    pub peer: Option<Spanned<toml::Value>>,
    /// A GHL field name (`email`, `customField:key:…`), or a list of them.
    pub ghl: Option<Spanned<toml::Value>>,
    /// A fixed value instead of a source field.
    pub constant: Option<Spanned<toml::Value>>,
    /// `to_ghl`, `to_peer` or `both` (default `to_ghl`).
    pub direction: Option<Spanned<String>>,
    /// For `both`: who wins a conflict on this field.
    pub authority: Option<Spanned<String>>,
    /// A missing value is reported as a problem.
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub transforms: Vec<Spanned<toml::Value>>,
    /// For `both`: the GHL → peer chain, when the automatic inverse of `transforms` won't do.
    pub to_peer_transforms: Option<Vec<Spanned<toml::Value>>>,
}
