//! `tokio_fetch`: fetch a POP3 mailbox into a Maildir with the tokio adapter,
//! awaiting a file write between the events of each message.
//!
//! ```sh
//! POP3_PASSWORD=demo cargo run --example tokio_fetch -- pop3://demo@127.0.0.1:1110 --maildir ./mail --allow-plaintext
//! ```
//!
//! `tokio_fetch URL --maildir DIR [--delete] [--starttls] [--allow-plaintext] [--ca-file PEM]`
//!
//! URL as for `pop3fetch` (RFC 2384; `pop3s://` for implicit TLS), password from
//! `POP3_PASSWORD`. Every message is written to DIR/tmp with LF line ends, fsynced and
//! renamed into DIR/new; with `--delete` its DELE is queued only after that.
//! `pop3fetch` is the complete fetcher (UID state, keeps what it fetched once); this
//! one shows the async loop.

#[path = "common/maildir.rs"]
mod maildir;
#[path = "common/url.rs"]
mod url;

use std::path::PathBuf;
use std::process::ExitCode;

use pop3_proto::client::{Client, ClientConfig, ClientEvent, CommandKind, Login};
use pop3_proto::tokio::{AsyncStartTls, ClientConn, TokioStream};
use tokio::io::AsyncWriteExt;

struct Options {
    url: url::Url,
    maildir: PathBuf,
    delete: bool,
    starttls: bool,
    allow_plaintext: bool,
    ca_file: Option<PathBuf>,
    password: Vec<u8>,
}

fn parse_args() -> Result<Options, String> {
    let (mut url, mut maildir, mut ca_file) = (None, None, None);
    let (mut delete, mut starttls, mut allow_plaintext) = (false, false, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--maildir" => maildir = Some(PathBuf::from(value()?)),
            "--delete" => delete = true,
            "--starttls" => starttls = true,
            "--allow-plaintext" => allow_plaintext = true,
            "--ca-file" => ca_file = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => url = Some(url::parse(s)?),
        }
    }
    let password = std::env::var_os("POP3_PASSWORD").ok_or("set POP3_PASSWORD")?;
    Ok(Options {
        url: url.ok_or("missing URL")?,
        maildir: maildir.ok_or("missing --maildir")?,
        delete,
        starttls,
        allow_plaintext,
        ca_file,
        password: password.into_encoded_bytes(),
    })
}

/// What a run did.
#[derive(Default)]
struct Fetched {
    messages: u64,
    bytes: u64,
    deleted: u64,
}

/// CRLF -> LF (Maildir), carrying a CR that ends one chunk into the next.
fn to_lf(data: &[u8], cr: &mut bool, out: &mut Vec<u8>) {
    out.clear();
    for &b in data {
        if std::mem::take(cr) && b != b'\n' {
            out.push(b'\r');
        }
        if b == b'\r' {
            *cr = true;
        } else {
            out.push(b);
        }
    }
}

/// Runs what is queued until the client is idle; the first `-ERR` (or reply the
/// client refused) is the error.
async fn settle(conn: &mut ClientConn<TokioStream>) -> Result<bool, String> {
    settle_with(conn, None).await
}

/// [`settle`], answering the client's requests for credentials from `login` (the
/// client keeps none; it asks when their line is due).
async fn settle_with(
    conn: &mut ClientConn<TokioStream>,
    login: Option<&Login<'_>>,
) -> Result<bool, String> {
    let mut start_tls = false;
    while let Some(event) = conn.next().await.map_err(|e| e.to_string())? {
        match event {
            ClientEvent::NeedCredentials { .. } => {
                let login = login.ok_or("credentials asked for outside a login")?;
                conn.credentials(login).map_err(|e| e.to_string())?;
            }
            ClientEvent::StartTls => start_tls = true,
            // A refused CAPA (RFC 1939-only servers, before or after login) means no
            // capabilities, not a failure.
            ClientEvent::Error {
                command: CommandKind::Capa,
                ..
            } => {}
            ClientEvent::Error { command, text, .. } => {
                return Err(format!(
                    "{command:?}: -ERR {}",
                    String::from_utf8_lossy(text)
                ))
            }
            ClientEvent::Invalid {
                command, reason, ..
            } => return Err(format!("{command:?}: {reason}")),
            _ => {}
        }
    }
    Ok(start_tls)
}

/// Queues `login` and runs it; on failure the error and whether a SASL challenge
/// came first (a refusal before any is one before the proof).
async fn login_once(
    conn: &mut ClientConn<TokioStream>,
    login: &Login<'_>,
) -> Result<(), (String, bool)> {
    conn.client()
        .login(*login)
        .map_err(|e| (e.to_string(), false))?;
    let mut challenged = false;
    loop {
        let event = conn.next().await.map_err(|e| (e.to_string(), challenged))?;
        match event {
            None => return Ok(()),
            Some(ClientEvent::NeedCredentials { challenge }) => {
                challenged |= !challenge.is_empty();
                conn.credentials(login)
                    .map_err(|e| (e.to_string(), challenged))?;
            }
            Some(ClientEvent::Error {
                command: CommandKind::Capa,
                ..
            }) => {}
            Some(ClientEvent::Error { command, text, .. }) => {
                let text = String::from_utf8_lossy(text);
                return Err((format!("{command:?}: -ERR {text}"), challenged));
            }
            Some(_) => {}
        }
    }
}

/// RETR `msg` (queued) into `tmp`, then renamed into new/; DELE after if `delete`.
async fn fetch_one(
    conn: &mut ClientConn<TokioStream>,
    o: &Options,
    msg: u32,
    tmp: &std::path::Path,
    done: &mut Fetched,
) -> Result<(), String> {
    let (mut lf, mut cr) = (Vec::new(), false);
    let mut file = tokio::fs::File::create(tmp)
        .await
        .map_err(|e| e.to_string())?;
    while let Some(event) = conn.next().await.map_err(|e| e.to_string())? {
        match event {
            ClientEvent::MessageData { data, .. } => {
                to_lf(data, &mut cr, &mut lf);
                done.bytes += data.len() as u64;
                file.write_all(&lf).await.map_err(|e| e.to_string())?;
            }
            ClientEvent::MessageEnd { .. } => {
                if std::mem::take(&mut cr) {
                    file.write_all(b"\r").await.map_err(|e| e.to_string())?;
                }
                file.sync_all().await.map_err(|e| e.to_string())?;
                let name = tmp.file_name().unwrap_or_default();
                let new = o.maildir.join("new").join(name);
                tokio::fs::rename(tmp, &new)
                    .await
                    .map_err(|e| e.to_string())?;
                done.messages += 1;
                if o.delete {
                    conn.client().dele(msg).map_err(|e| e.to_string())?;
                }
            }
            ClientEvent::Deleted { .. } => done.deleted += 1,
            ClientEvent::Error { command, text, .. } => {
                let text = String::from_utf8_lossy(text).into_owned();
                return Err(format!("{command:?} {msg}: -ERR {text}"));
            }
            _ => {}
        }
    }
    Ok(())
}

async fn run(o: &Options) -> Result<Fetched, String> {
    maildir::create(&o.maildir).map_err(|e| format!("{}: {e}", o.maildir.display()))?;
    let (host, port) = (o.url.host.as_str(), o.url.port);
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connect {host}:{port}: {e}"))?;
    let tls = pop3_proto::tls::client_config(o.ca_file.as_deref()).map_err(|e| e.to_string())?;
    let stream = match (o.url.tls, o.starttls) {
        (true, _) => TokioStream::client_tls(tcp, tls, host).await,
        (false, true) => TokioStream::client_starttls(tcp, tls, host),
        (false, false) => Ok(TokioStream::plain(tcp)),
    }
    .map_err(|e| format!("TLS: {e}"))?;
    let config = ClientConfig {
        tls: o.url.tls,
        allow_plaintext: o.allow_plaintext,
        host: host.try_into().unwrap_or_default(),
        port,
        ..ClientConfig::default()
    };
    let mut random = [0u8; 32];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").map_err(|e| e.to_string())?,
        &mut random,
    )
    .map_err(|e| e.to_string())?;
    // SCRAM -PLUS binds to the TLS session (after STLS, start_tls hands it over).
    let channel_binding = stream.channel_binding();
    let mut conn = ClientConn::new(stream, Client::new(config, random));
    if let Some(cb) = channel_binding {
        conn.client().set_channel_binding(cb);
    }
    settle(&mut conn).await?; // greeting and CAPA
    if o.starttls && !o.url.tls {
        conn.client().stls().map_err(|e| e.to_string())?;
        if !settle(&mut conn).await? {
            return Err("STLS refused".into());
        }
        conn.start_tls().await.map_err(|e| format!("TLS: {e}"))?;
        settle(&mut conn).await?; // CAPA again, under TLS
    }
    let caps = url::usable_capabilities(conn.client());
    let tls_active = conn.client().tls_active();
    let login = url::login(&o.url, &caps, tls_active, o.allow_plaintext, &o.password);
    if let Err((refused, challenged)) = login_once(&mut conn, &login).await {
        // SCRAM -PLUS refused before the proof (a server that knows an older binding
        // only): the same SCRAM once more, without -PLUS.
        let plain = url::plus_fallback(&o.url, &login, challenged).ok_or(refused.clone())?;
        eprintln!("tokio_fetch: {refused}: trying {plain:?} once, without channel binding");
        login_once(&mut conn, &plain).await.map_err(|(e, _)| e)?;
    }
    conn.client().stat().map_err(|e| e.to_string())?;
    let mut count = None;
    while let Some(event) = conn.next().await.map_err(|e| e.to_string())? {
        match event {
            ClientEvent::Stat(stat) => count = Some(stat.count),
            ClientEvent::Invalid { reason, .. } => return Err(format!("STAT: {reason}")),
            _ => {}
        }
    }
    let count = count.ok_or("STAT failed")?;
    // The I/O glue: one message at a time, each awaited onto the disk.
    let mut done = Fetched::default();
    for msg in 1..=count {
        conn.client().retr(msg).map_err(|e| e.to_string())?;
        let tmp = o.maildir.join("tmp").join(maildir::unique_name());
        let result = fetch_one(&mut conn, o, msg, &tmp, &mut done).await;
        if result.is_err() {
            // Nothing half-written stays in tmp/ (after the rename this is a no-op).
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result?;
    }
    // The directory entry of every renamed file must be durable before QUIT deletes.
    if let Ok(dir) = tokio::fs::File::open(o.maildir.join("new")).await {
        let _ = dir.sync_all().await;
    }
    conn.client().quit().map_err(|e| e.to_string())?;
    settle(&mut conn).await?;
    Ok(done)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("tokio_fetch: {e}");
            }
            eprintln!("usage: tokio_fetch URL --maildir DIR [--delete] [--starttls] [--allow-plaintext] [--ca-file PEM]");
            return ExitCode::from(2);
        }
    };
    match run(&o).await {
        Ok(f) => {
            println!(
                "tokio_fetch: {} fetched ({} bytes), {} deleted",
                f.messages, f.bytes, f.deleted
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tokio_fetch: {e}");
            ExitCode::FAILURE
        }
    }
}
