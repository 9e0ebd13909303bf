//! Agent attributes (Mesos `Attribute`): typed `name:value` facts about an agent, parsed from
//! the text form of the agent's `--attributes` flag.
//!
//! An attribute's value is a scalar, ranges or text. Mesos refuses set values for attributes,
//! and so do we. Scalars keep Mesos' three-decimal resolution (as resource scalars do) but,
//! unlike resources, may be negative.

use crate::resources::{Fixed, Range, RangeSet, RangeSetError, MAX_RANGES};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// A scalar attribute value in thousandths: `AttributeScalar::from_milli(-1500)` is `-1.5`.
/// Mesos compares attribute scalars at three decimals too (`convertToFixed`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct AttributeScalar(i64);

impl AttributeScalar {
    /// A value of `m` thousandths.
    pub const fn from_milli(m: i64) -> AttributeScalar {
        AttributeScalar(m)
    }

    /// The value in thousandths.
    pub const fn milli(self) -> i64 {
        self.0
    }

    /// The value as an `f64` (exact below 2^53 thousandths).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Converts a finite `f64`, rounding to three decimals half away from zero; `None` for
    /// NaN, infinities and magnitudes too large for the thousandths.
    pub fn from_f64(v: f64) -> Option<AttributeScalar> {
        if v < 0.0 {
            Fixed::from_f64(-v).map(|f| AttributeScalar(-f.milli()))
        } else {
            Fixed::from_f64(v).map(|f| AttributeScalar(f.milli()))
        }
    }

    /// Parses a decimal number with an optional leading `-` (`2`, `-0.5`, `1e3`); `None` if
    /// `text` is not a finite number or does not fit.
    pub fn parse(text: &str) -> Option<AttributeScalar> {
        match text.strip_prefix('-') {
            // `--1` and `-+1` are not numbers.
            Some(rest) if rest.starts_with(['-', '+']) => None,
            Some(rest) => Fixed::parse(rest).map(|f| AttributeScalar(-f.milli())),
            None => Fixed::parse(text).map(|f| AttributeScalar(f.milli())),
        }
    }
}

impl fmt::Display for AttributeScalar {
    /// The shortest exact decimal: `2`, `-0.5`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Fixed::from_milli(self.0), f)
    }
}

/// One attribute's value, typed as Mesos types it (Mesos `Value` without `SET`).
///
/// Ranges are held inline like a resource's, so the enum is large; an agent has few attributes.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeValue {
    /// A number, such as `rack:2`.
    Scalar(AttributeScalar),
    /// Inclusive ranges, such as `ports:[1-10,20-30]`, kept merged.
    Ranges(RangeSet),
    /// Any other text, such as `zone:a`: no control characters, brackets, braces or commas.
    Text(String),
}

/// The kind of an [`AttributeValue`], named as in Mesos' `Value.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeType {
    Scalar,
    Ranges,
    Text,
}

impl AttributeType {
    /// The Mesos enum name: `SCALAR`, `RANGES`, `TEXT`.
    pub fn name(self) -> &'static str {
        match self {
            AttributeType::Scalar => "SCALAR",
            AttributeType::Ranges => "RANGES",
            AttributeType::Text => "TEXT",
        }
    }
}

impl AttributeValue {
    /// The value's type.
    pub fn kind(&self) -> AttributeType {
        match self {
            AttributeValue::Scalar(_) => AttributeType::Scalar,
            AttributeValue::Ranges(_) => AttributeType::Ranges,
            AttributeValue::Text(_) => AttributeType::Text,
        }
    }

    /// Parses one value in Mesos' text form: `[1-2,5-9]` is ranges, a number is a scalar,
    /// anything else is text.
    pub fn parse(text: &str) -> Result<AttributeValue, ValueProblem<'_>> {
        if text.is_empty() {
            return Err(ValueProblem::Empty);
        }
        if let Some(inner) = text.strip_prefix('[') {
            return parse_ranges(inner).map(AttributeValue::Ranges);
        }
        if text.starts_with('{') {
            return Err(ValueProblem::Set);
        }
        let numeric_start = text.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
        if numeric_start && text.parse::<f64>().is_ok_and(f64::is_finite) {
            return AttributeScalar::parse(text)
                .map(AttributeValue::Scalar)
                .ok_or(ValueProblem::TooLarge);
        }
        if !is_valid_text(text) {
            return Err(ValueProblem::BadText);
        }
        Ok(AttributeValue::Text(text.to_string()))
    }
}

/// Whether `text` may be a TEXT attribute value: non-empty, without control characters,
/// brackets, braces, commas or `;`.
pub fn is_valid_text(text: &str) -> bool {
    !text.is_empty()
        && !text
            .chars()
            .any(|c| c.is_control() || matches!(c, '[' | ']' | '{' | '}' | ',' | ';'))
}

fn parse_ranges(inner: &str) -> Result<RangeSet, ValueProblem<'_>> {
    let inner = inner.strip_suffix(']').ok_or(ValueProblem::Unclosed)?;
    let mut ranges: Vec<Range> = Vec::new();
    for part in inner.split(',').map(str::trim) {
        let bad = || ValueProblem::BadRange(part);
        let (b, e) = part.split_once('-').ok_or_else(bad)?;
        let b: u64 = b.trim().parse().map_err(|_| bad())?;
        let e: u64 = e.trim().parse().map_err(|_| bad())?;
        if b > e {
            return Err(bad());
        }
        ranges.push(Range::new(b, e));
    }
    RangeSet::from_ranges(&ranges).map_err(|e| match e {
        RangeSetError::CapacityExceeded => ValueProblem::TooManyRanges,
        // Inverted ranges were refused above.
        RangeSetError::Inverted(_) => ValueProblem::BadRange(inner),
    })
}

impl fmt::Display for AttributeValue {
    /// Mesos' text form: `2`, `[31000-32000, 33000-34000]`, `a`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Scalar(x) => write!(f, "{x}"),
            AttributeValue::Ranges(r) => {
                f.write_str("[")?;
                for (i, r) in r.as_slice().iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{}-{}", r.begin, r.end)?;
                }
                f.write_str("]")
            }
            AttributeValue::Text(t) => f.write_str(t),
        }
    }
}

/// One attribute (Mesos `Attribute`): a name and a typed value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    pub value: AttributeValue,
}

impl Attribute {
    /// An attribute with a name and value checked as [`parse_attributes`] checks them.
    pub fn new(name: &str, value: AttributeValue) -> Option<Attribute> {
        let value_ok = match &value {
            AttributeValue::Text(t) => is_valid_text(t),
            _ => true,
        };
        (is_valid_name(name) && value_ok).then(|| Attribute {
            name: name.to_string(),
            value,
        })
    }
}

impl fmt::Display for Attribute {
    /// `name:value`, as in `--attributes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.value)
    }
}

/// Whether `name` may name an attribute: letters, digits, `-`, `_`, `.` and `/`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// Why one attribute value was refused; the text it quotes is borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueProblem<'a> {
    Empty,
    /// A `[` without its `]`.
    Unclosed,
    /// A part of a ranges value that is not `BEGIN-END` with `BEGIN <= END`.
    BadRange(&'a str),
    /// More than [`MAX_RANGES`] disjoint ranges.
    TooManyRanges,
    /// A `{...}` set value, which Mesos does not allow for attributes.
    Set,
    /// A number beyond ±9223372036854775.807.
    TooLarge,
    /// Text with a control character, bracket, brace, comma or `;`.
    BadText,
}

impl fmt::Display for ValueProblem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueProblem::Empty => f.write_str("with an empty value"),
            ValueProblem::Unclosed => f.write_str("with an unclosed '['"),
            ValueProblem::BadRange(part) => {
                write!(f, "with '{part}', which is not a range BEGIN-END")
            }
            ValueProblem::TooManyRanges => write!(f, "with more than {MAX_RANGES} ranges"),
            ValueProblem::Set => f.write_str("with a set value, which attributes do not support"),
            ValueProblem::TooLarge => f.write_str("with a number too large for an attribute"),
            ValueProblem::BadText => f.write_str(
                "with a text value containing a bracket, brace, comma or control character",
            ),
        }
    }
}

/// Why an `--attributes` text was refused; the text it quotes is borrowed from the input.
/// The `Display` follows the quoted input in a flag error ("'rack' has 'rack', which is ...").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributesError<'a> {
    /// A `;`-separated part without a `:`.
    NotNameValue(&'a str),
    BadName(&'a str),
    /// The same name twice.
    Duplicate(&'a str),
    BadValue {
        name: &'a str,
        problem: ValueProblem<'a>,
    },
}

impl fmt::Display for AttributesError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributesError::NotNameValue(pair) => {
                write!(f, "has '{pair}', which is not a name:value attribute")
            }
            AttributesError::BadName(name) => {
                write!(f, "has '{name}', which is not an attribute name")
            }
            AttributesError::Duplicate(name) => write!(f, "names attribute '{name}' twice"),
            AttributesError::BadValue { name, problem } => {
                write!(f, "has attribute '{name}' {problem}")
            }
        }
    }
}

/// Parses Mesos' attribute text (`Attributes::parse`): `;`-separated (or newline-separated)
/// `name:value` pairs with distinct names, such as `rack:a;level:3;ports:[1-2]`. Empty text
/// gives no attributes. The order is kept.
pub fn parse_attributes(text: &str) -> Result<Vec<Attribute>, AttributesError<'_>> {
    let mut list: Vec<Attribute> = Vec::new();
    for pair in text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair
            .split_once(':')
            .ok_or(AttributesError::NotNameValue(pair))?;
        let (name, value) = (name.trim(), value.trim());
        if !is_valid_name(name) {
            return Err(AttributesError::BadName(name));
        }
        if list.iter().any(|a| a.name == name) {
            return Err(AttributesError::Duplicate(name));
        }
        let value = AttributeValue::parse(value)
            .map_err(|problem| AttributesError::BadValue { name, problem })?;
        list.push(Attribute {
            name: name.to_string(),
            value,
        });
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ranges(r: &[(u64, u64)]) -> AttributeValue {
        let v: Vec<Range> = r.iter().map(|&(b, e)| Range::new(b, e)).collect();
        AttributeValue::Ranges(RangeSet::from_ranges(&v).unwrap())
    }

    fn scalar(m: i64) -> AttributeValue {
        AttributeValue::Scalar(AttributeScalar::from_milli(m))
    }

    #[test]
    fn parses_every_type_in_order() {
        let got =
            parse_attributes("rack:a; level:3;\nweight:-0.5;ports:[5-9, 1-2,3-3];big:1e3").unwrap();
        let want = vec![
            ("rack", AttributeValue::Text("a".into())),
            ("level", scalar(3000)),
            ("weight", scalar(-500)),
            ("ports", ranges(&[(1, 3), (5, 9)])),
            ("big", scalar(1_000_000)),
        ];
        assert_eq!(got.len(), want.len());
        for (a, (name, value)) in got.iter().zip(want) {
            assert_eq!((a.name.as_str(), &a.value), (name, &value));
        }
        assert_eq!(parse_attributes("").unwrap(), vec![]);
        assert_eq!(parse_attributes(" ; ").unwrap(), vec![]);
    }

    #[test]
    fn text_that_only_looks_numeric_stays_text() {
        for text in [
            "1.2.3", "-", ".", "--1", "-inf", "inf", "nan", "0x10", "1a", "+1",
        ] {
            let a = parse_attributes(&alloc::format!("x:{text}")).unwrap();
            assert_eq!(a[0].value, AttributeValue::Text(text.into()), "{text}");
        }
        // A value may contain ':' (only the first one separates the name).
        let a = parse_attributes("url:http://x").unwrap();
        assert_eq!(a[0].value, AttributeValue::Text("http://x".into()));
    }

    #[test]
    fn refusals_name_the_offending_part() {
        let cases: &[(&str, &str)] = &[
            ("rack", "has 'rack', which is not a name:value attribute"),
            ("a:1;a:2", "names attribute 'a' twice"),
            ("s:{x}", "has attribute 's' with a set value, which attributes do not support"),
            ("b@d:1", "has 'b@d', which is not an attribute name"),
            (":1", "has '', which is not an attribute name"),
            ("e:", "has attribute 'e' with an empty value"),
            ("p:[1-2", "has attribute 'p' with an unclosed '['"),
            ("p:[2-1]", "has attribute 'p' with '2-1', which is not a range BEGIN-END"),
            ("p:[x]", "has attribute 'p' with 'x', which is not a range BEGIN-END"),
            ("p:[]", "has attribute 'p' with '', which is not a range BEGIN-END"),
            ("n:99999999999999999999", "has attribute 'n' with a number too large for an attribute"),
            ("n:-1e300", "has attribute 'n' with a number too large for an attribute"),
            (
                "t:a]b",
                "has attribute 't' with a text value containing a bracket, brace, comma or control character",
            ),
        ];
        for (text, want) in cases {
            let got = parse_attributes(text).unwrap_err().to_string();
            assert_eq!(&got, want, "{text}");
        }
        let many: String = (0..17u64)
            .map(|i| alloc::format!("{}-{}", i * 10, i * 10))
            .collect::<Vec<_>>()
            .join(",");
        let text = alloc::format!("p:[{many}]");
        assert_eq!(
            parse_attributes(&text).unwrap_err().to_string(),
            "has attribute 'p' with more than 16 ranges"
        );
    }

    #[test]
    fn display_is_mesos_text_and_parses_back() {
        let text = "rack:a;level:2.5;neg:-3;ports:[1-3, 5-9]";
        let attrs = parse_attributes(text).unwrap();
        let shown: Vec<String> = attrs.iter().map(ToString::to_string).collect();
        assert_eq!(shown.join(";"), text);
        assert_eq!(parse_attributes(&shown.join(";")).unwrap(), attrs);
    }

    #[test]
    fn scalars_round_at_three_decimals_and_convert_from_f64() {
        assert_eq!(
            AttributeScalar::parse("0.0005"),
            Some(AttributeScalar::from_milli(1))
        );
        assert_eq!(
            AttributeScalar::parse("-0.0005"),
            Some(AttributeScalar::from_milli(-1))
        );
        assert_eq!(
            AttributeScalar::parse("-0"),
            Some(AttributeScalar::from_milli(0))
        );
        assert_eq!(AttributeScalar::parse("--1"), None);
        assert_eq!(
            AttributeScalar::from_f64(-2.5),
            Some(AttributeScalar::from_milli(-2500))
        );
        assert_eq!(AttributeScalar::from_f64(f64::NAN), None);
        assert_eq!(AttributeScalar::from_milli(-2500).as_f64(), -2.5);
        assert_eq!(AttributeScalar::from_milli(-2500).to_string(), "-2.5");
    }

    #[test]
    fn new_checks_name_and_text() {
        assert!(Attribute::new("rack", AttributeValue::Text("a".into())).is_some());
        assert!(Attribute::new("ra ck", AttributeValue::Text("a".into())).is_none());
        assert!(Attribute::new("rack", AttributeValue::Text("a,b".into())).is_none());
        assert!(Attribute::new("rack", AttributeValue::Text(String::new())).is_none());
        assert!(Attribute::new("n", scalar(-1)).is_some());
    }

    #[test]
    fn postcard_round_trip() {
        let attrs = parse_attributes("rack:a;level:-2.5;ports:[1-3,5-9]").unwrap();
        let bytes = postcard::to_allocvec(&attrs).unwrap();
        assert_eq!(
            postcard::from_bytes::<Vec<Attribute>>(&bytes).unwrap(),
            attrs
        );
    }
}
