//! The maintenance part of the registry (Mesos `Registry.machines` and `Registry.schedules`):
//! machine ids, the one schedule of windows, each scheduled machine's mode, and Mesos' checks
//! of a schedule and of a list of machines.
//!
//! Every registry written before maintenance existed holds an empty `maintenance` list, so the
//! shape of [`MachineRecord`] was chosen here without a snapshot format change.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::state::{MachineMode, Registry, MAX_HOSTNAME_LEN, MAX_IP_LEN};

/// Most machines the maintenance schedule holds; a bigger schedule is refused with
/// [`MaintenanceError::TooManyMachines`].
pub const MAX_MAINTENANCE_MACHINES: usize = 10_240;

/// A machine (Mesos `MachineID`): the hostname and IP its agents announce. Two ids name the same
/// machine when both fields are equal, the hostname compared without case (Mesos' rule).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MachineId {
    pub hostname: String,
    pub ip: String,
}

impl MachineId {
    pub fn new(hostname: &str, ip: &str) -> MachineId {
        MachineId {
            hostname: String::from(hostname),
            ip: String::from(ip),
        }
    }

    /// Mesos' `MachineID` equality: the same IP and the same hostname ignoring ASCII case.
    pub fn same_machine(&self, other: &MachineId) -> bool {
        self.ip == other.ip && self.hostname.eq_ignore_ascii_case(&other.hostname)
    }

    /// True for an agent announcing this hostname and IP.
    pub fn is_agent(&self, hostname: &str, ip: &str) -> bool {
        self.ip == ip && self.hostname.eq_ignore_ascii_case(hostname)
    }
}

impl fmt::Display for MachineId {
    /// The JSON form Mesos puts in its messages: `{"hostname":"h","ip":"10.0.0.1"}`, each field
    /// only when set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        if !self.hostname.is_empty() {
            write_json_str(f, "hostname", &self.hostname)?;
        }
        if !self.ip.is_empty() {
            if !self.hostname.is_empty() {
                f.write_str(",")?;
            }
            write_json_str(f, "ip", &self.ip)?;
        }
        f.write_str("}")
    }
}

fn write_json_str(f: &mut fmt::Formatter<'_>, key: &str, value: &str) -> fmt::Result {
    write!(f, "\"{key}\":\"")?;
    for c in value.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if (c as u32) < 0x20 || !c.is_ascii() => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// When a machine may be unavailable (Mesos `Unavailability`): a start in nanoseconds since the
/// epoch and an optional duration in nanoseconds (none: indefinitely).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailability {
    pub start_nanos: i64,
    pub duration_nanos: Option<i64>,
}

/// A maintenance window (Mesos `maintenance.Window`): machines sharing one unavailability.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub machines: Vec<MachineId>,
    pub unavailability: Unavailability,
}

/// A scheduled machine (Mesos `Registry.Machine` and its place in `Registry.schedules`): its
/// mode (DRAINING or DOWN; a machine not listed is UP), the window it belongs to, and that
/// window's unavailability. The schedule is rebuilt by grouping records by `window`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineRecord {
    pub id: MachineId,
    pub mode: MachineMode,
    /// Index of the machine's window in the schedule as it was posted.
    pub window: u32,
    pub unavailability: Unavailability,
}

/// Why a maintenance operation was refused; the texts are Mesos'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaintenanceError {
    /// A window lists no machine.
    EmptyWindow,
    /// A list of machines (START/STOP_MAINTENANCE) is empty.
    EmptyMachineList,
    /// A machine has neither hostname nor IP.
    EmptyMachine,
    /// A machine's IP is not an IPv4 address.
    BadIp,
    /// A hostname or IP is longer than the registry keeps.
    MachineTooLong,
    /// An unavailability has a negative duration.
    NegativeDuration,
    /// A machine appears twice.
    Duplicate,
    /// The new schedule leaves out a DOWN machine.
    DownRemoved,
    /// START/STOP_MAINTENANCE names a machine that is not scheduled.
    NotScheduled,
    /// START_MAINTENANCE names a machine that is not DRAINING.
    NotDraining,
    /// STOP_MAINTENANCE names a machine that is not DOWN.
    NotDown,
    /// The schedule would hold more than [`MAX_MAINTENANCE_MACHINES`] machines.
    TooManyMachines,
}

impl MaintenanceError {
    /// The Mesos message, naming the machine at fault when there is one.
    pub fn message(&self, machine: Option<&MachineId>) -> String {
        let m = match machine {
            Some(id) => alloc::format!("{id}"),
            None => String::from("{}"),
        };
        match self {
            MaintenanceError::EmptyWindow => {
                String::from("List of machines in the maintenance window is empty")
            }
            MaintenanceError::EmptyMachineList => String::from("List of machines is empty"),
            MaintenanceError::EmptyMachine => {
                String::from("Both 'hostname' and 'ip' for a machine are empty")
            }
            MaintenanceError::BadIp => {
                let ip = machine.map_or("", |id| id.ip.as_str());
                alloc::format!("Failed to parse IP address '{ip}': not an IPv4 address")
            }
            MaintenanceError::MachineTooLong => alloc::format!(
                "Machine '{m}' has a hostname longer than {MAX_HOSTNAME_LEN} or an IP longer than {MAX_IP_LEN} bytes"
            ),
            MaintenanceError::NegativeDuration => {
                String::from("Unavailability 'duration' is negative")
            }
            MaintenanceError::Duplicate => {
                alloc::format!("Machine '{m}' appears more than once in the schedule")
            }
            MaintenanceError::DownRemoved => alloc::format!(
                "Machine '{m}' is deactivated and cannot be removed from the schedule"
            ),
            MaintenanceError::NotScheduled => {
                alloc::format!("Machine '{m}' is not part of a maintenance schedule")
            }
            MaintenanceError::NotDraining => alloc::format!(
                "Machine '{m}' is not in DRAINING mode and cannot be brought down"
            ),
            MaintenanceError::NotDown => {
                alloc::format!("Machine '{m}' is not in DOWN mode and cannot be brought up")
            }
            MaintenanceError::TooManyMachines => alloc::format!(
                "A maintenance schedule may hold at most {MAX_MAINTENANCE_MACHINES} machines"
            ),
        }
    }
}

impl fmt::Display for MaintenanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(None))
    }
}

/// A refusal and the machine it is about (an index into the op's own list, so no copy is made).
pub type Refusal<'a> = (MaintenanceError, Option<&'a MachineId>);

/// Mesos `validation::machine`: a hostname or an IP, and an IP that parses as IPv4.
fn check_machine(id: &MachineId) -> Result<(), Refusal<'_>> {
    if id.hostname.is_empty() && id.ip.is_empty() {
        return Err((MaintenanceError::EmptyMachine, Some(id)));
    }
    if id.hostname.len() > MAX_HOSTNAME_LEN || id.ip.len() > MAX_IP_LEN {
        return Err((MaintenanceError::MachineTooLong, Some(id)));
    }
    if !id.ip.is_empty() && id.ip.parse::<core::net::Ipv4Addr>().is_err() {
        return Err((MaintenanceError::BadIp, Some(id)));
    }
    Ok(())
}

/// Mesos `validation::schedule`: each window has machines and a non-negative duration, each
/// machine is valid and listed once, and no DOWN machine is left out.
pub fn check_schedule<'a>(
    reg: &'a Registry,
    windows: &'a [MaintenanceWindow],
) -> Result<(), Refusal<'a>> {
    let mut count = 0usize;
    for (w, window) in windows.iter().enumerate() {
        if window.machines.is_empty() {
            return Err((MaintenanceError::EmptyWindow, None));
        }
        if window.unavailability.duration_nanos.is_some_and(|d| d < 0) {
            return Err((MaintenanceError::NegativeDuration, None));
        }
        for (i, id) in window.machines.iter().enumerate() {
            check_machine(id)?;
            let earlier = windows[..w]
                .iter()
                .flat_map(|o| o.machines.iter())
                .chain(window.machines[..i].iter())
                .any(|o| o.same_machine(id));
            if earlier {
                return Err((MaintenanceError::Duplicate, Some(id)));
            }
            count += 1;
        }
    }
    if count > MAX_MAINTENANCE_MACHINES {
        return Err((MaintenanceError::TooManyMachines, None));
    }
    for m in reg
        .maintenance
        .iter()
        .filter(|m| m.mode == MachineMode::Down)
    {
        let kept = windows
            .iter()
            .flat_map(|w| w.machines.iter())
            .any(|id| id.same_machine(&m.id));
        if !kept {
            return Err((MaintenanceError::DownRemoved, Some(&m.id)));
        }
    }
    Ok(())
}

/// Mesos `validation::machines` and the mode checks of `/machine/down` (`want` DRAINING) and
/// `/machine/up` (`want` DOWN): a non-empty list of valid, distinct, scheduled machines in the
/// wanted mode.
pub fn check_machines<'a>(
    reg: &Registry,
    machines: &'a [MachineId],
    want: MachineMode,
) -> Result<(), Refusal<'a>> {
    if machines.is_empty() {
        return Err((MaintenanceError::EmptyMachineList, None));
    }
    for (i, id) in machines.iter().enumerate() {
        check_machine(id)?;
        if machines[..i].iter().any(|o| o.same_machine(id)) {
            return Err((MaintenanceError::Duplicate, Some(id)));
        }
    }
    for id in machines {
        let Some(m) = reg.machine(id) else {
            return Err((MaintenanceError::NotScheduled, Some(id)));
        };
        if m.mode != want {
            let e = match want {
                MachineMode::Down => MaintenanceError::NotDown,
                _ => MaintenanceError::NotDraining,
            };
            return Err((e, Some(id)));
        }
    }
    Ok(())
}

/// The records a new schedule leaves: machines already scheduled keep their mode, new ones
/// start DRAINING (Mesos `UpdateSchedule::perform`); all take their window's unavailability.
pub(super) fn scheduled(reg: &Registry, windows: &[MaintenanceWindow]) -> Vec<MachineRecord> {
    let mut out = Vec::new();
    for (w, window) in windows.iter().enumerate() {
        for id in &window.machines {
            let mode = reg.machine(id).map_or(MachineMode::Draining, |m| m.mode);
            out.push(MachineRecord {
                id: id.clone(),
                mode,
                // `check_schedule` bounds the machines, so the index fits.
                window: u32::try_from(w).unwrap_or(u32::MAX),
                unavailability: window.unavailability,
            });
        }
    }
    out
}

/// Sets the mode of each listed machine (START_MAINTENANCE: DOWN).
pub(super) fn set_mode(reg: &mut Registry, machines: &[MachineId], mode: MachineMode) {
    for m in reg.maintenance.iter_mut() {
        if machines.iter().any(|id| id.same_machine(&m.id)) {
            m.mode = mode;
        }
    }
}

/// Removes each listed machine from the schedule (STOP_MAINTENANCE: back UP).
pub(super) fn unschedule(reg: &mut Registry, machines: &[MachineId]) {
    reg.maintenance
        .retain(|m| !machines.iter().any(|id| id.same_machine(&m.id)));
}

/// Checks a stored maintenance list: bounded, valid and distinct machines, none UP.
pub(super) fn check_stored(list: &[MachineRecord]) -> bool {
    list.len() <= MAX_MAINTENANCE_MACHINES
        && list.iter().enumerate().all(|(i, m)| {
            m.mode != MachineMode::Up
                && check_machine(&m.id).is_ok()
                && !list[..i].iter().any(|o| o.id.same_machine(&m.id))
        })
}

impl Registry {
    /// The scheduled machine with this id, if any.
    pub fn machine(&self, id: &MachineId) -> Option<&MachineRecord> {
        self.maintenance.iter().find(|m| m.id.same_machine(id))
    }

    /// The maintenance mode of the machine an agent announcing `hostname` and `ip` runs on.
    pub fn machine_mode(&self, hostname: &str, ip: &str) -> MachineMode {
        self.maintenance
            .iter()
            .find(|m| m.id.is_agent(hostname, ip))
            .map_or(MachineMode::Up, |m| m.mode)
    }

    /// The schedule (Mesos `maintenance.Schedule`), its windows in the posted order; a window
    /// whose machines were all brought up is gone.
    pub fn maintenance_schedule(&self) -> Vec<MaintenanceWindow> {
        let mut windows: Vec<(u32, MaintenanceWindow)> = Vec::new();
        for m in &self.maintenance {
            match windows.iter_mut().find(|(w, _)| *w == m.window) {
                Some((_, window)) => window.machines.push(m.id.clone()),
                None => windows.push((
                    m.window,
                    MaintenanceWindow {
                        machines: alloc::vec![m.id.clone()],
                        unavailability: m.unavailability,
                    },
                )),
            }
        }
        windows.sort_by_key(|(w, _)| *w);
        windows.into_iter().map(|(_, w)| w).collect()
    }
}
