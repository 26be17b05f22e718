//! The async build (feature `embassy`): the same TLS fetch as the blocking one, as a
//! task on embassy's executor, through pop3-proto's `embedded-io-async` adapter
//! (`AsyncClientConn`, its STLS upgrade step `start_tls_in_place`) and
//! embedded-tls's async `TlsConnection`.
//!
//! The board has no HAL for embassy, so this file brings what the executor and
//! `embassy-time` need: a time driver on SysTick (1 kHz ticks; a timer queue woken
//! from the SysTick exception; the UART's read timeout is measured with it) and the
//! UART as an `embedded_io_async` transport that yields to the executor while no
//! byte is there. A device would wake the task from the UART interrupt instead; this
//! one keeps the PL011's FIFO off, as the blocking build does: QEMU empties it when
//! it is switched on, and the server's greeting may already be waiting.

use core::cell::{Cell, RefCell};
use core::ptr::{read_volatile, write_volatile};
use core::task::Waker;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use critical_section::Mutex;
use embassy_executor::Executor;
use embassy_time::{Duration, Instant};
use embassy_time_queue_utils::Queue;
use embedded_tls::{TlsConfig, TlsConnection, TlsContext, TlsError};
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
use pop3_proto::embedded::{AsyncClientConn, Error};

use crate::uart::{self, UartError};
use crate::{crc32, fail, finish, log_event, paint_stack, report_message, tls, Line};
use crate::{PASSWORD, RX, TX, USER};

// ---- time driver: SysTick, 1 ms ticks ------------------------------------------------

struct SysTickDriver {
    ticks: Mutex<Cell<u64>>,
    queue: Mutex<RefCell<Queue>>,
}

impl embassy_time_driver::Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.ticks.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let now = self.ticks.borrow(cs).get();
            let mut queue = self.queue.borrow(cs).borrow_mut();
            queue.schedule_wake(at, waker);
            // Already due: wake it now (the next tick would too, a tick later).
            queue.next_expiration(now);
        });
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver {
    ticks: Mutex::new(Cell::new(0)),
    queue: Mutex::new(RefCell::new(Queue::new())),
});

#[exception]
fn SysTick() {
    critical_section::with(|cs| {
        let ticks = DRIVER.ticks.borrow(cs);
        ticks.set(ticks.get() + 1);
        DRIVER
            .queue
            .borrow(cs)
            .borrow_mut()
            .next_expiration(ticks.get());
    });
}

// ---- the UART as an embedded-io-async transport --------------------------------------

/// Gives the executor a turn: pending once, woken at once.
struct YieldNow(bool);

impl core::future::Future for YieldNow {
    type Output = ();

    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        if self.0 {
            return core::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        core::task::Poll::Pending
    }
}

struct AsyncUart {
    timeout: Duration,
}

impl AsyncUart {
    fn new() -> Self {
        // SAFETY: fixed MMIO address of UART0 on this board; single-threaded.
        unsafe { write_volatile(uart::reg(uart::CTL), 0x301) }; // UARTEN | TXE | RXE
        AsyncUart {
            timeout: Duration::from_secs(10),
        }
    }

    fn flags() -> u32 {
        // SAFETY: read of a UART status register.
        unsafe { read_volatile(uart::reg(uart::FR)) }
    }
}

impl embedded_io_async::ErrorType for AsyncUart {
    type Error = UartError;
}

impl embedded_io_async::Read for AsyncUart {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, UartError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = Instant::now() + self.timeout;
        while Self::flags() & uart::FR_RXFE != 0 {
            if Instant::now() >= deadline {
                return Err(UartError::Timeout);
            }
            YieldNow(false).await;
        }
        let mut n = 0;
        while n < buf.len() && Self::flags() & uart::FR_RXFE == 0 {
            // SAFETY: read of the UART data register.
            buf[n] = unsafe { read_volatile(uart::reg(uart::DR)) } as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io_async::Write for AsyncUart {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, UartError> {
        for &b in buf {
            while Self::flags() & uart::FR_TXFF != 0 {
                YieldNow(false).await;
            }
            // SAFETY: write to the UART data register.
            unsafe { write_volatile(uart::reg(uart::DR), u32::from(b)) };
        }
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), UartError> {
        Ok(())
    }
}

// ---- the fetch -------------------------------------------------------------------------

/// Polls its future in a frame of its own: the executor's poll would otherwise
/// inline every step of the session into one frame (16 KB) that sits under the
/// handshake's deepest stack.
struct Frame<F>(F);

impl<F: core::future::Future> core::future::Future for Frame<F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<F::Output> {
        // SAFETY: structural pinning: the inner future is never moved out.
        unsafe { self.map_unchecked_mut(|f| &mut f.0) }.poll(cx)
    }
}

#[entry]
fn main() -> ! {
    let (bottom, sp) = paint_stack();
    let mut peripherals = cortex_m::Peripherals::take().unwrap_or_else(|| fail("peripherals"));
    let syst = &mut peripherals.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(uart::TICKS_PER_MS - 1);
    syst.clear_current();
    syst.enable_counter();
    syst.enable_interrupt();
    let executor =
        cortex_m::singleton!(: Executor = Executor::new()).unwrap_or_else(|| fail("executor"));
    executor.run(|spawner| match session(bottom, sp) {
        Ok(token) => spawner.spawn(token),
        Err(_) => fail("spawn"),
    })
}

/// The link to the server: the UART in clear, then TLS over it, switched in place
/// (as in the blocking build: nothing large moves through the task's state).
#[allow(clippy::large_enum_variant)]
enum AsyncLink<'a> {
    Plain(AsyncUart),
    Tls(tls::AsyncTls<'a, AsyncUart>),
    Closed,
}

impl<'a> AsyncLink<'a> {
    /// Runs the TLS handshake over the plain link (the CA check as in the blocking
    /// build) and switches it to TLS. (`setup` is taken: a link is upgraded once.)
    async fn upgrade(&mut self, setup: &mut Option<tls::Setup<'a>>) -> Result<(), TlsError> {
        let (AsyncLink::Plain(uart), Some(setup)) =
            (core::mem::replace(self, AsyncLink::Closed), setup.take())
        else {
            return Err(TlsError::InternalError);
        };
        *self = AsyncLink::Tls(TlsConnection::new(uart, setup.read_buf, setup.write_buf));
        let AsyncLink::Tls(tls) = self else {
            return Err(TlsError::InternalError);
        };
        let mut provider = tls::Provider::new(setup.rng, setup.ca_der);
        let config = TlsConfig::new().with_server_name(tls::SERVER_NAME);
        let opened = tls.open(TlsContext::new(&config, &mut provider)).await;
        if opened.is_err() {
            *self = AsyncLink::Closed;
        }
        opened
    }
}

fn uart_error(e: UartError) -> TlsError {
    TlsError::Io(embedded_io::Error::kind(&e))
}

impl embedded_io_async::ErrorType for AsyncLink<'_> {
    type Error = TlsError;
}

impl embedded_io_async::Read for AsyncLink<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        match self {
            AsyncLink::Plain(uart) => uart.read(buf).await.map_err(uart_error),
            AsyncLink::Tls(tls) => tls.read(buf).await,
            AsyncLink::Closed => Err(TlsError::ConnectionClosed),
        }
    }
}

impl embedded_io_async::Write for AsyncLink<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        match self {
            AsyncLink::Plain(uart) => uart.write(buf).await.map_err(uart_error),
            AsyncLink::Tls(tls) => tls.write(buf).await,
            AsyncLink::Closed => Err(TlsError::ConnectionClosed),
        }
    }

    async fn flush(&mut self) -> Result<(), TlsError> {
        match self {
            AsyncLink::Plain(uart) => uart.flush().await.map_err(uart_error),
            AsyncLink::Tls(tls) => tls.flush().await,
            AsyncLink::Closed => Err(TlsError::ConnectionClosed),
        }
    }
}

#[embassy_executor::task]
async fn session(bottom: usize, sp: usize) {
    let (setup, nonce_seed, implicit) = crate::load_setup();
    let mut setup = Some(setup);
    let config = ClientConfig {
        tls: implicit,
        ..ClientConfig::default()
    };
    let mut conn: AsyncClientConn<_, RX, TX> = AsyncClientConn::new(
        AsyncLink::Plain(AsyncUart::new()),
        Client::new(config, nonce_seed),
    );
    if implicit {
        // Implicit TLS: the handshake first (on the link, in place), then POP3.
        if let Err(e) = Frame(conn.stream_mut().upgrade(&mut setup)).await {
            crate::tls_fail("tls", &Error::Io(e));
        }
        Line::new("tls pop3s").print();
    }
    if let Err(e) = Frame(conn.run(|e| log_event(&e))).await {
        crate::tls_fail("greeting", &e);
    }
    if !implicit {
        // STLS: greeting and CAPA in clear, STLS only if offered, then the adapter's
        // upgrade step runs the handshake over the link.
        if !conn.client().capabilities().stls {
            fail("the server does not offer STLS");
        }
        if conn.client().stls().is_err() {
            fail("stls");
        }
        let mut started = false;
        let stls = Frame(conn.run(|e| {
            log_event(&e);
            started |= matches!(e, ClientEvent::StartTls)
        }))
        .await;
        if stls.is_err() || !started {
            fail("STLS refused");
        }
        let upgraded = Frame(conn.start_tls_in_place(async |link: &mut AsyncLink<'_>| {
            Frame(link.upgrade(&mut setup)).await
        }))
        .await;
        if let Err(e) = upgraded {
            crate::tls_fail("tls", &e);
        }
        Line::new("tls stls").print();
    }
    Frame(fetch(&mut conn)).await;
    finish(bottom, sp);
}

/// Logs in, lists the mailbox, streams every message counting bytes and a CRC-32,
/// and quits: the blocking build's `fetch`, awaited.
async fn fetch(conn: &mut AsyncClientConn<AsyncLink<'_>, RX, TX>) {
    let login = Login::UserPass {
        user: USER.as_bytes(),
        password: PASSWORD.as_bytes(),
    };
    let mut logged_in = false;
    let result = conn
        .login(login, |e| {
            log_event(&e);
            logged_in |= matches!(e, ClientEvent::LoggedIn)
        })
        .await;
    if let Err(e) = result {
        crate::tls_fail("login", &e);
    }
    if !logged_in {
        fail("login");
    }
    Line::new("login user-pass").print();
    let mut sizes: heapless::Vec<u32, 64> = heapless::Vec::new();
    let _ = conn.client().list(None);
    let listed = conn
        .run(|e| {
            log_event(&e);
            if let ClientEvent::List(entry) = e {
                let _ = sizes.push(entry.msg);
            }
        })
        .await;
    if let Err(e) = listed {
        crate::tls_fail("list", &e);
    }
    for &msg in sizes.iter() {
        if conn.client().retr(msg).is_err() {
            fail("retr queue");
        }
        let (mut bytes, mut crc, mut complete) = (0u32, !0u32, false);
        let fetched = conn
            .run(|e| {
                log_event(&e);
                match e {
                    ClientEvent::MessageData { data, .. } => {
                        bytes += data.len() as u32;
                        crc = crc32(crc, data);
                    }
                    ClientEvent::MessageEnd { .. } => complete = true,
                    _ => {}
                }
            })
            .await;
        if let Err(e) = fetched {
            crate::tls_fail("retr", &e);
        }
        if !complete {
            fail("retr");
        }
        report_message(msg, bytes, !crc);
    }
    let _ = conn.client().quit();
    let mut closed = false;
    let quit = conn
        .run(|e| {
            log_event(&e);
            closed |= matches!(e, ClientEvent::Closed)
        })
        .await;
    if quit.is_err() || !closed {
        fail("quit");
    }
}
