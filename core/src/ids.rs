//! Newtype identifiers: Mesos' string ids (agent, framework, task, executor, offer, container)
//! and the dense slot indices the allocator uses internally.

use alloc::string::String;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Longest id accepted from the network or a file; longer ones are refused at the edge.
pub const MAX_ID_LEN: usize = 255;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                $name(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(String::from(s))
            }
        }
    };
}

string_id!(
    /// Mesos `AgentID` (v0 `SlaveID`): `<cluster id>-S<n>`, unique across master restarts.
    AgentId
);
string_id!(
    /// Mesos `FrameworkID`: `<cluster id>-<leader epoch>-<n>`.
    FrameworkId
);
string_id!(
    /// Mesos `TaskID`, chosen by the framework.
    TaskId
);
string_id!(
    /// Mesos `ExecutorID`; a command task's generated executor uses the task id.
    ExecutorId
);
string_id!(
    /// Mesos `OfferID`: `<cluster id>-<leader epoch>-O<n>`.
    OfferId
);
string_id!(
    /// Mesos `ContainerID`: one per executor run.
    ContainerId
);
string_id!(
    /// A role name (`*` is the default, unreserved role).
    Role
);

/// Checks an id received from the network: non-empty, at most [`MAX_ID_LEN`] bytes, printable,
/// and no `/` or `..` (ids become path components of the sandbox).
pub fn validate_id(kind: &'static str, s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError {
            kind,
            problem: "is empty",
        });
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError {
            kind,
            problem: "is longer than 255 bytes",
        });
    }
    if s == "." || s == ".." || s.contains('/') || s.contains('\0') {
        return Err(IdError {
            kind,
            problem: "contains '/', NUL or is '.'/'..'",
        });
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(IdError {
            kind,
            problem: "contains control characters",
        });
    }
    Ok(())
}

/// An id that cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdError {
    pub kind: &'static str,
    pub problem: &'static str,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.problem)
    }
}

/// Dense index of an agent in the allocator's tables (sized once by `--max-agents`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AgentSlot(pub u32);

/// Dense index of a framework in the allocator's tables (sized once by `--max-frameworks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FrameworkSlot(pub u32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_would_escape_the_sandbox_are_refused() {
        assert!(validate_id("task id", "web-1").is_ok());
        assert!(validate_id("task id", "").is_err());
        assert!(validate_id("task id", "..").is_err());
        assert!(validate_id("task id", "a/b").is_err());
        assert!(validate_id("task id", "a\nb").is_err());
        let long = "x".repeat(256);
        assert!(validate_id("task id", &long).is_err());
    }
}
