//! Encode -> decode round trips for every command and every reply type, on generated
//! values (proptest).

use pop3_proto::{
    Capability, Command, EncodeError, Expire, LangEntry, ListEntry, ResponseCode, SaslMechanisms,
    SaslResponse, Stat, Status, StatusLine, UidlEntry,
};
use proptest::prelude::*;

/// Bytes of a command argument: no SP, no control characters; 8-bit allowed.
fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![0x21u8..0x7f, 0x80u8..=0xff], 1..40)
}

fn password() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![0x21u8..0x7f, 0x80u8..=0xff, Just(b' '), Just(b'\t')],
        1..60,
    )
}

fn mechanism() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,20}"
}

/// Free text of a status line: no CR, LF or NUL.
fn text() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        any::<u8>().prop_filter("no line breaks", |b| !matches!(b, b'\r' | b'\n' | 0)),
        0..80,
    )
}

/// An owned command, so that the strategy can own its arguments.
#[derive(Debug, Clone)]
enum Cmd {
    User(Vec<u8>),
    Pass(Vec<u8>),
    Apop(Vec<u8>, Vec<u8>),
    Auth(Option<(String, Option<Vec<u8>>)>),
    Lang(Option<Vec<u8>>),
    List(Option<u32>),
    Uidl(Option<u32>),
    Retr(u32),
    Dele(u32),
    Top(u32, u32),
    Bare(usize),
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        arg().prop_map(Cmd::User),
        password().prop_map(Cmd::Pass),
        (arg(), arg()).prop_map(|(a, b)| Cmd::Apop(a, b)),
        prop::option::of((mechanism(), prop::option::of(arg()))).prop_map(Cmd::Auth),
        prop::option::of(arg()).prop_map(Cmd::Lang),
        prop::option::of(any::<u32>()).prop_map(Cmd::List),
        prop::option::of(any::<u32>()).prop_map(Cmd::Uidl),
        any::<u32>().prop_map(Cmd::Retr),
        any::<u32>().prop_map(Cmd::Dele),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Cmd::Top(a, b)),
        (0usize..8).prop_map(Cmd::Bare),
    ]
}

fn as_command(c: &Cmd) -> Command<'_> {
    match c {
        Cmd::User(a) => Command::User(a),
        Cmd::Pass(p) => Command::Pass(p),
        Cmd::Apop(n, d) => Command::Apop { name: n, digest: d },
        Cmd::Auth(None) => Command::Auth {
            mechanism: None,
            initial_response: None,
        },
        Cmd::Auth(Some((m, ir))) => Command::Auth {
            mechanism: Some(m),
            initial_response: ir.as_deref(),
        },
        Cmd::Lang(t) => Command::Lang(t.as_deref()),
        Cmd::List(n) => Command::List(*n),
        Cmd::Uidl(n) => Command::Uidl(*n),
        Cmd::Retr(n) => Command::Retr(*n),
        Cmd::Dele(n) => Command::Dele(*n),
        Cmd::Top(m, l) => Command::Top { msg: *m, lines: *l },
        Cmd::Bare(i) => [
            Command::Stls,
            Command::Capa,
            Command::Utf8,
            Command::Stat,
            Command::Noop,
            Command::Rset,
            Command::Quit,
            Command::Lang(None),
        ][*i],
    }
}

fn code() -> impl Strategy<Value = Option<(usize, String)>> {
    prop::option::of((0usize..7, "X-[A-Z0-9.-]{1,8}(/[A-Z0-9-]{1,6}){0,2}"))
}

fn as_code((i, other): &(usize, String)) -> ResponseCode<'_> {
    [
        ResponseCode::InUse,
        ResponseCode::LoginDelay,
        ResponseCode::SysTemp,
        ResponseCode::SysPerm,
        ResponseCode::Auth,
        ResponseCode::Utf8,
        ResponseCode::Other(other),
    ][*i]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn command_round_trip(c in cmd()) {
        let command = as_command(&c);
        let mut out = [0u8; 300];
        match command.encode(&mut out) {
            Ok(n) => {
                prop_assert_eq!(&out[n - 2..n], b"\r\n");
                prop_assert!(n <= 255);
                prop_assert_eq!(Command::parse(&out[..n - 2]), Ok(command));
            }
            Err(e) => prop_assert_eq!(e, EncodeError::LineTooLong { limit: 255 }),
        }
    }

    #[test]
    fn sasl_response_round_trip(data in "[A-Za-z0-9+/=]{0,300}", cancel in any::<bool>()) {
        let line = if cancel { SaslResponse::Cancel } else { SaslResponse::Data(data.as_bytes()) };
        let mut out = [0u8; 400];
        let n = line.encode(&mut out, 2048).unwrap();
        prop_assert_eq!(SaslResponse::parse(&out[..n - 2]), line);
    }

    #[test]
    fn status_line_round_trip(ok in any::<bool>(), c in code(), t in text()) {
        let code = c.as_ref().map(as_code);
        prop_assume!(code.is_some() || t.first() != Some(&b'['));
        let line = StatusLine {
            status: if ok { Status::Ok } else { Status::Err },
            code,
            text: &t,
        };
        let mut out = [0u8; 600];
        let n = line.encode(&mut out).unwrap();
        prop_assert_eq!(StatusLine::parse(&out[..n - 2]), Some(line));
    }

    #[test]
    fn listing_round_trips(msg in any::<u32>(), size in any::<u64>(), uid in "[!-~]{1,70}",
                           tag in "[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})?", desc in "([^\r\n\0 \t]([^\r\n\0]{0,30}[^\r\n\0 \t])?)?") {
        let mut out = [0u8; 600];
        let stat = Stat { count: msg, size };
        let n = stat.encode_text(&mut out).unwrap();
        prop_assert_eq!(Stat::parse(&out[..n]), Ok(stat));

        let entry = ListEntry { msg, size };
        let n = entry.encode_line(&mut out).unwrap();
        prop_assert_eq!(ListEntry::parse(&out[..n - 2]), Ok(entry));
        let n = entry.encode_text(&mut out).unwrap();
        prop_assert_eq!(ListEntry::parse(&out[..n]), Ok(entry));

        let entry = UidlEntry { msg, uid: uid.as_bytes() };
        let n = entry.encode_line(&mut out).unwrap();
        prop_assert_eq!(UidlEntry::parse(&out[..n - 2]), Ok(entry));

        let lang = LangEntry { tag: tag.as_bytes(), description: desc.as_bytes() };
        let n = lang.encode_line(&mut out).unwrap();
        prop_assert_eq!(LangEntry::parse(&out[..n - 2]), Ok(lang));
    }

    #[test]
    fn capability_round_trip(i in 0usize..15, n in any::<u32>(), flag in any::<bool>(),
                             mechs in prop::collection::vec(mechanism(), 0..6),
                             word in "[!-~]{1,20}( [!-~]{1,20}){0,3}", tag in "X-[A-Z0-9-]{1,12}") {
        let list = mechs.join(" ");
        let cap = match i {
            0 => Capability::Top,
            1 => Capability::User,
            2 => Capability::Sasl(SaslMechanisms::new(list.as_bytes())),
            3 => Capability::RespCodes,
            4 => Capability::LoginDelay { seconds: n, per_user: flag },
            5 => Capability::Pipelining,
            6 => Capability::Expire { policy: if flag { Expire::Never } else { Expire::Days(n) }, per_user: !flag },
            7 => Capability::Uidl,
            8 => Capability::Implementation(word.as_bytes()),
            9 => Capability::Stls,
            10 => Capability::Utf8 { user: flag },
            11 => Capability::Lang,
            12 => Capability::AuthRespCode,
            13 => Capability::Other { tag: tag.as_bytes(), params: word.as_bytes() },
            _ => Capability::Other { tag: tag.as_bytes(), params: b"" },
        };
        let mut out = [0u8; 600];
        let len = cap.encode_line(&mut out).unwrap();
        prop_assert_eq!(Capability::parse(&out[..len - 2]), cap);
    }
}
