#!/usr/bin/env bash
# Line coverage of the core (pop3-proto/src without the std/async/TLS adapters) from
# the committed corpora and seeds of every target, merged:
#
#   bash pop3-proto-fuzz/coverage.sh            # table per file, then the total
#   bash pop3-proto-fuzz/coverage.sh target...  # only these targets
#
# Needs nightly with llvm-tools (added when missing). Each target's profile lands in
# pop3-proto-fuzz/coverage/<target>/ (git-ignored); the merged one in
# pop3-proto-fuzz/coverage/merged.profdata.
set -euo pipefail
cd "$(dirname "$0")/.."
lock() { if command -v flock >/dev/null && [ -z "${NO_FLOCK:-}" ]; then flock /tmp/cargo-build.lock "$@"; else "$@"; fi; }
sysroot=$(rustc +nightly --print sysroot)
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin="$sysroot/lib/rustlib/$host/bin"
if [ ! -x "$bin/llvm-cov" ]; then
    rustup component add llvm-tools-preview --toolchain nightly
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(cargo +nightly fuzz list --fuzz-dir pop3-proto-fuzz))
profiles=()
objects=()
for t in "${targets[@]}"; do
    dirs=()
    for d in "pop3-proto-fuzz/corpora/$t" "pop3-proto-fuzz/seeds/$t"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    [ ${#dirs[@]} -gt 0 ] || { echo "no corpus for $t" >&2; continue; }
    lock cargo +nightly fuzz coverage --fuzz-dir pop3-proto-fuzz "$t" "${dirs[@]}" >"/tmp/coverage-$t.log" 2>&1 \
        || { tail -20 "/tmp/coverage-$t.log"; exit 1; }
    profiles+=("pop3-proto-fuzz/coverage/$t/coverage.profdata")
    # cargo fuzz coverage builds into the workspace's target directory.
    objects+=(-object "target/$host/coverage/$host/release/$t")
done
"$bin/llvm-profdata" merge -sparse "${profiles[@]}" -o pop3-proto-fuzz/coverage/merged.profdata
# The core: everything in pop3-proto/src but the adapters (blocking, tokio, embedded,
# tls), which need I/O and are the integration tests' business.
"$bin/llvm-cov" report --instr-profile pop3-proto-fuzz/coverage/merged.profdata "${objects[@]}" \
    --ignore-filename-regex='(\.cargo|rustc|/pop3-proto-fuzz/|pop3-proto/src/(blocking|tokio|embedded|tls)\.rs)' \
    --show-region-summary=false --show-branch-summary=false --show-instantiation-summary=false \
    | sed "s|$(pwd)/||"
