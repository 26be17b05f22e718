//! What the client learnt from CAPA, kept without allocation.

use crate::response::capability::{Capability, Expire};
use crate::sasl::{MechanismSet, SaslMechanism};

/// The server's capabilities as far as the client acts on them.
///
/// Unknown tags and SASL mechanisms this crate does not implement are not kept here
/// (they are still delivered one by one as [`ClientEvent::Capability`](crate::client::ClientEvent::Capability)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Capabilities {
    /// CAPA succeeded since the last reset (greeting, TLS, login).
    pub known: bool,
    /// `TOP`
    pub top: bool,
    /// `USER`
    pub user: bool,
    /// `UIDL`
    pub uidl: bool,
    /// `PIPELINING`
    pub pipelining: bool,
    /// `RESP-CODES`
    pub resp_codes: bool,
    /// `AUTH-RESP-CODE`
    pub auth_resp_code: bool,
    /// `STLS`
    pub stls: bool,
    /// `UTF8` (and whether `USER` was given with it)
    pub utf8: Option<bool>,
    /// `LANG`
    pub lang: bool,
    /// A `SASL` line was present (needed before sending an initial response).
    pub sasl: bool,
    /// The mechanisms of the `SASL` line that this crate implements.
    pub mechanisms: MechanismSet,
    /// `LOGIN-DELAY` seconds.
    pub login_delay: Option<u32>,
    /// `EXPIRE` policy.
    pub expire: Option<Expire>,
}

impl Capabilities {
    /// Records one capability line.
    pub fn record(&mut self, cap: &Capability<'_>) {
        match *cap {
            Capability::Top => self.top = true,
            Capability::User => self.user = true,
            Capability::Uidl => self.uidl = true,
            Capability::Pipelining => self.pipelining = true,
            Capability::RespCodes => self.resp_codes = true,
            Capability::AuthRespCode => self.auth_resp_code = true,
            Capability::Stls => self.stls = true,
            Capability::Utf8 { user } => self.utf8 = Some(user),
            Capability::Lang => self.lang = true,
            Capability::LoginDelay { seconds, .. } => self.login_delay = Some(seconds),
            Capability::Expire { policy, .. } => self.expire = Some(policy),
            Capability::Sasl(list) => {
                self.sasl = true;
                for name in list.names() {
                    if let Some(m) = SaslMechanism::from_name_bytes(name).map(SaslMechanism::bit) {
                        self.mechanisms = self.mechanisms.with(m);
                    }
                }
            }
            Capability::Implementation(_) | Capability::Other { .. } => {}
        }
    }
}
