#!/usr/bin/env bash
# `npm test`: checks that the real parts the tests use are on this machine (installing them with
# apt when running as root), then runs every test. A test that needs a missing part fails, it
# never skips: this script says what to install instead.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v sudo >/dev/null 2>&1 || need_apt+=(sudo)
# The HTTPS test servers get a throwaway certificate from openssl (test/support/tls-cert.ts).
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The comment screenshot shows the verdict icons; without an emoji font they are empty boxes.
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need_apt+=(fonts-noto-color-emoji)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing ${need_apt[*]} with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "test: missing ${need_apt[*]}; install them (Debian: sudo apt-get install ${need_apt[*]}) and run again" >&2
    exit 1
  fi
fi
if [ "$(id -u)" != 0 ]; then
  echo "test: the SSH, swap and OOM tests run real commands as root (swapon, cgroups, a loopback sshd); run as root" >&2
  echo "test: \`npm run test:unit\` runs the tests that need none of this, as any user" >&2
  exit 1
fi

source test/support/node24.sh

npm run --silent build
npx tsc --noEmit -p .
# Node 20's test runner takes no glob: bash expands it. One file at a time, since several tests
# load the machine (bursts, OOM kills, swap) and would disturb each other's figures. The unit
# tests (test/run-unit.sh) first: they fail in seconds; then every other file.
shopt -s globstar
unit_list=$(bash test/run-unit.sh --list)
mapfile -t unit_tests <<<"$unit_list"
other_tests=()
for file in test/**/*.test.ts; do
  [[ " ${unit_tests[*]} " == *" $file "* ]] || other_tests+=("$file")
done
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 "${unit_tests[@]}" "${other_tests[@]}"
