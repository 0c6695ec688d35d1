#!/usr/bin/env bash
# `npm run test:e2e`: the end-to-end test (issue 7). Boots a 1 GiB Debian VM under QEMU (TCG) with
# gunicorn inside and runs the action's bundle against it as the GitHub runner would. It needs root,
# qemu, debootstrap and Debian's cloud kernel; when one is missing it says which and fails: it never
# skips. `.ci/run` installs them with apt; by hand:
#   apt-get install qemu-system-x86 qemu-utils debootstrap linux-image-cloud-amd64
set -euo pipefail
cd "$(dirname "$0")/../.."
# debootstrap and mkfs live in sbin, which non-login shells may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
started=$SECONDS

missing=()
[ "$(id -u)" = 0 ] || missing+=("root (debootstrap, chroot and the image's file ownership need it: run as root)")
for tool in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils debootstrap:debootstrap mkfs.ext4:e2fsprogs ssh:openssh-client ssh-keygen:openssh-client; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool%%:*} (apt-get install ${tool#*:})")
done
ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || missing+=("Debian's cloud kernel in /boot (apt-get install linux-image-cloud-amd64)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "test:e2e: cannot run, missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

source test/support/node24.sh

npm run --silent build
# Cached under ~/.cache/loadgate-vm by the script's hash: a few minutes the first time, then instant.
echo "test:e2e: VM image (build-image.sh, cached)" >&2
bash test/e2e/vm/build-image.sh >/dev/null

status=0
node --import tsx --test --test-concurrency=1 --test-timeout=1500000 test/e2e/scenarios.e2e.ts || status=$?
echo "test:e2e: finished in $((SECONDS - started)) s (exit $status)" >&2
exit "$status"
