//! Validated value types for flags: durations, addresses, host names, scalars and attributes.
//!
//! Each `parse_*` function returns the reason a text is rejected, phrased to follow the quoted
//! value in a `ConfigError` ("is not an IP:PORT address"), so the caller adds the flag's name.

use core::fmt;
use mesolite_core::time::Duration;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU16;

/// The most significant digits a decimal number may have; this keeps the arithmetic below in `u128`.
const MAX_DIGITS: usize = 20;

/// Splits a plain decimal such as `12.5` into its digits as an integer and the number of digits after
/// the point (`125`, 1). Signs, exponents and empty parts are rejected.
fn parse_decimal(text: &str) -> Option<(u128, u32)> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if whole.len() + frac.len() > MAX_DIGITS {
        return None;
    }
    let mut mantissa: u128 = 0;
    for c in whole.chars().chain(frac.chars()) {
        let d = c.to_digit(10)?;
        mantissa = mantissa * 10 + u128::from(d);
    }
    if text.contains('.') && frac.is_empty() {
        return None;
    }
    Some((mantissa, frac.len() as u32))
}

/// Parses a Mesos-style duration into milliseconds, rounding down.
///
/// A number followed by a unit: `ns`, `us`, `ms`, `s`/`sec`/`secs`, `min`/`mins`, `h`/`hr`/`hrs`,
/// `d`/`day`/`days`, `w`/`week`/`weeks`; a plain number means seconds. Fractions such as `1.5s` are
/// allowed.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const REASON: &str = "is not a duration (like 5s, 500ms, 1min, 2hrs, 1days)";
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_nanos: u128 = match unit.trim_start() {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "" | "s" | "sec" | "secs" => 1_000_000_000,
        "min" | "mins" => 60 * 1_000_000_000,
        "h" | "hr" | "hrs" => 3_600 * 1_000_000_000,
        "d" | "day" | "days" => 86_400 * 1_000_000_000,
        "w" | "week" | "weeks" => 7 * 86_400 * 1_000_000_000,
        _ => return Err(REASON.into()),
    };
    let (mantissa, frac_digits) = parse_decimal(number).ok_or_else(|| String::from(REASON))?;
    let nanos = mantissa * unit_nanos / 10u128.pow(frac_digits);
    let millis =
        u64::try_from(nanos / 1_000_000).map_err(|_| String::from("is too long a duration"))?;
    Ok(Duration::from_millis(millis))
}

/// Checks that `d` lies in `min..=max`, with a reason naming the bounds in the most readable unit.
pub fn check_duration_range(d: Duration, min: Duration, max: Duration) -> Result<Duration, String> {
    if d < min || d > max {
        return Err(format!(
            "must be between {} and {}",
            DurationText(min),
            DurationText(max)
        ));
    }
    Ok(d)
}

/// Shows a duration in the largest unit that divides it exactly (`1s`, `500ms`, `1days`).
struct DurationText(Duration);

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, size) in [
            ("days", 86_400_000),
            ("hrs", 3_600_000),
            ("mins", 60_000),
            ("s", 1_000),
        ] {
            if ms != 0 && (ms / size) * size == ms {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

/// Parses an `IP:PORT` socket address to listen on; IPv6 goes in brackets (`[::1]:5050`). Port 0
/// (any free port) is allowed.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse::<SocketAddr>()
        .map_err(|_| "is not an IP:PORT address".into())
}

/// Parses an IP address to advertise to others; the unspecified address (`0.0.0.0`, `::`) is
/// rejected because no peer can reach it.
pub fn parse_advertise_ip(text: &str) -> Result<IpAddr, String> {
    let ip = text
        .parse::<IpAddr>()
        .map_err(|_| String::from("is not an IP address"))?;
    if ip.is_unspecified() {
        return Err("is the unspecified address, which no peer can reach".into());
    }
    Ok(ip)
}

/// Parses an integer in `min..=max`.
pub fn parse_bounded(text: &str, min: u32, max: u32) -> Result<u32, String> {
    let reason = || format!("must be a whole number between {min} and {max}");
    let n: u64 = text.parse().map_err(|_| reason())?;
    if n < u64::from(min) || n > u64::from(max) {
        return Err(reason());
    }
    Ok(n as u32)
}

/// A host name: letters, digits, `-`, `_` and `.`, at most 253 characters, not starting with `-` or
/// `.`. IPv4 literals are host names too. mesolite never resolves it (musl has no NSS).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hostname(String);

impl Hostname {
    /// Validates `text` as a host name.
    pub fn parse(text: &str) -> Result<Hostname, String> {
        const REASON: &str = "is not a host name (letters, digits, '-', '_' and '.')";
        let ok_chars = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if text.is_empty() || text.len() > 253 || !ok_chars || text.starts_with(['-', '.']) {
            return Err(REASON.into());
        }
        Ok(Hostname(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A master's address, `HOST:PORT`, where the host is a host name, an IPv4 address or a bracketed
/// IPv6 address. The host is kept as text; resolving it is the caller's business. The port is 1..=65535.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MasterAddr {
    host: String,
    port: u16,
}

impl MasterAddr {
    /// Validates `text` as `HOST:PORT`.
    pub fn parse(text: &str) -> Result<MasterAddr, String> {
        const REASON: &str = "is not a HOST:PORT address";
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (v6, port) = rest.split_once("]:").ok_or_else(|| String::from(REASON))?;
            let ip: Ipv6Addr = v6.parse().map_err(|_| String::from(REASON))?;
            (ip.to_string(), port)
        } else {
            let (host, port) = text.rsplit_once(':').ok_or_else(|| String::from(REASON))?;
            let host = Hostname::parse(host).map_err(|_| String::from(REASON))?;
            (host.0, port)
        };
        let port: u16 = port.parse().map_err(|_| String::from(REASON))?;
        if port == 0 {
            return Err("has port 0; a master's port is 1..=65535".into());
        }
        Ok(MasterAddr { host, port })
    }
    /// The address of a master at an IP address.
    pub fn from_ip(ip: IpAddr, port: NonZeroU16) -> MasterAddr {
        MasterAddr {
            host: ip.to_string(),
            port: port.get(),
        }
    }
    /// The host: a name, an IPv4 address, or an IPv6 address without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The IP address when the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl fmt::Display for MasterAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Parses a comma-separated, non-empty list of `HOST:PORT` addresses.
pub fn parse_master_list(text: &str) -> Result<Vec<MasterAddr>, String> {
    text.split(',')
        .map(|part| MasterAddr::parse(part.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| "is not a comma-separated list of HOST:PORT addresses".into())
}

/// A non-negative decimal quantity with Mesos' resolution of three decimal places (`0.1` cpus,
/// `32` MB), stored in thousandths. More decimals are rounded to the nearest thousandth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scalar(u64);

impl Scalar {
    pub const fn from_thousandths(t: u64) -> Scalar {
        Scalar(t)
    }
    pub const fn thousandths(self) -> u64 {
        self.0
    }
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    /// Parses a decimal in `min..=max` (bounds in thousandths).
    pub fn parse(text: &str, min: Scalar, max: Scalar) -> Result<Scalar, String> {
        let reason = || format!("must be a number between {min} and {max}");
        let (mantissa, frac_digits) = parse_decimal(text).ok_or_else(reason)?;
        let scale = 10u128.pow(frac_digits);
        let thousandths = (mantissa * 1000 + scale / 2) / scale;
        let value = u64::try_from(thousandths)
            .map(Scalar)
            .map_err(|_| reason())?;
        if value < min || value > max {
            return Err(reason());
        }
        Ok(value)
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 1000, self.0 % 1000);
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{frac:03}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// One agent attribute's value, typed as Mesos types it: ranges in brackets, a number, or text.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// A finite number, such as `rack:2`.
    Scalar(f64),
    /// Inclusive ranges with `begin <= end`, such as `ports:[1-10,20-30]`.
    Ranges(Vec<(u64, u64)>),
    /// Any other text, such as `zone:a`.
    Text(String),
}

/// One `name:value` attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub value: AttributeValue,
}

impl Attribute {
    /// The attribute's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The value in Mesos' text form: `2`, `[1-2,5-9]` or `a`.
    pub fn value_text(&self) -> String {
        self.value.to_string()
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Scalar(x) => write!(f, "{x}"),
            AttributeValue::Ranges(ranges) => {
                f.write_str("[")?;
                for (i, (b, e)) in ranges.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    write!(f, "{sep}{b}-{e}")?;
                }
                f.write_str("]")
            }
            AttributeValue::Text(t) => f.write_str(t),
        }
    }
}

/// Agent attributes as given by `--attributes 'rack:a;zone:b'`: `;`-separated `name:value` pairs
/// with distinct names (Mesos `Attributes::parse`; SET values are not supported, as in Mesos).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes(Vec<Attribute>);

impl Attributes {
    /// Validates `text`; empty text gives no attributes.
    pub fn parse(text: &str) -> Result<Attributes, String> {
        let mut list: Vec<Attribute> = Vec::new();
        for pair in text
            .split([';', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (name, value) = pair
                .split_once(':')
                .ok_or_else(|| format!("has '{pair}', which is not a name:value attribute"))?;
            let (name, value) = (name.trim(), value.trim());
            let name_ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
            if !name_ok {
                return Err(format!("has '{name}', which is not an attribute name"));
            }
            if list.iter().any(|a| a.name == name) {
                return Err(format!("names attribute '{name}' twice"));
            }
            let value = parse_attribute_value(value)
                .map_err(|why| format!("has attribute '{name}' {why}"))?;
            list.push(Attribute {
                name: name.to_string(),
                value,
            });
        }
        Ok(Attributes(list))
    }
    pub fn as_slice(&self) -> &[Attribute] {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn parse_attribute_value(value: &str) -> Result<AttributeValue, String> {
    if value.is_empty() {
        return Err("with an empty value".into());
    }
    if let Some(inner) = value.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| String::from("with an unclosed '['"))?;
        let mut ranges = Vec::new();
        for part in inner.split(',').map(str::trim) {
            let bad = || format!("with '{part}', which is not a range BEGIN-END");
            let (b, e) = part.split_once('-').ok_or_else(bad)?;
            let (b, e): (u64, u64) = (
                b.trim().parse().map_err(|_| bad())?,
                e.trim().parse().map_err(|_| bad())?,
            );
            if b > e {
                return Err(bad());
            }
            ranges.push((b, e));
        }
        return Ok(AttributeValue::Ranges(ranges));
    }
    if value.starts_with('{') {
        return Err("with a set value, which attributes do not support".into());
    }
    if value.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
        if let Ok(x) = value.parse::<f64>() {
            if x.is_finite() {
                return Ok(AttributeValue::Scalar(x));
            }
        }
    }
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '[' | ']' | '{' | '}' | ','))
    {
        return Err(
            "with a text value containing a bracket, brace, comma or control character".into(),
        );
    }
    Ok(AttributeValue::Text(value.to_string()))
}
