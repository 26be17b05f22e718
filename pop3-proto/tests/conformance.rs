//! Framing and syntax vectors from the conformance checklist
//! (`shared/reference/pop3-conformance-checklist.md`): dot-stuffing, empty listings,
//! bare `+OK`, response codes with unknown sub-levels, over-long lines, bare LF,
//! command syntax and injection. Every test asserts exact bytes or exact events.

mod common;

use common::{decode_commands, decode_replies, Ev, Line};
use pop3_proto::limits::{MAX_COMMAND_LINE, MAX_STATUS_LINE};
use pop3_proto::{
    apop_timestamp, BareLf, BodyChunk, BodyDecoder, BodyEncoder, Capability, Command, CommandError,
    DecodeError, EncodeError, Expect, Expire, LangEntry, ListEntry, ResponseCode, ResponseDecoder,
    SaslResponse, Stat, StatusLine, UidlEntry,
};

fn replies(expects: &[Expect], wire: &[u8]) -> Vec<Ev> {
    let (events, rest) =
        decode_replies(&mut ResponseDecoder::new(), expects, wire, &[usize::MAX]).unwrap();
    assert!(rest.is_empty(), "unconsumed: {rest:?}");
    // The same bytes one at a time must give the same events.
    let (bytewise, _) = decode_replies(&mut ResponseDecoder::new(), expects, wire, &[1]).unwrap();
    assert_eq!(events, bytewise);
    events
}

// --- RFC 1939 multi-line framing -------------------------------------------------

#[test]
fn dot_stuffed_lines_lose_exactly_one_dot() {
    let wire = b"+OK\r\n..\r\n...x\r\n.x\r\n. \r\n.\r\n";
    assert_eq!(
        replies(&[Expect::Body], wire),
        vec![
            Ev::ok(b""),
            Ev::Data(b".\r\n..x\r\nx\r\n \r\n".to_vec()),
            Ev::End
        ]
    );
}

#[test]
fn dot_stuffing_on_encode() {
    let mut out = [0u8; 64];
    let mut enc = BodyEncoder::new();
    let (consumed, n) = enc.encode(b".\r\n..x\r\nx.\r\n", &mut out);
    assert_eq!(consumed, 12);
    let m = enc.finish(&mut out[n..]).unwrap();
    assert_eq!(&out[..n + m], b"..\r\n...x\r\nx.\r\n.\r\n");
}

#[test]
fn encoder_adds_missing_crlf_and_normalises_bare_lf() {
    let mut out = [0u8; 64];
    let mut enc = BodyEncoder::new();
    let (_, n) = enc.encode(b"a\n.b\nc", &mut out);
    let m = enc.finish(&mut out[n..]).unwrap();
    assert_eq!(&out[..n + m], b"a\r\n..b\r\nc\r\n.\r\n");
    assert_eq!(pop3_proto::codec::body::wire_size(b"a\n.b\nc"), 10);
    assert_eq!(pop3_proto::codec::body::wire_size(b""), 0);
    assert_eq!(pop3_proto::codec::body::wire_size(b"x\r"), 3);
}

#[test]
fn empty_body_and_empty_listing() {
    assert_eq!(
        replies(&[Expect::Body], b"+OK\r\n.\r\n"),
        vec![Ev::ok(b""), Ev::End]
    );
    assert_eq!(
        replies(&[Expect::Listing], b"+OK 0 messages\r\n.\r\n"),
        vec![Ev::ok(b"0 messages"), Ev::End]
    );
}

#[test]
fn encoder_of_empty_message_sends_only_the_terminator() {
    let mut out = [0u8; 8];
    let mut enc = BodyEncoder::new();
    assert_eq!(enc.encode(b"", &mut out), (0, 0));
    assert_eq!(enc.finish_len(), 3);
    assert_eq!(enc.finish(&mut out), Some(3));
    assert_eq!(&out[..3], b".\r\n");
}

#[test]
fn listing_lines_are_unstuffed() {
    assert_eq!(
        replies(&[Expect::Listing], b"+OK\r\n..hidden\r\nTOP\r\n.\r\n"),
        vec![
            Ev::ok(b""),
            Ev::Line(b".hidden".to_vec()),
            Ev::Line(b"TOP".to_vec()),
            Ev::End
        ]
    );
}

#[test]
fn dot_cr_not_followed_by_lf_is_data() {
    assert_eq!(
        replies(&[Expect::Body], b"+OK\r\n.\rx\r\n.\r\n"),
        vec![Ev::ok(b""), Ev::Data(b"\rx\r\n".to_vec()), Ev::End]
    );
}

#[test]
fn terminator_found_across_every_split() {
    let wire = b"+OK\r\nab\r\n.\r\n+OK next\r\n";
    for split in 0..=wire.len() {
        let (events, rest) = decode_replies(
            &mut ResponseDecoder::new(),
            &[Expect::Body, Expect::Status],
            wire,
            &[split.max(1), usize::MAX],
        )
        .unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            events,
            vec![
                Ev::ok(b""),
                Ev::Data(b"ab\r\n".to_vec()),
                Ev::End,
                Ev::ok(b"next")
            ],
            "split at {split}"
        );
    }
}

#[test]
fn body_lines_have_no_length_limit() {
    let long = vec![b'x'; 100_000];
    let mut wire = b"+OK\r\n".to_vec();
    wire.extend_from_slice(&long);
    wire.extend_from_slice(b"\r\n.\r\n");
    let (events, _) =
        decode_replies(&mut ResponseDecoder::new(), &[Expect::Body], &wire, &[4096]).unwrap();
    let mut expected = long.clone();
    expected.extend_from_slice(b"\r\n");
    assert_eq!(events, vec![Ev::ok(b""), Ev::Data(expected), Ev::End]);
}

#[test]
fn bare_lf_is_data_by_default() {
    let wire = b"+OK\r\nabc\n.\nxyz\r\n.\r\n";
    assert_eq!(
        replies(&[Expect::Body], wire),
        vec![Ev::ok(b""), Ev::Data(b"abc\n.\nxyz\r\n".to_vec()), Ev::End]
    );
}

#[test]
fn bare_lf_ends_lines_when_lenient() {
    let mut dec = ResponseDecoder::new().with_bare_lf(BareLf::LineEnd);
    let (events, rest) = decode_replies(
        &mut dec,
        &[Expect::Body],
        b"+OK\r\nabc\n..d\n.\nnext",
        &[usize::MAX],
    )
    .unwrap();
    assert_eq!(
        events,
        vec![Ev::ok(b""), Ev::Data(b"abc\n.d\n".to_vec()), Ev::End]
    );
    assert_eq!(rest, b"next");
}

#[test]
fn body_decoder_reports_end_and_leaves_the_rest() {
    let mut dec = BodyDecoder::default();
    let input = b"hi\r\n.\r\n+OK";
    // The chunk stops before the dot that starts a line; the dot is consumed.
    assert_eq!(dec.decode(input), (5, Some(BodyChunk::Data(b"hi\r\n"))));
    assert_eq!(dec.decode(&input[5..]), (2, Some(BodyChunk::End)));
    assert!(dec.is_done());
    assert_eq!(dec.decode(&input[7..]), (0, None));
}

// --- Status lines and response codes ---------------------------------------------

#[test]
fn bare_ok_and_bare_err() {
    assert_eq!(StatusLine::parse(b"+OK"), Some(StatusLine::ok(b"")));
    assert_eq!(StatusLine::parse(b"-ERR"), Some(StatusLine::err(None, b"")));
    assert_eq!(
        StatusLine::parse(b"+ok fine"),
        Some(StatusLine::ok(b"fine"))
    );
    assert_eq!(StatusLine::parse(b"+OKAY"), None);
    assert_eq!(StatusLine::parse(b"* OK imap"), None);
    assert_eq!(replies(&[Expect::Status], b"+OK\r\n"), vec![Ev::ok(b"")]);
}

#[test]
fn response_codes_ignore_unknown_sub_levels() {
    let code = |line: &'static [u8]| StatusLine::parse(line).unwrap().code;
    assert_eq!(
        code(b"-ERR [SYS/TEMP/X] later"),
        Some(ResponseCode::SysTemp)
    );
    assert_eq!(code(b"-ERR [sys/perm] gone"), Some(ResponseCode::SysPerm));
    assert_eq!(code(b"-ERR [IN-USE/FOO] locked"), Some(ResponseCode::InUse));
    assert_eq!(
        code(b"-ERR [LOGIN-DELAY] wait"),
        Some(ResponseCode::LoginDelay)
    );
    assert_eq!(code(b"-ERR [AUTH] no"), Some(ResponseCode::Auth));
    assert_eq!(code(b"-ERR [UTF8] no"), Some(ResponseCode::Utf8));
    assert_eq!(code(b"-ERR [SYS] ?"), Some(ResponseCode::Other("SYS")));
    assert_eq!(
        code(b"-ERR [X-VENDOR/SUB] hm"),
        Some(ResponseCode::Other("X-VENDOR/SUB"))
    );
    // Malformed codes are text.
    let s = StatusLine::parse(b"-ERR [SYS/TEMP later").unwrap();
    assert_eq!((s.code, s.text), (None, &b"[SYS/TEMP later"[..]));
    let s = StatusLine::parse(b"-ERR [A//B] x").unwrap();
    assert_eq!((s.code, s.text), (None, &b"[A//B] x"[..]));
    let s = StatusLine::parse(b"-ERR [IN-USE] Mailbox locked").unwrap();
    assert_eq!(s.text, b"Mailbox locked");
}

#[test]
fn status_line_encoding() {
    let mut out = [0u8; 600];
    let n = StatusLine::err(Some(ResponseCode::InUse), b"locked")
        .encode(&mut out)
        .unwrap();
    assert_eq!(&out[..n], b"-ERR [IN-USE] locked\r\n");
    let n = StatusLine::ok(b"").encode(&mut out).unwrap();
    assert_eq!(&out[..n], b"+OK\r\n");
    assert_eq!(
        StatusLine::ok(b"a\r\n+OK").encode(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    assert_eq!(
        StatusLine::ok(b"[looks like a code]").encode(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    let long = [b'a'; 507]; // "+OK " + 507 + CRLF = 513
    assert_eq!(
        StatusLine::ok(&long).encode(&mut out),
        Err(EncodeError::LineTooLong { limit: 512 })
    );
    assert_eq!(StatusLine::ok(&long[1..]).encode(&mut out), Ok(512));
    assert_eq!(
        StatusLine::ok(b"x").encode(&mut out[..3]),
        Err(EncodeError::BufferTooSmall)
    );
}

#[test]
fn over_long_status_line_is_an_error() {
    let mut ok = b"+OK ".to_vec();
    ok.resize(MAX_STATUS_LINE - 2, b'a');
    ok.extend_from_slice(b"\r\n");
    assert_eq!(replies(&[Expect::Status], &ok).len(), 1);

    let mut long = b"+OK ".to_vec();
    long.resize(MAX_STATUS_LINE - 1, b'a');
    long.extend_from_slice(b"\r\n");
    let mut dec = ResponseDecoder::new();
    let err = decode_replies(&mut dec, &[Expect::Status], &long, &[100]).unwrap_err();
    assert_eq!(err, DecodeError::LineTooLong { limit: 512 });
    assert_eq!(dec.decode(b"+OK\r\n").unwrap_err(), DecodeError::Failed);
}

#[test]
fn malformed_and_unsolicited_replies() {
    let mut dec = ResponseDecoder::new();
    assert_eq!(
        dec.decode(b"+OK\r\n").unwrap_err(),
        DecodeError::Unsolicited
    );
    let mut dec = ResponseDecoder::new();
    dec.expect(Expect::Status);
    assert_eq!(
        dec.decode(b"HELLO\r\n").unwrap_err(),
        DecodeError::MalformedStatus
    );
    let mut dec = ResponseDecoder::new();
    assert!(dec.expect(Expect::Body));
    assert!(!dec.expect(Expect::Status), "a reply is already expected");
}

#[test]
fn err_to_multiline_command_has_no_body_and_pipelined_replies_follow() {
    let wire = b"-ERR no such message\r\n+OK 1 2\r\n+OK\r\nx\r\n.\r\n";
    assert_eq!(
        replies(&[Expect::Body, Expect::Status, Expect::Body], wire),
        vec![
            Ev::err(None, b"no such message"),
            Ev::ok(b"1 2"),
            Ev::ok(b""),
            Ev::Data(b"x\r\n".to_vec()),
            Ev::End
        ]
    );
}

#[test]
fn sasl_challenges() {
    let wire = b"+ \r\n+\r\n+ dGVzdA==\r\n-ERR [AUTH] bad\r\n+OK done\r\n";
    assert_eq!(
        replies(&[Expect::Sasl; 5], wire),
        vec![
            Ev::Challenge(vec![]),
            Ev::Challenge(vec![]),
            Ev::Challenge(b"dGVzdA==".to_vec()),
            Ev::err(Some("AUTH"), b"bad"),
            Ev::ok(b"done"),
        ]
    );
    // A long challenge is fine up to the SASL limit, a long status line is not.
    let mut big = b"+ ".to_vec();
    big.resize(1500, b'A');
    big.extend_from_slice(b"\r\n");
    assert_eq!(replies(&[Expect::Sasl], &big).len(), 1);
    let mut big_ok = b"+OK ".to_vec();
    big_ok.resize(1500, b'A');
    big_ok.extend_from_slice(b"\r\n");
    let mut dec = ResponseDecoder::new();
    assert_eq!(
        decode_replies(&mut dec, &[Expect::Sasl], &big_ok, &[usize::MAX]).unwrap_err(),
        DecodeError::LineTooLong { limit: 512 }
    );
}

// --- Greeting, listings, capabilities ----------------------------------------------

#[test]
fn apop_timestamp_from_greeting() {
    let s = StatusLine::parse(b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>").unwrap();
    assert_eq!(
        apop_timestamp(s.text),
        Some(&b"<1896.697170952@dbc.mtview.ca.us>"[..])
    );
    // Any printable timestamp, `@` or not (poplib's and K-9's test servers).
    assert_eq!(
        apop_timestamp(b"ready <no-at-sign>"),
        Some(&b"<no-at-sign>"[..])
    );
    assert_eq!(apop_timestamp(b"ready <@c>"), Some(&b"<@c>"[..]));
    assert_eq!(apop_timestamp(b"abc<a>abcd"), Some(&b"<a>"[..]));
    assert_eq!(apop_timestamp(b"ready <a b@c>"), None);
    assert_eq!(apop_timestamp(b"ready <>"), None);
    assert_eq!(apop_timestamp(b"ready <a\xff@c>"), None);
    assert_eq!(apop_timestamp(b"ready <a<b@c>"), None);
    // One per greeting.
    assert_eq!(apop_timestamp(b"<1.2@a> <3.4@b>"), None);
    assert_eq!(apop_timestamp(b"ready"), None);
    let long = [&b"<"[..], &[b'x'; 94], b">"].concat();
    assert_eq!(apop_timestamp(&long), Some(&long[..]));
    let too_long = [&b"<"[..], &[b'x'; 95], b">"].concat();
    assert_eq!(apop_timestamp(&too_long), None);
}

#[test]
fn stat_list_uidl_lang_lines() {
    assert_eq!(
        Stat::parse(b"2 320"),
        Ok(Stat {
            count: 2,
            size: 320
        })
    );
    assert_eq!(
        Stat::parse(b"2 320 extra"),
        Ok(Stat {
            count: 2,
            size: 320
        })
    );
    assert!(Stat::parse(b"two 320").is_err());
    assert_eq!(
        ListEntry::parse(b"1 120"),
        Ok(ListEntry { msg: 1, size: 120 })
    );
    assert_eq!(
        ListEntry::parse(b"3  5000000000 ignored"),
        Ok(ListEntry {
            msg: 3,
            size: 5_000_000_000
        })
    );
    assert!(ListEntry::parse(b"1").is_err());
    // thunderbird-android#323: several spaces before the uid.
    assert_eq!(
        UidlEntry::parse(b"1   whqtswO00WBw418f9t5JxYwZ"),
        Ok(UidlEntry {
            msg: 1,
            uid: b"whqtswO00WBw418f9t5JxYwZ"
        })
    );
    assert!(UidlEntry::parse(b"1").is_err());
    assert_eq!(
        LangEntry::parse(b"en English"),
        Ok(LangEntry {
            tag: b"en",
            description: b"English"
        })
    );
    let mut out = [0u8; 100];
    let n = UidlEntry {
        msg: 7,
        uid: b"00000001abc",
    }
    .encode_line(&mut out)
    .unwrap();
    assert_eq!(&out[..n], b"7 00000001abc\r\n");
    assert_eq!(
        UidlEntry {
            msg: 7,
            uid: b"has space"
        }
        .encode_line(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    assert_eq!(
        UidlEntry {
            msg: 7,
            uid: &[b'a'; 71]
        }
        .encode_line(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    let n = ListEntry { msg: 2, size: 200 }
        .encode_line(&mut out)
        .unwrap();
    assert_eq!(&out[..n], b"2 200\r\n");
    let n = Stat {
        count: 2,
        size: 320,
    }
    .encode_text(&mut out)
    .unwrap();
    assert_eq!(&out[..n], b"2 320");
}

#[test]
fn capabilities_parse_with_open_lists() {
    let sasl = Capability::parse(b"SASL PLAIN X-GOOGLE-TOKEN oauthbearer");
    let Capability::Sasl(list) = sasl else {
        panic!("{sasl:?}")
    };
    assert_eq!(
        list.iter().collect::<Vec<_>>(),
        ["PLAIN", "X-GOOGLE-TOKEN", "oauthbearer"]
    );
    assert!(list.contains("OAUTHBEARER"));
    assert!(!list.contains("LOGIN"));
    assert_eq!(Capability::parse(b"top"), Capability::Top);
    assert_eq!(
        Capability::parse(b"LOGIN-DELAY 900 USER"),
        Capability::LoginDelay {
            seconds: 900,
            per_user: true
        }
    );
    assert_eq!(
        Capability::parse(b"EXPIRE NEVER"),
        Capability::Expire {
            policy: Expire::Never,
            per_user: false
        }
    );
    assert_eq!(
        Capability::parse(b"EXPIRE 0"),
        Capability::Expire {
            policy: Expire::Days(0),
            per_user: false
        }
    );
    assert_eq!(
        Capability::parse(b"IMPLEMENTATION Shlemazle-Plotz-v302"),
        Capability::Implementation(b"Shlemazle-Plotz-v302")
    );
    assert_eq!(
        Capability::parse(b"UTF8 USER"),
        Capability::Utf8 { user: true }
    );
    assert_eq!(
        Capability::parse(b"X-GOOGLE-RICO"),
        Capability::Other {
            tag: b"X-GOOGLE-RICO",
            params: b""
        }
    );
    assert_eq!(
        Capability::parse(b"LOGIN-DELAY soon"),
        Capability::Other {
            tag: b"LOGIN-DELAY",
            params: b"soon"
        }
    );
    let mut out = [0u8; 64];
    let n = Capability::LoginDelay {
        seconds: 300,
        per_user: true,
    }
    .encode_line(&mut out)
    .unwrap();
    assert_eq!(&out[..n], b"LOGIN-DELAY 300 USER\r\n");
}

// --- Commands -------------------------------------------------------------------

#[test]
fn commands_are_case_insensitive_and_tolerate_trailing_space() {
    assert_eq!(Command::parse(b"stat"), Ok(Command::Stat));
    assert_eq!(Command::parse(b"LiSt 2"), Ok(Command::List(Some(2))));
    assert_eq!(Command::parse(b"LIST "), Ok(Command::List(None)));
    assert_eq!(
        Command::parse(b"top 1 0"),
        Ok(Command::Top { msg: 1, lines: 0 })
    );
    assert_eq!(Command::parse(b"RETR 0"), Ok(Command::Retr(0)));
    assert_eq!(Command::parse(b"uidl"), Ok(Command::Uidl(None)));
    assert_eq!(Command::parse(b"LANG *"), Ok(Command::Lang(Some(b"*"))));
    assert_eq!(
        Command::parse(b"auth plain dGVzdAB0ZXN0AHRlc3Q="),
        Ok(Command::Auth {
            mechanism: Some("plain"),
            initial_response: Some(b"dGVzdAB0ZXN0AHRlc3Q=")
        })
    );
    assert_eq!(
        Command::parse(b"AUTH"),
        Ok(Command::Auth {
            mechanism: None,
            initial_response: None
        })
    );
}

#[test]
fn pass_keeps_spaces() {
    assert_eq!(
        Command::parse(b"PASS my secret "),
        Ok(Command::Pass(b"my secret "))
    );
    assert_eq!(Command::parse(b"PASS  lead"), Ok(Command::Pass(b" lead")));
    let mut out = [0u8; 64];
    let n = Command::Pass(b"my secret ").encode(&mut out).unwrap();
    assert_eq!(&out[..n], b"PASS my secret \r\n");
}

#[test]
fn command_errors() {
    let e = |line: &[u8]| Command::parse(line).unwrap_err();
    assert_eq!(e(b""), CommandError::Empty);
    assert_eq!(e(b"XYZZY"), CommandError::UnknownCommand);
    assert_eq!(e(b"RETR"), CommandError::MissingArgument);
    assert_eq!(e(b"RETR x"), CommandError::InvalidNumber);
    assert_eq!(e(b"RETR -1"), CommandError::InvalidNumber);
    assert_eq!(e(b"RETR 99999999999"), CommandError::InvalidNumber);
    assert_eq!(e(b"RETR 1 2"), CommandError::TooManyArguments);
    assert_eq!(e(b"TOP 1"), CommandError::MissingArgument);
    assert_eq!(e(b"TOP 1 -1"), CommandError::InvalidNumber);
    assert_eq!(e(b"TOP 1 +1"), CommandError::InvalidNumber);
    assert_eq!(e(b"TOP 99999999999 1"), CommandError::InvalidNumber);
    // RFC 1939 bounds no line count: a larger one than u32::MAX means "all".
    assert_eq!(
        Command::parse(b"TOP 1 99999999999999999999"),
        Ok(Command::Top {
            msg: 1,
            lines: u32::MAX
        })
    );
    assert_eq!(e(b"PASS"), CommandError::MissingArgument);
    assert_eq!(e(b"USER a\x01b"), CommandError::InvalidArgument);
    assert_eq!(e(b"AUTH PL@IN"), CommandError::InvalidArgument);
    assert_eq!(
        e(b"AUTH ABCDEFGHIJKLMNOPQRSTU"),
        CommandError::InvalidArgument
    );
    assert_eq!(e(b"STAT now"), CommandError::TooManyArguments);
}

#[test]
fn command_injection_is_refused_on_encode() {
    let mut out = [0u8; 300];
    assert_eq!(
        Command::User(b"bob\r\nDELE 1").encode(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    assert_eq!(
        Command::Pass(b"x\ny").encode(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    assert_eq!(
        Command::Pass(b"x\0y").encode(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    assert_eq!(
        Command::User(b"").encode(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    assert_eq!(
        Command::User(b"a b").encode(&mut out),
        Err(EncodeError::InvalidArgument)
    );
    assert_eq!(
        SaslResponse::Data(b"abc\r\n").encode(&mut out, 2048),
        Err(EncodeError::InvalidArgument)
    );
}

#[test]
fn command_length_limit_is_255_octets() {
    let mut out = [0u8; 600];
    let ir = vec![b'A'; 255 - "AUTH PLAIN \r\n".len()];
    let ok = Command::Auth {
        mechanism: Some("PLAIN"),
        initial_response: Some(&ir),
    };
    assert_eq!(ok.encode(&mut out), Ok(255));
    let ir = vec![b'A'; 256 - "AUTH PLAIN \r\n".len()];
    let long = Command::Auth {
        mechanism: Some("PLAIN"),
        initial_response: Some(&ir),
    };
    assert_eq!(
        long.encode(&mut out),
        Err(EncodeError::LineTooLong {
            limit: MAX_COMMAND_LINE
        })
    );
}

#[test]
fn command_decoder_discards_over_long_lines_and_goes_on() {
    let mut wire = b"NOOP\r\nUSER ".to_vec();
    wire.extend(std::iter::repeat_n(b'a', 1000));
    wire.extend_from_slice(b"\r\nstat\nQUIT\r\n");
    for piece in [1, 7, 64, 4096] {
        assert_eq!(
            decode_commands(&wire, &[piece]),
            vec![
                Line::Command("Noop".into()),
                Line::Error(CommandError::LineTooLong),
                Line::Command("Stat".into()),
                Line::Command("Quit".into()),
            ],
            "pieces of {piece}"
        );
    }
    // Exactly 255 octets with CRLF is accepted; 256 is not.
    let user = |n: usize| {
        let mut l = b"USER ".to_vec();
        l.resize(n - 2, b'u');
        l.extend_from_slice(b"\r\n");
        l
    };
    assert!(matches!(
        decode_commands(&user(255), &[1000])[0],
        Line::Command(_)
    ));
    assert_eq!(
        decode_commands(&user(256), &[1000]),
        vec![Line::Error(CommandError::LineTooLong)]
    );
}

#[test]
fn sasl_lines_and_cancel() {
    assert_eq!(SaslResponse::parse(b"*"), SaslResponse::Cancel);
    assert_eq!(SaslResponse::parse(b""), SaslResponse::Data(b""));
    assert_eq!(
        SaslResponse::parse(b"dGVzdA== "),
        SaslResponse::Data(b"dGVzdA==")
    );
    let lines = decode_commands(
        b"AUTH PLAIN\r\ndGVzdAB0ZXN0AHRlc3Q=\r\nAUTH LOGIN\r\n*\r\nQUIT\r\n",
        &[3],
    );
    assert_eq!(
        lines,
        vec![
            Line::Command("Auth { mechanism: Some(\"PLAIN\"), initial_response: None }".into()),
            Line::Sasl(Some(b"dGVzdAB0ZXN0AHRlc3Q=".to_vec())),
            Line::Sasl(Some(b"AUTH LOGIN".to_vec())),
            Line::Sasl(None),
            Line::Command("Quit".into()),
        ]
    );
    let mut out = [0u8; 8];
    assert_eq!(SaslResponse::Cancel.encode(&mut out, 2048), Ok(3));
    assert_eq!(&out[..3], b"*\r\n");
}
