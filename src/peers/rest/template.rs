//! `{{ … }}` placeholders in paths, query parameters and write bodies. The variables are few
//! and fixed: `id`, `parent_id`, `email`, `record` (the record's fields as an object) and
//! `record.<field>` (one field; `record.a.b` reaches into an object). Unknown variables are
//! refused when the file is read, not when a record is written.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Var {
    Id,
    ParentId,
    Email,
    Record,
    Field(Vec<String>),
}

impl Var {
    fn parse(text: &str) -> Result<Var, String> {
        let name = text.trim();
        Ok(match name {
            "id" => Var::Id,
            "parent_id" => Var::ParentId,
            "email" => Var::Email,
            "record" => Var::Record,
            _ => match name.strip_prefix("record.") {
                Some(path) if !path.is_empty() && path.split('.').all(|p| !p.is_empty()) => {
                    Var::Field(path.split('.').map(str::to_string).collect())
                }
                _ => {
                    return Err(format!(
                        "unknown placeholder {{{{ {name} }}}}; expected id, parent_id, email, record or record.<field>"
                    ));
                }
            },
        })
    }

    fn name(&self) -> String {
        match self {
            Var::Id => "id".into(),
            Var::ParentId => "parent_id".into(),
            Var::Email => "email".into(),
            Var::Record => "record".into(),
            Var::Field(path) => format!("record.{}", path.join(".")),
        }
    }
}

/// What placeholders stand for in one request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Vars<'a> {
    pub id: Option<&'a str>,
    pub parent_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub record: Option<&'a Map<String, Value>>,
}

impl Vars<'_> {
    fn value(&self, var: &Var) -> Option<Value> {
        let text = |value: Option<&str>| value.map(|v| Value::String(v.to_string()));
        match var {
            Var::Id => text(self.id),
            Var::ParentId => text(self.parent_id),
            Var::Email => text(self.email),
            Var::Record => self.record.map(|record| Value::Object(record.clone())),
            Var::Field(path) => {
                let mut value = self.record?.get(&path[0])?;
                for key in &path[1..] {
                    value = value.get(key)?;
                }
                (!value.is_null()).then(|| value.clone())
            }
        }
    }
}

/// A value as text in a path or a query: strings as they are, numbers and booleans spelled.
pub(crate) fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Var(Var),
}

/// A string with placeholders.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Text(Vec<Part>);

impl Text {
    pub fn parse(text: &str) -> Result<Text, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Lit(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("{text:?}: a placeholder opened with {{{{ is not closed"))?;
            parts.push(Part::Var(Var::parse(&after[..end])?));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Ok(Text(parts))
    }

    pub fn uses(&self, wanted: impl Fn(&Var) -> bool) -> bool {
        self.0
            .iter()
            .any(|part| matches!(part, Part::Var(var) if wanted(var)))
    }

    /// The text with every placeholder filled; `Err` names the first one with no value.
    pub fn render(&self, vars: &Vars<'_>) -> Result<String, String> {
        self.render_with(vars, |text| text)
    }

    /// Like `render`, each value percent-encoded as one path segment.
    pub fn render_path(&self, vars: &Vars<'_>) -> Result<String, String> {
        self.render_with(vars, |text| crate::peers::http::encode_segment(&text))
    }

    fn render_with(
        &self,
        vars: &Vars<'_>,
        encode: impl Fn(String) -> String,
    ) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Lit(text) => out.push_str(text),
                Part::Var(var) => {
                    let text = vars
                        .value(var)
                        .as_ref()
                        .and_then(value_text)
                        .filter(|text| !text.is_empty())
                        .ok_or_else(|| var.name())?;
                    out.push_str(&encode(text));
                }
            }
        }
        Ok(out)
    }

    fn whole_var(&self) -> Option<&Var> {
        match self.0.as_slice() {
            [Part::Var(var)] => Some(var),
            _ => None,
        }
    }
}

/// A JSON body with placeholders. A string that is one placeholder becomes the value itself
/// (a number stays a number; a field the record lacks leaves its key out); a string mixing text
/// and placeholders becomes text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Template {
    Fixed(Value),
    Whole(Var),
    Text(Text),
    Array(Vec<Template>),
    Object(Vec<(String, Template)>),
}

impl Template {
    pub fn compile(json: &Value) -> Result<Template, String> {
        Ok(match json {
            Value::String(text) => {
                let parsed = Text::parse(text)?;
                match parsed.whole_var() {
                    Some(var) => Template::Whole(var.clone()),
                    None if parsed.uses(|_| true) => Template::Text(parsed),
                    None => Template::Fixed(json.clone()),
                }
            }
            Value::Array(items) => Template::Array(
                items
                    .iter()
                    .map(Template::compile)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(fields) => Template::Object(
                fields
                    .iter()
                    .map(|(key, value)| Ok((key.clone(), Template::compile(value)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => Template::Fixed(other.clone()),
        })
    }

    /// The body for these values; `None` when the whole template is one placeholder with no
    /// value.
    pub fn render(&self, vars: &Vars<'_>) -> Option<Value> {
        match self {
            Template::Fixed(value) => Some(value.clone()),
            Template::Whole(var) => vars.value(var),
            Template::Text(text) => Some(Value::String(
                text.render_with(vars, |text| text)
                    .unwrap_or_else(|_| text.render_lossy(vars)),
            )),
            Template::Array(items) => Some(Value::Array(
                items.iter().filter_map(|item| item.render(vars)).collect(),
            )),
            Template::Object(fields) => Some(Value::Object(
                fields
                    .iter()
                    .filter_map(|(key, value)| Some((key.clone(), value.render(vars)?)))
                    .collect(),
            )),
        }
    }
}

impl Text {
    /// The text as written, placeholders shown (`/contacts/{{ id }}`): how operations are named.
    pub fn label(&self) -> String {
        self.0
            .iter()
            .map(|part| match part {
                Part::Lit(text) => text.clone(),
                Part::Var(var) => format!("{{{{ {} }}}}", var.name()),
            })
            .collect()
    }

    /// Placeholders without a value left empty (text inside a body).
    fn render_lossy(&self, vars: &Vars<'_>) -> String {
        self.0
            .iter()
            .map(|part| match part {
                Part::Lit(text) => text.clone(),
                Part::Var(var) => vars
                    .value(var)
                    .as_ref()
                    .and_then(value_text)
                    .unwrap_or_default(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Map<String, Value> {
        json!({"name": "Ann Lee", "age": 41, "address": {"city": "Austin"}, "empty": null})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn texts_fill_and_encode() {
        let record = record();
        let vars = Vars {
            id: Some("a/b 1"),
            record: Some(&record),
            ..Vars::default()
        };
        let path = Text::parse("/contacts/{{ id }}/x").unwrap();
        assert_eq!(path.render_path(&vars).unwrap(), "/contacts/a%2Fb%201/x");
        let text =
            Text::parse("{{record.name}} ({{ record.age }}) in {{ record.address.city }}").unwrap();
        assert_eq!(text.render(&vars).unwrap(), "Ann Lee (41) in Austin");
        let missing = Text::parse("/x/{{ parent_id }}").unwrap();
        assert_eq!(missing.render_path(&vars).unwrap_err(), "parent_id");
        assert!(
            Text::parse("{{ nope }}")
                .unwrap_err()
                .contains("unknown placeholder")
        );
        assert!(Text::parse("{{ id").unwrap_err().contains("not closed"));
    }

    #[test]
    fn body_templates_keep_types_and_leave_out_missing_fields() {
        let record = record();
        let vars = Vars {
            id: Some("7"),
            record: Some(&record),
            ..Vars::default()
        };
        let template = Template::compile(&json!({
            "contact": {"full_name": "{{ record.name }}", "age": "{{ record.age }}",
                        "gone": "{{ record.empty }}", "note": "id {{ id }}", "kind": "person",
                        "all": "{{ record }}"}
        }))
        .unwrap();
        let body = template.render(&vars).unwrap();
        assert_eq!(body["contact"]["full_name"], "Ann Lee");
        assert_eq!(body["contact"]["age"], 41);
        assert!(body["contact"].get("gone").is_none());
        assert_eq!(body["contact"]["note"], "id 7");
        assert_eq!(body["contact"]["kind"], "person");
        assert_eq!(body["contact"]["all"]["address"]["city"], "Austin");
    }
}
