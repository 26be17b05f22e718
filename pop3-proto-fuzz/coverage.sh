#!/usr/bin/env bash
# Line coverage of the core (pop3-proto/src without the std/async/TLS adapters) from
# the committed corpora and seeds of every target, merged:
#
#   bash pop3-proto-fuzz/coverage.sh            # table per file, then the total
#   bash pop3-proto-fuzz/coverage.sh target...  # only these targets
#
# Needs nightly with llvm-tools (added when missing). Each target's profile
# lands in pop3-proto-fuzz/coverage/<target>/ (git-ignored); the merged one (for
# `llvm-cov show` by hand) in pop3-proto-fuzz/coverage/merged.profdata. The table
# names files relative to pop3-proto/src, whatever they are: no file name is built
# in but the adapters left out.
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
for t in "${targets[@]}"; do
    dirs=()
    for d in "pop3-proto-fuzz/corpora/$t" "pop3-proto-fuzz/seeds/$t"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    [ ${#dirs[@]} -gt 0 ] || { echo "no corpus for $t" >&2; continue; }
    lock cargo +nightly fuzz coverage --fuzz-dir pop3-proto-fuzz "$t" "${dirs[@]}" >"/tmp/coverage-$t.log" 2>&1 \
        || { tail -20 "/tmp/coverage-$t.log"; exit 1; }
    # cargo fuzz coverage builds into the workspace's target directory.
    profiles+=("pop3-proto-fuzz/coverage/$t/coverage.profdata")
done
"$bin/llvm-profdata" merge -sparse "${profiles[@]}" -o pop3-proto-fuzz/coverage/merged.profdata
# The core: everything in pop3-proto/src but the adapters (blocking, tokio, embedded,
# tls), which need I/O and are the integration tests' business.
ignore='(\.cargo|rustc|/pop3-proto-fuzz/|pop3-proto/src/(blocking|tokio|embedded|tls)\.rs)'
# Each target's lines from its own binary and profile, then their union: a line is
# covered when any target covers it. (One `llvm-cov report` over all binaries with
# the merged profile drops the functions whose records differ between binaries,
# "N functions have mismatched data", and under-counts them.)
for i in "${!targets[@]}"; do
    t=${targets[$i]}
    [ -f "pop3-proto-fuzz/coverage/$t/coverage.profdata" ] || continue
    "$bin/llvm-cov" export -format=lcov --instr-profile "pop3-proto-fuzz/coverage/$t/coverage.profdata" \
        "target/$host/coverage/$host/release/$t" --ignore-filename-regex="$ignore" 2>/dev/null
done | sed "s|$(pwd)/pop3-proto/src/||" | awk -F'[:,]' '
    /^SF:/ { file = substr($0, 4) }
    /^DA:/ {
        key = file SUBSEP $2
        if (!(key in hit)) { hit[key] = 0; lines[file]++ }
        if ($3 > 0 && !hit[key]) { hit[key] = 1; covered[file]++ }
    }
    END { for (f in lines) print f, lines[f], covered[f] + 0 }' | sort | awk '
    BEGIN { printf "%-32s %8s %8s %8s\n", "file", "lines", "missed", "cover" }
    { printf "%-32s %8d %8d %7.2f%%\n", $1, $2, $2 - $3, 100 * $3 / $2; tl += $2; tc += $3 }
    END { printf "%-32s %8d %8d %7.2f%%\n", "TOTAL", tl, tl - tc, 100 * tc / tl }'
