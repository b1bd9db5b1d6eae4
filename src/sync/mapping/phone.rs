//! Phone numbers to E.164. Invalid input becomes a problem message, never a panic: the text comes
//! from people typing into a CRM.

use std::str::FromStr;

use phonenumber::Mode;
use phonenumber::country::Id;

/// Longest input worth handing to the parser; real numbers with an extension are far shorter,
/// and this keeps pathological strings away from the parser's regexes.
const MAX_INPUT: usize = 64;

/// Loads the phone metadata now, with the mapping that needs it, rather than inside the first
/// record's sync: the loader compiles every pattern of every region, which is setup work, not a record's.
pub(super) fn load_metadata() {
    let _loaded: &phonenumber::metadata::Database = &phonenumber::metadata::DATABASE;
}

/// True when `region` is an ISO 3166 region the phone metadata knows (`US`, `GB`, …).
pub fn is_known_region(region: &str) -> bool {
    Id::from_str(region).is_ok()
}

/// `"(555) 010-2233"` with region `US` → `"+15550102233"`.
///
/// A number whose length fits its country is accepted even when the metadata says no such
/// number is assigned: fictional ranges (the US 555-01xx) and new ranges are common in CRM data,
/// and refusing them would drop real contacts' phones. Wrong lengths and non-numbers are refused.
pub fn to_e164(text: &str, region: Option<&str>) -> Result<String, String> {
    let text = text.trim();
    let expected = "expected a phone number such as +1 555 010 2233 or, with the default region, (555) 010-2233";
    if text.chars().count() > MAX_INPUT {
        return Err(format!(
            "not a phone number ({} characters); {expected}",
            text.chars().count()
        ));
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if digits < 4 {
        return Err(format!("not a phone number: {text:?}; {expected}"));
    }
    if let Some(e164) = north_american(text, region) {
        return Ok(e164);
    }
    parse(text, region)
}

/// The common case without the parser: a North American number (`+1`, or the US or Canada as
/// the default region) written with digits and the usual separators only. The parser runs
/// dozens of regexes per number, a twentieth of a sync's CPU; for these inputs it gives exactly
/// this (a property test in `mapping/tests/props.rs` holds the two together), and every other
/// input still goes to it.
fn north_american(text: &str, region: Option<&str>) -> Option<String> {
    let mut digits = String::with_capacity(11);
    for (at, c) in text.char_indices() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            '+' if at == 0 => {}
            _ => return None,
        }
    }
    let in_the_region = matches!(region, Some("US" | "CA"));
    // After `+`, the parser reads the digits up to the first separator as the country code, so
    // `+1415-555-0123` is refused: only `+1` followed by a separator, or by the number unbroken,
    // is certainly read as +1.
    if let Some(rest) = text.strip_prefix("+1") {
        let unbroken = rest.bytes().all(|b| b.is_ascii_digit());
        if !unbroken && !rest.starts_with([' ', '-', '.', '(']) {
            return None;
        }
    }
    let national = match (text.starts_with('+'), digits.len()) {
        (true, 11) if digits.starts_with('1') => &digits[1..],
        (false, 11) if in_the_region && digits.starts_with('1') => &digits[1..],
        (false, 10) if in_the_region => &digits[..],
        _ => return None,
    };
    // Area codes start 2–9; a leading 0 or 1 is read as a prefix by the parser.
    if !matches!(national.as_bytes().first(), Some(b'2'..=b'9')) {
        return None;
    }
    Some(format!("+1{national}"))
}

/// `to_e164` through the phone metadata's parser.
pub(super) fn parse(text: &str, region: Option<&str>) -> Result<String, String> {
    let expected = "expected a phone number such as +1 555 010 2233 or, with the default region, (555) 010-2233";
    let country = region.and_then(|r| Id::from_str(r).ok());
    let number = phonenumber::parse(country, text).map_err(|err| {
        let hint = if country.is_none() && !text.starts_with('+') {
            "; no country code and no default_region to assume one"
        } else {
            ""
        };
        format!("cannot read phone number {text:?} ({err}){hint}; {expected}")
    })?;
    // The length check first: `is_valid` tries the patterns of every region sharing the
    // country code (two dozen for +1), more regexes than the parser's cache of 100 holds, so
    // with mixed input each call compiles some again (40 µs a number instead of 3).
    if has_possible_length(&number) || phonenumber::is_valid(&number) {
        Ok(number.format().mode(Mode::E164).to_string())
    } else {
        Err(format!(
            "phone number {text:?} has the wrong number of digits for country code +{}; {expected}",
            number.code().value()
        ))
    }
}

fn has_possible_length(number: &phonenumber::PhoneNumber) -> bool {
    let national = number.national().to_string().len();
    let Ok(national) = u16::try_from(national) else {
        return false;
    };
    phonenumber::metadata::DATABASE
        .by_code(&number.code().value())
        .into_iter()
        .flatten()
        .any(|meta| {
            // The general descriptor's lengths are often left empty in the metadata; the per-type
            // descriptors then carry them.
            let d = meta.descriptors();
            [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.voip(),
                d.personal_number(),
                d.uan(),
            ]
            .into_iter()
            .flatten()
            .any(|desc| desc.possible_length().contains(&national))
        })
}

#[cfg(test)]
mod tests {
    use super::north_american;

    #[test]
    fn the_usual_north_american_formats_skip_the_parser_and_the_rest_do_not() {
        for (text, region) in [
            ("(415) 555-0123", Some("US")),
            ("415-555-0123", Some("US")),
            ("415.555.0123", Some("CA")),
            ("1 415 555 0123", Some("US")),
            ("+1 415 555 0123", None),
            ("+14155550123", Some("GB")),
        ] {
            assert_eq!(
                north_american(text, region).as_deref(),
                Some("+14155550123"),
                "{text}"
            );
        }
        for (text, region) in [
            ("+1415-555-0123", None), // the parser refuses it: so must we
            ("(415) 555-0123", None), // no region to assume +1
            ("(415) 555-0123", Some("GB")),
            ("+44 20 7946 0958", None),       // another country
            ("415-555-0123 x12", Some("US")), // an extension
            ("(015) 555-0123", Some("US")),   // not an area code
        ] {
            assert_eq!(north_american(text, region), None, "{text}");
        }
    }
}
