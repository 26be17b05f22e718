//! Delivery: each message written as it arrives (to a Maildir's `tmp/`, or into an
//! MDA), then made durable in groups on a thread of its own: files fdatasynced and
//! renamed into `new/`, `new/` fsynced, the UIDs appended to the journal and synced.
//! Only the messages a group commit returns may be deleted from the server.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;

use crate::failure::{fail, local_err, Exit, Res};
use crate::fetch_state::{Delivered, State};
use crate::maildir;
use crate::options::{Options, Sink};
use crate::state::unix_now;

/// CRLF -> LF across chunk boundaries.
pub struct ToLf {
    pub cr: bool,
}

impl ToLf {
    pub fn convert(&mut self, data: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let mut rest = data;
        if std::mem::take(&mut self.cr) && rest.first() != Some(&b'\n') {
            out.push(b'\r');
        }
        while let Some(i) = rest.iter().position(|b| *b == b'\r') {
            out.extend_from_slice(&rest[..i]);
            match rest.get(i + 1) {
                Some(b'\n') => {}
                Some(_) => out.push(b'\r'),
                None => self.cr = true,
            }
            rest = &rest[i + 1..];
        }
        out.extend_from_slice(rest);
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        out.clear();
        if std::mem::take(&mut self.cr) {
            out.push(b'\r');
        }
    }
}

/// A message on its way to its destination.
pub enum Out {
    Maildir(maildir::Delivery),
    Mda(Mda),
}

impl Out {
    /// A message starts: a file in `tmp/`, or an MDA started for it.
    pub fn start(sink: &Sink) -> Res<Out> {
        Ok(match sink {
            Sink::Maildir(d) => {
                Out::Maildir(maildir::Delivery::start(d).map_err(|e| local_err(d, e))?)
            }
            Sink::Mda(cmd) => {
                Out::Mda(Mda::start(cmd).map_err(|e| fail(Exit::Local, format!("MDA: {e}")))?)
            }
            Sink::Nowhere => return Err(fail(Exit::Usage, "no --maildir or --mda")),
        })
    }

    /// Message `msg` is complete: its file closed (to be committed), or the MDA done.
    pub fn finish(self, msg: u32) -> Res<Option<maildir::Written>> {
        Ok(match self {
            Out::Maildir(d) => {
                let dir = d.tmp_path().to_path_buf();
                Some(d.finish().map_err(|e| local_err(&dir, e))?)
            }
            Out::Mda(m) => {
                m.finish()
                    .map_err(|e| fail(Exit::Local, format!("message {msg}: {e}")))?;
                None
            }
        })
    }
}

/// An MDA run: killed if dropped before [`Mda::finish`] (a message cut short must
/// not be delivered by an MDA that takes end of input as its end).
pub struct Mda {
    child: Child,
    done: bool,
}

impl Mda {
    fn start(cmd: &str) -> io::Result<Mda> {
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        Ok(Mda { child, done: false })
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.child.stdin.as_mut() {
            Some(s) => s.write_all(bytes),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn finish(mut self) -> io::Result<()> {
        drop(self.child.stdin.take());
        let status = self.child.wait()?;
        self.done = true;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("the MDA failed ({status})")))
        }
    }
}

impl Drop for Mda {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            drop(self.child.stdin.take());
            let _ = self.child.wait();
        }
    }
}

/// A delivered message waiting for its group commit.
pub struct Item {
    pub msg: u32,
    /// Recorded in the state (None: the message has no UID that identifies it).
    pub uid: Option<Vec<u8>>,
    pub size: Option<u64>,
    /// The Maildir file (None: the MDA has it).
    pub written: Option<maildir::Written>,
}

/// The commit thread: group commits of delivered messages, in order. Each batch's
/// answer is the message numbers now safe (their DELEs may go), or why not; after a
/// failure it stops (later batches are dropped, their files removed from tmp/).
fn committer(
    maildir: Option<PathBuf>,
    mut state: State,
    jobs: mpsc::Receiver<Vec<Item>>,
    done: mpsc::Sender<Result<Vec<u32>, String>>,
) -> State {
    for batch in jobs {
        let result = (|| {
            let at = unix_now();
            let (mut files, mut msgs, mut records) = (Vec::new(), Vec::new(), Vec::new());
            for item in batch {
                msgs.push(item.msg);
                files.extend(item.written);
                if let Some(uid) = item.uid {
                    records.push((
                        uid,
                        Delivered {
                            size: item.size,
                            at,
                        },
                    ));
                }
            }
            if let Some(dir) = &maildir {
                maildir::commit_batch(dir, files)
                    .map_err(|e| format!("delivering to {}: {e}", dir.display()))?;
            }
            state
                .append(&records)
                .map_err(|e| format!("recording in {}: {e}", state.path().display()))?;
            Ok(msgs)
        })();
        let failed = result.is_err();
        if done.send(result).is_err() || failed {
            break;
        }
    }
    state
}
pub fn write_out(o: &Options, out: &mut Out, bytes: &[u8]) -> Res<()> {
    match out {
        Out::Maildir(d) => d.write(bytes).map_err(|e| match &o.sink {
            Sink::Maildir(dir) => local_err(dir, e),
            Sink::Mda(_) | Sink::Nowhere => fail(Exit::Local, e),
        }),
        Out::Mda(m) => m
            .write(bytes)
            .map_err(|e| fail(Exit::Local, format!("MDA: {e}"))),
    }
}

/// The commit thread, and how many groups sent to it are not answered yet.
pub struct Commits {
    jobs: mpsc::Sender<Vec<Item>>,
    done: mpsc::Receiver<Result<Vec<u32>, String>>,
    thread: std::thread::JoinHandle<State>,
    outstanding: usize,
}

impl Commits {
    /// Starts the commit thread: into `maildir` (None: the MDA delivered), recorded
    /// in `state`.
    pub fn start(maildir: Option<PathBuf>, state: State) -> Commits {
        let (jobs, job_rx) = mpsc::channel::<Vec<Item>>();
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::spawn(move || committer(maildir, state, job_rx, done_tx));
        Commits {
            jobs,
            done,
            thread,
            outstanding: 0,
        }
    }

    /// Groups sent and not answered yet.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// Sends a group to be committed.
    pub fn send(&mut self, group: Vec<Item>) -> Res<()> {
        self.jobs
            .send(group)
            .map_err(|_| fail(Exit::Local, "the commit thread stopped"))?;
        self.outstanding += 1;
        Ok(())
    }

    /// A group's answer that has come, without waiting: its messages, now safe.
    pub fn try_done(&mut self) -> Option<Result<Vec<u32>, String>> {
        let answer = self.done.try_recv().ok()?;
        self.outstanding -= 1;
        Some(answer)
    }

    /// Waits for the next group's answer.
    pub fn wait_done(&mut self) -> Res<Result<Vec<u32>, String>> {
        let answer = self
            .done
            .recv()
            .map_err(|_| fail(Exit::Local, "the commit thread stopped"))?;
        self.outstanding -= 1;
        Ok(answer)
    }

    /// Commits `last` (if any) and ends the thread, counting in `fetched` what was
    /// committed without being waited for (after a clean run, nothing); returns the
    /// state.
    pub fn finish(self, last: Vec<Item>, fetched: &mut u64) -> Res<State> {
        if !last.is_empty() {
            let _ = self.jobs.send(last);
        }
        drop(self.jobs);
        for msgs in self.done.iter().flatten() {
            *fetched += msgs.len() as u64;
        }
        self.thread
            .join()
            .map_err(|_| fail(Exit::Local, "the commit thread panicked"))
    }
}
