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
/// `InvalidData`, as `std::fs::read_to_string` says it.
pub fn read_text(path: &Path, cap: u64) -> std::io::Result<String> {
    String::from_utf8(read_bytes(path, cap)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text: is the path right?",
        )
    })
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
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_text(&path, 2048).unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
    }
}
