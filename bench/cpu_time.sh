# CPU time of processes around a benchmark run, sourced by the benchmark scripts: CPU per request
# is a steadier figure than requests/s on a shared machine.

# Clock ticks (user + system) used so far by the given processes.
ticks() { local sum=0 pid; for pid in "$@"; do [ -r "/proc/$pid/stat" ] && sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$sum"; }
# Every PostgreSQL process (backends the pool opens during a run count in full).
postgres_pids() { pgrep -u postgres postgres | tr '\n' ' '; }
# Milliseconds of CPU per request: per_request_ms TICKS_BEFORE TICKS_AFTER REQUESTS.
per_request_ms() { python3 -c "import os; print(round(($2 - $1) * 1000 / os.sysconf('SC_CLK_TCK') / max(1, $3), 3))"; }
