//! RecordIO framing of v1 event streams: `<decimal length>\n<bytes>`, back to back (reference §6.2).
//!
//! The decoder buffers across arbitrary chunk boundaries, because proxies may re-chunk a stream,
//! and bounds the record size so that a hostile length cannot make it buffer without limit.

use std::fmt;

/// Largest record the decoder accepts by default (16 MiB).
pub const DEFAULT_MAX_RECORD: usize = 16 * 1024 * 1024;

/// Most digits a length may have; `u64::MAX` has 20.
const MAX_LENGTH_DIGITS: usize = 20;

/// Appends one record (`<len>\n<payload>`) to `out`.
pub fn encode_into(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload);
}

/// Returns one record (`<len>\n<payload>`); an event stream sends each in its own HTTP chunk.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    encode_into(payload, &mut out);
    out
}

/// Why a RecordIO stream cannot be decoded; the stream is unusable after any of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordIoError {
    /// A byte other than a decimal digit or the terminating `\n` in a record length.
    NonDigitLength { byte: u8 },
    /// A record length line with no digits.
    EmptyLength,
    /// A record length of zero, which the format does not allow.
    ZeroLength,
    /// A record longer than the decoder's limit (`length` saturates at `u64::MAX`).
    TooLarge { length: u64, max: usize },
    /// The stream ended inside a record; `buffered` bytes of it had arrived.
    Truncated { buffered: usize },
}

impl fmt::Display for RecordIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordIoError::NonDigitLength { byte } => {
                write!(f, "RecordIO length contains non-digit byte 0x{byte:02x}")
            }
            RecordIoError::EmptyLength => f.write_str("RecordIO length is empty"),
            RecordIoError::ZeroLength => f.write_str("RecordIO length is zero"),
            RecordIoError::TooLarge { length, max } => {
                write!(
                    f,
                    "RecordIO record of {length} bytes exceeds the limit of {max} bytes"
                )
            }
            RecordIoError::Truncated { buffered } => {
                write!(
                    f,
                    "RecordIO stream ended inside a record ({buffered} bytes buffered)"
                )
            }
        }
    }
}

impl std::error::Error for RecordIoError {}

/// Incremental RecordIO decoder: [`feed`](Self::feed) chunks as they arrive, then drain
/// [`next_record`](Self::next_record) until it returns `Ok(None)`.
#[derive(Debug)]
pub struct RecordIoDecoder {
    buf: Vec<u8>,
    /// Start of the undecoded bytes in `buf`.
    pos: usize,
    max_record: usize,
    failed: Option<RecordIoError>,
}

impl Default for RecordIoDecoder {
    fn default() -> Self {
        RecordIoDecoder::new(DEFAULT_MAX_RECORD)
    }
}

impl RecordIoDecoder {
    /// A decoder that refuses records longer than `max_record` bytes.
    pub fn new(max_record: usize) -> Self {
        RecordIoDecoder {
            buf: Vec::new(),
            pos: 0,
            max_record,
            failed: None,
        }
    }

    /// Appends received bytes. Bytes fed after an error are discarded.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes received but not yet returned as records.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete record, `Ok(None)` if more bytes are needed, or the stream's error
    /// (returned again on every later call).
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>, RecordIoError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        match self.parse_next() {
            Ok(record) => Ok(record),
            Err(e) => {
                self.failed = Some(e);
                self.buf = Vec::new();
                self.pos = 0;
                Err(e)
            }
        }
    }

    /// Checks that the stream ended on a record boundary; call it at end of input.
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match self.failed {
            Some(e) => Err(e),
            None if self.buffered() > 0 => Err(RecordIoError::Truncated {
                buffered: self.buffered(),
            }),
            None => Ok(()),
        }
    }

    fn parse_next(&mut self) -> Result<Option<Vec<u8>>, RecordIoError> {
        let pending = &self.buf[self.pos..];
        let mut length: u64 = 0;
        let mut digits = 0;
        let mut header_len = None;
        for (i, &byte) in pending.iter().enumerate() {
            match byte {
                b'0'..=b'9' => {
                    length = length
                        .saturating_mul(10)
                        .saturating_add(u64::from(byte - b'0'));
                    digits += 1;
                    if digits > MAX_LENGTH_DIGITS || length > self.max_record as u64 {
                        return Err(RecordIoError::TooLarge {
                            length,
                            max: self.max_record,
                        });
                    }
                }
                b'\n' => {
                    header_len = Some(i + 1);
                    break;
                }
                _ => return Err(RecordIoError::NonDigitLength { byte }),
            }
        }
        let Some(header_len) = header_len else {
            return Ok(None);
        };
        if digits == 0 {
            return Err(RecordIoError::EmptyLength);
        }
        if length == 0 {
            return Err(RecordIoError::ZeroLength);
        }
        // `length <= max_record`, a `usize`, was checked digit by digit above.
        let length = length as usize;
        let body = &pending[header_len..];
        if body.len() < length {
            return Ok(None);
        }
        let record = body[..length].to_vec();
        self.pos += header_len + length;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(decoder: &mut RecordIoDecoder) -> Result<Vec<Vec<u8>>, RecordIoError> {
        let mut out = Vec::new();
        while let Some(record) = decoder.next_record()? {
            out.push(record);
        }
        Ok(out)
    }

    #[test]
    fn decodes_the_reference_example_byte_by_byte() {
        let first = br#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"12220-3440-12532-2345"},"heartbeat_interval_seconds":15.0}}"#;
        let second = br#"{"type":"HEARTBEAT"}"#;
        let mut stream = encode(first);
        encode_into(second, &mut stream);
        assert!(stream.starts_with(b"119\n{\"type\""));
        assert!(stream.ends_with(b"}20\n{\"type\":\"HEARTBEAT\"}"));

        let mut decoder = RecordIoDecoder::default();
        let mut records = Vec::new();
        for byte in &stream {
            decoder.feed(std::slice::from_ref(byte));
            records.extend(decode_all(&mut decoder).unwrap());
        }
        assert_eq!(records, vec![first.to_vec(), second.to_vec()]);
        assert_eq!(decoder.finish(), Ok(()));
    }

    #[test]
    fn reports_clear_errors() {
        let cases: [(&[u8], RecordIoError); 5] = [
            (b"12a\n", RecordIoError::NonDigitLength { byte: b'a' }),
            (b" 5\nhello", RecordIoError::NonDigitLength { byte: b' ' }),
            (b"\nx", RecordIoError::EmptyLength),
            (b"0\n", RecordIoError::ZeroLength),
            (
                b"17\n",
                RecordIoError::TooLarge {
                    length: 17,
                    max: 16,
                },
            ),
        ];
        for (input, expected) in cases {
            let mut decoder = RecordIoDecoder::new(16);
            decoder.feed(input);
            assert_eq!(decoder.next_record(), Err(expected), "{input:?}");
            // The error sticks: later input cannot resynchronise a broken stream.
            decoder.feed(b"1\nx");
            assert_eq!(decoder.next_record(), Err(expected));
        }
        assert_eq!(
            RecordIoError::TooLarge {
                length: 17,
                max: 16
            }
            .to_string(),
            "RecordIO record of 17 bytes exceeds the limit of 16 bytes"
        );
    }

    #[test]
    fn too_large_is_detected_before_the_newline() {
        let mut decoder = RecordIoDecoder::new(1000);
        decoder.feed(b"99999999999999999999999999");
        assert_eq!(
            decoder.next_record(),
            Err(RecordIoError::TooLarge {
                length: 9999,
                max: 1000
            })
        );
    }

    #[test]
    fn truncated_stream_is_reported_at_finish() {
        let mut decoder = RecordIoDecoder::default();
        decoder.feed(b"5\nhel");
        assert_eq!(decoder.next_record(), Ok(None));
        assert_eq!(
            decoder.finish(),
            Err(RecordIoError::Truncated { buffered: 5 })
        );
    }

    proptest! {
        #[test]
        fn any_chunking_decodes_the_same_records(
            records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..12),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..20),
        ) {
            let mut stream = Vec::new();
            for r in &records {
                encode_into(r, &mut stream);
            }
            let mut positions: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
            positions.push(0);
            positions.push(stream.len());
            positions.sort_unstable();
            let mut decoder = RecordIoDecoder::new(300);
            let mut decoded = Vec::new();
            for pair in positions.windows(2) {
                decoder.feed(&stream[pair[0]..pair[1]]);
                decoded.extend(decode_all(&mut decoder).unwrap());
            }
            prop_assert_eq!(decoded, records);
            prop_assert_eq!(decoder.finish(), Ok(()));
            prop_assert_eq!(decoder.buffered(), 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16),
            max in 1usize..64,
        ) {
            let mut decoder = RecordIoDecoder::new(max);
            for chunk in &chunks {
                decoder.feed(chunk);
                while let Ok(Some(record)) = decoder.next_record() {
                    prop_assert!(!record.is_empty() && record.len() <= max);
                }
            }
            let _ = decoder.finish();
        }
    }
}
