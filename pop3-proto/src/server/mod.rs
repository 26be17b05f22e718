//! The server role: RFC 1939 AUTHORIZATION, TRANSACTION and UPDATE as a pure state
//! machine.
//!
//! The server never blocks and owns no mailbox. Whatever it needs from the
//! application (a password check, a message size, a unique-id, message bytes, the
//! deletion at UPDATE) it asks for with a [`ServerEvent`] from
//! [`Server::handle_input`], and the application answers with the matching
//! `answer_*` method before calling `handle_input` again. Message numbers, deletion
//! marks, states and every protocol rule are enforced here, so an application cannot
//! serve a deleted message or expunge outside UPDATE by mistake.
//!
//! Drive it with [`crate::driver::ServerDriver`] and its one loop rule (call `poll`,
//! do what it says, call `poll` again); the calls below are what the driver makes.
//! Used call by call, the rule is: after every call, move
//! [`poll_transmit`](Server::poll_transmit) out and send it *before* waiting for
//! input (a listing's last line may be queued by a call that consumed nothing and
//! returned no event); answer [`event`](Server::event) before
//! [`handle_input`](Server::handle_input) again; wake at
//! [`poll_timeout`](Server::poll_timeout) for [`handle_timeout`](Server::handle_timeout).

// One job per file, each importing only files listed above it:
// config, error, event, marks, top   the settings, API misuse, what the application
//                                    is asked and answers, deletion marks, TOP's cut
// sasl, state                        AUTH's server side, the session's states
// machine                            the Server: state, time, input, dispatch
// authorization, transaction         the commands and answers of each RFC 1939 state
mod authorization;
pub mod config;
mod error;
mod event;
mod machine;
pub mod marks;
mod sasl;
mod state;
mod top;
mod transaction;

pub use config::{MechanismSet, ServerConfig, Tls};
pub use error::ServerError;
pub use event::{BodyWrite, Open, ServerEvent};
pub use machine::Server;
pub use marks::Marks;
