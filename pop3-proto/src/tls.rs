//! TLS for the blocking adapters, with rustls: a TCP stream that is plain, or TLS
//! from the start (RFC 8314, port 995), or switched to TLS by STLS (RFC 2595).

use std::boxed::Box;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::string::ToString;
use std::sync::Arc;
use std::vec::Vec;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection, StreamOwned,
};

use crate::blocking::StartTls;

/// What the stream becomes on [`StartTls::start_tls`] (also for the tokio stream).
#[derive(Clone)]
pub(crate) enum Upgrade {
    None,
    Client(Arc<ClientConfig>, ServerName<'static>),
    Server(Arc<ServerConfig>),
}

enum Inner {
    Plain(TcpStream),
    Client(Box<StreamOwned<ClientConnection, TcpStream>>),
    Server(Box<StreamOwned<ServerConnection, TcpStream>>),
    Broken,
}

/// A TCP connection, possibly under TLS.
pub struct NetStream {
    inner: Inner,
    upgrade: Upgrade,
    handshake_timeout: std::time::Duration,
}

/// How long a TLS handshake may take in all, however the peer trickles its bytes.
pub const DEFAULT_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) fn other(e: impl ToString) -> io::Error {
    io::Error::other(e.to_string())
}

impl NetStream {
    /// A plain connection that cannot start TLS.
    pub fn plain(tcp: TcpStream) -> Self {
        NetStream {
            inner: Inner::Plain(tcp),
            upgrade: Upgrade::None,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Bounds the whole TLS handshake (default [`DEFAULT_HANDSHAKE_TIMEOUT`]): a
    /// peer that sends its ClientHello a byte at a time gets `TimedOut`, not a
    /// connection held for as long as it likes.
    pub fn handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// A client connection, plain for now; STLS will verify `host` with `config`.
    pub fn client_starttls(
        tcp: TcpStream,
        config: Arc<ClientConfig>,
        host: &str,
    ) -> io::Result<Self> {
        let name = ServerName::try_from(host.to_string()).map_err(other)?;
        Ok(NetStream {
            inner: Inner::Plain(tcp),
            upgrade: Upgrade::Client(config, name),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        })
    }

    /// A client connection under TLS from the first byte (pop3s).
    pub fn client_tls(tcp: TcpStream, config: Arc<ClientConfig>, host: &str) -> io::Result<Self> {
        let mut s = Self::client_starttls(tcp, config, host)?;
        s.start_tls()?;
        Ok(s)
    }

    /// A server connection, plain for now; STLS will use `config`.
    pub fn server_starttls(tcp: TcpStream, config: Arc<ServerConfig>) -> Self {
        NetStream {
            inner: Inner::Plain(tcp),
            upgrade: Upgrade::Server(config),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// A server connection under TLS from the first byte (pop3s).
    pub fn server_tls(tcp: TcpStream, config: Arc<ServerConfig>) -> io::Result<Self> {
        let mut s = Self::server_starttls(tcp, config);
        s.start_tls()?;
        Ok(s)
    }

    /// True once TLS is running.
    pub fn is_tls(&self) -> bool {
        matches!(self.inner, Inner::Client(_) | Inner::Server(_))
    }

    /// The TCP socket (for timeouts and shutdown).
    pub fn tcp(&self) -> Option<&TcpStream> {
        match &self.inner {
            Inner::Plain(t) => Some(t),
            Inner::Client(s) => Some(&s.sock),
            Inner::Server(s) => Some(&s.sock),
            Inner::Broken => None,
        }
    }
}

/// The label of the `tls-exporter` channel binding (RFC 9266).
const CHANNEL_BINDING_LABEL: &[u8] = b"EXPORTER-Channel-Binding";

/// The `tls-exporter` channel binding of a TLS session (RFC 9266): 32 bytes with the
/// label `EXPORTER-Channel-Binding` and no context (what OpenSSL and Dovecot export).
/// TLS 1.3 only: under TLS 1.2 the exporter is only safe with the extended master
/// secret, which rustls does not report, so no binding is offered there.
pub(crate) fn channel_binding<D>(conn: &rustls::ConnectionCommon<D>) -> Option<[u8; 32]> {
    if conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        return None;
    }
    conn.export_keying_material([0u8; 32], CHANNEL_BINDING_LABEL, None)
        .ok()
}

impl StartTls for NetStream {
    fn channel_binding(&self) -> Option<[u8; 32]> {
        match &self.inner {
            Inner::Client(s) => channel_binding(&s.conn),
            Inner::Server(s) => channel_binding(&s.conn),
            _ => None,
        }
    }

    fn start_tls(&mut self) -> io::Result<()> {
        let Inner::Plain(_) = self.inner else {
            return Err(other("TLS already active"));
        };
        let Inner::Plain(tcp) = std::mem::replace(&mut self.inner, Inner::Broken) else {
            unreachable!()
        };
        self.inner = match self.upgrade.clone() {
            Upgrade::None => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "no TLS configured",
                ))
            }
            Upgrade::Client(config, name) => {
                let conn = ClientConnection::new(config, name).map_err(other)?;
                let mut s = StreamOwned::new(conn, tcp);
                // Run the handshake now so that certificate errors surface here.
                handshake(&mut s.conn, &mut s.sock, self.handshake_timeout)?;
                Inner::Client(Box::new(s))
            }
            Upgrade::Server(config) => {
                let conn = ServerConnection::new(config).map_err(other)?;
                let mut s = StreamOwned::new(conn, tcp);
                handshake(&mut s.conn, &mut s.sock, self.handshake_timeout)?;
                Inner::Server(Box::new(s))
            }
        };
        Ok(())
    }
}

/// The socket during a handshake: every read and write may take only what is left
/// of the deadline, so a peer that trickles its bytes runs out of time (a read
/// timeout alone restarts with every byte).
struct Deadline<'s> {
    tcp: &'s mut TcpStream,
    deadline: std::time::Instant,
}

impl Deadline<'_> {
    fn arm(&self) -> io::Result<()> {
        let left = self
            .deadline
            .checked_duration_since(std::time::Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(timed_out)?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.set_write_timeout(Some(left))
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "TLS handshake took too long")
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock => timed_out(),
            _ => e,
        })
    }
}

impl Write for Deadline<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.write(buf).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock => timed_out(),
            _ => e,
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// Runs the handshake of `conn` over `tcp` within `limit` in all; the socket's
/// previous timeouts are put back afterwards.
fn handshake<D>(
    conn: &mut rustls::ConnectionCommon<D>,
    tcp: &mut TcpStream,
    limit: std::time::Duration,
) -> io::Result<()> {
    let (read, write) = (tcp.read_timeout()?, tcp.write_timeout()?);
    let deadline = std::time::Instant::now() + limit;
    let mut io = Deadline { tcp, deadline };
    let mut result = Ok(());
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut io) {
            result = Err(e);
            break;
        }
    }
    io.tcp.set_read_timeout(read)?;
    io.tcp.set_write_timeout(write)?;
    result
}

impl crate::blocking::ReadTimeout for NetStream {
    fn set_read_timeout(&mut self, timeout: Option<std::time::Duration>) -> io::Result<()> {
        match self.tcp() {
            Some(t) => t.set_read_timeout(timeout),
            None => Ok(()),
        }
    }

    fn set_write_timeout(&mut self, timeout: Option<std::time::Duration>) -> io::Result<()> {
        match self.tcp() {
            Some(t) => t.set_write_timeout(timeout),
            None => Ok(()),
        }
    }
}

impl Read for NetStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(t) => t.read(buf),
            Inner::Client(s) => s.read(buf),
            Inner::Server(s) => s.read(buf),
            Inner::Broken => Err(other("broken stream")),
        }
    }
}

impl Write for NetStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(t) => t.write(buf),
            Inner::Client(s) => s.write(buf),
            Inner::Server(s) => s.write(buf),
            Inner::Broken => Err(other("broken stream")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Plain(t) => t.flush(),
            Inner::Client(s) => s.flush(),
            Inner::Server(s) => s.flush(),
            Inner::Broken => Ok(()),
        }
    }
}

/// A client TLS configuration trusting the system's roots, plus the PEM
/// certificates in `extra_ca` (e.g. a test server's self-signed certificate).
pub fn client_config(extra_ca: Option<&Path>) -> io::Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = extra_ca {
        for cert in CertificateDer::pem_file_iter(path).map_err(other)? {
            roots.add(cert.map_err(other)?).map_err(other)?;
        }
    }
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A server TLS configuration from a PEM certificate chain and private key.
pub fn server_config(cert_pem: &Path, key_pem: &Path) -> io::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_pem)
        .map_err(other)?
        .collect::<Result<_, _>>()
        .map_err(other)?;
    let key = PrivateKeyDer::from_pem_file(key_pem).map_err(other)?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(other)?;
    Ok(Arc::new(config))
}
