//! Files a person points ghlsync at — mappings, connector files, the keymap, webhook keys, the
//! OAuth token file — are read whole, and each kind has a size no real one comes near. A larger
//! file (a log or a dump at the wrong path, `/dev/zero`) is refused after reading one byte past
//! the limit, never read to the end; the error says how large the file may be and what to check.

use std::io::Read;
use std::path::Path;

/// A mapping or a connector file: a few KB; hundreds of fields would still be under 100 KB.
pub const DEFINITION_FILE_BYTES: u64 = 1024 * 1024;
/// `keymap.toml`: a few KB.
pub const KEYMAP_BYTES: u64 = 256 * 1024;
/// A PEM public key or a token file: well under a KB.
pub const KEY_FILE_BYTES: u64 = 64 * 1024;

/// Reads `path` as UTF-8 text of at most `cap` bytes. Larger: an `io::Error` of kind
/// `FileTooLarge`, whose message names the limit (the caller names the file). Invalid UTF-8:
/// `InvalidData`, naming the line and column of the first byte that is not.
pub fn read_text(path: &Path, cap: u64) -> std::io::Result<String> {
    utf8_text(read_bytes(path, cap)?)
}

/// `bytes` as text; if they are not UTF-8, an `InvalidData` error naming the line and column
/// (1-based, in bytes) of the first invalid byte.
pub fn utf8_text(bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes).map_err(|err| {
        let (line, column) = line_column(&err.as_bytes()[..err.utf8_error().valid_up_to()]);
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (line {line}, column {column} is not): is the path right? Save the file as UTF-8"
            ),
        )
    })
}

/// The 1-based line and byte column just after `before`.
fn line_column(before: &[u8]) -> (usize, usize) {
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |at| at + 1);
    (line, before.len() - start + 1)
}

/// `path`'s bytes, at most `cap` of them; past that, `FileTooLarge` after reading one byte more.
pub fn read_bytes(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} KB, far more than such a file holds: is the path right?",
                cap / 1024
            ),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_past_its_limit_is_refused_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'a'; 2048]).unwrap();
        assert_eq!(read_text(&path, 2048).unwrap().len(), 2048);
        let err = read_text(&path, 2047).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("larger than 1 KB"), "{err}");
        // An endless file ends at the limit.
        let endless = read_text(Path::new("/dev/zero"), 4096).unwrap_err();
        assert_eq!(endless.kind(), std::io::ErrorKind::FileTooLarge);
        std::fs::write(&path, b"a = 1\nb = \"\xff\"").unwrap();
        let err = read_text(&path, 2048).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("line 2, column 6"), "{err}");
    }
}
