//! Standard Base64 (RFC 4648, `+/` alphabet, `=` padding), the encoding of protobuf `bytes` in Mesos JSON.
//!
//! Encoding always pads. Decoding follows stout's `base64::decode` as of Mesos 1.5.1 (MESOS-8569):
//! newlines (`\n`, `\r`) are skipped, padding may be missing, and decoding stops at the first `=`.

use std::fmt;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Why a Base64 string could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base64Error {
    /// A byte outside the alphabet, at this offset in the input.
    InvalidByte { offset: usize, byte: u8 },
    /// A single trailing symbol, which cannot encode a whole byte.
    DanglingSymbol,
    /// Something other than `=` or a newline after the first `=`.
    DataAfterPadding { offset: usize },
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Base64Error::InvalidByte { offset, byte } => {
                write!(f, "invalid base64 byte 0x{byte:02x} at offset {offset}")
            }
            Base64Error::DanglingSymbol => {
                f.write_str("invalid base64: a single trailing symbol cannot encode a byte")
            }
            Base64Error::DataAfterPadding { offset } => {
                write!(f, "invalid base64: data after padding at offset {offset}")
            }
        }
    }
}

impl std::error::Error for Base64Error {}

/// Encodes `input` as padded standard Base64.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let symbol = |shift: u32| char::from(ALPHABET[((n >> shift) & 0x3f) as usize]);
        out.push(symbol(18));
        out.push(symbol(12));
        out.push(if chunk.len() > 1 { symbol(6) } else { '=' });
        out.push(if chunk.len() > 2 { symbol(0) } else { '=' });
    }
    out
}

fn symbol_value(byte: u8) -> Option<u32> {
    let v = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes standard Base64, skipping newlines and accepting missing padding.
pub fn decode(input: &str) -> Result<Vec<u8>, Base64Error> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut count = 0u8;
    let mut padding_at = None;
    for (offset, &byte) in bytes.iter().enumerate() {
        if byte == b'\n' || byte == b'\r' {
            continue;
        }
        if byte == b'=' {
            padding_at = Some(offset);
            break;
        }
        let value = symbol_value(byte).ok_or(Base64Error::InvalidByte { offset, byte })?;
        acc = (acc << 6) | value;
        count += 1;
        if count == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            count = 0;
        }
    }
    if let Some(start) = padding_at {
        for (i, &byte) in bytes[start..].iter().enumerate() {
            if !matches!(byte, b'=' | b'\n' | b'\r') {
                return Err(Base64Error::DataAfterPadding { offset: start + i });
            }
        }
    }
    match count {
        0 => {}
        1 => return Err(Base64Error::DanglingSymbol),
        2 => out.push((acc >> 4) as u8),
        _ => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn decode_skips_newlines_and_accepts_missing_padding() {
        assert_eq!(decode("Zm9v\nYmFy\r\n").unwrap(), b"foobar");
        assert_eq!(decode("Zm9vYg").unwrap(), b"foob");
        assert_eq!(decode("Zm9vYmE").unwrap(), b"fooba");
    }

    #[test]
    fn decode_rejects_garbage() {
        assert_eq!(
            decode("Zm9v!"),
            Err(Base64Error::InvalidByte {
                offset: 4,
                byte: b'!'
            })
        );
        assert_eq!(decode("Zm9vY"), Err(Base64Error::DanglingSymbol));
        assert_eq!(
            decode("Zg==Zg=="),
            Err(Base64Error::DataAfterPadding { offset: 4 })
        );
        assert_eq!(
            decode("Zm9v-_").unwrap_err().to_string(),
            "invalid base64 byte 0x2d at offset 4"
        );
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let encoded = encode(&data);
            prop_assert_eq!(encoded.len() % 4, 0);
            prop_assert_eq!(decode(&encoded).unwrap(), data);
        }

        #[test]
        fn decode_never_panics(s in ".{0,64}") {
            let _ = decode(&s);
        }
    }
}
