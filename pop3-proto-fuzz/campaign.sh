#!/usr/bin/env bash
# A fuzzing campaign over every target: seconds per target (default 1800), two
# targets at a time, seeded from seeds/ and the committed corpora/ and the POP3 dictionary. Writes a summary of
# executions, exec/s, coverage and crashes to campaign-summary.txt.
#
#   bash pop3-proto-fuzz/campaign.sh [seconds-per-target] [jobs]
#
# Crashes land in pop3-proto-fuzz/artifacts/<target>/; each one found must become a
# regression test in pop3-proto/tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-1800}
jobs=${2:-2}
# Every [[bin]] of pop3-proto-fuzz/Cargo.toml.
targets=($(cargo +nightly fuzz list --fuzz-dir pop3-proto-fuzz))
cargo +nightly fuzz build -O --fuzz-dir pop3-proto-fuzz
mkdir -p pop3-proto-fuzz/logs
run() {
    local t=$1
    mkdir -p "pop3-proto-fuzz/corpus/$t" "pop3-proto-fuzz/artifacts/$t"
    local seeds=()
    [ -d "pop3-proto-fuzz/seeds/$t" ] && seeds=("pop3-proto-fuzz/seeds/$t")
    [ -d "pop3-proto-fuzz/corpora/$t" ] && seeds+=("pop3-proto-fuzz/corpora/$t")
    cargo +nightly fuzz run -O --fuzz-dir pop3-proto-fuzz "$t" "pop3-proto-fuzz/corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$secs" -dict=pop3-proto-fuzz/pop3.dict -print_final_stats=1 \
        -artifact_prefix="pop3-proto-fuzz/artifacts/$t/" > "pop3-proto-fuzz/logs/$t.log" 2>&1 \
        || echo "CRASH in $t (exit $?)" >> "pop3-proto-fuzz/logs/$t.log"
}
running=0
for t in "${targets[@]}"; do
    run "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait
{
    echo "campaign: ${secs}s per target, $(date -u +%F), $(nproc) cores"
    for t in "${targets[@]}"; do
        log="pop3-proto-fuzz/logs/$t.log"
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
        eps=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo ?)
        ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo ?)
        crashes=$(find "pop3-proto-fuzz/artifacts/$t" -type f | wc -l)
        echo "$t runs=$runs exec/s=$eps cov=$cov ft=$ft crashes=$crashes"
    done
} | tee pop3-proto-fuzz/campaign-summary.txt
