//! A scripted POP3 server for the fetcher's tests: a TcpListener thread that answers
//! each command line with exact bytes (or an endless stream), bounded in commands
//! and in time, and records what each connection sent.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the scripted server does with one command line.
pub type Responder = fn(&str) -> Vec<u8>;

/// What a scripted server answers to one command line.
pub enum Reply {
    /// These bytes (empty: close the connection).
    Send(Vec<u8>),
    /// `head`, then `chunk` again and again with `pause` between, until the client
    /// stops reading, `limit` bytes were written, or 30 s passed; then close.
    Endless {
        head: Vec<u8>,
        chunk: Vec<u8>,
        pause: Duration,
        limit: usize,
    },
}

/// One connection as the server saw it.
#[derive(Debug, Default)]
pub struct Session {
    pub commands: Vec<String>,
    /// Bytes written by an `Endless` reply.
    pub streamed: usize,
}

/// A scripted server: connections one after another on one port (so that they are
/// one account for pop3fetch), each answered by `respond(connection, command)`.
/// Bounded: 5,000 commands and 30 s per connection, 2 s of client silence.
pub struct Scripted {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Session>>,
}

pub fn serve_script(
    greeting: &'static [u8],
    respond: impl Fn(usize, &str) -> Reply + Send + 'static,
) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::spawn(move || {
        let mut sessions = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let mut waiting = Instant::now();
        while !stopped.load(Ordering::SeqCst) && waiting.elapsed() < Duration::from_secs(60) {
            match listener.accept() {
                Ok((s, _)) => {
                    let n = sessions.len();
                    sessions.push(session(s, greeting, |c| respond(n, c)));
                    waiting = Instant::now();
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        sessions
    });
    Scripted { port, stop, thread }
}

fn session(stream: TcpStream, greeting: &[u8], respond: impl Fn(&str) -> Reply) -> Session {
    let start = Instant::now();
    let mut log = Session::default();
    stream.set_nonblocking(false).unwrap();
    // An idle client is dropped after 2 s (pop3fetch's own timeout is longer).
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    if writer.write_all(greeting).is_err() {
        return log;
    }
    let mut line = Vec::new();
    for _ in 0..5_000 {
        if start.elapsed() > Duration::from_secs(30) {
            break;
        }
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_string();
        let reply = respond(&command);
        log.commands.push(command);
        match reply {
            Reply::Send(bytes) => {
                if bytes.is_empty() || writer.write_all(&bytes).is_err() {
                    break;
                }
            }
            Reply::Endless {
                head,
                chunk,
                pause,
                limit,
            } => {
                if writer.write_all(&head).is_err() {
                    break;
                }
                while log.streamed < limit && start.elapsed() < Duration::from_secs(30) {
                    if writer.write_all(&chunk).is_err() {
                        break;
                    }
                    log.streamed += chunk.len();
                    if !pause.is_zero() {
                        std::thread::sleep(pause);
                    }
                }
                break;
            }
        }
    }
    log
}

impl Scripted {
    /// Stops accepting and returns what each connection sent.
    pub fn sessions(self) -> Vec<Session> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap()
    }

    /// The command lines of the only connection.
    pub fn commands(self) -> Vec<String> {
        let mut s = self.sessions();
        assert_eq!(s.len(), 1, "expected one connection: {s:?}");
        s.remove(0).commands
    }
}

/// A one-connection scripted server that answers each line with exact bytes
/// (empty: close).
pub fn serve(greeting: &'static [u8], respond: Responder) -> Scripted {
    serve_script(greeting, move |_, c| Reply::Send(respond(c)))
}
