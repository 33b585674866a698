#!/usr/bin/env bash
# Makes the 275-frame clip with scene cuts used to choose the tracker's --track-min-hits default (docs/video.md,
# "Confirmation"): segments of ../shared/data/video/video_test.avi and still photos of ../shared/data/images, each
# brought to 640x480 at 20 fps and joined with hard cuts. The stills zoom in slowly (0.3 % a frame) under temporal
# noise, so that the detector sees a slightly different picture on every frame, as it would in a real video.
#
#   frames    0- 59  webcam clip, frames 0-59 (one person)
#   frames   60- 99  grace_hopper_512x512.jpg (1 face)
#   frames  100-164  webcam clip, frames 400-464
#   frames  165-204  faceapi_faces.jpg (6 faces)
#   frames  205-234  dogs.jpg (no face)
#   frames  235-274  2007_007763.jpg (7 faces)
#
# Scene cuts at frames 60, 100, 165, 205 and 235. Writes MPEG-4 Part 2 in the output file (default /tmp/track-clip.mp4).
# The clip is made from data that may not be redistributed: do not commit it.
# Usage: scripts/track-clip.sh [OUTPUT.mp4]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/track-clip.mp4}
data=../shared/data
command -v ffmpeg >/dev/null || { echo "error: ffmpeg is needed (apt-get install ffmpeg)" >&2; exit 1; }
[[ -f $data/video/video_test.avi ]] || { echo "error: $data/video/video_test.avi is missing" >&2; exit 1; }

fit='scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1'
webcam() { # first frame, frame count, label
  echo "[0:v]trim=start_frame=$1:end_frame=$(($1 + $2)),setpts=PTS-STARTPTS,$fit,fps=20,format=yuv420p[$3];"
}
still() { # input index, frame count, label
  echo "[$1:v]$fit,zoompan=z='1+0.003*on':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=640x480:fps=20,noise=alls=10:allf=t,trim=end_frame=$2,setpts=PTS-STARTPTS,format=yuv420p[$3];"
}
graph="$(webcam 0 60 a)$(still 1 40 b)$(webcam 400 65 c)$(still 2 40 d)$(still 3 30 e)$(still 4 40 f)"
graph+="[a][b][c][d][e][f]concat=n=6:v=1:a=0[v]"
ffmpeg -v error -y -i "$data/video/video_test.avi" \
  -loop 1 -framerate 20 -i "$data/images/grace_hopper_512x512.jpg" \
  -loop 1 -framerate 20 -i "$data/images/faceapi_faces.jpg" \
  -loop 1 -framerate 20 -i "$data/images/dogs.jpg" \
  -loop 1 -framerate 20 -i "$data/images/2007_007763.jpg" \
  -filter_complex "$graph" -map '[v]' -frames:v 275 -r 20 -c:v mpeg4 -q:v 3 "$out"
echo "$out: $(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height -of csv=p=0 "$out")"
