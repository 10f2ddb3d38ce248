#!/usr/bin/env bash
# Try the README's two commands the way a new attendee meets them: on a clean Debian with only
# python3, pip, venv, git and CA certificates, as a plain user, in a new terminal, copied from the
# README as written. Prints each step's exit status and wall time; exits non-zero if one failed.
#
#   sudo scripts/fresh-machine.sh debian12|debian13 [pipeline]   (about 12-20 min each on 2 cores)
#
# With `pipeline`, only the first command and the data stages' check run (no test suite, no rerun).
#
# Docker images cannot be pulled everywhere, so the system is built with debootstrap (minbase)
# from Debian's mirror. The repository's committed HEAD is cloned in; uncommitted work is not.
# FRESH_MACHINE_DIR (default /var/tmp/fresh-machine) holds the chroot; it is rebuilt each run.
set -euo pipefail

system=${1:-}
only=${2:-}
case "$only" in ""|pipeline) ;; *) echo "usage: $0 debian12|debian13 [pipeline]" >&2; exit 2 ;; esac
case "$system" in
  debian12) suite=bookworm ;;
  debian13) suite=trixie ;;
  *) echo "usage: $0 debian12|debian13" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "error: run as root (debootstrap, chroot and mounts need it)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "error: debootstrap is missing: apt install debootstrap" >&2; exit 2; }

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
root=${FRESH_MACHINE_DIR:-/var/tmp/fresh-machine}/$system
user=attendee
failed=0

# The README's first two fenced blocks: the pipeline command and the test command.
mapfile -t commands < <(awk '/^```/ { inside = !inside; next } inside { print }' "$repo/README.md" | head -n 2)
[ "${#commands[@]}" -eq 2 ] || { echo "error: README.md: cannot find its two commands" >&2; exit 2; }

unmount() {
  for mountpoint in dev/pts dev/shm dev sys proc; do
    mountpoint -q "$root/$mountpoint" && umount -l "$root/$mountpoint"
  done
  return 0
}
trap unmount EXIT

# step NAME COMMAND...: run, then print the exit status and wall time; a failure is remembered.
step() {
  local name=$1 start=$EPOCHREALTIME status=0
  shift
  "$@" || status=$?
  printf '== %s %s: exit %d, %s s\n' "$system" "$name" "$status" \
    "$(awk -v start="$start" -v end="$EPOCHREALTIME" 'BEGIN { printf "%.1f", end - start }')"
  [ "$status" -eq 0 ] || failed=1
  return "$status"
}

# As the attendee, in a new terminal (a pseudo-terminal running an interactive login shell, so
# ~/.profile and ~/.bashrc are read as they are when a person opens one), in the clone.
as_attendee() {
  chroot "$root" /usr/sbin/runuser -l "$user" -c \
    "script --quiet --return --command $(printf '%q' "cd ~/dvc-workshop && $1") /dev/null"
}

build_system() {
  unmount
  rm -rf --one-file-system "$root"  # never into a bind mount left behind
  mkdir -p "$root"
  debootstrap --variant=minbase "$suite" "$root" http://deb.debian.org/debian >"$root.debootstrap.log" 2>&1 \
    || { tail -n 20 "$root.debootstrap.log"; return 1; }
  # This machine's network inspects TLS with its own CA: the chroot needs it to reach PyPI.
  # pip carries its own CA bundle, so it is pointed at the system's (an attendee's machine needs
  # none of this: no inspecting proxy there).
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    printf 'export %s=/etc/ssl/certs/ca-certificates.crt\n' PIP_CERT REQUESTS_CA_BUNDLE SSL_CERT_FILE \
      >"$root/etc/profile.d/this-machines-ca.sh"
  fi
  mount -t proc proc "$root/proc"
  mount --bind /sys "$root/sys"
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"
  mount --bind /dev/shm "$root/dev/shm"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  echo 'export LANG=C.UTF-8' >"$root/etc/profile.d/locale.sh"  # as a desktop's terminal sets it
  chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    python3 python3-pip python3-venv git ca-certificates >/dev/null && update-ca-certificates >/dev/null'
  chroot "$root" python3 --version
  chroot "$root" useradd --create-home --shell /bin/bash "$user"
  git clone --quiet --no-local "$repo" "$root/home/$user/dvc-workshop"
  chroot "$root" chown -R "$user:$user" "/home/$user/dvc-workshop"
}

# Exit 1 unless download_mnist and preprocess recorded the same hashes as the committed dvc.lock.
same_data_stages="pipenv run python -c 'import subprocess, sys, yaml
committed = yaml.safe_load(subprocess.check_output([\"git\", \"show\", \"HEAD:dvc.lock\"]))[\"stages\"]
now = yaml.safe_load(open(\"dvc.lock\"))[\"stages\"]
differ = [s for s in (\"download_mnist\", \"preprocess\") if committed[s] != now[s]]
print(\"data stages:\", \"differ from the committed dvc.lock: \" + \" \".join(differ) if differ else \"same as the committed dvc.lock\")
sys.exit(1 if differ else 0)'"

# The README's prerequisite line for Debian/Ubuntu: `sudo apt install pipx`, `pipx ensurepath`.
prerequisites() {
  chroot "$root" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pipx >/dev/null'
  as_attendee 'pipx ensurepath'
}

step "build the clean system" build_system || exit 1
step "prerequisites (apt install pipx; pipx ensurepath)" prerequisites || exit 1
echo "== $system first command: ${commands[0]}"
step "first command (set up, dvc repro, metrics)" as_attendee "${commands[0]}" || true
step "data stages reproduce the committed dvc.lock" as_attendee "git status --short && $same_data_stages" || true
[ "$only" = pipeline ] && exit "$failed"
echo "== $system second command: ${commands[1]}"
step "second command (set up, tests)" as_attendee "${commands[1]}" || true
echo "== $system rerun of the first command (every step must pass again)"
step "first command, again" as_attendee "${commands[0]}" || true
exit "$failed"
