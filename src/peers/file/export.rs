//! The export file: the peer's contact book (what the inbox brought and what GHL wrote), one
//! record per id, kept in memory and written whole — a temp file, fsync, rename, 0600 — so a
//! reader never sees half a file. Reloaded when someone else changed it (never while changes
//! of its own wait for their save: `FilePeer::save_through`).

use std::path::Path;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::parse::{self, FileFormat, FileLimits, Rejection, cell_text};

/// The records of the export file by id, in the file's order.
#[derive(Debug, Default)]
pub(super) struct ExportBook {
    /// id → the record's fields (a JSON object), first written first.
    rows: Map<String, Value>,
    /// Length and modification time of the file as last read or written.
    stamp: Option<(u64, SystemTime)>,
}

/// How the book is laid out on disk.
pub(super) struct Layout<'a> {
    pub format: FileFormat,
    pub delimiter: u8,
    /// The column holding the id (`id_field`, else `ghlsync_id`).
    pub id_column: &'a str,
    /// Whether the id column is also one of the record's fields (it is when it is `id_field`).
    pub id_is_field: bool,
}

pub(super) enum LoadError {
    Io(std::io::Error),
    Unreadable(Rejection),
}

impl ExportBook {
    /// Whether the file on disk is still the one this book holds.
    pub fn is_current(&self, path: &Path) -> bool {
        self.stamp == stamp(path)
    }

    pub fn load(path: &Path, layout: &Layout, limits: &FileLimits) -> Result<Self, LoadError> {
        let bytes = match super::inbox::read(path, limits.export_bytes).map_err(LoadError::Io)? {
            None => return Ok(ExportBook::default()),
            Some(read) => read.map_err(LoadError::Unreadable)?,
        };
        let rows = parse::parse(&bytes, layout.format, layout.delimiter, limits)
            .map_err(LoadError::Unreadable)?;
        let mut book = Map::new();
        for mut row in rows {
            let id = match row.fields.get(layout.id_column).map(cell_text) {
                Some(id) if !id.trim().is_empty() => id.trim().to_string(),
                _ => {
                    return Err(LoadError::Unreadable(Rejection::at(
                        row.line,
                        row.column_of(layout.id_column),
                        format!("the record has no {}", layout.id_column),
                        "give the record its id again, or move the export file away (ghlsync then starts a new one)",
                    )));
                }
            };
            if !layout.id_is_field {
                row.fields.remove(layout.id_column);
            }
            book.insert(id, Value::Object(row.fields));
        }
        Ok(ExportBook {
            rows: book,
            stamp: stamp(path),
        })
    }

    pub fn get(&self, id: &str) -> Option<&Map<String, Value>> {
        self.rows.get(id).and_then(Value::as_object)
    }

    /// Writes `fields` over the record's (a null removes a field); true when it is new. The id
    /// is the record's id whatever `fields` say, as a reload would read it.
    pub fn upsert(&mut self, id: &str, fields: &Map<String, Value>, layout: &Layout) -> bool {
        let created = !self.rows.contains_key(id);
        let entry = self
            .rows
            .entry(id.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(existing) = entry {
            for (name, value) in fields {
                if value.is_null() {
                    existing.shift_remove(name);
                } else {
                    existing.insert(name.clone(), value.clone());
                }
            }
            if layout.id_is_field {
                existing.insert(layout.id_column.to_string(), Value::String(id.to_string()));
            } else {
                existing.shift_remove(layout.id_column);
            }
        }
        created
    }

    /// Removes the record; true when it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        self.rows.shift_remove(id).is_some()
    }

    /// Writes the whole book to `path` atomically, owner-only.
    pub fn save(&mut self, path: &Path, layout: &Layout) -> std::io::Result<()> {
        let bytes = self.render(layout)?;
        crate::private_file::write_atomic(path, &bytes)?;
        self.stamp = stamp(path);
        Ok(())
    }

    /// After the bytes `render` gave were written to `path` by someone else (a group save).
    pub fn mark_saved(&mut self, path: &Path) {
        self.stamp = stamp(path);
    }

    pub fn render(&self, layout: &Layout) -> std::io::Result<Vec<u8>> {
        let records = self
            .rows
            .iter()
            .filter_map(|(id, fields)| fields.as_object().map(|fields| (id, fields)));
        match layout.format {
            FileFormat::Jsonl => {
                let mut out = Vec::new();
                for (id, fields) in records {
                    let mut line = Map::new();
                    line.insert(layout.id_column.to_string(), Value::String(id.clone()));
                    for (name, value) in fields {
                        if name != layout.id_column {
                            line.insert(name.clone(), value.clone());
                        }
                    }
                    serde_json::to_writer(&mut out, &Value::Object(line))?;
                    out.push(b'\n');
                }
                Ok(out)
            }
            FileFormat::Csv => {
                let mut header = vec![layout.id_column.to_string()];
                for (_, fields) in records.clone() {
                    for name in fields.keys() {
                        if !header.contains(name) {
                            header.push(name.clone());
                        }
                    }
                }
                let mut writer = csv::WriterBuilder::new()
                    .delimiter(layout.delimiter)
                    .from_writer(Vec::new());
                writer
                    .write_record(&header)
                    .map_err(std::io::Error::other)?;
                for (id, fields) in records {
                    let row = header.iter().enumerate().map(|(index, name)| {
                        if index == 0 {
                            id.clone()
                        } else {
                            fields.get(name).map(cell_text).unwrap_or_default()
                        }
                    });
                    writer.write_record(row).map_err(std::io::Error::other)?;
                }
                writer
                    .into_inner()
                    .map_err(|err| std::io::Error::other(err.to_string()))
            }
        }
    }
}

fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}
