//! Arbitrary server bytes, in arbitrary pieces, into a client that queued arbitrary
//! commands. Besides "no panic": errors are typed and close the client, message data
//! only comes between MessageStart and MessageEnd of the same message, input
//! buffering stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login, SaslMechanism};

// Input layout: byte 0 = read size, bytes 1..9 = commands to queue, the rest =
// what the server sends after a fixed greeting (so that seeds are plain
// transcripts and the fuzzer starts past the greeting).
fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let piece = usize::from(data[0].max(1));
    let commands = &data[1..9];
    let mut wire = b"+OK ready <1.2@fuzz>\r\n".to_vec();
    wire.extend_from_slice(&data[9..]);
    let mut client = Client::new(
        ClientConfig {
            allow_plaintext: true,
            tls: commands[0] & 1 == 1,
            auto_capa: commands[0] & 2 == 2,
            ..ClientConfig::default()
        },
        [7; 32],
    );
    let mut queued = commands.iter();
    let mut buf: Vec<u8> = Vec::new();
    let mut offset = 0;
    let mut out = [0u8; 4096];
    let mut in_message: Option<u32> = None;
    // The login queued last: the client keeps no credentials and asks for them.
    let mut login: Option<Login<'static>> = None;
    for _ in 0..100_000 {
        // Queue the next command whenever fewer than two are pending.
        if client.is_idle() || queued.len().is_multiple_of(2) {
            if let Some(c) = queued.next() {
                let n = u32::from(*c >> 4);
                let queued = match c & 15 {
                    0 => client.stat(),
                    1 => client.list(None),
                    2 => client.list(Some(n)),
                    3 => client.uidl(None),
                    4 => client.retr(n),
                    5 => client.top(n, 2),
                    6 => client.dele(n),
                    7 => queue(
                        &mut client,
                        &mut login,
                        Login::UserPass {
                            user: b"u",
                            password: b"p",
                        },
                    ),
                    8 => queue(
                        &mut client,
                        &mut login,
                        Login::Sasl {
                            mechanism: [
                                SaslMechanism::Plain,
                                SaslMechanism::Login,
                                SaslMechanism::CramMd5,
                                SaslMechanism::ScramSha256,
                                SaslMechanism::XOAuth2,
                                SaslMechanism::OAuthBearer,
                            ][usize::from(*c >> 4) % 6],
                            authzid: b"",
                            user: b"u",
                            secret: b"p",
                        },
                    ),
                    9 => client.capa(),
                    10 => client.stls(),
                    11 if n % 2 == 0 => client.lang(None),
                    11 => client.lang(Some(&b"fr-CA"[..(n as usize % 6)])),
                    12 if n % 2 == 0 => client.rset(),
                    12 => client.utf8(),
                    13 => queue(
                        &mut client,
                        &mut login,
                        Login::Apop {
                            user: b"u",
                            secret: b"s",
                        },
                    )
                    .or_else(|_| client.noop()),
                    _ => client.quit(),
                };
                if let Err(e) = queued {
                    assert!(!format!("{e} {e:?}").is_empty());
                }
            }
        }
        let _ = client.poll_transmit(&mut out);
        if client.wants_credentials() && !client.is_closed() {
            if let Some(l) = &login {
                let _ = client.write_credentials(l, &[], &mut out);
            }
        }
        let d = match client.handle_input(&buf) {
            Ok(d) => d,
            Err(e) => {
                // Every input error loses framing: the session is over.
                assert!(client.is_closed());
                assert!(!format!("{e} {e:?}").is_empty());
                return;
            }
        };
        let consumed = d.consumed;
        assert!(consumed <= buf.len());
        let progressed = consumed > 0 || d.item.is_some();
        let mut start_tls = false;
        if let Some(e) = &d.item {
            let _ = format!("{e:?}");
        }
        assert!(client.queue_room() <= pop3_proto::client::MAX_QUEUED);
        assert!(!(client.is_logged_in() && client.awaiting_tls()));
        match d.item {
            Some(ClientEvent::MessageStart { msg }) => {
                assert_eq!(in_message, None);
                in_message = Some(msg);
            }
            Some(ClientEvent::MessageData { msg, .. }) => assert_eq!(in_message, Some(msg)),
            Some(ClientEvent::MessageEnd { msg }) => {
                assert_eq!(in_message.take(), Some(msg));
            }
            Some(ClientEvent::StartTls) => start_tls = true,
            Some(ClientEvent::NeedCredentials { challenge }) => {
                if let Some(l) = &login {
                    let _ = client.write_credentials(l, challenge, &mut out);
                }
            }
            _ => {}
        }
        if start_tls && client.tls_started().is_ok() {
            assert!(client.tls_active());
            client.set_channel_binding([9; 32]);
            assert!(client.has_channel_binding());
        }
        buf.drain(..consumed);
        // A closed session reads nothing more (the adapters stop; see
        // tests/fuzz_regressions.rs).
        if client.is_closed() {
            return;
        }
        if !progressed {
            if offset == wire.len() {
                return;
            }
            let end = (offset + piece).min(wire.len());
            buf.extend_from_slice(&wire[offset..end]);
            offset = end;
            assert!(
                buf.len() <= 2048 + piece,
                "input buffer grew to {}",
                buf.len()
            );
        }
    }
});

/// Queues a login and remembers it to answer `NeedCredentials`.
fn queue(
    client: &mut Client,
    slot: &mut Option<Login<'static>>,
    login: Login<'static>,
) -> Result<(), pop3_proto::client::ClientError> {
    let _ = format!("{login:?}");
    client.login(login)?;
    *slot = Some(login);
    Ok(())
}
