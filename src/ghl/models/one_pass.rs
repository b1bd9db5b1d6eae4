//! One-pass reading of read models that keep unknown fields in `extra`.
//!
//! `#[serde(flatten)]` on `extra` makes serde buffer the whole object as generic content before
//! it fills a single field, then walk that buffer again: the contact list of an import (10,000
//! contacts) and every upsert answer paid it. [`read_model!`] reads each key once, straight into
//! its field or, unknown, into `extra`. Writing stays derived.

use serde::de::{Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;

/// An object key, borrowed from the input when it holds no escapes.
pub(super) struct Key<'de>(pub Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_string())))
            }
            fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// `impl Deserialize` for a read model: `"jsonName" => field` for each declared field (as its
/// derived `Serialize` names it); every other key goes to `extra`. Fields start from `Default`,
/// so a missing key reads as `#[serde(default)]` would; a value of the wrong type is an error
/// naming what was expected, as with the derive.
macro_rules! read_model {
    ($model:ident, $expecting:literal, { $($key:literal => $field:ident),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $model {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ModelVisitor;
                impl<'de> serde::de::Visitor<'de> for ModelVisitor {
                    type Value = $model;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$model, A::Error> {
                        let mut model = $model::default();
                        while let Some($crate::ghl::models::one_pass::Key(key)) = map.next_key()? {
                            match key.as_ref() {
                                $($key => model.$field = map.next_value()?,)*
                                _ => {
                                    let value = map.next_value()?;
                                    model.extra.insert(key.into_owned(), value);
                                }
                            }
                        }
                        Ok(model)
                    }
                }
                deserializer.deserialize_map(ModelVisitor)
            }
        }
    };
}
pub(super) use read_model;
