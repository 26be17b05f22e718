//! Decodes a canned server transcript with `pop3-proto`'s streaming decoder, feeding
//! it in 7-byte pieces as a slow network would, and prints every event.
//!
//! Run: `cargo run --example decode_transcript`

use pop3_proto::{Command, Expect, ResponseDecoder, ResponseEvent};

const TRANSCRIPT: &[u8] = b"+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n\
+OK 2 messages (320 octets)\r\n\
1 120\r\n\
2 200\r\n\
.\r\n\
+OK 120 octets\r\n\
Subject: hi\r\n\
\r\n\
..a line that starts with a dot\r\n\
.\r\n\
-ERR [SYS/TEMP] try again later\r\n";

fn main() {
    // What the client sent, in order; the greeting comes first.
    let mut expected = [
        Expect::Status,
        Command::List(None).expect(),
        Command::Retr(1).expect(),
        Command::Dele(1).expect(),
    ]
    .into_iter();
    let mut decoder = ResponseDecoder::new();
    let mut buf: Vec<u8> = Vec::new();
    for piece in TRANSCRIPT.chunks(7) {
        buf.extend_from_slice(piece);
        loop {
            if decoder.is_idle() {
                match expected.next() {
                    Some(e) => decoder.expect(e),
                    None => break,
                };
            }
            let decoded = decoder.decode(&buf).expect("valid transcript");
            match decoded.item {
                Some(ResponseEvent::Data(d)) => println!("data  {:?}", String::from_utf8_lossy(d)),
                Some(event) => println!("event {event:?}"),
                None if decoded.consumed == 0 => break,
                None => {}
            }
            buf.drain(..decoded.consumed);
        }
    }
}
