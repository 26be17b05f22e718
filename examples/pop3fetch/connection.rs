//! The connection, one sequence for a fetch and for `--check`: name resolution, TCP,
//! TLS (from the start, or after STLS), the greeting and CAPA, UTF8 and the login.
//! Each step reports to [`Steps`]: a fetch says nothing unless a step fails, and
//! `--check` prints a line per step.

use std::fs::File;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use pop3_proto::blocking::{self, ClientConn, StartTls};
use pop3_proto::client::{
    Capabilities, Client, ClientConfig, ClientError, ClientEvent, CommandKind,
};
use pop3_proto::tls::{self, NetStream};
use pop3_proto::BareLf;

use crate::failure::{fail, queue_err, step_fail, text, wire_err, Exit, Failure, Res, StepFailure};
use crate::options::Options;
use crate::{hints, login, wire};

/// A logged-in session, over a stream bounded by the run's limits.
pub type Conn = ClientConn<wire::Guarded<NetStream>>;

/// Who follows the steps of opening a connection.
pub trait Steps {
    /// The longest wait for the connection and for each reply before the login.
    fn wait(&self, o: &Options) -> Duration {
        o.limits.timeout
    }

    /// Whether a pop3s:// port is first watched briefly for a server that greets in
    /// plain text (a wrong port), before any TLS.
    fn probe_plaintext(&self) -> bool {
        false
    }

    /// `step` passed; `what` says what it saw.
    fn passed(&mut self, _step: &str, _what: &dyn Fn() -> String) {}

    /// `step` failed: the failure that ends the run.
    fn failed(&mut self, step: &str, f: StepFailure) -> Failure;

    /// The server's capabilities (`refused`: CAPA was), after the greeting and again
    /// after STLS: what the options need and the server cannot do fails here.
    fn capabilities(
        &mut self,
        _o: &Options,
        _caps: &Capabilities,
        _refused: bool,
    ) -> Result<(), StepFailure> {
        Ok(())
    }
}

/// A fetch's steps: quiet; a failed step is the run's error, with its hint.
pub struct Quiet;

impl Steps for Quiet {
    fn failed(&mut self, _step: &str, f: StepFailure) -> Failure {
        if f.hint.is_empty() {
            fail(f.exit, f.what)
        } else {
            fail(f.exit, format!("{}\n  hint: {}", f.what, f.hint))
        }
    }
}

/// Fresh randomness for a session (SCRAM's client nonce).
fn random32() -> Res<[u8; 32]> {
    let mut random = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .map_err(|e| fail(Exit::Local, e))?;
    Ok(random)
}

/// Connects, greets, secures and logs in as `o` asks.
pub fn open(o: &Options, steps: &mut dyn Steps) -> Res<Conn> {
    let started = Instant::now();
    let wait = steps.wait(o);
    let tcp = connect(o, steps, wait)?;
    tcp.set_read_timeout(Some(wait))
        .map_err(|e| fail(Exit::Network, e))?;
    let _ = tcp.set_nodelay(true);
    let tcp_handle = tcp.try_clone().map_err(|e| fail(Exit::Network, e))?;
    if o.trace {
        eprintln!("-- connected to {}:{}", o.url.host, o.url.port);
    }
    let stream = secure(o, steps, tcp, wait)?;
    let limits = wire::Limits {
        timeout: wait,
        ..o.limits
    };
    let stream = wire::Guarded::new(stream, tcp_handle, limits, started, o.trace)
        .map_err(|e| fail(Exit::Network, e))?;
    let config = ClientConfig {
        tls: o.url.tls,
        allow_plaintext: o.allow_plaintext,
        host: o.url.host.as_str().try_into().unwrap_or_default(),
        port: o.url.port,
        bare_lf: if o.bare_lf {
            BareLf::LineEnd
        } else {
            BareLf::Auto
        },
        ..ClientConfig::default()
    };
    // SCRAM -PLUS binds to the TLS session (after STLS, start_tls hands it over).
    let channel_binding = stream.channel_binding();
    let mut conn: Conn = ClientConn::new(stream, Client::new(config, random32()?));
    if let Some(cb) = channel_binding {
        conn.client().set_channel_binding(cb);
    }
    greet(o, steps, &mut conn, wait)?;
    if o.starttls && !o.url.tls {
        stls(o, steps, &mut conn)?;
    }
    // UTF8 (RFC 6856) when offered: user names, passwords and messages in UTF-8.
    if o.utf8 && conn.client().capabilities().utf8.is_some() {
        conn.client().utf8().map_err(queue_err)?;
        conn.run(|_| {}).map_err(wire_err)?;
    }
    // A server may wait for a lock before it answers a login (Dovecot's POP3 session
    // lock): from here on the run's --timeout, not the first steps' wait.
    conn.stream()
        .set_timeout(o.limits.timeout)
        .map_err(|e| fail(Exit::Network, e))?;
    let how = login::log_in(o, &mut conn).map_err(|f| steps.failed("login", f))?;
    steps.passed("login", &|| format!("{how} as {}", o.url.user));
    Ok(conn)
}

/// Name resolution and TCP: the first address that answers.
fn connect(o: &Options, steps: &mut dyn Steps, wait: Duration) -> Res<TcpStream> {
    let (host, port) = (o.url.host.as_str(), o.url.port);
    let addrs: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            let f = step_fail(
                Exit::Network,
                format!("{host}: {e}"),
                "check the host name (and this machine's DNS)",
            );
            return Err(steps.failed("resolve", f));
        }
    };
    let shown = || {
        let ips: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        ips.join(", ")
    };
    steps.passed("resolve", &|| format!("{host}: {}", shown()));
    let started = Instant::now();
    let mut last = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, wait) {
            Ok(tcp) => {
                steps.passed("connect", &|| {
                    format!("{addr} ({} ms)", started.elapsed().as_millis())
                });
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::other("no address"));
    let hint = hints::connect(&e, host, port, wait.as_secs());
    let f = step_fail(
        Exit::Network,
        format!("connect {host}:{port} ({}): {e}", shown()),
        hint,
    );
    Err(steps.failed("connect", f))
}

/// TLS from the start (pop3s://: a plain POP3 server speaks first, a TLS one waits
/// for us), or a stream ready for STLS, or plain.
fn secure(o: &Options, steps: &mut dyn Steps, tcp: TcpStream, wait: Duration) -> Res<NetStream> {
    let (host, port) = (o.url.host.as_str(), o.url.port);
    if !o.url.tls && !o.starttls {
        return Ok(NetStream::plain(tcp));
    }
    let config = tls::client_config(o.ca_file.as_deref()).map_err(|e| {
        let what = o
            .ca_file
            .as_deref()
            .unwrap_or(Path::new("system CA certificates"));
        let f = step_fail(
            Exit::Local,
            format!("{}: {e}", what.display()),
            "check --ca-file (a PEM file of the CA or the server's certificate)",
        );
        steps.failed("tls", f)
    })?;
    if !o.url.tls {
        return NetStream::client_starttls(tcp, config, host).map_err(|e| fail(Exit::Network, e));
    }
    if steps.probe_plaintext() {
        tcp.set_read_timeout(Some(Duration::from_millis(700)))
            .map_err(|e| fail(Exit::Network, e))?;
        let mut first = [0u8; 4];
        if let Ok(n) = tcp.peek(&mut first) {
            if n > 0 && (first.starts_with(b"+OK") || first.starts_with(b"-ERR")) {
                let f = step_fail(
                    Exit::Network,
                    "the server greeted in plain text before any TLS",
                    hints::plaintext_on_tls(host, port),
                );
                return Err(steps.failed("tls", f));
            }
        }
        tcp.set_read_timeout(Some(wait))
            .map_err(|e| fail(Exit::Network, e))?;
    }
    let stream = NetStream::client_tls(tcp, config, host)
        .map_err(|e| steps.failed("tls", tls_failed(&e, host, port)))?;
    if o.trace {
        eprintln!("-- TLS handshake done");
    }
    steps.passed("tls", &|| {
        format!("handshake done, certificate valid for {host}")
    });
    Ok(stream)
}

/// A failed TLS handshake, with what its error most likely means.
fn tls_failed(e: &io::Error, host: &str, port: u16) -> StepFailure {
    let hint = hints::tls(e, host, port).unwrap_or_else(|| {
        "the TLS handshake failed: check the port (pop3s is usually 995) and --ca-file".into()
    });
    step_fail(Exit::Network, format!("TLS: {e}"), hint)
}

/// The greeting, and the CAPA the client sends after it.
fn greet(o: &Options, steps: &mut dyn Steps, conn: &mut Conn, wait: Duration) -> Res<()> {
    let (host, port) = (o.url.host.as_str(), o.url.port);
    let mut greeting = None;
    let mut capa_refused = false;
    let run = conn.run(|ev| match ev {
        ClientEvent::Greeting { text: t, .. } => greeting = Some(text(t)),
        ClientEvent::Error {
            command: CommandKind::Capa,
            ..
        } => capa_refused = true,
        _ => {}
    });
    if let Err(e) = run {
        let (step, f) = match (&greeting, e) {
            (None, blocking::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let what = format!("nothing within {} s", wait.as_secs());
                let hint = hints::no_greeting(o.url.tls, host, port, wait.as_secs());
                ("greeting", step_fail(Exit::Network, what, hint))
            }
            (None, blocking::Error::Client(ClientError::Rejected)) => (
                "greeting",
                step_fail(
                    Exit::Busy,
                    "-ERR: the server refused the connection",
                    "the server is busy or refuses this address: try again later",
                ),
            ),
            (None, e) => {
                let f = wire_err(e);
                let hint = "the server closed the connection or sent something that is not POP3";
                ("greeting", step_fail(f.exit, f.msg, hint))
            }
            (Some(_), e) => {
                let f = wire_err(e);
                (
                    "capa",
                    step_fail(f.exit, f.msg, "the server's CAPA reply is broken"),
                )
            }
        };
        return Err(steps.failed(step, f));
    }
    steps.passed("greeting", &|| greeting.clone().unwrap_or_default());
    let caps = *conn.client().capabilities();
    steps
        .capabilities(o, &caps, capa_refused)
        .map_err(|f| steps.failed("capa", f))
}

/// STLS, the TLS handshake after it, and the CAPA sent again under TLS.
fn stls(o: &Options, steps: &mut dyn Steps, conn: &mut Conn) -> Res<()> {
    let (host, port) = (o.url.host.as_str(), o.url.port);
    let wire = |e, hint: &str| {
        let f = wire_err(e);
        step_fail(f.exit, f.msg, hint)
    };
    if !conn.client().capabilities().stls {
        let f = step_fail(
            Exit::Network,
            "the server does not offer STLS",
            format!(
                "use pop3s://{host} (port 995) if it has it, or --allow-plaintext without \
                 --starttls on a network you trust"
            ),
        );
        return Err(steps.failed("stls", f));
    }
    conn.client().stls().map_err(queue_err)?;
    let (mut ok, mut refused) = (false, None);
    conn.run(|ev| match ev {
        ClientEvent::StartTls => ok = true,
        ClientEvent::Error { text: t, .. } => refused = Some(text(t)),
        _ => {}
    })
    .map_err(|e| steps.failed("stls", wire(e, "the connection failed at STLS")))?;
    if !ok {
        let f = step_fail(
            Exit::Network,
            format!("STLS refused: -ERR {}", refused.unwrap_or_default()),
            "the server refused STLS: try pop3s:// (port 995)",
        );
        return Err(steps.failed("stls", f));
    }
    conn.start_tls().map_err(|e| match e {
        blocking::Error::Io(e) => steps.failed("tls", tls_failed(&e, host, port)),
        e => steps.failed(
            "stls",
            step_fail(
                Exit::Network,
                format!("TLS: {e}"),
                "the TLS handshake failed",
            ),
        ),
    })?;
    let mut capa_refused = false;
    conn.run(|ev| {
        if let ClientEvent::Error {
            command: CommandKind::Capa,
            ..
        } = ev
        {
            capa_refused = true;
        }
    })
    .map_err(|e| steps.failed("stls", wire(e, "the connection failed after STLS")))?;
    steps.passed("stls", &|| {
        format!("handshake done, certificate valid for {host}")
    });
    let caps = *conn.client().capabilities();
    steps
        .capabilities(o, &caps, capa_refused)
        .map_err(|f| steps.failed("capa", f))
}
