#!/usr/bin/env bash
# Build (once) and cache a bootable Debian bookworm disk image for the loadgate
# end-to-end test: systemd + networkd (DHCP), sshd with a pinned ed25519 host key,
# user "loadgate" with passwordless sudo, and the demo Django app under gunicorn.
#
# Output: a cache dir holding
#   image.raw           ext4 root filesystem (4 GiB sparse), booted as /dev/vda
#   vmlinuz, initrd.img the host's cloud kernel the image's modules belong to
#   client_key(.pub)    ed25519 key pair authorised for user loadgate
#   host_key.pub        the guest sshd's only host key (pin it)
#   build.log           debootstrap and build output
# The cache dir path is the last line of stdout; progress goes to stderr.
#
# Cache: ${LOADGATE_VM_CACHE:-$HOME/.cache/loadgate-vm}/<key>/ where key is the
# first 16 hex chars of a sha256 over this script, the files in app/ and the
# kernel version. An existing image is reused at once. Builds happen in a temp
# dir that is renamed into place, so an interrupted build never leaves a half image.
#
# Needs root (debootstrap, chroot, file ownership) and the packages
# debootstrap, qemu-system-x86 (qemu-utils), linux-image-cloud-amd64, e2fsprogs.
set -euo pipefail
# debootstrap, chroot, mkfs.ext4 live in sbin, which non-login shells may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
APP_DIR="$SCRIPT_DIR/app"
CACHE_ROOT=${LOADGATE_VM_CACHE:-$HOME/.cache/loadgate-vm}
SUITE=bookworm
IMAGE_SIZE=4G # room for the tests' 2x swap file (~1.9 GiB) plus the ~0.5 GiB system
# udev: networkd waits for udev to initialise the NIC, and udev loads virtio_net.
# dbus: unprivileged `systemctl status/is-active` (and logind) need the system bus, as on a real server.
# python3-packaging + python3-importlib-metadata: dependencies of trixie's gunicorn (below).
PACKAGES=openssh-server,sudo,python3,gunicorn,python3-django,procps,util-linux,iproute2,systemd-sysv,kmod,udev,dbus,python3-packaging,python3-importlib-metadata
# bookworm's gunicorn 20.1 logs an OOM-killed worker as "Worker with pid N was
# terminated due to signal 9"; gunicorn >= 21 logs the line users actually see,
# "Worker (pid:N) was sent SIGKILL! Perhaps out of memory?". trixie's gunicorn is
# pure Python (Architecture: all) and its dependencies exist in bookworm.
GUNICORN_SUITE=trixie

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { printf '[build-image] error: %s\n' "$*" >&2; exit 1; }

# ---- preflight: say exactly what is missing ---------------------------------
missing=()
[[ $(id -u) -eq 0 ]] || missing+=("root privileges (run as root, e.g. sudo $0)")
for tool in debootstrap:debootstrap qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils \
  mkfs.ext4:e2fsprogs ssh-keygen:openssh-client chroot:coreutils sha256sum:coreutils flock:util-linux; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool%%:*} (apt-get install ${tool#*:})")
done
# Newest installed cloud kernel; its modules are copied into the image.
KERNEL=$(ls -1 /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z $KERNEL ]]; then
  missing+=("/boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)")
else
  KVER=${KERNEL#/boot/vmlinuz-}
  [[ -r /boot/initrd.img-$KVER ]] || missing+=("/boot/initrd.img-$KVER (update-initramfs -c -k $KVER)")
  [[ -d /lib/modules/$KVER ]] || missing+=("/lib/modules/$KVER (reinstall linux-image-$KVER)")
fi
if ((${#missing[@]})); then
  printf '[build-image] missing: %s\n' "${missing[@]}" >&2
  exit 2
fi

# Debian mirror as configured for apt on this machine (deb822 or one-line format).
MIRROR=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
  grep -oE 'https?://[^ ]+/debian/?$' | head -n 1 || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

# ---- cache key ---------------------------------------------------------------
KEY=$( {
  sha256sum "$SCRIPT_DIR/build-image.sh"
  (cd "$APP_DIR" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  echo "kernel $KVER"
} | sha256sum | cut -c1-16)
OUT="$CACHE_ROOT/$KEY"

if [[ -f $OUT/image.raw ]]; then
  log "cached image: $OUT"
  echo "$OUT"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
# One build at a time per cache root; a second caller waits, then finds the image.
exec 9>"$CACHE_ROOT/.lock"
flock 9
if [[ -f $OUT/image.raw ]]; then
  log "cached image (built concurrently): $OUT"
  echo "$OUT"
  exit 0
fi

START=$(date +%s)
WORK="$CACHE_ROOT/.build-$KEY-$$"
ROOTFS="$WORK/rootfs"

# Unmount anything a (possibly interrupted) debootstrap left mounted inside a
# rootfs before deleting it: rm -rf through a live /proc or /dev mount is a disaster.
cleanup_dir() {
  local dir=$1 m
  [[ -d $dir ]] || return 0
  for m in $(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$dir"
}
on_exit() {
  local rc=$?
  if ((rc != 0)) && [[ -f $WORK/build.log ]]; then
    log "build failed (exit $rc); last lines of $WORK/build.log:"
    tail -n 30 "$WORK/build.log" >&2 || true
  fi
  cleanup_dir "$WORK"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# Leftovers of builds that were killed hard (SIGKILL, power loss): holding the
# lock means none of them is still running.
for stale in "$CACHE_ROOT"/.build-*; do
  if [[ -e $stale ]]; then
    log "removing stale build dir $stale"
    cleanup_dir "$stale"
  fi
done

mkdir -p "$ROOTFS" "$CACHE_ROOT/debs"
BUILD_LOG="$WORK/build.log"
: >"$BUILD_LOG"

in_root() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# ---- 1. debootstrap ------------------------------------------------------------
log "debootstrap $SUITE from $MIRROR (log: $BUILD_LOG)"
T0=$(date +%s)
# --cache-dir keeps the .debs, so a rebuild after an app change downloads nothing.
debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$CACHE_ROOT/debs" \
  "$SUITE" "$ROOTFS" "$MIRROR" >>"$BUILD_LOG" 2>&1
log "debootstrap took $(($(date +%s) - T0)) s"

# ---- 1b. newer gunicorn -----------------------------------------------------------
# A private apt state (lists + archives under the cache root) so the host's apt
# configuration and dpkg lock are never touched.
log "fetching gunicorn from $GUNICORN_SUITE"
APT_DIR="$CACHE_ROOT/apt-$GUNICORN_SUITE"
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $GUNICORN_SUITE main" >"$APT_DIR/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR" -o "Dir::Cache::Archives=$APT_DIR/archives"
  -o Dir::State::status=/dev/null -o Acquire::Languages=none -o APT::Architectures::=amd64)
apt-get -q "${APT_OPTS[@]}" update >>"$BUILD_LOG" 2>&1
(cd "$WORK" && apt-get -q "${APT_OPTS[@]}" download "gunicorn/$GUNICORN_SUITE" "python3-gunicorn/$GUNICORN_SUITE") >>"$BUILD_LOG" 2>&1
cp "$WORK"/gunicorn_*_all.deb "$WORK"/python3-gunicorn_*_all.deb "$ROOTFS/tmp/"
in_root sh -c 'dpkg -i /tmp/python3-gunicorn_*_all.deb /tmp/gunicorn_*_all.deb' >>"$BUILD_LOG" 2>&1
rm -f "$ROOTFS"/tmp/*.deb "$WORK"/*.deb
GUNICORN_VERSION=$(in_root python3 -c 'import gunicorn; print(gunicorn.__version__)')
[[ ${GUNICORN_VERSION%%.*} -ge 21 ]] || die "gunicorn $GUNICORN_VERSION in the image; need >= 21"
log "gunicorn $GUNICORN_VERSION"

# debootstrap normally unmounts these; make sure before touching the tree.
for m in $(awk -v d="$ROOTFS/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m"; done

# ---- 2. system configuration ---------------------------------------------------
log "configuring the root filesystem"
echo loadgate-vm >"$ROOTFS/etc/hostname"
cat >"$ROOTFS/etc/hosts" <<'EOF'
127.0.0.1 localhost
127.0.1.1 loadgate-vm
::1 localhost ip6-localhost ip6-loopback
EOF
# No swap entry on purpose: the tests decide about swap.
echo '/dev/vda / ext4 defaults,noatime 0 1' >"$ROOTFS/etc/fstab"
# QEMU user networking's DNS; nothing in the tests needs DNS, but sudo/sshd lookups fail fast.
echo 'nameserver 10.0.2.3' >"$ROOTFS/etc/resolv.conf"

# Kernel modules of the kernel we boot (virtio_net, virtio_rng, ... are modules).
mkdir -p "$ROOTFS/lib/modules"
cp -a "/lib/modules/$KVER" "$ROOTFS/lib/modules/"
in_root depmod -a "$KVER" >>"$BUILD_LOG" 2>&1

# systemd-networkd: DHCP on the virtio NIC, whatever its name (ens3, enp0s3, eth0).
cat >"$ROOTFS/etc/systemd/network/20-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
in_root systemctl enable systemd-networkd.service ssh.service >>"$BUILD_LOG" 2>&1
# The boot waits for nothing network-online: tests only need sshd and the app.
in_root systemctl disable systemd-networkd-wait-online.service >>"$BUILD_LOG" 2>&1 || true
# Periodic jobs would steal the single emulated CPU in the middle of a measurement.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer >>"$BUILD_LOG" 2>&1 || true
# No screen: gettys on tty1-6 would only cost boot time (the serial getty stays).
in_root systemctl mask getty-static.service getty@tty1.service >>"$BUILD_LOG" 2>&1 || true

# journald: keep kernel messages (journalctl -k) in memory; no need for a disk journal.
mkdir -p "$ROOTFS/etc/systemd/journald.conf.d"
cat >"$ROOTFS/etc/systemd/journald.conf.d/loadgate.conf" <<'EOF'
[Journal]
ReadKMSG=yes
Storage=volatile
RuntimeMaxUse=64M
EOF
# Debian kernels set dmesg_restrict=1; let the unprivileged user read dmesg too.
cat >"$ROOTFS/etc/sysctl.d/60-loadgate.conf" <<'EOF'
kernel.dmesg_restrict = 0
EOF

# ---- 3. users, sudo, ssh keys ----------------------------------------------------
# adm + systemd-journal: journalctl -k and the logs work without sudo as well.
in_root useradd --create-home --shell /bin/bash --groups sudo,adm,systemd-journal loadgate
# '*' = no password login possible but the account is not "locked" ('!'), which
# some sshd configurations would refuse even for key authentication.
in_root usermod --password '*' loadgate
echo 'loadgate ALL=(ALL) NOPASSWD:ALL' >"$ROOTFS/etc/sudoers.d/loadgate"
chmod 0440 "$ROOTFS/etc/sudoers.d/loadgate"

ssh-keygen -q -t ed25519 -N '' -C loadgate-e2e-client -f "$WORK/client_key"
install -d -m 0700 "$ROOTFS/home/loadgate/.ssh"
install -m 0600 "$WORK/client_key.pub" "$ROOTFS/home/loadgate/.ssh/authorized_keys"
in_root chown -R loadgate:loadgate /home/loadgate/.ssh

# A fresh ed25519 host key and nothing else, so the server can only offer the pinned key.
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C loadgate-vm -f "$ROOTFS/etc/ssh/ssh_host_ed25519_key"
cp "$ROOTFS/etc/ssh/ssh_host_ed25519_key.pub" "$WORK/host_key.pub"
cat >"$ROOTFS/etc/ssh/sshd_config.d/loadgate.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UseDNS no
# Several parallel sessions (load test + watcher) from one client.
MaxSessions 32
MaxStartups 32:30:64
EOF

# ---- 4. the demo app -------------------------------------------------------------
install -d -m 0755 "$ROOTFS/opt/loadgate-demo"
install -m 0644 "$APP_DIR/loadgate_demo.py" "$APP_DIR/gunicorn.conf.py" "$ROOTFS/opt/loadgate-demo/"
install -m 0644 "$APP_DIR/gunicorn.service" "$ROOTFS/etc/systemd/system/gunicorn.service"
# Knobs the tests change over SSH; owned by loadgate so no sudo is needed to write them.
install -d -m 0755 "$ROOTFS/etc/loadgate-demo"
echo 0 >"$ROOTFS/etc/loadgate-demo/delay-ms"
echo 300 >"$ROOTFS/etc/loadgate-demo/hungry-mb"
in_root chown -R loadgate:loadgate /etc/loadgate-demo
in_root systemctl enable gunicorn.service >>"$BUILD_LOG" 2>&1
# Fail the build, not the boot, if the app cannot even import.
in_root sh -c 'cd /opt/loadgate-demo && python3 -c "import loadgate_demo"' >>"$BUILD_LOG" 2>&1 ||
  die "the demo app does not import inside the image"

# ---- 5. trim and make the disk image ---------------------------------------------
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/tmp/*
# Python bytecode for the app's first import happens at boot otherwise (slow under TCG).
in_root python3 -m compileall -q /opt/loadgate-demo >>"$BUILD_LOG" 2>&1 || true

log "mkfs.ext4 -d ($IMAGE_SIZE sparse)"
truncate -s "$IMAGE_SIZE" "$WORK/image.raw"
mkfs.ext4 -q -F -L loadgate-root -d "$ROOTFS" "$WORK/image.raw" >>"$BUILD_LOG" 2>&1
cleanup_dir "$ROOTFS"

cp "$KERNEL" "$WORK/vmlinuz"
cp "/boot/initrd.img-$KVER" "$WORK/initrd.img"
cat >"$WORK/manifest.txt" <<EOF
key=$KEY
suite=$SUITE
mirror=$MIRROR
kernel=$KVER
packages=$PACKAGES
gunicorn=$GUNICORN_VERSION ($GUNICORN_SUITE)
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build_seconds=$(($(date +%s) - START))
EOF

# Atomic publish: the cache dir appears complete or not at all.
rm -rf "$OUT.old"
if [[ -e $OUT ]]; then mv -T "$OUT" "$OUT.old"; fi # e.g. a dir without image.raw
mv -T "$WORK" "$OUT"
rm -rf "$OUT.old"
trap - EXIT
log "image built in $(($(date +%s) - START)) s: $OUT"
echo "$OUT"
