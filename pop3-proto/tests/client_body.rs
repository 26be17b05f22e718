//! Message data through the client, split at every byte: what the body decoder holds
//! back between reads (a CR after a stuffing dot) still reaches the caller.

use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};

/// A logged-in client with `RETR 1` sent.
fn retrieving() -> Client {
    let config = ClientConfig {
        allow_plaintext: true,
        auto_capa: false,
        ..ClientConfig::default()
    };
    let mut c = Client::new(config, [1; 32]);
    let mut out = [0u8; 512];
    c.handle_input(b"+OK ready\r\n").unwrap();
    let login = Login::UserPass {
        user: b"u",
        password: b"p",
    };
    c.login(login).unwrap();
    for reply in [&b"+OK\r\n"[..], b"+OK in\r\n"] {
        assert_eq!(c.poll_transmit(&mut out).unwrap(), 0);
        c.write_credentials(&login, &[], &mut out).unwrap();
        assert_eq!(c.handle_input(reply).unwrap().consumed, reply.len());
    }
    assert!(c.is_logged_in());
    c.retr(1).unwrap();
    assert_eq!(c.poll_transmit(&mut out).unwrap(), 8);
    c
}

/// Feeds `wire` in pieces of `piece` bytes; returns the message data.
fn body(wire: &[u8], piece: usize) -> Vec<u8> {
    let mut c = retrieving();
    let (mut data, mut buf, mut fed) = (Vec::new(), Vec::new(), 0);
    for _ in 0..10_000 {
        let d = c.handle_input(&buf).unwrap();
        let consumed = d.consumed;
        match d.item {
            Some(ClientEvent::MessageData { data: chunk, .. }) => data.extend_from_slice(chunk),
            Some(ClientEvent::MessageEnd { .. }) => return data,
            _ => {}
        }
        buf.drain(..consumed);
        if consumed == 0 {
            let end = (fed + piece).min(wire.len());
            buf.extend_from_slice(&wire[fed..end]);
            fed = end;
        }
    }
    panic!("no message end");
}

#[test]
fn a_cr_held_back_after_a_stuffing_dot_is_delivered() {
    // A server that did not stuff a line starting with ".\r": the dot is taken as
    // stuffing and the CR is data (the README's policy).
    let wire = b"+OK\r\n.\rX\r\nplain\r\n.\r\n";
    for piece in 1..=wire.len() {
        assert_eq!(body(wire, piece), b"\rX\r\nplain\r\n", "pieces of {piece}");
    }
}
