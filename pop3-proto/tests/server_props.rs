//! Random client command sequences against the server: never a panic, never an
//! answer-API misuse, and the output always decodes as exactly one well-formed reply
//! per command (until the server closes).

mod common;

use common::app::{drive, App};
use common::{decode_replies, Ev};
use pop3_proto::server::{Server, ServerConfig};
use pop3_proto::time::Instant;
use pop3_proto::{Command, Expect, ResponseDecoder};
use proptest::prelude::*;

fn line() -> impl Strategy<Value = Vec<u8>> {
    let word = prop::sample::select(vec![
        "USER alice",
        "USER bob",
        "PASS wonder land",
        "PASS x",
        "APOP alice 0123",
        "STAT",
        "LIST",
        "LIST 1",
        "LIST 0",
        "LIST 9",
        "UIDL",
        "UIDL 2",
        "RETR 1",
        "RETR 2",
        "RETR 3",
        "RETR 4",
        "TOP 1 0",
        "TOP 2 1",
        "TOP 3 99",
        "DELE 1",
        "DELE 2",
        "DELE 1",
        "NOOP",
        "RSET",
        "CAPA",
        "LANG",
        "LANG en",
        "LANG xx",
        "UTF8",
        "stat",
        "list 1 2",
        "FOO",
        "",
        "RETR",
        "TOP 1",
        "PASS",
        "QUIT",
    ]);
    prop_oneof![
        8 => word.prop_map(|w| w.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_sessions_get_one_well_formed_reply_per_command(
        lines in prop::collection::vec(line(), 1..40),
        piece in 1usize..50,
        max_bad in 1u32..20,
    ) {
        let mut config = ServerConfig::new("pop.example.org");
        config.mechanisms = pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
        config.allow_plaintext_auth = true;
        config.auth_failure_delay_ms = 0;
        config.max_bad_commands = max_bad;
        let mut server = Server::new(config, Instant::from_millis(0), [5; 32]);
        let mut app = App::demo();
        let mut input = Vec::new();
        for l in &lines {
            input.extend_from_slice(l);
            input.extend_from_slice(b"\r\n");
        }
        let out = drive(&mut server, &mut app, &input, piece, Instant::from_millis(1));
        // The greeting, then one reply per line; a line the server cannot parse gets
        // a status line.
        let mut expects = vec![Expect::Status];
        for l in &lines {
            if l.len() + 2 > 255 {
                expects.push(Expect::Status);
                continue;
            }
            expects.push(Command::parse(l).map_or(Expect::Status, |c| c.expect()));
        }
        let (events, rest) = decode_replies(&mut ResponseDecoder::new(), &expects, &out, &[usize::MAX])
            .map_err(|e| TestCaseError::fail(format!("{e:?} in {}", String::from_utf8_lossy(&out))))?;
        prop_assert!(rest.is_empty(), "trailing bytes: {:?}", String::from_utf8_lossy(&rest));
        let replies = events.iter().filter(|e| matches!(e, Ev::Status { .. })).count();
        if server.is_closed() {
            prop_assert!(replies <= expects.len());
        } else {
            prop_assert_eq!(replies, expects.len(), "{}", String::from_utf8_lossy(&out));
        }
        // UPDATE happened only if QUIT was sent while logged in, and removed only
        // messages that DELE marked.
        if let Some(deleted) = &app.updated {
            prop_assert!(lines.iter().any(|l| l == b"QUIT"));
            prop_assert!(deleted.iter().all(|m| *m == 1 || *m == 2));
        }
    }
}
