//! The embedded-io-async adapter on smol, through embedded-io-adapters' `futures-03`
//! wrapper (`examples/smol_fetch.rs`), fetches every message from pop3d: a runtime
//! without an adapter of its own needs none.

mod support;

use std::process::Command;

use support::*;

#[test]
fn smol_fetch_retrieves_every_message_from_pop3d() {
    let p = start_pop3d(&messages(), &["--allow-plaintext-auth"]);
    let out = Command::new("timeout")
        .arg("60")
        .arg(example("smol_fetch"))
        .arg(format!("127.0.0.1:{}", p.port))
        .arg("carol")
        .env("POP3_PASSWORD", "pw of carol")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "smol_fetch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: String = messages()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let crlf = m.len() + m.iter().filter(|b| **b == b'\n').count();
            format!("{} {crlf}\n", i + 1)
        })
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}
