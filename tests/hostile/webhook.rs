//! Webhook bodies: GHL's deliveries (`WebhookEvent::parse`, what the service's receiver and the
//! engine's inbox read) and the Growbots bridge's events (`growbots::Event::parse`, behind its
//! receiver). A delivery's place is its body and field: each error names the field at fault (or
//! the body and its line:col) and what a valid one holds.

use crate::{Failures, corpus, generated_json, has_position};
use ghlsync::ghl::webhook::WebhookEvent;
use ghlsync::peers::growbots::Event;

/// The error names a field (`"type"`, `` `prospect.email` ``) or the body with a position,
/// and says what is expected.
fn check(failures: &mut Failures, what: &str, message: &str) {
    let names_field = message.contains('"') || message.contains('`');
    let names_body = message.contains("body") && has_position(message);
    failures.check(names_field || names_body, || {
        format!("{what}: the error names no field nor position:\n{message}")
    });
    failures.names_place(what, message, "");
}

#[test]
fn hostile_ghl_webhook_bodies_are_refused_naming_the_field() {
    let (mut checked, mut failures) = (0, Failures::default());
    for (name, body) in corpus("ghl_webhook_body")
        .into_iter()
        .chain(generated_json())
    {
        match WebhookEvent::parse(&body) {
            // A body with a type is an event, whatever else it lacks: the receiver refuses it
            // later for its location or its age. Only these are such bodies.
            Ok(event) => failures.check(matches!(name.as_str(), "duplicate_keys.json"), || {
                format!("{name}: accepted as {event:?}")
            }),
            Err(why) => check(&mut failures, &name, &why),
        }
        checked += 1;
    }
    failures.finish(checked);
}

#[test]
fn hostile_growbots_event_bodies_are_refused_naming_the_field() {
    let (mut checked, mut failures) = (0, Failures::default());
    for (name, body) in corpus("growbots_event_body")
        .into_iter()
        .chain(generated_json())
    {
        match Event::parse(&body) {
            Ok(event) => failures.check(false, || format!("{name}: accepted as {event:?}")),
            Err(why) => check(&mut failures, &name, &why),
        }
        checked += 1;
    }
    failures.finish(checked);
}
