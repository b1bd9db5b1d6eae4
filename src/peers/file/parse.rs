//! Reading one CSV or JSONL file into rows of fields, or a `Rejection` naming the line and
//! column at fault and the fix. Sizes are checked before anything is parsed; text must be UTF-8.

use serde_json::{Map, Value};

/// How a file's rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// A header row of field names, then one record per row.
    #[default]
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Jsonl => "jsonl",
        }
    }

    /// The format a file name says it holds (`.csv`, `.jsonl`; any case), if either.
    pub fn of_name(name: &str) -> Option<FileFormat> {
        let (_, extension) = name.rsplit_once('.')?;
        [FileFormat::Csv, FileFormat::Jsonl]
            .into_iter()
            .find(|format| extension.eq_ignore_ascii_case(format.extension()))
    }
}

/// The bounds a file must keep to be read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    /// An inbox file larger than this is rejected unread.
    pub file_bytes: u64,
    /// A line longer than this rejects its file (a runaway quote, a binary file).
    pub line_bytes: usize,
    /// The export file is the whole contact book, so it may grow larger than one inbox file.
    pub export_bytes: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            file_bytes: 32 * 1024 * 1024,
            line_bytes: 64 * 1024,
            export_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Why a file cannot be read, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based; 0 when the problem is the file as a whole (its size).
    pub line: u64,
    /// 1-based: a byte column for text problems, the field's position for CSV cells.
    pub column: u64,
    pub problem: String,
    pub fix: String,
}

impl Rejection {
    pub(super) fn at(line: u64, column: u64, problem: String, fix: &str) -> Rejection {
        Rejection {
            line,
            column,
            problem,
            fix: fix.to_string(),
        }
    }

    /// `name:line:column: problem; fix: …` on one line, for error messages and logs.
    pub fn inline(&self, name: &str) -> String {
        format!(
            "{name}:{}:{}: {}; fix: {}",
            self.line, self.column, self.problem, self.fix
        )
    }

    /// `name:line:column: problem`, and the fix on the next line.
    pub fn describe(&self, name: &str) -> String {
        format!(
            "{name}:{}:{}: {}\nfix: {}\n",
            self.line, self.column, self.problem, self.fix
        )
    }
}

/// One record as read: its first line, and its fields in the file's order. Empty CSV cells and
/// JSON nulls are left out: an empty value never means anything to the sync.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub fields: Map<String, Value>,
    /// Each field's column: its position in the header (CSV) or 1 (JSONL, a line is one record).
    pub columns: Vec<(String, u64)>,
}

impl Row {
    pub fn column_of(&self, field: &str) -> u64 {
        self.columns
            .iter()
            .find(|(name, _)| name == field)
            .map_or(1, |(_, column)| *column)
    }
}

/// The rows of a file's bytes. `delimiter` is for CSV only.
pub fn parse(
    bytes: &[u8],
    format: FileFormat,
    delimiter: u8,
    limits: &FileLimits,
) -> Result<Vec<Row>, Rejection> {
    let text = utf8(bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_lines(text, limits.line_bytes)?;
    check_nul(text)?;
    match format {
        FileFormat::Csv => parse_csv(text, delimiter),
        FileFormat::Jsonl => parse_jsonl(text),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, Rejection> {
    std::str::from_utf8(bytes).map_err(|err| {
        let valid = &bytes[..err.valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let line_start = valid
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |at| at + 1);
        let column = (valid.len() - line_start) as u64 + 1;
        Rejection::at(
            line,
            column,
            "the file is not UTF-8 text".into(),
            "save it as UTF-8 (in a spreadsheet: Save As → \"CSV UTF-8\"), then put it back in the inbox",
        )
    })
}

fn check_lines(text: &str, max: usize) -> Result<(), Rejection> {
    for (index, line) in text.split('\n').enumerate() {
        if line.len() > max {
            return Err(Rejection::at(
                index as u64 + 1,
                max as u64 + 1,
                format!(
                    "the line is {} bytes, over the {max}-byte limit",
                    line.len()
                ),
                "shorten the value or check for an unclosed quote; a file that is not CSV/JSONL text does not belong in the inbox",
            ));
        }
    }
    Ok(())
}

/// A NUL byte is never in CSV or JSONL text: the file is UTF-16 (every other byte NUL) or binary.
fn check_nul(text: &str) -> Result<(), Rejection> {
    let Some(at) = text.find('\0') else {
        return Ok(());
    };
    let before = &text[..at];
    let line = before.matches('\n').count() as u64 + 1;
    let column = (at - before.rfind('\n').map_or(0, |nl| nl + 1)) as u64 + 1;
    Err(Rejection::at(
        line,
        column,
        "the file holds a NUL byte: it is not CSV/JSONL text (a UTF-16 export, or a binary file)"
            .into(),
        "save it as UTF-8 (in a spreadsheet: Save As → \"CSV UTF-8\"), then put it back in the inbox",
    ))
}

/// Where a quoted field opens that no quote closes: the csv reader takes the rest of the file
/// into that one value (a runaway quote), so the file is refused instead. Quotes follow the
/// csv crate's reading: a field is quoted when its first byte is `"`; inside, `""` is a quote.
fn unclosed_quote(text: &str, delimiter: u8) -> Option<(u64, u64)> {
    let bytes = text.as_bytes();
    let (mut line, mut line_start) = (1u64, 0usize);
    let mut opened: Option<(u64, u64)> = None;
    let mut field_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        match (opened.is_some(), byte) {
            (true, b'"') if bytes.get(i + 1) == Some(&b'"') => i += 1,
            (true, b'"') => opened = None,
            (false, b'"') if field_start => {
                opened = Some((line, (i - line_start) as u64 + 1));
            }
            _ => {}
        }
        if byte == b'\n' {
            line += 1;
            line_start = i + 1;
        }
        field_start = opened.is_none() && (byte == delimiter || byte == b'\n' || byte == b'\r');
        i += 1;
    }
    opened
}

fn parse_csv(text: &str, delimiter: u8) -> Result<Vec<Row>, Rejection> {
    if let Some((line, column)) = unclosed_quote(text, delimiter) {
        return Err(Rejection::at(
            line,
            column,
            "a quoted value opens here and no quote closes it: the rest of the file would be one value".into(),
            "close the quote (a quote inside a quoted value is written twice: \"\"), or export the file again from its source",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|err| csv_rejection(&err, 0))?
        .iter()
        .map(|name| name.trim().to_string())
        .collect();
    check_header(&header)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| csv_rejection(&err, header.len()))?;
        let line = record.position().map_or(0, |pos| pos.line());
        let mut fields = Map::new();
        let mut columns = Vec::with_capacity(header.len());
        for (index, (name, cell)) in header.iter().zip(record.iter()).enumerate() {
            columns.push((name.clone(), index as u64 + 1));
            if !cell.trim().is_empty() {
                fields.insert(name.clone(), Value::String(cell.to_string()));
            }
        }
        rows.push(Row {
            line,
            fields,
            columns,
        });
    }
    Ok(rows)
}

fn check_header(header: &[String]) -> Result<(), Rejection> {
    if header.iter().all(String::is_empty) {
        return Err(Rejection::at(
            1,
            1,
            "the first line is empty; it must name the columns".into(),
            "put a header row first, e.g. first_name,last_name,email,phone",
        ));
    }
    for (index, name) in header.iter().enumerate() {
        let column = index as u64 + 1;
        if name.is_empty() {
            return Err(Rejection::at(
                1,
                column,
                format!("column {column} has no name in the header"),
                "name every column in the header row, or delete the empty column",
            ));
        }
        if header[..index].contains(name) {
            return Err(Rejection::at(
                1,
                column,
                format!("the header names {name:?} twice"),
                "give each column its own name",
            ));
        }
    }
    Ok(())
}

fn csv_rejection(err: &csv::Error, header_len: usize) -> Rejection {
    let line = err.position().map_or(1, |pos| pos.line());
    match err.kind() {
        csv::ErrorKind::UnequalLengths { len, .. } => {
            let column = (*len as usize).min(header_len) as u64 + 1;
            Rejection::at(
                line,
                column,
                format!("the row has {len} fields, the header has {header_len}"),
                "give every row as many cells as the header; quote a value that holds the delimiter (\"Lee, Ann\")",
            )
        }
        _ => Rejection::at(
            line,
            1,
            format!("the row cannot be read as CSV: {err}"),
            "fix the row (check its quotes), or export the file again from its source",
        ),
    }
}

fn parse_jsonl(text: &str) -> Result<Vec<Row>, Rejection> {
    let mut rows = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let number = index as u64 + 1;
        let trimmed = line.trim_end_matches('\r');
        let indent = trimmed.len() - trimmed.trim_start().len();
        if trimmed.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(trimmed).map_err(|err| {
            // serde_json's own "at line 1 column N" would name the line as one of one.
            let text = err.to_string();
            let what = text.split(" at line ").next().unwrap_or(&text);
            Rejection::at(
                number,
                err.column().max(1) as u64,
                format!("not valid JSON: {what}"),
                "write one complete JSON object per line, e.g. {\"email\": \"ann@example.com\"}",
            )
        })?;
        let Value::Object(object) = value else {
            return Err(Rejection::at(
                number,
                indent as u64 + 1,
                "the line is JSON but not an object".into(),
                "write one JSON object ({...}) per line",
            ));
        };
        let columns = object.keys().map(|key| (key.clone(), 1)).collect();
        let fields = object
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .collect();
        rows.push(Row {
            line: number,
            fields,
            columns,
        });
    }
    Ok(rows)
}

/// A value as one CSV cell: text as is, JSON for lists and objects.
pub fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
