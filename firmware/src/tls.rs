//! TLS 1.3 over the UART with embedded-tls (feature `tls`): the server's certificate
//! checked against one CA, the randomness from a seed.
//!
//! What embedded-tls (0.19, `rustpki`) checks: every link of the chain the server
//! sends, from the CA down to the leaf, is an ECDSA P-256/SHA-256 signature by the
//! next certificate's key; the handshake's CertificateVerify is signed by the
//! leaf's key; the leaf's DNS names (subjectAltName, else the CN) match
//! [`SERVER_NAME`]. It does not check validity dates (this board has no clock:
//! `NoClock`), basicConstraints, key usage or revocation.

use embedded_tls::blocking::{
    Aes128GcmSha256, Certificate, CryptoProvider, NoClock, TlsConfig, TlsConnection, TlsContext,
    TlsError, TlsVerifier,
};
use embedded_tls::pki::CertVerifier;
use rand_chacha::ChaCha20Rng;

use crate::uart::Uart;

/// The name the server's certificate must carry.
pub const SERVER_NAME: &str = "localhost";
/// Room for the server's certificate chain, kept until its CertificateVerify.
const CERT_SIZE: usize = 1024;

/// The TLS session over the UART.
pub type Tls<'a> = TlsConnection<'a, Uart, Aes128GcmSha256>;

/// The async TLS session (feature `embassy`) over `S`.
#[cfg(feature = "embassy")]
pub type AsyncTls<'a, S> = embedded_tls::TlsConnection<'a, S, Aes128GcmSha256>;

pub(crate) struct Provider<'a> {
    rng: ChaCha20Rng,
    verifier: CertVerifier<'a, Aes128GcmSha256, NoClock, CERT_SIZE>,
}

impl<'a> Provider<'a> {
    /// The handshake's randomness and the certificate check against `ca_der`.
    pub fn new(rng: ChaCha20Rng, ca_der: &'a [u8]) -> Self {
        Provider {
            rng,
            verifier: CertVerifier::new(Certificate::X509(ca_der)),
        }
    }
}

impl CryptoProvider for Provider<'_> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// What a handshake needs: the CA, the random generator and the record buffers.
pub struct Setup<'a> {
    pub ca_der: &'a [u8],
    pub rng: ChaCha20Rng,
    pub read_buf: &'a mut [u8],
    pub write_buf: &'a mut [u8],
}

/// The link to the server: the UART in clear, then TLS over it (switched in place,
/// so that nothing large moves on the stack; no allocator to box the large variant).
#[allow(clippy::large_enum_variant)]
pub enum Link<'a> {
    Plain(Uart),
    Tls(Tls<'a>),
    Closed,
}

impl<'a> Link<'a> {
    /// Runs the TLS handshake over the plain link and switches it to TLS.
    /// (`setup` is taken: a link is upgraded once.)
    pub fn upgrade(&mut self, setup: &mut Option<Setup<'a>>) -> Result<(), TlsError> {
        let (Link::Plain(uart), Some(setup)) =
            (core::mem::replace(self, Link::Closed), setup.take())
        else {
            return Err(TlsError::InternalError);
        };
        // The connection is built in place and the provider lent, not moved: each
        // move of these (1.3 and 1.8 KB) would cost as much stack.
        *self = Link::Tls(TlsConnection::new(uart, setup.read_buf, setup.write_buf));
        let Link::Tls(tls) = self else {
            return Err(TlsError::InternalError);
        };
        let mut provider = Provider::new(setup.rng, setup.ca_der);
        let config = TlsConfig::new().with_server_name(SERVER_NAME);
        let opened = tls.open(TlsContext::new(&config, &mut provider));
        if opened.is_err() {
            *self = Link::Closed;
        }
        opened
    }
}

impl embedded_io::ErrorType for Link<'_> {
    type Error = TlsError;
}

fn uart_error(e: crate::uart::UartError) -> TlsError {
    TlsError::Io(embedded_io::Error::kind(&e))
}

impl embedded_io::Read for Link<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        match self {
            Link::Plain(uart) => embedded_io::Read::read(uart, buf).map_err(uart_error),
            Link::Tls(tls) => tls.read(buf),
            Link::Closed => Err(TlsError::ConnectionClosed),
        }
    }
}

impl embedded_io::Write for Link<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        match self {
            Link::Plain(uart) => embedded_io::Write::write(uart, buf).map_err(uart_error),
            Link::Tls(tls) => tls.write(buf),
            Link::Closed => Err(TlsError::ConnectionClosed),
        }
    }

    fn flush(&mut self) -> Result<(), TlsError> {
        match self {
            Link::Plain(uart) => embedded_io::Write::flush(uart).map_err(uart_error),
            Link::Tls(tls) => tls.flush(),
            Link::Closed => Err(TlsError::ConnectionClosed),
        }
    }
}

/// A name for the error, for the report line.
pub fn error_name(e: &TlsError) -> &'static str {
    use embedded_io::ErrorKind;
    match e {
        TlsError::InvalidCertificate => "InvalidCertificate",
        TlsError::InvalidSignature => "InvalidSignature",
        TlsError::InvalidSignatureScheme => "InvalidSignatureScheme",
        TlsError::DecodeError => "DecodeError",
        TlsError::InvalidRecord => "InvalidRecord",
        TlsError::UnknownContentType => "UnknownContentType",
        TlsError::InvalidHandshake => "InvalidHandshake",
        TlsError::HandshakeAborted(..) => "HandshakeAborted",
        TlsError::ConnectionClosed => "ConnectionClosed",
        TlsError::InsufficientSpace => "InsufficientSpace",
        TlsError::Io(ErrorKind::TimedOut) => "Io(TimedOut)",
        TlsError::Io(_) => "Io",
        TlsError::ParseError(_) => "ParseError",
        _ => "other",
    }
}
