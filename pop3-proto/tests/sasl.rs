//! SASL and APOP: RFC test vectors for the primitives, negative cases, and a
//! client <-> server conversation for every mechanism.

mod common;

use common::app::App;
use common::pair::{plain_configs, Pair};
use pop3_proto::client::{ClientError, ClientEvent, Login, SaslMechanism};
use pop3_proto::sasl::scram::{Binding, Hash, Keys, ScramClient, ScramError, ScramServer};
use pop3_proto::sasl::{apop_digest, cram, decode_base64, Base64Error};
use pop3_proto::server::{MechanismSet, ServerEvent, Tls};

fn b64(s: &str) -> Vec<u8> {
    let mut out = vec![0u8; s.len()];
    let n = decode_base64(s.as_bytes(), &mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn apop_vector() {
    assert_eq!(
        &apop_digest(b"<1896.697170952@dbc.mtview.ca.us>", b"tanstaaf"),
        b"c4c9334bac560ecc979e58001b3e22fb"
    );
}

#[test]
fn cram_md5_vector() {
    assert_eq!(
        &cram::digest(
            b"tanstaaftanstaaf",
            b"<1896.697170952@postoffice.reston.mci.net>"
        ),
        b"b913a602c7eda7a495b4e6e7334d3890"
    );
}

#[test]
fn strict_base64() {
    let mut out = [0u8; 16];
    assert_eq!(decode_base64(b"dGVzdAB0ZXN0AHRlc3Q=", &mut out), Ok(14));
    assert_eq!(&out[..14], b"test\0test\0test");
    assert_eq!(decode_base64(b"", &mut out), Ok(0));
    for bad in [&b"=AAA"[..], b"AAA=BBB", b"AB*D", b"AAA", b"AA=A"] {
        assert_eq!(
            decode_base64(bad, &mut out),
            Err(Base64Error::Invalid),
            "{bad:?}"
        );
    }
    assert_eq!(
        decode_base64(b"AAAAAAAA", &mut out[..2]),
        Err(Base64Error::TooLong)
    );
}

struct Vector {
    hash: Hash,
    client_nonce: &'static str,
    server_nonce: &'static str,
    salt: &'static str,
    server_first: &'static str,
    client_final: &'static str,
    server_final: &'static str,
}

const SHA1: Vector = Vector {
    hash: Hash::Sha1,
    client_nonce: "fyko+d2lbbFgONRv9qkxdawL",
    server_nonce: "3rfcNHYJY1ZVvWVs7j",
    salt: "QSXCR+Q6sek8bf92",
    server_first: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    client_final:
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    server_final: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

const SHA256: Vector = Vector {
    hash: Hash::Sha256,
    client_nonce: "rOprNGfwEbeRWgbNEkqO",
    server_nonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
    server_first: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    client_final: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    server_final: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

#[test]
fn scram_client_rfc_vectors() {
    for v in [SHA1, SHA256] {
        let mut c = ScramClient::new(v.hash, v.client_nonce.as_bytes()).unwrap();
        let mut out = [0u8; 512];
        let n = c
            .client_first(&Binding::None, b"", b"user", &mut out)
            .unwrap();
        assert_eq!(
            &out[..n],
            format!("n,,n=user,r={}", v.client_nonce).as_bytes()
        );
        let n = c
            .server_first(
                &Binding::None,
                b"",
                b"user",
                v.server_first.as_bytes(),
                b"pencil",
                4096,
                &mut out,
            )
            .unwrap();
        assert_eq!(std::str::from_utf8(&out[..n]).unwrap(), v.client_final);
        assert!(!c.is_verified());
        c.server_final(v.server_final.as_bytes()).unwrap();
        assert!(c.is_verified());
    }
}

#[test]
fn scram_server_rfc_vectors() {
    for v in [SHA1, SHA256] {
        let first = format!("n,,n=user,r={}", v.client_nonce);
        let mut s = ScramServer::client_first(v.hash, first.as_bytes()).unwrap();
        assert_eq!(s.user(), b"user");
        let salt = b64(v.salt);
        let keys = Keys::derive(v.hash, b"pencil", &salt, 4096);
        let sf = s
            .server_first(keys, &salt, 4096, v.server_nonce.as_bytes())
            .unwrap();
        assert_eq!(std::str::from_utf8(sf).unwrap(), v.server_first);
        let fin = s.client_final(v.client_final.as_bytes()).unwrap();
        assert_eq!(std::str::from_utf8(&fin).unwrap(), v.server_final);
        // A wrong password's proof is refused.
        let wrong = Keys::derive(v.hash, b"pencil!", &salt, 4096);
        let mut s = ScramServer::client_first(v.hash, first.as_bytes()).unwrap();
        s.server_first(wrong, &salt, 4096, v.server_nonce.as_bytes())
            .unwrap();
        assert_eq!(
            s.client_final(v.client_final.as_bytes()),
            Err(ScramError::BadProof)
        );
    }
}

#[test]
fn scram_client_refuses_bad_servers() {
    let v = SHA1;
    let new = || ScramClient::new(v.hash, v.client_nonce.as_bytes()).unwrap();
    let mut out = [0u8; 512];
    // Wrong server signature.
    let mut c = new();
    c.server_first(
        &Binding::None,
        b"",
        b"user",
        v.server_first.as_bytes(),
        b"pencil",
        4096,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        c.server_final(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        Err(ScramError::BadProof)
    );
    assert!(!c.is_verified());
    // Server nonce not extending ours.
    assert_eq!(
        new().server_first(
            &Binding::None,
            b"",
            b"user",
            b"r=XXXX3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            b"pencil",
            4096,
            &mut out
        ),
        Err(ScramError::NonceMismatch)
    );
    // Mandatory extension.
    assert_eq!(
        new().server_first(
            &Binding::None,
            b"",
            b"user",
            b"m=ext,r=fyko+d2lbbFgONRv9qkxdawLabc,s=QSXCR+Q6sek8bf92,i=4096",
            b"pencil",
            4096,
            &mut out
        ),
        Err(ScramError::UnsupportedExtension)
    );
    // Too few iterations.
    assert_eq!(
        new().server_first(
            &Binding::None,
            b"",
            b"user",
            b"r=fyko+d2lbbFgONRv9qkxdawLabc,s=QSXCR+Q6sek8bf92,i=1",
            b"pencil",
            4096,
            &mut out
        ),
        Err(ScramError::WeakIterationCount)
    );
    // Server error.
    assert_eq!(
        new().server_final(b"e=invalid-proof"),
        Err(ScramError::ServerError)
    );
}

#[test]
fn scram_usernames_are_escaped() {
    let c = ScramClient::new(Hash::Sha256, b"nonce").unwrap();
    let mut out = [0u8; 512];
    let n = c
        .client_first(&Binding::None, b"", b"a,b=c", &mut out)
        .unwrap();
    assert_eq!(&out[..n], b"n,,n=a=2Cb=3Dc,r=nonce");
    let s = ScramServer::client_first(Hash::Sha256, b"n,,n=a=2Cb=3Dc,r=nonce").unwrap();
    assert_eq!(s.user(), b"a,b=c");
    assert!(ScramServer::client_first(Hash::Sha256, b"n,,n=a=ZZ,r=nonce").is_err());
    assert_eq!(
        ScramServer::client_first(Hash::Sha256, b"p=tls-unique,,n=u,r=x").unwrap_err(),
        ScramError::ChannelBinding
    );
}

fn tls_pair() -> Pair {
    let (mut c, mut s) = plain_configs();
    c.tls = true;
    c.allow_plaintext = false;
    c.host = "pop.example.org".try_into().unwrap();
    c.port = 995;
    s.tls = Tls::Implicit;
    s.allow_plaintext_auth = false;
    s.mechanisms = MechanismSet::ALL;
    Pair::new(c, s, App::demo())
}

fn sasl_login(mechanism: SaslMechanism, user: &[u8], secret: &[u8]) -> (Pair, Vec<String>) {
    let mut pair = tls_pair();
    pair.run();
    pair.login(Login::Sasl {
        mechanism,
        authzid: b"",
        user,
        secret,
    })
    .unwrap();
    let ev = pair.run();
    (pair, ev)
}

#[test]
fn every_mechanism_logs_in() {
    for (mechanism, secret) in [
        (SaslMechanism::Plain, &b"wonder land"[..]),
        (SaslMechanism::Login, b"wonder land"),
        (SaslMechanism::CramMd5, b"wonder land"),
        (SaslMechanism::ScramSha1, b"wonder land"),
        (SaslMechanism::ScramSha256, b"wonder land"),
        (SaslMechanism::XOAuth2, b"ya29.token"),
        (SaslMechanism::OAuthBearer, b"ya29.token"),
        (SaslMechanism::External, b""),
    ] {
        let (pair, ev) = sasl_login(mechanism, b"alice", secret);
        assert!(
            ev.contains(&"LoggedIn".to_string()),
            "{mechanism:?}: {ev:?}"
        );
        assert!(pair.client.is_logged_in());
        let wire = String::from_utf8_lossy(&pair.client_wire).into_owned();
        assert!(
            !wire.contains("wonder"),
            "{mechanism:?} sent the password readable"
        );
        let first_event = pair.app.log.first().cloned().unwrap_or_default();
        match mechanism {
            SaslMechanism::CramMd5 | SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256 => {
                assert!(first_event.starts_with("NeedSecret"), "{first_event}")
            }
            SaslMechanism::XOAuth2 | SaslMechanism::OAuthBearer => {
                assert!(first_event.starts_with("CheckToken"), "{first_event}")
            }
            SaslMechanism::External => assert!(first_event.starts_with("CheckExternal")),
            _ => assert!(first_event.starts_with("CheckPassword"), "{first_event}"),
        }
    }
}

#[test]
fn exact_plain_and_scram_transcripts() {
    let (pair, _) = sasl_login(SaslMechanism::Plain, b"alice", b"wonder land");
    let wire = String::from_utf8(pair.client_wire.clone()).unwrap();
    // CAPA advertised SASL, so the initial response rides on the AUTH line.
    assert!(
        wire.contains("AUTH PLAIN AGFsaWNlAHdvbmRlciBsYW5k\r\n"),
        "{wire}"
    );
    let (pair, _) = sasl_login(SaslMechanism::ScramSha256, b"alice", b"wonder land");
    let server = String::from_utf8(pair.server_wire.clone()).unwrap();
    let client = String::from_utf8(pair.client_wire.clone()).unwrap();
    assert!(
        client.contains("AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPUF3TUR"),
        "{client}"
    );
    // server-first, then server-final, then the final +OK.
    assert_eq!(server.matches("\r\n+ ").count(), 2, "{server}");
    assert!(
        client.ends_with("\r\n\r\nCAPA\r\n"),
        "empty line after server-final: {client}"
    );
}

#[test]
fn wrong_credentials_fail_for_every_mechanism() {
    for mechanism in [
        SaslMechanism::Plain,
        SaslMechanism::Login,
        SaslMechanism::CramMd5,
        SaslMechanism::ScramSha1,
        SaslMechanism::ScramSha256,
        SaslMechanism::XOAuth2,
        SaslMechanism::OAuthBearer,
    ] {
        let (pair, ev) = sasl_login(mechanism, b"alice", b"wrong");
        assert!(!pair.client.is_logged_in(), "{mechanism:?}");
        assert_eq!(
            ev.last().map(String::as_str),
            Some("Error(Auth, Some(Auth), Authentication failed)"),
            "{mechanism:?}"
        );
    }
}

#[test]
fn server_refuses_bad_sasl_input() {
    let mut pair = tls_pair();
    pair.run();
    let mut s = pair.server;
    let now = pop3_proto::time::Instant::from_millis(5_000);
    let reply = |s: &mut pop3_proto::server::Server, line: &[u8]| {
        let d = s.handle_input(line, now).unwrap();
        assert_eq!(d.consumed, line.len());
        assert!(d.item.is_none(), "{:?}", d.item);
        let mut out = Vec::new();
        common::app::flush(s, &mut out);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(
        reply(&mut s, b"AUTH PLAIN =AAA\r\n"),
        "-ERR Invalid base64\r\n"
    );
    assert_eq!(
        reply(&mut s, b"AUTH PLAIN AAA=BBB\r\n"),
        "-ERR Invalid base64\r\n"
    );
    assert_eq!(
        reply(&mut s, b"AUTH PLAIN dGVzdHRlc3Q=\r\n"),
        "-ERR Malformed PLAIN response\r\n"
    );
    assert_eq!(
        reply(&mut s, b"AUTH CRAM-MD5 dGVzdA==\r\n"),
        "-ERR Initial response not allowed\r\n"
    );
    assert_eq!(
        reply(&mut s, b"AUTH KERBEROS_V4\r\n"),
        "-ERR Unsupported authentication mechanism\r\n"
    );
    assert_eq!(reply(&mut s, b"AUTH LOGIN\r\n"), "+ VXNlcm5hbWU6\r\n");
    assert_eq!(reply(&mut s, b"*\r\n"), "-ERR Authentication cancelled\r\n");
    assert_eq!(reply(&mut s, b"AUTH PLAIN\r\n"), "+ \r\n");
    let d = s.handle_input(b"dGVzdAB0ZXN0AHRlc3Q=\r\n", now).unwrap();
    assert_eq!(
        d.item,
        Some(ServerEvent::CheckPassword {
            authzid: b"test",
            user: b"test",
            password: b"test"
        })
    );
}

#[test]
fn client_cancels_undecodable_challenge() {
    // A server that answers AUTH LOGIN with a non-base64 challenge ("+ go ahead").
    let mut client = pop3_proto::client::Client::new(
        pop3_proto::client::ClientConfig {
            tls: true,
            auto_capa: false,
            ..Default::default()
        },
        [1; 32],
    );
    let d = client.handle_input(b"+OK ready\r\n").unwrap();
    assert_eq!(d.consumed, 11);
    client
        .login(Login::Sasl {
            mechanism: SaslMechanism::Login,
            authzid: b"",
            user: b"u",
            secret: b"p",
        })
        .unwrap();
    let mut out = [0u8; 512];
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"AUTH LOGIN\r\n");
    let d = client.handle_input(b"+ go ahead\r\n").unwrap();
    assert_eq!((d.consumed, d.item), (12, None));
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"*\r\n");
    let d = client.handle_input(b"-ERR cancelled\r\n").unwrap();
    assert!(d.item.is_some());
}

#[test]
fn client_refuses_server_without_scram_proof_and_long_initial_responses() {
    // +OK straight after client-final: the server never proved the password.
    let mut client = pop3_proto::client::Client::new(
        pop3_proto::client::ClientConfig {
            tls: true,
            auto_capa: false,
            ..Default::default()
        },
        [1; 32],
    );
    client.handle_input(b"+OK ready\r\n").unwrap();
    let login = Login::Sasl {
        mechanism: SaslMechanism::ScramSha1,
        authzid: b"",
        user: b"user",
        secret: b"pencil",
    };
    client.login(login).unwrap();
    let mut out = [0u8; 512];
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(
        &out[..n],
        b"AUTH SCRAM-SHA-1\r\n",
        "no initial response without SASL in CAPA"
    );
    let d = client.handle_input(b"+ \r\n").unwrap();
    assert_eq!(
        d.item,
        Some(ClientEvent::NeedCredentials { challenge: b"" })
    );
    assert_eq!(client.poll_transmit(&mut out).unwrap(), 0);
    let n = client.write_credentials(&login, b"", &mut out).unwrap();
    assert!(out[..n].ends_with(b"\r\n"));
    assert_eq!(
        client.handle_input(b"+OK welcome\r\n").unwrap_err(),
        ClientError::Sasl("server did not prove the password")
    );
}

#[test]
fn oauth_token_too_long_for_initial_response_goes_after_the_challenge() {
    let token = vec![b't'; 400];
    let (pair, ev) = {
        let mut pair = tls_pair();
        pair.app.tokens.push((b"bob".to_vec(), token.clone()));
        pair.run();
        pair.login(Login::Sasl {
            mechanism: SaslMechanism::XOAuth2,
            authzid: b"",
            user: b"bob",
            secret: &token,
        })
        .unwrap();
        let ev = pair.run();
        (pair, ev)
    };
    assert!(ev.contains(&"LoggedIn".to_string()), "{ev:?}");
    let wire = String::from_utf8(pair.client_wire).unwrap();
    assert!(wire.contains("AUTH XOAUTH2\r\n"), "{wire}");
    assert!(wire.lines().all(|l| l.len() <= 2048));
}
