//! SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS (RFC 5802 §6, RFC 9266 `tls-exporter`)
//! between our client and server in memory: the binding each side got from its TLS
//! session goes into the exchange, so a relay that terminates TLS (two sessions, two
//! bindings) cannot complete it; and a client that could bind says so (`y`), so a
//! server that offered -PLUS sees its list was stripped.

mod common;

use common::app::App;
use common::pair::{plain_configs, Pair};
use pop3_proto::client::{Login, SaslMechanism};
use pop3_proto::server::{MechanismSet, Tls};

fn tls_pair(client_cb: Option<[u8; 32]>, server_cb: Option<[u8; 32]>) -> Pair {
    let (mut c, mut s) = plain_configs();
    c.tls = true;
    c.allow_plaintext = false;
    s.tls = Tls::Implicit;
    s.allow_plaintext_auth = false;
    s.mechanisms = MechanismSet::ALL.without(MechanismSet::EXTERNAL);
    let mut pair = Pair::new(c, s, App::demo());
    if let Some(cb) = client_cb {
        pair.client.set_channel_binding(cb);
    }
    if let Some(cb) = server_cb {
        pair.server.set_channel_binding(cb);
    }
    pair
}

fn login(pair: &mut Pair, mechanism: SaslMechanism, password: &[u8]) -> Vec<String> {
    pair.run();
    pair.login(Login::Sasl {
        mechanism,
        authzid: b"",
        user: b"alice",
        secret: password,
    })
    .unwrap();
    pair.run()
}

/// The first SASL line the client sent after `AUTH <mechanism>`, decoded.
fn client_first(pair: &Pair, mechanism: SaslMechanism) -> String {
    let wire = String::from_utf8(pair.client_wire.clone()).unwrap();
    let auth = format!("AUTH {} ", mechanism.name());
    let start = wire.find(&auth).expect("AUTH with an initial response") + auth.len();
    let b64 = &wire[start..start + wire[start..].find("\r\n").unwrap()];
    let mut out = [0u8; 512];
    let n = pop3_proto::sasl::decode_base64(b64.as_bytes(), &mut out).unwrap();
    String::from_utf8(out[..n].to_vec()).unwrap()
}

#[test]
fn plus_logs_in_when_both_ends_share_the_binding() {
    for mechanism in [SaslMechanism::ScramSha1Plus, SaslMechanism::ScramSha256Plus] {
        let mut pair = tls_pair(Some([7; 32]), Some([7; 32]));
        let ev = login(&mut pair, mechanism, b"wonder land");
        assert!(
            ev.contains(&"LoggedIn".to_string()),
            "{mechanism:?}: {ev:?}"
        );
        let server = String::from_utf8(pair.server_wire.clone()).unwrap();
        assert!(
            server.contains("SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS\r\n"),
            "{server}"
        );
        assert!(
            client_first(&pair, mechanism).starts_with("p=tls-exporter,,n=alice,r="),
            "{}",
            client_first(&pair, mechanism)
        );
    }
}

/// A man in the middle terminates TLS on both sides: each side's binding is that of
/// its own session. The proof does not verify; the login fails like a wrong
/// password would.
#[test]
fn plus_fails_across_a_relay_with_two_tls_sessions() {
    let mut pair = tls_pair(Some([1; 32]), Some([2; 32]));
    let ev = login(&mut pair, SaslMechanism::ScramSha256Plus, b"wonder land");
    assert!(!ev.contains(&"LoggedIn".to_string()), "{ev:?}");
    assert!(!pair.client.is_logged_in());
    let server = String::from_utf8(pair.server_wire.clone()).unwrap();
    assert!(
        server.ends_with("-ERR [AUTH] Channel bindings do not match\r\n"),
        "{server}"
    );
}

/// No binding on the server (no TLS exporter): -PLUS is not offered, and a client
/// that has one says `y` in plain SCRAM, which such a server accepts.
#[test]
fn client_that_could_bind_says_y_to_a_server_without_plus() {
    let mut pair = tls_pair(Some([7; 32]), None);
    let ev = login(&mut pair, SaslMechanism::ScramSha256, b"wonder land");
    assert!(ev.contains(&"LoggedIn".to_string()), "{ev:?}");
    let server = String::from_utf8(pair.server_wire.clone()).unwrap();
    assert!(!server.contains("-PLUS"), "{server}");
    assert!(client_first(&pair, SaslMechanism::ScramSha256).starts_with("y,,n=alice,r="));
}

/// The server offers -PLUS but the client saw a list without it (an attacker
/// stripped it) and says `y`: the server refuses the downgrade.
#[test]
fn server_refuses_y_when_it_offered_plus() {
    let mut pair = tls_pair(Some([7; 32]), Some([7; 32]));
    pair.run();
    let mut forged = tls_pair(Some([7; 32]), None);
    forged.run();
    // Swap in a client that saw no -PLUS: queue the login on a client whose CAPA
    // lacked it, against the server that offers it.
    std::mem::swap(&mut pair.client, &mut forged.client);
    pair.login(Login::Sasl {
        mechanism: SaslMechanism::ScramSha256,
        authzid: b"",
        user: b"alice",
        secret: b"wonder land",
    })
    .unwrap();
    let ev = pair.run();
    assert!(!ev.contains(&"LoggedIn".to_string()), "{ev:?}");
    let server = String::from_utf8(pair.server_wire.clone()).unwrap();
    assert!(
        server.ends_with("-ERR [AUTH] Channel binding downgrade\r\n"),
        "{server}"
    );
}

/// -PLUS without a binding on the client is refused before anything is sent.
#[test]
fn plus_needs_a_binding_on_the_client() {
    let mut pair = tls_pair(None, Some([7; 32]));
    pair.run();
    assert_eq!(
        pair.client.login(Login::Sasl {
            mechanism: SaslMechanism::ScramSha256Plus,
            authzid: b"",
            user: b"alice",
            secret: b"wonder land",
        }),
        Err(pop3_proto::client::ClientError::MechanismUnavailable)
    );
}

/// The GS2 flag is chosen when client-first is written, after CAPA: a login queued
/// right after the greeting (before the CAPA reply) against a server that offers
/// -PLUS says `n`. (Was: chosen at login() from the capabilities known then, none:
/// `y`, which such a server refuses as a downgrade.)
#[test]
fn the_binding_flag_waits_for_capa() {
    use pop3_proto::client::{Client, ClientConfig};
    let config = ClientConfig {
        tls: true,
        ..ClientConfig::default()
    };
    let mut c = Client::new(config, [3; 32]);
    c.set_channel_binding([7; 32]);
    c.handle_input(b"+OK ready\r\n").unwrap();
    let login = Login::Sasl {
        mechanism: SaslMechanism::ScramSha256,
        authzid: b"",
        user: b"alice",
        secret: b"wonder land",
    };
    // Queued before CAPA is answered.
    c.login(login).unwrap();
    let mut out = [0u8; 512];
    assert_eq!(c.poll_transmit(&mut out).unwrap(), 6); // CAPA
    let mut capa: &[u8] = b"+OK\r\nSASL SCRAM-SHA-256 SCRAM-SHA-256-PLUS\r\n.\r\n";
    while !capa.is_empty() {
        let d = c.handle_input(capa).unwrap();
        capa = &capa[d.consumed..];
    }
    assert_eq!(c.poll_transmit(&mut out).unwrap(), 0);
    let n = c.write_credentials(&login, &[], &mut out).unwrap();
    let line = std::str::from_utf8(&out[..n]).unwrap();
    let b64 = line.strip_prefix("AUTH SCRAM-SHA-256 ").unwrap().trim_end();
    let mut first = [0u8; 256];
    let k = pop3_proto::sasl::decode_base64(b64.as_bytes(), &mut first).unwrap();
    assert!(first[..k].starts_with(b"n,,n=alice,r="), "{line}");
}

/// A server that offers -PLUS of the other hash only supports channel binding
/// (RFC 5802 §6), so a client with a binding says `n`, not `y`, and plain SCRAM logs
/// in. (Was: the client looked for the same hash's -PLUS only and said `y`, which
/// the server refused as a downgrade.)
#[test]
fn plus_of_the_other_hash_counts_as_binding_support() {
    let (mut c, mut s) = plain_configs();
    c.tls = true;
    c.allow_plaintext = false;
    s.tls = Tls::Implicit;
    s.allow_plaintext_auth = false;
    s.mechanisms = MechanismSet::SCRAM_SHA_1.with(MechanismSet::SCRAM_SHA_256_PLUS);
    let mut pair = Pair::new(c, s, App::demo());
    pair.client.set_channel_binding([7; 32]);
    pair.server.set_channel_binding([7; 32]);
    let ev = login(&mut pair, SaslMechanism::ScramSha1, b"wonder land");
    assert!(ev.contains(&"LoggedIn".to_string()), "{ev:?}");
    assert!(client_first(&pair, SaslMechanism::ScramSha1).starts_with("n,,n=alice,r="));
}
