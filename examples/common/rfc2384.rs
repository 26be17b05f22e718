//! RFC 2384 (POP URL Scheme), §8 formal syntax: one `nom` parser per rule, on bytes,
//! as the library's own grammar (`pop3-proto/src/grammar/`) is written. Each
//! function is named after the ABNF rule it parses and its doc quotes the rule; where
//! the fetchers take more than the rule (they always did: their URL is typed by a
//! user), the doc says how.
//!
//! Beyond the RFC the fetchers take the schemes `pop3://` and, for TLS from the
//! start, `pops://` and `pop3s://`; `;AUTH=USER` for USER/PASS; an IPv6 address in
//! brackets; and trailing slashes.
//!
//! The rules fail with `()`; [`pop_url`] says which part of a URL is wrong.

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_until, take_while, take_while1, take_while_m_n};
use nom::combinator::{all_consuming, map, map_res, rest};
use nom::multi::fold_many0;
use nom::sequence::{delimited, preceded, terminated};
use nom::Parser;

use pop3_proto::client::SaslMechanism;

/// What every rule returns: the rest of the input and the value, or `()`.
type Res<'a, O> = nom::IResult<&'a [u8], O, ()>;

/// How to authenticate, from the URL.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `*` or nothing: the best the server offers.
    Any,
    /// `+APOP`
    Apop,
    /// USER/PASS (`;AUTH=USER` is not in RFC 2384 but common)
    User,
    /// A SASL mechanism.
    Sasl(SaslMechanism),
}

/// A POP URL, decoded.
#[derive(Debug)]
pub struct Url {
    pub tls: bool,
    pub user: String,
    pub auth: Auth,
    pub host: String,
    pub port: u16,
}

/// `pop-url = "pop://" server`, and the fetchers' other schemes: a URL, or what is
/// wrong with it (in this order: the scheme, the user, the `;AUTH=`, the host and
/// port, the user's %-escapes).
pub fn pop_url(input: &[u8]) -> Result<Url, String> {
    let (server_text, name) =
        scheme(input).map_err(|_| "URL must start with pop3:// or pop3s://".to_string())?;
    let tls = match name.to_ascii_lowercase().as_slice() {
        b"pop" | b"pop3" => false,
        b"pops" | b"pop3s" => true,
        other => return Err(format!("unknown scheme {}", text(other))),
    };
    // A URL may end with a slash (an empty `url-path`, RFC 1738), or several.
    let end = server_text
        .iter()
        .rposition(|b| *b != b'/')
        .map_or(0, |i| i + 1);
    let ((user, auth), (host, port)) = server(&server_text[..end])?;
    let (_, user) = all_consuming(enc_user)
        .parse(user)
        .map_err(|_| "bad %-escape".to_string())?;
    Ok(Url {
        tls,
        user: String::from_utf8(user).map_err(|_| "user name is not UTF-8".to_string())?,
        auth,
        host: text(host),
        port: port.unwrap_or(if tls { 995 } else { 110 }),
    })
}

/// The scheme name before `://` (`pop` in `pop-url = "pop://" server`).
pub fn scheme(i: &[u8]) -> Res<'_, &[u8]> {
    terminated(take_until("://"), tag("://")).parse(i)
}

/// `server = [user-auth "@"] hostport`. The fetchers need a user, so the
/// `user-auth "@"` is required; it ends at the last `@` (a user name may hold one,
/// a host name cannot). Returns the still %-encoded user, the `auth`, and the host
/// and port.
#[allow(clippy::type_complexity)]
pub fn server(i: &[u8]) -> Result<((&[u8], Auth), (&[u8], Option<u16>)), String> {
    let at = i
        .iter()
        .rposition(|b| *b == b'@')
        .ok_or("URL needs a user: pop3://user@host")?;
    let user_auth = user_auth(&i[..at])?;
    let hostport = hostport(&i[at + 1..])?;
    Ok((user_auth, hostport))
}

/// `user-auth = enc-user [auth]`: the user (still %-encoded: [`enc_user`] decodes
/// it) up to the first `;`, and the `auth` after it ([`Auth::Any`] without one).
pub fn user_auth(i: &[u8]) -> Result<(&[u8], Auth), String> {
    let (i, user) = take_while::<_, _, ()>(|b| b != b';')
        .parse(i)
        .unwrap_or((&i[i.len()..], i));
    if i.is_empty() {
        return Ok((user, Auth::Any));
    }
    Ok((user, auth(i)?))
}

/// `auth = ";AUTH=" ( "*" / enc-auth-type )`; the literal in any case, as ABNF
/// strings are (RFC 5234 §2.3).
pub fn auth(i: &[u8]) -> Result<Auth, String> {
    let (mech, _) = tag_no_case::<_, _, ()>(";AUTH=")
        .parse(i)
        .map_err(|_| "expected ;AUTH=".to_string())?;
    if mech == b"*" {
        return Ok(Auth::Any);
    }
    enc_auth_type(mech)
}

/// `enc-auth-type = enc-sasl / enc-ext`, `enc-ext = "+" ("APOP" / 1*achar)`,
/// `enc-sasl = 1*achar`: `+APOP`, or a SASL mechanism this client has; also `USER`
/// (USER/PASS, not in the RFC). Any case; no %-escapes are decoded in a mechanism
/// name (none has a character that needs one).
pub fn enc_auth_type(mech: &[u8]) -> Result<Auth, String> {
    if mech.eq_ignore_ascii_case(b"+APOP") {
        return Ok(Auth::Apop);
    }
    if mech.eq_ignore_ascii_case(b"USER") {
        return Ok(Auth::User);
    }
    let (_, sasl) = all_consuming(enc_sasl)
        .parse(mech)
        .map_err(|_| format!("unsupported mechanism {}", text(mech)))?;
    Ok(Auth::Sasl(sasl))
}

/// `enc-sasl = 1*achar` (encoded version of [SASL] "auth_type"): the mechanisms
/// this client knows, by name, any case.
pub fn enc_sasl(i: &[u8]) -> Res<'_, SaslMechanism> {
    map_res(rest, |name: &[u8]| {
        SaslMechanism::from_name_bytes(name).ok_or(())
    })
    .parse(i)
}

/// `enc-user = 1*achar` (encoded version of [POP3] mailbox), decoded. The fetchers
/// take any octet but `%` as itself (and an empty user), not only `achar`'s.
pub fn enc_user(i: &[u8]) -> Res<'_, Vec<u8>> {
    fold_many0(alt((escape, achar)), Vec::new, |mut user, b| {
        user.push(b);
        user
    })
    .parse(i)
}

/// `achar = uchar / "&" / "=" / "~"`, `uchar = unreserved | escape` (RFC 1738):
/// one octet as itself. Taken here: any octet but `%` (which starts an [`escape`])
/// and `;` (which starts an `auth`).
pub fn achar(i: &[u8]) -> Res<'_, u8> {
    map(
        take_while_m_n(1, 1, |b| b != b'%' && b != b';'),
        |b: &[u8]| b[0],
    )
    .parse(i)
}

/// `escape = "%" hex hex` (RFC 1738): one octet. (The hand-written parser before
/// this grammar also took `%+h`, a sign and one digit, through Rust's number
/// parsing; refused now.)
pub fn escape(i: &[u8]) -> Res<'_, u8> {
    let hex = |n| take_while_m_n(n, n, |b: u8| b.is_ascii_hexdigit());
    let digits = hex(2);
    preceded(
        tag("%"),
        map_res(digits, |d: &[u8]| {
            u8::from_str_radix(std::str::from_utf8(d).map_err(|_| ())?, 16).map_err(|_| ())
        }),
    )
    .parse(i)
}

/// `hostport = host [ ":" port ]` (RFC 1738), and `"[" IPv6address "]" [ ":" port ]`.
/// Without a port, `None` (the scheme's default applies).
pub fn hostport(i: &[u8]) -> Result<(&[u8], Option<u16>), String> {
    if i.first() == Some(&b'[') {
        let (after, host) = ipv6_reference(i).map_err(|_| "bad IPv6 address".to_string())?;
        // What follows `]` is a port after a colon, or ignored.
        let port = match after.strip_prefix(b":") {
            Some(p) => Some(whole_port(p)?),
            None => None,
        };
        return Ok((host, port));
    }
    match i.iter().rposition(|b| *b == b':') {
        Some(colon) => Ok((host(&i[..colon]), Some(whole_port(&i[colon + 1..])?))),
        None => Ok((host(i), None)),
    }
}

/// `"[" IPv6address "]"` (as RFC 3986 writes a literal): the address between the
/// brackets, unchecked (name resolution judges it).
pub fn ipv6_reference(i: &[u8]) -> Res<'_, &[u8]> {
    delimited(tag("["), take_until("]"), tag("]")).parse(i)
}

/// `host = hostname | hostnumber` (RFC 1738): taken as written, any octets (name
/// resolution judges them); the last `:` ends it.
pub fn host(i: &[u8]) -> &[u8] {
    i
}

/// `port = digits` (RFC 1738), at most 65535. (The parser before this grammar
/// also took a leading `+` through Rust's number parsing; refused now.)
pub fn port(i: &[u8]) -> Res<'_, u16> {
    let digits = take_while1(|b: u8| b.is_ascii_digit());
    map_res(digits, |d: &[u8]| {
        std::str::from_utf8(d)
            .map_err(|_| ())?
            .parse::<u16>()
            .map_err(|_| ())
    })
    .parse(i)
}

/// A [`port`] that is the whole input.
fn whole_port(i: &[u8]) -> Result<u16, String> {
    all_consuming(port)
        .parse(i)
        .map(|(_, p)| p)
        .map_err(|_| "bad port".to_string())
}

/// Octets of the URL as text (the URL came as text: whole characters).
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Url, String> {
        pop_url(s.as_bytes())
    }

    #[test]
    fn the_rules_take_what_they_name() {
        assert_eq!(scheme(b"pop://u@h"), Ok((&b"u@h"[..], &b"pop"[..])));
        assert!(scheme(b"pop:/u@h").is_err());
        assert_eq!(escape(b"%41rest"), Ok((&b"rest"[..], b'A')));
        assert_eq!(escape(b"%e9"), Ok((&b""[..], 0xe9)));
        assert!(escape(b"%+f").is_err());
        assert!(escape(b"%4").is_err());
        assert!(escape(b"%zz").is_err());
        assert!(escape(b"%-1").is_err());
        assert_eq!(achar(b"a;"), Ok((&b";"[..], b'a')));
        assert!(achar(b";").is_err());
        assert!(achar(b"%41").is_err());
        assert_eq!(enc_user(b"a%40b"), Ok((&b""[..], b"a@b".to_vec())));
        assert_eq!(enc_user(b"a%4"), Ok((&b"%4"[..], b"a".to_vec())));
        assert_eq!(port(b"110"), Ok((&b""[..], 110)));
        assert!(port(b"+995").is_err());
        assert!(port(b"65536").is_err());
        assert!(port(b"").is_err());
        assert!(port(b"+").is_err());
        assert_eq!(ipv6_reference(b"[::1]:1"), Ok((&b":1"[..], &b"::1"[..])));
        assert!(ipv6_reference(b"[::1").is_err());
        assert_eq!(hostport(b"h:1"), Ok((&b"h"[..], Some(1))));
        assert_eq!(hostport(b"a:b:1"), Ok((&b"a:b"[..], Some(1))));
        assert_eq!(hostport(b"h"), Ok((&b"h"[..], None)));
        assert_eq!(hostport(b"[::1]x"), Ok((&b"::1"[..], None)));
        assert_eq!(hostport(b"h:"), Err("bad port".to_string()));
        assert_eq!(auth(b";AUTH=*"), Ok(Auth::Any));
        assert_eq!(auth(b";auth=+apop"), Ok(Auth::Apop));
        assert_eq!(auth(b";AUTH=user"), Ok(Auth::User));
        assert_eq!(
            auth(b";AUTH=scram-sha-256"),
            Ok(Auth::Sasl(SaslMechanism::ScramSha256))
        );
        assert_eq!(auth(b";Auth=PLAIN"), Ok(Auth::Sasl(SaslMechanism::Plain)));
        assert_eq!(
            auth(b";AUTH=+X"),
            Err("unsupported mechanism +X".to_string())
        );
        assert_eq!(user_auth(b"bob"), Ok((&b"bob"[..], Auth::Any)));
    }

    #[test]
    fn urls_taken() {
        let u = parse("pop3s://al%40ice;AUTH=PLAIN@mail.example.org/").unwrap();
        assert!(u.tls);
        assert_eq!(u.user, "al@ice");
        assert_eq!(u.auth, Auth::Sasl(SaslMechanism::Plain));
        assert_eq!((u.host.as_str(), u.port), ("mail.example.org", 995));
        let u = parse("POP://a@b@[::1]:1110//").unwrap();
        assert!(!u.tls);
        assert_eq!(
            (u.user.as_str(), u.host.as_str(), u.port),
            ("a@b", "::1", 1110)
        );
        let u = parse("pop3://@h").unwrap();
        assert_eq!((u.user.as_str(), u.host.as_str(), u.port), ("", "h", 110));
        let u = parse("pops://u;AUTH=*@:7").unwrap();
        assert_eq!((u.auth, u.host.as_str(), u.port), (Auth::Any, "", 7));
    }

    #[test]
    fn urls_refused_with_their_reason() {
        for (url, why) in [
            (
                "mail.example.org",
                "URL must start with pop3:// or pop3s://",
            ),
            ("IMAP://u@h", "unknown scheme imap"),
            ("pop3://h", "URL needs a user: pop3://user@host"),
            ("pop3://u;x@h", "expected ;AUTH="),
            ("pop3://u;AUTH=NOPE@h", "unsupported mechanism NOPE"),
            ("pop3://u@h:x", "bad port"),
            ("pop3://u@h:70000", "bad port"),
            ("pop3://u@[::1", "bad IPv6 address"),
            ("pop3://u@[::1]:", "bad port"),
            ("pop3://u%4@h", "bad %-escape"),
            ("pop3://u%ff@h", "user name is not UTF-8"),
            // The first fault in that order is named.
            ("pop3://u%zz;x@h:y", "expected ;AUTH="),
            ("pop3://u%zz@h:y", "bad port"),
        ] {
            assert_eq!(parse(url).map(|_| ()), Err(why.to_string()), "{url}");
        }
    }

    /// The parser before the grammar (hand-written on `&str`), kept to hold the
    /// rules to the inputs it took and refused, with the three changes made on
    /// purpose: `;AUTH=` in any case, no `+` in a `%`-escape or a port.
    fn earlier(url: &str) -> Result<Url, String> {
        fn percent_decode(s: &str) -> Result<String, String> {
            let mut out = Vec::new();
            let b = s.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    let hex = s.get(i + 1..i + 3).ok_or("bad %-escape")?;
                    if hex.starts_with('+') {
                        return Err("bad %-escape".into());
                    }
                    out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad %-escape")?);
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).map_err(|_| "user name is not UTF-8".to_string())
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("URL must start with pop3:// or pop3s://")?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "pop" | "pop3" => false,
            "pops" | "pop3s" => true,
            other => return Err(format!("unknown scheme {other}")),
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = rest
            .rsplit_once('@')
            .ok_or("URL needs a user: pop3://user@host")?;
        let (user, auth) = match userinfo.split_once(';') {
            None => (userinfo, Auth::Any),
            Some((u, a)) => {
                let mech = a
                    .get(..5)
                    .filter(|p| p.eq_ignore_ascii_case("AUTH="))
                    .map(|_| &a[5..])
                    .ok_or("expected ;AUTH=")?;
                let auth = match mech {
                    "*" => Auth::Any,
                    m if m.eq_ignore_ascii_case("+APOP") => Auth::Apop,
                    m if m.eq_ignore_ascii_case("USER") => Auth::User,
                    m => Auth::Sasl(
                        SaslMechanism::from_name(m).ok_or(format!("unsupported mechanism {m}"))?,
                    ),
                };
                (u, auth)
            }
        };
        fn no_sign_port(p: &str) -> Result<u16, ()> {
            if p.starts_with('+') {
                return Err(());
            }
            p.parse().map_err(|_| ())
        }
        let default_port = if tls { 995 } else { 110 };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, p) = v6.split_once(']').ok_or("bad IPv6 address")?;
            (
                h.to_string(),
                p.strip_prefix(':')
                    .map(no_sign_port)
                    .transpose()
                    .map_err(|_| "bad port")?,
            )
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    Some(no_sign_port(p).map_err(|_| "bad port")?),
                ),
                None => (hostport.to_string(), None),
            }
        };
        Ok(Url {
            tls,
            user: percent_decode(user)?,
            auth,
            host,
            port: port.unwrap_or(default_port),
        })
    }

    fn same(url: &str) -> Result<(), String> {
        let key = |r: Result<Url, String>| r.map(|u| (u.tls, u.user, u.auth, u.host, u.port));
        let (new, old) = (key(parse(url)), key(earlier(url)));
        if new == old {
            Ok(())
        } else {
            Err(format!("{url:?}: grammar {new:?}, before {old:?}"))
        }
    }

    #[test]
    fn takes_and_refuses_what_the_earlier_parser_did() {
        let pieces = [
            "pop",
            "pop3",
            "POP3S",
            "pops",
            "imap",
            "://",
            ":/",
            "@",
            ";",
            ";AUTH=",
            ";auth=",
            "AUTH=",
            "*",
            "+APOP",
            "+apop",
            "USER",
            "PLAIN",
            "SCRAM-SHA-256-PLUS",
            "x",
            "%",
            "%4",
            "%41",
            "%+1",
            "%-1",
            "%zz",
            "%e9",
            "%c3%a9",
            "é",
            "[",
            "]",
            "::1",
            ":",
            "110",
            "+110",
            "-1",
            "65535",
            "65536",
            "0",
            "/",
            "//",
            "h.example",
        ];
        // Every sequence of up to three pieces.
        let mut urls = vec![String::new()];
        let mut all = Vec::new();
        for _ in 0..3 {
            let mut next = Vec::new();
            for u in &urls {
                for p in pieces {
                    next.push(format!("{u}{p}"));
                }
            }
            all.extend(next.iter().cloned());
            urls = next;
        }
        for scheme in ["pop3://", "pop3s://"] {
            for rest in &all {
                same(&format!("{scheme}{rest}")).unwrap();
            }
        }
        for u in &all {
            same(u).unwrap();
        }
    }

    proptest::proptest! {
        #[test]
        fn any_url_as_before(rest in "[a-zA-Z0-9@;:%+*=\\[\\]/.é-]{0,40}") {
            same(&format!("pop3://{rest}")).unwrap();
            same(&rest).unwrap();
        }
    }
}
