//! pop3fetch's per-account UID journal (examples/common/fetch_state.rs) on its own:
//! what a crash, a damaged line or another account's file does to it.

#[path = "../examples/common/fetch_state.rs"]
mod fetch_state;
mod support;

use std::fs;

use fetch_state::{path_for, Account, Delivered, State};
use support::temp_dir;

fn account(user: &str, port: u16) -> Account {
    Account {
        user: user.into(),
        host: "Mail.Example.org".into(),
        port,
        name: None,
    }
}

fn record(uid: &str, size: u64) -> (Vec<u8>, Delivered) {
    (
        uid.as_bytes().to_vec(),
        Delivered {
            size: Some(size),
            at: 1_767_225_600,
        },
    )
}

#[test]
fn records_survive_a_reopen_and_a_partial_line_is_cut_off() {
    let dir = temp_dir("state-partial");
    let a = account("alice", 995);
    let mut s = State::open(&dir, &a).unwrap();
    s.append(&[record("uid-1", 10), record("uid 2\n", 20)])
        .unwrap();
    drop(s);
    // A crash in the middle of the next append: the line has no newline.
    let path = path_for(&dir, &a);
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(b"D uid-");
    fs::write(&path, &bytes).unwrap();
    let mut s = State::open(&dir, &a).unwrap();
    assert!(s.repaired);
    assert_eq!(s.len(), 2);
    assert!(s.has(b"uid-1", Some(10)));
    assert!(s.has(b"uid 2\n", None), "any bytes round-trip");
    assert!(!s.has(b"uid-", None), "a partial line is never a UID");
    // Appending after the cut gives a clean file.
    s.append(&[record("uid-3", 30)]).unwrap();
    drop(s);
    let s = State::open(&dir, &a).unwrap();
    assert!(!s.repaired && s.ignored == 0);
    assert!(s.has(b"uid-3", Some(30)));
    assert!(!s.has(b"uid-", None));
}

#[test]
fn a_damaged_line_is_ignored_and_a_reused_uid_of_another_size_is_not_the_same() {
    let dir = temp_dir("state-damaged");
    let a = account("alice", 110);
    let mut s = State::open(&dir, &a).unwrap();
    s.append(&[record("uid-1", 10), record("uid-2", 20)])
        .unwrap();
    drop(s);
    let path = path_for(&dir, &a);
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("D uid-2", "D uid-9");
    fs::write(&path, text).unwrap();
    let s = State::open(&dir, &a).unwrap();
    assert_eq!(s.ignored, 1);
    assert!(!s.has(b"uid-9", None) && !s.has(b"uid-2", None));
    assert!(s.has(b"uid-1", Some(10)));
    assert!(!s.has(b"uid-1", Some(11)), "same UID, another size");
}

#[test]
fn accounts_have_files_of_their_own_and_never_read_each_other() {
    let dir = temp_dir("state-accounts");
    let (a, b) = (account("alice", 110), account("alice", 995));
    assert_ne!(path_for(&dir, &a), path_for(&dir, &b));
    assert_eq!(
        path_for(&dir, &a),
        path_for(
            &dir,
            &Account {
                host: "mail.example.ORG".into(),
                ..a.clone()
            }
        ),
        "host names are case-insensitive"
    );
    let mut s = State::open(&dir, &a).unwrap();
    s.append(&[record("1", 10)]).unwrap();
    drop(s);
    let s = State::open(&dir, &b).unwrap();
    assert_eq!(s.len(), 0);
    drop(s);
    // Another account's file put in its place is refused, not read.
    fs::copy(path_for(&dir, &a), path_for(&dir, &b)).unwrap();
    let e = State::open(&dir, &b).err().expect("refused");
    assert!(e.to_string().contains("another account"), "{e}");
    // A name given to the account replaces user@host:port.
    let named = Account {
        name: Some("work".into()),
        ..b
    };
    assert!(path_for(&dir, &named)
        .to_string_lossy()
        .ends_with(".pop3fetch-state-work"));
}

#[test]
fn retain_rewrites_the_file_atomically() {
    let dir = temp_dir("state-retain");
    let a = account("bob", 110);
    let mut s = State::open(&dir, &a).unwrap();
    s.append(&[record("1", 1), record("2", 2), record("3", 3)])
        .unwrap();
    s.record_login(1_767_225_600, 900).unwrap();
    assert_eq!(s.retain(|u| u != b"2").unwrap(), 1);
    s.append(&[record("4", 4)]).unwrap();
    drop(s);
    let s = State::open(&dir, &a).unwrap();
    assert_eq!(s.len(), 3);
    assert!(s.has(b"1", None) && !s.has(b"2", None) && s.has(b"4", None));
    assert_eq!(s.last_login, Some((1_767_225_600, 900)));
    // The state file and its run lock, no temporary file.
    let mut leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        [
            ".pop3fetch-state-bob@mail.example.org:110",
            ".pop3fetch-state-bob@mail.example.org:110.lock"
        ]
    );
}

/// The state is the account's run lock: while one is open, a second open of the
/// same account fails with `WouldBlock` naming this process; once dropped, it opens.
#[test]
fn an_open_state_locks_the_account() {
    let dir = temp_dir("state-lock");
    let a = account("carol", 995);
    let s = State::open(&dir, &a).unwrap();
    let second = State::open(&dir, &a).err().expect("opened twice");
    assert_eq!(second.kind(), std::io::ErrorKind::WouldBlock);
    assert_eq!(
        second.to_string(),
        format!(
            "another pop3fetch (process {}) is fetching this account",
            std::process::id()
        )
    );
    drop(s);
    State::open(&dir, &a).unwrap();
}
