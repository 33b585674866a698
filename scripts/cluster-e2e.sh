#!/usr/bin/env bash
# End-to-end test of `mtcnn cluster` (docs/cluster.md), run by scripts/test.sh: starts redis-server on a free loopback
# port (installing Debian's package when missing) and three silo processes, submits a job of 2,000+ images (copies of
# the repository's photos, plus ../shared's photos when present, plus corrupt files), kill -9s one silo when about a
# third is done, and checks that the job completes with every input exactly once and detections.jsonl byte-identical
# to `mtcnn detect --format jsonl` on the same inputs. Every process it starts it stops by PID.
# Prints a summary line in the format of dotnet test's, one "test" per check.
# Environment: MTCNN_CLUSTER_IMAGES (default 2000), MTCNN_CLUSTER_KEEP=1 keeps the work folder.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cli="$repo/src/Mtcnn.Cli/bin/Release/net10.0/linux-x64/Mtcnn.Cli.dll"
images=${MTCNN_CLUSTER_IMAGES:-2000}
deadline_s=420
started=$(date +%s)

pids=()
work=$(mktemp -d /tmp/mtcnn-cluster-e2e.XXXXXX)
cleanup() {
  # Newest first: submit, the silos (SIGTERM: they leave the cluster gracefully), then Redis; SIGKILL after 10 s.
  local reversed=()
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do reversed+=("${pids[$i]}"); done
  for pid in "${reversed[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${reversed[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ ${MTCNN_CLUSTER_KEEP:-0} == 1 ]]; then echo "cluster e2e: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0 failed=0
check() { # check NAME COMMAND...: one test
  if "${@:2}"; then passed=$((passed + 1)); echo "cluster e2e: PASS $1"; else failed=$((failed + 1)); echo "cluster e2e: FAIL $1"; fi
}
summary() {
  local total=$((passed + failed)) word=Passed
  ((failed)) && word=Failed
  echo "$word!  - Failed: $failed, Passed: $passed, Skipped: 0, Total: $total, Duration: $(( $(date +%s) - started )) s - cluster-e2e"
}
give_up() { echo "cluster e2e: $1" >&2; failed=$((failed + 1)); summary; exit 1; }

[[ -f $cli ]] || give_up "the CLI is not built ($cli); run 'dotnet build Mtcnn.slnx -c Release' first"
if ! command -v redis-server >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "Installing redis-server ..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null || give_up "cannot install redis-server"
  else
    give_up "redis-server is missing (run as root to install Debian's package)"
  fi
fi

# Free loopback ports, chosen by the kernel.
read -r -a ports < <(python3 - <<'PY'
import socket
socks = []
for _ in range(8):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
redis_port=${ports[0]}

# The inputs: copies of the photos, and a few corrupt files among them.
inputs="$work/inputs"
mkdir -p "$inputs"
sources=("$repo/samples/astronaut.png" "$repo/tests/fixtures/grace_hopper_512x512.jpg")
if [[ -d ../shared/data/images ]]; then
  for f in ../shared/data/images/2007_007763.jpg ../shared/data/images/2008_001009.jpg ../shared/data/images/2008_002079.jpg ../shared/data/images/dogs.jpg; do
    [[ -f $f ]] && sources+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
  done
fi
for ((i = 0; i < images; i++)); do
  src=${sources[$((i % ${#sources[@]}))]}
  cp "$src" "$(printf '%s/img%05d.%s' "$inputs" "$i" "${src##*.}")"
done
head -c 3000 "$repo/tests/fixtures/grace_hopper_512x512.jpg" > "$inputs/img00100-truncated.jpg"
echo "not an image" > "$inputs/img00777-text.jpg"
: > "$inputs/img01500-empty.png"
head -c 4096 /dev/urandom > "$inputs/img01999-noise.png"
total=$(find "$inputs" -type f | wc -l)
echo "cluster e2e: $total inputs ($images copies of ${#sources[@]} photos, 4 corrupt) in $work"

options=(--min-face-size 24)

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG || give_up "redis-server did not start (see $work/redis.log)"
redis="127.0.0.1:$redis_port"
cluster_id="e2e-$$"

silo_pids=()
client_pids=()
for s in 0 1 2; do
  dotnet "$cli" cluster silo --redis "$redis" --cluster-id "$cluster_id" --silo-port "${ports[$((1 + 2 * s))]}" \
    --gateway-port "${ports[$((2 + 2 * s))]}" --threads 1 > "$work/silo$s.log" 2>&1 &
  pids+=($!)
  silo_pids+=($!)
done
for _ in $(seq 600); do
  joined=$(grep -l "joined cluster" "$work"/silo*.log 2>/dev/null | wc -l)
  ((joined == 3)) && break
  sleep 0.1
done
((joined == 3)) || { tail -n 5 "$work"/silo*.log; give_up "only $joined of 3 silos joined"; }
echo "cluster e2e: 3 silos joined cluster $cluster_id on Redis $redis"

out="$work/out"
(cd "$work" && exec dotnet "$cli" cluster submit inputs --redis "$redis" --cluster-id "$cluster_id" --job e2e --output "$out" \
  --wait --partition-size 20 --lease-seconds 3 --progress-seconds 0.5 "${options[@]}") > "$work/submit.out" 2> "$work/submit.log" &
submit_pid=$!
pids+=($submit_pid)

# Kill one silo with SIGKILL once about a third of the images are committed.
killed_at="" done_at_kill=0
while kill -0 "$submit_pid" 2>/dev/null; do
  (( $(date +%s) - started > deadline_s )) && break
  done_now=$(sed -n 's/^mtcnn: \([0-9]*\)\/[0-9]* images.*/\1/p' "$work/submit.log" | tail -n 1)
  if [[ -z $killed_at && -n $done_now ]] && (( done_now * 3 >= total )); then
    kill -9 "${silo_pids[0]}"
    wait "${silo_pids[0]}" 2>/dev/null
    killed_at=$(date +%s.%N)
    done_at_kill=$done_now
    echo "cluster e2e: kill -9 silo 0 (pid ${silo_pids[0]}) at $done_now/$total images"
  fi
  sleep 0.2
done
if kill -0 "$submit_pid" 2>/dev/null; then
  tail -n 5 "$work/submit.log"
  give_up "the job did not finish within ${deadline_s} s"
fi
wait "$submit_pid"
submit_rc=$?
echo "cluster e2e: submit exited $submit_rc: $(tail -n 1 "$work/submit.log")"
status_out=$(dotnet "$cli" cluster status --redis "$redis" --cluster-id "$cluster_id" --job e2e 2>&1)
echo "$status_out" | sed 's/^/cluster e2e: status: /'

# The single-machine reference: mtcnn detect on the same inputs and options (exit code 1: some images failed).
(cd "$work" && dotnet "$cli" detect inputs --format jsonl --threads 2 --quiet "${options[@]}") > "$work/detect.jsonl" 2> "$work/detect.log"

check "a silo was killed mid-job (at ${done_at_kill}/${total})" test -n "$killed_at" -a "$done_at_kill" -lt "$total"
check "submit reports the 4 corrupt images as failed (exit 1)" test "$submit_rc" -eq 1
check "detections.jsonl has one line per input" test "$(wc -l < "$out/detections.jsonl" 2>/dev/null || echo 0)" -eq "$total"
check "every input exactly once, in input order" python3 - "$out/detections.jsonl" "$inputs" <<'PY'
import json, os, sys
got = [json.loads(line)["image"] for line in open(sys.argv[1], encoding="utf-8")]
want = sorted("inputs/" + n for n in os.listdir(sys.argv[2]))
sys.exit(0 if got == want else 1)
PY
check "4 error records" test "$(grep -c '"error"' "$out/detections.jsonl" 2>/dev/null)" -eq 4
check "byte-identical to mtcnn detect --format jsonl" cmp -s "$out/detections.jsonl" "$work/detect.jsonl"
check "the killed silo's partitions were leased again" grep -q "re-leased: partition" <<<"$status_out"
check "status shows the job completed" grep -q "job 'e2e': completed, $total/$total images" <<<"$status_out"

# Recovery: from the kill to the first re-lease of one of its partitions.
if [[ -n $killed_at ]]; then
  first_relet=$(sed -n 's/.*re-leased: partition [0-9]* from .* to .* at \(.*\)Z$/\1/p' <<<"$status_out" | head -n 1)
  if [[ -n $first_relet ]]; then
    echo "cluster e2e: first re-lease $(python3 -c "import datetime,sys; k=float(sys.argv[1]); r=datetime.datetime.fromisoformat(sys.argv[2]).replace(tzinfo=datetime.timezone.utc).timestamp(); print(f'{r-k:.2f}')" "$killed_at" "$first_relet") s after the kill"
  fi
fi
# A second job on the two silos left: the align task over a folder and http:// URLs (one answering 404), against
# `mtcnn align` and `mtcnn detect` on the same list.
web="$work/web"
mkdir -p "$web" "$work/alignin"
cp "$repo/tests/fixtures/grace_hopper_512x512.jpg" "$web/hopper.jpg"
cp "$repo/samples/astronaut.png" "$web/astronaut.png"
for ((i = 0; i < 24; i++)); do
  src=${sources[$((i % ${#sources[@]}))]}
  cp "$src" "$(printf '%s/alignin/a%03d.%s' "$work" "$i" "${src##*.}")"
done
echo "not an image" > "$work/alignin/a005-text.jpg"
web_port=${ports[7]}
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$web" > "$work/web.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" "http://127.0.0.1:$web_port/hopper.jpg" 2>/dev/null && break; sleep 0.1; done
list=$(printf '%s\n' alignin "http://127.0.0.1:$web_port/hopper.jpg" "http://127.0.0.1:$web_port/astronaut.png" "http://127.0.0.1:$web_port/missing.jpg")
align_total=$(( $(find "$work/alignin" -type f | wc -l) + 3 ))
(cd "$work" && timeout 180 dotnet "$cli" cluster submit - --task align --redis "$redis" --cluster-id "$cluster_id" --job e2e-align --output "$work/aout" \
  --wait --partition-size 5 --lease-seconds 3 --progress-seconds 2 "${options[@]}" <<<"$list") > "$work/align-submit.out" 2> "$work/align-submit.log"
align_rc=$?
echo "cluster e2e: align submit exited $align_rc: $(tail -n 1 "$work/align-submit.log")"
(cd "$work" && dotnet "$cli" align - --output "$work/aref/crops" --threads 2 --quiet "${options[@]}" <<<"$list") > /dev/null 2> "$work/align-ref.log"
(cd "$work" && dotnet "$cli" detect - --format jsonl --threads 2 --quiet "${options[@]}" <<<"$list") > "$work/align-detect.jsonl" 2> /dev/null
check "align job: submit reports the corrupt file and the 404 as failed (exit 1)" test "$align_rc" -eq 1
check "align job: detections.jsonl has one line per input ($align_total)" test "$(wc -l < "$work/aout/detections.jsonl" 2>/dev/null || echo 0)" -eq "$align_total"
check "align job: detections.jsonl byte-identical to mtcnn detect (URLs included)" cmp -s "$work/aout/detections.jsonl" "$work/align-detect.jsonl"
check "align job: the 404 URL is an error record naming HTTP 404" grep -q '"image": "http://127.0.0.1:'"$web_port"'/missing.jpg", "error": "the server answered HTTP 404' "$work/aout/detections.jsonl"
check "align job: crops/align.jsonl byte-identical to mtcnn align's" cmp -s "$work/aout/crops/align.jsonl" "$work/aref/crops/align.jsonl"
check "align job: the same crop files, pixel for pixel" diff -r -q "$work/aout/crops" "$work/aref/crops"
check "align job: URL inputs gave crops" test -f "$work/aout/crops/hopper_0.png" -a -f "$work/aout/crops/astronaut_0.png"

# A third phase: `mtcnn serve --cluster` on the two silos left, against an in-process `mtcnn serve` on the same
# requests; then one more silo is killed while requests are in flight.
start_serve() { # start_serve LOG ARGS...: starts mtcnn serve on a free port, sets serve_port
  dotnet "$cli" serve --urls http://127.0.0.1:0 "${@:2}" > "$1" 2>&1 &
  pids+=($!)
  serve_port=""
  for _ in $(seq 600); do
    serve_port=$(sed -n 's|^mtcnn: listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$1" | head -n 1)
    [[ -n $serve_port ]] && return 0
    sleep 0.1
  done
  return 1
}
# Both with a low candidate limit, so that the comparison also shows the silos apply the front end's --max-candidates.
start_serve "$work/serve-cluster.log" --cluster "redis://$redis" --cluster-id "$cluster_id" --max-candidates 100 || { tail -n 5 "$work/serve-cluster.log"; give_up "serve --cluster did not start"; }
cluster_port=$serve_port
start_serve "$work/serve-local.log" --threads 1 --max-candidates 100 || give_up "serve did not start"
local_port=$serve_port
post() { # post PORT PATH FILE OUT: writes the body to OUT, headers to OUT.h, prints the status
  curl -s -o "$4" -D "$4.h" -w '%{http_code}\n' -F "image=@$3" "http://127.0.0.1:$1$2"
}
mkdir -p "$work/serve"
requests=0 same=0 statuses_ok=0
corrupt=("$inputs/img00100-truncated.jpg" "$inputs/img00777-text.jpg" "$inputs/img01999-noise.png")
for src in "${sources[@]}" "${corrupt[@]}"; do
  for path in "/api/detect" "/api/detect?minFaceSize=40&thresholds=0.6,0.7,0.8" "/api/detect?stage=rnet" "/api/annotate?format=png"; do
    requests=$((requests + 1))
    a=$(post "$cluster_port" "$path" "$src" "$work/serve/c$requests")
    b=$(post "$local_port" "$path" "$src" "$work/serve/l$requests")
    [[ $a == "$b" ]] && statuses_ok=$((statuses_ok + 1))
    cmp -s "$work/serve/c$requests" "$work/serve/l$requests" && same=$((same + 1))
  done
done
echo "cluster e2e: serve --cluster: $requests requests, $same bodies identical to in-process serve, $statuses_ok statuses equal"
workers_seen=$(grep -h -i '^x-mtcnn-worker:' "$work"/serve/c*.h | sort -u | wc -l)
check "serve --cluster: every body byte-identical to in-process serve ($requests requests: JSON, PNG, errors)" test "$same" -eq "$requests" -a "$statuses_ok" -eq "$requests"
check "serve --cluster: the front end's --max-candidates reached the silos (capped results among the bodies)" grep -q -l '"candidateLimitReached":true' "$work"/serve/c*
check "serve --cluster: corrupt uploads are 415/422 errors, as in-process" test "$(cat "$work"/serve/c*.h | grep -c -E '^HTTP/1.1 (415|422)')" -eq $(( ${#corrupt[@]} * 4 ))
check "serve --cluster: requests ran on both silos ($workers_seen seen)" test "$workers_seen" -eq 2
# Four clients, 30 requests each; silo 1 is killed after the first few answers.
post "$local_port" "/api/detect" "$repo/tests/fixtures/grace_hopper_512x512.jpg" "$work/serve/reference" > /dev/null
for c in 0 1 2 3; do
  (for i in $(seq 30); do post "$cluster_port" "/api/detect" "$repo/tests/fixtures/grace_hopper_512x512.jpg" "$work/serve/k$c-$i" > "$work/serve/k$c-$i.code"; done) &
  pids+=($!)
  client_pids+=($!)
done
for _ in $(seq 200); do (( $(ls "$work"/serve/k*.code 2>/dev/null | wc -l) >= 12 )) && break; sleep 0.05; done
kill -9 "${silo_pids[1]}"
wait "${silo_pids[1]}" 2>/dev/null
echo "cluster e2e: kill -9 silo 1 (pid ${silo_pids[1]}) with requests in flight"
for pid in "${client_pids[@]}"; do wait "$pid"; done
answered=$(cat "$work"/serve/k*.code | grep -c '^200$')
identical=0
for f in "$work"/serve/k*-*[0-9]; do cmp -s "$f" "$work/serve/reference" && identical=$((identical + 1)); done
echo "cluster e2e: serve --cluster with a silo killed: $answered/120 answered 200, $identical bodies as in-process; $(grep -c 'sending it to another silo' "$work/serve-cluster.log") retried"
check "serve --cluster: all 120 requests answered 200 across a kill -9 of a silo" test "$answered" -eq 120
check "serve --cluster: ... with the in-process bytes" test "$identical" -eq 120
summary
((failed == 0))
