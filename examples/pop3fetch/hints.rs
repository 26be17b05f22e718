//! What a failure most likely means and what to do about it: the lines that follow
//! an error, in `--check` and in a normal run alike.

use std::io;

use pop3_proto::response::code::ResponseCode;

/// Why a TCP connection to `host:port` failed.
pub fn connect(e: &io::Error, host: &str, port: u16, timeout_secs: u64) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => format!(
            "nothing listens on {host}:{port}: a wrong port (POP3 is 110, pop3s 995), or the \
             server is down"
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "no answer within {timeout_secs} s: a firewall may drop port {port}, or the host \
             is down"
        ),
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
            "this machine has no route to the server: check the network".to_string()
        }
        _ => format!("check the host name and port ({host}:{port})"),
    }
}

/// Why a TLS handshake failed, from rustls's error; `None` when it tells nothing
/// a user can act on.
pub fn tls(e: &io::Error, host: &str, port: u16) -> Option<String> {
    use rustls::{CertificateError as C, Error as E};
    let inner = e.get_ref()?.downcast_ref::<E>()?;
    Some(match inner {
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "the server's certificate has expired: the server must renew it (or this \
             machine's clock is wrong)"
                .to_string()
        }
        E::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            "the server's certificate is not valid yet: check this machine's clock".to_string()
        }
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => format!(
            "the certificate was issued for another host name than {host}: connect with the \
             name it was issued for"
        ),
        // A self-signed certificate made as a CA (`openssl req -x509`'s default)
        // is refused as a CA used for a server.
        E::InvalidCertificate(C::Other(o)) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
            "the certificate is self-signed (made as a CA): pass it with --ca-file PEM, or \
             give the server a certificate from a CA"
                .to_string()
        }
        E::InvalidCertificate(C::UnknownIssuer) => {
            "the certificate is self-signed or from a CA this machine does not trust: pass \
             that CA (or the server's own certificate) with --ca-file PEM"
                .to_string()
        }
        E::InvalidCertificate(other) => {
            format!("the server's certificate is not acceptable ({other:?}): see --ca-file")
        }
        E::InvalidMessage(_) => plaintext_on_tls(host, port),
        _ => return None,
    })
}

/// A pop3s:// URL for a port that speaks plain POP3.
pub fn plaintext_on_tls(host: &str, port: u16) -> String {
    format!(
        "the server speaks plain text on port {port}, not TLS from the start: use \
         pop3://{host}:{port} with --starttls, or its pop3s port (usually 995)"
    )
}

/// No greeting on a plain connection.
pub fn no_greeting(tls: bool, host: &str, port: u16, timeout_secs: u64) -> String {
    if tls {
        format!("the server said nothing within {timeout_secs} s after the TLS handshake")
    } else {
        format!(
            "no greeting within {timeout_secs} s: the port may expect TLS from the start: \
             use pop3s://{host}:{port}"
        )
    }
}

/// A login refused with this response code (RFC 2449, RFC 3206).
pub fn login(code: Option<&ResponseCode<'_>>) -> String {
    match code {
        Some(ResponseCode::Auth) => {
            "[AUTH]: the user name or password is wrong (or this login method is not \
             allowed for the account)"
                .to_string()
        }
        Some(ResponseCode::SysTemp) => "[SYS/TEMP]: a temporary problem at the server (or too \
             many failed logins lately): try again later"
            .to_string(),
        Some(ResponseCode::SysPerm) => {
            "[SYS/PERM]: the server cannot serve this account: ask its administrator".to_string()
        }
        Some(ResponseCode::InUse) => "[IN-USE]: another client holds the mailbox (a mail \
             program still open, or another fetch): close it or try again later"
            .to_string(),
        Some(ResponseCode::LoginDelay) => "[LOGIN-DELAY]: the server allows a login only so \
             often (see LOGIN-DELAY in CAPA): try again later"
            .to_string(),
        _ => "the server gave no reason (no response code): most often a wrong user name or \
              password"
            .to_string(),
    }
}

/// A login not even tried: no TLS and no --allow-plaintext.
pub fn plaintext_refused(host: &str) -> String {
    format!(
        "no password goes over a connection without TLS: use pop3s://{host} (port 995) or \
         --starttls, or --allow-plaintext on a network you trust"
    )
}
