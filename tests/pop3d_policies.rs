//! The example servers (`pop3d`, `tokio_pop3d`) where they were found to differ from
//! Dovecot 2.3 on the same Maildir: a PLAIN authorization identity of another user,
//! and TOP line counts of 2^32 and more. Exact replies on the wire.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::*;

/// A server over two mailboxes, `user0` (password `pw0`) and `user1` (`pw1`), one
/// message each.
fn start(bin: &str) -> (Running, u16) {
    let dir = temp_dir(&format!("{bin}-policies"));
    for u in 0..2 {
        let message = format!("Subject: user{u} message 0\n\nbody of {u}/0\n.dot\n");
        fill_maildir(
            &dir.join("root").join(format!("user{u}")),
            &[message.into_bytes()],
        );
    }
    std::fs::write(dir.join("users"), "user0:pw0\nuser1:pw1\n").unwrap();
    let port = free_port();
    let child = Running(spawn_server(bin, &dir, port, &["--allow-plaintext-auth"]));
    (child, port)
}

/// One connection: reads the greeting, sends `input` at once (it ends with QUIT)
/// and returns every byte the server sent after the greeting, up to its close.
fn converse(port: u16, input: &str) -> String {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut reader = BufReader::new(tcp.try_clone().unwrap());
    let mut greeting = String::new();
    reader.read_line(&mut greeting).unwrap();
    assert!(greeting.starts_with("+OK "), "{greeting}");
    (&tcp).write_all(input.as_bytes()).unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

const USER0_MESSAGE: &str = "Subject: user0 message 0\r\n\r\nbody of 0/0\r\n..dot\r\n.\r\n";

/// RFC 4616 §2: "user1\0user0\0pw0" is user0's password asking to act as user1.
/// Dovecot refuses it (`-ERR [AUTH] Authentication failed.`); so do ours, and they
/// open no mailbox. Acting as oneself ("user0\0user0\0pw0") logs in to one's own.
#[test]
fn plain_authzid_of_another_user_is_refused() {
    for bin in ["pop3d", "tokio_pop3d"] {
        let (_server, port) = start(bin);
        assert_eq!(
            converse(port, "AUTH PLAIN dXNlcjEAdXNlcjAAcHcw\r\nSTAT\r\nQUIT\r\n"),
            "-ERR [AUTH] Authentication failed\r\n\
-ERR Not allowed in AUTHORIZATION state\r\n+OK Logging out\r\n",
            "{bin}"
        );
        assert_eq!(
            converse(
                port,
                "AUTH PLAIN dXNlcjAAdXNlcjAAcHcw\r\nRETR 1\r\nQUIT\r\n"
            ),
            format!(
                "+OK Logged in, 1 messages (47 octets)\r\n+OK Message follows\r\n\
{USER0_MESSAGE}+OK Logging out\r\n"
            ),
            "{bin}"
        );
    }
}

/// RFC 1939: TOP's line count is any non-negative number; past the body's end the
/// whole message is sent, as Dovecot does, also for 2^32 lines and more.
#[test]
fn top_sends_the_whole_message_for_any_line_count() {
    for bin in ["pop3d", "tokio_pop3d"] {
        let (_server, port) = start(bin);
        assert_eq!(
            converse(
                port,
                "USER user0\r\nPASS pw0\r\nTOP 1 4294967296\r\nTOP 1 99999999999999999999\r\n\
TOP 1 0\r\nTOP 2 4294967296\r\nTOP 1 -1\r\nQUIT\r\n"
            ),
            format!(
                "+OK\r\n+OK Logged in, 1 messages (47 octets)\r\n\
+OK Message follows\r\n{USER0_MESSAGE}+OK Message follows\r\n{USER0_MESSAGE}\
+OK Message follows\r\nSubject: user0 message 0\r\n\r\n.\r\n\
-ERR There's no message 2\r\n-ERR Invalid number\r\n+OK Logging out\r\n"
            ),
            "{bin}"
        );
    }
}
