//! What a contact's tasks and notes share: each lives in a per-contact list of the store, at
//! `/contacts/:contactId/<kind>…`, behind its contact's location check (404/403 first).
//! `list`, `get_one` and `delete` serve both kinds; `create` and `edit` take the kind's rules
//! and the code that builds or changes one record.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ghl::models::Succeded;
use crate::sandbox::auth::Caller;
use crate::sandbox::body::{Rule, validate};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::state::AppState;
use crate::sandbox::store::Store;

use super::lock_contact;

/// A record kept per contact (a task or a note).
pub trait Child: Clone + Serialize + Send + 'static {
    /// The record's name in a 404: "Task not found".
    const NAME: &'static str;
    fn id(&self) -> &str;
    /// The store's lists of this kind, by contact id.
    fn lists(store: &mut Store) -> &mut HashMap<String, Vec<Self>>;
    /// One record as answered: `{"task": …}`.
    fn envelope(self) -> impl Serialize;
    /// A contact's records as answered: `{"tasks": […]}`.
    fn list_envelope(all: Vec<Self>) -> impl Serialize;
    /// The order of a listing; stored order unless a kind says otherwise.
    fn order(_all: &mut [Self]) {}
}

/// The contact's record `id` (the contact already checked by [`lock_contact`]).
fn find_mut<'a, C: Child>(
    store: &'a mut Store,
    contact_id: &str,
    id: &str,
) -> Result<&'a mut C, ApiError> {
    C::lists(store)
        .get_mut(contact_id)
        .and_then(|all| all.iter_mut().find(|c| c.id() == id))
        .ok_or_else(|| ApiError::not_found(C::NAME))
}

pub async fn list<C: Child>(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(contact_id): Path<String>,
) -> ApiResult {
    let mut store = lock_contact(&st, &caller, &contact_id)?;
    let mut all = C::lists(&mut store)
        .get(&contact_id)
        .cloned()
        .unwrap_or_default();
    C::order(&mut all);
    ok(StatusCode::OK, C::list_envelope(all))
}

pub async fn get_one<C: Child>(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = lock_contact(&st, &caller, &contact_id)?;
    let child = find_mut::<C>(&mut store, &contact_id, &id)?.clone();
    ok(StatusCode::OK, child.envelope())
}

/// Validates `body` as `D`, then stores (201) what `build` makes of it for the contact.
pub fn create<C: Child, D: DeserializeOwned>(
    st: &AppState,
    caller: &Caller,
    contact_id: String,
    body: &Value,
    rules: &[Rule],
    build: impl FnOnce(D, &str) -> C,
) -> ApiResult {
    let dto = validate::<D>(body, rules)?;
    let mut store = lock_contact(st, caller, &contact_id)?;
    let child = build(dto, &contact_id);
    C::lists(&mut store)
        .entry(contact_id)
        .or_default()
        .push(child.clone());
    ok(StatusCode::CREATED, child.envelope())
}

/// Validates `body` as `D`, then applies it to the contact's record with `change`.
pub fn edit<C: Child, D: DeserializeOwned>(
    st: &AppState,
    caller: &Caller,
    (contact_id, id): (String, String),
    body: &Value,
    rules: &[Rule],
    change: impl FnOnce(&mut C, D),
) -> ApiResult {
    let dto = validate::<D>(body, rules)?;
    let mut store = lock_contact(st, caller, &contact_id)?;
    let child = find_mut::<C>(&mut store, &contact_id, &id)?;
    change(child, dto);
    ok(StatusCode::OK, child.clone().envelope())
}

pub async fn delete<C: Child>(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = lock_contact(&st, &caller, &contact_id)?;
    find_mut::<C>(&mut store, &contact_id, &id)?;
    if let Some(all) = C::lists(&mut store).get_mut(&contact_id) {
        all.retain(|c| c.id() != id);
    }
    ok(
        StatusCode::OK,
        Succeded {
            succeded: true,
            trace_id: None,
        },
    )
}
