#!/usr/bin/env bash
# Mailwire's benchmarks, one command (see BENCHMARKS.md for the method and the last results):
#   scripts/bench.sh          full run: release builds, many iterations, the .deb built and sized
#   scripts/bench.sh --quick  a few iterations on debug builds, no .deb: proves the benchmarks still
#                             run (CI); prints the numbers and asserts none of them
# Needs what `scripts/mailwire.sh setup` installs (Xvfb, D-Bus, GNOME Keyring, target/py with
# google-auth, msal and requests); the full run also needs npm for the Tauri CLI (.deb).
# Results: target/bench/results-{release,debug}/ (*.json, summary.txt), criterion's in
# target/bench/criterion-{release,debug}/.
set -euo pipefail

usage() { echo "usage: scripts/bench.sh [--quick]" >&2; }
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# All in a function, read whole before it runs: editing this file mid-run cannot derail a run.
main() {
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cd "$ROOT"
  export PATH="$HOME/.cargo/bin:$PATH"

  QUICK=0
  case "${1:-}" in
    "") ;;
    --quick) QUICK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage; exit 2 ;;
  esac

  PY="$ROOT/target/py/bin/python"
  if ! [ -x "$PY" ] || ! "$PY" -c "import google.auth, msal, requests" >/dev/null 2>&1; then
    echo "The official Python clients are missing: run scripts/mailwire.sh setup first (target/py)." >&2
    exit 1
  fi
  for tool in xvfb-run dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: run scripts/mailwire.sh setup first." >&2; exit 1; }
  done

  OUT="$ROOT/target/bench"

  if [ "$QUICK" = 1 ]; then
    PROFILE=debug
    CARGO_PROFILE=()
    BENCH_PROFILE=(--profile dev)
    CRITERION_ARGS=(--warm-up-time 0.2 --measurement-time 0.5 --sample-size 10)
    OVERHEAD_ARGS=(--runs 5 --warmup 1)
    DESKTOP_ARGS=(--runs 2 --warmup 0 --settle 0.5)
    SCALE_ARGS=(--senders 100 --throttle 2 --calibrate 3 13 --calibration-runs 1 --runs 1)
  else
    PROFILE=release
    CARGO_PROFILE=(--release)
    BENCH_PROFILE=()
    CRITERION_ARGS=(--warm-up-time 1 --measurement-time 3)
    OVERHEAD_ARGS=(--runs 30 --warmup 3)
    DESKTOP_ARGS=(--runs 10 --warmup 1 --settle 1.0)
    SCALE_ARGS=(--senders 1000 --throttle 8 --calibrate 5 45 --calibration-runs 3 --runs 3)
  fi
  BIN="$ROOT/target/$PROFILE"
  # Per profile: a quick run never overwrites a full run's results, and criterion never compares
  # a release run with a debug one.
  RESULTS="$OUT/results-$PROFILE"
  rm -rf "$RESULTS"
  mkdir -p "$RESULTS"
  export CRITERION_HOME="$OUT/criterion-$PROFILE"
  START=$SECONDS

  say "Building mailwire, the emulator and the desktop app ($PROFILE)"
  cargo build --locked "${CARGO_PROFILE[@]}" -p mailwire-cli -p mailwire-emulator -p mailwire-desktop

  # The floor for the desktop numbers: a bare Tauri window with the same Tauri versions (the root
  # Cargo.lock), the same profile and the same target directory (so shared crates build once).
  say "Building the bare Tauri window ($PROFILE)"
  # Copied when the root one changed: cargo then prunes the copy (a fresh copy would relink the window).
  if ! [ bench/bare-window/Cargo.lock -nt Cargo.lock ]; then
    cp Cargo.lock bench/bare-window/Cargo.lock
  fi
  (cd bench/bare-window && CARGO_TARGET_DIR="$ROOT/target" cargo build "${CARGO_PROFILE[@]}")

  say "1/4 Check overhead: mailwire vs the official Python libraries, whole processes"
  "$PY" bench/run.py overhead --mailwire "$BIN/mailwire" --emulator "$BIN/mailwire-emulator" --python "$PY" \
    "${OVERHEAD_ARGS[@]}" --out "$RESULTS/overhead.json"

  say "2/4 The floor: in-process checks vs the emulator's own time, and micro-benchmarks (criterion)"
  cargo bench --locked "${BENCH_PROFILE[@]}" -p mailwire-core --bench check -- --noplot "${CRITERION_ARGS[@]}"

  say "3/4 Desktop start and memory vs the bare window, and 4/4 scale (under Xvfb, private D-Bus and keyring)"
  # A throwaway keyring: `mailwire profile add` keeps the connection's secret in the OS keychain.
  KEYRING_HOME=$(mktemp -d)
  trap 'rm -rf "$KEYRING_HOME"' EXIT
  XDG_DATA_HOME="$KEYRING_HOME" PY="$PY" BIN="$BIN" RESULTS="$RESULTS" QUICK="$QUICK" \
    DESKTOP_ARGS="${DESKTOP_ARGS[*]}" SCALE_ARGS="${SCALE_ARGS[*]}" \
    xvfb-run -a -s "-screen 0 1280x860x24" dbus-run-session -- bash -c '
      set -euo pipefail
      printf "%s" "mailwire-bench-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      "$PY" bench/run.py desktop --app "$BIN/mailwire-desktop" --bare "$BIN/bare-window" $DESKTOP_ARGS \
        --out "$RESULTS/desktop.json"
      "$PY" bench/run.py scale --provider microsoft --mailwire "$BIN/mailwire" --emulator "$BIN/mailwire-emulator" \
        $SCALE_ARGS --out "$RESULTS/scale_microsoft.json"
      "$PY" bench/run.py scale --provider google --mailwire "$BIN/mailwire" --emulator "$BIN/mailwire-emulator" \
        $SCALE_ARGS --out "$RESULTS/scale_google.json"
    '

  if [ "$QUICK" = 0 ]; then
    say "Release sizes: binaries and the .deb (Tauri CLI from npm, kept under target/)"
    CLI_DIR="$ROOT/target/bench-tauri-cli"
    if ! [ -x "$CLI_DIR/node_modules/.bin/tauri" ]; then
      mkdir -p "$CLI_DIR"
      (cd "$CLI_DIR" && npm i --silent --no-audit --no-fund -D @tauri-apps/cli@2 >/dev/null)
    fi
    rm -rf target/release/bundle/deb
    "$CLI_DIR/node_modules/.bin/tauri" build --bundles deb
    DEB=$(ls target/release/bundle/deb/*.deb | head -n 1)
    "$PY" - "$RESULTS/sizes.json" "$BIN/mailwire-desktop" "$BIN/mailwire" "$BIN/bare-window" "$DEB" <<'EOF'
import json, os, sys
out, desktop, cli, bare, deb = sys.argv[1:]
json.dump({"mailwire-desktop binary": os.path.getsize(desktop), "mailwire CLI binary": os.path.getsize(cli),
           "bare-window binary": os.path.getsize(bare), ".deb": os.path.getsize(deb)}, open(out, "w"), indent=2)
EOF
  fi

  QUICK_FLAG=()
  [ "$QUICK" = 1 ] && QUICK_FLAG=(--quick)
  "$PY" bench/run.py report --results "$RESULTS" --criterion "$CRITERION_HOME" "${QUICK_FLAG[@]}" |
    tee "$RESULTS/summary.txt"
  say "Done in $((SECONDS - START)) s; results in ${RESULTS#"$ROOT"/}"
}

main "$@"
