//! Version 1 of the internal protocol, still read so that agents not yet upgraded keep talking to
//! an upgraded master (masters are upgraded first). Only agent-to-master messages differ: in
//! version 1 `AgentInfo` held attributes as text pairs and had no fault domain. Master-to-agent
//! messages are the same in both versions.

use super::{AgentInfo, AgentToMaster, FrameworkRecord, StatusUpdate, TaskReport};
use crate::attributes::{Attribute, AttributeValue};
use crate::ids::{AgentId, ExecutorId, FrameworkId};
use crate::resources::Resources;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// The version this module reads.
pub const VERSION: u8 = 1;

/// `AgentInfo` as version 1 sent it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentInfoV1 {
    pub hostname: String,
    pub ip: String,
    pub port: u16,
    pub resources: Resources,
    /// Text attributes `name:value`, in the order given.
    pub attributes: Vec<(String, String)>,
    pub version: String,
}

/// `AgentToMaster` as version 1 sent it (variants in the same order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AgentToMasterV1 {
    Register {
        info: AgentInfoV1,
    },
    Reregister {
        id: AgentId,
        info: AgentInfoV1,
        frameworks: Vec<FrameworkRecord>,
        tasks: Vec<TaskReport>,
    },
    StatusUpdate(StatusUpdate),
    Pong {
        seq: u64,
    },
    ExecutorExited {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        status: i32,
        command_executor: bool,
    },
    ExecutorMessage {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    },
}

impl AgentInfoV1 {
    /// The current form: each text attribute typed as Mesos types it (`rack:2` is a scalar);
    /// an attribute that does not read as one stays text, or is dropped if not even that.
    pub fn upgrade(self) -> AgentInfo {
        let attributes = self
            .attributes
            .iter()
            .filter_map(|(name, value)| {
                let typed = AttributeValue::parse(value).ok()?;
                Attribute::new(name, typed)
                    .or_else(|| Attribute::new(name, AttributeValue::Text(value.clone())))
            })
            .collect();
        AgentInfo {
            hostname: self.hostname,
            ip: self.ip,
            port: self.port,
            resources: self.resources,
            attributes,
            domain: None,
            version: self.version,
        }
    }
}

impl AgentToMasterV1 {
    /// The same message in the current version.
    pub fn upgrade(self) -> AgentToMaster {
        match self {
            AgentToMasterV1::Register { info } => AgentToMaster::Register {
                info: info.upgrade(),
            },
            AgentToMasterV1::Reregister {
                id,
                info,
                frameworks,
                tasks,
            } => AgentToMaster::Reregister {
                id,
                info: info.upgrade(),
                frameworks,
                tasks,
            },
            AgentToMasterV1::StatusUpdate(u) => AgentToMaster::StatusUpdate(u),
            AgentToMasterV1::Pong { seq } => AgentToMaster::Pong { seq },
            AgentToMasterV1::ExecutorExited {
                framework_id,
                executor_id,
                status,
                command_executor,
            } => AgentToMaster::ExecutorExited {
                framework_id,
                executor_id,
                status,
                command_executor,
            },
            AgentToMasterV1::ExecutorMessage {
                framework_id,
                executor_id,
                data,
            } => AgentToMaster::ExecutorMessage {
                framework_id,
                executor_id,
                data,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_info() -> AgentInfoV1 {
        AgentInfoV1 {
            hostname: "edge-1".into(),
            ip: "10.0.0.1".into(),
            port: 5051,
            resources: Resources::parse("cpus:2;mem:512").unwrap(),
            attributes: alloc::vec![("rack".into(), "a".into()), ("level".into(), "3".into())],
            version: "1.5.0".into(),
        }
    }

    #[test]
    fn version_1_bytes_decode_and_upgrade() {
        let old = AgentToMasterV1::Register { info: v1_info() };
        let bytes = postcard::to_allocvec(&old).unwrap();
        // The current type does not read version 1 (the attribute layout changed) ...
        let current = postcard::from_bytes::<AgentToMaster>(&bytes);
        assert!(current.map_or(true, |m| m != old.clone().upgrade()));
        // ... the previous-version type does, and upgrades it.
        let read: AgentToMasterV1 = postcard::from_bytes(&bytes).unwrap();
        let AgentToMaster::Register { info } = read.upgrade() else {
            panic!("not a registration");
        };
        assert_eq!(info.hostname, "edge-1");
        assert_eq!(info.domain, None);
        assert_eq!(
            info.attributes
                .iter()
                .map(|a| alloc::format!("{a}"))
                .collect::<Vec<_>>(),
            ["rack:a", "level:3"]
        );
        assert!(matches!(
            info.attributes[1].value,
            AttributeValue::Scalar(_)
        ));
    }
}
