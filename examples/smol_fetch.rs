//! Fetching on smol (or async-std, or any runtime whose streams implement the
//! `futures` 0.3 `AsyncRead` / `AsyncWrite`): pop3-proto has no smol adapter, and
//! needs none. `embedded-io-adapters` (feature `futures-03`) turns the stream into
//! an `embedded-io-async` one, and the `embedded` adapter runs over it: fixed
//! buffers, no allocator in the session.
//!
//! ```sh
//! cargo run --example pop3d &    # the demo mailbox (demo/demo) on 127.0.0.1:1110
//! POP3_PASSWORD=demo cargo run --example smol_fetch -- 127.0.0.1:1110 demo
//! ```
//!
//! It logs in with USER/PASS (over plain TCP: a demo on loopback), retrieves every
//! message, prints each one's number and size, and quits.

use std::process::ExitCode;
use std::time::Duration;

use embedded_io_adapters::futures_03::FromFutures;
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
use pop3_proto::embedded::AsyncClientConn;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(user)) = (args.next(), args.next()) else {
        eprintln!("usage: POP3_PASSWORD=… smol_fetch HOST:PORT USER");
        return ExitCode::from(2);
    };
    let password = std::env::var("POP3_PASSWORD").unwrap_or_default();
    match smol::block_on(fetch(&addr, &user, &password)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smol_fetch: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The client's clock for its greeting and reply timeouts (milliseconds).
fn now() -> pop3_proto::time::Instant {
    pop3_proto::blocking::now()
}

async fn fetch(addr: &str, user: &str, password: &str) -> Result<(), String> {
    let tcp = smol::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let config = ClientConfig {
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    let mut random = [0u8; 32];
    getrandom(&mut random);
    let mut conn: AsyncClientConn<_, 16384, 1024> =
        AsyncClientConn::new(FromFutures::new(tcp), Client::new(config, random)).with_clock(now);
    let session = async {
        conn.run(|_| {}).await?; // the greeting and CAPA
        let login = Login::UserPass {
            user: user.as_bytes(),
            password: password.as_bytes(),
        };
        conn.login(login, |_| {}).await?;
        conn.client().stat()?;
        let mut count = 0;
        conn.run(|e| {
            if let ClientEvent::Stat(stat) = e {
                count = stat.count;
            }
        })
        .await?;
        // At most 32 commands are queued at once: refill as replies come in.
        let mut next = 1;
        let mut size = 0usize;
        loop {
            while next <= count && conn.client().queue_room() > 0 {
                conn.client().retr(next)?;
                next += 1;
            }
            match conn.next().await? {
                Some(ClientEvent::MessageData { data, .. }) => size += data.len(),
                Some(ClientEvent::MessageEnd { msg }) => {
                    println!("{msg} {size}");
                    size = 0;
                }
                Some(ClientEvent::Error { msg, text, .. }) => {
                    eprintln!("message {msg:?}: {}", String::from_utf8_lossy(text));
                }
                Some(_) => {}
                None => break,
            }
        }
        conn.client().quit()?;
        conn.run(|_| {}).await
    };
    // The client's own timeouts end a silent server; this bounds the whole session.
    let limit = async {
        smol::Timer::after(Duration::from_secs(600)).await;
        Err(pop3_proto::embedded::Error::TimedOut)
    };
    smol::future::or(session, limit)
        .await
        .map_err(|e| e.to_string())
}

fn getrandom(out: &mut [u8]) {
    use std::io::Read;
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(out);
    }
}
