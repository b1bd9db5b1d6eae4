//! `POST /contacts/search` filters: `{field, operator, value}` and `{group: "AND"|"OR", filters}`.
//! The search body is undocumented in the spec; the sandbox supports the subset ghlsync needs and
//! answers 422 for the rest rather than silently matching everything.

use serde_json::Value;

use crate::ghl::models::Contact;
use crate::sandbox::store::phone_digits;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field {
    Email,
    Phone,
    FirstName,
    LastName,
    CompanyName,
    BusinessId,
    Tags,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Eq,
    Contains,
}

#[derive(Debug)]
pub enum Filter {
    Group {
        all: bool,
        filters: Vec<Filter>,
    },
    Cond {
        field: Field,
        op: Op,
        values: Vec<String>,
    },
}

impl Filter {
    pub fn parse(value: &Value) -> Result<Filter, String> {
        if let Some(group) = value.get("group") {
            let all = match group.as_str().map(str::to_ascii_uppercase).as_deref() {
                Some("AND") => true,
                Some("OR") => false,
                _ => return Err(format!("filter group must be AND or OR: {value}")),
            };
            let filters = value
                .get("filters")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("filter group needs a filters array: {value}"))?
                .iter()
                .map(Filter::parse)
                .collect::<Result<_, _>>()?;
            return Ok(Filter::Group { all, filters });
        }
        let field = match value.get("field").and_then(Value::as_str) {
            Some("email") => Field::Email,
            Some("phone") => Field::Phone,
            Some("firstName" | "firstNameLowerCase") => Field::FirstName,
            Some("lastName" | "lastNameLowerCase") => Field::LastName,
            Some("companyName") => Field::CompanyName,
            Some("businessId") => Field::BusinessId,
            Some("tags") => Field::Tags,
            _ => return Err(format!("filter field is not supported: {value}")),
        };
        let op = match value.get("operator").and_then(Value::as_str) {
            Some("eq") => Op::Eq,
            Some("contains") => Op::Contains,
            _ => return Err(format!("filter operator must be eq or contains: {value}")),
        };
        let values = match value.get("value") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => {
                return Err(format!(
                    "filter value must be a string or an array of strings: {value}"
                ));
            }
        };
        Ok(Filter::Cond { field, op, values })
    }

    pub fn matches(&self, contact: &Contact) -> bool {
        match self {
            Filter::Group { all: true, filters } => filters.iter().all(|f| f.matches(contact)),
            Filter::Group {
                all: false,
                filters,
            } => filters.iter().any(|f| f.matches(contact)),
            Filter::Cond { field, op, values } => {
                values.iter().any(|v| cond(contact, *field, *op, v))
            }
        }
    }
}

fn text(op: Op, have: &str, want: &str) -> bool {
    let (have, want) = (have.to_lowercase(), want.to_lowercase());
    match op {
        Op::Eq => have == want,
        Op::Contains => have.contains(&want),
    }
}

fn cond(contact: &Contact, field: Field, op: Op, want: &str) -> bool {
    let one = |have: &Option<String>| have.as_deref().is_some_and(|h| text(op, h, want));
    match field {
        Field::Email => one(&contact.email),
        Field::FirstName => one(&contact.first_name),
        Field::LastName => one(&contact.last_name),
        Field::CompanyName => one(&contact.company_name),
        Field::BusinessId => one(&contact.business_id),
        Field::Tags => contact.tags.iter().any(|t| text(op, t, want)),
        Field::Phone => contact.phone.as_deref().is_some_and(|p| {
            let (have, want) = (phone_digits(p), phone_digits(want));
            !want.is_empty()
                && if op == Op::Eq {
                    have == want
                } else {
                    have.contains(&want)
                }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_match_and_reject() {
        let contact = Contact {
            email: Some("Ada@Example.com".into()),
            phone: Some("+1 (555) 010-2233".into()),
            tags: vec!["vip".into()],
            ..Contact::default()
        };
        let f = |v: Value| Filter::parse(&v).map(|f| f.matches(&contact));
        assert_eq!(
            f(json!({"field":"email","operator":"eq","value":"ada@example.com"})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"field":"phone","operator":"eq","value":"+15550102233"})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"field":"tags","operator":"eq","value":["x","VIP"]})),
            Ok(true)
        );
        assert_eq!(
            f(json!({"group":"AND","filters":[{"field":"firstName","operator":"eq","value":"x"}]})),
            Ok(false)
        );
        assert!(f(json!({"field":"dateAdded","operator":"eq","value":"x"})).is_err());
        assert!(f(json!({"field":"email","operator":"gt","value":"x"})).is_err());
    }
}
