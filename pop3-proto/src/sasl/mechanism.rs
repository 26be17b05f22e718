//! The SASL mechanism table (RFC 4422 names) and sets of mechanisms, shared by both
//! roles: the one place that lists what this crate implements.

use crate::encode::Writer;

/// A SASL mechanism this crate implements, in both roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SaslMechanism {
    /// PLAIN (RFC 4616).
    Plain,
    /// LOGIN (obsolete draft, still common).
    Login,
    /// CRAM-MD5 (RFC 2195).
    CramMd5,
    /// SCRAM-SHA-1 (RFC 5802).
    ScramSha1,
    /// SCRAM-SHA-256 (RFC 7677).
    ScramSha256,
    /// XOAUTH2 (Google, Microsoft).
    XOAuth2,
    /// OAUTHBEARER (RFC 7628).
    OAuthBearer,
    /// EXTERNAL (RFC 4422): the TLS client certificate.
    External,
    /// SCRAM-SHA-1-PLUS (RFC 5802): SCRAM bound to the TLS session (channel
    /// binding `tls-exporter`, RFC 9266), so a man in the middle that terminates
    /// TLS cannot relay the exchange.
    ScramSha1Plus,
    /// SCRAM-SHA-256-PLUS (RFC 7677, RFC 9266): as SCRAM-SHA-1-PLUS with SHA-256.
    ScramSha256Plus,
}

impl SaslMechanism {
    /// Whether this mechanism's messages can carry these credentials as given: never a
    /// NUL (it ends PLAIN's fields); an authorization identity only where the
    /// mechanism has a field for it (PLAIN, EXTERNAL, SCRAM): LOGIN, CRAM-MD5, XOAUTH2
    /// and OAUTHBEARER would drop it and the server would act as `user`, not as the
    /// identity asked for; no 0x01 in XOAUTH2's or OAUTHBEARER's user or token, where
    /// it separates fields (RFC 7628 §3.1: the server would read another token, or
    /// fields from a crafted name).
    pub(crate) fn carries(self, authzid: &[u8], user: &[u8], secret: &[u8]) -> bool {
        if [authzid, user, secret].iter().any(|c| c.contains(&0)) {
            return false;
        }
        match self {
            SaslMechanism::Login | SaslMechanism::CramMd5 => authzid.is_empty(),
            SaslMechanism::XOAuth2 | SaslMechanism::OAuthBearer => {
                authzid.is_empty() && !user.contains(&1) && !secret.contains(&1)
            }
            _ => true,
        }
    }

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::Login => "LOGIN",
            SaslMechanism::CramMd5 => "CRAM-MD5",
            SaslMechanism::ScramSha1 => "SCRAM-SHA-1",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::XOAuth2 => "XOAUTH2",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
            SaslMechanism::External => "EXTERNAL",
            SaslMechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            SaslMechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
        }
    }

    /// Any SCRAM variant.
    #[cfg(feature = "scram")]
    pub(crate) fn is_scram(self) -> bool {
        matches!(
            self,
            SaslMechanism::ScramSha1
                | SaslMechanism::ScramSha256
                | SaslMechanism::ScramSha1Plus
                | SaslMechanism::ScramSha256Plus
        )
    }

    /// A -PLUS variant (needs the TLS channel binding).
    pub const fn is_plus(self) -> bool {
        matches!(
            self,
            SaslMechanism::ScramSha1Plus | SaslMechanism::ScramSha256Plus
        )
    }

    /// The -PLUS variant of a SCRAM mechanism, and the plain one of a -PLUS.
    pub const fn scram_pair(self) -> Option<SaslMechanism> {
        match self {
            SaslMechanism::ScramSha1 => Some(SaslMechanism::ScramSha1Plus),
            SaslMechanism::ScramSha256 => Some(SaslMechanism::ScramSha256Plus),
            SaslMechanism::ScramSha1Plus => Some(SaslMechanism::ScramSha1),
            SaslMechanism::ScramSha256Plus => Some(SaslMechanism::ScramSha256),
            _ => None,
        }
    }

    /// True if this build has the mechanism: the cargo features `sasl` (PLAIN,
    /// LOGIN, XOAUTH2, OAUTHBEARER, EXTERNAL), `cram-md5` and `scram` (all default)
    /// decide which are compiled in.
    #[allow(clippy::match_like_matches_macro)] // reads as a table, per feature
    pub const fn is_compiled(self) -> bool {
        match self {
            SaslMechanism::CramMd5 => cfg!(feature = "cram-md5"),
            SaslMechanism::ScramSha1
            | SaslMechanism::ScramSha256
            | SaslMechanism::ScramSha1Plus
            | SaslMechanism::ScramSha256Plus => cfg!(feature = "scram"),
            _ => cfg!(feature = "sasl"),
        }
    }

    /// Every mechanism this crate implements.
    pub const ALL: [SaslMechanism; 10] = [
        SaslMechanism::Plain,
        SaslMechanism::Login,
        SaslMechanism::CramMd5,
        SaslMechanism::ScramSha1,
        SaslMechanism::ScramSha256,
        SaslMechanism::XOAuth2,
        SaslMechanism::OAuthBearer,
        SaslMechanism::External,
        SaslMechanism::ScramSha1Plus,
        SaslMechanism::ScramSha256Plus,
    ];

    /// The mechanism of a name (any case), if this crate implements it.
    pub fn from_name(name: &str) -> Option<SaslMechanism> {
        Self::from_name_bytes(name.as_bytes())
    }

    /// [`from_name`](Self::from_name) for a name as bytes.
    pub fn from_name_bytes(name: &[u8]) -> Option<SaslMechanism> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().as_bytes().eq_ignore_ascii_case(name))
    }

    /// The bit of this mechanism in a [`MechanismSet`].
    pub fn bit(self) -> MechanismSet {
        match self {
            SaslMechanism::Plain => MechanismSet::PLAIN,
            SaslMechanism::Login => MechanismSet::LOGIN,
            SaslMechanism::CramMd5 => MechanismSet::CRAM_MD5,
            SaslMechanism::ScramSha1 => MechanismSet::SCRAM_SHA_1,
            SaslMechanism::ScramSha256 => MechanismSet::SCRAM_SHA_256,
            SaslMechanism::XOAuth2 => MechanismSet::XOAUTH2,
            SaslMechanism::OAuthBearer => MechanismSet::OAUTHBEARER,
            SaslMechanism::External => MechanismSet::EXTERNAL,
            SaslMechanism::ScramSha1Plus => MechanismSet::SCRAM_SHA_1_PLUS,
            SaslMechanism::ScramSha256Plus => MechanismSet::SCRAM_SHA_256_PLUS,
        }
    }
}

/// A set of SASL mechanisms, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MechanismSet(pub u16);

impl MechanismSet {
    /// PLAIN (RFC 4616); needs TLS unless plaintext auth is allowed.
    pub const PLAIN: MechanismSet = MechanismSet(1);
    /// LOGIN (obsolete draft); needs TLS unless plaintext auth is allowed.
    pub const LOGIN: MechanismSet = MechanismSet(1 << 1);
    /// CRAM-MD5 (RFC 2195).
    pub const CRAM_MD5: MechanismSet = MechanismSet(1 << 2);
    /// SCRAM-SHA-1 (RFC 5802).
    pub const SCRAM_SHA_1: MechanismSet = MechanismSet(1 << 3);
    /// SCRAM-SHA-256 (RFC 7677).
    pub const SCRAM_SHA_256: MechanismSet = MechanismSet(1 << 4);
    /// XOAUTH2 (Google, Microsoft); needs TLS unless plaintext auth is allowed.
    pub const XOAUTH2: MechanismSet = MechanismSet(1 << 5);
    /// OAUTHBEARER (RFC 7628); needs TLS unless plaintext auth is allowed.
    pub const OAUTHBEARER: MechanismSet = MechanismSet(1 << 6);
    /// EXTERNAL (RFC 4422 appendix A): identity from the TLS client certificate.
    pub const EXTERNAL: MechanismSet = MechanismSet(1 << 7);
    /// SCRAM-SHA-1-PLUS (RFC 5802, RFC 9266): offered only over TLS with a
    /// channel binding.
    pub const SCRAM_SHA_1_PLUS: MechanismSet = MechanismSet(1 << 8);
    /// SCRAM-SHA-256-PLUS (RFC 7677, RFC 9266): offered only over TLS with a
    /// channel binding.
    pub const SCRAM_SHA_256_PLUS: MechanismSet = MechanismSet(1 << 9);
    /// The -PLUS variants.
    pub const PLUS: MechanismSet = MechanismSet(1 << 8 | 1 << 9);
    /// Every mechanism this crate implements.
    pub const ALL: MechanismSet = MechanismSet(0x3ff);
    /// Mechanisms that reveal the secret (or a bearer token) to an eavesdropper.
    pub const PLAINTEXT: MechanismSet = MechanismSet(1 | 1 << 1 | 1 << 5 | 1 << 6);
    /// What a password check answers (PLAIN, LOGIN: a server asks
    /// [`ServerEvent::CheckPassword`](crate::server::ServerEvent::CheckPassword)): the
    /// default of [`ServerConfig::mechanisms`](crate::server::ServerConfig::mechanisms).
    pub const PASSWORD: MechanismSet = MechanismSet(1 | 1 << 1);
    /// SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS variants: a server asks
    /// [`ServerEvent::NeedSecret`](crate::server::ServerEvent::NeedSecret), answered
    /// with the password or a stored verifier.
    pub const SCRAM: MechanismSet = MechanismSet(1 << 3 | 1 << 4 | 1 << 8 | 1 << 9);
    /// XOAUTH2 and OAUTHBEARER: a server asks
    /// [`ServerEvent::CheckToken`](crate::server::ServerEvent::CheckToken).
    pub const TOKENS: MechanismSet = MechanismSet(1 << 5 | 1 << 6);

    /// True if every mechanism of `other` is in `self`.
    pub const fn contains(self, other: MechanismSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two sets.
    pub const fn with(self, other: MechanismSet) -> MechanismSet {
        MechanismSet(self.0 | other.0)
    }

    /// `self` without the mechanisms of `other`.
    pub const fn without(self, other: MechanismSet) -> MechanismSet {
        MechanismSet(self.0 & !other.0)
    }

    /// True if the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The space-separated names of `set`, written into `out`; returns the length.
pub(crate) fn mechanism_list(set: MechanismSet, out: &mut [u8]) -> usize {
    let mut w = Writer::new(out);
    for m in SaslMechanism::ALL {
        if set.contains(m.bit()) {
            if w.len() > 0 {
                let _ = w.put(b" ");
            }
            let _ = w.put(m.name().as_bytes());
        }
    }
    w.len()
}
