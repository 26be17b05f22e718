//! The README's server, with `ServerConfig::new` defaults and a backend that answers
//! only what a password check can (`CheckPassword`), logs in curl, mpop and
//! poplib, each left to pick its own login method. A default server must offer
//! only what such a backend answers: a client that picks CRAM-MD5 (curl) or
//! SCRAM-SHA-256 (mpop) from a default CAPA must not end up asking a question the
//! backend cannot answer.
//!
//! The server runs under implicit TLS (pop3s) with a test certificate, as a
//! password server on the Internet would; mpop uses no plaintext method without TLS.

mod support;

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Arc;

use pop3_proto::blocking::{Answer, Backend, ServerConn};
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent, Tls};
use pop3_proto::tls::NetStream;
use support::*;

const USER: &[u8] = b"alice";
const PASSWORD: &[u8] = b"secret";

/// The README's server: a password check, a maildrop, messages; nothing else.
struct PasswordOnly {
    messages: Vec<Vec<u8>>,
}

impl Backend for PasswordOnly {
    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_> {
        match event {
            ServerEvent::CheckPassword { user, password, .. } => {
                Answer::Verdict(user == USER && password == PASSWORD)
            }
            ServerEvent::OpenMaildrop { .. } => Answer::Open(Open::Opened {
                count: self.messages.len() as u32,
                size: self.messages.iter().map(|m| crlf_len(m)).sum(),
            }),
            ServerEvent::Size { msg } => Answer::Size(crlf_len(&self.messages[msg as usize - 1])),
            ServerEvent::Uid { msg } => Answer::Uid(format!("uid{msg}").into_bytes()),
            ServerEvent::Retrieve { msg, .. } => {
                Answer::MessageBytes(&self.messages[msg as usize - 1])
            }
            // What a password backend cannot answer: NeedSecret, CheckToken, ...
            _ => Answer::Verdict(false),
        }
    }

    fn update(&mut self, _deleted: &[u32]) -> bool {
        true
    }
}

fn crlf_len(m: &[u8]) -> u64 {
    to_crlf_len(m) as u64
}

fn to_crlf_len(m: &[u8]) -> usize {
    m.len() + m.iter().filter(|b| **b == b'\n').count()
}

/// Serves pop3s on a free port with `ServerConfig::new` defaults (implicit TLS is
/// what the transport is, not a choice of mechanisms); every session on its thread.
fn start(cert: &TestCert) -> u16 {
    let tls = pop3_proto::tls::server_config(&cert.cert, &cert.key).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let tls = Arc::clone(&tls);
            std::thread::spawn(move || {
                let Ok(stream) = NetStream::server_tls(tcp, tls) else {
                    return;
                };
                let mut config = ServerConfig::new("localhost");
                config.tls = Tls::Implicit;
                let server = Server::new(config, pop3_proto::blocking::now(), rand32());
                let mut backend = PasswordOnly {
                    messages: messages(),
                };
                let _ = ServerConn::new(stream, server)
                    .with_timeouts()
                    .serve(&mut backend);
            });
        }
    });
    port
}

fn rand32() -> [u8; 32] {
    let mut r = [0u8; 32];
    fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut r)
        .unwrap();
    r
}

#[test]
fn curl_logs_in_with_the_method_it_picks() {
    require("curl");
    let dir = temp_dir("default-curl");
    let cert = test_cert(&dir);
    let port = start(&cert);
    for (i, m) in messages().iter().enumerate() {
        let out = Command::new("timeout")
            .args(["30", "curl", "-sS", "--cacert"])
            .arg(&cert.ca)
            .arg(format!("pop3s://alice:secret@127.0.0.1:{port}/{}", i + 1))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(to_lf(&out.stdout), *m, "message {}", i + 1);
    }
}

#[test]
fn mpop_logs_in_with_the_method_it_picks() {
    require("mpop");
    let dir = temp_dir("default-mpop");
    let cert = test_cert(&dir);
    let port = start(&cert);
    let local = dir.join("mail");
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir_all(local.join(sub)).unwrap();
    }
    let rc = dir.join("mpoprc");
    fs::write(
        &rc,
        format!(
            "account default\nhost 127.0.0.1\nport {port}\nuser alice\npassword secret\n\
             tls on\ntls_starttls off\ntls_trust_file {}\n\
             delivery maildir {}\nkeep on\nuidls_file {}/uidls\n",
            cert.ca.display(),
            local.display(),
            dir.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&rc, fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new("timeout")
        .args(["60", "mpop", "-q", "-C"])
        .arg(&rc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mpop: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read_maildir(&local).len(), messages().len());
}

#[test]
fn poplib_logs_in() {
    require("python3");
    let dir = temp_dir("default-poplib");
    let cert = test_cert(&dir);
    let port = start(&cert);
    let script = r#"
import poplib, ssl, sys
poplib._MAXLINE = 1 << 20
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=20)
p.user('alice')
p.pass_('secret')
n, _ = p.stat()
for i in range(1, n + 1):
    p.retr(i)
p.quit()
print(n)
"#;
    let out = Command::new("timeout")
        .args(["30", "python3", "-c", script])
        .arg(port.to_string())
        .arg(&cert.ca)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "poplib: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        messages().len().to_string()
    );
}
