//! Cortex-M3 firmware (QEMU `lm3s6965evb`) that fetches mail over UART0 with
//! pop3-proto: log in, list the mailbox, stream every message through a 512-byte
//! receive buffer while counting bytes and a CRC-32, optionally delete, quit, and
//! report over semihosting. The exit code tells success.
//!
//! Output lines (parsed by tests/firmware_qemu.rs):
//! `msg N bytes B crc XXXXXXXX`, `ram stack-used S`, then `ok` or `error …`.
#![no_std]
#![no_main]

mod uart;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};

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

    fn hex8(&mut self, n: u32) -> &mut Line {
        for shift in (0..8).rev() {
            let _ = self
                .0
                .push(b"0123456789abcdef"[(n >> (4 * shift) & 15) as usize]);
        }
        self
    }

    /// Writes the line and a newline to the host (semihosting).
    fn print(&mut self) {
        let _ = self.0.push(b'\n');
        if let Ok(mut out) = hio::hstdout() {
            let _ = out.write_all(&self.0);
        }
    }
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

#[entry]
fn main() -> ! {
    let (bottom, sp) = paint_stack();
    let peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| fail("peripherals"));
    let uart = uart::Uart::new(peripherals.SYST, 10_000);
    let config = ClientConfig {
        // The link is a UART to a trusted test server; there is no TLS here.
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    // A device seeds this from its TRNG (the SCRAM nonce); fixed for the test.
    let mut conn: ClientConn<_, RX, TX> = ClientConn::new(uart, Client::new(config, [0x5a; 32]));
    if conn.run(|_| {}).is_err() {
        fail("greeting");
    }
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
        .login(login, |e| logged_in |= matches!(e, ClientEvent::LoggedIn))
        .is_err()
        || !logged_in
    {
        fail("login");
    }
    Line::new("login ").text(name).print();
    let mut sizes: heapless::Vec<(u32, u64), 64> = heapless::Vec::new();
    let _ = conn.client().list(None);
    let listed = conn.run(|e| {
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
        let fetched = conn.run(|e| match e {
            ClientEvent::MessageData { data, .. } => {
                bytes += data.len() as u32;
                crc = crc32(crc, data);
            }
            ClientEvent::MessageEnd { .. } => complete = true,
            _ => {}
        });
        if fetched.is_err() || !complete {
            fail("retr");
        }
        Line::new("msg ")
            .dec(msg)
            .text(" bytes ")
            .dec(bytes)
            .text(" crc ")
            .hex8(!crc)
            .print();
        if cfg!(feature = "delete") && conn.client().dele(msg).is_err() {
            fail("dele");
        }
    }
    let _ = conn.client().quit();
    let mut closed = false;
    if conn
        .run(|e| closed |= matches!(e, ClientEvent::Closed))
        .is_err()
        || !closed
    {
        fail("quit");
    }
    Line::new("ram stack-used ")
        .dec(stack_used(bottom, sp) as u32)
        .print();
    Line::new("ok").print();
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}
