//! SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), and their -PLUS variants
//! bound to the TLS session with `tls-exporter` (RFC 9266), for both roles.
//! Messages are built in fixed buffers; nonces and salts come from the caller.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::encode::Writer;
use crate::sasl::{ct_eq, decode_base64, write_base64};

/// The hash of a SCRAM variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Hash {
    /// SCRAM-SHA-1
    Sha1,
    /// SCRAM-SHA-256
    Sha256,
}

/// Why a SCRAM exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScramError {
    /// A message does not follow the RFC 5802 grammar.
    Malformed,
    /// The server's nonce does not extend the client's.
    NonceMismatch,
    /// `m=` (a mandatory extension we do not know) was present.
    UnsupportedExtension,
    /// The iteration count is below the configured minimum.
    WeakIterationCount,
    /// The iteration count is above [`MAX_ITERATIONS`]: a hostile server could make
    /// the client spin on PBKDF2.
    ExcessiveIterationCount,
    /// A channel binding this end cannot do: a binding type other than
    /// `tls-exporter`, `p=` for plain SCRAM, or `n`/`y` for -PLUS.
    ChannelBinding,
    /// The client's `c=` does not carry this session's binding: the two ends are on
    /// different TLS sessions (a relay in the middle), or it lied.
    ChannelBindingMismatch,
    /// The client could have bound (`y`) and the server offered -PLUS: someone
    /// removed -PLUS from the list the client saw.
    Downgrade,
    /// The client proof is wrong (server side), or the server signature is (client side).
    BadProof,
    /// The server sent `e=`.
    ServerError,
    /// A message is too long for the fixed buffers.
    TooLong,
}

impl core::fmt::Display for ScramError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ScramError::Malformed => "malformed SCRAM message",
            ScramError::NonceMismatch => "SCRAM nonce mismatch",
            ScramError::UnsupportedExtension => "unsupported mandatory SCRAM extension",
            ScramError::WeakIterationCount => "SCRAM iteration count below the minimum",
            ScramError::ExcessiveIterationCount => "SCRAM iteration count above the maximum",
            ScramError::ChannelBinding => "unsupported SCRAM channel binding",
            ScramError::ChannelBindingMismatch => "SCRAM channel binding mismatch",
            ScramError::Downgrade => "SCRAM downgrade from -PLUS",
            ScramError::BadProof => "wrong SCRAM proof or server signature",
            ScramError::ServerError => "the server sent a SCRAM error",
            ScramError::TooLong => "SCRAM message too long",
        })
    }
}

impl core::error::Error for ScramError {}

const MAX_MSG: usize = 384;

/// The highest SCRAM iteration count a client accepts (PBKDF2 cost bound).
pub const MAX_ITERATIONS: u32 = 1_000_000;
type Msg = heapless::Vec<u8, MAX_MSG>;

impl Hash {
    fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
        }
    }

    pub(crate) fn hmac(self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut out = [0u8; 32];
        match self {
            Hash::Sha1 => {
                let mut m =
                    <Hmac<Sha1> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
                parts.iter().for_each(|p| m.update(p));
                out[..20].copy_from_slice(&m.finalize().into_bytes());
            }
            Hash::Sha256 => {
                let mut m =
                    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
                parts.iter().for_each(|p| m.update(p));
                out.copy_from_slice(&m.finalize().into_bytes());
            }
        }
        out
    }

    fn h(self, data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        match self {
            Hash::Sha1 => out[..20].copy_from_slice(&Sha1::digest(data)),
            Hash::Sha256 => out.copy_from_slice(&Sha256::digest(data)),
        }
        out
    }

    /// `Hi()` of RFC 5802: PBKDF2 with HMAC.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
        let mut out = [0u8; 32];
        match self {
            Hash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out[..20]),
            Hash::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
        }
        out
    }
}

/// The keys derived from a password: what a server may store instead of it.
/// `Debug` does not print them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    /// H(ClientKey)
    pub stored_key: [u8; 32],
    /// HMAC(SaltedPassword, "Server Key")
    pub server_key: [u8; 32],
    /// HMAC(SaltedPassword, "Client Key") (the client needs it for its proof).
    pub client_key: [u8; 32],
}

impl core::fmt::Debug for Keys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::Redacted;
        f.debug_struct("Keys")
            .field("stored_key", &Redacted(32))
            .field("server_key", &Redacted(32))
            .field("client_key", &Redacted(32))
            .finish()
    }
}

/// What a server stores instead of a password for SCRAM (RFC 5802 §2.2,
/// RFC 7677): the salt, the iteration count, `StoredKey` and `ServerKey`. It lets the
/// server check a client's proof and prove itself, but not log in as the user;
/// computing it from the password takes the PBKDF2 work once, at enrolment.
/// `Debug` prints the salt, not the keys (they let anyone act as this server).
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    /// SHA-1 or SHA-256.
    pub hash: Hash,
    /// PBKDF2 iterations (4096 or more).
    pub iterations: u32,
    /// The salt (at most 64 octets).
    pub salt: heapless::Vec<u8, 64>,
    /// `H(ClientKey)`, the hash's length.
    pub stored_key: heapless::Vec<u8, 32>,
    /// `HMAC(SaltedPassword, "Server Key")`, the hash's length.
    pub server_key: heapless::Vec<u8, 32>,
}

impl core::fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::{Bytes, Redacted};
        f.debug_struct("ScramVerifier")
            .field("hash", &self.hash)
            .field("iterations", &self.iterations)
            .field("salt", &Bytes(&self.salt))
            .field("stored_key", &Redacted(self.stored_key.len()))
            .field("server_key", &Redacted(self.server_key.len()))
            .finish()
    }
}

/// Why a stored verifier could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VerifierFormatError;

impl core::fmt::Display for VerifierFormatError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("malformed SCRAM verifier")
    }
}

impl core::error::Error for VerifierFormatError {}

impl ScramVerifier {
    /// The verifier of `password` (salt at most 64 octets: longer is cut).
    pub fn compute(hash: Hash, password: &[u8], salt: &[u8], iterations: u32) -> ScramVerifier {
        let salt = &salt[..salt.len().min(64)];
        let keys = Keys::derive(hash, password, salt, iterations);
        let n = hash.len();
        ScramVerifier {
            hash,
            iterations,
            salt: heapless::Vec::from_slice(salt).unwrap_or_default(),
            stored_key: heapless::Vec::from_slice(&keys.stored_key[..n]).unwrap_or_default(),
            server_key: heapless::Vec::from_slice(&keys.server_key[..n]).unwrap_or_default(),
        }
    }

    /// True if `password` is the one this verifier was computed from (for USER/PASS
    /// or PLAIN against stored verifiers): the PBKDF2 work once more.
    pub fn check_password(&self, password: &[u8]) -> bool {
        let keys = Keys::derive(self.hash, password, &self.salt, self.iterations);
        crate::sasl::ct_eq(&keys.stored_key[..self.hash.len()], &self.stored_key)
    }

    /// Writes the verifier as text, the form Dovecot stores:
    /// `{SCRAM-SHA-256}4096,<salt>,<StoredKey>,<ServerKey>` (base64).
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, crate::EncodeError> {
        let mut w = crate::encode::Writer::new(out);
        w.put(match self.hash {
            Hash::Sha1 => b"{SCRAM-SHA-1}",
            Hash::Sha256 => b"{SCRAM-SHA-256}",
        })?;
        w.put_u64(u64::from(self.iterations))?;
        for part in [&self.salt[..], &self.stored_key, &self.server_key] {
            w.put(b",")?;
            crate::sasl::write_base64(&mut w, part)?;
        }
        Ok(w.len())
    }

    /// Reads the text form of [`encode`](Self::encode), or RFC 5803's
    /// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64, as
    /// LDAP directories store it). Anything else, a field missing or too long, or
    /// 0 iterations is an error: a damaged verifier is never taken for anything else.
    pub fn parse(text: &[u8]) -> Result<ScramVerifier, VerifierFormatError> {
        let v = rfc5803::stored_verifier(text).ok_or(VerifierFormatError)?;
        let hash = match v.mech {
            b"SCRAM-SHA-256" => Hash::Sha256,
            _ => Hash::Sha1,
        };
        let iterations = v.iterations;
        let field = |b64: &[u8],
                     max: usize|
         -> Result<heapless::Vec<u8, 64>, VerifierFormatError> {
            let mut buf = [0u8; 64];
            let n = crate::sasl::decode_base64(b64, &mut buf).map_err(|_| VerifierFormatError)?;
            if n == 0 || n > max {
                return Err(VerifierFormatError);
            }
            heapless::Vec::from_slice(&buf[..n]).map_err(|_| VerifierFormatError)
        };
        let salt = field(v.salt, 64)?;
        let stored = field(v.stored_key, hash.len())?;
        let server = field(v.server_key, hash.len())?;
        if stored.len() != hash.len() || server.len() != hash.len() {
            return Err(VerifierFormatError);
        }
        Ok(ScramVerifier {
            hash,
            iterations,
            salt,
            stored_key: heapless::Vec::from_slice(&stored).map_err(|_| VerifierFormatError)?,
            server_key: heapless::Vec::from_slice(&server).map_err(|_| VerifierFormatError)?,
        })
    }

    /// The keys a SCRAM server needs (no client key: a verifier has none).
    pub(crate) fn keys(&self) -> Keys {
        let mut keys = Keys {
            stored_key: [0; 32],
            server_key: [0; 32],
            client_key: [0; 32],
        };
        keys.stored_key[..self.stored_key.len()].copy_from_slice(&self.stored_key);
        keys.server_key[..self.server_key.len()].copy_from_slice(&self.server_key);
        keys
    }
}

impl Keys {
    /// Derives the keys from a password, salt and iteration count.
    pub fn derive(hash: Hash, password: &[u8], salt: &[u8], iterations: u32) -> Keys {
        let salted = hash.salted_password(password, salt, iterations);
        let sp = &salted[..hash.len()];
        let client_key = hash.hmac(sp, &[b"Client Key"]);
        Keys {
            stored_key: hash.h(&client_key[..hash.len()]),
            server_key: hash.hmac(sp, &[b"Server Key"]),
            client_key,
        }
    }
}

use crate::grammar::rfc5802::{self, attribute};
use crate::grammar::rfc5803;

fn push(msg: &mut Msg, parts: &[&[u8]]) -> Result<(), ScramError> {
    for p in parts {
        msg.extend_from_slice(p).map_err(|_| ScramError::TooLong)?;
    }
    Ok(())
}

/// Appends `name` with `=` and `,` escaped as `=3D` and `=2C` (RFC 5802 §5.1).
fn push_saslname(msg: &mut Msg, name: &[u8]) -> Result<(), ScramError> {
    for piece in super::saslname_pieces(name) {
        push(msg, &[piece])?;
    }
    Ok(())
}

/// Writes `proof` / signature bytes as base64 into a message.
fn push_base64(msg: &mut Msg, bytes: &[u8]) -> Result<(), ScramError> {
    // Pieces of 48 bytes (a multiple of 3) encode to the same text as the whole.
    for piece in bytes.chunks(48) {
        let mut tmp = [0u8; 64];
        let mut w = Writer::new(&mut tmp);
        write_base64(&mut w, piece).map_err(|_| ScramError::TooLong)?;
        let n = w.len();
        push(msg, &[&tmp[..n]])?;
    }
    Ok(())
}

/// The channel binding of a SCRAM exchange, as the GS2 header states it
/// (RFC 5802 §6, RFC 9266). `Debug` prints the binding data's length only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Binding<'a> {
    /// `n`: the client cannot bind (no TLS, or no binding data).
    None,
    /// `y`: the client could bind, but the server did not offer a -PLUS mechanism
    /// (a server that did offer one refuses this: a downgrade).
    Unused,
    /// `p=tls-exporter`: bound to this TLS session; the data is its 32-byte
    /// `tls-exporter` value (RFC 9266).
    TlsExporter(&'a [u8]),
}

impl Binding<'_> {
    /// The GS2 channel-binding flag.
    fn flag(&self) -> &'static [u8] {
        match self {
            Binding::None => b"n",
            Binding::Unused => b"y",
            Binding::TlsExporter(_) => b"p=tls-exporter",
        }
    }

    /// The binding data that follows the GS2 header in `c=`.
    fn data(&self) -> &[u8] {
        match self {
            Binding::TlsExporter(data) => data,
            _ => &[],
        }
    }
}

/// The client side of one SCRAM exchange. It holds no credentials: the user name,
/// authorization identity and password are passed to each step that needs them
/// (the same ones each time), so the client keeps only its nonce and, after
/// client-final, the server signature it expects. `Debug` prints the nonce, not
/// the expected signature.
#[derive(Clone)]
pub struct ScramClient {
    hash: Hash,
    nonce: heapless::Vec<u8, 48>,
    server_signature: [u8; 32],
    verified: bool,
}

/// Copies `msg` into `out`; returns its length.
fn copy_out(msg: &[u8], out: &mut [u8]) -> Result<usize, ScramError> {
    out.get_mut(..msg.len())
        .ok_or(ScramError::TooLong)?
        .copy_from_slice(msg);
    Ok(msg.len())
}

/// A nonce either side may write (RFC 5802 `c-nonce`, `s-nonce`: `printable`):
/// not empty, printable ASCII, no `,` (it would end the `r=` attribute early).
fn is_nonce(nonce: &[u8]) -> bool {
    !nonce.is_empty()
        && nonce
            .iter()
            .all(|b| (0x21..=0x7e).contains(b) && *b != b',')
}

impl ScramClient {
    /// Starts an exchange with a client nonce of printable characters (no `,`,
    /// at most 48) from the caller.
    pub fn new(hash: Hash, nonce: &[u8]) -> Result<ScramClient, ScramError> {
        if !is_nonce(nonce) {
            return Err(ScramError::Malformed);
        }
        Ok(ScramClient {
            hash,
            nonce: heapless::Vec::from_slice(nonce).map_err(|_| ScramError::TooLong)?,
            server_signature: [0; 32],
            verified: false,
        })
    }

    /// The GS2 header (`n,,`, `y,a=authzid,`, `p=tls-exporter,,` …) and
    /// `n=user,r=nonce`.
    fn first_parts(
        &self,
        binding: &Binding<'_>,
        authzid: &[u8],
        user: &[u8],
    ) -> Result<(Msg, Msg), ScramError> {
        let mut gs2 = Msg::new();
        push(&mut gs2, &[binding.flag(), b","])?;
        if !authzid.is_empty() {
            push(&mut gs2, &[b"a="])?;
            push_saslname(&mut gs2, authzid)?;
        }
        push(&mut gs2, &[b","])?;
        let mut bare = Msg::new();
        push(&mut bare, &[b"n="])?;
        push_saslname(&mut bare, user)?;
        push(&mut bare, &[b",r=", &self.nonce])?;
        Ok((gs2, bare))
    }

    /// Writes the client-first message (`gs2-header client-first-bare`) for `user`
    /// (and `authzid`, if not empty) with `binding` into `out`; returns its length.
    pub fn client_first(
        &self,
        binding: &Binding<'_>,
        authzid: &[u8],
        user: &[u8],
        out: &mut [u8],
    ) -> Result<usize, ScramError> {
        let (gs2, bare) = self.first_parts(binding, authzid, user)?;
        let n = copy_out(&gs2, out)?;
        Ok(n + copy_out(&bare, out.get_mut(n..).ok_or(ScramError::TooLong)?)?)
    }

    /// Handles server-first and writes client-final into `out` (returns its
    /// length). `binding`, `authzid` and `user` must be those of
    /// [`client_first`](Self::client_first).
    #[allow(clippy::too_many_arguments)]
    pub fn server_first(
        &mut self,
        binding: &Binding<'_>,
        authzid: &[u8],
        user: &[u8],
        message: &[u8],
        password: &[u8],
        min_iterations: u32,
        out: &mut [u8],
    ) -> Result<usize, ScramError> {
        if attribute(message, b'm').is_some() {
            return Err(ScramError::UnsupportedExtension);
        }
        if attribute(message, b'e').is_some() {
            return Err(ScramError::ServerError);
        }
        let nonce = attribute(message, b'r').ok_or(ScramError::Malformed)?;
        let salt_b64 = attribute(message, b's').ok_or(ScramError::Malformed)?;
        let iterations = attribute(message, b'i')
            .and_then(rfc5802::iteration_count)
            .ok_or(ScramError::Malformed)?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(ScramError::NonceMismatch);
        }
        if iterations < min_iterations || iterations == 0 {
            return Err(ScramError::WeakIterationCount);
        }
        if iterations > MAX_ITERATIONS {
            return Err(ScramError::ExcessiveIterationCount);
        }
        let mut salt = [0u8; 128];
        let salt_len = decode_base64(salt_b64, &mut salt).map_err(|_| ScramError::Malformed)?;
        let (gs2, bare) = self.first_parts(binding, authzid, user)?;
        let keys = Keys::derive(self.hash, password, &salt[..salt_len], iterations);
        let n = self.hash.len();
        let mut without_proof = Msg::new();
        push(&mut without_proof, &[b"c="])?;
        // c= is the GS2 header and, when bound, the binding data (RFC 5802 §5.1).
        let mut cbind = Msg::new();
        push(&mut cbind, &[&gs2, binding.data()])?;
        push_base64(&mut without_proof, &cbind)?;
        push(&mut without_proof, &[b",r=", nonce])?;
        let auth_message: [&[u8]; 5] = [&bare, b",", message, b",", &without_proof];
        let signature = self.hash.hmac(&keys.stored_key[..n], &auth_message);
        let mut proof = [0u8; 32];
        for i in 0..n {
            proof[i] = keys.client_key[i] ^ signature[i];
        }
        self.server_signature = self.hash.hmac(&keys.server_key[..n], &auth_message);
        push(&mut without_proof, &[b",p="])?;
        push_base64(&mut without_proof, &proof[..n])?;
        copy_out(&without_proof, out)
    }

    /// Checks server-final (`v=`): the server knew the password.
    pub fn server_final(&mut self, message: &[u8]) -> Result<(), ScramError> {
        if attribute(message, b'e').is_some() {
            return Err(ScramError::ServerError);
        }
        let v = attribute(message, b'v').ok_or(ScramError::Malformed)?;
        let mut sig = [0u8; 64];
        let len = decode_base64(v, &mut sig).map_err(|_| ScramError::Malformed)?;
        if !ct_eq(&sig[..len], &self.server_signature[..self.hash.len()]) {
            return Err(ScramError::BadProof);
        }
        self.verified = true;
        Ok(())
    }

    /// True once the server signature was verified.
    pub fn is_verified(&self) -> bool {
        self.verified
    }
}

/// The channel binding a SCRAM server accepts in client-first (RFC 5802 §6).
/// `Debug` prints the binding data's length only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ServerBinding<'a> {
    /// Plain SCRAM from a server that offers no -PLUS variant: `n`, or `y` (the
    /// client could have bound).
    Unbound,
    /// Plain SCRAM from a server that offers a -PLUS variant: only `n`; `y` means
    /// someone removed -PLUS from the list the client saw (a downgrade).
    UnboundPlusOffered,
    /// A -PLUS mechanism: only `p=tls-exporter`, and `c=` must carry this session's
    /// `tls-exporter` value (RFC 9266).
    TlsExporter(&'a [u8]),
}

/// The server side of one SCRAM exchange. `Debug` prints the names, not the keys.
#[derive(Clone)]
pub struct ScramServer {
    hash: Hash,
    gs2_header: heapless::Vec<u8, 280>,
    /// The channel binding data `c=` must carry after the GS2 header.
    binding: heapless::Vec<u8, 32>,
    client_first_bare: Msg,
    server_first: Msg,
    user: heapless::Vec<u8, 255>,
    authzid: heapless::Vec<u8, 255>,
    keys: Option<Keys>,
}

/// Undoes `=2C` / `=3D` escaping of a `saslname` (any length; emptiness is the
/// caller's check) into `out`; any other `=` is [`ScramError::Malformed`] (RFC
/// 5802 `saslname`, read with the grammar's rule one octet at a time).
fn unescape(name: &[u8], out: &mut heapless::Vec<u8, 255>) -> Result<(), ScramError> {
    let mut rest = name;
    while !rest.is_empty() {
        let (after, b) = rfc5802::saslname_char(rest).map_err(|_| ScramError::Malformed)?;
        out.push(b).map_err(|_| ScramError::TooLong)?;
        rest = after;
    }
    Ok(())
}

impl ScramServer {
    /// Parses client-first of plain SCRAM from a server that offers no -PLUS:
    /// [`client_first_bound`](Self::client_first_bound) with
    /// [`ServerBinding::Unbound`].
    pub fn client_first(hash: Hash, message: &[u8]) -> Result<ScramServer, ScramError> {
        Self::client_first_bound(hash, message, ServerBinding::Unbound)
    }

    /// Parses client-first, checking its channel binding flag against what the
    /// server offers (`binding`); extensions (`m=`) are refused.
    pub fn client_first_bound(
        hash: Hash,
        message: &[u8],
        binding: ServerBinding<'_>,
    ) -> Result<ScramServer, ScramError> {
        let (flag, authzid, bare) = rfc5802::gs2_header(message).ok_or(ScramError::Malformed)?;
        let data: &[u8] = match (flag, binding) {
            (b"n", ServerBinding::Unbound | ServerBinding::UnboundPlusOffered) => &[],
            (b"y", ServerBinding::Unbound) => &[],
            (b"y", ServerBinding::UnboundPlusOffered) => return Err(ScramError::Downgrade),
            (b"p=tls-exporter", ServerBinding::TlsExporter(data)) => data,
            (b"n" | b"y", _) | ([b'p', b'=', ..], _) => return Err(ScramError::ChannelBinding),
            _ => return Err(ScramError::Malformed),
        };
        let gs2_len = flag.len() + authzid.len() + 2;
        let mut server = ScramServer {
            hash,
            gs2_header: heapless::Vec::from_slice(&message[..gs2_len])
                .map_err(|_| ScramError::TooLong)?,
            binding: heapless::Vec::from_slice(data).map_err(|_| ScramError::TooLong)?,
            client_first_bare: Msg::from_slice(bare).map_err(|_| ScramError::TooLong)?,
            server_first: Msg::new(),
            user: heapless::Vec::new(),
            authzid: heapless::Vec::new(),
            keys: None,
        };
        if !authzid.is_empty() {
            let name = rfc5802::authzid(authzid).ok_or(ScramError::Malformed)?;
            unescape(name, &mut server.authzid)?;
        }
        if bare.starts_with(b"m=") {
            return Err(ScramError::UnsupportedExtension);
        }
        let name = rfc5802::username(bare).ok_or(ScramError::Malformed)?;
        unescape(name, &mut server.user)?;
        let nonce = attribute(bare, b'r').ok_or(ScramError::Malformed)?;
        if server.user.is_empty() || nonce.is_empty() {
            return Err(ScramError::Malformed);
        }
        Ok(server)
    }

    /// The user name (unescaped).
    pub fn user(&self) -> &[u8] {
        &self.user
    }

    /// The authorization identity requested (may be empty).
    pub fn authzid(&self) -> &[u8] {
        &self.authzid
    }

    /// Builds server-first from the user's password (or stored keys), a salt and an
    /// iteration count, and the server's nonce part (printable, no `,`: RFC 5802
    /// `printable`). Another nonce is refused with [`ScramError::Malformed`]: the
    /// message would not read back as written (a `,` ends the nonce early).
    pub fn server_first(
        &mut self,
        keys: Keys,
        salt: &[u8],
        iterations: u32,
        server_nonce: &[u8],
    ) -> Result<&[u8], ScramError> {
        if !is_nonce(server_nonce) {
            return Err(ScramError::Malformed);
        }
        let client_nonce = attribute(&self.client_first_bare, b'r').ok_or(ScramError::Malformed)?;
        let mut msg = Msg::new();
        push(&mut msg, &[b"r=", client_nonce, server_nonce, b",s="])?;
        push_base64(&mut msg, salt)?;
        push(&mut msg, &[b",i="])?;
        let mut digits = [0u8; 10];
        let mut w = Writer::new(&mut digits);
        w.put_u64(u64::from(iterations))
            .map_err(|_| ScramError::TooLong)?;
        let n = w.len();
        push(&mut msg, &[&digits[..n]])?;
        self.server_first = msg;
        self.keys = Some(keys);
        Ok(&self.server_first)
    }

    /// Verifies client-final; on success returns server-final (`v=...`).
    pub fn client_final(&self, message: &[u8]) -> Result<Msg, ScramError> {
        let keys = self.keys.ok_or(ScramError::Malformed)?;
        let n = self.hash.len();
        let proof_at = message
            .windows(3)
            .rposition(|w| w == b",p=")
            .ok_or(ScramError::Malformed)?;
        let without_proof = &message[..proof_at];
        let proof_b64 = &message[proof_at + 3..];
        // c= is the GS2 header and, when bound, this session's binding data.
        let mut cbind = Msg::new();
        push(&mut cbind, &[&self.gs2_header, &self.binding])?;
        let mut expected = Msg::new();
        push_base64(&mut expected, &cbind)?;
        if attribute(without_proof, b'c') != Some(&expected[..]) {
            return Err(ScramError::ChannelBindingMismatch);
        }
        let full_nonce = attribute(&self.server_first, b'r').ok_or(ScramError::Malformed)?;
        if attribute(without_proof, b'r') != Some(full_nonce) {
            return Err(ScramError::NonceMismatch);
        }
        let mut proof = [0u8; 64];
        let len = decode_base64(proof_b64, &mut proof).map_err(|_| ScramError::Malformed)?;
        if len != n {
            return Err(ScramError::BadProof);
        }
        let auth_message: [&[u8]; 5] = [
            &self.client_first_bare,
            b",",
            &self.server_first,
            b",",
            without_proof,
        ];
        let signature = self.hash.hmac(&keys.stored_key[..n], &auth_message);
        let mut client_key = [0u8; 32];
        for i in 0..n {
            client_key[i] = proof[i] ^ signature[i];
        }
        if !ct_eq(&self.hash.h(&client_key[..n])[..n], &keys.stored_key[..n]) {
            return Err(ScramError::BadProof);
        }
        let server_signature = self.hash.hmac(&keys.server_key[..n], &auth_message);
        let mut out = Msg::new();
        push(&mut out, &[b"v="])?;
        push_base64(&mut out, &server_signature[..n])?;
        Ok(out)
    }
}

impl core::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::{Bytes, Redacted};
        f.debug_struct("ScramClient")
            .field("hash", &self.hash)
            .field("nonce", &Bytes(&self.nonce))
            .field("server_signature", &Redacted(self.server_signature.len()))
            .field("verified", &self.verified)
            .finish()
    }
}

impl core::fmt::Debug for ScramServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::Bytes;
        f.debug_struct("ScramServer")
            .field("hash", &self.hash)
            .field("user", &Bytes(&self.user))
            .field("authzid", &Bytes(&self.authzid))
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for Binding<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Binding::None => f.write_str("None"),
            Binding::Unused => f.write_str("Unused"),
            Binding::TlsExporter(data) => f
                .debug_tuple("TlsExporter")
                .field(&crate::debug::Redacted(data.len()))
                .finish(),
        }
    }
}

impl core::fmt::Debug for ServerBinding<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ServerBinding::Unbound => f.write_str("Unbound"),
            ServerBinding::UnboundPlusOffered => f.write_str("UnboundPlusOffered"),
            ServerBinding::TlsExporter(data) => f
                .debug_tuple("TlsExporter")
                .field(&crate::debug::Redacted(data.len()))
                .finish(),
        }
    }
}
