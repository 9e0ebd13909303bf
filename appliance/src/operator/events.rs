//! The master's operator event stream (`SUBSCRIBE` on `/api/v1`): SUBSCRIBED with the full state,
//! then each core `OperatorEvent` rendered as a v1 `master.Event`, as RecordIO records.

use super::master::{agent_to_v1, framework_info_to_v1, framework_to_v1, get_state, task_to_v1};
use crate::convert::{self, record};
use crate::v1::{self, master_event::Event, to_ascii_json};
use bytes::Bytes;
use mesolite_core::master::{Master, OperatorEvent};

/// The first record of a new subscription.
pub fn subscribed_record(m: &Master) -> Bytes {
    let heartbeat = m.config().heartbeat_interval.as_secs_f64();
    record(to_ascii_json(&Event::subscribed(get_state(m), heartbeat)))
}

/// One event as a record; `None` when what it names is already gone from the master's tables.
pub fn event_record(m: &Master, e: &OperatorEvent) -> Option<Bytes> {
    let event = match e {
        OperatorEvent::TaskAdded {
            framework_id,
            task_id,
        } => Event::task_added(task_to_v1(&m.task(framework_id, task_id)?)),
        OperatorEvent::TaskUpdated {
            framework_id,
            status,
            state,
        } => Event::task_updated(
            v1::FrameworkId::new(framework_id.as_str()),
            convert::status_to_v1(status),
            *state,
        ),
        OperatorEvent::AgentAdded(id) => Event::agent_added(agent_to_v1(&m.agent(id)?)),
        OperatorEvent::AgentRemoved(id) => Event::agent_removed(v1::AgentId::new(id.as_str())),
        OperatorEvent::FrameworkAdded(id) => {
            Event::framework_added(framework_to_v1(m, &m.framework(id)?))
        }
        OperatorEvent::FrameworkUpdated(id) => {
            Event::framework_updated(framework_to_v1(m, &m.framework(id)?))
        }
        OperatorEvent::FrameworkRemoved(spec) => {
            let id = spec.id.clone().unwrap_or_default();
            Event::framework_removed(framework_info_to_v1(&id, spec))
        }
        OperatorEvent::Heartbeat => Event::heartbeat(),
    };
    Some(record(to_ascii_json(&event)))
}
