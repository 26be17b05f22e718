//! `tokio_pop3d`: `pop3d` on tokio: the same options, mailboxes and demo mailbox
//! (user `demo`, password `demo`, on 127.0.0.1:1110 with no arguments), one task per
//! session instead of one thread.
//!
//! ```sh
//! cargo run --example tokio_pop3d
//! curl pop3://demo:demo@127.0.0.1:1110/1
//! ```
//!
//! The mailbox logic is shared with `pop3d` (examples/common/mailstore/); this file
//! is the tokio glue: an `AsyncBackend` and the accept loop.

#[path = "common/mailstore/mod.rs"]
mod mailstore;

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use mailstore::maildrop::MsgFile;
use mailstore::{Check, Session, Setup, Source};
use pop3_proto::server::{Server, ServerConfig, ServerEvent, Tls};
use pop3_proto::tokio::{serve_starttls, AsyncAnswer, AsyncBackend, AsyncStartTls, TokioStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Messages up to this size are read from disk whole, in one call.
const WHOLE_FILE: u64 = 1024 * 1024;

/// The message file up to the length the listing saw, blocking: open, one read,
/// close (`std::fs::read` would also ask the size and read once more for the end).
fn read_whole(file: &MsgFile) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(file.len as usize);
    file.open_listed()?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The message file (up to its listed length) if the kernel can hand it over from
/// its caches without waiting for a disk: the name resolved from the dentry cache
/// only (`openat2` with `RESOLVE_CACHED`, Linux 5.12) and the bytes read from the page
/// cache only (`preadv2` with `RWF_NOWAIT`); else None, and the blocking pool reads
/// it. A round trip to the pool per message costs more than reading the message
/// from the page cache (serve_bench: 1,600 MB/s that way, about 2,600 this way).
#[cfg(target_os = "linux")]
fn read_cached(msg: &MsgFile) -> Option<Vec<u8>> {
    use rustix::io::{preadv2, Errno, ReadWriteFlags};
    use std::sync::atomic::{AtomicBool, Ordering};
    /// Set when the kernel or the file system turns either flag down: from then on
    /// every read goes straight to the pool, not through a failing attempt first.
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);
    let give_up = |e: Errno| {
        if [Errno::NOSYS, Errno::INVAL, Errno::OPNOTSUPP].contains(&e) {
            UNSUPPORTED.store(true, Ordering::Relaxed);
        }
        None // EAGAIN: not all cached; any other error: the pool's read reports it
    };
    if UNSUPPORTED.load(Ordering::Relaxed) {
        return None;
    }
    let file = match msg.open_cached() {
        Ok(fd) => fd,
        Err(e) => return give_up(e),
    };
    let mut bytes = vec![0; usize::try_from(msg.len).ok()?];
    let mut at = 0;
    while at < bytes.len() {
        let piece = &mut [std::io::IoSliceMut::new(&mut bytes[at..])];
        match preadv2(&file, piece, at as u64, ReadWriteFlags::NOWAIT) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) => return give_up(e),
        }
    }
    bytes.truncate(at);
    Some(bytes)
}

/// Without `RWF_NOWAIT` every file read goes to tokio's blocking pool.
#[cfg(not(target_os = "linux"))]
fn read_cached(_: &MsgFile) -> Option<Vec<u8>> {
    None
}

impl AsyncBackend for Session {
    async fn answer(&mut self, event: ServerEvent<'_>) -> AsyncAnswer {
        if let Some(check) = self.check(&event) {
            return match check {
                Check::Verdict(ok) => AsyncAnswer::Verdict(ok),
                Check::Secret(secret) => AsyncAnswer::Secret(secret),
                Check::Verifier(verifier) => AsyncAnswer::Verifier(verifier),
                Check::CramContext(context) => AsyncAnswer::CramContext(context),
                Check::TryLater => AsyncAnswer::TryLater,
            };
        }
        match event {
            ServerEvent::OpenMaildrop { user } => AsyncAnswer::Open(self.open(user)),
            ServerEvent::Size { msg } => AsyncAnswer::Size(self.msg(msg).size),
            ServerEvent::Uid { msg } => AsyncAnswer::Uid(self.msg(msg).uid.clone().into_bytes()),
            ServerEvent::Retrieve { msg, .. } => {
                match &self.msg(msg).source {
                    Source::Memory(bytes) => AsyncAnswer::MessageBytes(Box::new(bytes.clone())),
                    // A message file up to 1 MiB (most mail) is read whole: right
                    // here if the kernel's caches hold it (Linux), which does not
                    // wait for a disk; else in one call on tokio's blocking pool.
                    Source::File(file) if file.len <= WHOLE_FILE => {
                        let read = match read_cached(file) {
                            Some(bytes) => Ok(bytes),
                            None => {
                                let file = file.clone();
                                tokio::task::spawn_blocking(move || read_whole(&file))
                                    .await
                                    .unwrap_or_else(|e| Err(e.into()))
                            }
                        };
                        match read {
                            Ok(bytes) => AsyncAnswer::MessageBytes(Box::new(bytes)),
                            Err(e) => {
                                eprintln!("pop3d: {}: {e}", file.path().display());
                                AsyncAnswer::Message(None)
                            }
                        }
                    }
                    // A larger one is streamed in large reads (pages touched only as
                    // used, and no further than the length listed), on the pool.
                    Source::File(file) => {
                        let f = file.clone();
                        let opened = tokio::task::spawn_blocking(move || f.open())
                            .await
                            .unwrap_or_else(|e| Err(e.into()));
                        AsyncAnswer::Message(opened.ok().map(|f| {
                            let f = tokio::fs::File::from_std(f).take(file.len);
                            Box::pin(tokio::io::BufReader::with_capacity(256 * 1024, f)) as _
                        }))
                    }
                }
            }
            _ => AsyncAnswer::Verdict(false), // the credential checks: answered above
        }
    }

    async fn update(&mut self, deleted: &[u32]) -> bool {
        Session::update(self, deleted)
    }

    fn closed(&mut self) {
        self.release();
    }
}

async fn session(tcp: tokio::net::TcpStream, setup: Arc<Setup>, config: ServerConfig) {
    let peer_ip = tcp
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let _ = tcp.set_nodelay(true);
    let stream = match (&setup.tls, config.tls) {
        (Some(t), Tls::Implicit) => {
            let mut s = TokioStream::server_starttls(tcp, t.clone())
                .handshake_timeout(setup.handshake_timeout);
            match s.start_tls().await {
                Ok(()) => s,
                Err(e) => return eprintln!("pop3d: {peer}: TLS handshake failed: {e}"),
            }
        }
        (Some(t), _) => {
            TokioStream::server_starttls(tcp, t.clone()).handshake_timeout(setup.handshake_timeout)
        }
        (None, _) => TokioStream::plain(tcp),
    };
    let mut server = Server::with_marks(
        config,
        pop3_proto::tokio::now(),
        mailstore::random32(),
        Vec::new(),
    );
    // After implicit TLS: SCRAM -PLUS binds to this session (STLS: the adapter does it).
    if let Some(cb) = stream.channel_binding() {
        server.set_channel_binding(cb);
    }
    if let Err(e) = serve_starttls(
        stream,
        server,
        &mut Session::new(setup.shared.clone(), peer_ip),
    )
    .await
    {
        eprintln!("pop3d: {peer}: {e}");
    }
}

/// Accepts forever, a task per admitted session; over the limits `-ERR [SYS/TEMP]`
/// and close; accept errors (out of descriptors) back off instead of spinning.
async fn accept(listener: tokio::net::TcpListener, setup: Arc<Setup>, config: ServerConfig) {
    let mut errors = mailstore::AcceptErrors::new();
    loop {
        match listener.accept().await {
            Ok((mut tcp, peer)) => match setup.admission.enter(peer.ip()) {
                Ok(ticket) => {
                    let work = session(tcp, setup.clone(), config.clone());
                    drop(tokio::spawn(async move {
                        work.await;
                        drop(ticket)
                    }));
                }
                Err(refusal) => drop(tokio::spawn(async move { tcp.write_all(refusal).await })),
            },
            Err(e) => tokio::time::sleep(errors.failed(&e)).await,
        }
    }
}

fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let l = mailstore::listen(addr)?;
    l.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(l)
}

#[tokio::main]
async fn main() -> ExitCode {
    let o = mailstore::cli::parse("tokio_pop3d");
    let setup = match mailstore::setup(&o) {
        Ok(setup) => Arc::new(setup),
        Err(e) => {
            eprintln!("tokio_pop3d: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match listen(&o.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("pop3d: cannot listen on {}: {e}", o.listen);
            return ExitCode::FAILURE;
        }
    };
    if let (Some(addr), Some(_)) = (&o.listen_tls, &setup.tls) {
        let l = match listen(addr) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("pop3d: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut config = setup.config.clone();
        config.tls = Tls::Implicit;
        tokio::spawn(accept(l, setup.clone(), config));
    }
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    mailstore::banner(&o, &setup, &addr);
    accept(listener, setup.clone(), setup.config.clone()).await;
    ExitCode::SUCCESS
}
