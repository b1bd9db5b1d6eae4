//! Phone numbers to E.164. Invalid input becomes a problem message, never a panic: the text comes
//! from people typing into a CRM.

use std::str::FromStr;

use phonenumber::Mode;
use phonenumber::country::Id;

/// Longest input worth handing to the parser; real numbers with an extension are far shorter,
/// and this keeps pathological strings away from the parser's regexes.
const MAX_INPUT: usize = 64;

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
    let country = region.and_then(|r| Id::from_str(r).ok());
    let number = phonenumber::parse(country, text).map_err(|err| {
        let hint = if country.is_none() && !text.starts_with('+') {
            "; no country code and no default_region to assume one"
        } else {
            ""
        };
        format!("cannot read phone number {text:?} ({err}){hint}; {expected}")
    })?;
    if phonenumber::is_valid(&number) || has_possible_length(&number) {
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
