//! The LM3S6965's PL011 UART0 as an `embedded_io` transport, with a read timeout
//! counted in SysTick milliseconds (a firmware must never wait forever).

use core::ptr::{read_volatile, write_volatile};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;

pub(crate) const BASE: usize = 0x4000_C000;
pub(crate) const DR: usize = 0x000;
pub(crate) const FR: usize = 0x018;
pub(crate) const CTL: usize = 0x030;
pub(crate) const FR_RXFE: u32 = 1 << 4;
pub(crate) const FR_TXFF: u32 = 1 << 5;
/// SysTick runs at about 12.5 MHz under QEMU: one wrap per millisecond.
pub(crate) const TICKS_PER_MS: u32 = 12_500;

pub(crate) fn reg(offset: usize) -> *mut u32 {
    (BASE + offset) as *mut u32
}

/// Errors of the UART transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UartError {
    /// Nothing arrived within the timeout.
    Timeout,
}

impl core::fmt::Display for UartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("UART read timed out")
    }
}

impl core::error::Error for UartError {}

impl embedded_io::Error for UartError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::TimedOut
    }
}

pub struct Uart {
    syst: SYST,
    timeout_ms: u32,
}

impl Uart {
    pub fn new(mut syst: SYST, timeout_ms: u32) -> Self {
        // SAFETY: fixed MMIO address of UART0 on this board; single-threaded.
        unsafe { write_volatile(reg(CTL), 0x301) }; // UARTEN | TXE | RXE
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(TICKS_PER_MS - 1);
        syst.clear_current();
        syst.enable_counter();
        Uart { syst, timeout_ms }
    }

    fn flags() -> u32 {
        // SAFETY: read of a UART status register.
        unsafe { read_volatile(reg(FR)) }
    }
}

impl embedded_io::ErrorType for Uart {
    type Error = UartError;
}

impl embedded_io::Read for Uart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, UartError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut waited = 0;
        while Self::flags() & FR_RXFE != 0 {
            if self.syst.has_wrapped() {
                waited += 1;
                if waited >= self.timeout_ms {
                    return Err(UartError::Timeout);
                }
            }
        }
        let mut n = 0;
        while n < buf.len() && Self::flags() & FR_RXFE == 0 {
            // SAFETY: read of the UART data register.
            buf[n] = unsafe { read_volatile(reg(DR)) } as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::Write for Uart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, UartError> {
        for &b in buf {
            while Self::flags() & FR_TXFF != 0 {}
            // SAFETY: write to the UART data register.
            unsafe { write_volatile(reg(DR), u32::from(b)) };
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), UartError> {
        Ok(())
    }
}
