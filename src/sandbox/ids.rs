//! Identifier shapes GHL uses: 20-char Firestore ids for locations, contacts, tasks, notes and
//! events; 24-hex Mongo ids for businesses; uuid-like trace ids.

use rand::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

fn pick(rng: &mut impl Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

pub fn firestore_id(rng: &mut impl Rng) -> String {
    pick(rng, ALNUM, 20)
}

pub fn mongo_id(rng: &mut impl Rng) -> String {
    pick(rng, HEX, 24)
}

pub fn alnum(rng: &mut impl Rng, len: usize) -> String {
    pick(rng, ALNUM, len)
}

pub fn uuid_like(rng: &mut impl Rng) -> String {
    let hex = pick(rng, HEX, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Runtime ids need no determinism, only uniqueness.
pub fn new_id() -> String {
    firestore_id(&mut rand::rng())
}

pub fn trace_id() -> String {
    uuid_like(&mut rand::rng())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let mut rng = rand::rng();
        let id = firestore_id(&mut rng);
        assert_eq!(id.len(), 20);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(mongo_id(&mut rng).len(), 24);
        assert_eq!(trace_id().len(), 36);
    }
}
