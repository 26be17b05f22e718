//! What an accept loop needs: the listener, the limits on open sessions (in all and
//! per address), a backoff on accept errors, and fresh randomness per session.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A listener with a deep accept queue: std's 128 drops SYNs when hundreds of
/// clients connect at once, and each drop costs the client a 1 s retransmission.
pub fn listen(addr: &str) -> io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let addr = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::other("no address"))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Fresh randomness for a session (APOP timestamp, SCRAM nonces).
pub fn random32() -> [u8; 32] {
    let mut r = [0u8; 32];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut r))
        .is_err()
    {
        let t = pop3_proto::blocking::now().as_millis().to_le_bytes();
        for (i, b) in r.iter_mut().enumerate() {
            *b = t[i % 8] ^ (i as u8).wrapping_mul(151);
        }
    }
    r
}

/// How many sessions are open, in all and per address; a connection over either
/// limit is turned away with `-ERR [SYS/TEMP]` before a session starts.
pub struct Admission {
    max: usize,
    max_per_ip: usize,
    open: Mutex<(usize, HashMap<std::net::IpAddr, usize>)>,
}

/// An admitted session; its place is given back when it is dropped.
pub struct Ticket {
    admission: Arc<Admission>,
    ip: std::net::IpAddr,
}

impl Admission {
    /// At most `max` sessions at once, and `max_per_ip` from one address.
    pub fn new(max: usize, max_per_ip: usize) -> Admission {
        Admission {
            max,
            max_per_ip,
            open: Mutex::new((0, HashMap::new())),
        }
    }

    /// A place for a session from `ip`, or the `-ERR` line to send instead.
    pub fn enter(self: &Arc<Self>, ip: std::net::IpAddr) -> Result<Ticket, &'static [u8]> {
        let mut open = self.open.lock().unwrap();
        if open.0 >= self.max {
            return Err(b"-ERR [SYS/TEMP] Too many connections, try again later\r\n");
        }
        let from_ip = open.1.entry(ip).or_default();
        if *from_ip >= self.max_per_ip {
            return Err(b"-ERR [SYS/TEMP] Too many connections from your address\r\n");
        }
        *from_ip += 1;
        open.0 += 1;
        Ok(Ticket {
            admission: self.clone(),
            ip,
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().unwrap();
        open.0 -= 1;
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// Logs an accept error at most once a second and backs off, so that running out
/// of descriptors neither spins a core nor floods the log.
pub struct AcceptErrors {
    last_log: Option<std::time::Instant>,
    suppressed: u64,
}

impl AcceptErrors {
    pub fn new() -> Self {
        AcceptErrors {
            last_log: None,
            suppressed: 0,
        }
    }

    /// Records an accept error; returns how long to wait before accepting again.
    pub fn failed(&mut self, e: &io::Error) -> Duration {
        let now = std::time::Instant::now();
        if self
            .last_log
            .is_none_or(|t| now - t >= Duration::from_secs(1))
        {
            eprintln!("pop3d: accept: {e} ({} more not logged)", self.suppressed);
            self.last_log = Some(now);
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
        Duration::from_millis(100)
    }
}
