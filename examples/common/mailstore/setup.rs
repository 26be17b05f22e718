//! A server's options made into what it runs with: the state every session shares,
//! the TLS configuration, the session settings (logins offered, timeouts), the
//! admission limits; and the banner that says so at start.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pop3_proto::sasl::scram::{Hash, ScramVerifier};
use pop3_proto::server::{MechanismSet, ServerConfig, Tls};

use super::connections::Admission;
use super::demo::DemoMailbox;
use super::guesses::Guesses;
use super::maildirs::WireSizes;
use super::options::Options;
use super::shared::Shared;
use super::users::{read_tokens, read_users};

/// Everything a server needs from its options: the shared mailbox state, the TLS
/// configuration and the session settings.
pub struct Setup {
    pub shared: Arc<Shared>,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub config: ServerConfig,
    pub handshake_timeout: Duration,
    pub admission: Arc<Admission>,
}

/// Reads the users file and the TLS files and builds the session settings.
pub fn setup(o: &Options) -> Result<Setup, String> {
    let demo = o.root.is_none();
    let (users, users_text) = read_users(o.users.as_deref())?;
    let tokens = read_tokens(o.tokens.as_deref())?;
    let tls = match (&o.cert, &o.key) {
        (Some(c), Some(k)) => Some(
            pop3_proto::tls::server_config(c, k)
                .map_err(|e| format!("TLS certificate or key: {e}"))?,
        ),
        _ => None,
    };
    let shared = Arc::new(Shared {
        users,
        tokens,
        root: o.root.clone(),
        demo: DemoMailbox::new(),
        locks: Mutex::new(HashSet::new()),
        sizes: WireSizes::new(),
        guesses: Guesses::new(
            o.max_login_failures,
            o.max_user_failures,
            o.login_failure_window,
            o.login_failure_users,
        ),
    });
    let mut config = ServerConfig::new("localhost");
    config.implementation = "pop3-proto pop3d".try_into().unwrap_or_default();
    config.apop = true;
    // The users file answers every secret a mechanism asks for (a password, a SCRAM
    // verifier, a CRAM-MD5 context): offer them all. Bearer tokens need an identity
    // provider, which this example does not have: only a file of tokens stands in
    // for one.
    config.mechanisms = MechanismSet::ALL.without(MechanismSet::EXTERNAL);
    if o.tokens.is_none() {
        config.mechanisms = config.mechanisms.without(MechanismSet::TOKENS);
    }
    // mutt 2.2 and neomutt pick -PLUS, cancel it and send the next command before
    // reading the -ERR, which pairs every later reply with the wrong command.
    if o.no_scram_plus {
        config.mechanisms = config.mechanisms.without(MechanismSet::PLUS);
    }
    // The demo serves loopback without TLS: plaintext logins must work there.
    config.allow_plaintext_auth = o.allow_plaintext || (demo && tls.is_none());
    // No delegation: the core refuses a PLAIN or SCRAM authzid other than the user
    // (RFC 4616 §2), as Dovecot does for PLAIN without master users.
    config.allow_authzid = false;
    config.send_timeout_ms = u64::try_from(o.send_timeout.as_millis()).unwrap_or(u64::MAX);
    config.login_timeout_ms = u64::try_from(o.login_timeout.as_millis()).unwrap_or(u64::MAX);
    // Unknown users' made-up SCRAM salts come from a key as secret as the users file
    // and the same after a restart (a keyed hash of the file: one PBKDF2 round).
    let mock = ScramVerifier::compute(Hash::Sha256, users_text.as_bytes(), b"pop3d mock key", 1);
    config.scram_mock_key.copy_from_slice(&mock.stored_key);
    config.tls = if tls.is_some() {
        Tls::StartTls
    } else {
        Tls::None
    };
    Ok(Setup {
        shared,
        tls,
        config,
        handshake_timeout: o.handshake_timeout,
        admission: Arc::new(Admission::new(o.max_connections, o.max_per_ip)),
    })
}

/// What the server says when it starts: what it serves, where, with which TLS and
/// which logins.
pub fn banner(o: &Options, setup: &Setup, addr: &str) {
    let c = &setup.config;
    if o.root.is_none() {
        eprintln!("pop3d: demo mailbox (user demo, password demo) on {addr}");
        eprintln!("pop3d: try: curl pop3://demo:demo@{addr}/1");
    } else {
        let root = o.root.as_ref().map(|r| r.display().to_string());
        eprintln!(
            "pop3d: serving the Maildirs under {} for {} users on {addr}",
            root.unwrap_or_default(),
            setup.shared.users.len()
        );
    }
    let tls = match (&setup.tls, &o.listen_tls) {
        (None, _) => "no TLS".to_string(),
        (Some(_), None) => format!("STLS on {addr}"),
        (Some(_), Some(s)) => format!("STLS on {addr}, pop3s on {s}"),
    };
    let mut logins = vec!["USER".to_string()];
    if c.apop {
        logins.push("APOP".into());
    }
    let sasl: Vec<&str> = pop3_proto::sasl::SaslMechanism::ALL
        .iter()
        .filter(|m| c.mechanisms.contains(m.bit()) && (setup.tls.is_some() || !m.is_plus()))
        .map(|m| m.name())
        .collect();
    logins.push(format!("SASL {}", sasl.join(" ")));
    let plaintext = match (c.allow_plaintext_auth, setup.tls.is_some()) {
        (true, _) => "passwords accepted without TLS",
        (false, true) => "passwords only under TLS, -PLUS only over TLS",
        (false, false) => "no password login without TLS (--allow-plaintext-auth)",
    };
    eprintln!("pop3d: {tls}; logins: {}; {plaintext}", logins.join(", "));
}
