//! Validated value types for flags: durations, addresses, host names, scalars, attributes, the
//! fault domain and the reconfiguration policy.
//!
//! Each `parse_*` function returns the reason a text is rejected, phrased to follow the quoted
//! value in a `ConfigError` ("is not an IP:PORT address"), so the caller adds the flag's name.

use core::fmt;
use mesolite_core::agent::reconfiguration::ReconfigurationPolicy;
use mesolite_core::attributes::parse_attributes;
pub use mesolite_core::attributes::{Attribute, AttributeScalar, AttributeValue};
use mesolite_core::time::Duration;
use mesolite_core::wire::FaultDomain;
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

/// Parses a percentage such as `100%`, `50%` or `12.5%` (the `%` is required, as in Mesos'
/// `--recovery_agent_removal_limit`) into hundredths of a percent, within 0%..=100%.
pub fn parse_percent(text: &str) -> Result<u32, String> {
    const REASON: &str = "is not a percentage between 0% and 100% (like 50%)";
    let number = text.strip_suffix('%').ok_or(REASON)?;
    let (mantissa, frac_digits) = parse_decimal(number).ok_or(REASON)?;
    if frac_digits > 2 {
        return Err("has more than two decimals".into());
    }
    let hundredths = mantissa * 10u128.pow(2 - frac_digits);
    if hundredths > 10_000 {
        return Err(REASON.into());
    }
    Ok(hundredths as u32)
}

/// Parses a fraction such as `0.1` or `1` (as Mesos' `--gc_disk_headroom`) into permille, within
/// 0.0..=1.0 and with at most three decimals.
pub fn parse_fraction_permille(text: &str) -> Result<u16, String> {
    const REASON: &str = "is not a fraction between 0.0 and 1.0 (like 0.1)";
    let (mantissa, frac_digits) = parse_decimal(text).ok_or(REASON)?;
    if frac_digits > 3 {
        return Err("has more than three decimals".into());
    }
    let permille = mantissa * 10u128.pow(3 - frac_digits);
    u16::try_from(permille)
        .ok()
        .filter(|p| *p <= 1000)
        .ok_or_else(|| REASON.into())
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

/// Agent attributes as given by `--attributes 'rack:a;zone:b'`: `;`-separated `name:value` pairs
/// with distinct names, parsed by core (Mesos `Attributes::parse`; SET values are not supported,
/// as in Mesos).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes(Vec<Attribute>);

impl Attributes {
    /// Validates `text`; empty text gives no attributes.
    pub fn parse(text: &str) -> Result<Attributes, String> {
        parse_attributes(text)
            .map(Attributes)
            .map_err(|e| e.to_string())
    }
    pub fn as_slice(&self) -> &[Attribute] {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The attributes, as an `AgentInfo` holds them.
    pub fn to_vec(&self) -> Vec<Attribute> {
        self.0.clone()
    }
}

/// Parses `--reconfiguration-policy`: `equal` or `additive`.
pub fn parse_reconfiguration_policy(text: &str) -> Result<ReconfigurationPolicy, String> {
    ReconfigurationPolicy::from_name(text).ok_or_else(|| "is not equal or additive".into())
}

/// Parses `--domain` in the JSON form Mesos takes (a `DomainInfo`):
/// `{"fault_domain":{"region":{"name":"eu"},"zone":{"name":"eu-1"}}}`. Unknown keys are
/// ignored, as Mesos' JSON parser ignores them; both names must be non-empty.
pub fn parse_domain(text: &str) -> Result<FaultDomain, String> {
    const SHAPE: &str = r#"{"fault_domain":{"region":{"name":"R"},"zone":{"name":"Z"}}}"#;
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|_| format!("is not JSON like {SHAPE}"))?;
    let fault_domain = json
        .get("fault_domain")
        .ok_or_else(|| format!("has no fault_domain; expected JSON like {SHAPE}"))?;
    let name = |part: &str| -> Result<String, String> {
        match fault_domain.get(part).and_then(|p| p.get("name")) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!(
                "has no non-empty fault_domain.{part}.name; expected JSON like {SHAPE}"
            )),
        }
    };
    Ok(FaultDomain {
        region: name("region")?,
        zone: name("zone")?,
    })
}
