//! The queue of commands waiting to be sent or answered: [`MAX_QUEUED`] entries
//! of [`Pending`], each without borrowed data (credentials are asked for when their
//! line is written).

use super::error::CommandKind;
use crate::codec::client::Expect;

/// Commands that can be queued or in flight at once; one more is
/// [`ClientError::QueueFull`].
///
/// To fetch more messages than that (a RETR per message of a 40-message mailbox),
/// queue while there is room and refill as replies come in: at each event, while
/// [`Client::queue_room`] allows (it grows as each reply ends), and at
/// [`Poll::Idle`](crate::driver::Poll::Idle) (nothing queued or in flight: then
/// also QUIT once everything was queued). With PIPELINING the queue keeps up to 32
/// commands on the wire; without, they leave one at a time.
///
/// ```
/// use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
/// use pop3_proto::driver::{ClientDriver, Poll};
/// use pop3_proto::time::Instant;
///
/// /// A server in memory: the reply to each command line.
/// fn reply(line: &[u8]) -> Vec<u8> {
///     match line.strip_prefix(b"RETR ") {
///         Some(n) => [b"+OK\r\nmessage ", n, b"\r\n.\r\n"].concat(),
///         None => b"+OK\r\n".to_vec(),
///     }
/// }
///
/// let config = ClientConfig { allow_plaintext: true, auto_capa: false, ..ClientConfig::default() };
/// let mut c = ClientDriver::new(Client::new(config, [1; 32]), [0u8; 1024], [0u8; 512]);
/// let login = Login::UserPass { user: b"alice", password: b"secret" };
/// let (now, count) = (Instant::from_millis(0), 40);
/// let (mut wire, mut next, mut fetched) = (b"+OK ready\r\n".to_vec(), 1, 0);
/// loop {
///     // Refill whenever there is room, from login on.
///     while c.client_ref().is_logged_in() && next <= count && c.client_ref().queue_room() > 0 {
///         c.client().retr(next).unwrap();
///         next += 1;
///     }
///     match c.poll(now).unwrap() {
///         Poll::Transmit => {
///             let sent = c.transmit().to_vec();
///             c.transmitted(sent.len());
///             for line in sent.split_inclusive(|b| *b == b'\n') {
///                 wire.extend(reply(line.trim_ascii_end()));
///             }
///         }
///         Poll::NeedInput { .. } => {
///             let n = wire.len().min(c.input().len());
///             c.input()[..n].copy_from_slice(&wire[..n]);
///             c.received(n);
///             wire.drain(..n);
///         }
///         Poll::Event => match c.event().unwrap() {
///             ClientEvent::Greeting { .. } => c.client().login(login).unwrap(),
///             ClientEvent::NeedCredentials { .. } => c.credentials(&login).unwrap(),
///             ClientEvent::MessageEnd { .. } => fetched += 1,
///             _ => {}
///         },
///         // Everything queued was answered: all fetched, time to go.
///         Poll::Idle => c.client().quit().unwrap(),
///         Poll::Closed => break,
///     }
/// }
/// assert_eq!(fetched, 40);
/// ```
///
/// [`ClientError::QueueFull`]: crate::client::ClientError::QueueFull
/// [`Client::queue_room`]: crate::client::Client::queue_room
pub const MAX_QUEUED: usize = 32;

/// A queued or in-flight command, without borrowed data (credentials are asked
/// for when their line is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pending {
    Capa,
    Stls,
    User,
    Pass,
    Apop,
    Auth { initial_response: bool },
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Retr(u32),
    Top(u32, u32),
    Dele(u32),
    Noop,
    Rset,
    Quit,
    Utf8,
    Lang(Option<[u8; 8]>),
}

impl Pending {
    pub(super) fn kind(&self) -> CommandKind {
        match self {
            Pending::Capa => CommandKind::Capa,
            Pending::Stls => CommandKind::Stls,
            Pending::User => CommandKind::User,
            Pending::Pass => CommandKind::Pass,
            Pending::Apop => CommandKind::Apop,
            Pending::Auth { .. } => CommandKind::Auth,
            Pending::Stat => CommandKind::Stat,
            Pending::List(_) => CommandKind::List,
            Pending::Uidl(_) => CommandKind::Uidl,
            Pending::Retr(_) => CommandKind::Retr,
            Pending::Top(..) => CommandKind::Top,
            Pending::Dele(_) => CommandKind::Dele,
            Pending::Noop => CommandKind::Noop,
            Pending::Rset => CommandKind::Rset,
            Pending::Quit => CommandKind::Quit,
            Pending::Utf8 => CommandKind::Utf8,
            Pending::Lang(_) => CommandKind::Lang,
        }
    }

    pub(super) fn expect(&self) -> Expect {
        match self {
            Pending::Capa | Pending::List(None) | Pending::Uidl(None) | Pending::Lang(None) => {
                Expect::Listing
            }
            Pending::Retr(_) | Pending::Top(..) => Expect::Body,
            Pending::Auth { .. } => Expect::Sasl,
            _ => Expect::Status,
        }
    }

    /// Commands whose line carries credentials (asked for when it is due).
    pub(super) fn needs_credentials(&self) -> bool {
        matches!(
            self,
            Pending::User
                | Pending::Pass
                | Pending::Apop
                | Pending::Auth {
                    initial_response: true
                }
        )
    }

    /// Commands after which nothing may be sent until their reply has arrived.
    pub(super) fn is_barrier(&self) -> bool {
        matches!(
            self,
            Pending::Stls | Pending::Auth { .. } | Pending::Quit | Pending::Capa
        )
    }

    /// The message the command names, if any.
    pub(super) fn msg(&self) -> Option<u32> {
        match *self {
            Pending::Retr(m) | Pending::Top(m, _) | Pending::Dele(m) => Some(m),
            Pending::List(m) | Pending::Uidl(m) => m,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) pending: Pending,
    pub(super) sent: bool,
}
