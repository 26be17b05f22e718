//! The progress bar of a long fetch on a terminal.

use std::collections::VecDeque;
use std::io::{self, IsTerminal};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::listing::Listing;
use crate::options::Options;

/// A progress bar on a terminal (messages, bytes of the total to fetch, rate, time
/// left), hidden when standard error is not a terminal or with --quiet.
pub fn progress_bar(o: &Options, to_fetch: &VecDeque<u32>, listing: &Listing) -> ProgressBar {
    if o.quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total: u64 = to_fetch.iter().filter_map(|m| listing.sizes.get(m)).sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "pop3fetch: {msg:>14} of {prefix} [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
         {binary_bytes_per_sec} {eta} left",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_prefix(to_fetch.len().to_string());
    bar.set_message("0 messages");
    bar
}
