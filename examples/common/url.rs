//! RFC 2384 POP URLs (parsed by the grammar in `rfc2384.rs`) and the login they
//! ask for, shared by the fetchers.
#![allow(dead_code)]

use pop3_proto::client::{Capabilities, Client, Login, SaslMechanism};
use pop3_proto::sasl::MechanismSet;

#[path = "rfc2384.rs"]
mod rfc2384;

pub use rfc2384::{Auth, Url};

/// Parses `pop3://user;AUTH=MECH@host:port` (or `pop3s://`, implicit TLS): RFC
/// 2384's `pop-url`, with the fetchers' additions (`rfc2384.rs`).
pub fn parse(url: &str) -> Result<Url, String> {
    rfc2384::pop_url(url.as_bytes())
}

/// Whether this login can be used here. Without TLS, and unless plaintext is allowed,
/// no login that involves the password is: USER/PASS, PLAIN and LOGIN send it, and a
/// man in the middle who rewrites CAPA or the greeting gets a CRAM-MD5, SCRAM or APOP
/// digest instead, which a word list cracks offline; XOAUTH2 and OAUTHBEARER send a
/// bearer token in cleartext. Only EXTERNAL, which sends no secret, is left.
pub fn allowed_without_tls(login: &Login<'_>) -> bool {
    matches!(
        login,
        Login::Sasl {
            mechanism: SaslMechanism::External,
            ..
        }
    )
}

/// What the server offered that this client can use: SCRAM -PLUS needs the TLS
/// session's binding (TLS 1.3 in our adapters), so not without it.
pub fn usable_capabilities(client: &Client) -> Capabilities {
    let mut caps = *client.capabilities();
    if !client.has_channel_binding() {
        caps.mechanisms = caps.mechanisms.without(MechanismSet::PLUS);
    }
    caps
}

/// The login the URL asks for; `AUTH=*` picks the strongest mechanism the server
/// offers, else USER/PASS. Without TLS, and unless `allow_plaintext`, every login
/// that involves the password is refused (see [`allowed_without_tls`]), the
/// mechanism an `AUTH=` in the URL names as well as any the server offers.
pub fn choose_login<'a>(
    url: &'a Url,
    caps: &Capabilities,
    tls_active: bool,
    allow_plaintext: bool,
    secret: &'a [u8],
) -> Result<Login<'a>, String> {
    let user = url.user.as_bytes();
    let sasl = |mechanism| Login::Sasl {
        mechanism,
        authzid: b"",
        user,
        secret,
    };
    let login = match &url.auth {
        Auth::Apop => Login::Apop { user, secret },
        Auth::User => Login::UserPass {
            user,
            password: secret,
        },
        Auth::Sasl(m) => sasl(*m),
        Auth::Any => [
            SaslMechanism::ScramSha256Plus,
            SaslMechanism::ScramSha1Plus,
            SaslMechanism::ScramSha256,
            SaslMechanism::ScramSha1,
            SaslMechanism::CramMd5,
            SaslMechanism::Plain,
            SaslMechanism::Login,
        ]
        .into_iter()
        .find(|m| caps.mechanisms.contains(m.bit()))
        .map_or(
            Login::UserPass {
                user,
                password: secret,
            },
            sasl,
        ),
    };
    if tls_active || allow_plaintext || allowed_without_tls(&login) {
        return Ok(login);
    }
    let what = match (&url.auth, login) {
        (Auth::Any, _) => "logging in".to_string(),
        (_, Login::Apop { .. }) => "APOP".to_string(),
        (_, Login::UserPass { .. }) => "USER/PASS".to_string(),
        (_, Login::Sasl { mechanism, .. }) => format!("AUTH={}", mechanism.name()),
    };
    Err(format!(
        "{what} without TLS would expose the password (sent in cleartext, or as a digest \
         a word list cracks offline): use pop3s://, --starttls, or --allow-plaintext \
         on a trusted network"
    ))
}

/// [`choose_login`] for callers that let the client refuse: where the choice is
/// refused this returns USER/PASS, which the client itself refuses without TLS
/// unless plaintext is allowed ([`ClientError::PlaintextRefused`]), so no digest
/// ever leaves without TLS either.
///
/// [`ClientError::PlaintextRefused`]: pop3_proto::client::ClientError::PlaintextRefused
pub fn login<'a>(
    url: &'a Url,
    caps: &Capabilities,
    tls_active: bool,
    allow_plaintext: bool,
    secret: &'a [u8],
) -> Login<'a> {
    choose_login(url, caps, tls_active, allow_plaintext, secret).unwrap_or(Login::UserPass {
        user: url.user.as_bytes(),
        password: secret,
    })
}

/// The login to try once more when `tried` was SCRAM -PLUS and the server refused it
/// before the proof (`challenged`: whether a server-first message came): the same
/// SCRAM without -PLUS. Some servers offer -PLUS but know only an older binding
/// than RFC 9266's `tls-exporter` (Cyrus 3.6 under TLS 1.3: `-ERR [AUTH]
/// authenticating: bad protocol / cancel` to the first message). The retry
/// binds nothing (`n`), so it gives up the protection -PLUS adds against a relay
/// with a trusted certificate; a refusal after the proof (a wrong password) is
/// never retried, and neither is a mechanism the URL names (`;AUTH=…`).
pub fn plus_fallback<'a>(url: &Url, tried: &Login<'a>, challenged: bool) -> Option<Login<'a>> {
    if !matches!(url.auth, Auth::Any) {
        return None;
    }
    match *tried {
        Login::Sasl {
            mechanism,
            authzid,
            user,
            secret,
        } if mechanism.is_plus() && !challenged => Some(Login::Sasl {
            mechanism: mechanism.scram_pair()?,
            authzid,
            user,
            secret,
        }),
        _ => None,
    }
}
