//! The demo mailbox (no `--maildir-root`): three messages in memory, shared by every
//! session; deletions last as long as the process.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use pop3_proto::codec::body::wire_size;

use super::message::{Msg, Source};

const DEMO: [&[u8]; 3] = [
    b"From: Postmaster <postmaster@example.org>\nTo: demo@example.org\nSubject: Welcome to pop3d\n\nThis is the pop3-proto demo mailbox.\nTry RETR, TOP, UIDL, DELE and QUIT.\n",
    b"From: Alice <alice@example.org>\nTo: demo@example.org\nSubject: Dots\n\nThe next line starts with a dot and is dot-stuffed on the wire:\n.like this\n..and this\n",
    b"From: Bob <bob@example.org>\nTo: demo@example.org\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\xc3\xbc\xc3\x9fe aus dem Speicher.\n",
];

/// The demo messages left, with their UIDs.
pub struct DemoMailbox {
    messages: Mutex<Vec<(String, Arc<[u8]>)>>,
}

impl DemoMailbox {
    /// The demo messages, `demo-0001` to `demo-0003`.
    pub fn new() -> DemoMailbox {
        DemoMailbox {
            messages: Mutex::new(
                DEMO.iter()
                    .enumerate()
                    .map(|(i, m)| (format!("demo-{:04}", i + 1), Arc::from(*m)))
                    .collect(),
            ),
        }
    }

    /// What a session that opens the mailbox now sees.
    pub fn messages(&self) -> Vec<Msg> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .map(|(uid, body)| Msg {
                uid: uid.clone(),
                size: wire_size(body),
                source: Source::Memory(body.clone()),
            })
            .collect()
    }

    /// UPDATE: the messages with these UIDs go, for every later session.
    pub fn remove(&self, gone: &HashSet<&str>) {
        self.messages
            .lock()
            .unwrap()
            .retain(|(uid, _)| !gone.contains(uid.as_str()));
    }
}
