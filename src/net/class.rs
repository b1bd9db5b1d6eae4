//! What a caller does about a failed call, for every HTTP client (GHL's and each peer's): the
//! one classification the retry ladder, the failed queue, reason codes and exit codes share.

/// What the caller should do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// 429 after the retry budget, or the daily quota is (nearly) used up: wait.
    RateLimited,
    /// 5xx or a network failure on an idempotent call: retry later.
    Transient,
    /// A create whose outcome is unknown: look the record up before retrying.
    Ambiguous,
    /// Invalid or expired token, refresh refused: re-authorise.
    Auth,
    /// Missing scope, wrong location, bad settings: fix the app or the config.
    ScopeOrConfig,
    /// GHL refused the data (400/422), or a body was refused locally.
    Validation,
    /// 404: the record is gone.
    NotFound,
    /// The answer could not be understood.
    Decode,
}

impl ErrorClass {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Transient => "transient",
            ErrorClass::Ambiguous => "ambiguous",
            ErrorClass::Auth => "auth",
            ErrorClass::ScopeOrConfig => "scope_or_config",
            ErrorClass::Validation => "validation",
            ErrorClass::NotFound => "not_found",
            ErrorClass::Decode => "decode",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_snake_case() {
        assert_eq!(ErrorClass::ScopeOrConfig.as_str(), "scope_or_config");
        assert_eq!(
            serde_json::to_string(&ErrorClass::RateLimited).unwrap(),
            "\"rate_limited\""
        );
    }
}
