//! Compact, ASCII-only JSON output: every non-ASCII character is written as `\uXXXX`
//! (a UTF-16 surrogate pair above U+FFFF), so the bytes survive any client's charset handling.

use serde::Serialize;
use serde_json::ser::Formatter;
use std::io;

/// A `serde_json` formatter that is compact and escapes non-ASCII characters in strings and keys.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    // Every other method keeps the trait's defaults, which are serde_json's `CompactFormatter`.
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let bytes = fragment.as_bytes();
        let mut ascii_start = 0;
        for (index, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            writer.write_all(&bytes[ascii_start..index])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            ascii_start = index + ch.len_utf8();
        }
        writer.write_all(&bytes[ascii_start..])
    }
}

/// Serializes `value` as compact ASCII-only JSON, or reports why it cannot be serialized.
///
/// Serialization only fails for types whose `Serialize` impl fails or that use non-string map
/// keys; the `v1` message types do neither.
pub fn try_to_ascii_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    value.serialize(&mut serializer)?;
    // The formatter writes only ASCII bytes and escapes, and serde_json writes only ASCII
    // punctuation and numbers, so the output is valid UTF-8.
    String::from_utf8(out).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

/// Serializes a `v1` message as compact ASCII-only JSON.
///
/// The `v1` types serialize infallibly (string keys only, no failing `Serialize` impls); should a
/// caller pass a type that fails, the result is the JSON `null` rather than a panic.
pub fn to_ascii_json<T: Serialize + ?Sized>(value: &T) -> String {
    try_to_ascii_json(value).unwrap_or_else(|_| String::from("null"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_non_ascii_including_surrogate_pairs() {
        let value = serde_json::json!({"name": "caf\u{e9} \u{1F600}", "k\u{fc}": "a\"b\n/"});
        let out = to_ascii_json(&value);
        assert!(out.is_ascii());
        assert!(out.contains(r#""caf\u00e9 \ud83d\ude00""#), "{out}");
        assert!(out.contains(r#""k\u00fc":"a\"b\n/""#), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn output_is_compact() {
        let value = serde_json::json!({"a": [1, 2, {"b": null}], "c": 1.5});
        assert_eq!(to_ascii_json(&value), r#"{"a":[1,2,{"b":null}],"c":1.5}"#);
    }

    #[test]
    fn failing_serialize_gives_null_not_panic() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(vec![1u8], 1);
        assert_eq!(to_ascii_json(&map), "null");
        assert!(try_to_ascii_json(&map).is_err());
    }

    proptest! {
        #[test]
        fn any_string_round_trips_as_ascii(s in any::<String>()) {
            let out = to_ascii_json(&s);
            prop_assert!(out.is_ascii());
            let back: String = serde_json::from_str(&out).unwrap();
            prop_assert_eq!(back, s);
        }
    }
}
