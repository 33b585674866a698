#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs what the tests need, builds Release, runs every test
# project, and prints one closing line "N passed, N failed, N skipped".
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter Category!=Packaging]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use (Debian names). Installed only when missing.
# libgtk-3-0: needed by the OpenCvSharp native library (video); ffmpeg: makes the AV1 clip of the unsupported-codec test.
apt_packages=(fontconfig fonts-dejavu-core libgtk-3-0 ffmpeg)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]} ..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: missing packages ${missing[*]} (run as root to install them)" >&2
  fi
fi

command -v dotnet >/dev/null || { echo "error: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet build Mtcnn.slnx -c Release -nologo -v quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Mtcnn.slnx -c Release --no-build -nologo "$@" 2>&1 | tee "$log" || status=$?

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 58, Skipped: 0, Total: 58, ...").
read -r passed failed skipped < <(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $status -ne 0 || $failed -ne 0 || $passed -eq 0 ]]; then
  exit 1
fi
