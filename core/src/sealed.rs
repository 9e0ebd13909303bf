//! Sealed snapshot files: `[magic 8][version u8][len u32 LE][crc32c u32 LE][postcard body]`,
//! the one frame the registry snapshot and the agent checkpoint snapshot share. Sealing checks
//! the size bound; opening refuses a wrong magic, an unreadable version, a length that
//! disagrees with the file, and a checksum mismatch, before anything is decoded.

use crate::registry::crc32c;
use alloc::vec::Vec;
use serde::Serialize;

/// Bytes before the body.
pub const SEALED_HEADER_LEN: usize = 8 + 1 + 4 + 4;

/// Why a value could not be sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealError {
    Serialize,
    /// The body would be `len` bytes, above the bound given.
    TooLarge {
        len: usize,
    },
}

/// Why bytes are not a sealed file of the expected kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealProblem {
    BadMagic,
    UnsupportedVersion(u8),
    /// The file is shorter than its header says (or than a header).
    Truncated {
        expected: u64,
        found: u64,
    },
    /// The file is longer than its header says.
    TrailingBytes {
        expected: u64,
        found: u64,
    },
    /// The header's length is above the bound given.
    TooLarge(u64),
    ChecksumMismatch,
}

/// `value` postcard-encoded behind the header; its body may be at most `max` bytes.
pub fn seal<T: Serialize + ?Sized>(
    magic: &[u8; 8],
    version: u8,
    value: &T,
    max: usize,
) -> Result<Vec<u8>, SealError> {
    let mut out = Vec::with_capacity(SEALED_HEADER_LEN + 256);
    out.extend_from_slice(magic);
    out.push(version);
    out.extend_from_slice(&[0u8; 8]);
    out = postcard::to_extend(value, out).map_err(|_| SealError::Serialize)?;
    let len = out.len() - SEALED_HEADER_LEN;
    if len > max {
        return Err(SealError::TooLarge { len });
    }
    let crc = crc32c(&out[SEALED_HEADER_LEN..]);
    out[9..13].copy_from_slice(&(len as u32).to_le_bytes());
    out[13..17].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// The version byte and the checked body of a file sealed with `magic`.
pub fn unseal<'a>(
    bytes: &'a [u8],
    magic: &[u8; 8],
    readable: impl Fn(u8) -> bool,
    max: usize,
) -> Result<(u8, &'a [u8]), SealProblem> {
    if bytes.len() < SEALED_HEADER_LEN {
        if !magic.starts_with(&bytes[..bytes.len().min(8)]) {
            return Err(SealProblem::BadMagic);
        }
        return Err(SealProblem::Truncated {
            expected: SEALED_HEADER_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    if bytes[..8] != magic[..] {
        return Err(SealProblem::BadMagic);
    }
    let version = bytes[8];
    if !readable(version) {
        return Err(SealProblem::UnsupportedVersion(version));
    }
    let len = u32::from_le_bytes([bytes[9], bytes[10], bytes[11], bytes[12]]) as u64;
    let crc = u32::from_le_bytes([bytes[13], bytes[14], bytes[15], bytes[16]]);
    if len > max as u64 {
        return Err(SealProblem::TooLarge(len));
    }
    let expected = SEALED_HEADER_LEN as u64 + len;
    let found = bytes.len() as u64;
    if found < expected {
        return Err(SealProblem::Truncated { expected, found });
    }
    if found > expected {
        return Err(SealProblem::TrailingBytes { expected, found });
    }
    let body = &bytes[SEALED_HEADER_LEN..];
    if crc32c(body) != crc {
        return Err(SealProblem::ChecksumMismatch);
    }
    Ok((version, body))
}
