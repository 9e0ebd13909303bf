//! What mesolite says about its version: `GET /version` and GET_VERSION. The Mesos API level
//! (`1.5.0`, three integers that clients parse) is the `version`; mesolite's own version appears
//! only in `git_tag` and `mesolite_version`. Build facts come from variables set at build time
//! (`SOURCE_DATE_EPOCH`, `MESOLITE_GIT_SHA`, `MESOLITE_BUILD_USER`) and are empty when unset.

use crate::v1;

/// mesolite's own version.
pub const MESOLITE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The build time in seconds since the Unix epoch, when the build said.
fn build_time() -> Option<u64> {
    option_env!("SOURCE_DATE_EPOCH").and_then(|s| s.trim().parse().ok())
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a Unix time, as Mesos prints its build date.
pub fn utc_date(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm), for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn git_tag() -> String {
    format!("mesolite-{MESOLITE_VERSION}")
}

fn build_user() -> &'static str {
    option_env!("MESOLITE_BUILD_USER").unwrap_or("mesolite")
}

/// The `GET /version` answer: every key present; `build_time` is a number as in Mesos.
pub fn version_json() -> String {
    let body = serde_json::json!({
        "version": mesolite_core::master::MESOS_VERSION,
        "build_date": build_time().map(utc_date).unwrap_or_default(),
        "build_time": build_time().unwrap_or(0),
        "build_user": build_user(),
        "git_sha": option_env!("MESOLITE_GIT_SHA").unwrap_or(""),
        "git_tag": git_tag(),
        "mesolite_version": MESOLITE_VERSION,
    });
    v1::to_ascii_json(&body)
}

/// `VersionInfo` for GET_VERSION on masters and agents.
pub fn version_info() -> v1::operator::VersionInfo {
    v1::operator::VersionInfo {
        version: mesolite_core::master::MESOS_VERSION.to_string(),
        build_date: build_time().map(utc_date),
        build_time: build_time().map(|t| t as f64),
        build_user: Some(build_user().to_string()),
        git_sha: option_env!("MESOLITE_GIT_SHA").map(str::to_string),
        git_branch: None,
        git_tag: Some(git_tag()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_json_has_every_key_and_a_three_integer_version() {
        let v: serde_json::Value = serde_json::from_str(&version_json()).unwrap();
        let keys = [
            "version",
            "build_date",
            "build_time",
            "build_user",
            "git_sha",
            "git_tag",
            "mesolite_version",
        ];
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), keys.len(), "{v}");
        for k in keys {
            assert!(obj.contains_key(k), "{k} missing in {v}");
        }
        let parts: Vec<u32> = v["version"]
            .as_str()
            .unwrap()
            .split('.')
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(parts, [1, 5, 0]);
        assert_eq!(v["mesolite_version"], MESOLITE_VERSION);
        assert!(v["git_tag"].as_str().unwrap().contains(MESOLITE_VERSION));
        assert!(!v["version"].as_str().unwrap().contains("mesolite"));
    }

    #[test]
    fn build_dates_are_utc_civil_dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00:00");
        // The GET_VERSION example in Mesos' operator API docs.
        assert_eq!(utc_date(1_466_810_317), "2016-06-24 23:18:37");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00");
    }
}
