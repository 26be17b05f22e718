//! A client and a server connected in memory, with the test application behind the
//! server. Bytes cross in pieces of a chosen size; every client event is recorded in
//! a readable form.

use super::app::{App, OwnedEvent};
pub use super::login::OwnedLogin;
use pop3_proto::client::{Client, ClientConfig, ClientError, ClientEvent, Login};
use pop3_proto::server::{Server, ServerConfig};
use pop3_proto::time::Instant;

pub struct Pair {
    pub client: Client,
    pub server: Server,
    pub app: App,
    pub now: Instant,
    /// Bytes per read on either side.
    pub piece: usize,
    /// Bytes on the wire not yet delivered, and delivered but not yet consumed.
    c2s: Vec<u8>,
    s2c: Vec<u8>,
    server_rx: Vec<u8>,
    client_rx: Vec<u8>,
    /// Every byte the client sent, and every byte the server sent.
    pub client_wire: Vec<u8>,
    pub server_wire: Vec<u8>,
    /// The client's writes, one entry per `poll_transmit` that produced bytes.
    pub writes: Vec<Vec<u8>>,
    pub events: Vec<String>,
    /// Message bodies received, by message number, in order of arrival.
    pub bodies: Vec<(u32, Vec<u8>)>,
    /// Calls of tls_started to make when StartTls is seen (simulated handshake).
    pub fake_tls: bool,
    /// The login queued last, kept here (the client keeps no credentials) to
    /// answer `NeedCredentials`.
    pub credentials: Option<OwnedLogin>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn describe(ev: &ClientEvent<'_>) -> String {
    match ev {
        ClientEvent::Greeting { text: t, apop } => format!("Greeting({}, apop={apop})", text(t)),
        ClientEvent::Capability(c) => format!("Capability({c:?})"),
        ClientEvent::Uidl(u) => format!("Uidl({} {})", u.msg, text(u.uid)),
        ClientEvent::Lang(l) => format!("Lang({} {})", text(l.tag), text(l.description)),
        ClientEvent::MessageData { msg, data } => format!("Data({msg}, {})", text(data)),
        ClientEvent::Ok { command, text: t } => format!("Ok({command:?}, {})", text(t)),
        ClientEvent::Error {
            command,
            msg: None,
            code,
            text: t,
        } => format!("Error({command:?}, {code:?}, {})", text(t)),
        ClientEvent::Error {
            command,
            msg: Some(msg),
            code,
            text: t,
        } => format!("Error({command:?} {msg}, {code:?}, {})", text(t)),
        other => format!("{other:?}"),
    }
}

impl Pair {
    pub fn new(client: ClientConfig, server: ServerConfig, app: App) -> Pair {
        let now = Instant::from_millis(5_000);
        Pair {
            client: Client::new(client, [3; 32]),
            server: Server::new(server, now, [9; 32]),
            app,
            now,
            piece: usize::MAX,
            c2s: Vec::new(),
            s2c: Vec::new(),
            server_rx: Vec::new(),
            client_rx: Vec::new(),
            client_wire: Vec::new(),
            server_wire: Vec::new(),
            writes: Vec::new(),
            events: Vec::new(),
            bodies: Vec::new(),
            fake_tls: true,
            credentials: None,
        }
    }

    /// Queues a login; its credentials are kept to answer `NeedCredentials`.
    pub fn login(&mut self, login: Login<'_>) -> Result<(), ClientError> {
        self.client.login(login)?;
        self.credentials = Some(OwnedLogin::new(&login));
        Ok(())
    }

    /// Queues USER/PASS for the demo user `alice` with this password.
    pub fn login_alice(&mut self, password: &[u8]) {
        self.login(Login::UserPass {
            user: b"alice",
            password,
        })
        .unwrap();
    }

    /// Moves bytes both ways until neither side makes progress; returns the events
    /// seen during this run (message data merged per message).
    pub fn run(&mut self) -> Vec<String> {
        let start = self.events.len();
        let mut out = vec![0u8; 8192];
        for _ in 0..1_000_000 {
            let mut progress = false;
            // Client -> wire.
            let mut n = self
                .client
                .poll_transmit(&mut out)
                .expect("client poll_transmit");
            if n == 0 && self.client.wants_credentials() {
                if let Some(login) = &self.credentials {
                    n = self
                        .client
                        .write_credentials(&login.login(), &[], &mut out)
                        .expect("client write_credentials");
                }
            }
            if n > 0 {
                self.c2s.extend_from_slice(&out[..n]);
                self.client_wire.extend_from_slice(&out[..n]);
                self.writes.push(out[..n].to_vec());
                progress = true;
            }
            // Server side: handle what arrived, answer its events.
            let mut sent = Vec::new();
            super::app::flush(&mut self.server, &mut sent);
            if !sent.is_empty() {
                self.s2c.extend_from_slice(&sent);
                self.server_wire.extend_from_slice(&sent);
                progress = true;
            }
            let d = self
                .server
                .handle_input(&self.server_rx, self.now)
                .expect("server");
            let consumed = d.consumed;
            if let Some(ev) = d.item {
                let owned = OwnedEvent::from(&ev);
                self.server_rx.drain(..consumed);
                let mut sink = Vec::new();
                owned.answer(&mut self.app, &mut self.server, self.now, &mut sink);
                self.s2c.extend_from_slice(&sink);
                self.server_wire.extend_from_slice(&sink);
                if matches!(owned, OwnedEvent::StartTls) && self.fake_tls {
                    let mut sent = Vec::new();
                    super::app::flush(&mut self.server, &mut sent);
                    self.s2c.extend_from_slice(&sent);
                    self.server_wire.extend_from_slice(&sent);
                    self.server.tls_started().unwrap();
                }
                progress = true;
            } else if consumed > 0 {
                self.server_rx.drain(..consumed);
                progress = true;
            } else if !self.c2s.is_empty() && !self.server.has_transmit() {
                // Deliver the next piece of the client's bytes.
                let n = self.c2s.len().min(self.piece);
                self.server_rx.extend(self.c2s.drain(..n));
                progress = true;
            }
            // Client side: decode replies.
            let d = self
                .client
                .handle_input(&self.client_rx)
                .expect("client handle_input");
            let consumed = d.consumed;
            let mut start_tls = false;
            if let Some(ev) = d.item {
                if let ClientEvent::NeedCredentials { challenge } = ev {
                    // Answered at once, like the driver's loop; not recorded.
                    if let Some(login) = &self.credentials {
                        let n = self
                            .client
                            .write_credentials(&login.login(), challenge, &mut out)
                            .expect("client write_credentials");
                        self.c2s.extend_from_slice(&out[..n]);
                        self.client_wire.extend_from_slice(&out[..n]);
                        self.writes.push(out[..n].to_vec());
                    }
                } else if let ClientEvent::MessageData { msg, data } = ev {
                    match self.bodies.last_mut() {
                        Some((m, body))
                            if *m == msg
                                && self.events.last().is_some_and(|e| e.starts_with("Data(")) =>
                        {
                            body.extend_from_slice(data)
                        }
                        _ => self.bodies.push((msg, data.to_vec())),
                    }
                    let merged = match self.events.last() {
                        Some(last) if last.starts_with(&format!("Data({msg}, ")) => {
                            let mut s = self.events.pop().unwrap();
                            s.pop();
                            s + &text(data) + ")"
                        }
                        _ => describe(&ev),
                    };
                    self.events.push(merged);
                } else {
                    start_tls = matches!(ev, ClientEvent::StartTls);
                    self.events.push(describe(&ev));
                }
                progress = true;
            }
            if consumed > 0 {
                self.client_rx.drain(..consumed);
                progress = true;
            } else if !progress && !self.s2c.is_empty() {
                let n = self.s2c.len().min(self.piece);
                self.client_rx.extend(self.s2c.drain(..n));
                progress = true;
            }
            if start_tls && self.fake_tls {
                self.client.tls_started().unwrap();
            }
            if !progress {
                return self.events[start..].to_vec();
            }
        }
        panic!("conversation does not settle");
    }
}

pub fn plain_configs() -> (ClientConfig, ServerConfig) {
    let client = ClientConfig {
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    let mut server = ServerConfig::new("pop.example.org");
    server.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    server.allow_plaintext_auth = true;
    server.auth_failure_delay_ms = 0;
    (client, server)
}
