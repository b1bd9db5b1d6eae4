//! Client import rows: read leniently as JSON.NET binds them (case-insensitive keys, numbers for
//! strings, unknown keys ignored), then upserted by `Code`.
//!
//! Merge rule: an absent or `null` field keeps the stored value, any other value replaces it
//! (`""` clears a text field). `PriceLists: null` keeps and `[]` clears, as the docs warn.
//! `CustomFields` replaces the whole list. `ClientID` and `TimeStamp` in a body are ignored.
//! **[verify]** all of it against a live account.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::import::Outcome;
use super::model::{Client, CustomField, PriceList, rep_name};
use super::store::{Data, Upserted};

pub const CODE_MAX: usize = 50;
pub const EMAIL_MAX: usize = 128;

/// A JSON object with JSON.NET's case-insensitive, null-as-absent reading.
pub struct Fields<'a>(HashMap<String, &'a Value>);

impl<'a> Fields<'a> {
    pub fn new(obj: &'a Map<String, Value>) -> Self {
        Fields(obj.iter().map(|(k, v)| (k.to_lowercase(), v)).collect())
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0
            .get(&key.to_lowercase())
            .copied()
            .filter(|v| !v.is_null())
    }

    fn convert_error(key: &str, value: &Value, ty: &str) -> String {
        format!("Error converting value {value} to type '{ty}'. Path '{key}'.")
    }

    pub fn text(&self, key: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
            Some(v) => Err(Self::convert_error(key, v, "System.String")),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(v) => Err(Self::convert_error(key, v, "System.Boolean")),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(v @ Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Self::convert_error(key, v, "System.Int32")),
            Some(v) => Err(Self::convert_error(key, v, "System.Int32")),
        }
    }

    pub fn list(&self, key: &str) -> Result<Option<&'a Vec<Value>>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(list)) => Ok(Some(list)),
            Some(v) => Err(format!(
                "Cannot deserialize the current JSON value {v} into a list. Path '{key}'."
            )),
        }
    }
}

/// The optional text fields of a client, in export order.
const TEXT: &[&str] = &[
    "Tag",
    "Territory",
    "RepresentativeCode",
    "StreetAddress",
    "ZIP",
    "ZIPExt",
    "City",
    "State",
    "Country",
    "Email",
    "Phone",
    "Mobile",
    "Website",
    "ContactName",
    "ContactTitle",
    "Note",
    "Status",
    "AccountCode",
];

fn slot<'c>(c: &'c mut Client, key: &str) -> Option<&'c mut Option<String>> {
    Some(match key {
        "Tag" => &mut c.tag,
        "Territory" => &mut c.territory,
        "RepresentativeCode" => &mut c.representative_code,
        "StreetAddress" => &mut c.street_address,
        "ZIP" => &mut c.zip,
        "ZIPExt" => &mut c.zip_ext,
        "City" => &mut c.city,
        "State" => &mut c.state,
        "Country" => &mut c.country,
        "Email" => &mut c.email,
        "Phone" => &mut c.phone,
        "Mobile" => &mut c.mobile,
        "Website" => &mut c.website,
        "ContactName" => &mut c.contact_name,
        "ContactTitle" => &mut c.contact_title,
        "Note" => &mut c.note,
        "Status" => &mut c.status,
        "AccountCode" => &mut c.account_code,
        _ => return None,
    })
}

/// One row of a client import, as read (not yet judged).
#[derive(Clone, Debug, Default)]
pub struct ClientRow {
    pub code: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
    pub text: Vec<(&'static str, String)>,
    pub custom_fields: Option<Vec<CustomField>>,
    pub price_lists: Option<Vec<PriceList>>,
}

impl ClientRow {
    pub fn parse(obj: &Map<String, Value>) -> Result<ClientRow, String> {
        let f = Fields::new(obj);
        let mut row = ClientRow {
            code: f.text("Code")?,
            name: f.text("Name")?,
            active: f.boolean("Active")?,
            ..ClientRow::default()
        };
        for key in TEXT {
            if let Some(value) = f.text(key)? {
                row.text.push((key, value));
            }
        }
        if let Some(list) = f.list("CustomFields")? {
            let mut fields = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let obj = item.as_object().ok_or(format!(
                    "CustomFields[{i}] must be an object. Path 'CustomFields[{i}]'."
                ))?;
                let cf = Fields::new(obj);
                fields.push(CustomField {
                    field: cf.text("Field")?.unwrap_or_default(),
                    value: cf.text("Value")?.unwrap_or_default(),
                });
            }
            row.custom_fields = Some(fields);
        }
        if let Some(list) = f.list("PriceLists")? {
            let mut lists = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let obj = item.as_object().ok_or(format!(
                    "PriceLists[{i}] must be an object. Path 'PriceLists[{i}]'."
                ))?;
                let name = Fields::new(obj).text("Name")?.unwrap_or_default();
                lists.push(PriceList { name });
            }
            row.price_lists = Some(lists);
        }
        Ok(row)
    }

    /// The client after this row is applied on top of `existing` (a new one when `None`).
    pub fn merge(&self, existing: Option<&Client>) -> Client {
        let mut c = existing.cloned().unwrap_or_else(|| Client {
            active: true,
            ..Client::default()
        });
        if let Some(code) = &self.code {
            c.code = code.clone();
        }
        if let Some(name) = &self.name {
            c.name = name.clone();
        }
        if let Some(active) = self.active {
            c.active = active;
        }
        for (key, value) in &self.text {
            if let Some(slot) = slot(&mut c, key) {
                *slot = (!value.is_empty()).then(|| value.clone());
            }
        }
        c.representative_name = c
            .representative_code
            .as_deref()
            .and_then(rep_name)
            .map(str::to_string);
        if let Some(fields) = &self.custom_fields {
            c.custom_fields = fields.clone();
        }
        if let Some(lists) = &self.price_lists {
            c.price_lists = Some(lists.clone());
        }
        c
    }
}

pub fn parse_rows(list: &[&Map<String, Value>]) -> Result<Vec<ClientRow>, String> {
    list.iter().map(|obj| ClientRow::parse(obj)).collect()
}

/// Judges and upserts each row, in order.
pub fn apply(rows: Vec<ClientRow>, data: &mut Data, out: &mut Outcome) {
    let mut seen = HashSet::new();
    for row in rows {
        let code = row.code.clone().unwrap_or_default();
        let name = row.name.clone().unwrap_or_default();
        if code.trim().is_empty() {
            out.invalid(&code, &name, "Code is required.");
            continue;
        }
        if code.chars().count() > CODE_MAX {
            out.invalid(&code, &name, "Code must be at most 50 characters long.");
            continue;
        }
        if name.trim().is_empty() {
            out.invalid(&code, &name, "Name is required.");
            continue;
        }
        let email_len = row
            .text
            .iter()
            .find(|(k, _)| *k == "Email")
            .map_or(0, |(_, e)| e.chars().count());
        if email_len > EMAIL_MAX {
            out.invalid(&code, &name, "Email must be at most 128 characters long.");
            continue;
        }
        if !seen.insert(code.clone()) {
            out.warn(
                &code,
                &name,
                "Code appears more than once; the last row wins.",
            );
        }
        let client = row.merge(data.client(&code));
        if let Some(rep) = row.text.iter().find(|(k, _)| *k == "RepresentativeCode")
            && !rep.1.is_empty()
            && rep_name(&rep.1).is_none()
        {
            out.warn(
                &code,
                &name,
                format!("Representative '{}' not found.", rep.1),
            );
        }
        match data.put_client(client).0 {
            Upserted::Inserted => out.inserted += 1,
            Upserted::Updated | Upserted::Unchanged => out.updated += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(v: Value) -> Result<ClientRow, String> {
        ClientRow::parse(v.as_object().unwrap_or(&Map::new()))
    }

    #[test]
    fn reads_like_json_net_and_judges_rows() {
        let r = row(
            json!({"code": 123, "NAME": "Shop", "active": "false", "Zip": "02108",
                           "PriceLists": [], "Email": null}),
        )
        .unwrap_or_default();
        let c = r.merge(None);
        assert_eq!(
            (c.code.as_str(), c.name.as_str(), c.active),
            ("123", "Shop", false)
        );
        assert_eq!(
            (c.zip.as_deref(), c.price_lists),
            (Some("02108"), Some(vec![]))
        );
        assert!(row(json!({"Code": "C", "Name": {"x": 1}})).is_err());
        assert!(row(json!({"Code": "C", "CustomFields": "x"})).is_err());

        let mut data = Data::new(10, 1, 1);
        let mut out = Outcome::default();
        let rows = vec![
            row(json!({"Code": "A", "Name": "a"})).unwrap_or_default(),
            row(json!({"Name": "no code"})).unwrap_or_default(),
            row(json!({"Code": "B"})).unwrap_or_default(),
            row(json!({"Code": "C", "Name": "c", "Email": "x".repeat(129)})).unwrap_or_default(),
            row(json!({"Code": "A", "Name": "a", "City": "Austin"})).unwrap_or_default(),
        ];
        apply(rows, &mut data, &mut out);
        assert_eq!((out.inserted, out.updated, out.invalid), (1, 1, 3));
        assert_eq!(out.errors.len(), 3);
        assert_eq!(out.warnings.len(), 1);
        let a = data.client("A").cloned().unwrap_or_default();
        assert_eq!((a.city.as_deref(), a.time_stamp), (Some("Austin"), 11));
    }
}
