#!/usr/bin/env bash
# The core kernels on ARM64 without ARM hardware: publishes the core test suite (tests/Mtcnn.Tests.Arm64, the sources
# of tests/Mtcnn.Tests as a self-contained xUnit v3 executable) and the mtcnn CLI for linux-arm64, runs them under
# qemu-user, and compares `mtcnn detect` on the repository's photos with the x64 build. Called by scripts/test.sh
# after its build (it needs the x64 CLI built in Release); prints summary lines in the format scripts/test.sh sums.
# See docs/arm64.md for why DOTNET_EnableWriteXorExecute=0 is set and what this does and does not prove.
# Usage: scripts/arm64-emulated.sh            (run from anywhere; installs qemu and the arm64 libraries as root)
#        MTCNN_ARM64_FULL=1 scripts/arm64-emulated.sh   (the whole core suite instead of the kernel subset: slow)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ARM64 emulated: core kernels and mtcnn detect under qemu-user (linux-arm64, self-contained)"

# Debian packages: the emulator and the arm64 libraries a self-contained .NET program and SkiaSharp load.
arm_packages=(qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 libicu72:arm64 libssl3:arm64 zlib1g:arm64
  libfontconfig1:arm64 libfreetype6:arm64)
missing=()
for p in "${arm_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "error: packages ${missing[*]} are missing (run as root to install them)" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} ..." >&2
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
qemu=$(command -v qemu-aarch64-static) || { echo "error: qemu-aarch64-static is not on PATH after installing qemu-user-static" >&2; exit 1; }
echo "   $($qemu --version | head -n1)"

# qemu-user does not see code that .NET writes through the second, writable mapping of its executable memory (W^X
# double mapping), so it can go on running stale translations: 9 of 30 runs of mtcnn detect failed that way (wrong
# boxes, no faces, NullReferenceException, SIGSEGV) and 0 of 30 with W^X off. docs/arm64.md has the measurements.
export DOTNET_EnableWriteXorExecute=0

out=artifacts/arm64
rm -rf "$out"
# Published below the repository root: the tests find the repository (and ../shared) by walking up from themselves.
dotnet publish tests/Mtcnn.Tests.Arm64 -c Release -r linux-arm64 --self-contained -nologo -v quiet -o "$out/tests"
dotnet publish src/Mtcnn.Cli -c Release -r linux-arm64 --self-contained -nologo -v quiet -o "$out/cli"

emulated_status=0

# Prints a summary line in the format of dotnet test's ("Passed!  - Failed: F, Passed: P, Skipped: S, Total: T, ...").
summary() {
  local failed=$1 passed=$2 skipped=$3 what=$4
  local word=Passed
  ((failed == 0)) || word=Failed
  echo "${word}!  - Failed: ${failed}, Passed: ${passed}, Skipped: ${skipped}, Total: $((failed + passed + skipped)), ${what}"
}

# 1. The core suite under emulation. By default the classes that prove the kernels: every kernel against its scalar
#    twin and the golden vectors (Inference), the golden forward passes of the three networks and the image
#    resampling (82 tests, about 26 s under qemu here, under load). The cascade on photos is proven by step 2; the
#    full suite under qemu did not finish in 15 minutes (ReferenceDetectionTests alone runs for many minutes).
filter=(-class 'Mtcnn.Tests.Inference.*' -class 'Mtcnn.Tests.Weights.GoldenForwardTests'
  -class 'Mtcnn.Tests.Cascade.ResamplingTests')
[[ ${MTCNN_ARM64_FULL:-0} == 1 ]] && filter=()
suite_log=$(mktemp)
trap 'rm -f "$suite_log"' EXIT
suite_rc=0
start=$SECONDS
"$qemu" "$out/tests/Mtcnn.Tests" -noColor "${filter[@]}" >"$suite_log" 2>&1 || suite_rc=$?
grep -E '\[FAIL\]|^\s+(Assert|Expected|Actual)' "$suite_log" | head -n 60 || true
line=$(grep -E '^\s*Mtcnn\.Tests\s+Total: [0-9]+' "$suite_log" | tail -n1 || true)
if [[ -n $line ]]; then
  total=$(sed -E 's/.*Total: ([0-9]+).*/\1/' <<<"$line")
  errors=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
  failed=$(sed -E 's/.*Failed: ([0-9]+).*/\1/' <<<"$line")
  skipped=$(sed -E 's/.*Skipped: ([0-9]+).*/\1/' <<<"$line")
  notrun=$(sed -E 's/.*Not Run: ([0-9]+).*/\1/' <<<"$line")
  passed=$((total - failed - skipped - notrun))
  failed=$((failed + errors))
  summary "$failed" "$passed" "$skipped" "Mtcnn.Tests (linux-arm64 under qemu, $((SECONDS - start)) s)"
  ((failed == 0 && suite_rc == 0)) || emulated_status=1
else
  # No summary: the process died (a crash counts as one failed test run; its output's end tells why).
  tail -n 20 "$suite_log"
  summary 1 0 0 "Mtcnn.Tests (linux-arm64 under qemu) ended with exit code $suite_rc and no summary"
  emulated_status=1
fi

# 2. mtcnn detect on the repository's photos, linux-arm64 under qemu against the x64 build: the same faces, boxes and
#    landmarks within 1e-3 px and scores within 1e-5 (the kernels differ in vector width and in fusing multiply-adds,
#    so the last bits differ; the output has 4 decimals for coordinates and 6 for scores).
photos=(tests/fixtures/*.jpg samples/*.png)
x64_out=$out/detect-x64.jsonl arm_out=$out/detect-arm64.jsonl
dotnet run --project src/Mtcnn.Cli -c Release --no-build -- detect "${photos[@]}" -f jsonl -q >"$x64_out"
detect_rc=0
"$qemu" "$out/cli/Mtcnn.Cli" detect "${photos[@]}" -f jsonl -q >"$arm_out" || detect_rc=$?
compare_rc=0
python3 - "$x64_out" "$arm_out" "$detect_rc" <<'EOF' || compare_rc=$?
import json, sys

x64_path, arm_path, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
BOX_PX, SCORE = 1e-3, 1e-5

def load(path):
    with open(path, encoding="utf-8") as f:
        return {r["image"]: r for r in (json.loads(line) for line in f if line.strip())}

x64, arm = load(x64_path), load(arm_path)
passed = failed = 0
worst_px = worst_score = 0.0
for image, want in x64.items():
    got = arm.get(image)
    problem = None
    if got is None:
        problem = f"no result under emulation (mtcnn exit code {rc})"
    elif "error" in got or "error" in want:
        problem = f"error: x64 {want.get('error')!r}, arm64 {got.get('error')!r}"
    elif len(got["faces"]) != len(want["faces"]):
        problem = f"{len(got['faces'])} faces under emulation, {len(want['faces'])} on x64"
    else:
        for i, (a, b) in enumerate(zip(got["faces"], want["faces"])):
            coords_a = a["box"] + [c for p in a["landmarks"] for c in p]
            coords_b = b["box"] + [c for p in b["landmarks"] for c in p]
            px = max(abs(u - v) for u, v in zip(coords_a, coords_b))
            ds = abs(a["score"] - b["score"])
            worst_px, worst_score = max(worst_px, px), max(worst_score, ds)
            if px > BOX_PX or ds > SCORE:
                problem = f"face {i + 1}: coordinates differ by up to {px:.2e} px, score by {ds:.2e}"
                break
    if problem:
        failed += 1
        print(f"  [FAIL] {image}: {problem}")
    else:
        passed += 1
        print(f"  [OK]   {image}: {len(want['faces'])} face(s) as on x64")
print(f"  largest difference: {worst_px:.1e} px, score {worst_score:.1e} "
      f"(tolerance {BOX_PX:g} px, {SCORE:g})")
word = "Passed" if failed == 0 and passed > 0 else "Failed"
print(f"{word}!  - Failed: {failed}, Passed: {passed}, Skipped: 0, Total: {failed + passed}, "
      "mtcnn detect linux-arm64 under qemu vs x64")
sys.exit(0 if failed == 0 and passed > 0 and rc == 0 else 1)
EOF
((compare_rc == 0)) || emulated_status=1
exit "$emulated_status"
