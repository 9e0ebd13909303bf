//! Real-file tests of the agent checkpoint: append and reopen, damage refused naming the file,
//! compaction, and a crash in the middle of compaction.

use super::*;
use mesolite_core::agent::checkpoint::encode_checkpoint_snapshot;
use mesolite_core::ids::{AgentId, ContainerId, ExecutorId, FrameworkId, Role, TaskId};
use mesolite_core::resources::Resources;
use mesolite_core::task_state::TaskState;
use mesolite_core::time::WallTime;
use mesolite_core::wire::{
    AgentInfo, ExecutorSpec, FrameworkRecord, StatusSource, StatusUpdate, TaskSpec, TaskStatus,
};
use std::fs::OpenOptions;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "mesolite-ckpt-{name}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn meta(&self) -> PathBuf {
        checkpoint_dir(&self.0)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn fid() -> FrameworkId {
    FrameworkId::from("fw")
}

fn update(task: &str, state: TaskState, uuid: u8) -> Record {
    Record::UpdateQueued {
        executor_id: ExecutorId::from("e"),
        update: StatusUpdate {
            framework_id: fid(),
            status: TaskStatus {
                task_id: TaskId::from(task),
                state,
                message: None,
                source: StatusSource::Executor,
                reason: None,
                agent_id: Some(AgentId::from("c-S0")),
                executor_id: Some(ExecutorId::from("e")),
                timestamp: WallTime { unix_nanos: 7 },
                uuid: Some([uuid; 16]),
                data: vec![1, 2, 3],
                unreachable_time: None,
            },
            latest_state: state,
        },
    }
}

fn task(id: &str) -> TaskSpec {
    TaskSpec {
        task_id: TaskId::from(id),
        name: id.to_string(),
        resources: Resources::parse("cpus:1").unwrap(),
        executor: spec(),
        command: None,
        kill_grace: None,
        data: Vec::new(),
        role: Some(mesolite_core::ids::Role::from("*")),
    }
}

fn spec() -> ExecutorSpec {
    ExecutorSpec {
        executor_id: ExecutorId::from("e"),
        name: "e".to_string(),
        command: None,
        resources: Resources::new(),
        data: Some(b"cfg".to_vec()),
    }
}

/// Batches as an agent writes them: identity, a framework and an executor with two tasks,
/// updates, an acknowledgement, more updates.
fn batches() -> Vec<Vec<Record>> {
    vec![
        vec![Record::Identity {
            id: AgentId::from("c-S0"),
            info: AgentInfo {
                hostname: "h".to_string(),
                ip: "10.0.0.2".to_string(),
                port: 5051,
                resources: Resources::parse("cpus:2;mem:512").unwrap(),
                attributes: Vec::new(),
                domain: None,
                version: "1.5.0".to_string(),
            },
        }],
        vec![
            Record::Framework(FrameworkRecord {
                id: fid(),
                name: "f".to_string(),
                user: "u".to_string(),
                checkpoint: false,
                role: Role::from("*"),
            }),
            Record::ExecutorLaunched {
                framework_id: fid(),
                executor_id: ExecutorId::from("e"),
                container_id: ContainerId::from("k"),
                spec: spec(),
                sandbox: "slaves/c-S0/frameworks/fw/executors/e/runs/k".to_string(),
                command_executor: true,
            },
            Record::TasksAdded {
                framework_id: fid(),
                executor_id: ExecutorId::from("e"),
                tasks: vec![task("t1"), task("t2")],
                group: true,
            },
        ],
        vec![
            Record::ExecutorPid {
                framework_id: fid(),
                executor_id: ExecutorId::from("e"),
                container_id: ContainerId::from("k"),
                pid: 4242,
            },
            update("t1", TaskState::Running, 1),
            update("t2", TaskState::Running, 2),
        ],
        vec![
            Record::UpdateAcknowledged {
                framework_id: fid(),
                executor_id: ExecutorId::from("e"),
                task_id: TaskId::from("t1"),
                uuid: [1; 16],
            },
            update("t1", TaskState::Finished, 3),
        ],
    ]
}

fn expected(batches: &[Vec<Record>]) -> CheckpointState {
    CheckpointState::from_records(batches.iter().flatten().cloned().collect()).unwrap()
}

fn open_err(dir: &Path) -> String {
    match AgentCheckpoint::open(dir) {
        Ok(_) => panic!("a damaged checkpoint in {} was accepted", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn appended_batches_survive_a_reopen() {
    let dir = TempDir::new("reopen");
    let (mut ckpt, state) = AgentCheckpoint::open(&dir.meta()).unwrap();
    assert!(state.is_empty(), "a new agent starts empty");
    let all = batches();
    for b in &all {
        ckpt.append(b).unwrap();
    }
    assert_eq!(
        ckpt.log_len(),
        crate::durable::file_len(ckpt.log_path()).unwrap()
    );
    drop(ckpt);
    let (_, state) = AgentCheckpoint::open(&dir.meta()).unwrap();
    assert_eq!(state, expected(&all));
    assert_eq!(state.agent_id(), Some(&AgentId::from("c-S0")));
    let e = &state.executors[&(fid(), ExecutorId::from("e"))];
    assert_eq!(e.pid, Some(4242));
    assert_eq!(
        e.tasks[&TaskId::from("t1")].latest_state(),
        Some(TaskState::Finished)
    );
    assert_eq!(e.tasks[&TaskId::from("t2")].pending.len(), 1);
}

#[test]
fn a_log_cut_inside_a_record_is_refused_with_the_length_to_cut_to() {
    let dir = TempDir::new("torn");
    let (mut ckpt, _) = AgentCheckpoint::open(&dir.meta()).unwrap();
    let all = batches();
    for b in &all[..3] {
        ckpt.append(b).unwrap();
    }
    let good_len = ckpt.log_len();
    ckpt.append(&all[3]).unwrap();
    let log = ckpt.log_path().to_path_buf();
    drop(ckpt);
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(good_len + 5)
        .unwrap();
    let msg = open_err(&dir.meta());
    let want = format!(
        "agent checkpoint log {} ends with a torn record at byte {good_len} (file is {} bytes)",
        log.display(),
        good_len + 5
    );
    assert!(msg.starts_with(&want), "{msg}");
    // Following the advice recovers every batch that was reported durable.
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(good_len)
        .unwrap();
    assert_eq!(
        AgentCheckpoint::open(&dir.meta()).unwrap().1,
        expected(&all[..3])
    );
}

#[test]
fn a_flipped_byte_is_refused_naming_the_file() {
    let dir = TempDir::new("flip");
    let (mut ckpt, _) = AgentCheckpoint::open(&dir.meta()).unwrap();
    for b in &batches() {
        ckpt.append(b).unwrap();
    }
    let log = ckpt.log_path().to_path_buf();
    drop(ckpt);
    let mut bytes = fs::read(&log).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&log, &bytes).unwrap();
    let msg = open_err(&dir.meta());
    assert!(
        msg.starts_with(&format!(
            "agent checkpoint log {} is corrupt at byte ",
            log.display()
        )),
        "{msg}"
    );
    assert!(
        msg.contains("checksum mismatch") || msg.contains("record length"),
        "{msg}"
    );
}

#[test]
fn a_snapshot_and_the_log_after_it_replay_together() {
    let dir = TempDir::new("snapshot");
    let (mut ckpt, _) = AgentCheckpoint::open(&dir.meta()).unwrap();
    let all = batches();
    for b in &all[..2] {
        ckpt.append(b).unwrap();
    }
    assert!(!ckpt.wants_compaction(), "a small log is left alone");
    ckpt.compact(&expected(&all[..2])).unwrap();
    assert_eq!(ckpt.log_len(), 0);
    for b in &all[2..] {
        ckpt.append(b).unwrap();
    }
    drop(ckpt);
    let mut names: Vec<String> = fs::read_dir(dir.meta())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["lock", "log.1", "snapshot.1"]);
    let (_, state) = AgentCheckpoint::open(&dir.meta()).unwrap();
    assert_eq!(state, expected(&all));
    // A damaged snapshot is refused, not replaced by an empty state.
    let snap = dir.meta().join("snapshot.1");
    let mut bytes = fs::read(&snap).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    fs::write(&snap, &bytes).unwrap();
    assert_eq!(
        open_err(&dir.meta()),
        format!(
            "agent checkpoint snapshot {} is corrupt: checksum mismatch",
            snap.display()
        )
    );
}

#[test]
fn a_crash_between_snapshot_and_log_rotation_replays_correctly() {
    let dir = TempDir::new("rotation");
    let (mut ckpt, _) = AgentCheckpoint::open(&dir.meta()).unwrap();
    let all = batches();
    for b in &all[..3] {
        ckpt.append(b).unwrap();
    }
    drop(ckpt);
    // The new snapshot is in place but its log is not: the old log (whose batches the snapshot
    // holds, and which would not replay on top of it) is still there.
    let snap = encode_checkpoint_snapshot(&expected(&all[..3])).unwrap();
    fs::write(dir.meta().join("snapshot.1"), snap).unwrap();
    let (mut ckpt, state) = AgentCheckpoint::open(&dir.meta()).unwrap();
    assert_eq!(state, expected(&all[..3]));
    assert!(
        !dir.meta().join("log.0").exists(),
        "the covered log is removed"
    );
    ckpt.append(&all[3]).unwrap();
    drop(ckpt);
    assert_eq!(
        AgentCheckpoint::open(&dir.meta()).unwrap().1,
        expected(&all)
    );
    // A snapshot whose log is gone with no older log to explain it is refused.
    fs::remove_file(dir.meta().join("log.1")).unwrap();
    assert!(open_err(&dir.meta()).contains("is missing although its snapshot exists"));
}

#[test]
fn two_agents_cannot_share_a_checkpoint() {
    let dir = TempDir::new("lock");
    let (first, _) = AgentCheckpoint::open(&dir.meta()).unwrap();
    assert!(open_err(&dir.meta()).contains("is in use by another process"));
    drop(first);
    assert!(AgentCheckpoint::open(&dir.meta()).is_ok());
}

#[test]
fn the_boot_id_is_kept_and_a_discarded_checkpoint_is_set_aside_whole() {
    let dir = TempDir::new("discard");
    let (mut ckpt, _) = AgentCheckpoint::open(&dir.meta()).unwrap();
    assert_eq!(ckpt.recorded_boot_id().unwrap(), None);
    ckpt.record_boot_id("boot-1").unwrap();
    let all = batches();
    ckpt.append(&all[0]).unwrap();
    drop(ckpt);
    let (ckpt, state) = AgentCheckpoint::open(&dir.meta()).unwrap();
    assert_eq!(ckpt.recorded_boot_id().unwrap().as_deref(), Some("boot-1"));
    assert!(!state.is_empty());
    let (ckpt, state) = ckpt.discard().unwrap();
    assert!(state.is_empty(), "a discarded checkpoint opens empty");
    assert_eq!(ckpt.recorded_boot_id().unwrap(), None);
    let mut aside = dir.meta().into_os_string();
    aside.push(".discarded.1");
    let aside = PathBuf::from(aside);
    assert!(aside.join("log.0").exists(), "the old files are kept aside");
    drop(ckpt);
    let (_, state) = AgentCheckpoint::open(&aside).unwrap();
    assert_eq!(state, expected(&all[..1]));
}
