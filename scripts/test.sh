#!/usr/bin/env bash
# Every test wirelab has, against a fresh production build, real sandboxes and Debian's chromium:
# unit and integration tests (node:test), the self-test of every lab exercise, and the browser tests.
# Ends with one line counting them all.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

npx next build || { echo "tests: 0 passed, 1 failed (the site does not build)"; exit 1; }

# Each suite has a deadline, so that one that hangs (a server a failed test never stopped) is named
# and the others still run, instead of the whole run waiting for CI's limit.
suite() {
  local name=$1 minutes=$2; shift 2
  timeout --kill-after=30 "${minutes}m" "$@" 2>&1 | tee "$logs/$name"
  [ "${PIPESTATUS[0]}" -eq 124 ] && echo "$name tests did not finish within $minutes minutes: they hang" | tee -a "$logs/$name"
}
# Node 20 takes no glob for --test: the shell lists the files.
mapfile -t unit_tests < <(find test -name '*.test.ts' | sort)
suite unit 20 node --import tsx --test --test-concurrency=1 --test-reporter=spec "${unit_tests[@]}"
suite labs 15 node --import tsx scripts/test-labs.ts
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 suite e2e 20 npx playwright test

count() { grep -Eo "$2" "$1" | grep -Eo '[0-9]+' | tail -n 1; }
unit_passed=$(count "$logs/unit" 'ℹ pass [0-9]+'); unit_failed=$(count "$logs/unit" 'ℹ fail [0-9]+')
labs_passed=$(count "$logs/labs" '^[0-9]+ passed'); labs_failed=$(count "$logs/labs" '[0-9]+ failed$')
e2e_passed=$(count "$logs/e2e" '[0-9]+ passed'); e2e_failed=$(count "$logs/e2e" '[0-9]+ failed')
e2e_failed=${e2e_failed:-0}

# A suite that printed no count did not run: that is a failure, not zero tests.
for figure in unit_passed unit_failed labs_passed labs_failed e2e_passed; do
  if [ -z "${!figure}" ]; then echo "${figure%_*} tests did not report their results"; eval "$figure=0"; missing_suite=1; fi
done
passed=$((unit_passed + labs_passed + e2e_passed))
failed=$((unit_failed + labs_failed + e2e_failed + ${missing_suite:-0}))
echo "unit $unit_passed/$((unit_passed + unit_failed)), lab self-tests $labs_passed/$((labs_passed + labs_failed)), browser $e2e_passed/$((e2e_passed + e2e_failed))"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
