//! Prints the sizes of the state machines as compiled for a Cortex-M4F
//! (`thumbv7em-none-eabihf`), and keeps them within a budget. The sizes come from
//! rustc itself (`-Zprint-type-sizes`), so they are exact for that target.
//!
//! Needs the thumbv7em-none-eabihf target of the toolchain in use (`.ci/test` installs
//! it); a missing target fails the test rather than skipping it. `-Z` flags are
//! unstable: `RUSTC_BOOTSTRAP=1` unlocks them on the stable compiler for this one
//! build, so no nightly toolchain is needed.

use std::process::Command;

/// (type as rustc prints it, budget in bytes). rustc prints the path where a type
/// is defined, not where it is re-exported: `client::Client` is defined in
/// `client/machine.rs`.
const TYPES: [(&str, usize); 6] = [
    ("client::machine::Client", 1024 + 512),
    ("server::machine::Server", 5 * 1024 + 512),
    ("codec::client::ResponseDecoder", 16),
    ("codec::server::CommandDecoder", 16),
    ("codec::body::BodyDecoder", 4),
    ("codec::body::BodyEncoder", 4),
];

fn cargo_sizes(args: &[&str]) -> std::process::Output {
    let root = env!("CARGO_MANIFEST_DIR");
    let target_dir = format!("{root}/target/type-sizes");
    let mut all = args.to_vec();
    all.extend_from_slice(&[
        "--release",
        "--target",
        "thumbv7em-none-eabihf",
        "--target-dir",
        &target_dir,
    ]);
    let (cargo_args, rustc_args) = match args[0] {
        "rustc" => (all, vec!["--", "-Zprint-type-sizes"]),
        _ => (all, vec![]),
    };
    let output = Command::new("cargo")
        .args(cargo_args)
        .args(rustc_args)
        .current_dir(root)
        .env_remove("RUSTFLAGS")
        .env("RUSTC_BOOTSTRAP", "1")
        .output()
        .expect("cargo must be runnable");
    assert!(
        output.status.success(),
        "cargo {args:?} --target thumbv7em-none-eabihf failed (is the target installed? `rustup target add thumbv7em-none-eabihf`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn state_machine_sizes_on_thumbv7em() {
    // rustc prints the sizes only when it compiles the crate: clean it first.
    cargo_sizes(&["clean", "-p", "pop3-proto"]);
    let output = cargo_sizes(&["rustc", "--quiet", "-p", "pop3-proto", "--lib"]);
    let text = String::from_utf8_lossy(&output.stdout);
    println!("sizes on thumbv7em-none-eabihf (bytes):");
    for (name, budget) in TYPES {
        let prefix = format!("print-type-size type: `{name}`: ");
        let size: usize = text
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name} not in rustc's type sizes"));
        println!("  {name:<32} {size:>6}  (budget {budget})");
        assert!(
            size <= budget,
            "{name} is {size} bytes, over its budget of {budget}"
        );
    }
}
