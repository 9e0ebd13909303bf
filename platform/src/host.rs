//! Host facts an agent reports: detected resources (as Mesos detects them), the address of the
//! default route, and the kernel's host name. Nothing here uses NSS (musl has none).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::path::Path;

/// The ports offered when `--resources` names none (Mesos `DEFAULT_PORTS`).
pub const DEFAULT_PORTS: &str = "[31000-32000]";
/// cpus reported when the core count cannot be read (Mesos `DEFAULT_CPUS`).
pub const DEFAULT_CPUS: u32 = 1;
/// Memory in MB reported when `/proc/meminfo` cannot be read (Mesos `DEFAULT_MEM`, 1 GB).
pub const DEFAULT_MEM_MB: u64 = 1024;
/// Disk in MB reported when the work dir's filesystem cannot be measured (Mesos `DEFAULT_DISK`, 10 GB).
pub const DEFAULT_DISK_MB: u64 = 10 * 1024;
/// Detected memory and disk are rounded down to a multiple of this many MB (when at least this
/// large), so that a slightly different `MemTotal` after a kernel upgrade, or a resized filesystem
/// metadata area, does not change what an agent offers on restart.
pub const ROUNDING_MB: u64 = 64;

/// The resources Mesos would detect on this host; see [`detect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectedResources {
    pub cpus: u32,
    pub mem_mb: u64,
    pub disk_mb: u64,
}

impl DetectedResources {
    /// Mesos' resource text: `cpus:N;mem:M;disk:D;ports:[31000-32000]`.
    pub fn to_text(&self) -> String {
        format!(
            "cpus:{};mem:{};disk:{};ports:{DEFAULT_PORTS}",
            self.cpus, self.mem_mb, self.disk_mb
        )
    }
}

/// Detects this host's resources as Mesos' containerizer does, with `work_dir` deciding the disk:
///
/// * `cpus`: the cores this process may run on (`available_parallelism`, which honours CPU
///   affinity and cgroup quotas), else [`DEFAULT_CPUS`];
/// * `mem`: `MemTotal` from `/proc/meminfo` minus 1 GB when that is at least 2 GB, else half;
///   [`DEFAULT_MEM_MB`] if unreadable;
/// * `disk`: the size of `work_dir`'s filesystem (`statvfs`) minus 5 GB when that is at least
///   10 GB, else half; [`DEFAULT_DISK_MB`] if it cannot be measured;
/// * `ports`: [`DEFAULT_PORTS`].
///
/// Memory and disk are then rounded down with [`round_down_mb`].
pub fn detect(work_dir: &Path) -> DetectedResources {
    let cpus = std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        .unwrap_or(DEFAULT_CPUS);
    let mem_mb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| parse_mem_total_kb(&text))
        .map(|kb| mem_for_tasks_mb(kb / 1024))
        .unwrap_or(DEFAULT_MEM_MB);
    let disk_mb = filesystem_size_bytes(work_dir)
        .map(|bytes| disk_for_tasks_mb(bytes / (1024 * 1024)))
        .unwrap_or(DEFAULT_DISK_MB);
    DetectedResources {
        cpus,
        mem_mb,
        disk_mb,
    }
}

/// [`detect`] as Mesos' resource text, such as `cpus:4;mem:14272;disk:241088;ports:[31000-32000]`.
pub fn detect_resources(work_dir: &Path) -> String {
    detect(work_dir).to_text()
}

/// The `MemTotal` line of `/proc/meminfo`, in kB.
pub fn parse_mem_total_kb(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let kb = words.next()?.parse().ok()?;
    matches!(words.next(), Some("kB") | None).then_some(kb)
}

/// Mesos' rule for memory left to tasks: total − 1 GB when total ≥ 2 GB, else half; then rounded.
pub fn mem_for_tasks_mb(total_mb: u64) -> u64 {
    let mb = if total_mb >= 2048 {
        total_mb - 1024
    } else {
        total_mb / 2
    };
    round_down_mb(mb)
}

/// Mesos' rule for disk left to tasks: size − 5 GB when size ≥ 10 GB, else half; then rounded.
pub fn disk_for_tasks_mb(size_mb: u64) -> u64 {
    let mb = if size_mb >= 10 * 1024 {
        size_mb - 5 * 1024
    } else {
        size_mb / 2
    };
    round_down_mb(mb)
}

/// Rounds down to a multiple of [`ROUNDING_MB`]; amounts below it are kept, so small hosts still
/// offer something.
pub fn round_down_mb(mb: u64) -> u64 {
    if mb < ROUNDING_MB {
        mb
    } else {
        mb - mb % ROUNDING_MB
    }
}

/// The total size in bytes of the filesystem holding `path`.
fn filesystem_size_bytes(path: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(path).ok()?;
    st.f_blocks.checked_mul(st.f_frsize)
}

/// The used share (0.0..=1.0) of the filesystem holding `path`, as Mesos' `fs::usage` measures it:
/// blocks in use, counting those reserved for root, over all blocks (`statvfs`).
pub fn disk_usage(path: &Path) -> std::io::Result<f64> {
    let st = rustix::fs::statvfs(path)?;
    if st.f_blocks == 0 {
        return Ok(0.0);
    }
    let used = st.f_blocks.saturating_sub(st.f_bfree);
    Ok((used as f64 / st.f_blocks as f64).clamp(0.0, 1.0))
}

/// The local address the kernel would use to reach the internet: the address of the default
/// route's interface, IPv4 first, then IPv6. `None` when there is no default route.
///
/// It connects a UDP socket to a documentation address (192.0.2.1, 2001:db8::1), which makes the
/// kernel pick a route and source address without sending any packet, and reads the socket's
/// local address. The unspecified address is never returned.
pub fn default_route_ip() -> Option<IpAddr> {
    let probes = [
        (
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 9)),
        ),
        (
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
            SocketAddr::from((Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 9)),
        ),
    ];
    probes.into_iter().find_map(|(local, remote)| {
        let socket = UdpSocket::bind(local).ok()?;
        socket.connect(remote).ok()?;
        let ip = socket.local_addr().ok()?.ip();
        (!ip.is_unspecified()).then_some(ip)
    })
}

/// The address to advertise when `--advertise-ip` is not given: [`default_route_ip`], else
/// 127.0.0.1. Never the unspecified address.
pub fn advertise_ip() -> IpAddr {
    default_route_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The kernel's host name: `/proc/sys/kernel/hostname`, else `uname`'s node name, else `localhost`.
pub fn hostname() -> String {
    let from_proc =
        std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string());
    match from_proc {
        Ok(name) if !name.is_empty() => name,
        _ => {
            let uname = rustix::system::uname();
            let name = uname.nodename().to_string_lossy().trim().to_string();
            if name.is_empty() {
                "localhost".to_string()
            } else {
                name
            }
        }
    }
}

/// The kernel's id of this boot (`/proc/sys/kernel/random/boot_id`), which changes on every
/// reboot; `None` where the kernel does not provide it.
pub fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty() && id.len() <= 64).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesolite_core::resources::Resources;

    #[test]
    fn disk_usage_measures_a_real_filesystem_and_names_a_missing_path() {
        let dir = std::env::current_dir().expect("cwd");
        let used = disk_usage(&dir).expect("statvfs of the current dir");
        // The filesystem holding this crate's sources is not empty.
        assert!(used > 0.0 && used <= 1.0, "{used}");
        let err = disk_usage(Path::new("/nonexistent/mesolite")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn mem_total_matches_sysinfo() {
        let text = std::fs::read_to_string("/proc/meminfo").expect("read /proc/meminfo");
        let kb = parse_mem_total_kb(&text).expect("MemTotal");
        let info = rustix::system::sysinfo();
        let total_bytes = info.totalram as u64 * u64::from(info.mem_unit);
        assert_eq!(kb * 1024, total_bytes);
        assert_eq!(
            parse_mem_total_kb("MemFree: 1 kB\nMemTotal:  2048 kB\n"),
            Some(2048)
        );
        assert_eq!(parse_mem_total_kb("MemTotal: lots kB\n"), None);
        assert_eq!(parse_mem_total_kb("MemTotal: 5 MB\n"), None);
        assert_eq!(parse_mem_total_kb(""), None);
    }

    #[test]
    fn mesos_rules_with_rounding() {
        // (total MB, mem MB, disk MB)
        let cases = [
            (24_105, 23_040, 18_944),
            (4_096, 3_072, 2_048),
            (2_048, 1_024, 1_024),
            (2_047, 960, 960),
            (10_240, 9_216, 5_120),
            (10_239, 9_152, 5_056),
            (100, 50, 50),
            (0, 0, 0),
        ];
        for (total, mem, disk) in cases {
            assert_eq!(mem_for_tasks_mb(total), mem, "mem of {total}");
            assert_eq!(disk_for_tasks_mb(total), disk, "disk of {total}");
        }
        // Small drifts of the total do not change the result.
        assert_eq!(mem_for_tasks_mb(24_105), mem_for_tasks_mb(24_080));
    }

    #[test]
    fn detect_on_this_host() {
        let dir = std::env::temp_dir();
        let r = detect(&dir);
        assert_eq!(
            r.cpus as usize,
            std::thread::available_parallelism().unwrap().get()
        );
        let text = std::fs::read_to_string("/proc/meminfo").unwrap();
        let total_mb = parse_mem_total_kb(&text).unwrap() / 1024;
        assert!(r.mem_mb > 0 && r.mem_mb <= total_mb, "{r:?}");
        assert_eq!(r.mem_mb, mem_for_tasks_mb(total_mb));

        // The disk rule applied to what `df` says about the same filesystem.
        let out = std::process::Command::new("df")
            .args(["-P", "-k"])
            .arg(&dir)
            .output()
            .expect("run df");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let kb: u64 = stdout
            .lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(r.disk_mb, disk_for_tasks_mb(kb / 1024), "df said {stdout}");

        let text = detect_resources(&dir);
        assert_eq!(
            text,
            format!(
                "cpus:{};mem:{};disk:{};ports:[31000-32000]",
                r.cpus, r.mem_mb, r.disk_mb
            )
        );
        let parsed = Resources::parse(&text).expect("core parses the detected text");
        let again = Resources::parse(&parsed.to_string()).expect("and its printed form");
        assert_eq!(parsed.to_string(), again.to_string());
    }

    #[test]
    fn detect_falls_back_for_a_missing_dir() {
        let r = detect(Path::new("/nonexistent/mesolite/work"));
        assert_eq!(r.disk_mb, DEFAULT_DISK_MB);
    }

    /// True when `/proc/net/route` has an IPv4 default route that is up.
    fn has_ipv4_default_route() -> bool {
        let table = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
        table.lines().skip(1).any(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let up = cols
                .get(3)
                .and_then(|f| u32::from_str_radix(f, 16).ok())
                .is_some_and(|f| f & 1 == 1);
            cols.get(1) == Some(&"00000000") && cols.get(7) == Some(&"00000000") && up
        })
    }

    #[test]
    fn default_route_ip_is_a_local_address() {
        let ip = default_route_ip();
        if has_ipv4_default_route() {
            let ip = ip.expect("a default route gives an address");
            assert!(ip.is_ipv4() && !ip.is_unspecified(), "{ip}");
            // It is one of this host's addresses: a socket can bind to it.
            UdpSocket::bind((ip, 0)).expect("bind to the default route's address");
        }
        if let Some(ip) = ip {
            assert!(!ip.is_unspecified());
        }
        let adv = advertise_ip();
        assert!(!adv.is_unspecified());
        assert_eq!(adv, ip.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }

    #[test]
    fn hostname_matches_uname() {
        let name = hostname();
        assert!(!name.is_empty());
        assert_eq!(name, rustix::system::uname().nodename().to_string_lossy());
    }
}
