//! Regression tests for what fuzzing found.

use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};

/// client_stream, 2026-11-23 (CI smoke run): after QUIT was answered the harness
/// kept feeding server bytes and its buffer grew past the bound. The client's
/// contract: once closed it consumes nothing and reports nothing, so a driver must
/// stop reading (the adapters do). Pinned here so the contract cannot drift.
#[test]
fn closed_client_takes_no_more_input() {
    let mut client = Client::new(
        ClientConfig {
            allow_plaintext: true,
            auto_capa: false,
            ..ClientConfig::default()
        },
        [0; 32],
    );
    let mut out = [0u8; 256];
    assert!(client.handle_input(b"+OK hi\r\n").unwrap().item.is_some());
    let login = Login::UserPass {
        user: b"u",
        password: b"p",
    };
    client.login(login).unwrap();
    client.quit().unwrap();
    assert_eq!(client.poll_transmit(&mut out).unwrap(), 0);
    let n = client.write_credentials(&login, &[], &mut out).unwrap();
    assert_eq!(&out[..n], b"USER u\r\n");
    assert_eq!(client.handle_input(b"+OK\r\n").unwrap().consumed, 5);
    assert_eq!(client.poll_transmit(&mut out).unwrap(), 0);
    let n = client.write_credentials(&login, &[], &mut out).unwrap();
    assert_eq!(&out[..n], b"PASS p\r\n");
    assert_eq!(
        client.handle_input(b"+OK in\r\n").unwrap().item,
        Some(ClientEvent::LoggedIn)
    );
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"QUIT\r\n");
    let d = client
        .handle_input(b"+OK bye\r\n+OK more junk\r\n")
        .unwrap();
    assert_eq!((d.consumed, d.item), (9, Some(ClientEvent::Closed)));
    assert!(client.is_closed());
    for junk in [&b"+OK more junk\r\n"[..], b"anything", &[0xff; 4096]] {
        let d = client.handle_input(junk).unwrap();
        assert_eq!((d.consumed, d.item), (0, None));
    }
    assert_eq!(client.poll_transmit(&mut out).unwrap(), 0);
    assert_eq!(
        client.retr(1),
        Err(pop3_proto::client::ClientError::WrongState)
    );
}
