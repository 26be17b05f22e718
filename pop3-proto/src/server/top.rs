//! Cutting a message for `TOP msg n`: the headers, the blank line, then `n` lines.
//! `n = u32::MAX` (where the parser saturates larger counts) never cuts.

/// Finds where the TOP output of a message ends, across chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TopFilter {
    /// Body lines still to pass.
    left: u32,
    in_headers: bool,
    /// The current line has had nothing but CR so far.
    line_empty: bool,
    done: bool,
}

impl TopFilter {
    pub(crate) fn new(lines: u32) -> Self {
        TopFilter {
            left: lines,
            in_headers: true,
            line_empty: true,
            done: false,
        }
    }

    /// True once the wanted part has been passed; the rest is cut.
    pub(crate) fn done(&self) -> bool {
        self.done
    }

    /// How many leading bytes of `chunk` belong to the output (all of them unless the
    /// end falls inside this chunk).
    pub(crate) fn pass(&mut self, chunk: &[u8]) -> usize {
        if self.done {
            return 0;
        }
        if !self.in_headers && self.left == 0 {
            // `TOP n 0` ends right after the blank line.
            self.done = true;
            return 0;
        }
        for (i, &b) in chunk.iter().enumerate() {
            match b {
                b'\n' => {
                    if self.in_headers {
                        if self.line_empty {
                            self.in_headers = false;
                            if self.left == 0 {
                                self.done = true;
                                return i + 1;
                            }
                        }
                    } else if self.left != u32::MAX {
                        self.left -= 1;
                        if self.left == 0 {
                            self.done = true;
                            return i + 1;
                        }
                    }
                    self.line_empty = true;
                }
                b'\r' => {}
                _ => self.line_empty = false,
            }
        }
        chunk.len()
    }
}

#[cfg(test)]
mod tests {
    use super::TopFilter;

    #[test]
    fn counts_cut_after_that_many_body_lines() {
        let message = b"Subject: x\r\n\r\none\r\ntwo\r\nthree\r\n";
        let mut top = TopFilter::new(2);
        assert_eq!(top.pass(message), b"Subject: x\r\n\r\none\r\ntwo\r\n".len());
        assert!(top.done());
    }

    #[test]
    fn u32_max_passes_the_whole_message() {
        let mut top = TopFilter::new(u32::MAX);
        for chunk in [&b"Subject: x\n\n"[..], b"one\n", b"two\nthree", b"\n"] {
            assert_eq!(top.pass(chunk), chunk.len());
            assert!(!top.done());
        }
    }
}
