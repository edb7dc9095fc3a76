//! Commits read ahead of the walk, on a second thread: the new commits of
//! a push sit at the start of the quarantine's pack in about the order the
//! walk asks for them (see [`crate::git::pack::scan_commits`]), so a thread
//! that inflates them front to back hands the walk ready bytes, and the
//! walk's own thread only checks, parses and judges.
//!
//! The walk's order and answers do not depend on it: a commit asked for is
//! taken from what the thread has read if it is there, and read the usual
//! way otherwise (a commit stored as a delta, one the thread has not reached
//! or never will). Memory is bounded: at most [`MAX_READY`] commits read
//! ahead and not yet asked for, plus [`CHANNEL`] batches in flight; when
//! the walk wants none of those, the thread waits and the walk reads the
//! usual way.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use crate::git::oid::{HashKind, ObjectId};
use crate::git::pack::{scan_commits, CommitBatch};

use super::OidMap;

/// Commits per batch the thread hands over (one channel message each).
const PER_BATCH: usize = 256;
/// Batches in the channel at most.
const CHANNEL: usize = 4;
/// Commits read ahead and not yet asked for, at most.
const MAX_READY: usize = 8192;

/// The walk's end of the read-ahead thread.
pub(super) struct Prefetch {
    rx: Option<Receiver<CommitBatch>>,
    ready: OidMap<(Rc<CommitBatch>, u32)>,
    stop: Arc<AtomicBool>,
}

impl Prefetch {
    /// Starts a thread that reads the commits of the packs in `dirs`.
    pub(super) fn start(dirs: Vec<PathBuf>, kind: HashKind) -> Option<Prefetch> {
        let (tx, rx) = sync_channel::<CommitBatch>(CHANNEL);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("trailgate-read-ahead".to_owned())
            .spawn(move || {
                scan_commits(&dirs, kind, PER_BATCH, &stopped, &mut |batch| {
                    tx.send(batch).is_ok()
                });
            })
            .ok()?;
        Some(Prefetch {
            rx: Some(rx),
            ready: OidMap::default(),
            stop,
        })
    }

    /// The bytes of a commit the thread read, if it did: from what it
    /// already handed over, else waiting for more while fewer than
    /// [`MAX_READY`] are waiting to be asked for. The caller reads the
    /// commit the usual way when this is `None`.
    pub(super) fn take(&mut self, oid: ObjectId) -> Option<Ready> {
        loop {
            if let Some((batch, i)) = self.ready.remove(&oid) {
                return batch
                    .data(i as usize)
                    .is_some()
                    .then_some(Ready { batch, i });
            }
            if self.ready.len() >= MAX_READY {
                return None;
            }
            let rx = self.rx.as_ref()?;
            let Ok(batch) = rx.recv() else {
                // The thread is done.
                self.rx = None;
                return None;
            };
            let batch = Rc::new(batch);
            for i in 0..batch.len() {
                if let (Some(id), Ok(n)) = (batch.id(i), u32::try_from(i)) {
                    self.ready.insert(id, (Rc::clone(&batch), n));
                }
            }
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // A thread between two batches stops at the next entry; one
        // waiting to send finds the channel closed.
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One commit's bytes as the thread read them.
pub(super) struct Ready {
    batch: Rc<CommitBatch>,
    i: u32,
}

impl Ready {
    pub(super) fn data(&self) -> &[u8] {
        self.batch.data(self.i as usize).unwrap_or_default()
    }
}
