//! Files read from the host over semihosting (relative paths: QEMU's working
//! directory). The test hands the firmware its CA, its random seed and its mode this
//! way, so that one build serves every test; a device keeps its CA in flash and
//! seeds from its TRNG.

use cortex_m_semihosting::syscall;

/// Reads the whole file `name` (NUL-terminated) into `buf`: its length, or `None`
/// when it is missing or larger than `buf`.
pub fn read(name: &str, buf: &mut [u8]) -> Option<usize> {
    debug_assert!(name.ends_with('\0'));
    // SAFETY: semihosting calls with a NUL-terminated name and a buffer that
    // outlives them; mode 1 is "rb".
    unsafe {
        let fd = syscall!(OPEN, name.as_ptr(), 1, name.len() - 1) as isize;
        if fd < 0 {
            return None;
        }
        let len = syscall!(FLEN, fd) as isize;
        let ok =
            len >= 0 && len as usize <= buf.len() && syscall!(READ, fd, buf.as_mut_ptr(), len) == 0;
        syscall!(CLOSE, fd);
        ok.then_some(len as usize)
    }
}
