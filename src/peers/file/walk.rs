//! Walking the inbox: one readable file per page, the pages handed out and not committed yet
//! (a later page of the walk skips their files; a dry run's walk ends there), and settling a
//! committed page — its records into the export, its file into `done/`.

use std::collections::{HashMap, HashSet};

use super::inbox;
use super::parse::{self, FileFormat, Rejection};
use super::{FilePeer, State};
use crate::peers::{ChangePage, PeerError, PeerRecord};

/// The pages handed out since the walk began and not committed yet.
#[derive(Default)]
pub(super) struct Walk {
    handed: HashMap<String, Handed>,
    /// Files handed out in this walk: a later page of it does not read them again.
    read: HashSet<String>,
}

struct Handed {
    /// The page's place in the walk: a later page's record is the newer.
    seq: usize,
    name: String,
    hash: String,
    records: Vec<PeerRecord>,
    /// Ids written to the export since the page was handed out: there the export is newer.
    written: HashSet<String>,
}

impl Walk {
    /// The record `id` as the latest page handed out and not committed holds it, unless the
    /// export got a newer write of it since (a merge of both sides' changes).
    pub(super) fn pending(&self, id: &str) -> Option<PeerRecord> {
        let (page, record) = self
            .handed
            .values()
            .filter_map(|page| {
                let record = page.records.iter().rev().find(|record| record.id == id)?;
                Some((page, record))
            })
            .max_by_key(|(page, _)| page.seq)?;
        (!page.written.contains(id)).then(|| record.clone())
    }

    /// `id` was written to the export: the pages in hand hold an older state of it.
    pub(super) fn note_written(&mut self, id: &str) {
        for page in self.handed.values_mut() {
            if page.records.iter().any(|record| record.id == id) {
                page.written.insert(id.to_string());
            }
        }
    }
}

impl FilePeer {
    /// The next readable inbox file of the walk, as a page; rejected files are moved aside.
    fn next_page(&self, state: &mut State) -> Result<ChangePage, PeerError> {
        let inbox = &self.connection.inbox;
        let operation = "read inbox";
        let waiting = inbox::waiting(inbox).map_err(|err| self.io_error(operation, inbox, &err))?;
        let left: Vec<&String> = waiting
            .iter()
            .filter(|name| !state.walk.read.contains(*name))
            .collect();
        for (index, name) in left.iter().enumerate() {
            let path = inbox.join(name);
            let Some(read) = inbox::read(&path, self.limits.file_bytes)
                .map_err(|err| self.io_error(operation, &path, &err))?
            else {
                continue;
            };
            let parsed = read.and_then(|bytes| {
                let records = self.records_of(name, &bytes)?;
                Ok((records, inbox::content_hash(&bytes)))
            });
            let (records, hash) = match parsed {
                Ok(page) => page,
                Err(why) => {
                    self.reject(name, &why)?;
                    continue;
                }
            };
            let cursor = inbox::cursor(name, &hash);
            let seq = state.walk.read.len();
            state.walk.read.insert(name.to_string());
            state.walk.handed.insert(
                cursor.clone(),
                Handed {
                    seq,
                    name: name.to_string(),
                    hash,
                    records: records.clone(),
                    written: HashSet::new(),
                },
            );
            return Ok(ChangePage {
                records,
                next_cursor: Some(cursor),
                done: index + 1 == left.len(),
            });
        }
        Ok(ChangePage {
            records: Vec::new(),
            next_cursor: None,
            done: true,
        })
    }

    fn records_of(&self, name: &str, bytes: &[u8]) -> Result<Vec<PeerRecord>, Rejection> {
        let format = FileFormat::of_name(name).unwrap_or(self.connection.format);
        let rows = parse::parse(bytes, format, self.delimiter, &self.limits)?;
        let shape = self.shape();
        rows.into_iter()
            .map(|row| shape.record(name, format, row))
            .collect()
    }

    fn reject(&self, name: &str, why: &Rejection) -> Result<(), PeerError> {
        let inbox = &self.connection.inbox;
        let moved = inbox::reject(inbox, name, why)
            .map_err(|err| self.io_error("reject inbox file", &inbox.join(name), &err))?;
        tracing::warn!(
            peer = %self.name,
            file = %name,
            moved_to = %moved.display(),
            "inbox file rejected: {}",
            why.inline(name)
        );
        Ok(())
    }

    /// A committed page: its records join the export, then its file moves to `done/` — if the
    /// inbox still holds that very content (a file dropped again under the same name is new).
    fn settle(
        &self,
        state: &mut State,
        name: &str,
        hash: &str,
        records: Option<Vec<PeerRecord>>,
    ) -> Result<(), PeerError> {
        let inbox = &self.connection.inbox;
        let path = inbox.join(name);
        let operation = "settle inbox file";
        let Some(read) = inbox::read(&path, self.limits.file_bytes)
            .map_err(|err| self.io_error(operation, &path, &err))?
        else {
            return Ok(());
        };
        let bytes = match read {
            Ok(bytes) if inbox::content_hash(&bytes) == hash => bytes,
            _ => return Ok(()),
        };
        let records = match records {
            Some(records) => records,
            None => match self.records_of(name, &bytes) {
                Ok(records) => records,
                Err(why) => return self.reject(name, &why),
            },
        };
        if !records.is_empty() {
            let layout = self.layout();
            let book = self.export(state)?;
            for record in &records {
                book.upsert(&record.id, &record.fields, &layout);
            }
            if let Err(err) = book.save(&self.connection.export, &layout) {
                state.drop_unsaved();
                return Err(self.io_error("write export", &self.connection.export, &err));
            }
            // The whole book went to disk, writes waiting for their group save included.
            state.saved = state.changed;
        }
        inbox::move_into(inbox, name, inbox::DONE)
            .map_err(|err| self.io_error(operation, &path, &err))?;
        Ok(())
    }

    pub(super) fn fetch(&self, cursor: Option<&str>) -> Result<ChangePage, PeerError> {
        let mut state = self.lock();
        let continues = cursor.is_some_and(|c| state.walk.handed.contains_key(c));
        if !continues {
            // A new walk: its cursor, if any, is the store's, saved after its page committed.
            state.walk = Walk::default();
            if let Some((name, hash)) = cursor.and_then(inbox::parse_cursor) {
                self.settle(&mut state, name, hash, None)?;
            }
        }
        self.next_page(&mut state)
    }

    pub(super) fn committed(&self, cursor: &str) -> Result<(), PeerError> {
        let mut state = self.lock();
        match state.walk.handed.remove(cursor) {
            Some(page) => {
                // A record written to the export since it was read is there in a newer state.
                let records = page
                    .records
                    .into_iter()
                    .filter(|record| !page.written.contains(&record.id))
                    .collect();
                self.settle(&mut state, &page.name, &page.hash, Some(records))
            }
            None => match inbox::parse_cursor(cursor) {
                Some((name, hash)) => self.settle(&mut state, name, hash, None),
                None => Ok(()),
            },
        }
    }
}
