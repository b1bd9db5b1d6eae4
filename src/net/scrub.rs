//! Secrets kept out of what a failure says: response excerpts and messages are scrubbed of the
//! credentials a client knows and of anything that looks like a token.

/// A short, token-free excerpt of a response body for error messages.
pub fn excerpt(body: &[u8], known_secrets: &[&str]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut scrubbed = text.into_owned();
    for secret in known_secrets.iter().filter(|s| s.len() >= 8) {
        scrubbed = scrubbed.replace(secret, "[redacted]");
    }
    let scrubbed = scrub_token_like(&scrubbed);
    let mut short: String = scrubbed.chars().take(200).collect();
    if scrubbed.chars().count() > 200 {
        short.pop();
        short.push('…');
    }
    short
}

/// Replace words that look like credentials: whatever follows "Bearer", JWTs (`eyJ…`), PITs
/// (`pit-…`) and long unbroken runs of token characters.
pub fn scrub_token_like(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut previous_word = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let word_and_after = &rest[start..];
        let end = word_and_after
            .find(|c: char| !is_token_char(c))
            .unwrap_or(word_and_after.len());
        let word = &word_and_after[..end];
        let looks_secret = previous_word.eq_ignore_ascii_case("bearer")
            || (word.starts_with("eyJ") && word.len() > 20)
            || word.to_ascii_lowercase().starts_with("pit-")
            || word.len() >= 40;
        out.push_str(if looks_secret { "[redacted]" } else { word });
        previous_word = word.to_string();
        rest = &word_and_after[end..];
    }
    out.push_str(rest);
    out
}

/// reqwest's error chain, said without the URL (a query string may carry credentials) and
/// scrubbed of token-like words; the caller scrubs its own known secrets on top.
pub fn describe_reqwest_error(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() || err.is_decode() {
        "connection failed while reading the answer"
    } else {
        "request failed"
    };
    let mut detail = kind.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    scrub_token_like(&detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_short_and_scrubbed() {
        let body = format!(
            "<html>Authorization: Bearer abc.def.ghi token eyJhbGciOiJIUzI1NiJ9.payload.sig pit-1234-5678 my-secret-value {}</html>",
            "x".repeat(400)
        );
        let text = excerpt(body.as_bytes(), &["my-secret-value"]);
        assert!(text.chars().count() <= 200);
        for leaked in ["abc.def.ghi", "eyJhbGci", "pit-1234", "my-secret-value"] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        assert!(
            text.starts_with("<html>Authorization: Bearer [redacted] token [redacted]"),
            "{text}"
        );
    }
}
