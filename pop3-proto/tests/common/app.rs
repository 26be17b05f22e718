//! An in-memory application behind a `Server`: users, one maildrop, and a driver
//! that feeds client bytes in pieces and answers every event.

use pop3_proto::sasl::scram::{Hash, ScramVerifier};
use pop3_proto::sasl::SaslMechanism;
use pop3_proto::server::{Open, Server, ServerEvent};
use pop3_proto::time::Instant;

/// One stored message.
#[derive(Debug, Clone)]
pub struct Message {
    pub raw: Vec<u8>,
    pub uid: String,
}

/// The application: credentials and the maildrop.
#[derive(Debug, Clone)]
pub struct App {
    pub users: Vec<(Vec<u8>, Vec<u8>)>,
    pub tokens: Vec<(Vec<u8>, Vec<u8>)>,
    pub messages: Vec<Message>,
    /// What OpenMaildrop answers (None: open normally).
    pub open_answer: Option<Open>,
    /// Message numbers removed at UPDATE, if UPDATE happened.
    pub updated: Option<Vec<u32>>,
    /// Every event seen, as Debug text (for assertions on the event API).
    pub log: Vec<String>,
    pub starttls: u32,
    /// Body bytes handed to the server per `body` call.
    pub body_piece: usize,
    /// Answer SCRAM with stored verifiers instead of passwords.
    pub verifiers: bool,
}

impl App {
    pub fn demo() -> App {
        App {
            users: vec![(b"alice".to_vec(), b"wonder land".to_vec())],
            tokens: vec![(b"alice".to_vec(), b"ya29.token".to_vec())],
            messages: vec![
                Message {
                    raw: b"Subject: one\n\nfirst line\n.dot line\nlast\n".to_vec(),
                    uid: "uid-0001".into(),
                },
                Message {
                    raw: b"Subject: two\r\nFrom: b@example.org\r\n\r\nbody\r\n".to_vec(),
                    uid: "uid-0002".into(),
                },
                Message {
                    raw: b"Subject: three\n\nno final newline".to_vec(),
                    uid: "uid-0003".into(),
                },
            ],
            open_answer: None,
            updated: None,
            log: Vec::new(),
            starttls: 0,
            body_piece: 7,
            verifiers: false,
        }
    }

    pub fn size(&self, msg: u32) -> u64 {
        pop3_proto::codec::body::wire_size(&self.messages[msg as usize - 1].raw)
    }

    pub fn total(&self) -> u64 {
        (1..=self.messages.len() as u32).map(|m| self.size(m)).sum()
    }

    fn password(&self, user: &[u8]) -> Option<&[u8]> {
        self.users
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, p)| p.as_slice())
    }

    /// Answers one event.
    pub fn answer<M: pop3_proto::server::Marks>(
        &mut self,
        server: &mut Server<M>,
        event: ServerEvent<'_>,
        now: Instant,
        out: &mut Vec<u8>,
    ) {
        self.log.push(format!("{event:?}"));
        match event {
            ServerEvent::CheckPassword { user, password, .. } => {
                let ok = self.password(user) == Some(password);
                server.answer_password(ok, now).unwrap();
            }
            ServerEvent::CheckToken { user, token } => {
                let ok = self.tokens.iter().any(|(u, t)| u == user && t == token);
                server.answer_password(ok, now).unwrap();
            }
            ServerEvent::CheckExternal { authzid } => {
                server
                    .answer_password(authzid.is_empty() || authzid == b"alice", now)
                    .unwrap();
            }
            ServerEvent::NeedSecret {
                user,
                mechanism: Some(m @ (SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256)),
            } if self.verifiers => {
                // Stored verifiers instead of passwords, with a salt of the user's.
                let hash = if m == SaslMechanism::ScramSha1 {
                    Hash::Sha1
                } else {
                    Hash::Sha256
                };
                let verifier = self
                    .password(user)
                    .map(|p| ScramVerifier::compute(hash, p, b"salt of the user", 4096));
                server.answer_verifier(verifier.as_ref(), now).unwrap();
            }
            ServerEvent::NeedSecret { user, .. } => {
                let secret = self.password(user).map(<[u8]>::to_vec);
                server.answer_secret(secret.as_deref(), now).unwrap();
            }
            ServerEvent::OpenMaildrop { .. } => {
                let answer = self.open_answer.unwrap_or(Open::Opened {
                    count: self.messages.len() as u32,
                    size: self.total(),
                });
                server.answer_open(answer).unwrap();
            }
            ServerEvent::Size { msg } => server.answer_size(self.size(msg)).unwrap(),
            ServerEvent::Uid { msg } => {
                let uid = self.messages[msg as usize - 1].uid.clone();
                server.answer_uid(uid.as_bytes()).unwrap();
            }
            ServerEvent::Retrieve { msg, .. } => {
                let raw = self.messages[msg as usize - 1].raw.clone();
                let mut rest = &raw[..];
                let mut rounds = 0;
                while !rest.is_empty() && !server.body_done() {
                    rounds += 1;
                    assert!(rounds < 1_000_000);
                    let piece = &rest[..rest.len().min(self.body_piece)];
                    // Pending reply bytes go first; the body is encoded into a
                    // buffer of the application's.
                    flush(server, out);
                    let mut scratch = vec![0u8; 2 * piece.len() + 600];
                    let w = server.body(piece, &mut scratch).unwrap();
                    out.extend_from_slice(&scratch[..w.written]);
                    assert!(w.taken > 0, "a buffer of twice the piece takes all of it");
                    rest = &rest[w.taken.min(rest.len())..];
                }
                server.body_end().unwrap();
            }
            ServerEvent::StartTls => self.starttls += 1,
            ServerEvent::Update => {
                let deleted: Vec<u32> = server.deleted().collect();
                self.updated = Some(deleted);
                server.answer_update(true).unwrap();
            }
        }
    }
}

pub fn flush<M: pop3_proto::server::Marks>(server: &mut Server<M>, out: &mut Vec<u8>) {
    let mut buf = [0u8; 100];
    loop {
        let n = server.poll_transmit(&mut buf);
        if n == 0 {
            return;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Feeds `input` in pieces of `piece` bytes at time `now`, answering events, and
/// returns what the server sent. Stops early if the server closes.
pub fn drive<M: pop3_proto::server::Marks>(
    server: &mut Server<M>,
    app: &mut App,
    input: &[u8],
    piece: usize,
    now: Instant,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut offset = 0;
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 1_000_000, "server makes no progress");
        flush(server, &mut out);
        let decoded = server.handle_input(&buf, now).unwrap();
        let consumed = decoded.consumed;
        let progressed = consumed > 0 || decoded.item.is_some();
        if let Some(event) = decoded.item {
            // Re-borrow: the event borrows the server; copy it out as Debug for the
            // log and handle it through a detached copy of its data.
            let owned = OwnedEvent::from(&event);
            buf.drain(..consumed);
            owned.answer(app, server, now, &mut out);
            continue;
        }
        buf.drain(..consumed);
        if server.is_closed() {
            flush(server, &mut out);
            return out;
        }
        if !progressed {
            if server.has_transmit() {
                continue;
            }
            if offset == input.len() {
                flush(server, &mut out);
                return out;
            }
            let end = (offset + piece).min(input.len());
            buf.extend_from_slice(&input[offset..end]);
            offset = end;
        }
    }
}

/// An event with its borrowed data copied, so the server can be answered.
#[derive(Debug, Clone)]
pub enum OwnedEvent {
    CheckPassword(Vec<u8>, Vec<u8>, Vec<u8>),
    CheckToken(Vec<u8>, Vec<u8>),
    CheckExternal(Vec<u8>),
    NeedSecret(Vec<u8>, Option<SaslMechanism>),
    OpenMaildrop(Vec<u8>),
    Size(u32),
    Uid(u32),
    Retrieve(u32, Option<u32>),
    StartTls,
    Update,
}

impl From<&ServerEvent<'_>> for OwnedEvent {
    fn from(e: &ServerEvent<'_>) -> Self {
        match *e {
            ServerEvent::CheckPassword {
                authzid,
                user,
                password,
            } => OwnedEvent::CheckPassword(authzid.to_vec(), user.to_vec(), password.to_vec()),
            ServerEvent::CheckToken { user, token } => {
                OwnedEvent::CheckToken(user.to_vec(), token.to_vec())
            }
            ServerEvent::CheckExternal { authzid } => OwnedEvent::CheckExternal(authzid.to_vec()),
            ServerEvent::NeedSecret { user, mechanism } => {
                OwnedEvent::NeedSecret(user.to_vec(), mechanism)
            }
            ServerEvent::OpenMaildrop { user } => OwnedEvent::OpenMaildrop(user.to_vec()),
            ServerEvent::Size { msg } => OwnedEvent::Size(msg),
            ServerEvent::Uid { msg } => OwnedEvent::Uid(msg),
            ServerEvent::Retrieve { msg, lines } => OwnedEvent::Retrieve(msg, lines),
            ServerEvent::StartTls => OwnedEvent::StartTls,
            ServerEvent::Update => OwnedEvent::Update,
        }
    }
}

impl OwnedEvent {
    pub fn answer<M: pop3_proto::server::Marks>(
        &self,
        app: &mut App,
        server: &mut Server<M>,
        now: Instant,
        out: &mut Vec<u8>,
    ) {
        let event = match self {
            OwnedEvent::CheckPassword(a, u, p) => ServerEvent::CheckPassword {
                authzid: a,
                user: u,
                password: p,
            },
            OwnedEvent::CheckToken(u, t) => ServerEvent::CheckToken { user: u, token: t },
            OwnedEvent::CheckExternal(a) => ServerEvent::CheckExternal { authzid: a },
            OwnedEvent::NeedSecret(u, m) => ServerEvent::NeedSecret {
                user: u,
                mechanism: *m,
            },
            OwnedEvent::OpenMaildrop(u) => ServerEvent::OpenMaildrop { user: u },
            OwnedEvent::Size(m) => ServerEvent::Size { msg: *m },
            OwnedEvent::Uid(m) => ServerEvent::Uid { msg: *m },
            OwnedEvent::Retrieve(m, l) => ServerEvent::Retrieve { msg: *m, lines: *l },
            OwnedEvent::StartTls => ServerEvent::StartTls,
            OwnedEvent::Update => ServerEvent::Update,
        };
        app.answer(server, event, now, out);
    }
}
