//! The operator-facing HTTP surface of masters and agents: the v1 operator API (`/api/v1`),
//! `/version`, the legacy v0 endpoints tools still poll (`/state`, `/metrics/snapshot`, `/flags`,
//! `/files/*`, `/monitor/statistics`, ...), and the 404 for every v0 path mesolite does not serve.

pub mod agent;
pub mod events;
pub mod files;
pub mod flags;
pub mod fragments;
pub mod legacy;
pub mod maintenance;
pub mod master;
pub mod metrics;
pub mod quota;
pub mod rendered;
pub mod reservations;
pub mod state_json;
pub mod version;

use crate::http::{self, Body};
use crate::v1::from_json;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use mesolite_core::time::Duration;
use serde::de::DeserializeOwned;

/// The answer for a Mesos path mesolite does not serve.
pub fn not_implemented(path: &str) -> Response<Body> {
    http::error(
        StatusCode::NOT_FOUND,
        format!("{path} is not implemented in mesolite"),
    )
}

/// Reads an operator `Call` of type `T` from a v1 request (POST, JSON, bounded body), or
/// answers with the error response.
#[allow(clippy::result_large_err)]
pub async fn read_call<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, Response<Body>> {
    let (parts, body) = http::read_body(req).await?;
    http::check_v1_request(&parts)?;
    from_json(&body).map_err(|e| {
        http::error(
            StatusCode::BAD_REQUEST,
            format!("Failed to parse body into Call: {e}"),
        )
    })
}

/// A duration the way Mesos prints one (stout's `Duration` output): the largest unit in which
/// the value is at least 1, as a short decimal: `200ms`, `1secs`, `1.5secs`, `15mins`.
pub fn mesos_duration(d: Duration) -> String {
    const UNITS: [(u64, &str); 6] = [
        (604_800_000, "weeks"),
        (86_400_000, "days"),
        (3_600_000, "hrs"),
        (60_000, "mins"),
        (1_000, "secs"),
        (1, "ms"),
    ];
    let ms = d.as_millis();
    for (size, unit) in UNITS {
        if ms >= size {
            let value = ms as f64 / size as f64;
            // Three decimals at most; `{}` drops a zero fraction (`1` rather than `1.0`).
            let rounded = (value * 1000.0).round() / 1000.0;
            return format!("{rounded}{unit}");
        }
    }
    String::from("0ms")
}

/// Seconds since the Unix epoch as Mesos reports times in legacy JSON.
pub fn secs(t: mesolite_core::time::WallTime) -> f64 {
    t.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_mesos_does() {
        assert_eq!(mesos_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(mesos_duration(Duration::from_secs(1)), "1secs");
        assert_eq!(mesos_duration(Duration::from_millis(1500)), "1.5secs");
        assert_eq!(mesos_duration(Duration::from_secs(15)), "15secs");
        assert_eq!(mesos_duration(Duration::from_secs(15 * 60)), "15mins");
        assert_eq!(mesos_duration(Duration::from_secs(2 * 3600)), "2hrs");
        assert_eq!(mesos_duration(Duration::from_secs(86_400)), "1days");
        assert_eq!(mesos_duration(Duration::from_secs(14 * 86_400)), "2weeks");
        assert_eq!(mesos_duration(Duration::from_millis(0)), "0ms");
    }
}
