#!/usr/bin/env bash
# Measures the tracker's confirmation rule (--track-min-hits) on a clip: runs `mtcnn video --format jsonl` once per
# setting and prints, per setting, the ids handed out, the ids seen on one frame only (flicker), the face-frames
# reported (a face on a frame counts once) and how many of those MinHits 1 reported but this setting does not (faces
# dropped), and, for each scene start given, how many frames after it the first face is reported.
# Used for the table in docs/video.md; make the clip with scripts/track-clip.sh (its scene starts: 0,60,100,165,205,235).
# Usage: scripts/track-measure.sh CLIP SCENE-STARTS [SETTING...]
#   SCENE-STARTS: comma-separated first frames of the scenes ("0" for a clip without cuts)
#   SETTING: extra mtcnn video options in one word, commas for spaces; default: the three settings below
#   e.g. scripts/track-measure.sh /tmp/track-clip.mp4 0,60,100,165,205,235 --track-min-hits,2 --track-min-hits,2,--scene-cut,0
set -euo pipefail
cd "$(dirname "$0")/.."
clip=$1 starts=$2
shift 2
settings=("$@")
[[ ${#settings[@]} -gt 0 ]] || settings=(--track-min-hits,1 --track-min-hits,2 --track-min-hits,3)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/Mtcnn.Cli -c Release -nologo -v quiet >/dev/null
cli=(dotnet "src/Mtcnn.Cli/bin/Release/net10.0/$(dotnet --info | sed -n 's/^ *RID: *//p' | head -1)/Mtcnn.Cli.dll")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# $(basename "$clip"), $(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
# The reference for "faces dropped": every face the detector found, reported at once, no scene-cut rule needed.
"${cli[@]}" video "$clip" --format jsonl --quiet --track-min-hits 1 >"$tmp/base.jsonl"
for setting in "${settings[@]}"; do
  # shellcheck disable=SC2086 # the setting is split on purpose
  "${cli[@]}" video "$clip" --format jsonl --quiet ${setting//,/ } >"$tmp/run.jsonl"
  python3 - "$tmp/base.jsonl" "$tmp/run.jsonl" "$starts" "${setting//,/ }" <<'EOF'
import json, sys
from collections import Counter

def load(path):
    return [json.loads(line)["faces"] for line in open(path)]

base, run = load(sys.argv[1]), load(sys.argv[2])
starts = [int(s) for s in sys.argv[3].split(",")]
frames_per_id = Counter(face["id"] for faces in run for face in faces)
one_frame = sum(1 for n in frames_per_id.values() if n == 1)
reported = sum(len(faces) for faces in run)
# A face-frame of the reference is dropped when this run has no face overlapping it (IoU >= 0.5) on that frame.
def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0]); h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
dropped = sum(1 for f, faces in enumerate(base) for face in faces
              if not any(iou(face["box"], other["box"]) >= 0.5 for other in run[f]))
bounds = starts + [len(run)]
def first_face(frames, a, b):
    return next((f - a for f in range(a, b) if frames[f]), None)
delays = []
for a, b in zip(bounds, bounds[1:]):
    ref, got = first_face(base, a, b), first_face(run, a, b)
    delays.append("-" if ref is None else "never" if got is None else str(got))
print(f"{sys.argv[4]:<40} ids {len(frames_per_id):3}  one-frame ids {one_frame:3}  face-frames {reported:5}"
      f"  dropped {dropped:4}  first face after each scene start: {' '.join(delays)}")
EOF
done
