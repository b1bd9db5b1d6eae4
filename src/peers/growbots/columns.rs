//! Growbots' CSV headers and the field names the mapping uses: the connection table's
//! `columns` (prospects) and `company_columns` (companies) map a field to the header of the
//! export at hand, over Growbots' usual headers. A header no entry names keeps its own name.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A prospects export's usual headers, by field.
pub const PROSPECT_COLUMNS: &[(&str, &str)] = &[
    ("email", "Email"),
    ("first_name", "First Name"),
    ("last_name", "Last Name"),
    ("company", "Company"),
    ("job_title", "Job Title"),
    ("phone", "Phone"),
    ("linkedin", "LinkedIn"),
    ("status", "Status"),
    ("city", "City"),
    ("country", "Country"),
];

/// A companies export's usual headers, by field. `name` is the company's key.
pub const COMPANY_COLUMNS: &[(&str, &str)] = &[
    ("name", "Company Name"),
    ("website", "Website"),
    ("industry", "Industry"),
    ("size", "Employees"),
    ("city", "City"),
    ("country", "Country"),
];

/// Field ↔ header, both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// (field, header), the defaults' order, overrides in place, new fields after.
    pairs: Vec<(String, String)>,
}

impl Columns {
    /// The defaults with `overrides` (field → header) over them; a header named for two fields
    /// or an empty one is an error naming the key.
    pub fn new(
        defaults: &[(&str, &str)],
        overrides: &BTreeMap<String, String>,
    ) -> Result<Columns, String> {
        let mut pairs: Vec<(String, String)> = defaults
            .iter()
            .map(|(field, header)| (field.to_string(), header.to_string()))
            .collect();
        for (field, header) in overrides {
            if header.trim().is_empty() || field.trim().is_empty() {
                return Err(format!(
                    "column {field:?} = {header:?}: name the field and its header"
                ));
            }
            match pairs.iter_mut().find(|(f, _)| f == field) {
                Some(pair) => pair.1 = header.trim().to_string(),
                None => pairs.push((field.clone(), header.trim().to_string())),
            }
        }
        for (index, (field, header)) in pairs.iter().enumerate() {
            if let Some((other, _)) = pairs[..index].iter().find(|(_, h)| h == header) {
                return Err(format!(
                    "the header {header:?} is given to both {other:?} and {field:?}; give each field its own column"
                ));
            }
        }
        Ok(Columns { pairs })
    }

    /// The header holding `field`.
    pub fn header<'a>(&'a self, field: &'a str) -> &'a str {
        self.pairs
            .iter()
            .find(|(f, _)| f == field)
            .map_or(field, |(_, header)| header.as_str())
    }

    /// A row's cells (by header) as fields.
    pub fn to_fields(&self, cells: &Map<String, Value>) -> Map<String, Value> {
        cells
            .iter()
            .map(|(header, value)| {
                let field = self
                    .pairs
                    .iter()
                    .find(|(_, h)| h == header)
                    .map_or(header.as_str(), |(field, _)| field.as_str());
                (field.to_string(), value.clone())
            })
            .collect()
    }

    /// Fields as a row's cells (by header).
    pub fn to_cells(&self, fields: &Map<String, Value>) -> Map<String, Value> {
        fields
            .iter()
            .map(|(field, value)| (self.header(field).to_string(), value.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headers_map_both_ways_and_overrides_win() {
        let overrides = BTreeMap::from([("job_title".to_string(), "Title".to_string())]);
        let columns = Columns::new(PROSPECT_COLUMNS, &overrides).unwrap();
        let cells = json!({"Email": "a@b.co", "Title": "CEO", "Industry": "Retail"});
        let fields = columns.to_fields(cells.as_object().unwrap());
        assert_eq!(
            Value::Object(fields.clone()),
            json!({"email": "a@b.co", "job_title": "CEO", "Industry": "Retail"})
        );
        assert_eq!(Value::Object(columns.to_cells(&fields)), cells);
        let clash = BTreeMap::from([("phone".to_string(), "Email".to_string())]);
        let err = Columns::new(PROSPECT_COLUMNS, &clash).unwrap_err();
        assert!(err.contains("\"Email\"") && err.contains("phone"), "{err}");
    }
}
