//! `pop3fetch --check URL`: tests an account step by step, fetching and deleting
//! nothing, and prints one line per step with what it saw; a failing step also says
//! the likely cause and the fix, and the exit code is that of the step's class
//! (4 network and TLS, 3 login, 7 server busy, 5 the server cannot do what the
//! options ask, 6 local).

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use pop3_proto::blocking::{ClientConn, StartTls};
use pop3_proto::client::{Client, ClientConfig, ClientError, ClientEvent, CommandKind, Login};
use pop3_proto::response::capability::Expire;
use pop3_proto::sasl::SaslMechanism;
use pop3_proto::tls::{self, NetStream};

use super::{fail, hints, login_exit, text, url, Exit, Failure, Keep, Options, Res};

/// The longest a check waits for a connection or a first reply: a check should answer
/// quickly, whatever `--timeout` a long fetch wants.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Prints one step's line.
fn ok(step: &str, what: impl std::fmt::Display) {
    println!("{step:<9} ok    {what}");
}

/// Prints a failed step with its hint, and returns its failure.
fn failed(step: &str, exit: Exit, what: impl std::fmt::Display, hint: &str) -> Failure {
    println!("{step:<9} FAIL  {what}");
    println!("{:<9}       hint: {hint}", "");
    fail(exit, format!("check failed at {step}: {what}"))
}

type Conn = ClientConn<NetStream>;

/// Runs the check.
pub fn check(o: &Options) -> Res<()> {
    let (host, port) = (o.url.host.as_str(), o.url.port);
    let wait = o.limits.timeout.min(STEP_TIMEOUT);

    // Name resolution.
    let addrs: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            return Err(failed(
                "resolve",
                Exit::Network,
                format!("{host}: {e}"),
                "check the host name (and this machine's DNS)",
            ))
        }
    };
    let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    ok("resolve", format!("{host}: {}", shown.join(", ")));

    // TCP.
    let started = Instant::now();
    let mut last = None;
    let mut tcp = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, wait) {
            Ok(t) => {
                tcp = Some((t, *a));
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some((tcp, addr)) = tcp else {
        let e = last.unwrap_or_else(|| io::Error::other("no address"));
        let hint = hints::connect(&e, host, port, wait.as_secs());
        return Err(failed(
            "connect",
            Exit::Network,
            format!("{addr_list}: {e}", addr_list = shown.join(", ")),
            &hint,
        ));
    };
    ok(
        "connect",
        format!("{addr} ({} ms)", started.elapsed().as_millis()),
    );
    tcp.set_read_timeout(Some(wait))
        .map_err(|e| fail(Exit::Network, e))?;
    let _ = tcp.set_nodelay(true);

    // TLS from the start: a plain POP3 server speaks first, a TLS one waits for us.
    let tls_config = if o.url.tls || o.starttls {
        Some(tls::client_config(o.ca_file.as_deref()).map_err(|e| {
            failed(
                "tls",
                Exit::Local,
                format!("CA certificates: {e}"),
                "check --ca-file (a PEM file of the CA or the server's certificate)",
            )
        })?)
    } else {
        None
    };
    let stream = match &tls_config {
        Some(c) if o.url.tls => {
            tcp.set_read_timeout(Some(Duration::from_millis(700)))
                .map_err(|e| fail(Exit::Network, e))?;
            let mut first = [0u8; 4];
            if let Ok(n) = tcp.peek(&mut first) {
                if n > 0 && (first.starts_with(b"+OK") || first.starts_with(b"-ERR")) {
                    return Err(failed(
                        "tls",
                        Exit::Network,
                        "the server greeted in plain text before any TLS",
                        &hints::plaintext_on_tls(host, port),
                    ));
                }
            }
            tcp.set_read_timeout(Some(wait))
                .map_err(|e| fail(Exit::Network, e))?;
            let s = NetStream::client_tls(tcp, c.clone(), host)
                .map_err(|e| tls_failed(&e, host, port))?;
            ok(
                "tls",
                format!("handshake done, certificate valid for {host}"),
            );
            s
        }
        Some(c) => {
            NetStream::client_starttls(tcp, c.clone(), host).map_err(|e| fail(Exit::Network, e))?
        }
        None => NetStream::plain(tcp),
    };
    let channel_binding = stream.channel_binding();
    let config = ClientConfig {
        tls: o.url.tls,
        allow_plaintext: o.allow_plaintext,
        host: o.url.host.as_str().try_into().unwrap_or_default(),
        port,
        ..ClientConfig::default()
    };
    let mut conn: Conn = ClientConn::new(stream, Client::new(config, super::random32()?));
    if let Some(cb) = channel_binding {
        conn.client().set_channel_binding(cb);
    }

    // Greeting and CAPA.
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
        return Err(match (&greeting, e) {
            (None, pop3_proto::blocking::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                failed(
                    "greeting",
                    Exit::Network,
                    format!("nothing within {} s", wait.as_secs()),
                    &hints::no_greeting(o.url.tls, host, port, wait.as_secs()),
                )
            }
            (None, pop3_proto::blocking::Error::Client(ClientError::Rejected)) => failed(
                "greeting",
                Exit::Busy,
                "-ERR: the server refused the connection",
                "the server is busy or refuses this address: try again later",
            ),
            (None, e) => failed(
                "greeting",
                Exit::Network,
                &e,
                "the server closed the connection or sent something that is not POP3",
            ),
            (Some(_), e) => failed(
                "capa",
                Exit::Protocol,
                &e,
                "the server's CAPA reply is broken",
            ),
        });
    }
    ok("greeting", greeting.unwrap_or_default());
    capabilities(o, &mut conn, capa_refused)?;

    // STLS.
    if o.starttls && !o.url.tls {
        if !conn.client().capabilities().stls {
            return Err(failed(
                "stls",
                Exit::Network,
                "the server does not offer STLS",
                &format!(
                    "use pop3s://{host} (port 995) if it has it, or --allow-plaintext without \
                     --starttls on a network you trust"
                ),
            ));
        }
        conn.client().stls().map_err(|e| fail(Exit::Protocol, e))?;
        let mut refused = None;
        conn.run(|ev| {
            if let ClientEvent::Error { text: t, .. } = ev {
                refused = Some(text(t));
            }
        })
        .map_err(|e| failed("stls", Exit::Network, e, "the connection failed at STLS"))?;
        if let Some(t) = refused {
            return Err(failed(
                "stls",
                Exit::Network,
                format!("-ERR {t}"),
                "the server refused STLS: try pop3s:// (port 995)",
            ));
        }
        conn.start_tls().map_err(|e| match e {
            pop3_proto::blocking::Error::Io(e) => tls_failed(&e, host, port),
            e => failed("stls", Exit::Network, e, "the TLS handshake failed"),
        })?;
        conn.run(|_| {})
            .map_err(|e| failed("stls", Exit::Network, e, "the connection failed after STLS"))?;
        ok(
            "stls",
            format!("handshake done, certificate valid for {host}"),
        );
        capabilities(o, &mut conn, false)?;
    }

    // Login: a server may wait for a lock before it answers (Dovecot's POP3 session
    // lock): the run's --timeout, not the short one of the first steps.
    if let Some(t) = conn.stream().tcp() {
        let _ = t.set_read_timeout(Some(o.limits.timeout));
    }
    let caps = url::usable_capabilities(conn.client());
    let tls_active = conn.client().tls_active();
    let login = url::choose_login(&o.url, &caps, tls_active, o.allow_plaintext, &o.password)
        .map_err(|e| failed("login", Exit::Auth, e, &hints::plaintext_refused(host)))?;
    let how = match login {
        Login::Sasl { mechanism, .. } => format!("AUTH {}", mechanism.name()),
        Login::Apop { .. } => "APOP".into(),
        Login::UserPass { .. } => "USER/PASS".into(),
    };
    conn.client()
        .login(login)
        .map_err(|e| failed("login", Exit::Auth, e, &hints::plaintext_refused(host)))?;
    let mut refusal: Option<(Exit, String, String)> = None;
    let result = conn.run_with_credentials(&login, |ev| {
        if let ClientEvent::Error {
            command: CommandKind::User | CommandKind::Pass | CommandKind::Apop | CommandKind::Auth,
            code,
            text: t,
            ..
        } = ev
        {
            refusal.get_or_insert((
                login_exit(code.as_ref()),
                hints::login(code.as_ref()),
                text(t),
            ));
        }
    });
    if let Some((exit, hint, t)) = refusal {
        return Err(failed(
            "login",
            exit,
            format!("{how} as {}: -ERR {t}", o.url.user),
            &hint,
        ));
    }
    result.map_err(|e| failed("login", Exit::Auth, e, "the login failed"))?;
    if !conn.client().is_logged_in() {
        return Err(failed(
            "login",
            Exit::Auth,
            "not logged in",
            &hints::login(None),
        ));
    }
    ok("login", format!("{how} as {}", o.url.user));

    // STAT, and UIDL when mail is to be kept.
    let mut stat = None;
    let mut uidl_refused = false;
    conn.client().stat().map_err(|e| fail(Exit::Protocol, e))?;
    if o.keep != Keep::Nothing {
        conn.client()
            .uidl(None)
            .map_err(|e| fail(Exit::Protocol, e))?;
    }
    conn.run(|ev| match ev {
        ClientEvent::Stat(s) => stat = Some((s.count, s.size)),
        ClientEvent::Error {
            command: CommandKind::Uidl,
            ..
        } => uidl_refused = true,
        _ => {}
    })
    .map_err(|e| {
        failed(
            "stat",
            Exit::Protocol,
            e,
            "the server's reply cannot be believed",
        )
    })?;
    let (count, size) = stat.ok_or_else(|| {
        failed(
            "stat",
            Exit::Protocol,
            "STAT refused",
            "the server refuses STAT after login",
        )
    })?;
    ok("stat", format!("{count} messages, {size} octets"));
    if uidl_refused {
        return Err(failed(
            "uidl",
            Exit::Protocol,
            "the server refuses UIDL",
            "without UIDL, --keep and --keep-for cannot tell a kept message from a new one: \
             fetch without them (every message is then deleted once delivered)",
        ));
    }
    conn.client().quit().map_err(|e| fail(Exit::Protocol, e))?;
    let _ = conn.run(|_| {});
    println!("check passed: nothing was fetched or deleted");
    Ok(())
}

/// The capabilities line, and the options the server cannot serve.
fn capabilities(o: &Options, conn: &mut Conn, refused: bool) -> Res<()> {
    let c = conn.client().capabilities();
    if refused || !c.known {
        ok(
            "capa",
            "refused (an RFC 1939 server): USER/PASS, no STLS, UIDL only if it answers it",
        );
        return Ok(());
    }
    let mut seen = Vec::new();
    for (on, name) in [
        (c.stls, "STLS"),
        (c.user, "USER"),
        (c.uidl, "UIDL"),
        (c.top, "TOP"),
        (c.pipelining, "PIPELINING"),
        (c.resp_codes, "RESP-CODES"),
    ] {
        if on {
            seen.push(name.to_string());
        }
    }
    let mechanisms: Vec<&str> = SaslMechanism::ALL
        .iter()
        .filter(|m| c.mechanisms.contains(m.bit()))
        .map(|m| m.name())
        .collect();
    if !mechanisms.is_empty() {
        seen.push(format!("SASL {}", mechanisms.join(" ")));
    }
    if let Some(d) = c.login_delay {
        seen.push(format!("LOGIN-DELAY {d}"));
    }
    match c.expire {
        Some(Expire::Never) => seen.push("EXPIRE NEVER".into()),
        Some(Expire::Days(d)) => seen.push(format!("EXPIRE {d}")),
        None => {}
    }
    ok("capa", seen.join(", "));
    if o.keep != Keep::Nothing && c.expire == Some(Expire::Days(0)) {
        return Err(failed(
            "capa",
            Exit::Protocol,
            "EXPIRE 0: the server deletes every message once it was retrieved",
            "--keep and --keep-for cannot keep mail on this server",
        ));
    }
    if o.keep != Keep::Nothing && !c.uidl {
        return Err(failed(
            "capa",
            Exit::Protocol,
            "no UIDL in CAPA",
            "without UIDL, --keep and --keep-for cannot tell a kept message from a new one",
        ));
    }
    Ok(())
}

/// A failed TLS handshake, with what its error most likely means.
fn tls_failed(e: &io::Error, host: &str, port: u16) -> Failure {
    let hint = hints::tls(e, host, port).unwrap_or_else(|| {
        "the TLS handshake failed: check the port (pop3s is usually 995) and --ca-file".into()
    });
    failed("tls", Exit::Network, e, &hint)
}
