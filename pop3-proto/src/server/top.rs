//! Cutting a message for `TOP msg n`: the headers, the blank line, then `n` lines.

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
                    } else {
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
