//! Writes. Robly has no upsert: a member is found by id or by email (`contacts/search`), then
//! updated (`contacts/update_full_contact?member_id=`, with every field value, since it
//! replaces them all), or signed up (`sign_up/generate`). A sign-up Robly answers "already
//! exists" (`successful: true`) is a member a lost answer or another writer made: searched
//! again and updated, never made twice. So a write is safe to repeat after any failure.
//!
//! Sub-lists change by `contacts/add_sub_list` / `remove_sub_list` (documented, unlike the
//! list options of `update_full_contact`). Opting out is `contacts/unsubscribe`; opting back
//! in only with `resubscribe = true`, otherwise the write's other changes are made and it is
//! refused, naming `opted_out`. Field parameters are checked against `fields/show`
//! first: Robly may answer 500 to one it does not know.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::members::{self, NOT_FIELDS};
use super::{MAIL_SWITCHES, PEER, RoblyPeer, lock};
use crate::net::ErrorClass;
use crate::peers::{EntityKind, PeerError, PeerRecord, WriteOutcome};

/// What a write asks of a member.
struct Desired {
    email: Option<String>,
    /// Data field values by tag; an empty one clears the field.
    fields: BTreeMap<String, String>,
    sub_lists: Option<Vec<String>>,
    opted_out: Option<bool>,
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The mail switches, false: on `sign_up/generate` all four, on `add_sub_list` the two it
/// takes. Sent explicitly rather than left out, because Robly documents no defaults and an
/// account's could send mail.
fn mail_off(switches: &[&str]) -> Vec<(String, String)> {
    switches
        .iter()
        .map(|name| ((*name).to_string(), "false".to_string()))
        .collect()
}

fn is_field_tag(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl RoblyPeer {
    fn refuse(&self, field: &str, detail: String) -> PeerError {
        self.http.error(
            "write member",
            ErrorClass::Validation,
            detail,
            Some(field.to_string()),
        )
    }

    fn desired(&self, record: &PeerRecord) -> Result<Desired, PeerError> {
        if record.kind != EntityKind::Contact {
            return Err(PeerError::unsupported(
                PEER,
                format!("Robly has no {}s", record.kind),
            ));
        }
        let mut desired = Desired {
            email: None,
            fields: BTreeMap::new(),
            sub_lists: None,
            opted_out: None,
        };
        for (name, value) in &record.fields {
            if MAIL_SWITCHES.contains(&name.as_str()) {
                return Err(self.refuse(
                    name,
                    format!("{name} makes Robly send email; ghlsync always sends it false, so a mapping cannot set it: remove the rule writing {name}"),
                ));
            }
            match name.as_str() {
                "email" => desired.email = text(value).filter(|e| !e.is_empty()),
                "sub_lists" => desired.sub_lists = Some(names(value)),
                "opted_out" => desired.opted_out = value.as_bool(),
                other if NOT_FIELDS.contains(&other) => {}
                tag => {
                    if !is_field_tag(tag) {
                        return Err(self.refuse(tag, format!("{tag:?} is not a Robly field tag (lowercase user tags like fname, lname, data8); fix the mapping's peer name")));
                    }
                    let Some(value) = text(value) else {
                        return Err(self
                            .refuse(tag, format!("{tag} must be text, not a list or an object")));
                    };
                    desired.fields.insert(tag.to_string(), value);
                }
            }
        }
        if let Some(email) = &desired.email
            && !email.contains('@')
        {
            return Err(self.refuse("email", format!("{email:?} is not an email address")));
        }
        Ok(desired)
    }

    /// The checks made before any request: what a dry run reports.
    pub(super) fn check_locally(&self, record: &PeerRecord) -> Result<(), PeerError> {
        let desired = self.desired(record)?;
        if let Some(known) = lock(&self.fields).as_ref() {
            self.known_fields(&desired, known)?;
        }
        Ok(())
    }

    fn known_fields(&self, desired: &Desired, known: &BTreeSet<String>) -> Result<(), PeerError> {
        match desired.fields.keys().find(|tag| !known.contains(*tag)) {
            None => Ok(()),
            Some(tag) => Err(self.refuse(
                tag,
                format!("Robly has no field with the tag {tag:?} (fields/show lists {}); add the field in Robly (Contacts → Fields) or remove {tag} from the mapping", known.iter().cloned().collect::<Vec<_>>().join(", ")),
            )),
        }
    }

    /// The account's field tags, read once (and again when a write names one not known yet).
    async fn ensure_fields(&self, desired: &Desired) -> Result<(), PeerError> {
        let cached = lock(&self.fields).clone();
        if let Some(known) = &cached
            && self.known_fields(desired, known).is_ok()
        {
            return Ok(());
        }
        let json = self
            .get_json("fields/show", &[("include_all", "true".into())])
            .await?;
        let known: BTreeSet<String> = json
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| row.get("field_tag").or(Some(row)))
            .flat_map(|tag| {
                ["user_tag", "default_tag"]
                    .into_iter()
                    .filter_map(|key| tag.get(key).and_then(Value::as_str).map(str::to_string))
            })
            .collect();
        *lock(&self.fields) = Some(known.clone());
        self.known_fields(desired, &known)
    }

    /// Sub-list ids for `wanted` (names, without case); missing ones created when allowed.
    async fn list_ids(&self, wanted: &[String]) -> Result<BTreeSet<u64>, PeerError> {
        let mut created = false;
        loop {
            let cached = lock(&self.lists).clone();
            let lists = match cached {
                Some(lists) => lists,
                None => {
                    let json = self
                        .get_json("sub_lists/show", &[("include_all", "true".into())])
                        .await?;
                    let lists: BTreeMap<String, u64> = json
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|row| {
                            let list = row.get("sub_list").unwrap_or(row);
                            Some((
                                list.get("name")?.as_str()?.trim().to_lowercase(),
                                list.get("id")?.as_u64()?,
                            ))
                        })
                        .collect();
                    *lock(&self.lists) = Some(lists.clone());
                    lists
                }
            };
            let missing: Vec<&String> = wanted
                .iter()
                .filter(|name| !lists.contains_key(&name.trim().to_lowercase()))
                .collect();
            if missing.is_empty() {
                return Ok(wanted
                    .iter()
                    .filter_map(|name| lists.get(&name.trim().to_lowercase()).copied())
                    .collect());
            }
            if !self.settings.create_sub_lists || created {
                return Err(self.refuse(
                    "sub_lists",
                    format!("Robly has no sub-list named {:?}; create it in Robly, or set create_sub_lists = true", missing[0]),
                ));
            }
            for name in missing {
                let made = self
                    .post(
                        "sub_lists/add_sub_list",
                        None,
                        vec![("sub_list_name".into(), name.trim().to_string())],
                    )
                    .await;
                match made {
                    Ok(_) => {}
                    // Made by a write whose answer was lost, or by someone else: fine.
                    Err(err) if err.detail.contains("already exists") => {}
                    Err(err) => return Err(err),
                }
            }
            *lock(&self.lists) = None;
            created = true;
        }
    }

    pub(super) async fn write(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        let desired = self.desired(record)?;
        self.ensure_fields(&desired).await?;
        let member_id = record.id.trim().parse::<u64>().ok();
        let mut found = match member_id {
            Some(id) => self.member_by_id(id).await?,
            None => None,
        };
        if found.is_none()
            && let Some(email) = &desired.email
        {
            found = self.member_by_email(email).await?;
            if let Some(member) = found.as_ref().filter(|_| member_id.is_none()) {
                // A create (the record is under its GHL id) finding the person: our own lost
                // create, or another GHL contact's member. The sync knows which and adopts or
                // refuses; nothing is written here.
                return Err(PeerError::exists(
                    PEER,
                    "GET contacts/search",
                    member.id.clone(),
                    "email",
                ));
            }
        }
        if let Some(member) = found {
            self.update(&member, &desired).await?;
            return Ok(WriteOutcome {
                id: member.id,
                created: false,
                reference: None,
            });
        }
        self.create(&desired).await
    }

    async fn create(&self, desired: &Desired) -> Result<WriteOutcome, PeerError> {
        let Some(email) = desired.email.clone() else {
            return Err(self.refuse(
                "email",
                "Robly needs an email address to sign a member up; map GHL's email to email".into(),
            ));
        };
        let lists = match &desired.sub_lists {
            Some(names) => self.list_ids(names).await?,
            None => BTreeSet::new(),
        };
        let mut params = vec![("email".to_string(), email.clone())];
        params.extend(
            desired
                .fields
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        params.extend(
            lists
                .iter()
                .map(|id| ("sub_lists[]".to_string(), id.to_string())),
        );
        params.push(("return_contact".into(), "true".into()));
        params.extend(mail_off(&MAIL_SWITCHES));
        let answer = self.post("sign_up/generate", None, params).await?;
        let message = answer.get("message").and_then(Value::as_str).unwrap_or("");
        if message.to_ascii_lowercase().contains("already exists") {
            // Not a new member (a search missed it): the sync adopts or refuses the one Robly
            // holds.
            let Some(member) = self.member_by_email(&email).await? else {
                return Err(self.error(
                    "POST sign_up/generate",
                    ErrorClass::Transient,
                    "Robly says the email already exists, but a search finds no member; try again later",
                ));
            };
            return Err(PeerError::exists(
                PEER,
                "POST sign_up/generate",
                member.id,
                "email",
            ));
        }
        let id = match members::member_of(&answer).and_then(members::member_id) {
            Some(id) => id,
            None => match self.member_by_email(&email).await? {
                Some(member) => member.id.parse().unwrap_or_default(),
                None => {
                    return Err(self.error(
                        "POST sign_up/generate",
                        ErrorClass::Ambiguous,
                        "the sign-up answered without a member, and a search finds none yet",
                    ));
                }
            },
        };
        if desired.opted_out == Some(true) {
            self.post("contacts/unsubscribe", Some(id), Vec::new())
                .await?;
        }
        Ok(WriteOutcome {
            id: id.to_string(),
            created: true,
            reference: None,
        })
    }

    async fn update(&self, member: &PeerRecord, desired: &Desired) -> Result<(), PeerError> {
        let id: u64 = member.id.parse().unwrap_or_default();
        let current_email = member
            .fields
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(email) = &desired.email
            && !email.eq_ignore_ascii_case(current_email.trim())
        {
            return Err(self.refuse(
                "email",
                format!("Robly cannot change member {id}'s email ({current_email} → {email}); change it in Robly, or unlink the contact"),
            ));
        }
        let current = members::field_values(member.raw.as_object().unwrap_or(&Map::new()));
        let mut merged: BTreeMap<String, String> = current
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        let before = merged.clone();
        for (tag, value) in &desired.fields {
            if value.is_empty() {
                merged.remove(tag);
            } else {
                merged.insert(tag.clone(), value.clone());
            }
        }
        if merged != before {
            // A full update: every value goes, or the ones left out would be cleared.
            self.post(
                "contacts/update_full_contact",
                Some(id),
                merged.into_iter().collect(),
            )
            .await?;
        }
        if let Some(names) = &desired.sub_lists {
            let want = self.list_ids(names).await?;
            let have: BTreeSet<u64> =
                members::sub_lists(member.raw.as_object().unwrap_or(&Map::new()))
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
            for list in want.difference(&have) {
                let mut params = vec![("sub_list_id".to_string(), list.to_string())];
                params.extend(mail_off(&MAIL_SWITCHES[2..]));
                self.post("contacts/add_sub_list", Some(id), params).await?;
            }
            for list in have.difference(&want) {
                let params = vec![("sub_list_id".to_string(), list.to_string())];
                self.post("contacts/remove_sub_list", Some(id), params)
                    .await?;
            }
        }
        let opted_out = member.fields.get("opted_out").and_then(Value::as_bool) == Some(true);
        match desired.opted_out {
            Some(true) if !opted_out => {
                self.post("contacts/unsubscribe", Some(id), Vec::new())
                    .await?;
            }
            Some(false) if opted_out && self.settings.resubscribe => {
                self.post("contacts/resubscribe", Some(id), Vec::new())
                    .await?;
            }
            Some(false) if opted_out => {
                // Said, not swallowed: GHL would otherwise show a person Robly will not mail
                // as reachable, with nothing left to sync.
                return Err(self.refuse(
                    "opted_out",
                    format!("member {id} stays unsubscribed: Robly unsubscribes are one-way (only the person can resubscribe, through a signup form); set DND back in GHL, or set resubscribe = true in the connection"),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Sub-list names from a list or a comma-separated text.
fn names(value: &Value) -> Vec<String> {
    let mut out: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Value::String(text) => text.split(',').map(str::to_string).collect(),
        _ => Vec::new(),
    };
    out.retain(|name| !name.trim().is_empty());
    out
}
