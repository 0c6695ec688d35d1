#!/usr/bin/env bash
# `npm run test:unit`: the tests of pure logic (no servers, no SSH, no sudo, no root, no Chromium),
# in seconds, as any user. `npm test` (test/run.sh) runs these and then every other test file,
# which needs the real parts and root: sshd, swap, cgroups, Chromium, the bundle under Node 24.
# `--list` prints the files, for test/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# A list, not a pattern: a new test file belongs to `npm test` until someone checks it needs none
# of the above.
unit_tests=(
  test/action/action-yml.test.ts
  test/action/workflows.test.ts
  test/architecture.test.ts
  test/baseline/file-store.test.ts
  test/baseline/history-keys.test.ts
  test/baseline/history-ranges.test.ts
  test/baseline/window.test.ts
  test/bench/power-tally.test.ts
  test/config/parse.test.ts
  test/log.test.ts
  test/load/preflight-diagnosis.test.ts
  test/remote/host-key.test.ts
  test/remote/output-tail.test.ts
  test/remote/shell.test.ts
  test/report/comment-body.test.ts
  test/report/report-schema.test.ts
  test/verdict/change-points.test.ts
  test/verdict/decide.test.ts
  test/verdict/detectable-change.test.ts
  test/verdict/host-speed-rule.test.ts
  test/verdict/moved-history.test.ts
  test/verdict/statistics.test.ts
  test/watch/crash-patterns.test.ts
  test/watch/health.test.ts
  test/watch/host-summary.test.ts
  test/watch/kernel-log.test.ts
  test/watch/machine.test.ts
  test/watch/proc-parsers.test.ts
  test/watch/service-memory.test.ts
)

# A renamed or moved file must not drop out of both lists unnoticed.
for file in "${unit_tests[@]}"; do
  [ -f "$file" ] || { echo "test/run-unit.sh lists $file, which does not exist" >&2; exit 1; }
done

if [ "${1:-}" = --list ]; then
  printf '%s\n' "${unit_tests[@]}"
  exit 0
fi
exec node --import tsx --test --test-timeout=60000 "${unit_tests[@]}"
