//! Text transforms that need more than one line: names, title case and the email check.

/// Which half of a full name `name_part` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NamePart {
    First,
    Last,
}

/// Splits a full name. `"Smith, John"` is read as last-comma-first (how many CRMs export it);
/// otherwise the first word is the first name and the rest the last name, so "Mary Ann Smith"
/// gives "Mary" / "Ann Smith": the split GHL itself makes when it is given only `name`.
pub fn name_part(full: &str, part: NamePart) -> String {
    let (first, last) = match full.split_once(',') {
        Some((last, first)) if !last.trim().is_empty() && !first.trim().is_empty() => {
            (squash(first), squash(last))
        }
        _ => {
            let squashed = squash(full);
            match squashed.split_once(' ') {
                Some((first, last)) => (first.to_string(), last.to_string()),
                None => (squashed, String::new()),
            }
        }
    };
    match part {
        NamePart::First => first,
        NamePart::Last => last,
    }
}

/// Trims and collapses inner runs of whitespace to one space.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "jOHN o'neil-SMITH" → "John O'neil-Smith": upper-case after whitespace and hyphens only, so
/// apostrophes inside names are left alone.
pub fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for ch in text.chars() {
        if start {
            out.extend(ch.to_uppercase());
        } else {
            out.extend(ch.to_lowercase());
        }
        start = ch.is_whitespace() || ch == '-';
    }
    out
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain without empty labels,
/// no whitespace. It catches what actually turns up in CRMs ("bob@", "bob at x.com", "a@b") and
/// what GHL rejects with a 422; it is not RFC 5322.
pub fn is_valid_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && labels.len() >= 2
        && labels
            .iter()
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

/// Cuts `text` to at most `max` characters, never inside a character.
pub fn truncate_chars(text: &str, max: usize) -> Option<String> {
    text.char_indices()
        .nth(max)
        .map(|(byte, _)| text[..byte].to_string())
}
