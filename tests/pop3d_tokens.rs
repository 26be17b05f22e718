//! pop3d and tokio_pop3d with `--bearer-tokens` (a stand-in for an identity
//! provider): a 16 KiB OAuth token logs in through XOAUTH2 and OAUTHBEARER, with
//! exact bytes from a scripted client; a wrong token fails like a wrong password; a
//! SASL line over the server's limit (24 KiB) is refused and ends the exchange.
//! Every test is bounded in time (read timeouts of 10 s).

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::*;

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            out.push(match i <= chunk.len() {
                true => char::from(A[(n >> (18 - 6 * i) & 63) as usize]),
                false => '=',
            });
        }
    }
    out
}

/// A JWT-like token of `len` octets.
fn token(len: usize, seed: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    (0..len)
        .map(|i| char::from(ALPHABET[(i * 7 + seed) % ALPHABET.len()]))
        .collect()
}

struct Client {
    tcp: TcpStream,
    r: BufReader<TcpStream>,
}

impl Client {
    /// Connects and reads the greeting.
    fn connect(port: u16) -> Client {
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let r = BufReader::new(tcp.try_clone().unwrap());
        let mut c = Client { tcp, r };
        assert!(c.line().starts_with("+OK "));
        c
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).unwrap();
        l
    }

    /// Sends `line` and returns the one-line reply.
    fn cmd(&mut self, line: &str) -> String {
        self.tcp
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.line()
    }
}

fn logged_in() -> String {
    let sizes: Vec<u64> = messages()
        .iter()
        .map(|m| pop3_proto::codec::body::wire_size(m))
        .collect();
    format!(
        "+OK Logged in, {} messages ({} octets)\r\n",
        sizes.len(),
        sizes.iter().sum::<u64>()
    )
}

#[test]
fn a_16_kib_token_logs_in_through_xoauth2_and_oauthbearer() {
    let good = token(16 * 1024, 1);
    for bin in ["pop3d", "tokio_pop3d"] {
        let dir = temp_dir("tokens");
        fill_maildir(&dir.join("root/carol"), &messages());
        fs::write(dir.join("users"), "carol:pw of carol\n").unwrap();
        fs::write(dir.join("tokens"), format!("carol:{good}\n")).unwrap();
        let port = free_port();
        let tokens = dir.join("tokens");
        let _server = Running(spawn_server(
            bin,
            &dir,
            port,
            &[
                "--allow-plaintext-auth",
                "--bearer-tokens",
                tokens.to_str().unwrap(),
            ],
        ));
        fn xoauth2(user: &str, t: &str) -> String {
            format!("user={user}\x01auth=Bearer {t}\x01\x01")
        }
        fn oauthbearer(user: &str, t: &str) -> String {
            format!("n,a={user},\x01host=127.0.0.1\x01port=110\x01auth=Bearer {t}\x01\x01")
        }
        type Message = fn(&str, &str) -> String;
        let messages: [(&str, Message); 2] = [("XOAUTH2", xoauth2), ("OAUTHBEARER", oauthbearer)];
        for (mechanism, message) in messages {
            let mut c = Client::connect(port);
            assert!(c.cmd("CAPA").starts_with("+OK"));
            let mut sasl = String::new();
            for _ in 0..30 {
                match c.line() {
                    l if l == ".\r\n" => break,
                    l if l.starts_with("SASL ") => sasl = l,
                    _ => {}
                }
            }
            assert!(sasl.contains(&format!(" {mechanism}")), "{bin}: {sasl}");
            assert_eq!(c.cmd(&format!("AUTH {mechanism}")), "+ \r\n", "{bin}");
            let line = b64(message("carol", &good).as_bytes());
            assert!(line.len() > 21_000);
            assert_eq!(c.cmd(&line), logged_in(), "{bin} {mechanism}");
            assert_eq!(c.cmd("QUIT"), "+OK Logging out\r\n");

            let mut c = Client::connect(port);
            assert_eq!(c.cmd(&format!("AUTH {mechanism}")), "+ \r\n");
            let wrong = b64(message("carol", &token(16 * 1024, 2)).as_bytes());
            assert_eq!(
                c.cmd(&wrong),
                "-ERR [AUTH] Authentication failed\r\n",
                "{bin} {mechanism}"
            );
        }

        // Over the limit: refused, and the exchange is over.
        let mut c = Client::connect(port);
        assert_eq!(c.cmd("AUTH XOAUTH2"), "+ \r\n");
        let huge =
            b64(format!("user=carol\x01auth=Bearer {}\x01\x01", token(20 * 1024, 1)).as_bytes());
        assert_eq!(c.cmd(&huge), "-ERR Line too long\r\n", "{bin}");
        assert_eq!(c.cmd("USER carol"), "+OK\r\n", "{bin}: a command again");
    }
}

/// Our fetchers send a 16 KiB token through XOAUTH2 and OAUTHBEARER (the client
/// keeps no copy; the std adapters' transmit buffer holds the 22 KiB line) and
/// fetch the mailbox. (Was: pop3fetch refused tokens over 2,048 bytes.)
#[test]
fn our_fetchers_log_in_with_a_16_kib_token() {
    let good = token(16 * 1024, 3);
    let dir = temp_dir("tokens-fetch");
    fill_maildir(&dir.join("root/carol"), &messages());
    fs::write(dir.join("users"), "carol:pw of carol\n").unwrap();
    fs::write(dir.join("tokens"), format!("carol:{good}\n")).unwrap();
    let port = free_port();
    let tokens = dir.join("tokens");
    let _server = Running(spawn_pop3d(
        &dir,
        port,
        &[
            "--allow-plaintext-auth",
            "--bearer-tokens",
            tokens.to_str().unwrap(),
        ],
    ));
    for bin in ["pop3fetch", "tokio_fetch"] {
        for mechanism in ["XOAUTH2", "OAUTHBEARER"] {
            let out = dir.join(format!("out-{bin}-{mechanism}"));
            let url = format!("pop3://carol;AUTH={mechanism}@127.0.0.1:{port}");
            // The fetchers delete what they fetched: fill the mailbox again.
            if read_maildir(&dir.join("root/carol")).is_empty() {
                fill_maildir(&dir.join("root/carol"), &messages());
            }
            let (ok, stdout, stderr) = fetcher(bin, &url, &out, &good, &["--allow-plaintext"]);
            assert!(ok, "{bin} {mechanism}: {stdout}{stderr}");
            assert_eq!(
                read_maildir(&out).len(),
                messages().len(),
                "{bin} {mechanism}: {stdout}{stderr}"
            );
        }
    }
}
