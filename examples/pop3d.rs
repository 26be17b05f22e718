//! `pop3d`: a POP3 server over Maildir, built on `pop3-proto` with the blocking
//! adapter (one thread per session). `tokio_pop3d` is the same server on tokio.
//!
//! With no arguments it serves an embedded demo mailbox (user `demo`, password
//! `demo`) on 127.0.0.1:1110:
//!
//! ```sh
//! cargo run --example pop3d
//! curl pop3://demo:demo@127.0.0.1:1110/1
//! ```
//!
//! `pop3d --help` lists every option with its default and what it is for
//! (`common/mailstore/cli.rs`): the Maildir root and users file, listeners and TLS,
//! login limits, connection caps.
//!
//! Each session locks its mailbox (a second login gets `-ERR [IN-USE]`); deletions
//! are applied only at QUIT, one file at a time; UIDs are the Maildir unique names,
//! stable across sessions.

#[path = "common/mailstore/mod.rs"]
mod mailstore;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mailstore::{Check, Session, Setup, Source};
use pop3_proto::blocking::{self, Answer, Backend, ServerConn, StartTls};
use pop3_proto::server::{Server, ServerConfig, ServerEvent, Tls};
use pop3_proto::tls::NetStream;

impl Backend for Session {
    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_> {
        if let Some(check) = self.check(&event) {
            return match check {
                Check::Verdict(ok) => Answer::Verdict(ok),
                Check::Secret(secret) => Answer::Secret(secret),
                Check::Verifier(verifier) => Answer::Verifier(verifier),
                Check::CramContext(context) => Answer::CramContext(context),
                Check::TryLater => Answer::TryLater,
            };
        }
        match event {
            ServerEvent::OpenMaildrop { user } => Answer::Open(self.open(user)),
            ServerEvent::Size { msg } => Answer::Size(self.msg(msg).size),
            ServerEvent::Uid { msg } => Answer::Uid(self.msg(msg).uid.clone().into_bytes()),
            ServerEvent::Retrieve { msg, .. } => match &self.msg(msg).source {
                Source::Memory(bytes) => Answer::MessageBytes(bytes),
                Source::File(file) => Answer::Message(
                    file.open_listed()
                        .map_err(|e| eprintln!("pop3d: {}: {e}", file.path().display()))
                        .ok()
                        .map(|f| Box::new(f) as Box<dyn Read>),
                ),
            },
            // StartTls is the adapter's, Update goes to `update`; the credential
            // checks were answered above.
            _ => Answer::Verdict(false),
        }
    }

    fn update(&mut self, deleted: &[u32]) -> bool {
        Session::update(self, deleted)
    }

    fn closed(&mut self) {
        self.release();
    }
}

fn serve(tcp: TcpStream, setup: Arc<Setup>, config: ServerConfig) {
    let peer_ip = tcp
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = tcp.set_nodelay(true);
    let stream = match (&setup.tls, config.tls) {
        (Some(t), Tls::Implicit) => {
            let mut s = NetStream::server_starttls(tcp, t.clone())
                .handshake_timeout(setup.handshake_timeout);
            if let Err(e) = s.start_tls() {
                eprintln!("pop3d: {peer}: TLS handshake failed: {e}");
                return;
            }
            s
        }
        (Some(t), _) => {
            NetStream::server_starttls(tcp, t.clone()).handshake_timeout(setup.handshake_timeout)
        }
        (None, _) => NetStream::plain(tcp),
    };
    let mut server = Server::with_marks(config, blocking::now(), mailstore::random32(), Vec::new());
    // After implicit TLS: SCRAM -PLUS binds to this session (STLS: the adapter does it).
    if let Some(cb) = stream.channel_binding() {
        server.set_channel_binding(cb);
    }
    let mut session = Session::new(setup.shared.clone(), peer_ip);
    if let Err(e) = ServerConn::new(stream, server)
        .with_start_tls()
        .with_timeouts()
        .serve(&mut session)
    {
        eprintln!("pop3d: {peer}: {e}");
    }
}

/// Accepts on `listener` forever, a thread per admitted session; a connection over
/// the limits gets `-ERR [SYS/TEMP]` and is closed; accept errors (out of
/// descriptors) back off instead of spinning.
fn accept(listener: TcpListener, setup: Arc<Setup>, config: ServerConfig) {
    let mut errors = mailstore::AcceptErrors::new();
    loop {
        let (mut tcp, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                std::thread::sleep(errors.failed(&e));
                continue;
            }
        };
        match setup.admission.enter(peer.ip()) {
            Ok(ticket) => {
                let (setup, config) = (setup.clone(), config.clone());
                std::thread::spawn(move || {
                    serve(tcp, setup, config);
                    drop(ticket);
                });
            }
            Err(refusal) => {
                let _ = tcp.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = tcp.write_all(refusal);
            }
        }
    }
}

fn main() -> ExitCode {
    let o = mailstore::cli::parse("pop3d");
    let setup = match mailstore::setup(&o) {
        Ok(setup) => Arc::new(setup),
        Err(e) => {
            eprintln!("pop3d: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match mailstore::listen(&o.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("pop3d: cannot listen on {}: {e}", o.listen);
            return ExitCode::FAILURE;
        }
    };
    if let (Some(addr), Some(_)) = (&o.listen_tls, &setup.tls) {
        let l = match mailstore::listen(addr) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("pop3d: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut config = setup.config.clone();
        config.tls = Tls::Implicit;
        let setup = setup.clone();
        std::thread::spawn(move || accept(l, setup, config));
    }
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    mailstore::banner(&o, &setup, &addr);
    accept(listener, setup.clone(), setup.config.clone());
    ExitCode::SUCCESS
}
