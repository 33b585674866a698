#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs what the tests need, builds Release, runs every test
# project, and prints one closing line "N passed, N failed, N skipped".
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter Category!=Packaging]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use (Debian names). Installed only when missing. chromium and Node.js run the web demo's
# browser test (a node already on PATH, for example from NodeSource, which bundles npm, is kept); libgtk-3-0 is
# needed by the OpenCvSharp native library (video); ffmpeg makes the AV1 clip of the unsupported-codec test; patchelf
# lets the build patch TorchSharp's native library for Debian 12's libstdc++ (build/TorchSharpNativeFix.targets);
# python3-onnx is the official ONNX checker the exported models are validated with (tests/Mtcnn.Onnx.Tests).
apt_packages=(fontconfig fonts-dejavu-core chromium libgtk-3-0 ffmpeg patchelf python3-onnx)
command -v node >/dev/null || apt_packages+=(nodejs)
command -v npm >/dev/null || apt_packages+=(npm)
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

# playwright-core for the browser test, exactly as locked in tests/Mtcnn.Web.Tests/e2e/package-lock.json.
e2e=tests/Mtcnn.Web.Tests/e2e
if [[ ! -f $e2e/node_modules/playwright-core/package.json ]]; then
  if command -v npm >/dev/null; then
    echo "Installing playwright-core for the browser test ..." >&2
    npm ci --prefix "$e2e" --no-audit --no-fund --loglevel=error >/dev/null \
      || echo "warning: 'npm ci' in $e2e failed; the browser test will skip" >&2
  else
    echo "warning: npm is missing; the browser test will skip" >&2
  fi
fi

command -v dotnet >/dev/null || { echo "error: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet build Mtcnn.slnx -c Release -nologo -v quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# --- training self-check (issue 11): libtorch's oneDNN computes wrong convolutions on some CPUs (seen on AMD Zen 5).
# `mtcnn-train check` compares libtorch with the core; when it fails it names the widest DNNL_MAX_CPU_ISA that passes,
# which is exported for the whole test run (the training tests call libtorch in-process, so they need it set up front).
if [ -z "${DNNL_MAX_CPU_ISA:-}" ]; then
  check_out=$(dotnet src/Mtcnn.Training.Cli/bin/Release/net10.0/linux-x64/Mtcnn.Training.Cli.dll check 2>&1) || true
  echo "$check_out" | sed 's/^/training self-check: /'
  chosen=$(echo "$check_out" | sed -n 's/^would use: DNNL_MAX_CPU_ISA=\([A-Z0-9_]*\)$/\1/p')
  if [ -n "$chosen" ]; then
    export DNNL_MAX_CPU_ISA="$chosen"
    echo "training self-check: running the tests with DNNL_MAX_CPU_ISA=$chosen"
  fi
fi
# --- end of the training self-check block
dotnet test Mtcnn.slnx -c Release --no-build -nologo "$@" 2>&1 | tee "$log" || status=$?

# The core suite once more with hardware intrinsics switched off, so the scalar fallbacks of every vector path run.
echo "== core tests with DOTNET_EnableHWIntrinsic=0 (scalar fallbacks)"
DOTNET_EnableHWIntrinsic=0 dotnet test tests/Mtcnn.Tests -c Release --no-build -nologo "$@" 2>&1 | tee -a "$log" || status=$?

# ==== SIMD levels and ARM64 under emulation (docs/arm64.md) ====================================================
# The core suite once per further kernel level this processor runs (the full run above used the widest; the run with
# DOTNET_EnableHWIntrinsic=0 covers scalar), then the same suite published for linux-arm64 and run under qemu-user, and
# `mtcnn detect` on the repository's photos under qemu compared with x64. MTCNN_TEST_ARM64=0 skips the emulated part.
cpu_flags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || true)
has_flag() { [[ " ${cpu_flags#*:} " == *" $1 "* ]]; }
core_knows_level() { grep -q "\"$1\"" src/Mtcnn/Inference/SimdLevel.cs; }
arch=$(uname -m)
levels_supported=()
for level in scalar 128 256 512; do
  case $level in
    scalar) ok=yes;;
    128) if [[ $arch == x86_64 ]] || has_flag asimd; then ok=yes; else ok=no; fi;;
    256) if [[ $arch == x86_64 ]] && has_flag avx2 && has_flag fma; then ok=yes; else ok=no; fi;;
    512) if [[ $arch == x86_64 ]] && has_flag avx512f; then ok=yes; else ok=no; fi;;
  esac
  if [[ $ok == yes ]] && { [[ $level == scalar ]] || core_knows_level "$level"; }; then
    levels_supported+=("$level")
  elif [[ $ok == yes ]]; then
    echo "== SIMD level $level: the processor has it, the core has no MTCNN_SIMD=$level yet; not run"
  else
    echo "== SIMD level $level: not supported by this processor; not run"
  fi
done
widest=${levels_supported[-1]}
for level in "${levels_supported[@]}"; do
  if [[ $level == scalar ]]; then
    echo "== SIMD level scalar: ran above with DOTNET_EnableHWIntrinsic=0"
  elif [[ $level == "$widest" ]]; then
    echo "== SIMD level $level: ran above (the default here, the widest this processor has)"
  else
    echo "== core tests with MTCNN_SIMD=$level"
    MTCNN_SIMD=$level dotnet test tests/Mtcnn.Tests -c Release --no-build -nologo "$@" 2>&1 | tee -a "$log" || status=$?
  fi
done

if [[ ${MTCNN_TEST_ARM64:-1} == 0 ]]; then
  echo "== ARM64 emulated tests: skipped (MTCNN_TEST_ARM64=0)"
elif [[ $arch != x86_64 ]]; then
  echo "== ARM64 emulated tests: not run on $arch (the suite above already ran natively)"
else
  scripts/arm64-emulated.sh 2>&1 | tee -a "$log" || status=$?
fi
# ==== end of SIMD levels and ARM64 ================================================================================

# ==== the Orleans cluster end to end (docs/cluster.md) ===========================================================
# Redis and three silo processes on loopback, a 2,000-image job, one silo killed with SIGKILL a third of the way in;
# the result must equal `mtcnn detect --format jsonl`. MTCNN_TEST_CLUSTER=0 skips it.
if [[ ${MTCNN_TEST_CLUSTER:-1} == 0 ]]; then
  echo "== cluster end-to-end test: skipped (MTCNN_TEST_CLUSTER=0)"
else
  echo "== cluster end-to-end test (scripts/cluster-e2e.sh)"
  scripts/cluster-e2e.sh 2>&1 | tee -a "$log" || status=$?
fi

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 58, Skipped: 0, Total: 58, ...").
read -r passed failed skipped < <(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
# A test host that crashes (an unhandled exception on any thread ends the process) prints its assembly's partial
# "Passed!" line and "Test Run Aborted", and dotnet test can still exit 0: count every abort as a failure.
aborted=$(grep -c -E 'Test Run Aborted|Test host process crashed' "$log" || true)
if [[ $aborted -ne 0 ]]; then
  echo "error: $aborted aborted test run line(s) in the log (a test host crashed); see 'Test host process crashed' above" >&2
  grep -E -A4 'Test host process crashed' "$log" >&2 || true
  failed=$((failed + 1))
fi
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $status -ne 0 || $failed -ne 0 || $passed -eq 0 ]]; then
  exit 1
fi
