//! Duplicates without a reference: records sharing a key, and one record's children sharing an
//! identity, beyond what a baseline (usually the seed) already held.
//!
//! Two allowances keep the seed's deliberate dirt from reading as the sync's duplicates:
//! - **Either side's seed groups.** The seed enters some people twice (GHL contacts whose
//!   emails differ in case; both copies often have a Repsly client), so a key may be shared on
//!   one side by as many records as the baseline held on *either* side.
//! - **The peer's own repeats.** Repsly may hold two equal notes for a client, or a schedule
//!   with two equal tasks; their GHL copies are equal too. A GHL child identity may repeat as
//!   often as the linked Repsly records repeat its text, and the other way round. The texts
//!   follow the built-in mapping: a note's title and first line (Repsly: `RepresentativeName`
//!   and `Note`), a task's title (`TaskDescription`), an appointment's title (`VisitNote`); with
//!   another mapping the allowance finds nothing and the check only gets stricter. Records are
//!   linked when they share an email or a phone, or when a Repsly `Code` is the GHL id.
//!
//! Inactive Repsly clients are deleted ones: they do not count in a group (a GHL contact whose
//! Repsly twin was deactivated gets a new client, as the delete policy says).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::canon::{email_key, first_line, group_by, instant, of, phone_key, rows, str_of};

/// A child's kind, by its GHL name (a Repsly schedule is an appointment, its tasks tasks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Task,
    Note,
    Appointment,
}

#[derive(Clone, Debug)]
pub struct Child {
    /// What makes two children the same one: `task "Call" due 2030-…`.
    pub identity: String,
    pub kind: Kind,
    /// What the other side's copy would share with it (see the module docs).
    pub text: String,
}

/// The keys of one GHL contact or Repsly client.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    /// Its id on its side (GHL id, Repsly `Code`): how the baseline's record is found.
    pub owner: String,
    /// How a person reads it in a report: id, name, email, phone.
    pub label: String,
    pub active: bool,
    pub emails: BTreeSet<String>,
    pub phones: BTreeSet<String>,
    /// Its children that must not repeat (GHL: all; Repsly: schedules).
    pub children: Vec<Child>,
    /// Every child text the other side may copy: (kind, text).
    pub texts: Vec<(Kind, String)>,
}

fn text(s: &str) -> String {
    first_line(s).to_string()
}

pub fn ghl(ghl: &Value) -> Vec<Keys> {
    let (tasks, notes, appts) = (
        group_by(rows(ghl, "tasks"), "contactId"),
        group_by(rows(ghl, "notes"), "contactId"),
        group_by(rows(ghl, "appointments"), "contactId"),
    );
    let mut out = Vec::new();
    for c in rows(ghl, "contacts") {
        let id = str_of(c, "id");
        let mut children: Vec<Child> = of(&tasks, id)
            .iter()
            .map(|t| Child {
                identity: format!(
                    "task {:?} due {}",
                    str_of(t, "title"),
                    instant(str_of(t, "dueDate"))
                ),
                kind: Kind::Task,
                text: text(str_of(t, "title")),
            })
            .collect();
        children.extend(of(&notes, id).iter().map(|n| {
            let (title, line) = (str_of(n, "title"), text(str_of(n, "body")));
            Child {
                identity: format!("note {title:?} / {line:?}"),
                kind: Kind::Note,
                text: format!("{title} / {line}"),
            }
        }));
        children.extend(of(&appts, id).iter().map(|a| {
            let (calendar, start) = (str_of(a, "calendarId"), instant(str_of(a, "startTime")));
            Child {
                identity: format!("appointment {calendar} at {start} {:?}", str_of(a, "title")),
                kind: Kind::Appointment,
                text: text(str_of(a, "title")),
            }
        }));
        let texts = children.iter().map(|c| (c.kind, c.text.clone())).collect();
        let (email, phone) = (str_of(c, "email"), str_of(c, "phone"));
        out.push(Keys {
            owner: id.to_string(),
            label: format!("{id} {:?} <{email}> {phone}", str_of(c, "name")),
            active: true,
            emails: email_key(email).into_iter().collect(),
            phones: phone_key(phone).into_iter().collect(),
            children,
            texts,
        });
    }
    out
}

pub fn repsly(repsly: &Value) -> Vec<Keys> {
    let (notes, schedules) = (
        group_by(rows(repsly, "notes"), "ClientCode"),
        group_by(rows(repsly, "schedules"), "ClientCode"),
    );
    let mut out = Vec::new();
    for c in rows(repsly, "clients") {
        let code = str_of(c, "Code");
        let mut texts: Vec<(Kind, String)> = of(&notes, code)
            .iter()
            .map(|n| {
                let rep = str_of(n, "RepresentativeName").trim();
                (Kind::Note, format!("{rep} / {}", text(str_of(n, "Note"))))
            })
            .collect();
        let mut children = Vec::new();
        for s in of(&schedules, code) {
            let visit_note = text(str_of(s, "VisitNote"));
            let (day, time) = (str_of(s, "ScheduledDate"), str_of(s, "ScheduledTime"));
            children.push(Child {
                identity: format!("schedule {day} {time} {visit_note:?}"),
                kind: Kind::Appointment,
                text: visit_note.clone(),
            });
            texts.push((Kind::Appointment, visit_note));
            for t in rows(s, "Tasks") {
                texts.push((Kind::Task, text(str_of(t, "TaskDescription"))));
            }
        }
        let email = str_of(c, "Email");
        out.push(Keys {
            owner: code.to_string(),
            label: format!("{code} {:?} <{email}>", str_of(c, "Name")),
            active: c["Active"] != false,
            emails: email_key(email).into_iter().collect(),
            phones: ["Phone", "Mobile"]
                .iter()
                .filter_map(|k| phone_key(str_of(c, k)))
                .collect(),
            children,
            texts,
        });
    }
    out
}

/// One state's keys, both sides.
#[derive(Clone, Debug, Default)]
pub struct Sides {
    pub ghl: Vec<Keys>,
    pub repsly: Vec<Keys>,
}

/// Every duplicate of `now` beyond `baseline`'s (see the module docs), as report lines.
pub fn duplicates(now: &Sides, baseline: &Sides) -> Vec<String> {
    let mut out = Vec::new();
    let sides = [
        (
            "GHL contacts",
            &now.ghl,
            &baseline.ghl,
            &baseline.repsly,
            &now.repsly,
        ),
        (
            "Repsly clients",
            &now.repsly,
            &baseline.repsly,
            &baseline.ghl,
            &now.ghl,
        ),
    ];
    for (side, keys, before, before_other, other) in sides {
        shared(
            side,
            "email",
            keys,
            [before, before_other],
            |k| &k.emails,
            &mut out,
        );
        shared(
            side,
            "phone",
            keys,
            [before, before_other],
            |k| &k.phones,
            &mut out,
        );
        repeated_children(side, keys, before, other, &mut out);
    }
    out
}

/// Active records per value of `key`.
fn groups<'a>(
    keys: &'a [Keys],
    key: &impl Fn(&Keys) -> &BTreeSet<String>,
) -> BTreeMap<&'a str, Vec<&'a Keys>> {
    let mut out: BTreeMap<&str, Vec<&Keys>> = BTreeMap::new();
    for k in keys.iter().filter(|k| k.active) {
        for value in key(k) {
            out.entry(value.as_str()).or_default().push(k);
        }
    }
    out
}

fn shared(
    side: &str,
    what: &str,
    now: &[Keys],
    baselines: [&[Keys]; 2],
    key: impl Fn(&Keys) -> &BTreeSet<String>,
    out: &mut Vec<String>,
) {
    let before = baselines.map(|b| groups(b, &key));
    for (value, members) in groups(now, &key) {
        let had = before
            .iter()
            .map(|g| g.get(value).map_or(0, Vec::len))
            .max()
            .unwrap_or(0);
        if members.len() > 1 && members.len() > had {
            let labels: Vec<&str> = members.iter().map(|k| k.label.as_str()).collect();
            out.push(format!(
                "{side} sharing {what} {value}: {} (the baseline had {had} on either side): {}",
                members.len(),
                labels.join(" | ")
            ));
        }
    }
}

/// Records of `other` linked to `k`: a shared email or phone, or a Code that is the GHL id.
fn linked<'a>(k: &Keys, other: &'a [Keys]) -> Vec<&'a Keys> {
    let mut seen = HashSet::new();
    other
        .iter()
        .filter(|o| {
            o.owner == k.owner
                || !o.emails.is_disjoint(&k.emails)
                || !o.phones.is_disjoint(&k.phones)
        })
        .filter(|o| seen.insert(o.owner.as_str()))
        .collect()
}

fn repeated_children(
    side: &str,
    now: &[Keys],
    baseline: &[Keys],
    other: &[Keys],
    out: &mut Vec<String>,
) {
    let before: HashMap<&str, &Keys> = baseline.iter().map(|k| (k.owner.as_str(), k)).collect();
    for k in now {
        let mut counts: BTreeMap<&str, (usize, &Child)> = BTreeMap::new();
        for child in &k.children {
            counts.entry(&child.identity).or_insert((0, child)).0 += 1;
        }
        let repeated: Vec<_> = counts.into_iter().filter(|(_, (n, _))| *n > 1).collect();
        if repeated.is_empty() {
            continue;
        }
        let was = |identity: &str| {
            before.get(k.owner.as_str()).map_or(0, |b| {
                b.children.iter().filter(|c| c.identity == identity).count()
            })
        };
        let links = linked(k, other);
        for (identity, (n, child)) in repeated {
            let mirrored: usize = links
                .iter()
                .map(|o| {
                    let same =
                        |(kind, text): &&(Kind, String)| *kind == child.kind && *text == child.text;
                    o.texts.iter().filter(same).count()
                })
                .sum();
            let allowed = was(identity).max(mirrored);
            if n > allowed {
                out.push(format!(
                    "{side}: {} holds {n} × {identity} (the baseline had {}, the other side {mirrored})",
                    k.label,
                    was(identity)
                ));
            }
        }
    }
}
