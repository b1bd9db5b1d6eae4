use super::*;
use ed25519_dalek::Signer as _;
use rsa::signature::SignatureEncoding as _;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn ed_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

fn rsa_key() -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap()
}

fn verifier(ed: &[&ed25519_dalek::SigningKey], rsa: &[&rsa::RsaPrivateKey]) -> Verifier {
    Verifier::new(
        KeySet {
            ed25519: ed.iter().map(|k| k.verifying_key()).collect(),
            rsa: rsa.iter().map(|k| k.to_public_key()).collect(),
        },
        true,
    )
}

const BODY: &[u8] = br#"{"type":"ContactUpdate","locationId":"L1","id":"C1","webhookId":"w1"}"#;

#[test]
fn ed25519_verifies_over_the_raw_body_and_any_rotated_key_is_enough() {
    let (old, new) = (ed_key(1), ed_key(2));
    let v = verifier(&[&old, &new], &[]);
    let sig = b64(&new.sign(BODY).to_bytes());
    assert_eq!(v.verify(Some(&sig), None, BODY), Ok(Scheme::Ed25519));
    // One byte changed (re-serialised JSON would change more): refused.
    let altered = br#"{"type":"ContactUpdate","locationId":"L1","id":"C1","webhookId":"w2"}"#;
    assert!(matches!(
        v.verify(Some(&sig), None, altered),
        Err(Unverified::Forged {
            header: "X-GHL-Signature",
            ..
        })
    ));
}

#[test]
fn a_present_ghl_signature_alone_decides_with_no_fallback_to_the_legacy_header() {
    let ed = ed_key(1);
    let rsa = rsa_key();
    let v = verifier(&[&ed], &[&rsa]);
    let good_legacy = b64(&rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa.clone())
        .sign(BODY)
        .to_bytes());
    let forged = b64(&ed_key(9).sign(BODY).to_bytes());
    assert!(matches!(
        v.verify(Some(&forged), Some(&good_legacy), BODY),
        Err(Unverified::Forged { .. })
    ));
    assert_eq!(
        v.verify(None, Some(&good_legacy), BODY),
        Ok(Scheme::LegacyRsa)
    );
}

#[test]
fn the_legacy_header_also_verifies_under_an_ed25519_key() {
    let ed = ed_key(3);
    let v = verifier(&[&ed], &[]);
    let sig = b64(&ed.sign(BODY).to_bytes());
    assert_eq!(v.verify(None, Some(&sig), BODY), Ok(Scheme::LegacyEd25519));
}

#[test]
fn unsigned_and_malformed_are_refused_and_disabled_accepts_with_no_check() {
    let v = verifier(&[&ed_key(1)], &[]);
    assert_eq!(v.verify(None, None, BODY), Err(Unverified::Unsigned));
    assert_eq!(
        v.verify(Some("%%%"), None, BODY),
        Err(Unverified::Malformed {
            header: "X-GHL-Signature"
        })
    );
    let message = Unverified::Unsigned.to_string();
    assert!(message.contains("X-GHL-Signature"), "{message}");
    let off = Verifier::new(v.keys.clone(), false);
    assert_eq!(off.verify(None, None, BODY), Ok(Scheme::Unchecked));
}

#[test]
fn ghl_published_keys_are_embedded_and_keys_load_from_files_inline_pem_or_base64() {
    let defaults = KeySet::load(&[], &[], None).unwrap();
    assert_eq!((defaults.ed25519.len(), defaults.rsa.len()), (1, 1));
    use rsa::traits::PublicKeyParts as _;
    assert_eq!(defaults.rsa[0].n().bits(), 4096);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ed.pem"), GHL_ED25519_PEM).unwrap();
    let inline_b64 = "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=".to_string();
    let loaded = KeySet::load(
        &["ed.pem".into(), inline_b64, GHL_ED25519_PEM.into()],
        &[GHL_RSA_PEM.into()],
        Some(dir.path()),
    )
    .unwrap();
    assert_eq!(loaded.ed25519.len(), 3);
    assert!(loaded.ed25519.iter().all(|k| *k == defaults.ed25519[0]));
    let err = KeySet::load(&["missing.pem".into()], &[], Some(dir.path())).unwrap_err();
    assert_eq!((err.list, err.index), ("ed25519_keys", 0));
    assert!(err.to_string().contains("missing.pem"), "{err}");
    let err = KeySet::load(&[], &[GHL_ED25519_PEM.into()], None).unwrap_err();
    assert_eq!(err.list, "rsa_keys");
}

#[test]
fn events_name_their_kind_location_record_and_contact() {
    let contact = WebhookEvent::parse(
        br#"{"type":"ContactTagUpdate","locationId":"L1","id":"C1","webhookId":"w","timestamp":"2025-01-28T14:35:00Z"}"#,
    )
    .unwrap();
    assert_eq!(contact.kind, EventKind::Contact);
    assert_eq!(contact.contact_id.as_deref(), Some("C1"));
    assert_eq!(contact.timestamp_ms, Some(1_738_074_900_000));
    let task = WebhookEvent::parse(
        br#"{"type":"TaskComplete","locationId":"L1","id":"T1","contactId":"C2"}"#,
    )
    .unwrap();
    assert_eq!(
        (
            task.kind,
            task.record_id.as_deref(),
            task.contact_id.as_deref()
        ),
        (EventKind::Task, Some("T1"), Some("C2"))
    );
    // The docs' AppointmentDelete example says "AppointmentCreate"; either way it is nested.
    let appointment = WebhookEvent::parse(
        br#"{"type":"AppointmentCreate","locationId":"L1","appointment":{"id":"A1","contactId":"C3"}}"#,
    )
    .unwrap();
    assert_eq!(
        (
            appointment.kind,
            appointment.record_id.as_deref(),
            appointment.contact_id.as_deref()
        ),
        (EventKind::Appointment, Some("A1"), Some("C3"))
    );
    let delete =
        WebhookEvent::parse(br#"{"type":"ContactDelete","locationId":"L1","id":"C4"}"#).unwrap();
    assert_eq!(delete.kind, EventKind::ContactDelete);
    let other = WebhookEvent::parse(br#"{"type":"OpportunityCreate","id":"O1"}"#).unwrap();
    assert_eq!(other.kind, EventKind::Other);
    let seconds = WebhookEvent::parse(br#"{"type":"NoteCreate","timestamp":1738074900}"#).unwrap();
    assert_eq!(seconds.timestamp_ms, Some(1_738_074_900_000));
}

#[test]
fn unreadable_bodies_say_why() {
    for (body, says) in [
        (&b"<html>"[..], "not JSON"),
        (b"[1]", "not a JSON object"),
        (b"{\"id\":\"C1\"}", "no \"type\""),
        (
            b"{\"type\":\"ContactCreate\",\"timestamp\":\"yesterday\"}",
            "RFC 3339",
        ),
    ] {
        let err = WebhookEvent::parse(body).unwrap_err();
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn the_replay_window_holds_both_ways() {
    assert!(within_window(1_000_000, 1_300_000, 300));
    assert!(!within_window(1_000_000, 1_300_001, 300));
    assert!(!within_window(1_300_001, 1_000_000, 300));
}
