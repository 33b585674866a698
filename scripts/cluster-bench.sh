#!/usr/bin/env bash
# Throughput benchmark of `mtcnn cluster` (docs/cluster.md#measured), not a test: the same inputs through
#   1. mtcnn detect --threads 1 (one process, one thread),
#   2. two such detect processes side by side (what two independent one-thread programs get from this machine: the
#      ceiling for "two silos" sharing it),
#   3. one silo with --threads 1,
#   4. two silos with --threads 1 each,
# each job on a fresh Redis, reporting images/s, the cluster's overhead against (1), and 2-silo scaling against the
# ceiling. Rounds repeat all four in turn and the summary gives the median of each figure. Run it on a quiet machine.
# Environment: MTCNN_BENCH_IMAGES (default 3600; fewer make the fixed cost of each job count), MTCNN_BENCH_PARTITION (default 25), MTCNN_BENCH_ROUNDS (default 1),
# MTCNN_BENCH_PIN=1 pins silo i to core i (taskset), as one silo per machine would have its cores to itself.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cli="$repo/src/Mtcnn.Cli/bin/Release/net10.0/linux-x64/Mtcnn.Cli.dll"
images=${MTCNN_BENCH_IMAGES:-3600}
partition=${MTCNN_BENCH_PARTITION:-25}
rounds=${MTCNN_BENCH_ROUNDS:-1}
pin=""
[[ ${MTCNN_BENCH_PIN:-0} == 1 ]] && pin=1
[[ -f $cli ]] || { echo "build first: dotnet build Mtcnn.slnx -c Release" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing (apt-get install redis-server)" >&2; exit 1; }

work=$(mktemp -d /tmp/mtcnn-cluster-bench.XXXXXX)
pids=()
stop_all() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT

sources=("$repo/samples/astronaut.png" "$repo/tests/fixtures/grace_hopper_512x512.jpg")
for f in ../shared/data/images/2007_007763.jpg ../shared/data/images/2008_001009.jpg ../shared/data/images/2008_002079.jpg; do
  [[ -f $f ]] && sources+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
mkdir -p "$work/inputs"
for ((i = 0; i < images; i++)); do
  src=${sources[$((i % ${#sources[@]}))]}
  cp "$src" "$(printf '%s/inputs/img%05d.%s' "$work" "$i" "${src##*.}")"
done
echo "cluster bench: $images inputs (copies of ${#sources[@]} photos), partition size $partition"
echo "cluster bench: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%FT%TZ)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

results="$work/results.txt"
: > "$results"
summary_rate() { sed -n 's/.*(\([0-9.]*\) img\/s.*/\1/p' "$1" | tail -n 1; }

run_detect() { # run_detect ROUND
  local round=$1 start detect_s
  start=$(date +%s.%N)
  (cd "$work" && dotnet "$cli" detect inputs --threads 1 --format jsonl) > "$work/detect.jsonl" 2> "$work/detect.log"
  detect_s=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$start")
  echo "cluster bench: round $round: detect --threads 1: ${detect_s} s wall (process start included); its summary: $(tail -n 1 "$work/detect.log" | sed 's/^mtcnn: //')"
  echo "$round detect1 $(summary_rate "$work/detect.log")" >> "$results"
  # Two independent one-thread processes side by side, each over all the inputs; their rates (own summaries) add up.
  (cd "$work" && dotnet "$cli" detect inputs --threads 1 --format jsonl) > /dev/null 2> "$work/side0.log" &
  local side=$!
  (cd "$work" && dotnet "$cli" detect inputs --threads 1 --format jsonl) > /dev/null 2> "$work/side1.log"
  wait "$side"
  local r0 r1
  r0=$(summary_rate "$work/side0.log"); r1=$(summary_rate "$work/side1.log")
  echo "cluster bench: round $round: two detect --threads 1 processes side by side: $r0 + $r1 img/s"
  echo "$round detect2 $(python3 -c "print($r0 + $r1)")" >> "$results"
}

cpu_seconds() { # utime + stime of each PID in seconds, space-separated
  local tick out="" pid
  tick=$(getconf CLK_TCK)
  for pid in "$@"; do
    out+="$(awk -v t="$tick" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$pid/stat" 2>/dev/null || echo 0) "
  done
  echo "$out"
}

run_cluster() { # run_cluster SILOS ROUND
  local silos=$1 round=$2 port
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no > "$work/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  for ((s = 0; s < silos; s++)); do
    ${pin:+taskset -c $((s % $(nproc)))} dotnet "$cli" cluster silo --redis "127.0.0.1:$port" --silo-port "$(free_port)" --gateway-port "$(free_port)" --threads 1 > "$work/silo$s.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 600); do
    (( $(grep -l "joined cluster" "$work"/silo*.log 2>/dev/null | wc -l) >= silos )) && break
    sleep 0.1
  done
  # Warm the silos with a job over the first 600 inputs (a few images are not enough for the JIT's tiering of the
  # detector to settle), then time a job over all of them. Each job also costs every silo a fixed 0.4-0.6 s of CPU
  # (JIT of the code paths of a new client connection and new grains: docs/cluster.md), which is why the inputs
  # should be thousands: then it is about 1 %.
  (cd "$work" && find inputs -type f | sort | head -n 600 | dotnet "$cli" cluster submit - --redis "127.0.0.1:$port" --job warm --output "$work/warm" --wait --quiet \
    --partition-size "$partition") > /dev/null 2>&1
  local t0 t1 cpu0 cpu1 client
  cpu0=$(cpu_seconds "${pids[@]}")
  t0=$(date +%s.%N)
  client=$( { TIMEFORMAT='%U %S'; time (cd "$work" && dotnet "$cli" cluster submit inputs --redis "127.0.0.1:$port" --job bench --output "$work/out$silos" --wait --quiet \
    --partition-size "$partition" > /dev/null 2> "$work/submit$silos.log"); } 2>&1 )
  t1=$(date +%s.%N)
  cpu1=$(cpu_seconds "${pids[@]}")
  # CPU seconds each process used during the timed job (Redis first, then the silos), and the submitting client's.
  python3 - "$cpu0" "$cpu1" "$client" "$t0" "$t1" <<'PY'
import sys
before, after = [float(x) for x in sys.argv[1].split()], [float(x) for x in sys.argv[2].split()]
used = [a - b for a, b in zip(after, before)]
client = sum(float(x) for x in sys.argv[3].split())
wall = float(sys.argv[5]) - float(sys.argv[4])
silos = ", ".join(f"silo {i} {u:.2f} s" for i, u in enumerate(used[1:]))
print(f"cluster bench: CPU during the job ({wall:.2f} s wall): redis {used[0]:.2f} s, {silos}, submitting client {client:.2f} s")
PY
  local mem
  mem=$(redis-cli -p "$port" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p' | tr -d '\r')
  echo "cluster bench: round $round: $silos silo(s) x 1 thread: $(tail -n 1 "$work/submit$silos.log" | sed 's/^mtcnn: //')"
  echo "$round silo$silos $(summary_rate "$work/submit$silos.log")" >> "$results"
  echo "cluster bench: round $round: $silos silo(s): submit --wait $(python3 -c "print(f'{$t1-$t0:.2f}')") s wall; Redis used_memory $((mem / 1024)) KiB after the job"
  cmp -s "$work/out$silos/detections.jsonl" "$work/detect.jsonl" && echo "cluster bench: round $round: $silos silo(s): detections.jsonl identical to detect's" \
    || echo "cluster bench: round $round: $silos silo(s): detections.jsonl DIFFERS from detect's"
  stop_all
  rm -f "$work"/silo*.log
}
for ((round = 1; round <= rounds; round++)); do
  run_detect "$round"
  run_cluster 1 "$round"
  run_cluster 2 "$round"
done

python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, key, value = line.split()
    rows.setdefault(int(r), {})[key] = float(value)
print("")
print("| round | detect img/s | 2 detect processes img/s | ceiling (2 / 1 process) | 1 silo img/s | 2 silos img/s | 2 silos / 1 silo | of the ceiling | 1 silo against detect |")
print("|---|---|---|---|---|---|---|---|---|")
figures = {k: [] for k in ("ceiling", "scaling", "share", "overhead")}
for r in sorted(rows):
    v = rows[r]
    ceiling = v["detect2"] / v["detect1"]
    scaling = v["silo2"] / v["silo1"]
    share = scaling / ceiling
    overhead = v["silo1"] / v["detect1"] - 1
    for k, x in (("ceiling", ceiling), ("scaling", scaling), ("share", share), ("overhead", overhead)):
        figures[k].append(x)
    print(f"| {r} | {v['detect1']:.1f} | {v['detect2']:.1f} | {ceiling:.2f}x | {v['silo1']:.1f} | {v['silo2']:.1f} | {scaling:.2f}x | {share * 100:.0f} % | {overhead * 100:+.1f} % |")
m = {k: statistics.median(x) for k, x in figures.items()}
print(f"| median | | | {m['ceiling']:.2f}x | | | {m['scaling']:.2f}x | {m['share'] * 100:.0f} % | {m['overhead'] * 100:+.1f} % |")
PY
