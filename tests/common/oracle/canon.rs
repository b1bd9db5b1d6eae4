//! The canonical form of a `/_sandbox/dump`: every record without what differs between two
//! correct runs of the same scenario, so that equal means "the same people, fields and
//! children". See [`super::EndState`] for what is left out and why.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// One canonical record: a GHL contact or a Repsly client with its children nested.
#[derive(Clone, Debug)]
pub struct Record {
    /// What pairs it with its counterpart in another state: `ghl:<email|tel|name>`,
    /// `repsly:<Code>` (the Code tokenised when it is a GHL id).
    pub identity: String,
    /// Keys sorted, children sorted: two bodies are equal iff their `text`s are.
    pub body: Value,
    pub text: String,
}

/// GHL contact fields that say nothing about the person: ids, server timestamps, and the
/// lower-cased copies GHL derives from other fields.
const GHL_CONTACT_NOISE: &[&str] = &[
    "id",
    "locationId",
    "dateAdded",
    "dateUpdated",
    "firstNameLowerCase",
    "lastNameLowerCase",
    "fullNameLowerCase",
    "emailLowerCase",
];
/// Children: their ids, their contact (they are nested in it) and server timestamps.
const GHL_CHILD_NOISE: &[&str] = &["id", "contactId", "locationId", "dateAdded", "dateUpdated"];
/// A Repsly child's copy of its client (name, address, email, phones) is Repsly's snapshot at
/// the child's creation: under faults the client's own update may land a run later, so the
/// copy differs with nothing lost. The client itself carries those fields.
const REPSLY_CLIENT_COPY: &[&str] = &[
    "ClientCode",
    "ClientName",
    "StreetAddress",
    "ZIP",
    "ZIPExt",
    "City",
    "State",
    "Country",
    "Territory",
    "Email",
    "Phone",
    "Mobile",
];

pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

pub fn rows<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub fn email_key(email: &str) -> Option<String> {
    let email = email.trim();
    (!email.is_empty()).then(|| email.to_ascii_lowercase())
}

/// A phone's last ten digits, when it has at least seven (fewer mean no number, as in the
/// sandbox's own rule): GHL's `+15125550123` and Repsly's `(512) 555-0123`, or `+447700…` and
/// `07700 …`, are one number.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let skip = digits.len().saturating_sub(10);
    (digits.len() >= 7).then(|| digits[skip..].to_string())
}

/// An ISO date-time (with or without offset, or GHL's zone-less `2021-07-16 11:00:00`, read as
/// UTC) as the UTC instant it names; anything else as it is.
pub fn instant(s: &str) -> String {
    let utc = DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc())
        });
    utc.map_or_else(
        |_| s.to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::Millis, true),
    )
}

pub fn first_line(s: &str) -> &str {
    s.trim().lines().next().unwrap_or_default()
}

/// GHL ids of the dump (contacts and children) → a stable stand-in. A record created by a run
/// gets a random id, and ids leak into other records' fields (a Repsly client created from
/// GHL is keyed by its contact's id, a schedule's `ExternalID` names an appointment), so each
/// id is replaced by what it names.
pub struct Tokens(HashMap<String, String>);

/// A GHL contact's stand-in: its email, else its phone's digits, else its name.
fn contact_token(c: &Value) -> String {
    if let Some(email) = email_key(str_of(c, "email")) {
        return format!("ghl:{email}");
    }
    if let Some(phone) = phone_key(str_of(c, "phone")) {
        return format!("ghl:tel:{phone}");
    }
    let name = str_of(c, "name").trim().to_lowercase();
    format!("ghl:name:{name}")
}

impl Tokens {
    pub fn of(ghl: &Value) -> Tokens {
        let mut map = HashMap::new();
        for c in rows(ghl, "contacts") {
            map.insert(str_of(c, "id").to_string(), contact_token(c));
        }
        let owner = |child: &Value| {
            map.get(str_of(child, "contactId"))
                .cloned()
                .unwrap_or_else(|| "ghl:?".into())
        };
        let mut children = Vec::new();
        for t in rows(ghl, "tasks") {
            let token = format!("ghl-task:{}:{}", owner(t), str_of(t, "title"));
            children.push((str_of(t, "id"), token));
        }
        for n in rows(ghl, "notes") {
            let token = format!("ghl-note:{}:{}", owner(n), first_line(str_of(n, "body")));
            children.push((str_of(n, "id"), token));
        }
        for a in rows(ghl, "appointments") {
            let token = format!("ghl-appt:{}:{}", owner(a), instant(str_of(a, "startTime")));
            children.push((str_of(a, "id"), token));
        }
        for (id, token) in children {
            map.insert(id.to_string(), token);
        }
        Tokens(map)
    }

    pub fn get(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }

    /// `s` with every 20-character alphanumeric run that is a known GHL id replaced (whole
    /// values such as a Code, and embedded ones such as `ghl-<id>`).
    pub fn replace(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut run_start = None;
        for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
            if c.is_ascii_alphanumeric() && i < s.len() {
                run_start.get_or_insert(i);
                continue;
            }
            if let Some(start) = run_start.take() {
                let run = &s[start..i];
                match self.0.get(run).filter(|_| run.len() == 20) {
                    Some(token) => out.push_str(token),
                    None => out.push_str(run),
                }
            }
            if i < s.len() {
                out.push(c);
            }
        }
        out
    }

    fn apply(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.replace(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.apply(i)),
            Value::Object(map) => map.values_mut().for_each(|i| self.apply(i)),
            _ => {}
        }
    }
}

/// `v` with every object's keys in sorted order (the crate keeps insertion order).
fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

fn without(v: &Value, noise: &[&str]) -> Map<String, Value> {
    let mut map = v.as_object().cloned().unwrap_or_default();
    for key in noise {
        map.remove(*key);
    }
    map
}

/// Tokenised, keys sorted, and each list in `multisets` sorted by its items' text.
pub fn finish(
    identity: String,
    map: Map<String, Value>,
    multisets: &[&str],
    tokens: &Tokens,
) -> Record {
    let mut body = Value::Object(map);
    tokens.apply(&mut body);
    let mut body = sort_keys(body);
    for key in multisets {
        if let Some(Value::Array(items)) = body.get_mut(*key) {
            items.sort_by_cached_key(Value::to_string);
        }
    }
    let text = body.to_string();
    Record {
        identity,
        body,
        text,
    }
}

pub fn group_by<'a>(list: &'a [Value], key: &str) -> HashMap<&'a str, Vec<&'a Value>> {
    let mut out: HashMap<&str, Vec<&Value>> = HashMap::new();
    for item in list {
        out.entry(str_of(item, key)).or_default().push(item);
    }
    out
}

/// The children `by` holds for `owner`.
pub fn of<'a>(by: &HashMap<&str, Vec<&'a Value>>, owner: &str) -> Vec<&'a Value> {
    by.get(owner).cloned().unwrap_or_default()
}

fn task(t: &Value) -> Value {
    let mut map = without(t, GHL_CHILD_NOISE);
    if let Some(Value::String(due)) = map.get_mut("dueDate") {
        *due = instant(due);
    }
    Value::Object(map)
}

fn note(n: &Value) -> Value {
    Value::Object(without(n, GHL_CHILD_NOISE))
}

fn appointment(a: &Value) -> Value {
    let mut map = without(a, GHL_CHILD_NOISE);
    for key in ["startTime", "endTime"] {
        if let Some(Value::String(t)) = map.get_mut(key) {
            *t = instant(t);
        }
    }
    Value::Object(map)
}

/// Each GHL contact with its tasks, notes and appointments nested.
pub fn ghl(ghl: &Value, tokens: &Tokens) -> Vec<Record> {
    let fields: HashMap<&str, &str> = rows(ghl, "customFields")
        .iter()
        .map(|f| (str_of(f, "id"), str_of(f, "key")))
        .collect();
    let (tasks, notes, appts) = (
        group_by(rows(ghl, "tasks"), "contactId"),
        group_by(rows(ghl, "notes"), "contactId"),
        group_by(rows(ghl, "appointments"), "contactId"),
    );
    let mut records = Vec::new();
    for c in rows(ghl, "contacts") {
        let id = str_of(c, "id");
        let mut map = without(c, GHL_CONTACT_NOISE);
        if let Some(Value::Array(values)) = map.remove("customFields") {
            let by_key: Map<String, Value> = values
                .iter()
                .map(|f| {
                    let id = str_of(f, "id");
                    let key = fields
                        .get(id)
                        .map_or_else(|| format!("id:{id}"), |k| k.to_string());
                    (key, f.get("value").cloned().unwrap_or(Value::Null))
                })
                .collect();
            map.insert("customFields".into(), Value::Object(by_key));
        }
        if let Some(Value::Array(tags)) = map.get_mut("tags") {
            tags.sort_by_cached_key(Value::to_string);
        }
        let (t, n, a) = (of(&tasks, id), of(&notes, id), of(&appts, id));
        map.insert("tasks".into(), t.iter().map(|x| task(x)).collect());
        map.insert("notes".into(), n.iter().map(|x| note(x)).collect());
        map.insert(
            "appointments".into(),
            a.iter().map(|x| appointment(x)).collect(),
        );
        let token = tokens.get(id).unwrap_or_default().to_string();
        records.push(finish(
            token,
            map,
            &["tasks", "notes", "appointments"],
            tokens,
        ));
    }
    records
}

/// Each Repsly client with its notes, schedules and visits nested. Children of a Code no
/// client has are kept under a record of their own (`"Code"` only).
pub fn repsly(repsly: &Value, tokens: &Tokens) -> Vec<Record> {
    let (notes, schedules, visits) = (
        group_by(rows(repsly, "notes"), "ClientCode"),
        group_by(rows(repsly, "schedules"), "ClientCode"),
        group_by(rows(repsly, "visits"), "ClientCode"),
    );
    let mut codes: BTreeMap<&str, Option<&Value>> = BTreeMap::new();
    for c in rows(repsly, "clients") {
        codes.insert(str_of(c, "Code"), Some(c));
    }
    for code in notes.keys().chain(schedules.keys()).chain(visits.keys()) {
        codes.entry(code).or_insert(None);
    }
    // A note's `DateAndTime` is the wall clock when a test adds it without one; the sync never
    // writes notes to Repsly, so no change of the sync's can hide there.
    let note_noise = [
        REPSLY_CLIENT_COPY,
        &["ClientNoteID", "TimeStamp", "DateAndTime"],
    ]
    .concat();
    let schedule_noise = [REPSLY_CLIENT_COPY, &["ScheduleCode"]].concat();
    let visit_noise = [REPSLY_CLIENT_COPY, &["VisitID", "TimeStamp"]].concat();
    let mut records = Vec::new();
    for (code, client) in codes {
        let mut map = client.map_or_else(Map::new, |c| without(c, &["ClientID", "TimeStamp"]));
        map.insert("Code".into(), Value::String(code.to_string()));
        if let Some(Value::Array(fields)) = map.get_mut("CustomFields") {
            fields.sort_by_cached_key(Value::to_string);
        }
        let (n, s, v) = (of(&notes, code), of(&schedules, code), of(&visits, code));
        let strip = |list: &[&Value], noise: &[&str]| -> Value {
            list.iter()
                .map(|x| Value::Object(without(x, noise)))
                .collect()
        };
        map.insert("notes".into(), strip(&n, &note_noise));
        map.insert("schedules".into(), strip(&s, &schedule_noise));
        map.insert("visits".into(), strip(&v, &visit_noise));
        let identity = format!("repsly:{}", tokens.replace(code));
        records.push(finish(
            identity,
            map,
            &["notes", "schedules", "visits"],
            tokens,
        ));
    }
    records
}
