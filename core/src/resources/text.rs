//! Mesos' resource text form (`--resources=cpus:2;mem:1024;ports:[31000-32000];disk(eng):100`):
//! parsing into `Resources` and printing back.
//!
//! Grammar, whitespace allowed around every token:
//! `entries := entry (';' entry)*` (empty entries are skipped);
//! `entry := name ['(' role ')'] ':' value`;
//! `value := scalar | '[' [begin '-' end (',' begin '-' end)*] ']' | '{' [item (',' item)*] '}'`.
//! A role other than `*` makes a static reservation. Repeated entries merge.

use super::collection::{ArithError, Resources};
use super::fixed::Fixed;
use super::meta::{validate_role, RoleError};
use super::resource::{is_valid_name, snippet, Name, Resource, Snippet};
use super::value::{is_valid_item, ItemSet, Range, RangeSet, Value, MAX_ITEMS, MAX_RANGES};
use crate::ids::Role;
use core::fmt;

/// Why resource text could not be parsed. Each variant names the offending entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// An entry has no `:` between name and value.
    MissingColon { entry: Snippet },
    /// An entry's name is not 1 to 32 bytes of `[A-Za-z0-9_./-]`.
    InvalidName { entry: Snippet },
    /// A `(` after the name has no matching `)` before the `:`.
    UnclosedRole { entry: Snippet },
    /// The role in parentheses is not a valid Mesos role.
    InvalidRole {
        name: Name,
        role: Snippet,
        problem: RoleError,
    },
    /// A scalar is not a non-negative number (NaN, infinite, negative, garbage).
    InvalidScalar { name: Name, value: Snippet },
    /// A scalar is above [`Fixed::MAX`].
    ScalarTooLarge { name: Name, value: Snippet },
    /// A ranges value is not `[a-b, c-d]` (unclosed, missing `-`, not a `u64`).
    InvalidRanges { name: Name, value: Snippet },
    /// A range ends before it begins.
    InvertedRange { name: Name, begin: u64, end: u64 },
    /// More than [`MAX_RANGES`] disjoint ranges.
    TooManyRanges { name: Name },
    /// A set value is not closed with `}`.
    InvalidSet { name: Name, value: Snippet },
    /// A set item is empty, too long or has a forbidden character.
    InvalidItem { name: Name, item: Snippet },
    /// More than [`MAX_ITEMS`] distinct items.
    TooManyItems { name: Name },
    /// The same name appears with two value types.
    MixedTypes { name: Name },
    /// Repeated entries add up beyond [`Fixed::MAX`].
    Overflow { name: Name },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::MissingColon { entry } => write!(f, "resource entry '{entry}' has no ':' before its value"),
            ParseError::InvalidName { entry } => write!(
                f,
                "resource entry '{entry}': the name is not 1 to 32 characters of A-Z a-z 0-9 _ . / -"
            ),
            ParseError::UnclosedRole { entry } => write!(f, "resource entry '{entry}': the role has no closing ')'"),
            ParseError::InvalidRole { name, role, problem } => write!(f, "resource '{name}': role '{role}' {problem}"),
            ParseError::InvalidScalar { name, value } => {
                write!(f, "resource '{name}': '{value}' is not a non-negative number")
            }
            ParseError::ScalarTooLarge { name, value } => write!(f, "resource '{name}': '{value}' is too large"),
            ParseError::InvalidRanges { name, value } => {
                write!(f, "resource '{name}': '{value}' is not a list of ranges like [31000-32000, 33000-34000]")
            }
            ParseError::InvertedRange { name, begin, end } => {
                write!(f, "resource '{name}': range {begin}-{end} ends before it begins")
            }
            ParseError::TooManyRanges { name } => write!(f, "resource '{name}': more than {MAX_RANGES} separate ranges"),
            ParseError::InvalidSet { name, value } => {
                write!(f, "resource '{name}': '{value}' is not a set like {{a, b}}")
            }
            ParseError::InvalidItem { name, item } => write!(
                f,
                "resource '{name}': set item '{item}' is not 1 to 32 bytes without whitespace or ,;:()[]{{}}"
            ),
            ParseError::TooManyItems { name } => write!(f, "resource '{name}': more than {MAX_ITEMS} set items"),
            ParseError::MixedTypes { name } => write!(f, "resource '{name}' appears with different value types"),
            ParseError::Overflow { name } => write!(f, "resource '{name}': repeated entries add up to too much"),
        }
    }
}

impl Resources {
    /// Parses Mesos' text form, e.g. `cpus:2;mem:1024;ports:[31000-32000];disk(eng):100;zones:{a,b}`.
    /// The empty string gives no resources; zero and empty values are dropped.
    pub fn parse(text: &str) -> Result<Resources, ParseError> {
        Resources::parse_with_default_role(text, None)
    }

    /// Like [`Resources::parse`], but entries without a role are statically reserved for
    /// `default_role` (Mesos' agent `--default_role`; `None` or `*` means unreserved).
    /// `default_role` must be valid ([`validate_role`]); an invalid one is reported on the
    /// first entry that uses it.
    pub fn parse_with_default_role(
        text: &str,
        default_role: Option<&Role>,
    ) -> Result<Resources, ParseError> {
        let mut out = Resources::new();
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let r = parse_entry(entry, default_role.map(Role::as_str))?;
            out.add(&r).map_err(|e| match e {
                ArithError::TypeMismatch => ParseError::MixedTypes {
                    name: r.name.clone(),
                },
                ArithError::CapacityExceeded if matches!(r.value, Value::Set(_)) => {
                    ParseError::TooManyItems {
                        name: r.name.clone(),
                    }
                }
                ArithError::CapacityExceeded => ParseError::TooManyRanges {
                    name: r.name.clone(),
                },
                // Parsed resources are plain or statically reserved, hence mergeable: only
                // overflow is left.
                ArithError::Overflow | ArithError::Duplicate | ArithError::NotContained => {
                    ParseError::Overflow {
                        name: r.name.clone(),
                    }
                }
            })?;
        }
        Ok(out)
    }
}

/// Parses one non-empty, trimmed entry.
fn parse_entry(entry: &str, default_role: Option<&str>) -> Result<Resource, ParseError> {
    let colon = entry.find(':').ok_or_else(|| ParseError::MissingColon {
        entry: snippet(entry),
    })?;
    let (head, value) = match entry.find('(') {
        Some(open) if open < colon => {
            let close = entry[open..].find(')').map(|c| open + c).ok_or_else(|| {
                ParseError::UnclosedRole {
                    entry: snippet(entry),
                }
            })?;
            let after = entry[close + 1..].trim_start();
            let value = after
                .strip_prefix(':')
                .ok_or_else(|| ParseError::MissingColon {
                    entry: snippet(entry),
                })?;
            ((&entry[..open], Some(&entry[open + 1..close])), value)
        }
        _ => ((&entry[..colon], None), &entry[colon + 1..]),
    };
    let name_text = head.0.trim();
    if !is_valid_name(name_text) {
        return Err(ParseError::InvalidName {
            entry: snippet(entry),
        });
    }
    let mut name = Name::new();
    // `is_valid_name` bounded the length.
    let _ = name.push_str(name_text);
    let value = parse_value(&name, value.trim())?;
    let r = Resource {
        name,
        value,
        meta: None,
    };
    match head.1.map(str::trim).or(default_role) {
        None | Some("*") => Ok(r),
        Some(role) => {
            validate_role(role).map_err(|problem| ParseError::InvalidRole {
                name: r.name.clone(),
                role: snippet(role),
                problem,
            })?;
            let name = r.name.clone();
            // The role was validated and is not `*`, so this cannot fail; map just in case.
            r.reserved_static(Role::from(role))
                .map_err(|_| ParseError::InvalidRole {
                    name,
                    role: snippet(role),
                    problem: RoleError::ReservedComponent,
                })
        }
    }
}

fn parse_value(name: &Name, text: &str) -> Result<Value, ParseError> {
    if let Some(rest) = text.strip_prefix('[') {
        let inner = rest
            .strip_suffix(']')
            .ok_or_else(|| ParseError::InvalidRanges {
                name: name.clone(),
                value: snippet(text),
            })?;
        return parse_ranges(name, text, inner).map(Value::Ranges);
    }
    if let Some(rest) = text.strip_prefix('{') {
        let inner = rest
            .strip_suffix('}')
            .ok_or_else(|| ParseError::InvalidSet {
                name: name.clone(),
                value: snippet(text),
            })?;
        return parse_set(name, inner).map(Value::Set);
    }
    match Fixed::parse(text) {
        Some(f) => Ok(Value::Scalar(f)),
        None => {
            // A finite positive number that `Fixed` refused is too large.
            let value = snippet(text);
            if text.parse::<f64>().is_ok_and(|v| v.is_finite() && v > 0.0) {
                Err(ParseError::ScalarTooLarge {
                    name: name.clone(),
                    value,
                })
            } else {
                Err(ParseError::InvalidScalar {
                    name: name.clone(),
                    value,
                })
            }
        }
    }
}

fn parse_ranges(name: &Name, whole: &str, inner: &str) -> Result<RangeSet, ParseError> {
    let bad = || ParseError::InvalidRanges {
        name: name.clone(),
        value: snippet(whole),
    };
    let mut set = RangeSet::new();
    if inner.trim().is_empty() {
        return Ok(set);
    }
    for token in inner.split(',') {
        let (b, e) = token.split_once('-').ok_or_else(bad)?;
        let begin: u64 = parse_u64(b.trim()).ok_or_else(bad)?;
        let end: u64 = parse_u64(e.trim()).ok_or_else(bad)?;
        if begin > end {
            return Err(ParseError::InvertedRange {
                name: name.clone(),
                begin,
                end,
            });
        }
        set.insert(Range::new(begin, end))
            .map_err(|_| ParseError::TooManyRanges { name: name.clone() })?;
    }
    Ok(set)
}

/// Digits only: `u64::from_str` would also take a leading `+`.
fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_set(name: &Name, inner: &str) -> Result<ItemSet, ParseError> {
    let mut set = ItemSet::new();
    if inner.trim().is_empty() {
        return Ok(set);
    }
    for item in inner.split(',').map(str::trim) {
        if !is_valid_item(item) {
            return Err(ParseError::InvalidItem {
                name: name.clone(),
                item: snippet(item),
            });
        }
        set.insert(item)
            .map_err(|_| ParseError::TooManyItems { name: name.clone() })?;
    }
    Ok(set)
}

impl fmt::Display for Resource {
    /// `cpus:2`, `disk(eng):100`, `ports:[31000-32000]`. Meta the text form cannot express
    /// is printed Mesos-style for humans and does not parse back:
    /// `cpus(allocated: eng)(reservations: [(STATIC,eng),(DYNAMIC,eng/a,ops)])[MOUNT(/mnt),id:v1]{REV}<SHARED>:2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(m) = self.meta() {
            if let Some(role) = &m.allocation_role {
                write!(f, "(allocated: {role})")?;
            }
            match m.reservations.as_slice() {
                [] => {}
                [only] if only.is_plain_static() => write!(f, "({})", only.role)?,
                stack => {
                    f.write_str("(reservations: [")?;
                    for (i, r) in stack.iter().enumerate() {
                        if i > 0 {
                            f.write_str(",")?;
                        }
                        let kind = match r.kind {
                            super::ReservationKind::Static => "STATIC",
                            super::ReservationKind::Dynamic => "DYNAMIC",
                        };
                        write!(f, "({kind},{}", r.role)?;
                        if let Some(p) = &r.principal {
                            write!(f, ",{p}")?;
                        }
                        for (k, v) in &r.labels {
                            write!(f, ",{k}={v}")?;
                        }
                        f.write_str(")")?;
                    }
                    f.write_str("])")?;
                }
            }
            if let Some(d) = &m.disk {
                f.write_str("[")?;
                let mut sep = "";
                if let Some(s) = &d.source {
                    f.write_str(s.kind.name())?;
                    if let Some(root) = &s.root {
                        write!(f, "({root})")?;
                    }
                    if let Some(id) = &s.id {
                        write!(f, ",id:{id}")?;
                    }
                    if let Some(p) = &s.profile {
                        write!(f, ",profile:{p}")?;
                    }
                    sep = ",";
                }
                if let Some(p) = &d.persistence {
                    write!(f, "{sep}{}", p.id)?;
                    if let Some(path) = &d.container_path {
                        write!(f, ":{path}")?;
                    }
                    if d.read_only {
                        f.write_str(":ro")?;
                    }
                }
                f.write_str("]")?;
            }
            if let Some(p) = &m.provider_id {
                write!(f, "(provider: {p})")?;
            }
            if m.revocable {
                f.write_str("{REV}")?;
            }
            if m.shared {
                f.write_str("<SHARED>")?;
            }
        }
        write!(f, ":{}", self.value)
    }
}

impl fmt::Display for Resources {
    /// Entries joined by `;`; parses back to an equal `Resources` when every entry is plain
    /// or statically reserved.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}
