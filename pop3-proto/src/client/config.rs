//! The client's settings ([`ClientConfig`]) and their defaults.

use crate::BareLf;

/// Client settings. `ClientConfig::default()` is the safe choice for an
/// unencrypted connection that will be upgraded with STLS; set `tls` for port 995.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The transport is already encrypted (implicit TLS, port 995). Default: `false`.
    pub tls: bool,
    /// Allow sending passwords or tokens in cleartext (USER/PASS, PLAIN, LOGIN,
    /// XOAUTH2, OAUTHBEARER) without TLS. Default: `false` (RFC 2595, RFC 8314).
    pub allow_plaintext: bool,
    /// Send CAPA after the greeting, after STLS and after login (RFC 2449, RFC 2595).
    /// Default: `true`.
    pub auto_capa: bool,
    /// What a bare LF means in message bodies. Default: [`BareLf::Auto`]: a body
    /// whose `+OK` line ended in CRLF is framed as RFC 1939 says (only CRLF ends a
    /// line), one whose `+OK` line ended in a bare LF as an LF-only server sends it.
    pub bare_lf: BareLf,
    /// Lowest SCRAM iteration count accepted. Default: 4096 (RFC 5802's
    /// recommendation); counts above 1,000,000 are always refused.
    pub min_scram_iterations: u32,
    /// Host name the client connected to (OAUTHBEARER sends it). Default: empty.
    /// Set it from a `&str` with [`with_host`](Self::with_host).
    pub host: crate::ShortString,
    /// Port the client connected to (OAUTHBEARER sends it). Default: 110.
    pub port: u16,
    /// How long the server may take to send its greeting, in milliseconds from the
    /// driver's first [`poll`](crate::driver::ClientDriver::poll) (0: no limit).
    /// Past it the driver fails with [`ClientError::GreetingTimeout`]. Default:
    /// [`DEFAULT_TIMEOUT_MS`] (120 s, curl's response timeout; mpop waits 180 s).
    ///
    /// [`ClientError::GreetingTimeout`]: crate::client::ClientError::GreetingTimeout
    pub greeting_timeout_ms: u32,
    /// How long the server may send nothing while a reply is due, in milliseconds
    /// since the last byte sent or received (0: no limit): a long message that
    /// keeps arriving never times out, a server that stops does. Past it the driver
    /// fails with [`ClientError::ReplyTimeout`]. Default: [`DEFAULT_TIMEOUT_MS`].
    ///
    /// [`ClientError::ReplyTimeout`]: crate::client::ClientError::ReplyTimeout
    pub reply_timeout_ms: u32,
}

/// The default [`ClientConfig::greeting_timeout_ms`] and
/// [`ClientConfig::reply_timeout_ms`]: 120 s, as curl's response timeout (mpop's
/// default is 180 s).
pub const DEFAULT_TIMEOUT_MS: u32 = 120_000;

impl ClientConfig {
    /// Sets [`host`](Self::host) (cut to 64 bytes at a character boundary) and
    /// [`port`](Self::port).
    ///
    /// ```
    /// use pop3_proto::client::ClientConfig;
    ///
    /// let config = ClientConfig { tls: true, ..ClientConfig::default() }
    ///     .with_host("mail.example.org", 995);
    /// assert_eq!(config.host, "mail.example.org");
    /// ```
    pub fn with_host(mut self, host: &str, port: u16) -> Self {
        self.host = crate::short_string(host);
        self.port = port;
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            tls: false,
            allow_plaintext: false,
            auto_capa: true,
            bare_lf: BareLf::Auto,
            min_scram_iterations: 4096,
            host: heapless::String::new(),
            port: 110,
            greeting_timeout_ms: DEFAULT_TIMEOUT_MS,
            reply_timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }
}
