//! With the `defmt` feature, what the crate logs through defmt carries no secret:
//! the frames a global logger receives hold the user name but not the password,
//! the token, the APOP digest, an initial response or SASL data (the derived
//! `defmt::Format` wrote them as they are). Run by `.ci/test` as
//! `cargo test -p pop3-proto --features defmt --test defmt_redacted`.

use std::sync::Mutex;

use pop3_proto::server::ServerEvent;
use pop3_proto::{Command, SaslResponse};

/// Every byte defmt wrote, in order.
static FRAMES: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// One test at a time owns the logger.
static LOGGER: Mutex<()> = Mutex::new(());

#[defmt::global_logger]
struct Collect;

unsafe impl defmt::Logger for Collect {
    fn acquire() {}
    unsafe fn flush() {}
    unsafe fn release() {}
    unsafe fn write(bytes: &[u8]) {
        FRAMES.lock().unwrap().extend_from_slice(bytes);
    }
}

defmt::timestamp!("{=u32}", 0);

#[defmt::panic_handler]
fn defmt_panic() -> ! {
    panic!("defmt panic")
}

/// The frames of logging `value` with `{}`.
fn frames_of(value: impl defmt::Format) -> Vec<u8> {
    let _one = LOGGER.lock().unwrap();
    FRAMES.lock().unwrap().clear();
    defmt::println!("{}", value);
    std::mem::take(&mut *FRAMES.lock().unwrap())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn secrets_do_not_reach_the_logger() {
    // (frames, a secret that must be absent, a name that must be present)
    type Case = (Vec<u8>, &'static [u8], Option<&'static [u8]>);
    let cases: Vec<Case> = vec![
        (
            frames_of(ServerEvent::CheckPassword {
                authzid: b"",
                user: b"alice",
                password: b"hunter2-secret",
            }),
            b"hunter2",
            Some(b"alice"),
        ),
        (
            frames_of(ServerEvent::CheckToken {
                user: b"alice",
                token: b"ya29.hunter2",
            }),
            b"hunter2",
            Some(b"alice"),
        ),
        (
            frames_of(Command::Pass(b"hunter2-secret")),
            b"hunter2",
            None,
        ),
        (
            frames_of(Command::Apop {
                name: b"alice",
                digest: b"c4c9334bac560ecc979e58001b3e22fb",
            }),
            b"c4c9334b",
            Some(b"alice"),
        ),
        (
            frames_of(Command::Auth {
                mechanism: Some("PLAIN"),
                initial_response: Some(b"AGFsaWNlAGh1bnRlcjItc2VjcmV0"),
            }),
            b"AGFsaWNl",
            None,
        ),
        (
            frames_of(SaslResponse::Data(b"aHVudGVyMi1zZWNyZXQ=")),
            b"aHVudGVy",
            None,
        ),
    ];
    for (frames, secret, shown) in cases {
        assert!(!frames.is_empty(), "nothing logged");
        assert!(
            !contains(&frames, secret),
            "{:?} logged in {frames:?}",
            String::from_utf8_lossy(secret)
        );
        if let Some(shown) = shown {
            assert!(
                contains(&frames, shown),
                "the name is not logged: {frames:?}"
            );
        }
    }
}

/// The control: a byte string that is not a secret reaches the logger as it is,
/// so the absence above is the redaction's doing.
#[test]
fn names_reach_the_logger() {
    let frames = frames_of(Command::User(b"hunter2-user"));
    assert!(contains(&frames, b"hunter2-user"), "{frames:?}");
}
