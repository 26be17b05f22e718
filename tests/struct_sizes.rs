//! Prints the sizes of the state machines as compiled for a Cortex-M4F
//! (`thumbv7em-none-eabihf`), and keeps them within a budget. The sizes come from
//! rustc itself (`-Zprint-type-sizes`, nightly), so they are exact for that target.
//!
//! Needs the nightly toolchain with the thumbv7em-none-eabihf target (`.ci/run`
//! installs both); a missing toolchain fails the test rather than skipping it.

use std::process::Command;

/// (type as rustc prints it, budget in bytes)
const TYPES: [(&str, usize); 6] = [
    ("client::Client", 5 * 1024 + 512),
    ("server::Server", 6 * 1024 + 512),
    ("codec::client::ResponseDecoder", 16),
    ("codec::server::CommandDecoder", 16),
    ("codec::body::BodyDecoder", 4),
    ("codec::body::BodyEncoder", 4),
];

fn cargo_nightly(args: &[&str]) -> std::process::Output {
    let root = env!("CARGO_MANIFEST_DIR");
    let target_dir = format!("{root}/target/type-sizes");
    let mut all = vec!["+nightly"];
    all.extend_from_slice(args);
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
        .output()
        .expect("cargo +nightly must be runnable");
    assert!(
        output.status.success(),
        "cargo +nightly {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn state_machine_sizes_on_thumbv7em() {
    // rustc prints the sizes only when it compiles the crate: clean it first.
    cargo_nightly(&["clean", "-p", "pop3-proto"]);
    let output = cargo_nightly(&["rustc", "--quiet", "-p", "pop3-proto", "--lib"]);
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
