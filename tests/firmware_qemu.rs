//! The Cortex-M3 firmware (firmware/) booted in QEMU (lm3s6965evb), talking POP3 over
//! its emulated UART to real servers on loopback: our pop3d in clear (USER/PASS and
//! SCRAM builds), and with feature `tls` pop3d and Dovecot over TLS 1.3 (implicit TLS
//! and STLS, the server's certificate checked against a test CA handed over by
//! semihosting). The largest message is more than ten times the firmware's 512-byte
//! receive buffer; every length and checksum the firmware reports must match the
//! source. Every QEMU run is bounded in time; each build's footprint is budgeted.
//!
//! Needs qemu-system-arm, Dovecot, openssl and the thumbv7m-none-eabi target
//! (`.ci/test` installs them).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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

/// Builds the firmware with `features` into its own target directory (`env`: the
/// credentials it carries); returns the ELF.
fn build_firmware(features: &str, env: &[(&str, &str)]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fw_dir = root.join("firmware");
    let target_dir = fw_dir.join("target").join(variant_name(features));
    let build = Command::new("cargo")
        .args(["build", "--release", "--quiet", "--features", features])
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(&fw_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .envs(env.iter().copied())
        .status()
        .unwrap();
    assert!(build.success(), "firmware build ({features}) failed");
    target_dir.join("thumbv7m-none-eabi/release/pop3-firmware")
}

fn variant_name(features: &str) -> &str {
    if features.is_empty() {
        "user-pass"
    } else {
        features
    }
}

/// One boot of the firmware in QEMU, its UART connected to `port` on loopback and
/// its semihosting files read from `cwd`; bounded: QEMU is killed after 120 s, and
/// a run must end within `limit`.
struct Boot {
    success: bool,
    stdout: String,
    stderr: String,
    /// stdout as QEMU wrote it (defmt frames, for feature `defmt`).
    raw: Vec<u8>,
}

fn boot(elf: &Path, port: u16, cwd: &Path, limit: Duration) -> Boot {
    require("qemu-system-arm");
    let start = Instant::now();
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
        .arg(elf)
        .current_dir(cwd)
        .output()
        .unwrap();
    let took = start.elapsed();
    let boot = Boot {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        raw: out.stdout,
    };
    assert!(
        took < limit,
        "the firmware ran {took:?} (limit {limit:?}):\n{}{}",
        boot.stdout,
        boot.stderr
    );
    boot
}

/// Every message the firmware reports (length and CRC-32) matches the source, in
/// order, and it ended with `ok` and exit code 0.
fn check_fetch(boot: &Boot, what: &str, messages: &[Vec<u8>]) {
    println!("{what}:\n{}", boot.stdout);
    assert!(
        boot.success,
        "firmware ({what}) failed:\n{}{}",
        boot.stdout, boot.stderr
    );
    let reported: Vec<(u64, String)> = boot
        .stdout
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
    assert_eq!(reported, expected, "{what}");
    assert!(boot.stdout.lines().any(|l| l == "ok"), "{}", boot.stdout);
}

/// Flash and RAM, as the README records them.
fn footprint(elf: &Path, stdout: &str, variant: &str) -> Footprint {
    let size = Command::new("size")
        .arg("-A")
        .arg(elf)
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

/// Builds the firmware with `features`, boots it in QEMU against pop3d, checks
/// every message it reports, and measures it.
fn run_firmware(features: &str) -> Footprint {
    let variant = variant_name(features);
    let elf = build_firmware(features, &[]);
    let messages = firmware_messages();
    assert!(messages.iter().map(|m| m.len()).max().unwrap() > 10 * 512);
    // pop3d with the firmware's credentials.
    let dir = temp_dir(&format!("firmware-{variant}"));
    fill_maildir(&dir.join("root").join("fw"), &messages);
    std::fs::write(dir.join("users"), "fw:fw pass\n").unwrap();
    let port = free_port();
    let _pop3d = Running(spawn_pop3d(&dir, port, &["--allow-plaintext-auth"]));
    let boot = boot(&elf, port, &dir, Duration::from_secs(110));
    check_fetch(&boot, variant, &messages);
    assert!(
        boot.stdout.lines().any(|l| l == format!("login {variant}")),
        "{}",
        boot.stdout
    );
    footprint(&elf, &boot.stdout, variant)
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

/// The TLS build (feature `tls`), carrying Dovecot's test user: pop3d's mailbox for
/// it is set up with the same name and password.
fn tls_firmware() -> PathBuf {
    build_firmware(
        "tls",
        &[
            ("POP3_FW_USER", DOVECOT_USER),
            ("POP3_FW_PASSWORD", DOVECOT_PASSWORD),
        ],
    )
}

/// A directory with what the TLS firmware reads over semihosting: `ca.der` (the CA
/// `ca_pem` in DER), `seed.bin` (32 random bytes) and `mode` (`pop3s` or `stls`).
fn firmware_files(name: &str, ca_pem: &Path, mode: &str) -> PathBuf {
    use std::io::Read;
    let dir = temp_dir(name);
    let ok = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(ca_pem)
        .arg("-out")
        .arg(dir.join("ca.der"))
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl x509 -outform DER");
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut seed)
        .unwrap();
    std::fs::write(dir.join("seed.bin"), seed).unwrap();
    std::fs::write(dir.join("mode"), mode).unwrap();
    dir
}

/// pop3d with a test certificate over a mailbox of Dovecot's test user holding
/// `messages`: (server, certificate, STLS port, pop3s port).
fn pop3d_tls(messages: &[Vec<u8>]) -> (Running, TestCert, u16, u16) {
    let dir = temp_dir("firmware-pop3d-tls");
    fill_maildir(&dir.join("root").join(DOVECOT_USER), messages);
    std::fs::write(
        dir.join("users"),
        format!("{DOVECOT_USER}:{DOVECOT_PASSWORD}\n"),
    )
    .unwrap();
    let cert = test_cert(&dir);
    let (port, tls_port) = (free_port(), free_port());
    let child = Running(spawn_pop3d(
        &dir,
        port,
        &[
            "--tls-cert",
            cert.cert.to_str().unwrap(),
            "--tls-key",
            cert.key.to_str().unwrap(),
            "--listen-tls",
            &format!("127.0.0.1:{tls_port}"),
        ],
    ));
    wait_for_port(tls_port);
    (child, cert, port, tls_port)
}

/// One TLS fetch: the firmware in `mode` against `port`, every message checked, the
/// session encrypted from the start (pop3s) or after STLS.
fn tls_fetch(elf: &Path, what: &str, ca: &Path, mode: &str, port: u16) -> Boot {
    let messages = firmware_messages();
    let files = firmware_files(&format!("firmware-{what}"), ca, mode);
    let boot = boot(elf, port, &files, Duration::from_secs(110));
    check_fetch(&boot, what, &messages);
    let lines: Vec<&str> = boot.stdout.lines().collect();
    let tls_at = lines.iter().position(|l| *l == format!("tls {mode}"));
    let login_at = lines.iter().position(|l| *l == "login user-pass");
    assert!(
        matches!((tls_at, login_at), (Some(t), Some(l)) if t < l),
        "{what}: no TLS before the login:\n{}",
        boot.stdout
    );
    boot
}

/// Feature `tls`: implicit TLS (pop3s) and STLS, against pop3d (rustls) and Dovecot
/// (OpenSSL), the server's certificate checked against the test CA; every message's
/// length and CRC-32 checked. Budgets: 128 KiB flash, 48 KiB RAM in all (static and
/// stack high-water).
#[test]
fn firmware_fetches_over_tls_from_pop3d_and_dovecot() {
    let elf = tls_firmware();
    let messages = firmware_messages();
    let (_pop3d, cert, port, tls_port) = pop3d_tls(&messages);
    let dovecot = Dovecot::start(&messages);
    let runs = [
        ("tls-pop3d-pop3s", &cert.ca, "pop3s", tls_port),
        ("tls-pop3d-stls", &cert.ca, "stls", port),
        (
            "tls-dovecot-pop3s",
            &dovecot.cert.ca,
            "pop3s",
            dovecot.tls_port,
        ),
        ("tls-dovecot-stls", &dovecot.cert.ca, "stls", dovecot.port),
    ];
    for (what, ca, mode, port) in runs {
        let boot = tls_fetch(&elf, what, ca, mode, port);
        let f = footprint(&elf, &boot.stdout, what);
        assert!(f.flash <= 128 * 1024, "flash grew to {}", f.flash);
        assert!(
            f.static_ram + f.stack <= 48 * 1024,
            "{what}: RAM grew to {} ({} static + {} stack)",
            f.static_ram + f.stack,
            f.static_ram,
            f.stack
        );
    }
}

/// Feature `embassy`: the same TLS fetch as an async task on embassy's executor
/// (pop3-proto's `AsyncClientConn` and its by-value STLS upgrade step, embedded-tls's
/// async connection, a SysTick time driver), against pop3d and Dovecot in both
/// forms; every message's length and CRC-32 checked, and a wrong CA refused. Budgets
/// as for the blocking TLS build: 128 KiB flash, 48 KiB RAM in all (the task's
/// future is a static).
#[test]
fn firmware_embassy_fetches_over_tls() {
    let elf = build_firmware(
        "embassy",
        &[
            ("POP3_FW_USER", DOVECOT_USER),
            ("POP3_FW_PASSWORD", DOVECOT_PASSWORD),
        ],
    );
    let messages = firmware_messages();
    let (_pop3d, cert, port, tls_port) = pop3d_tls(&messages);
    let dovecot = Dovecot::start(&messages);
    let runs = [
        ("embassy-pop3d-pop3s", &cert.ca, "pop3s", tls_port),
        ("embassy-pop3d-stls", &cert.ca, "stls", port),
        (
            "embassy-dovecot-pop3s",
            &dovecot.cert.ca,
            "pop3s",
            dovecot.tls_port,
        ),
        (
            "embassy-dovecot-stls",
            &dovecot.cert.ca,
            "stls",
            dovecot.port,
        ),
    ];
    for (what, ca, mode, port) in runs {
        let boot = tls_fetch(&elf, what, ca, mode, port);
        let f = footprint(&elf, &boot.stdout, what);
        assert!(f.flash <= 128 * 1024, "flash grew to {}", f.flash);
        assert!(
            f.static_ram + f.stack <= 48 * 1024,
            "{what}: RAM grew to {} ({} static + {} stack)",
            f.static_ram + f.stack,
            f.static_ram,
            f.stack
        );
    }
    let other = test_cert(&temp_dir("firmware-embassy-other-ca"));
    let wrong_ca = "error tls: InvalidCertificate";
    tls_refused(
        &elf,
        "embassy-wrong-ca-pop3s",
        &other.ca,
        "pop3s",
        tls_port,
        wrong_ca,
    );
    tls_refused(
        &elf,
        "embassy-wrong-ca-stls",
        &other.ca,
        "stls",
        port,
        wrong_ca,
    );
}

/// pop3d on pop3s with a certificate for `mail.example.org` (not `localhost`, the
/// name the firmware expects) signed by the CA of `cert`: (server, that CA, port).
fn pop3d_wrong_name(cert: &TestCert, messages: &[Vec<u8>]) -> (Running, PathBuf, u16) {
    let ca_dir = cert.ca.parent().unwrap();
    let dir = temp_dir("firmware-wrong-name");
    let run = |args: String| {
        let ok = Command::new("sh")
            .arg("-c")
            .arg(format!("cd {} && openssl {args}", dir.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "openssl {args}");
    };
    run("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out leaf.csr -subj /CN=mail.example.org".into());
    std::fs::write(
        dir.join("leaf.ext"),
        // As support::test_cert's leaf but for the name: only the name differs.
        "subjectAltName=DNS:mail.example.org\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(format!(
        "x509 -req -in leaf.csr -CA {0}/ca.pem -CAkey {0}/ca.key -CAcreateserial -out cert.pem -days 2 -extfile leaf.ext",
        ca_dir.display()
    ));
    fill_maildir(&dir.join("root").join(DOVECOT_USER), messages);
    std::fs::write(
        dir.join("users"),
        format!("{DOVECOT_USER}:{DOVECOT_PASSWORD}\n"),
    )
    .unwrap();
    let (port, tls_port) = (free_port(), free_port());
    let child = Running(spawn_pop3d(
        &dir,
        port,
        &[
            "--tls-cert",
            dir.join("cert.pem").to_str().unwrap(),
            "--tls-key",
            dir.join("key.pem").to_str().unwrap(),
            "--listen-tls",
            &format!("127.0.0.1:{tls_port}"),
        ],
    ));
    wait_for_port(tls_port);
    (child, cert.ca.clone(), tls_port)
}

/// A failed TLS run: exit code 1 and exactly `error` as the firmware's last line,
/// no message fetched, within 60 s (never a hang).
fn tls_refused(elf: &Path, what: &str, ca: &Path, mode: &str, port: u16, error: &str) {
    let files = firmware_files(&format!("firmware-{what}"), ca, mode);
    let boot = boot(elf, port, &files, Duration::from_secs(60));
    println!("{what}:\n{}", boot.stdout);
    assert!(
        !boot.success,
        "{what}: the firmware succeeded:\n{}",
        boot.stdout
    );
    assert_eq!(boot.stdout.lines().last(), Some(error), "{what}");
    assert!(
        !boot
            .stdout
            .lines()
            .any(|l| l.starts_with("msg ") || l.starts_with("login ")),
        "{what}:\n{}",
        boot.stdout
    );
}

/// The TLS firmware refuses what it must: a server certificate from another CA
/// (pop3s and STLS, pop3d and Dovecot) or for another host name, a server that does
/// not offer STLS, and a plaintext POP3 port where it expects pop3s; each ends with
/// its error.
#[test]
fn firmware_tls_refuses_wrong_ca_missing_stls_and_plaintext() {
    let elf = tls_firmware();
    let messages = firmware_messages();
    let (_pop3d, cert, port, tls_port) = pop3d_tls(&messages);
    let other = test_cert(&temp_dir("firmware-other-ca"));
    let wrong_ca = "error tls: InvalidCertificate";
    tls_refused(
        &elf,
        "wrong-ca-pop3d-pop3s",
        &other.ca,
        "pop3s",
        tls_port,
        wrong_ca,
    );
    tls_refused(
        &elf,
        "wrong-ca-pop3d-stls",
        &other.ca,
        "stls",
        port,
        wrong_ca,
    );
    let dovecot = Dovecot::start(&messages);
    tls_refused(
        &elf,
        "wrong-ca-dovecot-pop3s",
        &other.ca,
        "pop3s",
        dovecot.tls_port,
        wrong_ca,
    );
    tls_refused(
        &elf,
        "wrong-ca-dovecot-stls",
        &other.ca,
        "stls",
        dovecot.port,
        wrong_ca,
    );
    // The right CA, but a certificate for another name than `localhost`.
    let (_other_name, ca, other_name_port) = pop3d_wrong_name(&cert, &messages);
    tls_refused(
        &elf,
        "wrong-name-pop3d-pop3s",
        &ca,
        "pop3s",
        other_name_port,
        wrong_ca,
    );
    // pop3d without a certificate: no STLS in its CAPA, and a plaintext-only port.
    let dir = temp_dir("firmware-plain");
    fill_maildir(&dir.join("root").join(DOVECOT_USER), &messages);
    std::fs::write(
        dir.join("users"),
        format!("{DOVECOT_USER}:{DOVECOT_PASSWORD}\n"),
    )
    .unwrap();
    let plain = free_port();
    let _plain = Running(spawn_pop3d(&dir, plain, &["--allow-plaintext-auth"]));
    tls_refused(
        &elf,
        "no-stls",
        &other.ca,
        "stls",
        plain,
        "error the server does not offer STLS",
    );
    tls_refused(
        &elf,
        "plaintext-port",
        &other.ca,
        "pop3s",
        plain,
        "error tls: InvalidRecord",
    );
}

/// Decodes defmt frames against the ELF with `defmt-print` (bounded: 60 s): one line
/// per frame, `LEVEL message` (`println!` frames have no level).
fn defmt_decode(elf: &Path, frames: &[u8]) -> String {
    use std::io::Write;
    require("defmt-print");
    let mut child = Command::new("defmt-print")
        .arg("-e")
        .arg(elf)
        .args(["--log-format", "{L} {s}"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(frames).unwrap();
    let (status, out, err, _) = wait_bounded(child, "defmt-print");
    assert!(status.success(), "defmt-print failed: {err}");
    out
}

/// Feature `defmt` on the TLS build: everything the firmware says leaves as defmt
/// frames over semihosting (nothing else is on QEMU's stdout), decoded here against
/// the ELF. The report lines decode to the same text as without defmt (the message
/// lines formatted on the host: `{=u32:08x}`), pop3-proto's events through its
/// `defmt::Format`, and a failed handshake as an ERROR frame with embedded-tls's
/// error. Budgets as for the TLS build.
#[test]
fn firmware_logs_in_defmt() {
    let elf = build_firmware(
        "tls,defmt",
        &[
            ("POP3_FW_USER", DOVECOT_USER),
            ("POP3_FW_PASSWORD", DOVECOT_PASSWORD),
        ],
    );
    let messages = firmware_messages();
    let (_pop3d, cert, port, tls_port) = pop3d_tls(&messages);
    for (what, mode, port) in [("pop3s", "pop3s", tls_port), ("stls", "stls", port)] {
        let files = firmware_files(&format!("firmware-defmt-{what}"), &cert.ca, mode);
        let mut boot = boot(&elf, port, &files, Duration::from_secs(110));
        let decoded = defmt_decode(&elf, &boot.raw);
        println!("defmt {what}:\n{decoded}");
        let lines: Vec<&str> = decoded.lines().map(str::trim_end).collect();
        // The report lines, as println! frames (no level).
        for (i, m) in messages.iter().enumerate() {
            let wire = on_the_wire(m);
            let line = format!(
                "msg {} bytes {} crc {:08x}",
                i + 1,
                wire.len(),
                crc32(&wire)
            );
            assert!(lines.contains(&line.as_str()), "{line} missing:\n{decoded}");
        }
        for line in [format!("tls {mode}"), "login user-pass".into(), "ok".into()] {
            assert!(lines.contains(&line.as_str()), "{line} missing:\n{decoded}");
        }
        // pop3-proto's events, in its defmt format.
        for event in ["INFO  event LoggedIn", "INFO  event Closed"] {
            assert!(lines.contains(&event), "{event} missing:\n{decoded}");
        }
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("INFO  event MessageEnd"))
                .count(),
            messages.len(),
            "{decoded}"
        );
        // check_fetch parses the decoded report lines as it parses the plain ones.
        boot.stdout = lines
            .iter()
            .map(|l| l.trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        check_fetch(&boot, &format!("defmt {what}"), &messages);
        let f = footprint(&elf, &boot.stdout, &format!("tls,defmt ({what})"));
        assert!(f.flash <= 128 * 1024, "flash grew to {}", f.flash);
        assert!(
            f.static_ram + f.stack <= 48 * 1024,
            "RAM grew to {} ({} static + {} stack)",
            f.static_ram + f.stack,
            f.static_ram,
            f.stack
        );
    }
    // A CA that did not sign pop3d's certificate: the error as an ERROR frame.
    let other = test_cert(&temp_dir("firmware-defmt-other-ca"));
    let files = firmware_files("firmware-defmt-wrong-ca", &other.ca, "pop3s");
    let boot = boot(&elf, tls_port, &files, Duration::from_secs(60));
    assert!(!boot.success);
    let decoded = defmt_decode(&elf, &boot.raw);
    println!("defmt wrong CA:\n{decoded}");
    let lines: Vec<&str> = decoded.lines().map(str::trim_end).collect();
    assert!(
        lines.contains(&"ERROR tls: Io(InvalidCertificate)"),
        "{decoded}"
    );
    assert_eq!(
        lines.last().map(|l| l.trim_start()),
        Some("error tls: InvalidCertificate")
    );
}
