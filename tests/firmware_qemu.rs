//! The Cortex-M3 firmware (firmware/) booted in QEMU (lm3s6965evb), talking POP3 over
//! its emulated UART to our pop3d on loopback. The largest message is more than ten
//! times the firmware's 512-byte receive buffer; every checksum the firmware reports
//! must match the source.
//!
//! Needs qemu-system-arm and the thumbv7m-none-eabi target (`.ci/run` installs both).

mod support;

use std::path::Path;
use std::process::Command;

use support::*;

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// What the firmware receives for a stored message: CRLF line ends.
fn on_the_wire(m: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in m {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn firmware_messages() -> Vec<Vec<u8>> {
    let mut big = b"Subject: big\n\n".to_vec();
    let mut i = 0u32;
    while big.len() < 8 * 1024 {
        big.extend_from_slice(format!("{i:05} .{}\n", "z".repeat(60)).as_bytes());
        i += 1;
    }
    vec![
        b"Subject: hello\n\nfrom the firmware test\n".to_vec(),
        b"Subject: dots\n\n.one\n..two\n.\nend\n".to_vec(),
        big,
    ]
}

/// What one firmware build measured.
struct Footprint {
    flash: u64,
    text: u64,
    static_ram: u64,
    stack: u64,
}

/// Builds the firmware with `features` into its own target directory, boots it in
/// QEMU against pop3d, checks every message it reports, and measures it.
fn run_firmware(features: &str) -> Footprint {
    require("qemu-system-arm");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fw_dir = root.join("firmware");
    let variant = if features.is_empty() {
        "user-pass"
    } else {
        features
    };
    let target_dir = fw_dir.join("target").join(variant);
    let build = Command::new("cargo")
        .args(["build", "--release", "--quiet", "--features", features])
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(&fw_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap();
    assert!(build.success(), "firmware build ({variant}) failed");
    let elf = target_dir.join("thumbv7m-none-eabi/release/pop3-firmware");
    let messages = firmware_messages();
    assert!(messages.iter().map(|m| m.len()).max().unwrap() > 10 * 512);
    // pop3d with the firmware's credentials.
    let dir = temp_dir(&format!("firmware-{variant}"));
    fill_maildir(&dir.join("root").join("fw"), &messages);
    std::fs::write(dir.join("users"), "fw:fw pass\n").unwrap();
    let port = free_port();
    let _pop3d = Running(spawn_pop3d(&dir, port, &["--allow-plaintext-auth"]));
    let out = Command::new("timeout")
        .args([
            "120",
            "qemu-system-arm",
            "-M",
            "lm3s6965evb",
            "-cpu",
            "cortex-m3",
            "-display",
            "none",
            "-monitor",
            "none",
        ])
        .args([
            "-semihosting-config",
            "enable=on,target=native",
            "-serial",
            &format!("tcp:127.0.0.1:{port}"),
            "-kernel",
        ])
        .arg(&elf)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{variant}:\n{stdout}");
    assert!(
        out.status.success(),
        "firmware ({variant}) failed ({:?}):\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().any(|l| l == format!("login {variant}")),
        "{stdout}"
    );
    let reported: Vec<(u64, String)> = stdout
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() == 6 && f[0] == "msg").then(|| (f[3].parse().unwrap(), f[5].to_string()))
        })
        .collect();
    let expected: Vec<(u64, String)> = messages
        .iter()
        .map(|m| {
            let wire = on_the_wire(m);
            (wire.len() as u64, format!("{:08x}", crc32(&wire)))
        })
        .collect();
    assert_eq!(reported, expected);
    assert!(stdout.lines().any(|l| l == "ok"), "{stdout}");

    // Flash and RAM, as the README records them.
    let size = Command::new("size")
        .arg("-A")
        .arg(&elf)
        .output()
        .expect("binutils `size`");
    let sections = String::from_utf8_lossy(&size.stdout).into_owned();
    let section = |name: &str| -> u64 {
        sections
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.first() == Some(&name)).then(|| f[1].parse().unwrap())
            })
            .unwrap_or(0)
    };
    let footprint = Footprint {
        flash: section(".vector_table") + section(".text") + section(".rodata") + section(".data"),
        text: section(".text"),
        static_ram: section(".data") + section(".bss") + section(".uninit"),
        stack: stdout
            .lines()
            .find_map(|l| l.strip_prefix("ram stack-used "))
            .and_then(|s| s.parse().ok())
            .expect("the firmware reports its stack high-water mark"),
    };
    println!(
        "firmware {variant}: flash {} bytes (.text {}), RAM {} bytes static + {} bytes stack high-water",
        footprint.flash, footprint.text, footprint.static_ram, footprint.stack
    );
    footprint
}

/// USER/PASS only (pop3-proto without default features): no SASL, APOP or hash
/// code is linked. Budgets: `.text` at most 16 KiB, stack at most 4 KiB.
#[test]
fn firmware_fetches_mail_over_the_uart() {
    let f = run_firmware("");
    assert!(f.text <= 16 * 1024, ".text grew to {}", f.text);
    assert!(f.stack <= 4 * 1024, "stack high-water grew to {}", f.stack);
    assert!(
        f.static_ram + f.stack < 8 * 1024,
        "RAM grew to {}",
        f.static_ram + f.stack
    );
}

/// The same firmware logging in with SCRAM-SHA-256 (feature `scram`: SHA-1 and
/// SHA-256, HMAC, PBKDF2 and base64 linked in). Budgets: `.text` at most 34 KiB,
/// stack at most 10 KiB (PBKDF2 and the SCRAM messages).
#[test]
fn firmware_logs_in_with_scram_sha_256() {
    let f = run_firmware("scram");
    assert!(f.text <= 34 * 1024, ".text grew to {}", f.text);
    assert!(f.stack <= 10 * 1024, "stack high-water grew to {}", f.stack);
}
