//! Cortex-M3 firmware (QEMU `lm3s6965evb`) that fetches mail over UART0 with
//! pop3-proto: log in, list the mailbox, stream every message through a 512-byte
//! receive buffer while counting bytes and a CRC-32, optionally delete, quit, and
//! report over semihosting. The exit code tells success.
//!
//! With feature `tls` it fetches over TLS 1.3 (embedded-tls): implicit TLS (pop3s)
//! or STLS, as the host's file `mode` says, the server's certificate checked against
//! the CA in `ca.der`, the randomness seeded from `seed.bin` (all read over
//! semihosting; see host.rs).
//!
//! Output lines (parsed by tests/firmware_qemu.rs):
//! `msg N bytes B crc XXXXXXXX`, `ram stack-used S`, then `ok` or `error …`.
#![no_std]
#![no_main]
// The embassy build has its own entry (embassy.rs) and leaves the blocking path out.
#![cfg_attr(feature = "embassy", allow(dead_code, unused_imports))]

#[cfg(feature = "embassy")]
mod embassy;
#[cfg(feature = "tls")]
mod host;
#[cfg(feature = "tls")]
mod tls;
mod uart;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
#[cfg(not(feature = "defmt"))]
use cortex_m_semihosting::hio;
#[cfg(feature = "defmt")]
use defmt_semihosting as _;

use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
use pop3_proto::embedded::ClientConn;

/// Receive buffer: one status line; message bodies stream through it.
const RX: usize = 512;
/// Transmit buffer: one command line.
const TX: usize = 256;
const USER: &str = match option_env!("POP3_FW_USER") {
    Some(u) => u,
    None => "fw",
};
const PASSWORD: &str = match option_env!("POP3_FW_PASSWORD") {
    Some(p) => p,
    None => "fw pass",
};
const PAINT: u32 = 0xDEAD_BEEF;

/// CRC-32 (IEEE, reflected), bit by bit: small code, no table.
fn crc32(mut crc: u32, data: &[u8]) -> u32 {
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
    crc
}

extern "C" {
    static mut __sheap: u32;
}

/// Fills the free RAM between the end of .bss and the current stack pointer with a
/// pattern, so that the deepest stack use can be measured at the end.
fn paint_stack() -> (usize, usize) {
    let bottom = core::ptr::addr_of_mut!(__sheap) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = bottom;
    while p + 64 < sp {
        // SAFETY: free RAM below the live stack, above .bss; single-threaded.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
    (bottom, sp)
}

fn stack_used(bottom: usize, top: usize) -> usize {
    let mut p = bottom;
    // SAFETY: reads of the painted region.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    let stack_top = 0x2000_0000 + 64 * 1024;
    stack_top - p
}

/// One output line, built without `core::fmt` (its formatting machinery would be
/// most of a USER/PASS firmware's code).
struct Line(heapless::Vec<u8, 80>);

impl Line {
    fn new(text: &str) -> Line {
        let mut line = Line(heapless::Vec::new());
        line.text(text);
        line
    }

    fn text(&mut self, text: &str) -> &mut Line {
        let _ = self.0.extend_from_slice(text.as_bytes());
        self
    }

    fn dec(&mut self, mut n: u32) -> &mut Line {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let _ = self.0.extend_from_slice(&digits[i..]);
        self
    }

    #[cfg(not(feature = "defmt"))]
    fn hex8(&mut self, n: u32) -> &mut Line {
        for shift in (0..8).rev() {
            let _ = self
                .0
                .push(b"0123456789abcdef"[(n >> (4 * shift) & 15) as usize]);
        }
        self
    }

    /// Writes the line and a newline to the host (semihosting).
    #[cfg(not(feature = "defmt"))]
    fn print(&mut self) {
        let _ = self.0.push(b'\n');
        if let Ok(mut out) = hio::hstdout() {
            let _ = out.write_all(&self.0);
        }
    }

    /// Logs the line as one defmt frame.
    #[cfg(feature = "defmt")]
    fn print(&mut self) {
        defmt::println!("{=str}", core::str::from_utf8(&self.0).unwrap_or("?"));
    }
}

/// Logs an event of the client through its defmt format (feature `defmt`); message
/// data is left out (it would be most of the log).
#[inline(always)]
fn log_event(e: &ClientEvent<'_>) {
    #[cfg(feature = "defmt")]
    if !matches!(e, ClientEvent::MessageData { .. }) {
        defmt::info!("event {}", e);
    }
    #[cfg(not(feature = "defmt"))]
    let _ = e;
}

/// Reports one fetched message: `msg N bytes B crc XXXXXXXX`.
fn report_message(msg: u32, bytes: u32, crc: u32) {
    #[cfg(feature = "defmt")]
    defmt::println!("msg {=u32} bytes {=u32} crc {=u32:08x}", msg, bytes, crc);
    #[cfg(not(feature = "defmt"))]
    Line::new("msg ")
        .dec(msg)
        .text(" bytes ")
        .dec(bytes)
        .text(" crc ")
        .hex8(crc)
        .print();
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    fail("panic")
}

fn fail(what: &str) -> ! {
    Line::new("error ").text(what).print();
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(not(feature = "embassy"))]
#[entry]
fn main() -> ! {
    let (bottom, sp) = paint_stack();
    let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| fail("peripherals"));
    let uart = uart::Uart::new(peripherals.SYST, 10_000);
    #[cfg(not(feature = "tls"))]
    {
        let config = ClientConfig {
            // The link is a UART to a trusted test server; there is no TLS here.
            allow_plaintext: true,
            ..ClientConfig::default()
        };
        // A device seeds this from its TRNG (the SCRAM nonce); fixed for the test.
        let mut conn: ClientConn<_, RX, TX> =
            ClientConn::new(uart, Client::new(config, [0x5a; 32]));
        if conn.run(|e| log_event(&e)).is_err() {
            fail("greeting");
        }
        fetch(&mut conn);
    }
    #[cfg(feature = "tls")]
    tls_session(uart);
    finish(bottom, sp);
}

/// Reports the stack high-water mark and success, and exits.
fn finish(bottom: usize, sp: usize) -> ! {
    Line::new("ram stack-used ")
        .dec(stack_used(bottom, sp) as u32)
        .print();
    Line::new("ok").print();
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

/// Reports why a TLS session failed: `error WHAT: CAUSE`.
#[cfg(feature = "tls")]
fn tls_fail(what: &str, e: &pop3_proto::embedded::Error<embedded_tls::TlsError>) -> ! {
    use pop3_proto::embedded::Error;
    let cause = match e {
        Error::Io(e) => tls::error_name(e),
        Error::Eof => "connection closed",
        Error::Client(_) => "refused by the client",
        _ => "other",
    };
    #[cfg(feature = "defmt")]
    defmt::error!("{=str}: {}", what, e);
    Line::new("error ")
        .text(what)
        .text(": ")
        .text(cause)
        .print();
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

/// The TLS build: reads its CA, seed and mode from the host, runs implicit TLS or
/// STLS, and fetches.
#[cfg(feature = "tls")]
fn tls_session(uart: uart::Uart) {
    let (setup, nonce_seed, implicit) = load_setup();
    if implicit {
        pop3s(uart, setup, nonce_seed);
    } else {
        stls(uart, setup, nonce_seed);
    }
}

/// Reads the CA, the seed and the mode from the host; the record buffers are
/// statics. Returns what the handshake needs, the client's nonce seed and whether
/// TLS is implicit (`pop3s`) rather than STLS.
#[cfg(feature = "tls")]
fn load_setup() -> (tls::Setup<'static>, [u8; 32], bool) {
    use rand_core::{RngCore, SeedableRng};
    /// Any TLS 1.3 record (16 KiB of plaintext and its overhead) fits: servers
    /// (rustls, Dovecot) send records this large, and embedded-tls decrypts one
    /// record at a time.
    const TLS_READ: usize = 16_640;
    /// Outgoing records: one command line (at most 255 octets and CRLF) and the
    /// record overhead (22 octets).
    const TLS_WRITE: usize = 288;
    /// The CA's certificate (DER): ECDSA P-256 roots are 400-600 bytes.
    const CA_MAX: usize = 640;
    let ca = cortex_m::singleton!(: [u8; CA_MAX] = [0; CA_MAX]).unwrap_or_else(|| fail("ca"));
    let read_buf =
        cortex_m::singleton!(: [u8; TLS_READ] = [0; TLS_READ]).unwrap_or_else(|| fail("buffers"));
    let write_buf =
        cortex_m::singleton!(: [u8; TLS_WRITE] = [0; TLS_WRITE]).unwrap_or_else(|| fail("buffers"));
    let ca_len = host::read("ca.der\0", ca).unwrap_or_else(|| fail("no CA (ca.der)"));
    let ca = &ca[..ca_len];
    let mut seed = [0u8; 32];
    if host::read("seed.bin\0", &mut seed) != Some(32) {
        fail("no seed (seed.bin, 32 bytes)");
    }
    let mut mode = [0u8; 8];
    let mode = match host::read("mode\0", &mut mode) {
        Some(n) => &mode[..n],
        None => fail("no mode (pop3s or stls)"),
    };
    // A device seeds from its TRNG instead (see the README).
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
    let mut nonce_seed = [0u8; 32];
    rng.fill_bytes(&mut nonce_seed);
    let implicit = match mode {
        b"pop3s" => true,
        b"stls" => false,
        _ => fail("mode is neither pop3s nor stls"),
    };
    let setup = tls::Setup {
        ca_der: ca,
        rng,
        read_buf,
        write_buf,
    };
    (setup, nonce_seed, implicit)
}

// The handshake needs the deepest stack (certificate decoding in embedded-tls): the
// frames under it hold no more than they must, so each step is a function of its own.

/// Implicit TLS: the handshake first, then POP3 inside it.
#[cfg(feature = "tls")]
#[inline(never)]
fn pop3s(uart: uart::Uart, setup: tls::Setup<'_>, nonce_seed: [u8; 32]) {
    let mut link = tls::Link::Plain(uart);
    if let Err(e) = link.upgrade(&mut Some(setup)) {
        tls_fail("tls", &pop3_proto::embedded::Error::Io(e));
    }
    Line::new("tls pop3s").print();
    let config = ClientConfig {
        tls: true,
        ..ClientConfig::default()
    };
    greet_and_fetch(link, Client::new(config, nonce_seed));
}

#[cfg(feature = "tls")]
#[inline(never)]
fn greet_and_fetch(link: tls::Link<'_>, client: Client) {
    let mut conn: ClientConn<_, RX, TX> = ClientConn::new(link, client);
    if let Err(e) = conn.run(|e| log_event(&e)) {
        tls_fail("greeting", &e);
    }
    fetch(&mut conn);
}

/// STLS: the greeting and CAPA in clear, STLS only if offered, the handshake through
/// the adapter's upgrade step (in place: the client and its buffers stay where they
/// are), then POP3 inside TLS (CAPA again, login, …).
#[cfg(feature = "tls")]
#[inline(never)]
fn stls(uart: uart::Uart, setup: tls::Setup<'_>, nonce_seed: [u8; 32]) {
    let mut setup = Some(setup);
    let mut conn: ClientConn<_, RX, TX> = ClientConn::new(
        tls::Link::Plain(uart),
        Client::new(ClientConfig::default(), nonce_seed),
    );
    if let Err(e) = conn.run(|e| log_event(&e)) {
        tls_fail("greeting", &e);
    }
    if !conn.client().capabilities().stls {
        fail("the server does not offer STLS");
    }
    if conn.client().stls().is_err() {
        fail("stls");
    }
    let mut started = false;
    if conn
        .run(|e| started |= matches!(e, ClientEvent::StartTls))
        .is_err()
        || !started
    {
        fail("STLS refused");
    }
    if let Err(e) = conn.start_tls_in_place(|link| link.upgrade(&mut setup)) {
        tls_fail("tls", &e);
    }
    Line::new("tls stls").print();
    fetch(&mut conn);
}

/// Logs in, lists the mailbox, streams every message counting bytes and a CRC-32
/// (optionally deletes it) and quits.
// Without TLS, inlined into main: one frame for the client and the loop (a separate
// frame cost 0.5 KB of stack). With TLS, a frame of its own, off the handshake's path.
#[cfg_attr(feature = "tls", inline(never))]
#[cfg_attr(not(feature = "tls"), inline(always))]
fn fetch<S: embedded_io::Read + embedded_io::Write>(conn: &mut ClientConn<S, RX, TX>) {
    // The credentials stay in flash: the client borrows them for the login.
    #[cfg(not(feature = "scram"))]
    let (login, name) = (
        Login::UserPass {
            user: USER.as_bytes(),
            password: PASSWORD.as_bytes(),
        },
        "user-pass",
    );
    #[cfg(feature = "scram")]
    let (login, name) = (
        Login::Sasl {
            mechanism: pop3_proto::client::SaslMechanism::ScramSha256,
            authzid: b"",
            user: USER.as_bytes(),
            secret: PASSWORD.as_bytes(),
        },
        "scram",
    );
    let mut logged_in = false;
    if conn
        .login(login, |e| {
            log_event(&e);
            logged_in |= matches!(e, ClientEvent::LoggedIn)
        })
        .is_err()
        || !logged_in
    {
        fail("login");
    }
    Line::new("login ").text(name).print();
    let mut sizes: heapless::Vec<(u32, u64), 64> = heapless::Vec::new();
    let _ = conn.client().list(None);
    let listed = conn.run(|e| {
        log_event(&e);
        if let ClientEvent::List(entry) = e {
            let _ = sizes.push((entry.msg, entry.size));
        }
    });
    if listed.is_err() {
        fail("list");
    }
    for &(msg, _) in sizes.iter() {
        if conn.client().retr(msg).is_err() {
            fail("retr queue");
        }
        let (mut bytes, mut crc, mut complete) = (0u32, !0u32, false);
        let fetched = conn.run(|e| {
            log_event(&e);
            match e {
                ClientEvent::MessageData { data, .. } => {
                    bytes += data.len() as u32;
                    crc = crc32(crc, data);
                }
                ClientEvent::MessageEnd { .. } => complete = true,
                _ => {}
            }
        });
        if fetched.is_err() || !complete {
            fail("retr");
        }
        report_message(msg, bytes, !crc);
        if cfg!(feature = "delete") && conn.client().dele(msg).is_err() {
            fail("dele");
        }
    }
    let _ = conn.client().quit();
    let mut closed = false;
    if conn
        .run(|e| {
            log_event(&e);
            closed |= matches!(e, ClientEvent::Closed)
        })
        .is_err()
        || !closed
    {
        fail("quit");
    }
}
