//! Every public error type is a `core::error::Error` with a `Display`, also without
//! `std` (the embedded adapters' `Error<E>` included).

use core::error::Error;

fn is_error<E: Error>(e: E) -> String {
    let text = e.to_string();
    assert!(!text.is_empty());
    text
}

#[test]
fn every_error_type_is_an_error() {
    use pop3_proto::sasl::{
        cram::ContextFormatError, scram::ScramError, scram::VerifierFormatError,
    };
    is_error(pop3_proto::client::ClientError::ReplyTimeout);
    is_error(pop3_proto::client::InvalidReply::NumberOutOfRange { msg: 0 });
    is_error(pop3_proto::server::ServerError::Unexpected);
    is_error(pop3_proto::DecodeError::LineTooLong { limit: 512 });
    is_error(pop3_proto::CommandError::Empty);
    is_error(pop3_proto::EncodeError::BufferTooSmall);
    is_error(pop3_proto::ListingError::MissingField);
    is_error(pop3_proto::sasl::Base64Error::Invalid);
    is_error(ScramError::Malformed);
    is_error(VerifierFormatError);
    is_error(ContextFormatError);
}

/// The configuration's names are set from `&str`, no `heapless` needed; a long
/// one is cut at a character boundary.
#[test]
fn config_names_from_str() {
    use pop3_proto::client::ClientConfig;
    use pop3_proto::server::ServerConfig;
    let c = ClientConfig::default().with_host("mail.example.org", 995);
    assert_eq!((c.host.as_str(), c.port), ("mail.example.org", 995));
    let s = ServerConfig::new("pop.example.org").with_implementation("pop3-proto 1");
    assert_eq!(s.implementation.as_str(), "pop3-proto 1");
    let long = "é".repeat(40); // 80 bytes
    let s = ServerConfig::new(&long);
    assert_eq!(s.hostname.as_str(), "é".repeat(32));
    let _: pop3_proto::ShortString = pop3_proto::short_string("x");
}
