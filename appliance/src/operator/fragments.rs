//! Reuse of task renderings from one rendering of a state document to the next, so that a
//! state change costs about what changed: a task whose rendering inputs are unchanged is copied
//! from the previous document's bytes instead of being written again from its scattered fields.
//!
//! A task's rendering depends only on its [`TaskKey`]: the core's fingerprint of everything
//! shown of it (identity, resources, every recorded status) plus the fields the fingerprint
//! leaves out (`state`, `status_update_state`, `status_update_uuid`). Equal keys give equal
//! bytes, whichever list the task is in and whatever happened in between, so a key found in
//! the previous rendering can always be reused. The buffers of two renderings are recycled
//! once no response holds them, which saves faulting in fresh pages for every rendering.

use bytes::Bytes;
use mesolite_core::master::TaskView;
use mesolite_core::task_state::TaskState;
use std::collections::HashMap;
use std::sync::Arc;

/// Everything a task's rendering depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskKey {
    fingerprint: u64,
    state: TaskState,
    update_state: Option<TaskState>,
    update_uuid: Option<[u8; 16]>,
}

impl TaskKey {
    pub fn of(t: &TaskView<'_>) -> Self {
        TaskKey {
            fingerprint: t.fingerprint,
            state: t.state,
            update_state: t.status_update_state,
            update_uuid: t.status_update_uuid,
        }
    }
}

/// Where one task's rendering lies in a document.
#[derive(Clone, Copy, Debug)]
struct Fragment {
    key: TaskKey,
    start: usize,
    end: usize,
}

/// The task fragments of one rendered document.
#[derive(Default)]
pub struct Fragments {
    list: Vec<Fragment>,
}

/// Writes the tasks of a new document, copying each unchanged task's bytes from the previous
/// document. Tasks come mostly in the previous order, so the next previous fragment is tried
/// first; a map by fingerprint (built on the first miss) finds the rest.
pub struct TaskWriter<'a> {
    prev: &'a [u8],
    old: &'a [Fragment],
    cursor: usize,
    index: Option<HashMap<u64, usize>>,
    new: Vec<Fragment>,
    reused: usize,
}

impl<'a> TaskWriter<'a> {
    /// A writer that reuses nothing (and records nothing worth keeping).
    pub fn fresh() -> TaskWriter<'static> {
        TaskWriter {
            prev: &[],
            old: &[],
            cursor: 0,
            index: None,
            new: Vec::new(),
            reused: 0,
        }
    }

    /// A writer reusing the fragments of `prev`, the document they were recorded in.
    pub fn reusing(prev: &'a [u8], fragments: &'a Fragments) -> Self {
        // Fragments that do not fit the document would be a bug; reuse nothing then.
        let fits = fragments.list.iter().all(|f| f.end <= prev.len());
        TaskWriter {
            prev,
            old: if fits { &fragments.list } else { &[] },
            cursor: 0,
            index: None,
            new: Vec::with_capacity(fragments.list.len()),
            reused: 0,
        }
    }

    /// Writes one task with `render` unless an equal one was rendered in the previous document.
    pub fn write(
        &mut self,
        t: &TaskView<'_>,
        out: &mut Vec<u8>,
        render: impl FnOnce(&TaskView<'_>, &mut Vec<u8>),
    ) {
        let key = TaskKey::of(t);
        let start = out.len();
        match self.find(&key) {
            Some(i) => {
                let f = self.old[i];
                out.extend_from_slice(&self.prev[f.start..f.end]);
                self.cursor = i + 1;
                self.reused += 1;
            }
            None => render(t, out),
        }
        self.new.push(Fragment {
            key,
            start,
            end: out.len(),
        });
    }

    fn find(&mut self, key: &TaskKey) -> Option<usize> {
        if self.old.get(self.cursor).is_some_and(|f| f.key == *key) {
            return Some(self.cursor);
        }
        if self.old.is_empty() {
            return None;
        }
        let old = self.old;
        let index = self.index.get_or_insert_with(|| {
            old.iter()
                .enumerate()
                .map(|(i, f)| (f.key.fingerprint, i))
                .collect()
        });
        index
            .get(&key.fingerprint)
            .copied()
            .filter(|&i| old[i].key == *key)
    }

    /// How many tasks were copied from the previous document.
    pub fn reused(&self) -> usize {
        self.reused
    }

    /// The fragments of the document just written, for the next one.
    pub fn finish(self) -> Fragments {
        Fragments { list: self.new }
    }
}

/// A rendering's buffer, shared by the responses sending it and by the cache, which takes it
/// back for a later rendering once nothing else holds it.
pub struct Buffer(Arc<Vec<u8>>);

/// The owner inside a response's `Bytes`: while one exists, the buffer is not reused.
struct Owner(Arc<Vec<u8>>);

impl AsRef<[u8]> for Owner {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Buffer {
    pub fn new(bytes: Vec<u8>) -> Self {
        Buffer(Arc::new(bytes))
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The whole buffer as `Bytes` that keep it from being reused while they live.
    pub fn bytes(&self) -> Bytes {
        Bytes::from_owner(Owner(self.0.clone()))
    }

    /// The emptied vector to write the next rendering into, if no response holds it any more.
    pub fn reclaim(mut self) -> Option<Vec<u8>> {
        let v = Arc::get_mut(&mut self.0)?;
        let mut v = std::mem::take(v);
        v.clear();
        Some(v)
    }
}
