//! The emulated Rezora account's records: contacts, distribution lists, memberships and the
//! company's agents, rendered the way the legacy v1 API shows them (every value a string, ids
//! numeric strings, `0`/`1` flags).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Why Rezora refuses to edit a contact (rezora.zendesk.com, "Contact and Distribution List
/// Types"): added by an integration, or a brokerage's "Master" contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lock {
    Synced,
    Master,
}

impl Lock {
    pub fn refusal(self) -> &'static str {
        match self {
            Lock::Synced => {
                "This contact was added by an integration (a synced contact) and cannot be edited"
            }
            Lock::Master => "This is a Master contact of your brokerage and cannot be edited",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Contact {
    /// `contact_*` fields as strings, without `contact_id`.
    pub fields: Map<String, Value>,
    pub lock: Option<Lock>,
}

#[derive(Clone, Debug)]
pub struct List {
    pub name: String,
    pub date: String,
    /// `1`: the Primary Sphere, which cannot be updated or deleted.
    pub list_type: u8,
}

#[derive(Clone, Debug)]
pub struct Member {
    pub list_id: u64,
    pub contact_id: u64,
    pub date: String,
}

/// The contact fields the API knows (peer-apis.md §4); others are refused.
pub const CONTACT_FIELDS: &[&str] = &[
    "contact_name",
    "contact_email",
    "contact_type",
    "contact_title",
    "contact_company",
    "contact_phone_home",
    "contact_phone_work",
    "contact_phone_mobile",
    "contact_phone_fax",
    "contact_business_street",
    "contact_business_street2",
    "contact_business_city",
    "contact_business_state",
    "contact_business_zip",
    "contact_home_street",
    "contact_home_street2",
    "contact_home_city",
    "contact_home_state",
    "contact_home_zip",
    "contact_unsubscribe",
];

/// `contact_type`'s values.
pub const CONTACT_TYPES: &[&str] = &["Hot", "Active", "Inactive", ""];

#[derive(Clone, Debug, Default)]
pub struct Data {
    pub contacts: BTreeMap<u64, Contact>,
    pub lists: BTreeMap<u64, List>,
    /// By `contacttolist_id`.
    pub members: BTreeMap<u64, Member>,
    pub agents: Vec<Value>,
    pub next_id: u64,
    /// The clock of `*_date` fields: seconds after the seed anchor, one per record made.
    pub clock_ms: i64,
}

impl Data {
    pub fn new(anchor_ms: i64) -> Data {
        Data {
            next_id: 1001,
            clock_ms: anchor_ms,
            ..Data::default()
        }
    }

    pub fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// `2010-07-16 22:34:01`: Rezora's date form, from the emulation's own clock.
    pub fn stamp(&mut self) -> String {
        self.clock_ms += 1000;
        chrono::DateTime::from_timestamp_millis(self.clock_ms)
            .map(|at| at.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    }

    pub fn add_contact(&mut self, fields: Map<String, Value>, lock: Option<Lock>) -> u64 {
        let id = self.take_id();
        let mut all = Map::new();
        for name in CONTACT_FIELDS {
            let value = fields.get(*name).map_or_else(String::new, text);
            all.insert((*name).to_string(), Value::String(value));
        }
        let unsubscribed = all.get("contact_unsubscribe").and_then(Value::as_str) == Some("1");
        all.insert(
            "contact_unsubscribe".into(),
            json!(if unsubscribed { "1" } else { "0" }),
        );
        all.insert(
            "contact_self".into(),
            json!(fields.get("contact_self").map_or_else(|| "0".into(), text)),
        );
        all.insert("contact_date".into(), json!(self.stamp()));
        self.contacts.insert(id, Contact { fields: all, lock });
        id
    }

    pub fn add_list(&mut self, name: &str, list_type: u8) -> u64 {
        let id = self.take_id();
        let date = self.stamp();
        self.lists.insert(
            id,
            List {
                name: name.to_string(),
                date,
                list_type,
            },
        );
        id
    }

    /// Adds `contact` to `list`; `None` when it is there already.
    pub fn add_member(&mut self, list_id: u64, contact_id: u64) -> Option<u64> {
        if self.member_id(list_id, contact_id).is_some() {
            return None;
        }
        let id = self.take_id();
        let date = self.stamp();
        self.members.insert(
            id,
            Member {
                list_id,
                contact_id,
                date,
            },
        );
        Some(id)
    }

    pub fn member_id(&self, list_id: u64, contact_id: u64) -> Option<u64> {
        self.members
            .iter()
            .find(|(_, m)| m.list_id == list_id && m.contact_id == contact_id)
            .map(|(id, _)| *id)
    }

    pub fn primary_sphere(&self) -> Option<u64> {
        self.lists
            .iter()
            .find(|(_, list)| list.list_type == 1)
            .map(|(id, _)| *id)
    }

    pub fn is_self(&self, id: u64) -> bool {
        self.contacts
            .get(&id)
            .is_some_and(|c| c.fields.get("contact_self").and_then(Value::as_str) == Some("1"))
    }

    /// Removes a contact and its memberships.
    pub fn remove_contact(&mut self, id: u64) -> bool {
        self.members.retain(|_, m| m.contact_id != id);
        self.contacts.remove(&id).is_some()
    }

    pub fn remove_list(&mut self, id: u64) -> bool {
        self.members.retain(|_, m| m.list_id != id);
        self.lists.remove(&id).is_some()
    }

    pub fn render_contact(&self, id: u64) -> Option<Value> {
        let contact = self.contacts.get(&id)?;
        let mut row = Map::new();
        row.insert("contact_id".into(), json!(id.to_string()));
        row.extend(contact.fields.clone());
        Some(Value::Object(row))
    }

    pub fn render_list(&self, id: u64) -> Option<Value> {
        let list = self.lists.get(&id)?;
        Some(json!({
            "list_id": id.to_string(),
            "list_name": list.name,
            "list_date": list.date,
            "list_type": list.list_type.to_string(),
        }))
    }

    pub fn render_member(&self, id: u64) -> Option<Value> {
        let member = self.members.get(&id)?;
        Some(json!({
            "contacttolist_id": id.to_string(),
            "contact_id": member.contact_id.to_string(),
            "list_id": member.list_id.to_string(),
            "contacttolist_date": member.date,
        }))
    }

    /// `GET /_sandbox/dump`'s `rezora`: contacts (each with its lists' names, sorted, and its
    /// lock), lists, by id.
    pub fn dump(&self) -> Value {
        let contacts: Vec<Value> = self
            .contacts
            .iter()
            .filter_map(|(id, contact)| {
                let mut row = self.render_contact(*id)?;
                let mut lists: Vec<&str> = self
                    .members
                    .values()
                    .filter(|m| m.contact_id == *id)
                    .filter_map(|m| self.lists.get(&m.list_id))
                    .map(|list| list.name.as_str())
                    .collect();
                lists.sort_unstable();
                row["lists"] = json!(lists);
                row["locked"] = json!(contact.lock);
                Some(row)
            })
            .collect();
        let lists: Vec<Value> = self
            .lists
            .keys()
            .filter_map(|id| self.render_list(*id))
            .collect();
        json!({"contacts": contacts, "lists": lists})
    }
}

/// A JSON value as Rezora's text: strings as they are, numbers and booleans written out
/// (`true` → `1`), null empty.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Bool(flag) => if *flag { "1" } else { "0" }.to_string(),
        other => other.to_string(),
    }
}
