//! Structure-aware round trip: any command or status line that encodes must decode
//! to the same value; any line that parses must re-encode and parse the same.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pop3_proto::{Capability, Command, ResponseCode, SaslResponse, Status, StatusLine};

#[derive(Debug, Arbitrary)]
enum Input {
    User(Vec<u8>),
    Pass(Vec<u8>),
    Apop(Vec<u8>, Vec<u8>),
    Auth(Option<String>, Option<Vec<u8>>),
    Lang(Option<Vec<u8>>),
    List(Option<u32>),
    Uidl(Option<u32>),
    Retr(u32),
    Dele(u32),
    Top(u32, u32),
    Simple(u8),
    Status(bool, Option<(u8, String)>, Vec<u8>),
    Sasl(Vec<u8>),
    RawCommand(Vec<u8>),
    RawStatus(Vec<u8>),
    RawCapability(Vec<u8>),
}

fn command(input: &Input) -> Option<Command<'_>> {
    Some(match input {
        Input::User(a) => Command::User(a),
        Input::Pass(a) => Command::Pass(a),
        Input::Apop(n, d) => Command::Apop { name: n, digest: d },
        Input::Auth(m, ir) => Command::Auth {
            mechanism: m.as_deref(),
            initial_response: ir.as_deref(),
        },
        Input::Lang(t) => Command::Lang(t.as_deref()),
        Input::List(n) => Command::List(*n),
        Input::Uidl(n) => Command::Uidl(*n),
        Input::Retr(n) => Command::Retr(*n),
        Input::Dele(n) => Command::Dele(*n),
        Input::Top(m, l) => Command::Top { msg: *m, lines: *l },
        Input::Simple(i) => [
            Command::Stls,
            Command::Capa,
            Command::Utf8,
            Command::Stat,
            Command::Noop,
            Command::Rset,
            Command::Quit,
        ][*i as usize % 7],
        _ => return None,
    })
}

fuzz_target!(|input: Input| {
    let mut out = [0u8; 1024];
    if let Some(c) = command(&input) {
        let _ = format!("{c:?} {:?}", c.expect());
        if let Err(e) = c.encode(&mut out) {
            assert!(!e.to_string().is_empty());
        }
        if let Ok(n) = c.encode(&mut out) {
            assert!(n <= 255);
            assert_eq!(&out[n - 2..n], b"\r\n");
            assert!(!out[..n - 2].contains(&b'\n') && !out[..n - 2].contains(&b'\r'));
            assert_eq!(Command::parse(&out[..n - 2]), Ok(c));
        }
        return;
    }
    match &input {
        Input::Status(ok, code, text) => {
            let code = code.as_ref().map(|(i, other)| match i % 7 {
                0 => ResponseCode::InUse,
                1 => ResponseCode::LoginDelay,
                2 => ResponseCode::SysTemp,
                3 => ResponseCode::SysPerm,
                4 => ResponseCode::Auth,
                5 => ResponseCode::Utf8,
                _ => ResponseCode::Other(other),
            });
            let line = StatusLine {
                status: if *ok { Status::Ok } else { Status::Err },
                code,
                text,
            };
            if let Ok(n) = line.encode(&mut out) {
                assert!(n <= 512);
                let parsed = StatusLine::parse(&out[..n - 2]).expect("own status line parses");
                assert_eq!(parsed.status, line.status);
                // A code spelled like a known one (or with deeper levels) may parse as
                // the known one; either way, once parsed it is stable.
                assert_eq!(parsed.code.is_some(), line.code.is_some());
                let mut again = [0u8; 1024];
                let m = parsed.encode(&mut again).expect("re-encode");
                assert_eq!(StatusLine::parse(&again[..m - 2]), Some(parsed));
                assert_eq!(parsed.text, line.text);
            }
        }
        Input::Sasl(data) => {
            let r = if data == b"*" {
                SaslResponse::Cancel
            } else {
                SaslResponse::Data(data)
            };
            let _ = format!("{r:?}");
            if let Ok(n) = r.encode(&mut out, 2048) {
                assert_eq!(SaslResponse::parse(&out[..n - 2]), r);
            }
        }
        Input::RawCommand(line) => match Command::parse(line) {
            Ok(c) => {
                let _ = format!("{c:?}");
                if let Ok(n) = c.encode(&mut out) {
                    assert_eq!(Command::parse(&out[..n - 2]), Ok(c));
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        },
        Input::RawStatus(line) => {
            if let Some(s) = StatusLine::parse(line) {
                if let Ok(n) = s.encode(&mut out) {
                    assert_eq!(StatusLine::parse(&out[..n - 2]), Some(s));
                }
            }
        }
        Input::RawCapability(line) => {
            let cap = Capability::parse(line);
            if let Ok(n) = cap.encode_line(&mut out) {
                assert_eq!(Capability::parse(&out[..n - 2]), cap);
            }
        }
        _ => {}
    }
});
