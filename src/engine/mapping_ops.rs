//! Mapping edits from the console: check, preview on a real record, save as a new version (and
//! put in force), undo to the previous version. Saved versions live in the store's `mappings` tree.

use super::protocol::{MappingProblem, Reply};
use crate::ghl::GhlClient;
use crate::ghl::models::CustomField;
use crate::peers::EntityKind;
use crate::sync::mapping::{FieldsError, Mapping, MappingError, resolve_against_location};
use crate::sync::{PreviewError, RecordRef, preview_record};
use crate::sync::{SyncContext, SyncError};

pub fn problem(err: &MappingError) -> MappingProblem {
    let (line, column) = err
        .position()
        .map_or((None, None), |(l, c)| (Some(l), Some(c)));
    MappingProblem {
        line,
        column,
        message: err.to_string(),
    }
}

fn parse(ctx: &SyncContext, text: &str) -> Result<Mapping, MappingError> {
    Mapping::parse(text, &format!("{} mapping (editor)", ctx.peer_name()))
}

pub fn current(ctx: &SyncContext) -> Result<Reply, SyncError> {
    Ok(Reply::Mapping {
        text: ctx.mapping.text().to_string(),
        origin: ctx.mapping.origin.clone(),
        versions: ctx.store.mapping_versions(ctx.peer_name())?,
    })
}

/// The GHL location's custom fields, listed once for the editor's checks (they run as the text
/// changes) and listed again only when a check finds a field missing, so a field created
/// meanwhile is seen.
#[derive(Default)]
pub struct LocationFields(tokio::sync::Mutex<Option<Vec<CustomField>>>);

impl LocationFields {
    async fn check(&self, mapping: &mut Mapping, ghl: &GhlClient) -> Result<(), FieldsError> {
        if mapping.named_custom_fields().is_empty() {
            return Ok(());
        }
        let mut cached = self.0.lock().await;
        if let Some(fields) = cached.as_ref()
            && mapping.resolve_location_fields(fields).is_ok()
        {
            return Ok(());
        }
        let fields = resolve_against_location(mapping, ghl).await;
        if let Ok(fields) = &fields {
            *cached = Some(fields.clone());
        }
        fields.map(|_| ())
    }

    /// `ctx` with its mapping resolved against the location as a run resolves it, from the
    /// cached list (the console's queries ask often; the location's fields seldom change).
    pub async fn resolved(&self, ctx: &SyncContext) -> Result<SyncContext, FieldsError> {
        let mut mapping = ctx.mapping.clone();
        self.check(&mut mapping, &ctx.ghl).await?;
        Ok(with_mapping(ctx, mapping))
    }
}

/// Parses `text` and checks the custom fields it names against the location.
pub async fn check(ctx: &SyncContext, fields: &LocationFields, text: &str) -> Reply {
    let problem = match parse(ctx, text) {
        Err(err) => Some(problem(&err)),
        Ok(mut mapping) => match fields.check(&mut mapping, &ctx.ghl).await {
            Ok(()) => None,
            Err(err) => {
                let at = match &err {
                    FieldsError::Missing(missing) => missing.first().map(|m| m.at),
                    _ => None,
                };
                Some(MappingProblem {
                    line: at.map(|(line, _)| line),
                    column: at.map(|(_, column)| column),
                    message: err.to_string(),
                })
            }
        },
    };
    Reply::MappingChecked { problem }
}

/// `text` applied to one real contact, in the direction `record` syncs. A mapping that does not
/// parse, and a record that cannot be read, come back as the reply's problem.
pub async fn preview_on(
    ctx: &SyncContext,
    text: &str,
    record: &RecordRef,
) -> Result<Reply, SyncError> {
    let direction = record.direction();
    let answer = |rows, problem| Reply::MappingPreview {
        rows,
        problem,
        direction,
    };
    let mapping = match parse(ctx, text) {
        Ok(mapping) => mapping,
        Err(err) => return Ok(answer(Vec::new(), Some(problem(&err)))),
    };
    let Some(entity) = mapping.entity(EntityKind::Contact) else {
        return Ok(answer(Vec::new(), None));
    };
    Ok(
        match preview_record(&ctx.ghl, ctx.peer.as_ref(), entity, record).await {
            Ok(rows) => answer(rows, None),
            // Not there is the person's to know; a failed read is the engine's error.
            Err(err @ (PreviewError::NotFound { .. } | PreviewError::GhlKind { .. })) => answer(
                Vec::new(),
                Some(MappingProblem {
                    line: None,
                    column: None,
                    message: err.to_string(),
                }),
            ),
            Err(PreviewError::Peer(err)) => return Err(err.into()),
            Err(PreviewError::Ghl(err)) => return Err((*err).into()),
        },
    )
}

/// A new context with `mapping` in force (the rest shared), for the engine to swap in.
pub fn with_mapping(ctx: &SyncContext, mapping: Mapping) -> SyncContext {
    SyncContext {
        store: ctx.store.clone(),
        ghl: ctx.ghl.clone(),
        peer: ctx.peer.clone(),
        mapping,
        settings: ctx.settings.clone(),
        events: ctx.events.clone(),
    }
}

/// Validates and saves `text`; returns the new version and the mapping to put in force.
pub fn save(
    ctx: &SyncContext,
    text: &str,
) -> Result<Result<(u32, Mapping), MappingProblem>, SyncError> {
    let mapping = match parse(ctx, text) {
        Ok(mapping) => mapping,
        Err(err) => return Ok(Err(problem(&err))),
    };
    let version = ctx
        .store
        .save_mapping(ctx.peer_name(), text, &mapping.fingerprint())?;
    Ok(Ok((version, mapping)))
}

/// The text of the version before the newest one (the in-force text when nothing is saved).
pub fn previous_text(ctx: &SyncContext) -> Result<Option<String>, SyncError> {
    let versions = ctx.store.mapping_versions(ctx.peer_name())?;
    Ok(match versions.len() {
        0 => None,
        1 => Mapping::builtin_text(ctx.peer_name()).map(str::to_string),
        n => versions.get(n - 2).map(|v| v.text.clone()),
    })
}
