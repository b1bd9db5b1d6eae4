//! Every stored value is one version byte followed by JSON. The byte lets a later release read
//! what an earlier one wrote (migrations branch on it); JSON keeps `ghlsync store export` and a
//! person with `sled` debugging able to read values without this code.

use super::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The encoding version written today.
pub const VALUE_VERSION: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut bytes = Vec::with_capacity(128);
    bytes.push(VALUE_VERSION);
    serde_json::to_writer(&mut bytes, value).map_err(|err| StoreError::Encode {
        detail: err.to_string(),
    })?;
    Ok(bytes)
}

/// Decodes a value; a corrupt or unknown one is an error naming the tree and key, never a panic.
pub fn decode<T: DeserializeOwned>(tree: &str, key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        tree: tree.to_string(),
        key: printable_key(key),
        detail,
    };
    match bytes.split_first() {
        Some((&VALUE_VERSION, body)) => {
            serde_json::from_slice(body).map_err(|err| corrupt(err.to_string()))
        }
        Some((version, _)) => Err(corrupt(format!(
            "value version {version} is not known to this ghlsync (it reads version {VALUE_VERSION}); was the store written by a newer release?"
        ))),
        None => Err(corrupt("empty value".into())),
    }
}

/// Keys are mostly text with big-endian numbers inside; show text as text and the rest as hex.
pub fn printable_key(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(text) if text.chars().all(|c| !c.is_control()) => text.to_string(),
        _ => key.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_and_names_the_key_when_corrupt() {
        let bytes = encode(&vec!["a", "b"]).unwrap();
        assert_eq!(bytes[0], VALUE_VERSION);
        let back: Vec<String> = decode("runs", b"k", &bytes).unwrap();
        assert_eq!(back, vec!["a", "b"]);
        let err = decode::<Vec<String>>("idmap", b"repsly/contact/C1", &[1, b'{']).unwrap_err();
        assert!(
            err.to_string().contains("idmap") && err.to_string().contains("repsly/contact/C1"),
            "{err}"
        );
        let err = decode::<Vec<String>>("idmap", &[0, 0, 1], &[9, b'1']).unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode::<serde_json::Value>("t", b"k", &bytes);
        }
    }
}
