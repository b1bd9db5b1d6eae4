//! From the parsed file to a checked [`Mapping`]: every name, direction, transform and option is
//! validated here, and each error points at the value with the form that was expected.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use chrono_tz::Tz;
use toml::{Spanned, Value as Toml};

use super::error::{MappingError, Source};
use super::file::{CustomFieldDoc, EntityDoc, FieldDoc, FileDoc};
use super::ghl_fields;
use super::rules::{Authority, CustomFieldRef, Direction, FieldRule, GhlField, MatchKey};
use super::syntax::{check_region, check_timezone, inverse_chain, parse_transform, to_json};
use super::transforms::Transform;
use super::{EntityMapping, Mapping};
use crate::peers::EntityKind;

pub(crate) fn compile(doc: FileDoc, src: Source<'_>) -> Result<Mapping, MappingError> {
    let peer = doc.peer.get_ref().trim();
    if peer.is_empty() {
        return Err(src.invalid(
            doc.peer.span(),
            "`peer` is empty; expected the peer's name, e.g. peer = \"repsly\"",
        ));
    }
    let mut entities = BTreeMap::new();
    for (kind, entity) in [
        (EntityKind::Contact, doc.contact),
        (EntityKind::Task, doc.task),
        (EntityKind::Note, doc.note),
        (EntityKind::Appointment, doc.appointment),
    ] {
        if let Some(entity) = entity {
            entities.insert(kind, compile_entity(kind, entity, src)?);
        }
    }
    let mut mapping = Mapping {
        text: src.text.to_string(),
        peer: peer.to_string(),
        origin: src.origin.to_string(),
        entities,
        fingerprint: String::new(),
    };
    mapping.fingerprint = mapping.compute_fingerprint();
    Ok(mapping)
}

fn compile_entity(
    kind: EntityKind,
    doc: Spanned<EntityDoc>,
    src: Source<'_>,
) -> Result<EntityMapping, MappingError> {
    let span = doc.span();
    let doc = doc.into_inner();
    let only_contacts = |name: &str, at: Range<usize>| {
        src.invalid(
            at,
            format!("`{name}` is for [contact] only: tasks, notes and appointments are linked through their contact"),
        )
    };
    let external_id_at = doc
        .external_id
        .as_ref()
        .map(|custom| super::error::line_column(src.text, custom.span().start));
    let external_id = match doc.external_id {
        None => None,
        Some(_) if kind != EntityKind::Contact => return Err(only_contacts("external_id", span)),
        Some(custom) => Some(custom_field(custom, src)?),
    };
    let match_keys = match doc.match_keys {
        Some(_) if kind != EntityKind::Contact => return Err(only_contacts("match", span)),
        Some(keys) => match_keys(keys, external_id.is_some(), src)?,
        None if kind != EntityKind::Contact => Vec::new(),
        None if external_id.is_some() => {
            vec![MatchKey::ExternalId, MatchKey::Email, MatchKey::Phone]
        }
        None => vec![MatchKey::Email, MatchKey::Phone],
    };
    let parent = match doc.parent {
        Some(parent) if kind == EntityKind::Contact => {
            return Err(src.invalid(
                parent.span(),
                "`parent` names the owning contact's field; contacts have no parent",
            ));
        }
        Some(parent) => Some(parent.into_inner()),
        None => None,
    };
    let default_region = match doc.default_region {
        Some(region) => {
            check_region(region.get_ref()).map_err(|m| src.invalid(region.span(), m))?;
            Some(region.into_inner())
        }
        None => None,
    };
    let (timezone, tz) = match doc.timezone {
        Some(name) => {
            let tz = check_timezone(name.get_ref()).map_err(|m| src.invalid(name.span(), m))?;
            (name.into_inner(), tz)
        }
        None => ("UTC".to_string(), Tz::UTC),
    };
    let conflict = match doc.conflict {
        Some(text) => authority(&text, "conflict", src)?,
        None => Authority::Latest,
    };
    let mut rules = Vec::with_capacity(doc.fields.len());
    let mut ghl_targets: HashMap<String, usize> = HashMap::new();
    let mut peer_targets: HashMap<String, usize> = HashMap::new();
    for field in doc.fields {
        let at = field.span();
        let rule = compile_rule(kind, field.into_inner(), at.clone(), conflict, src)?;
        let targets = [
            (
                rule.direction.to_ghl(),
                rule.ghl.iter().map(ToString::to_string).collect::<Vec<_>>(),
                &mut ghl_targets,
                "GHL",
            ),
            (
                rule.direction.to_peer(),
                rule.peer.clone(),
                &mut peer_targets,
                "peer",
            ),
        ];
        for (active, names, seen, side) in targets {
            for name in names.into_iter().filter(|_| active) {
                if let Some(line) = seen.insert(name.clone(), rule.line) {
                    return Err(src.invalid(
                        at.clone(),
                        format!("{side} field `{name}` is already written by the rule on line {line}; each field may be written by one rule"),
                    ));
                }
            }
        }
        rules.push(rule);
    }
    if rules.iter().any(|rule| rule.direction.to_ghl()) {
        for name in ghl_fields::required(kind) {
            if !ghl_targets.contains_key(*name) {
                return Err(src.invalid(
                    span.clone(),
                    format!("[{kind}] writes to GHL but no rule fills `{name}`, which GHL requires; add a [[{kind}.field]] with ghl = \"{name}\""),
                ));
            }
        }
    }
    Ok(EntityMapping {
        kind,
        match_keys,
        external_id,
        parent,
        default_region,
        timezone,
        tz,
        conflict,
        rules,
        resolved_ids: BTreeMap::new(),
        external_id_at,
    })
}

fn compile_rule(
    kind: EntityKind,
    doc: FieldDoc,
    at: Range<usize>,
    conflict: Authority,
    src: Source<'_>,
) -> Result<FieldRule, MappingError> {
    let line = super::error::line_column(src.text, at.start).0;
    let peer = match &doc.peer {
        Some(names) => field_names(names, "peer", "\"Email\"", src)?,
        None => Vec::new(),
    };
    let ghl_names = match &doc.ghl {
        Some(names) => field_names(names, "ghl", "\"email\"", src)?,
        None => Vec::new(),
    };
    let constant = doc.constant.as_ref().map(|c| to_json(c.get_ref()));
    let direction = match &doc.direction {
        Some(text) => Direction::parse(text.get_ref()).ok_or_else(|| {
            src.invalid(
                text.span(),
                format!(
                    "unknown direction {:?}; expected one of: {}",
                    text.get_ref(),
                    Direction::NAMES
                ),
            )
        })?,
        None if constant.is_some() && ghl_names.is_empty() => Direction::ToPeer,
        None => Direction::ToGhl,
    };
    let shape_error = match (&constant, peer.is_empty(), ghl_names.is_empty(), direction) {
        (None, false, false, _) => None,
        (None, true, _, _) => Some(
            "a rule needs `peer` (the peer field) and `ghl` (the GHL field), or `constant` and one of them",
        ),
        (None, _, true, _) => Some(
            "a rule needs `ghl` (the GHL field): e.g. ghl = \"email\" or ghl = \"customField:key:repsly_code\"",
        ),
        (Some(_), true, false, Direction::ToGhl) | (Some(_), false, true, Direction::ToPeer) => {
            None
        }
        (Some(_), _, _, Direction::Both) => Some(
            "a `constant` rule goes one way: direction = \"to_ghl\" (with `ghl`) or \"to_peer\" (with `peer`)",
        ),
        (Some(_), _, _, _) => Some(
            "a `constant` rule has one target: `ghl` with direction \"to_ghl\", or `peer` with direction \"to_peer\"",
        ),
    };
    if let Some(message) = shape_error {
        return Err(src.invalid(at, message));
    }
    let ghl = ghl_names
        .iter()
        .map(|name| {
            ghl_field(
                kind,
                name,
                direction,
                doc.ghl.as_ref().map_or(at.clone(), Spanned::span),
                src,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let authority = match &doc.authority {
        Some(text) if direction != Direction::Both => {
            return Err(src.invalid(
                text.span(),
                "`authority` settles conflicts of two-way fields; it needs direction = \"both\"",
            ));
        }
        Some(text) => self::authority(text, "authority", src)?,
        None => conflict,
    };
    let transforms = transforms(&doc.transforms, src)?;
    let sources = match direction {
        Direction::ToPeer => ghl.len(),
        Direction::ToGhl | Direction::Both => peer.len(),
    };
    first_of_several(&doc.transforms, &transforms, sources, "peer", src)?;
    let to_peer_transforms = match (&doc.to_peer_transforms, direction) {
        (Some(_), Direction::ToGhl | Direction::ToPeer) => {
            return Err(src.invalid(at, "`to_peer_transforms` is for direction = \"both\"; a one-way rule uses `transforms`"));
        }
        (Some(list), Direction::Both) => {
            let chain = self::transforms(list, src)?;
            first_of_several(list, &chain, ghl.len(), "ghl", src)?;
            chain
        }
        (None, Direction::Both) => inverse_chain(&transforms, peer.len()).map_err(|message| {
            src.invalid(
                at.clone(),
                format!("{message}; give this rule to_peer_transforms = [...], or write one to_ghl and one to_peer rule"),
            )
        })?,
        (None, _) => Vec::new(),
    };
    let ghl_at = super::error::line_column(
        src.text,
        doc.ghl
            .as_ref()
            .map_or(at.start, |names| names.span().start),
    );
    Ok(FieldRule {
        peer,
        ghl,
        ghl_at,
        constant,
        direction,
        authority,
        required: doc.required,
        transforms,
        to_peer_transforms,
        line,
    })
}

fn transforms(list: &[Spanned<Toml>], src: Source<'_>) -> Result<Vec<Transform>, MappingError> {
    let transforms: Vec<Transform> = list
        .iter()
        .map(|item| parse_transform(item.get_ref()).map_err(|m| src.invalid(item.span(), m)))
        .collect::<Result<_, _>>()?;
    if transforms
        .iter()
        .any(|t| matches!(t, Transform::PhoneE164 { .. }))
    {
        super::phone::load_metadata();
    }
    Ok(transforms)
}

/// `first_non_empty` picks one of several source fields; over a single field it would do
/// nothing, which is always a slip (the list was meant to be in `peer`/`ghl`).
fn first_of_several(
    written: &[Spanned<Toml>],
    chain: &[Transform],
    sources: usize,
    side: &str,
    src: Source<'_>,
) -> Result<(), MappingError> {
    if sources >= 2 {
        return Ok(());
    }
    let misplaced = written
        .iter()
        .zip(chain)
        .find(|(_, step)| matches!(step, Transform::FirstNonEmpty));
    match misplaced {
        Some((item, _)) => Err(src.invalid(
            item.span(),
            format!(
                "`first_non_empty` takes the first non-empty of several fields, but this rule reads one; list the alternatives in order: {side} = {}",
                if side == "peer" {
                    "[\"Phone\", \"Mobile\"]"
                } else {
                    "[\"phone\", \"customField:key:mobile\"]"
                }
            ),
        )),
        None => Ok(()),
    }
}

fn field_names(
    value: &Spanned<Toml>,
    key: &str,
    example: &str,
    src: Source<'_>,
) -> Result<Vec<String>, MappingError> {
    let expected = || {
        src.invalid(
            value.span(),
            format!("`{key}` is a field name such as {example}, or a list of names such as [\"A\", \"B\"]"),
        )
    };
    let names: Vec<String> = match value.get_ref() {
        Toml::String(name) => vec![name.trim().to_string()],
        Toml::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(expected)
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(expected()),
    };
    if names.is_empty() || names.iter().any(String::is_empty) {
        return Err(expected());
    }
    Ok(names)
}

fn ghl_field(
    kind: EntityKind,
    name: &str,
    direction: Direction,
    at: Range<usize>,
    src: Source<'_>,
) -> Result<GhlField, MappingError> {
    if let Some(rest) = name.strip_prefix("customField:") {
        if kind != EntityKind::Contact {
            return Err(src.invalid(
                at,
                format!(
                    "GHL {kind}s have no custom fields; `{name}` is only valid under [contact]"
                ),
            ));
        }
        return match rest.split_once(':') {
            Some(("key", key)) if !key.is_empty() => Ok(GhlField::Custom(CustomFieldRef::Key(key.into()))),
            Some(("id", id)) if !id.is_empty() => Ok(GhlField::Custom(CustomFieldRef::Id(id.into()))),
            _ => Err(src.invalid(at, format!("bad custom field `{name}`; expected customField:key:<field key> or customField:id:<field id>"))),
        };
    }
    let allowed = if direction.to_ghl() {
        ghl_fields::writable(kind)
    } else {
        ghl_fields::readable(kind)
    };
    if allowed.contains(&name) {
        return Ok(GhlField::Standard(name.to_string()));
    }
    let custom = if kind == EntityKind::Contact {
        ", or customField:key:<key> / customField:id:<id>"
    } else {
        ""
    };
    Err(src.invalid(
        at,
        format!(
            "unknown GHL {kind} field `{name}`{}; expected one of: {}{custom}",
            if direction.to_ghl() {
                " for writing"
            } else {
                ""
            },
            allowed.join(", ")
        ),
    ))
}

fn custom_field(
    doc: Spanned<CustomFieldDoc>,
    src: Source<'_>,
) -> Result<CustomFieldRef, MappingError> {
    let span = doc.span();
    let doc = doc.into_inner();
    let non_empty = |s: &Spanned<String>| !s.get_ref().trim().is_empty();
    match (doc.id, doc.key) {
        (Some(id), None) if non_empty(&id) => Ok(CustomFieldRef::Id(id.into_inner().trim().into())),
        (None, Some(key)) if non_empty(&key) => Ok(CustomFieldRef::Key(key.into_inner().trim().into())),
        _ => Err(src.invalid(span, "`external_id` names one GHL custom field: { key = \"<peer>_code\" } or { id = \"<custom field id>\" }")),
    }
}

fn match_keys(
    keys: Spanned<Vec<Spanned<String>>>,
    has_external_id: bool,
    src: Source<'_>,
) -> Result<Vec<MatchKey>, MappingError> {
    let mut out = Vec::new();
    for key in keys.get_ref() {
        let parsed = MatchKey::parse(key.get_ref()).ok_or_else(|| {
            src.invalid(
                key.span(),
                format!(
                    "unknown match key {:?}; expected one of: {}",
                    key.get_ref(),
                    MatchKey::NAMES
                ),
            )
        })?;
        if out.contains(&parsed) {
            return Err(src.invalid(
                key.span(),
                format!("match key {:?} is listed twice", key.get_ref()),
            ));
        }
        if parsed == MatchKey::ExternalId && !has_external_id {
            return Err(src.invalid(key.span(), "match key \"external_id\" needs `external_id = { key = \"…\" }` naming the GHL custom field"));
        }
        out.push(parsed);
    }
    if out.is_empty() {
        return Err(src.invalid(
            keys.span(),
            format!("`match` is empty; expected a list of: {}", MatchKey::NAMES),
        ));
    }
    Ok(out)
}

fn authority(
    text: &Spanned<String>,
    key: &str,
    src: Source<'_>,
) -> Result<Authority, MappingError> {
    Authority::parse(text.get_ref()).ok_or_else(|| {
        src.invalid(
            text.span(),
            format!(
                "unknown {key} {:?}; expected one of: {}",
                text.get_ref(),
                Authority::NAMES
            ),
        )
    })
}
