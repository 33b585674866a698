#!/usr/bin/env bash
# Processing speed of `mtcnn video` (frames per second, end to end: decode, detect/track, encode) on
# ../shared/data/video/video_test.avi (320x240, 1066 frames) when present, and on 640x480 and 1280x720 clips made here
# with ffmpeg from samples/astronaut.png (the sample sliding over a textured background, 300 frames, MPEG-4 Part 2).
# Prints one summary line per run; docs/video.md holds measured numbers.
# Usage: scripts/video-bench.sh [extra mtcnn video options, applied to every run]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || { echo "error: ffmpeg is needed to make the clips (apt-get install ffmpeg)" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/Mtcnn.Cli -c Release -nologo -v quiet >/dev/null
cli=(dotnet "src/Mtcnn.Cli/bin/Release/net10.0/$(dotnet --info | sed -n 's/^ *RID: *//p' | head -1)/Mtcnn.Cli.dll")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make_clip() { # width height sample-size output
  ffmpeg -v error -y -f lavfi -i "color=c=0x507090:s=$1x$2:r=30,noise=alls=12" -loop 1 -i samples/astronaut.png \
    -filter_complex "[1]scale=$3:$3[f];[0][f]overlay=x='(W-w)*(0.5+0.45*sin(t))':y='(H-h)/2':shortest=1" \
    -frames:v 300 -c:v mpeg4 -q:v 3 "$4"
}
make_clip 640 480 256 "$tmp/clip-640x480.mp4"
make_clip 1280 720 512 "$tmp/clip-1280x720.mp4"

clips=()
[[ -f ../shared/data/video/video_test.avi ]] && clips+=(../shared/data/video/video_test.avi)
clips+=("$tmp/clip-640x480.mp4" "$tmp/clip-1280x720.mp4")

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # label, then mtcnn arguments
  local label=$1
  shift
  printf '%-34s ' "$label"
  "${cli[@]}" video "$@" 2>&1 >/dev/null | tail -1 | sed 's/^mtcnn: //'
}
for clip in "${clips[@]}"; do
  name=$(basename "$clip")
  run "$name every 1" "$clip" "$@"
  run "$name every 3" "$clip" --every 3 "$@"
  run "$name every 1, min face 40" "$clip" --min-face-size 40 "$@"
  run "$name every 1, 1 worker x all threads" "$clip" --workers 1 "$@"
  run "$name every 1, --output .mp4" "$clip" --output "$tmp/out.mp4" "$@"
  run "$name decode+encode only (every 100000)" "$clip" --every 100000 --output "$tmp/out.mp4" "$@"
done
