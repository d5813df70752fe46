#!/usr/bin/env bash
# Runs one scenario in one flush/replication mode the way CI publishes it:
# the run's report directory, a check that its HTML page renders in headless
# Chromium, and its summary.md appended to the job summary
# ($GITHUB_STEP_SUMMARY, when set). Used by .github/workflows/scenario.yml
# (double12, each mode) and by .ci/run (the smoke scenario).
#
#   scripts/ci-scenario.sh <scenario> <flush> <replication> <out-dir> [duration-sec]
#
# Needs a built dist/ (npm ci builds it). Exit status: the scenario's (0 only
# when it passed), or non-zero when the page does not render. Set
# REQUIRE_RENDER_CHECK=1 to fail when no browser is installed (else skipped
# with a warning). Set LATENCY_ADVISORY=1 to report, not fail, a run whose
# only failures are latency thresholds (see below).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 4 ]; then
  echo "usage: $0 <scenario> <flush> <replication> <out-dir> [duration-sec]" >&2
  exit 2
fi
scenario="$1" flush="$2" replication="$3" out="$4" duration="${5:-}"

args=(scenario "$scenario" --flush "$flush" --replication "$replication" --out "$out")
[ -n "$duration" ] && args+=(--duration "$duration")

echo "== metaq ${args[*]}"
node dist/src/cli/main.js "${args[@]}"
status=$?

# LATENCY_ADVISORY=1 (set by .ci/run): on a shared, noisy CI machine a run
# whose only failures are latency thresholds is reported, not failed: targets
# are judged by benchmarks and on the reference machine, never by a timed
# check on whatever machine CI gets. Loss, tickets, drain and failed sends
# still fail the run. The summary keeps the verdict as the scenario gave it.
if [ $status -ne 0 ] && [ "${LATENCY_ADVISORY:-0}" = "1" ] && [ -f "$out/summary.json" ]; then
  if node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const latency = /^(send|end-to-end) p99\b.* ms is above \d+ ms$/;
    process.exit(s.failures.length > 0 && s.failures.every((f) => latency.test(f)) ? 0 : 1);
  ' "$out/summary.json"; then
    echo "warning: $scenario missed only its latency thresholds on this machine (advisory in CI): $(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).failures.join("; "))' "$out/summary.json")" >&2
    status=0
  fi
fi

if [ -f "$out/summary.md" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  { cat "$out/summary.md"; echo; } >> "$GITHUB_STEP_SUMMARY"
fi

if [ -f "$out/report.html" ]; then
  node scripts/check-report-render.mjs "$out/report.html"
  render=$?
  if [ $render -eq 2 ] && [ "${REQUIRE_RENDER_CHECK:-0}" != "1" ]; then
    echo "warning: no headless browser found; the render check of $out/report.html was skipped" >&2
  elif [ $render -ne 0 ]; then
    echo "FAILED: $out/report.html did not render (exit $render)" >&2
    [ $status -eq 0 ] && status=$render
  fi
elif [ $status -eq 0 ]; then
  echo "FAILED: the run wrote no $out/report.html" >&2
  status=1
fi
exit $status
