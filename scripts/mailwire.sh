#!/usr/bin/env bash
# Mailwire's one entry point for people and CI on Debian/Ubuntu:
#   scripts/mailwire.sh run    install what is missing, build and start the desktop app
#   scripts/mailwire.sh test   install what is missing, then run every test (unit, integration,
#                              emulator, official client libraries, end-to-end under Xvfb)
#   scripts/mailwire.sh setup  only install what is missing
#   scripts/mailwire.sh lint   cargo fmt --check, clippy -D warnings, and the no-Tauri-in-core rule
#   scripts/mailwire.sh bench [--quick]   the benchmarks (see BENCHMARKS.md)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

APP_PACKAGES=(libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev libgtk-3-dev pkg-config libdbus-1-dev)
TEST_PACKAGES=(xvfb xauth webkit2gtk-driver gnome-keyring dbus-x11 dbus xdotool imagemagick xclip
  python3 python3-venv python3-pip)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "Installing system packages needs root: run this as root or install sudo." >&2
    exit 1
  fi
}

install_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get not found: install these packages with your system's package manager: ${missing[*]}" >&2
    exit 1
  fi
  say "Installing ${missing[*]} (needs root)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_rust() {
  if command -v cargo >/dev/null 2>&1; then
    return
  fi
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
    return
  fi
  say "Installing the Rust toolchain with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  export PATH="$HOME/.cargo/bin:$PATH"
}

setup_app() {
  install_packages "${APP_PACKAGES[@]}"
  ensure_rust
}

setup_tests() {
  setup_app
  install_packages "${TEST_PACKAGES[@]}"
  if ! command -v tauri-driver >/dev/null 2>&1; then
    say "Installing tauri-driver (WebDriver bridge for the end-to-end tests)"
    cargo install tauri-driver --locked --quiet
  fi
  # Google's and Microsoft's own client libraries, to prove the emulator speaks their protocol.
  if [ ! -x target/py/bin/python ]; then
    say "Creating a Python environment for the official client library tests"
    mkdir -p target
    python3 -m venv target/py
  fi
  if ! target/py/bin/python -c "import google.auth, msal, requests" >/dev/null 2>&1; then
    target/py/bin/pip install --quiet --disable-pip-version-check google-auth msal requests
  fi
}

lint() {
  say "cargo fmt --check"
  cargo fmt --all -- --check
  say "cargo clippy"
  cargo clippy --workspace --all-targets --locked -- -D warnings
  say "The core must not depend on Tauri"
  if cargo tree -p mailwire-core --edges normal,build --prefix none | grep -qiE '^(tauri|wry|webkit)'; then
    echo "mailwire-core depends on Tauri or WebKit; keep GUI code in src-tauri" >&2
    exit 1
  fi
}

run_tests() {
  export PATH="$HOME/.cargo/bin:$PATH"
  export MAILWIRE_PYTHON="$ROOT/target/py/bin/python"
  # A throwaway keyring per run: the unlock password must match the keyring it created.
  local keyring_home
  keyring_home=$(mktemp -d)
  export XDG_DATA_HOME="$keyring_home"
  say "Building"
  cargo build --workspace --all-targets --locked
  say "Running the tests under Xvfb with a private D-Bus session and Secret Service"
  xvfb-run -a -s "-screen 0 1280x860x24" dbus-run-session -- bash -c '
    set -euo pipefail
    printf "%s" "mailwire-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    cargo test --workspace --locked --no-fail-fast -- --test-threads=4
  '
  rm -rf "$keyring_home"
}

case "${1:-}" in
  setup) setup_tests ;;
  run)
    setup_app
    say "Building and starting Mailwire"
    cargo run --release --locked -p mailwire-desktop
    ;;
  test)
    setup_tests
    run_tests
    ;;
  lint) lint ;;
  bench)
    shift
    "$ROOT/scripts/bench.sh" "$@"
    ;;
  *)
    echo "usage: scripts/mailwire.sh run|test|setup|lint|bench [--quick]" >&2
    exit 2
    ;;
esac
