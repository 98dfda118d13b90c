#!/usr/bin/env bash
# Where one request at a time spends its time, nginx against vllm-mux: a
# scheduler and system-call trace (perf tracepoints, no hardware counters
# needed; run as root) of 0.5 s of wrk at concurrency 1, taken apart per
# request and per hop. Same layout as bench/proxy.sh: the backend and wrk
# on core 0, the proxy alone on core 1. Prints, per proxy:
# - each hop's time (one process's send to the next one's send);
# - the proxy's own part of its hops (switched in → its send);
# - how fast core 0 is woken, by how long it had been idle: the
#   hypervisor wakes a core that halted a short while ago much faster;
# - each request split at every system call: a process's own work (a
#   receive to its send) and each delivery (a send to the next receive).
# Bounded: a 1 s warm-up and a 4 s run per proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in nginx wrk perf; do
    command -v "$tool" >/dev/null 2>&1 || { echo "needs $tool" >&2; exit 2; }
done
cargo build --release --locked --quiet --bin vllm-mux --example bench-upstream
. bench/setup.sh
sleep 0.5
nginx_worker=$(pgrep -P "$(cat "$work/nginx.pid")" | head -1)
mux_pid=$(cat "$VLLM_MUX_HOME/run/bench/supervisor.pid")

for target in "nginx $NGINX_PORT $nginx_worker" "vllm-mux $MUX_PORT $mux_pid"; do
    set -- $target
    url="http://127.0.0.1:$2/v1/chat/completions"
    taskset -c 0 wrk -t1 -c1 -d1s -s "$work/post.lua" "$url" >/dev/null
    taskset -c 0 wrk -t1 -c1 -d4s -s "$work/post.lua" "$url" >/dev/null &
    load=$!
    sleep 1.5
    perf record -q -a -o "$work/trace" \
        -e raw_syscalls:sys_enter --exclude-perf \
        -e sched:sched_switch --exclude-perf \
        -e sched:sched_wakeup --exclude-perf -- sleep 0.5 >/dev/null 2>&1
    wait "$load"
    perf script --ns -i "$work/trace" -F comm,pid,tid,cpu,time,event,trace > "$work/trace.txt" 2>/dev/null
    echo "== $1"
    python3 - "$work/trace.txt" "$3" "$upstream_pid" <<'PY'
import collections, re, sys

path, proxy_pid, up = sys.argv[1:4]
SEND = {1, 20, 44, 46}  # write, writev, sendto, sendmsg
events = []
for line in open(path):
    m = re.match(r'\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)', line)
    if m:
        comm, pid, tid, cpu, ts, event, rest = m.groups()
        events.append((float(ts) * 1e6, comm, tid, cpu, event, rest, pid))
# The busiest thread of wrk (its load thread) and of the proxy.
busy = collections.Counter((e[1], e[6], e[2]) for e in events if e[4] == 'raw_syscalls:sys_enter')
wrk = max((c, t) for (comm, _, t), c in busy.items() if comm == 'wrk')[1]
proxy = max((c, t) for (_, pid, t), c in busy.items() if pid == proxy_pid)[1]
actors = (wrk, proxy, up)

def pid_of(rest, key):
    m = re.search(key + r'=(\d+) ', rest)
    return m.group(1) if m else None

chain = [wrk, proxy, up, proxy]
hops = ['wrk → proxy', 'proxy → backend', 'backend → proxy', 'proxy → wrk']
total = {h: [] for h in hops}
own = {h: [] for h in hops}
state, last, switched_in = None, 0.0, None
for ts, comm, tid, cpu, event, rest, _ in events:
    if event == 'raw_syscalls:sys_enter':
        if tid not in actors or int(rest.split()[1]) not in SEND:
            continue
        if state is None:
            if tid == wrk:
                state, last, switched_in = 0, ts, None
            continue
        if tid == chain[(state + 1) % 4]:
            total[hops[state]].append(ts - last)
            if switched_in is not None:
                own[hops[state]].append(ts - switched_in)
            state, last, switched_in = (state + 1) % 4, ts, None
    elif event == 'sched:sched_switch' and state is not None:
        if pid_of(rest, 'next_pid') == chain[(state + 1) % 4]:
            switched_in = ts

def median(v):
    v = sorted(v)
    return v[len(v) // 2] if v else float('nan')

requests = len(total[hops[3]])
print(f'  {requests} requests in 0.5 s; median µs per hop, and of it the')
print('  receiver\'s own part (switched in → its send):')
for h in hops:
    print(f'    {h:<16} {median(total[h]):6.1f}   own {median(own[h]):5.1f}')
# Wakes of the backend on core 0, by how long core 0 had been idle.
idle_since, buckets = None, collections.defaultdict(list)
woken = None
for ts, comm, tid, cpu, event, rest, _ in events:
    if cpu == '000' and event == 'sched:sched_switch' and 'next_comm=swapper' in rest:
        idle_since = ts
    elif event == 'sched:sched_wakeup' and pid_of(rest, 'pid') == up and idle_since is not None:
        woken = (ts, ts - idle_since)
    elif event == 'sched:sched_switch' and pid_of(rest, 'next_pid') == up and woken:
        buckets[int(woken[1] // 10) * 10].append(ts - woken[0])
        woken = None
print('    core 0 idle for    wakes   woken within 3 µs   median wake µs')
for b in sorted(buckets):
    lat = buckets[b]
    if len(lat) >= 20:
        fast = 100 * sum(1 for x in lat if x < 3) / len(lat)
        print(f'    {b:3d}-{b + 10:<3d} µs       {len(lat):5d}   {fast:5.0f}%              {median(lat):5.1f}')
# The same requests split at each system call: a receive to the send that
# follows is a process's own work, a send to the next receive is the
# kernel's delivery plus waking the other core.
RECV = {0, 45, 47}  # read, recvfrom, recvmsg
who = {wrk: 'wrk', proxy: 'proxy', up: 'backend'}
steps = [('wrk', 'send'), ('proxy', 'recv'), ('proxy', 'send'), ('backend', 'recv'),
         ('backend', 'send'), ('proxy', 'recv'), ('proxy', 'send'), ('wrk', 'recv')]
legs = {}
current = []
for ts, comm, tid, cpu, event, rest, _ in events:
    if event != 'raw_syscalls:sys_enter' or tid not in who:
        continue
    nr = int(rest.split()[1])
    step = (who[tid], 'send' if nr in SEND else 'recv' if nr in RECV else None)
    if step == steps[len(current)]:
        current.append(ts)
    elif step == steps[0]:
        current = [ts]
    if len(current) == len(steps):
        for i in range(len(steps) - 1):
            name = f'{steps[i][0]} {steps[i][1]} → {steps[i + 1][0]} {steps[i + 1][1]}'
            legs.setdefault((i, name), []).append(current[i + 1] - current[i])
        current = []
print('  per system call, median µs (p10 … p90):')
for (_, name), v in sorted(legs.items()):
    v = sorted(v)
    print(f'    {name:<28} {median(v):6.1f}  ({v[len(v) // 10]:.1f} … {v[len(v) * 9 // 10]:.1f})')
PY
done
