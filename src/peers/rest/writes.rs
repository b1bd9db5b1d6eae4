//! Reads by id or email, and writes: create, update, delete.
//!
//! The engine hands `upsert` a record under the app's id (an update) or under the GHL id it
//! comes from (a create), without saying which. So: an id that cannot be the app's (`id_type =
//! "number"` and not a number) is created at once; otherwise the update is sent, and with
//! string ids (where the two look alike) an update answered 404 is sent as a create. Before a
//! create, a `lookup` by email finds the person the app may hold already — a create that landed
//! while its answer was lost — and answers `PeerError::exists`: the sync adopts it (and
//! updates it) unless another GHL contact owns it, so a retried create never makes a second
//! record.

use serde_json::{Map, Value};

use super::RestPeer;
use super::connector_file::{CallSpec, EntitySpec, WriteSpec};
use super::file::{Body, IdType};
use super::records::{self, plausible_id};
use super::template::{Vars, value_text};
use crate::net::ErrorClass;
use crate::peers::http::{Answer, Request};
use crate::peers::{EntityKind, PeerError, PeerRecord, WriteOutcome};

impl RestPeer {
    /// Records of `kind` whose email field is `email` (compared without case), by the
    /// connector's `lookup` request. The answer is checked, since some apps ignore a filter
    /// they do not know.
    pub async fn lookup_by_email(
        &self,
        kind: EntityKind,
        email: &str,
    ) -> Result<Vec<PeerRecord>, PeerError> {
        let spec = self.spec(kind)?;
        let Some(lookup) = &spec.lookup else {
            return Err(self.error(
                "",
                ErrorClass::ScopeOrConfig,
                format!("[{kind}] has no lookup request"),
            ));
        };
        let wanted = email.trim();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let vars = Vars {
            email: Some(wanted),
            ..Vars::default()
        };
        let request = self.request(&lookup.call, &vars, None)?;
        let operation = request.operation.clone().unwrap_or_default();
        let answer = match self.http.send(request).await {
            Ok(answer) => answer,
            Err(err) if err.class() == ErrorClass::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let rows: Vec<Value> = match records::select(&answer.json, &lookup.call.selector) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(rows)) => rows.clone(),
            Some(row @ Value::Object(_)) => vec![row.clone()],
            Some(_) => {
                return Err(self.error(
                    &operation,
                    ErrorClass::Decode,
                    "the lookup's record_selector leads to neither records nor a record",
                ));
            }
        };
        Ok(records::to_records(spec, &rows, &self.name)
            .into_iter()
            .filter(|record| {
                record
                    .fields
                    .get(&lookup.email_field)
                    .and_then(Value::as_str)
                    .is_some_and(|found| found.trim().eq_ignore_ascii_case(wanted))
            })
            .collect())
    }

    pub(super) async fn get_record(
        &self,
        spec: &EntitySpec,
        id: &str,
    ) -> Result<Option<PeerRecord>, PeerError> {
        let Some(call) = &spec.get else {
            return Err(self.error(
                "",
                ErrorClass::ScopeOrConfig,
                format!(
                    "[{}] has no get request, so it cannot be read by id",
                    spec.kind
                ),
            ));
        };
        if !plausible_id(spec, id) {
            return Ok(None);
        }
        let vars = Vars {
            id: Some(id.trim()),
            ..Vars::default()
        };
        let request = self.request(call, &vars, None)?;
        let operation = request.operation.clone().unwrap_or_default();
        let answer = match self.http.send(request).await {
            Ok(answer) => answer,
            Err(err) if err.class() == ErrorClass::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        match records::select(&answer.json, &call.selector) {
            None | Some(Value::Null) => Ok(None),
            Some(row) => records::to_record(spec, row).map(Some).ok_or_else(|| {
                self.error(
                    &operation,
                    ErrorClass::Decode,
                    format!("the answer holds no {:?} field", spec.primary_key),
                )
            }),
        }
    }

    pub(super) async fn delete_record(&self, spec: &EntitySpec, id: &str) -> Result<(), PeerError> {
        let Some(call) = &spec.delete else {
            return Err(self.error(
                "",
                ErrorClass::ScopeOrConfig,
                format!("[{}] has no delete request", spec.kind),
            ));
        };
        if !plausible_id(spec, id) {
            return Ok(());
        }
        let vars = Vars {
            id: Some(id.trim()),
            ..Vars::default()
        };
        match self.http.send(self.request(call, &vars, None)?).await {
            // Already gone is what a delete wants.
            Err(err) if err.class() == ErrorClass::NotFound => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// The write `upsert` would send first, and its required fields checked.
    pub(super) fn check_write(
        &self,
        spec: &EntitySpec,
        record: &PeerRecord,
    ) -> Result<(), PeerError> {
        let first = match (&spec.update, &spec.create) {
            (Some(update), _) if plausible_id(spec, &record.id) => update,
            (_, Some(create)) => create,
            (Some(update), None) => update,
            (None, None) => {
                return Err(self.error(
                    "",
                    ErrorClass::ScopeOrConfig,
                    format!(
                        "{}s cannot be written: the connector file has no create or update request",
                        spec.kind
                    ),
                ));
            }
        };
        let operation = format!("{} {}", first.method, spec.kind);
        for field in &first.required {
            let empty = record
                .fields
                .get(field)
                .is_none_or(|value| value_text(value).is_none_or(|text| text.trim().is_empty()));
            if empty {
                return Err(self.http.error(
                    &operation,
                    ErrorClass::Validation,
                    format!("{field} is required"),
                    Some(field.clone()),
                ));
            }
        }
        Ok(())
    }

    pub(super) async fn write(
        &self,
        spec: &EntitySpec,
        record: &PeerRecord,
    ) -> Result<WriteOutcome, PeerError> {
        self.check_write(spec, record)?;
        let fields: Map<String, Value> = record
            .fields
            .iter()
            .filter(|(name, _)| !spec.read_only.contains(name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        if let Some(update) = &spec.update
            && plausible_id(spec, &record.id)
        {
            match self
                .send_write(spec, update, Some(&record.id), record, &fields)
                .await
            {
                Ok(_) => return Ok(outcome(record.id.trim(), false)),
                // String ids: GHL's id and the app's look alike, so a 404 means the record is
                // new to the app. (A numeric id the app does not know is gone: NotFound.)
                Err(err)
                    if err.class() == ErrorClass::NotFound
                        && spec.create.is_some()
                        && spec.id_type == IdType::String => {}
                Err(err) => return Err(err),
            }
        }
        let Some(create) = &spec.create else {
            return Err(self.error(
                "",
                ErrorClass::NotFound,
                format!(
                    "{} {} is not in the app, and the connector file has no create request",
                    spec.kind, record.id
                ),
            ));
        };
        if let Some(lookup) = &spec.lookup {
            let email = fields
                .get(&lookup.email_field)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|email| !email.is_empty());
            if let Some(email) = email {
                let found = self.lookup_by_email(spec.kind, email).await?;
                if let [existing] = found.as_slice() {
                    // Our own lost create, or another GHL contact's record: the sync knows
                    // which (the links) and adopts or refuses; nothing is written here.
                    return Err(PeerError::exists(
                        self.name.clone(),
                        format!("{} {}", create.method, spec.kind),
                        existing.id.clone(),
                        "email",
                    ));
                }
            }
        }
        let answer = self.send_write(spec, create, None, record, &fields).await?;
        let id = new_id(spec, create, &answer).ok_or_else(|| {
            self.error(
                &format!("{} {}", create.method, spec.kind),
                ErrorClass::Ambiguous,
                format!(
                    "the {} was created, but the answer shows no id at {}; look it up before writing again",
                    spec.kind,
                    create.id_pointer.as_deref().unwrap_or("the id_pointer")
                ),
            )
        })?;
        Ok(outcome(&id, true))
    }

    async fn send_write(
        &self,
        spec: &EntitySpec,
        write: &WriteSpec,
        id: Option<&str>,
        record: &PeerRecord,
        fields: &Map<String, Value>,
    ) -> Result<Answer, PeerError> {
        let parent = record.parent_id.clone().or_else(|| {
            spec.parent_field
                .as_ref()
                .and_then(|field| fields.get(field))
                .and_then(value_text)
        });
        let vars = Vars {
            id: id.map(str::trim),
            parent_id: parent.as_deref(),
            email: None,
            record: Some(fields),
        };
        let body = match &write.body {
            Body::Record => Value::Object(fields.clone()),
            Body::Template(template) => template.render(&vars).unwrap_or(Value::Null),
        };
        let call = CallSpec {
            method: write.method.clone(),
            path: write.path.clone(),
            params: write.params.clone(),
            selector: String::new(),
        };
        self.http
            .send(self.request(&call, &vars, Some(body))?)
            .await
    }

    /// A request of `call` with its placeholders filled. A placeholder with no value is the
    /// record's problem (`Validation`, naming the field).
    fn request(
        &self,
        call: &CallSpec,
        vars: &Vars<'_>,
        body: Option<Value>,
    ) -> Result<Request, PeerError> {
        let label = format!("{} {}", call.method, call.path.label());
        let missing = |var: String| {
            let field = var
                .strip_prefix("record.")
                .map(|f| f.split('.').next().unwrap_or(f).to_string());
            self.http.error(
                &label,
                ErrorClass::Validation,
                format!("the request needs {{{{ {var} }}}}, which has no value"),
                field,
            )
        };
        let path = call.path.render_path(vars).map_err(missing)?;
        let mut request = Request::new(call.method.clone(), path).operation(label.clone());
        for (name, text) in &call.params {
            request
                .query
                .push((name.clone(), text.render(vars).map_err(missing)?));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Ok(request)
    }
}

fn outcome(id: &str, created: bool) -> WriteOutcome {
    WriteOutcome {
        id: id.to_string(),
        created,
        reference: None,
    }
}

/// The new id: at `id_pointer`, else `/<primary_key>` or `/data/<primary_key>`, else the last
/// segment of a `Location` header.
fn new_id(spec: &EntitySpec, create: &WriteSpec, answer: &Answer) -> Option<String> {
    let pointers = match &create.id_pointer {
        Some(pointer) => vec![pointer.clone()],
        None => vec![
            format!("/{}", spec.primary_key),
            format!("/data/{}", spec.primary_key),
        ],
    };
    pointers
        .iter()
        .find_map(|pointer| answer.json.pointer(pointer).and_then(value_text))
        .filter(|id| !id.trim().is_empty())
        .or_else(|| {
            answer
                .headers
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| location.trim_end_matches('/').rsplit('/').next())
                .filter(|segment| !segment.is_empty())
                .map(str::to_string)
        })
}
