//! The client keeps no credentials: it asks for them (`ClientEvent::NeedCredentials`)
//! when their line is due and writes them straight from the caller's storage. So a
//! bearer token of any length crosses (Microsoft 365 tokens pass 2 KiB; 16 KiB
//! here), and a loop that does not answer gets a typed error instead of a hang.

use base64::Engine;
use pop3_proto::client::{Client, ClientConfig, ClientError, ClientEvent, Login, SaslMechanism};
use pop3_proto::driver::{ClientDriver, Poll};

fn b64(data: &[u8]) -> String {
    let mut out = vec![0u8; data.len().div_ceil(3) * 4];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(data, &mut out)
        .unwrap();
    String::from_utf8(out[..n].to_vec()).unwrap()
}

fn tls_client() -> Client {
    let config = ClientConfig {
        tls: true,
        auto_capa: false,
        host: heapless::String::try_from("pop.example.org").unwrap(),
        port: 995,
        ..ClientConfig::default()
    };
    let mut c = Client::new(config, [4; 32]);
    c.handle_input(b"+OK ready\r\n").unwrap();
    c
}

/// A 16 KiB token through XOAUTH2 and OAUTHBEARER: `AUTH <mech>` (too long for an
/// initial response), then the whole token in one base64 line after the empty
/// challenge, exact bytes. (Was: `login` refused any secret over 2,048 bytes with
/// `CredentialTooLong`.)
#[test]
fn sixteen_kib_oauth_tokens_cross_in_one_line() {
    let token: Vec<u8> = (0..16 * 1024).map(|i| b"abcdefghij-_."[i % 13]).collect();
    for (mechanism, raw) in [
        (SaslMechanism::XOAuth2, {
            let mut r = b"user=bob@example.org\x01auth=Bearer ".to_vec();
            r.extend_from_slice(&token);
            r.extend_from_slice(b"\x01\x01");
            r
        }),
        (SaslMechanism::OAuthBearer, {
            let mut r = b"n,a=bob@example.org,\x01host=pop.example.org\x01port=995\x01auth=Bearer "
                .to_vec();
            r.extend_from_slice(&token);
            r.extend_from_slice(b"\x01\x01");
            r
        }),
    ] {
        let mut c = tls_client();
        let login = Login::Sasl {
            mechanism,
            authzid: b"",
            user: b"bob@example.org",
            secret: &token,
        };
        c.login(login).unwrap();
        let mut out = vec![0u8; 32 * 1024];
        let n = c.poll_transmit(&mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out[..n]),
            format!("AUTH {}\r\n", mechanism.name())
        );
        let d = c.handle_input(b"+ \r\n").unwrap();
        assert_eq!(
            d.item,
            Some(ClientEvent::NeedCredentials { challenge: b"" })
        );
        assert!(c.wants_credentials());
        assert_eq!(
            c.poll_transmit(&mut out).unwrap(),
            0,
            "nothing without them"
        );
        let n = c.write_credentials(&login, b"", &mut out).unwrap();
        let expected = format!("{}\r\n", b64(&raw));
        assert_eq!(n, expected.len());
        assert_eq!(String::from_utf8_lossy(&out[..n]), expected);
        assert!(n > 21_000, "{n}");
        let d = c.handle_input(b"+OK welcome\r\n").unwrap();
        assert_eq!(d.item, Some(ClientEvent::LoggedIn));
    }
}

/// The driver hands `NeedCredentials` out as an event; a loop that polls again
/// without answering gets `CredentialsNeeded` and a closed client, not a hang
/// and not a login without them.
#[test]
fn unanswered_request_for_credentials_is_an_error() {
    let config = ClientConfig {
        allow_plaintext: true,
        auto_capa: false,
        ..ClientConfig::default()
    };
    let mut d = ClientDriver::new(Client::new(config, [1; 32]), [0u8; 512], [0u8; 256]);
    d.input()[..11].copy_from_slice(b"+OK ready\r\n");
    d.received(11);
    assert_eq!(
        d.poll(pop3_proto::time::Instant::from_millis(0)),
        Ok(Poll::Event)
    );
    d.client()
        .login(Login::UserPass {
            user: b"u",
            password: b"p",
        })
        .unwrap();
    assert_eq!(
        d.poll(pop3_proto::time::Instant::from_millis(0)),
        Ok(Poll::Event)
    );
    assert_eq!(
        d.event(),
        Some(ClientEvent::NeedCredentials { challenge: b"" })
    );
    assert_eq!(
        d.poll(pop3_proto::time::Instant::from_millis(0)),
        Err(ClientError::CredentialsNeeded)
    );
    assert!(d.client_ref().is_closed());
    assert_eq!(
        d.poll(pop3_proto::time::Instant::from_millis(0)),
        Ok(Poll::Closed)
    );
}

/// Credentials of another login than the one queued are refused (and end the
/// session: the queued line cannot be written); so is an answer nobody asked for.
#[test]
fn credentials_must_match_the_queued_login() {
    let mut c = tls_client();
    let mut out = [0u8; 512];
    let asked = Login::Sasl {
        mechanism: SaslMechanism::Plain,
        authzid: b"",
        user: b"u",
        secret: b"p",
    };
    assert_eq!(
        c.write_credentials(&asked, &[], &mut out),
        Err(ClientError::LoginMismatch)
    );
    let mut c = tls_client();
    c.login(asked).unwrap();
    assert_eq!(c.poll_transmit(&mut out).unwrap(), 12); // AUTH PLAIN
    c.handle_input(b"+ \r\n").unwrap();
    let other = Login::Sasl {
        mechanism: SaslMechanism::Login,
        authzid: b"",
        user: b"u",
        secret: b"p",
    };
    assert_eq!(
        c.write_credentials(&other, &[], &mut out),
        Err(ClientError::LoginMismatch)
    );
    assert!(c.is_closed());
}

/// With PIPELINING, USER and PASS go in one write after one request; without it,
/// PASS waits for USER's `+OK` and the client asks again.
#[test]
fn user_and_pass_ask_once_with_pipelining_twice_without() {
    let login = Login::UserPass {
        user: b"alice",
        password: b"secret",
    };
    for (pipelining, writes) in [
        (true, vec!["USER alice\r\nPASS secret\r\n"]),
        (false, vec!["USER alice\r\n", "PASS secret\r\n"]),
    ] {
        let config = ClientConfig {
            allow_plaintext: true,
            ..ClientConfig::default()
        };
        let mut c = Client::new(config, [1; 32]);
        let mut out = [0u8; 512];
        c.handle_input(b"+OK ready\r\n").unwrap();
        assert_eq!(c.poll_transmit(&mut out).unwrap(), 6); // CAPA
        let capa: &[u8] = if pipelining {
            b"+OK\r\nUSER\r\nPIPELINING\r\n.\r\n"
        } else {
            b"+OK\r\nUSER\r\n.\r\n"
        };
        let mut rest = capa;
        while !rest.is_empty() {
            let d = c.handle_input(rest).unwrap();
            rest = &rest[d.consumed..];
        }
        c.login(login).unwrap();
        let mut seen = Vec::new();
        let mut replies: &[u8] = b"+OK\r\n+OK in\r\n";
        for _ in 0..10 {
            if c.poll_transmit(&mut out).unwrap() > 0 || !c.wants_credentials() {
                break;
            }
            let n = c.write_credentials(&login, &[], &mut out).unwrap();
            seen.push(String::from_utf8_lossy(&out[..n]).into_owned());
            if !pipelining {
                let d = c.handle_input(replies).unwrap();
                replies = &replies[d.consumed..];
            }
        }
        assert_eq!(seen, writes);
        assert!(c.is_logged_in() || pipelining);
    }
}

/// With PIPELINING, USER and PASS go together only if both fit: a 256-byte transmit
/// buffer (the firmware's) and long credentials send USER, then ask again for PASS.
/// (Was: the PASS line's `BufferTooSmall` ended the session.)
#[test]
fn pipelined_user_and_pass_that_do_not_fit_together_go_one_by_one() {
    let user = [b'u'; 100];
    let password = [b'p'; 160];
    let login = Login::UserPass {
        user: &user,
        password: &password,
    };
    let config = ClientConfig {
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    let mut d = ClientDriver::new(Client::new(config, [1; 32]), [0u8; 512], [0u8; 256]);
    let mut server: Vec<&[u8]> = vec![
        b"+OK ready\r\n",
        b"+OK\r\nUSER\r\nPIPELINING\r\n.\r\n",
        b"+OK\r\n",
        b"+OK in\r\n",
        b"+OK\r\n.\r\n",
    ];
    let (mut wire, mut events) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        match d.poll(pop3_proto::time::Instant::from_millis(0)).unwrap() {
            Poll::Transmit => {
                let n = d.transmit().len();
                wire.extend_from_slice(d.transmit());
                d.transmitted(n);
            }
            Poll::Event => match d.event().unwrap() {
                ClientEvent::Greeting { .. } => d.client().login(login).unwrap(),
                ClientEvent::NeedCredentials { .. } => d.credentials(&login).unwrap(),
                e => events.push(format!("{e:?}")),
            },
            Poll::NeedInput { .. } if !server.is_empty() => {
                let reply = server.remove(0);
                d.input()[..reply.len()].copy_from_slice(reply);
                d.received(reply.len());
            }
            _ => break,
        }
    }
    assert!(events.contains(&"LoggedIn".to_string()), "{events:?}");
    let expected = format!(
        "CAPA\r\nUSER {}\r\nPASS {}\r\nCAPA\r\n",
        "u".repeat(100),
        "p".repeat(160)
    );
    assert_eq!(String::from_utf8(wire).unwrap(), expected);
}

/// A CRAM-MD5 challenge too long to answer is cancelled (`*`, RFC 5034), not fatal.
/// (Was: the client asked for credentials and then failed the session.)
#[test]
fn a_cram_md5_challenge_too_long_to_answer_is_cancelled() {
    let mut c = tls_client();
    c.login(Login::Sasl {
        mechanism: SaslMechanism::CramMd5,
        authzid: b"",
        user: b"u",
        secret: b"p",
    })
    .unwrap();
    let mut out = [0u8; 512];
    assert_eq!(c.poll_transmit(&mut out).unwrap(), 15); // AUTH CRAM-MD5
    let challenge = format!("+ {}\r\n", b64(format!("<{}>", "a".repeat(398)).as_bytes()));
    let d = c.handle_input(challenge.as_bytes()).unwrap();
    assert_eq!(d.item, None);
    let n = c.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"*\r\n");
    assert!(!c.is_closed());
}

/// An answer computed from a challenge cannot be written without it: a caller that
/// lost the challenge gets an error, not an HMAC over nothing.
#[test]
fn an_answer_without_its_challenge_is_refused() {
    let mut c = tls_client();
    let login = Login::Sasl {
        mechanism: SaslMechanism::CramMd5,
        authzid: b"",
        user: b"u",
        secret: b"p",
    };
    c.login(login).unwrap();
    let mut out = [0u8; 512];
    c.poll_transmit(&mut out).unwrap();
    let d = c.handle_input(b"+ PDEyMzRAaG9zdD4=\r\n").unwrap();
    assert!(matches!(
        d.item,
        Some(ClientEvent::NeedCredentials {
            challenge: b"PDEyMzRAaG9zdD4="
        })
    ));
    assert_eq!(
        c.write_credentials(&login, &[], &mut out),
        Err(ClientError::Sasl("the challenge to answer is missing"))
    );
}

/// OAUTHBEARER names the user in its gs2 header, `n,a=<saslname>,` (RFC 7628 §3.1):
/// a `,` or `=` in the name is escaped as `=2C` / `=3D`, so a name cannot end the
/// header early and smuggle fields. (Was: the name went out as it was, so
/// `a,b=c` made the header `n,a=a,b=c,`.) Exact initial-response bytes.
#[test]
fn oauthbearer_escapes_the_name_in_its_gs2_header() {
    let mut c = tls_client();
    let login = Login::Sasl {
        mechanism: SaslMechanism::OAuthBearer,
        authzid: b"",
        user: b"a,b=c",
        secret: b"tok",
    };
    c.login(login).unwrap();
    let mut out = [0u8; 512];
    let n = c.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"AUTH OAUTHBEARER\r\n");
    c.handle_input(b"+ \r\n").unwrap();
    let n = c.write_credentials(&login, b"", &mut out).unwrap();
    let raw = b"n,a=a=2Cb=3Dc,\x01host=pop.example.org\x01port=995\x01auth=Bearer tok\x01\x01";
    assert_eq!(
        String::from_utf8_lossy(&out[..n]),
        format!("{}\r\n", b64(raw))
    );
}
