//! SASL parsers of both roles on arbitrary input: the server's mechanism parsers
//! (through AUTH with an arbitrary initial response and follow-up lines), strict
//! base64, and the SCRAM client and server message parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pop3_proto::sasl::decode_base64;
use pop3_proto::sasl::scram::{Binding, Hash, Keys, ScramClient, ScramServer};
use pop3_proto::server::{MechanismSet, Server, ServerConfig, Tls};
use pop3_proto::time::Instant;

fuzz_target!(|input: (u8, Vec<u8>, Vec<u8>, Vec<u8>)| {
    let (which, a, b, c) = input;
    let mut buf = [0u8; 2048];
    let _ = decode_base64(&a, &mut buf);

    // SCRAM messages straight into the parsers.
    let hash = if which & 1 == 0 {
        Hash::Sha1
    } else {
        Hash::Sha256
    };
    if let Ok(mut client) = ScramClient::new(hash, b"nonce") {
        let mut out = [0u8; 512];
        // Low iteration floor keeps the fuzzer fast; any count below it is refused.
        if client
            .server_first(&Binding::None, b"", b"user", &a, b"pw", 1, &mut out)
            .is_ok()
        {
            let _ = client.server_final(&b);
        }
    }
    if let Ok(mut server) = ScramServer::client_first(hash, &a) {
        let keys = Keys::derive(hash, b"pw", b"salt", 1);
        if server.server_first(keys, b"salt", 1, b"snonce").is_ok() {
            let _ = server.client_final(&b);
        }
    }

    // The server's AUTH path: AUTH <mech> [ir], then lines, answering every event.
    let mut config = ServerConfig::new("fuzz");
    config.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    config.tls = Tls::Implicit;
    config.mechanisms = MechanismSet::ALL;
    config.auth_failure_delay_ms = 0;
    let now = Instant::from_millis(0);
    let mut server = Server::new(config, now, [3; 32]);
    let mech = [
        "PLAIN",
        "LOGIN",
        "CRAM-MD5",
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
        "XOAUTH2",
        "OAUTHBEARER",
        "EXTERNAL",
    ][usize::from(which >> 1) % 8];
    let mut wire = format!("AUTH {mech}").into_bytes();
    if which & 0x80 != 0 {
        wire.push(b' ');
        wire.extend(b.iter().filter(|x| !matches!(x, b'\r' | b'\n')));
    }
    wire.extend_from_slice(b"\r\n");
    for line in c.split(|x| *x == b'\n').take(8) {
        wire.extend_from_slice(line);
        wire.push(b'\n');
    }
    let mut rest = &wire[..];
    for _ in 0..64 {
        let d = server.handle_input(rest, now).expect("events are answered");
        let consumed = d.consumed;
        let event = d.item.map(|e| format!("{e:?}"));
        rest = &rest[consumed..];
        let mut tx = [0u8; 1024];
        while server.poll_transmit(&mut tx) > 0 {}
        match event.as_deref() {
            None if consumed == 0 => break,
            None => {}
            Some(e) if e.starts_with("NeedSecret") => {
                server.answer_secret(Some(b"pw"), now).unwrap()
            }
            Some(e) if e.starts_with("OpenMaildrop") => server
                .answer_open(pop3_proto::server::Open::Unavailable)
                .unwrap(),
            Some(_) => server.answer_password(true, now).unwrap(),
        }
    }
});
