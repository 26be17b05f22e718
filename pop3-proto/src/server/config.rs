//! What a server offers and how strict it is.

use crate::response::capability::Expire;

/// What the transport under the server provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Tls {
    /// Plain TCP, no TLS available.
    None,
    /// Plain TCP with `STLS` available (RFC 2595).
    StartTls,
    /// TLS from the first byte (RFC 8314, port 995).
    Implicit,
}

pub use crate::sasl::MechanismSet;

/// Server settings. Defaults follow the RFCs' safer choices: no plaintext
/// authentication before TLS, 3 minutes to log in, a 10-minute idle timer, a
/// 2-second delay after a failed login, 10 bad commands before the connection is
/// closed. `Debug` prints `scram_mock_key` redacted.
#[derive(Clone)]
pub struct ServerConfig {
    /// Host name in the greeting and the APOP timestamp. Default: the argument of
    /// [`ServerConfig::new`].
    pub hostname: crate::ShortString,
    /// The `IMPLEMENTATION` capability text (empty: not advertised). Default: empty.
    /// Set it from a `&str` with [`with_implementation`](Self::with_implementation).
    pub implementation: crate::ShortString,
    /// What the transport offers. Default: [`Tls::None`].
    pub tls: Tls,
    /// Allow USER/PASS, PLAIN, LOGIN and bearer tokens without TLS (RFC 2595 wants a
    /// way to forbid them, by default). Default: `false`.
    pub allow_plaintext_auth: bool,
    /// Let a SASL authorization identity that differs from the authentication
    /// identity through to the application (PLAIN's `authzid`, in
    /// [`ServerEvent::CheckPassword`](crate::server::ServerEvent::CheckPassword)),
    /// which must then decide whether the user may act as it; if it agrees, the
    /// session is the authzid's. When `false`, the server refuses such a login
    /// itself with `-ERR [AUTH] Authentication failed` (a failed login, delayed
    /// like a wrong password) and asks the application nothing. An empty authzid,
    /// or one equal to the user, always means "act as myself". SCRAM has no
    /// verdict event, so a foreign SCRAM authzid is refused either way; EXTERNAL
    /// and the bearer-token mechanisms leave the check to the application in any
    /// case (see their events). Default: `false`.
    pub allow_authzid: bool,
    /// Offer APOP (an APOP timestamp in the greeting). Default: `false`.
    pub apop: bool,
    /// SASL mechanisms offered with AUTH (plaintext ones only once TLS is active
    /// or plaintext is allowed). Default: [`MechanismSet::PASSWORD`] (PLAIN and
    /// LOGIN, as Dovecot's `auth_mechanisms = plain`): what a server that answers
    /// only [`ServerEvent::CheckPassword`] serves, with USER/PASS. Offer the others
    /// once the application answers what they ask:
    ///
    /// - CRAM-MD5 ([`MechanismSet::CRAM_MD5`]) and SCRAM ([`MechanismSet::SCRAM`],
    ///   -PLUS only over TLS with a channel binding): [`ServerEvent::NeedSecret`],
    ///   answered with the password ([`Server::answer_secret`]), a stored verifier
    ///   ([`Server::answer_verifier`]) or a stored CRAM-MD5 context
    ///   ([`Server::answer_cram_context`]);
    /// - XOAUTH2 and OAUTHBEARER ([`MechanismSet::TOKENS`]): [`ServerEvent::CheckToken`];
    /// - EXTERNAL ([`MechanismSet::EXTERNAL`], only over TLS): [`ServerEvent::CheckExternal`].
    ///
    /// ```
    /// use pop3_proto::server::{MechanismSet, ServerConfig};
    ///
    /// let mut config = ServerConfig::new("pop.example.org");
    /// assert_eq!(config.mechanisms, MechanismSet::PASSWORD);
    /// // This application stores SCRAM verifiers and CRAM-MD5 contexts:
    /// config.mechanisms = config.mechanisms.with(MechanismSet::SCRAM).with(MechanismSet::CRAM_MD5);
    /// ```
    ///
    /// [`ServerEvent::CheckPassword`]: crate::server::ServerEvent::CheckPassword
    /// [`ServerEvent::NeedSecret`]: crate::server::ServerEvent::NeedSecret
    /// [`ServerEvent::CheckToken`]: crate::server::ServerEvent::CheckToken
    /// [`ServerEvent::CheckExternal`]: crate::server::ServerEvent::CheckExternal
    /// [`Server::answer_secret`]: crate::server::Server::answer_secret
    /// [`Server::answer_verifier`]: crate::server::Server::answer_verifier
    /// [`Server::answer_cram_context`]: crate::server::Server::answer_cram_context
    pub mechanisms: MechanismSet,
    /// `LOGIN-DELAY` seconds to advertise (enforced by the application when opening
    /// the maildrop). Default: `None`.
    pub login_delay: Option<u32>,
    /// `EXPIRE` policy to advertise. Default: `None`.
    pub expire: Option<Expire>,
    /// Offer `UTF8` (RFC 6856). Default: `true`.
    pub utf8: bool,
    /// Offer `LANG` (RFC 6856; replies are in English, `en`). Default: `true`.
    pub lang: bool,
    /// Bad commands tolerated before the server answers `-ERR` and closes.
    /// Default: 10.
    pub max_bad_commands: u32,
    /// Idle time after which the connection is closed without UPDATE. RFC 1939
    /// requires at least 10 minutes; smaller values are raised to that. Default:
    /// 600,000 (10 minutes).
    pub idle_timeout_ms: u64,
    /// Time from the connection's start (the `now` given to
    /// [`Server::new`](crate::server::Server::new)) within which the client must
    /// log in; then the server answers `-ERR Login took too long` and closes. Not
    /// restarted by commands (a `CAPA` every few minutes does not hold a slot), and
    /// over once a maildrop is open. The idle timer is about an authenticated
    /// session (RFC 1939); this bounds the time before one, as Dovecot's login
    /// processes do (3 minutes). Default: 180,000 (3 minutes).
    pub login_timeout_ms: u64,
    /// Delay before answering a failed login (slows password guessing). Default:
    /// 2,000 (2 seconds).
    pub auth_failure_delay_ms: u64,
    /// How long a write to the client may make no progress before the adapter ends
    /// the session (a client that stops reading must not hold its session and its
    /// maildrop lock). Default: 60,000 (1 minute).
    pub send_timeout_ms: u64,
    /// A secret of this server for SCRAM: the salt of a user answered with a
    /// password ([`answer_secret`](crate::server::Server::answer_secret)) and the
    /// made-up salt of an unknown user are derived from it and the user name, so
    /// that each is the same at every try (as a stored verifier's salt is) and no
    /// user, known or not, behaves differently across tries; and nobody else can
    /// compute it. Set it to random bytes, kept across restarts, when answering
    /// with [`answer_verifier`](crate::server::Server::answer_verifier). Default:
    /// zeros.
    pub scram_mock_key: [u8; 32],
    /// The longest SASL line a client may send, CRLF included; a longer one is
    /// answered `-ERR Line too long` and ends the exchange. It is also capped by the
    /// receive buffer (the std adapters make theirs at least this large). Default:
    /// [`DEFAULT_MAX_SASL_LINE`] (24 KiB), which holds a 16 KiB OAuth bearer token in
    /// XOAUTH2 or OAUTHBEARER (base64 makes it 21.9 KiB, with room for the user
    /// name, host and port around it). The token is decoded in place in the
    /// receive buffer, so the limit costs the session no memory, only the buffer.
    pub max_sasl_line: usize,
}

// `Debug` as derived, but `scram_mock_key` is a secret.
impl core::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("hostname", &self.hostname)
            .field("implementation", &self.implementation)
            .field("tls", &self.tls)
            .field("allow_plaintext_auth", &self.allow_plaintext_auth)
            .field("allow_authzid", &self.allow_authzid)
            .field("apop", &self.apop)
            .field("mechanisms", &self.mechanisms)
            .field("login_delay", &self.login_delay)
            .field("expire", &self.expire)
            .field("lang", &self.lang)
            .field("max_bad_commands", &self.max_bad_commands)
            .field("idle_timeout_ms", &self.idle_timeout_ms)
            .field("login_timeout_ms", &self.login_timeout_ms)
            .field("auth_failure_delay_ms", &self.auth_failure_delay_ms)
            .field("send_timeout_ms", &self.send_timeout_ms)
            .field(
                "scram_mock_key",
                &crate::debug::Redacted(self.scram_mock_key.len()),
            )
            .field("max_sasl_line", &self.max_sasl_line)
            .finish()
    }
}

/// The default [`ServerConfig::max_sasl_line`]: 24 KiB, room for a 16 KiB bearer
/// token (Microsoft 365 issues tokens of several KiB) in base64 with its envelope.
pub const DEFAULT_MAX_SASL_LINE: usize = 24 * 1024;

/// The default [`ServerConfig::login_timeout_ms`]: 3 minutes.
pub const DEFAULT_LOGIN_TIMEOUT_MS: u64 = 3 * 60 * 1000;

/// The RFC 1939 minimum for the idle timer: 10 minutes.
pub const MIN_IDLE_TIMEOUT_MS: u64 = 10 * 60 * 1000;

impl ServerConfig {
    /// Sets [`implementation`](Self::implementation) (cut to 64 bytes at a
    /// character boundary).
    ///
    /// ```
    /// use pop3_proto::server::ServerConfig;
    ///
    /// let config = ServerConfig::new("pop.example.org").with_implementation("pop3-proto");
    /// assert_eq!(config.implementation, "pop3-proto");
    /// ```
    pub fn with_implementation(mut self, text: &str) -> Self {
        self.implementation = crate::short_string(text);
        self
    }

    /// Defaults for a server called `hostname` (cut to 64 bytes at a character
    /// boundary).
    pub fn new(hostname: &str) -> Self {
        ServerConfig {
            hostname: crate::short_string(hostname),
            implementation: crate::ShortString::new(),
            tls: Tls::None,
            allow_plaintext_auth: false,
            allow_authzid: false,
            apop: false,
            mechanisms: MechanismSet::PASSWORD,
            login_delay: None,
            expire: None,
            utf8: true,
            lang: true,
            max_bad_commands: 10,
            idle_timeout_ms: MIN_IDLE_TIMEOUT_MS,
            login_timeout_ms: DEFAULT_LOGIN_TIMEOUT_MS,
            auth_failure_delay_ms: 2000,
            send_timeout_ms: 60_000,
            scram_mock_key: [0; 32],
            max_sasl_line: DEFAULT_MAX_SASL_LINE,
        }
    }
}
