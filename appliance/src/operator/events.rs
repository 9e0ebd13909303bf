//! The master's operator event stream (`SUBSCRIBE` on `/api/v1`): SUBSCRIBED with the full state,
//! then each core `OperatorEvent` rendered as a v1 `master.Event`, as RecordIO records.

use super::master::{agent_to_v1, framework_info_to_v1, framework_to_v1, task_to_v1};
use crate::convert::{self, record};
use crate::v1::{self, master_event::Event, to_ascii_json};
use bytes::Bytes;
use mesolite_core::master::{Master, OperatorEvent};

/// The first record of a new subscription.
pub fn subscribed_record(m: &Master) -> Bytes {
    let mut state = Vec::new();
    super::state_json::write_get_state(m, &mut state);
    subscribed_record_with(m, &state)
}

/// The first record of a new subscription around an already rendered `GetState` message
/// (`state_json::write_get_state`): `{"type":"SUBSCRIBED","subscribed":{"get_state":..,
/// "heartbeat_interval_seconds":..}}`.
pub fn subscribed_record_with(m: &Master, get_state: &[u8]) -> Bytes {
    let heartbeat = to_ascii_json(&m.config().heartbeat_interval.as_secs_f64());
    let head = b"{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"get_state\":";
    let tail = format!(",\"heartbeat_interval_seconds\":{heartbeat}}}}}");
    let len = head.len() + get_state.len() + tail.len();
    let mut out = Vec::with_capacity(len + 12);
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(head);
    out.extend_from_slice(get_state);
    out.extend_from_slice(tail.as_bytes());
    Bytes::from(out)
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
