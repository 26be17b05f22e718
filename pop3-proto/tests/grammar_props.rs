//! One property per top-level grammar rule (issue 26), on arbitrary values rather
//! than well-formed ones: whatever an encoder accepts to write, the parser reads
//! back as the same value ("never produce a message it cannot parse itself", as
//! imap-codec fuzzes for). Values are drawn from an alphabet full of the octets
//! that matter to the grammar (SP, HT, CR, LF, NUL, brackets, `/`, `.`, `*`, `=`,
//! digits, 8-bit), so that both accepted and refused values come up often.
//! `tests/roundtrip.rs` checks the same on well-formed values only.

use pop3_proto::{
    Capability, Command, Expire, LangEntry, ListEntry, ResponseCode, SaslMechanisms, SaslResponse,
    Stat, Status, StatusLine, UidlEntry,
};
use proptest::prelude::*;

const ALPHABET: &[u8] = b" \t\r\n\0[]/.*=+-_<>@aAzZ09\x7f\x80\xff";

/// Bytes mostly from [`ALPHABET`], sometimes any octet.
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![3 => prop::sample::select(ALPHABET), 1 => any::<u8>()],
        0..max,
    )
}

/// A string mostly of code characters, sometimes anything.
fn code_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z/\\]\\[ -]{0,12}",
        "(IN-USE|LOGIN-DELAY|SYS/TEMP|SYS/PERM|AUTH|UTF8|sys|Auth)(/[A-Z]{0,3}){0,2}",
        ".{0,8}",
    ]
}

fn code() -> impl Strategy<Value = Option<ResponseCode<'static>>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec![
            ResponseCode::InUse,
            ResponseCode::LoginDelay,
            ResponseCode::SysTemp,
            ResponseCode::SysPerm,
            ResponseCode::Auth,
            ResponseCode::Utf8,
        ])
        .prop_map(Some),
        code_text().prop_map(|s| Some(ResponseCode::Other(Box::leak(s.into_boxed_str())))),
    ]
}

/// What the grammar makes of a code written as `[raw]`: an `Other` that spells a
/// known code (any case, deeper levels) reads as that code.
fn read_back(code: ResponseCode<'_>) -> ResponseCode<'_> {
    let raw = code.as_str();
    let line = format!("-ERR [{raw}]");
    let line: &'static [u8] = Box::leak(line.into_bytes().into_boxed_slice());
    match StatusLine::parse(line).and_then(|s| s.code) {
        Some(ResponseCode::Other(_)) | None => code,
        Some(known) => known,
    }
}

fn line_of(out: &[u8], n: usize) -> &[u8] {
    assert!(out[..n].ends_with(b"\r\n"), "every line ends in CRLF");
    &out[..n - 2]
}

fn simple_commands() -> [Command<'static>; 7] {
    [
        Command::Stls,
        Command::Capa,
        Command::Utf8,
        Command::Stat,
        Command::Noop,
        Command::Rset,
        Command::Quit,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// `single-line` (RFC 2449 §9) with `resp-code`.
    #[test]
    fn single_line(ok in any::<bool>(), code in code(), text in bytes(40)) {
        let status = if ok { Status::Ok } else { Status::Err };
        let value = StatusLine { status, code, text: &text };
        let mut out = [0u8; 1024];
        if let Ok(n) = value.encode(&mut out) {
            let back = StatusLine::parse(line_of(&out, n));
            prop_assert!(back.is_some(), "encoded {:?} does not parse", &out[..n]);
            let back = back.unwrap();
            prop_assert_eq!(back.status, status);
            prop_assert_eq!(back.text, &text[..]);
            prop_assert_eq!(back.code, code.map(read_back));
        }
    }

    /// `drop-listing` (STAT).
    #[test]
    fn drop_listing(count in any::<u32>(), size in any::<u64>()) {
        let value = Stat { count, size };
        let mut out = [0u8; 64];
        let n = value.encode_text(&mut out).unwrap();
        prop_assert_eq!(Stat::parse(&out[..n]), Ok(value));
    }

    /// `scan-listing` (LIST), single-line text and multi-line line.
    #[test]
    fn scan_listing(msg in any::<u32>(), size in any::<u64>()) {
        let value = ListEntry { msg, size };
        let mut out = [0u8; 64];
        let n = value.encode_text(&mut out).unwrap();
        prop_assert_eq!(ListEntry::parse(&out[..n]), Ok(value));
        let n = value.encode_line(&mut out).unwrap();
        prop_assert_eq!(ListEntry::parse(line_of(&out, n)), Ok(value));
    }

    /// `unique-id-listing` (UIDL).
    #[test]
    fn unique_id_listing(msg in any::<u32>(), uid in bytes(80)) {
        let value = UidlEntry { msg, uid: &uid };
        let mut out = [0u8; 128];
        if let Ok(n) = value.encode_line(&mut out) {
            prop_assert_eq!(UidlEntry::parse(line_of(&out, n)), Ok(value));
        }
        if let Ok(n) = value.encode_text(&mut out) {
            prop_assert_eq!(UidlEntry::parse(&out[..n]), Ok(value));
        }
    }

    /// A line of the LANG listing (RFC 6856).
    #[test]
    fn language_listing(tag in bytes(12), description in bytes(40)) {
        let value = LangEntry { tag: &tag, description: &description };
        let mut out = [0u8; 128];
        if let Ok(n) = value.encode_line(&mut out) {
            prop_assert_eq!(LangEntry::parse(line_of(&out, n)), Ok(value));
        }
    }

    /// `capability` (RFC 2449 §9): a known capability reads back as itself; an
    /// `Other` reads back as itself unless its tag names a known one.
    #[test]
    fn capability(i in 0usize..15, n in any::<u32>(), flag in any::<bool>(),
                  tag in bytes(16), params in bytes(40)) {
        let value = match i {
            0 => Capability::Top,
            1 => Capability::User,
            2 => Capability::Sasl(SaslMechanisms::new(&params)),
            3 => Capability::RespCodes,
            4 => Capability::LoginDelay { seconds: n, per_user: flag },
            5 => Capability::Pipelining,
            6 => Capability::Expire { policy: if flag { Expire::Never } else { Expire::Days(n) }, per_user: !flag },
            7 => Capability::Uidl,
            8 => Capability::Implementation(&params),
            9 => Capability::Stls,
            10 => Capability::Utf8 { user: flag },
            11 => Capability::Lang,
            12 => Capability::AuthRespCode,
            _ => Capability::Other { tag: &tag, params: &params },
        };
        let mut out = [0u8; 128];
        if let Ok(n) = value.encode_line(&mut out) {
            let back = Capability::parse(line_of(&out, n));
            match value {
                Capability::Other { .. } => prop_assert!(
                    back == value || !matches!(back, Capability::Other { .. }),
                    "{:?} read back as {:?}", value, back
                ),
                _ => prop_assert_eq!(back, value),
            }
        }
    }

    /// `command` (RFC 1939 §3 and the extensions' commands), with `auth-command`.
    #[test]
    fn command(i in 0usize..12, a in bytes(30), b in bytes(30), n in any::<u32>(),
               m in any::<u32>(), some in any::<bool>(), mech in "[A-Za-z0-9_=*. -]{0,22}") {
        let value = match i {
            0 => Command::User(&a),
            1 => Command::Pass(&a),
            2 => Command::Apop { name: &a, digest: &b },
            3 => Command::Auth {
                mechanism: some.then_some(mech.as_str()),
                initial_response: (!b.is_empty()).then_some(&b[..]),
            },
            4 => Command::Lang(some.then_some(&a[..])),
            5 => Command::List(some.then_some(n)),
            6 => Command::Uidl(some.then_some(n)),
            7 => Command::Retr(n),
            8 => Command::Dele(n),
            9 => Command::Top { msg: n, lines: m },
            _ => simple_commands()[n as usize % 7],
        };
        let mut out = [0u8; 512];
        if let Ok(len) = value.encode(&mut out) {
            prop_assert_eq!(Command::parse(line_of(&out, len)), Ok(value));
        }
    }

    /// `auth-response` (RFC 5034 §4).
    #[test]
    fn auth_response(data in bytes(60), cancel in any::<bool>()) {
        let value = if cancel { SaslResponse::Cancel } else { SaslResponse::Data(&data) };
        let mut out = [0u8; 128];
        if let Ok(n) = value.encode(&mut out, 128) {
            prop_assert_eq!(SaslResponse::parse(line_of(&out, n)), value);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// `client-first-message = gs2-header client-first-message-bare` (RFC 5802
    /// §7), with `saslname` escaping of `,` and `=`: what the client writes, the
    /// server reads back as the same user and authzid.
    #[test]
    fn client_first_message(user in bytes(40), authzid in bytes(20), y in any::<bool>()) {
        use pop3_proto::sasl::scram::{Binding, Hash, ScramClient, ScramServer};
        let client = ScramClient::new(Hash::Sha256, b"rOprNGfwEbeRWgbNEkqO").unwrap();
        let binding = if y { Binding::Unused } else { Binding::None };
        let mut out = [0u8; 1024];
        if let Ok(n) = client.client_first(&binding, &authzid, &user, &mut out) {
            match ScramServer::client_first(Hash::Sha256, &out[..n]) {
                Ok(server) => {
                    prop_assert_eq!(server.user(), &user[..]);
                    prop_assert_eq!(server.authzid(), &authzid[..]);
                }
                // The only refusal of a message the client wrote: no user name.
                Err(e) => prop_assert!(user.is_empty(), "{:?} refused: {:?}", &out[..n], e),
            }
        }
    }
}

/// The octet that made nom's `satisfy` step past the end of the input (it
/// advanced by the UTF-8 length of 0x80 read as a char): a name ending in one.
#[test]
fn scram_name_ending_in_an_8_bit_octet() {
    use pop3_proto::sasl::scram::{Hash, ScramServer};
    let server = ScramServer::client_first(Hash::Sha256, b"n,a=\xff,n=x\x80,r=abc").unwrap();
    assert_eq!(server.user(), b"x\x80");
    assert_eq!(server.authzid(), b"\xff");
}
