#!/usr/bin/env bash
# `npm run test:e2e`: the end-to-end test (issue 7). Boots a 1 GiB Debian VM under QEMU (TCG) with
# gunicorn inside and runs the action's bundle against it as the GitHub runner would. It needs root,
# qemu, debootstrap and Debian's cloud kernel; as root it installs the missing packages with apt
# (like `npm test`), otherwise it names them and fails at once: it never skips.
set -euo pipefail
cd "$(dirname "$0")/../.."
# debootstrap and mkfs live in sbin, which non-login shells may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
started=$SECONDS

need_apt=()
for tool in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils debootstrap:debootstrap mkfs.ext4:e2fsprogs \
  ssh:openssh-client ssh-keygen:openssh-client; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || [[ " ${need_apt[*]} " == *" ${tool#*:} "* ]] || need_apt+=("${tool#*:}")
done
ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || need_apt+=(linux-image-cloud-amd64)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test:e2e: installing ${need_apt[*]} with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "test:e2e: missing ${need_apt[*]}; install them (Debian: sudo apt-get install ${need_apt[*]}) and run again as root" >&2
    exit 1
  fi
fi
if [ "$(id -u)" != 0 ]; then
  echo "test:e2e: debootstrap, chroot and the image's file ownership need root: run as root" >&2
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
