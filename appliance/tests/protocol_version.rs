//! Rolling upgrades: an upgraded master still takes agents speaking the previous internal
//! protocol version (reading its messages in that shape and sending it theirs), and refuses
//! versions it does not know, naming them.

mod common;

use common::*;
use mesolite_core::resources::Resources;
use mesolite_core::wire::previous::{AgentToMasterV2, MasterToAgentV2};
use mesolite_core::wire::{decode_frame, encode_frame, AgentInfo, PREAMBLE};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Reads one frame from `s` and decodes it as a master's message in the previous version.
fn read_message(s: &mut TcpStream) -> MasterToAgentV2 {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("a frame length");
    let mut payload = vec![0u8; u32::from_le_bytes(len) as usize];
    s.read_exact(&mut payload).expect("a frame");
    decode_frame(&payload).expect("a master message in the previous version")
}

#[test]
fn a_master_registers_an_agent_speaking_the_previous_protocol_version_and_sends_it_tasks() {
    let mut h = Harness::new("protov2");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    let mut s = TcpStream::connect(loopback(port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut bytes = PREAMBLE.to_vec();
    bytes.push(mesolite_core::wire::previous::VERSION);
    let register = AgentToMasterV2::Register {
        info: AgentInfo {
            hostname: "old-agent".into(),
            ip: "127.0.0.1".into(),
            port: free_port(),
            resources: Resources::parse("cpus:1;mem:256").expect("resources"),
            attributes: Vec::new(),
            domain: None,
            version: "1.5.0".into(),
        },
    };
    encode_frame(&register, &mut bytes).expect("encode");
    s.write_all(&bytes).expect("send");
    let id = loop {
        match read_message(&mut s) {
            MasterToAgentV2::Registered { id } => break id,
            MasterToAgentV2::Ping { .. } => continue,
            other => panic!("expected Registered, got {other:?}"),
        }
    };
    let listed = wait_agents(port, 1);
    assert_eq!(listed[0].id, id.as_str());
    let agents = operator(port, "GET_AGENTS");
    assert_eq!(
        agents["get_agents"]["agents"][0]["agent_info"]["hostname"],
        "old-agent"
    );

    // A task placed on the old agent reaches it in the previous version's shape.
    let master = loopback(port);
    let _run = h.spawn_cli("run", &["run", "--master", &master, "--", "true"]);
    let task = loop {
        match read_message(&mut s) {
            MasterToAgentV2::RunTask { task, .. } => break task,
            MasterToAgentV2::Ping { .. } => continue,
            other => panic!("expected RunTask, got {other:?}"),
        }
    };
    assert_eq!(
        task.command.as_ref().map(|c| c.value.as_str()),
        Some("true")
    );
}

#[test]
fn a_master_refuses_an_unknown_protocol_version_naming_it() {
    let mut h = Harness::new("protov9");
    let port = free_port();
    let master = h.start_master(port, &h.path("master"));
    let mut s = TcpStream::connect(loopback(port)).expect("connect");
    let mut bytes = PREAMBLE.to_vec();
    bytes.push(9);
    s.write_all(&bytes).expect("send");
    wait_for("the refusal", Duration::from_secs(10), || {
        h.log(master)
            .contains("speaks internal protocol version 9")
            .then_some(())
    });
}
