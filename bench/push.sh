#!/usr/bin/env bash
# bench/push.sh: push to applications at scale, one line per device count, from
# bench/platform.sh's run (its "declarative + push" and "JavaScript + push" variants
# against its `plain` baseline of the same run; see that script for the setup).
#
#   bench/push.sh [BUILD_DIR] [DEVICES...]          (defaults: build, 1000 10000)
#
# Per device count and push variant it prints
#   push n=N variant=V report_rps=R r_plain=X pushed_per_s=P p_plain=Y
#        push_loop_us_per_event=U sink_events=Q delivered=D dropped=Z drain_s=S
# where pushed_per_s counts the events written to the outbox (every report, and each
# device's status event) over the seconds from the first report until the outbox was
# drained (the reports' seconds at their applied rate, plus the drain after them);
# p_plain is that rate over `plain`'s reports/s; push_loop_us_per_event is the event
# loop's CPU µs per report of the variant less that of the same codec without push (what
# pushing costs the loop per event). Ratios only: the machine's speed cancels out.
# Environment: as bench/platform.sh (BENCH_COMMANDS defaults to 200 here: the commands
# phase is not what this measures); BENCH_RAW=FILE keeps platform.sh's own output there,
# and with BENCH_PARSE_ONLY=1 summarises such a kept output without running anything.
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(1000 10000); fi
export BENCH_COMMANDS=${BENCH_COMMANDS:-200} BENCH_PUSH=1

if [ -n "${BENCH_RAW:-}" ]; then
  out=$BENCH_RAW
else
  out=$(mktemp "${TMPDIR:-/tmp}/lwm2md-push.XXXXXX")
  trap 'rm -f "$out"' EXIT
fi
[ -n "${BENCH_PARSE_ONLY:-}" ] || "$(dirname "$0")/platform.sh" "$build" "${devices[@]}" >"$out" 2>&1 ||
  { tail -n 30 "$out" >&2; echo "bench: platform.sh failed" >&2; exit 1; }

# The summary table: devices variant echo report/s r/echo r/plain applied/s a/plain
# loop_us thr_us p50/p99 uplinks props c_err shadow failed [queued=… delivered=…
# drain_after_reports_s=… dropped=…].
awk '
  $1 ~ /^[0-9]+$/ && NF >= 16 && $2 ~ /^(plain|decl|js|decl\+push|js\+push)$/ {
    n = $1; v = $2
    rps[n, v] = $4; rplain[n, v] = $6; applied[n, v] = $7; loop[n, v] = $9
    props[n, v] = $13; sub(/^\+/, "", props[n, v])
    for (i = 17; i <= NF; i++) { split($i, kv, "="); f[n, v, kv[1]] = kv[2] }
    if (v ~ /push/) { order[++k] = n SUBSEP v }
  }
  END {
    for (j = 1; j <= k; j++) {
      split(order[j], key, SUBSEP); n = key[1]; v = key[2]; base = v; sub(/\+push/, "", base)
      secs = (applied[n, v] > 0 ? props[n, v] / applied[n, v] : 0) + f[n, v, "drain_after_reports_s"]
      pushed = secs > 0 ? f[n, v, "queued"] / secs : 0
      printf "push n=%s variant=%s report_rps=%s r_plain=%s pushed_per_s=%.0f p_plain=%.3f " \
             "push_loop_us_per_event=%.1f delivered=%s dropped=%s drain_s=%s\n", n, v, rps[n, v],
             rplain[n, v], pushed, (rps[n, "plain"] > 0 ? pushed / rps[n, "plain"] : 0),
             loop[n, v] - loop[n, base], f[n, v, "delivered"], f[n, v, "dropped"],
             f[n, v, "drain_after_reports_s"]
    }
  }' "$out"
