#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Hookline needs.
#   packaging/system-deps.sh run    -> what the app needs to run (PortAudio, Qt's X11 libraries)
#   packaging/system-deps.sh test   -> plus what the test suite needs (JACK, Xvfb, fluidsynth, sox,
#                                      GNOME Keyring with its D-Bus session bus for the keyring test,
#                                      PostgreSQL for the sync server's tests: they start their own
#                                      throwaway cluster, never the system one)
# Idempotent: when every package is already installed it returns at once without touching apt.
# Uses apt-get directly as root, sudo otherwise; when neither works it prints the exact command.
set -euo pipefail

profile="${1:-run}"

run_pkgs=(
  libportaudio2 libjack-jackd2-0 libasound2 libsndfile1
  libegl1 libgl1 libglib2.0-0 libfontconfig1 fonts-dejavu-core libxkbcommon0 libdbus-1-3
  libx11-6 libxcb1 libxcb-cursor0 libxkbcommon-x11-0 libx11-xcb1 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1
  libxcb-util1 libxcb-xfixes0 libxcb-xkb1
)
test_pkgs=(jackd2 jack-tools xvfb xauth fluidsynth fluid-soundfont-gm sox gnome-keyring postgresql)

case "$profile" in
  run) pkgs=("${run_pkgs[@]}") ;;
  test) pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "Hookline needs these system packages; please run:" >&2
  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# jackd2 asks about real-time priority unless the answer is preseeded.
echo "jackd2 jackd/tweak_rt_limits boolean true" | "${sudo[@]}" debconf-set-selections 2>/dev/null || true
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
