#!/usr/bin/env bash
# The scale-out run: two `plumbline serve` instances and one `plumbline worker` on one fresh
# PostgreSQL database, behind a private nginx that round-robins over the two. A minute of load
# (pages with a session cookie, REST reads with a token) runs through nginx while report versions
# are issued steadily (one render job each); half-way, one serve instance is killed with SIGKILL.
# Then it checks what scale-out promises: failures only for requests in flight on the killed
# instance, sessions that outlive it, every job done, none run twice, and the job the dead
# instance held retried once its lease ran out.
#
# Usage: bench/scale-out.sh [--out PATH] [--duration SECS] [--kill-at SECS] [--keep]
#   --out PATH       also write the results as JSON to PATH (or set SCALE_OUT_OUT)
#   --duration SECS  length of the load (default 60)
#   --kill-at SECS   when to kill one serve instance, from the start of the load (default 30)
#   --keep           keep the scratch folder (logs, nginx config) even when the run passes
# Environment:
#   PLUMBLINE_BIN        the binary (default $CARGO_TARGET_DIR/release/plumbline, with
#                        CARGO_TARGET_DIR defaulting to ~/.cache/plumbline/target)
#   PLUMBLINE_SITE_ROOT  the built site, for pages (default <repo>/target/site)
#   PGHOST PGPORT PGUSER PostgreSQL, trust auth (default 127.0.0.1 5432 postgres)
#   SCALE_OUT_DB         the database, dropped and created each run (default plumbline_scaleout)
#   SCALE_OUT_PORT       nginx's port; the serve instances take the next two (default 18180)
#   SCALE_OUT_CONNECTIONS  wrk connections (default 16)
#   SCALE_OUT_ENQUEUERS  clients issuing report versions side by side, each on its own
#                        engagements (default 2: an issue is then nearly always in flight)
#   SCALE_OUT_ENQUEUE_EVERY  seconds each waits between issues (default 0.5)
#   SCALE_OUT_DRAIN_SECS  how long to wait for the queue to empty after the load (default 120:
#                        the job lease is 30 s, renewed while a job runs, and a job the killed
#                        instance held waits for it to run out)
# Needs nginx, wrk, curl, jq, psql, openssl. Exits 0 when every check passes, 1 when one fails, 2 when
# the run could not be made.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)

out=${SCALE_OUT_OUT:-}
duration=60
kill_at=30
keep=false
while [[ $# -gt 0 ]]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --kill-at) kill_at=$2; shift 2 ;;
        --keep) keep=true; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "scale-out: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ $duration =~ ^[0-9]+$ && $kill_at =~ ^[0-9]+$ ]] || ((kill_at < 5 || kill_at + 5 > duration)); then
    echo "scale-out: --kill-at must be at least 5 s after the start and 5 s before the end" >&2
    exit 2
fi

bin=${PLUMBLINE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/plumbline/target}/release/plumbline}
site_root=${PLUMBLINE_SITE_ROOT:-$repo/target/site}
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
db_name=${SCALE_OUT_DB:-plumbline_scaleout}
port=${SCALE_OUT_PORT:-18180}
port_a=$((port + 1))
port_b=$((port + 2))
connections=${SCALE_OUT_CONNECTIONS:-16}
enqueuers=${SCALE_OUT_ENQUEUERS:-2}
enqueue_every=${SCALE_OUT_ENQUEUE_EVERY:-0.5}
drain_secs=${SCALE_OUT_DRAIN_SECS:-120}
nginx_bin=${NGINX:-/usr/sbin/nginx}
base=http://127.0.0.1:$port
database_url=postgres://$pg_user@$pg_host:$pg_port/$db_name
email=scale-out@example.com
password=scale-out-password-1

for tool in "$nginx_bin" wrk curl jq psql openssl; do
    command -v "$tool" >/dev/null || { echo "scale-out: $tool is missing" >&2; exit 2; }
done
[[ -x $bin ]] || { echo "scale-out: no binary at $bin (set PLUMBLINE_BIN)" >&2; exit 2; }
[[ -d $site_root ]] || echo "scale-out: warning: no site at $site_root; pages may fail (cargo xtask site --release)" >&2
for p in "$port" "$port_a" "$port_b"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "scale-out: port $p is taken (set SCALE_OUT_PORT)" >&2
        exit 2
    fi
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/plumbline-scale-out.XXXXXX")
chmod 755 "$scratch"
declare -A pids=()
passed=false

log() { printf '[scale-out %s] %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
export PGOPTIONS="-c client_min_messages=warning"
psql_db() { psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$db_name" -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_admin() { psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for name in "${!pids[@]}"; do
        local pid=${pids[$name]}
        if kill -0 "$pid" 2>/dev/null; then
            # nginx stops on QUIT; plumbline on TERM (releasing the jobs it holds).
            if [[ $name == nginx ]]; then kill -QUIT "$pid" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
        fi
    done
    for name in "${!pids[@]}"; do
        local pid=${pids[$name]} waited=0
        while kill -0 "$pid" 2>/dev/null && ((waited < 50)); do sleep 0.1; waited=$((waited + 1)); done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    psql_admin -c "drop database if exists \"$db_name\" with (force)" >/dev/null 2>&1 ||
        log "could not drop the database $db_name"
    if [[ $passed == true && $keep == false ]]; then
        rm -rf "$scratch"
    else
        log "logs kept in $scratch"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs the binary with only the settings this run gives it: the server refuses unknown
# PLUMBLINE_* variables, and the caller's (PLUMBLINE_BIN among them) must not leak in.
# HOSTNAME names the process in job leases (worker names are "$HOSTNAME-<random>").
# `plumbline HOST ARGS...` runs it in the foreground; `start HOST ARGS...` in the background,
# as a direct child whose pid is the binary's own (env execs it), so `kill -9` hits the server.
secret_key=$(openssl rand -hex 32)
command_for() {
    mkdir -p "$scratch/$1"
    cmd=(env -i PATH="$PATH" HOME="$HOME" HOSTNAME="$1" RUST_LOG="${RUST_LOG:-info,sqlx=warn}" NO_COLOR=1
        DATABASE_URL="$database_url"
        PLUMBLINE_DATA_DIR="$scratch/$1"
        PLUMBLINE_SITE_ROOT="$site_root"
        PLUMBLINE_BASE_URL="$base"
        PLUMBLINE_SECRET_KEY="$secret_key"
        "$bin")
}
plumbline() {
    local cmd
    command_for "$1"
    shift
    "${cmd[@]}" "$@"
}

wait_ready() {
    local url=$1 name=$2 tries=0
    until curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; do
        tries=$((tries + 1))
        if ((tries > 300)) || ! kill -0 "${pids[$name]}" 2>/dev/null; then
            log "$name did not become ready; its log:"
            tail -n 30 "$scratch/$name.log" >&2
            exit 2
        fi
        sleep 0.1
    done
}

# ---------------------------------------------------------------------------------------------
# Database, processes, nginx

log "database $db_name on $pg_host:$pg_port (dropped and created)"
psql_admin -c "drop database if exists \"$db_name\" with (force)" >/dev/null
psql_admin -c "create database \"$db_name\"" >/dev/null
plumbline scaleout-cli migrate >"$scratch/migrate.log" 2>&1 || { cat "$scratch/migrate.log" >&2; exit 2; }

# Witnesses for the checks, beside Plumbline's tables: every claim of a job (who, which attempt)
# and every start of a report render (its first progress step). Neither changes what the
# application does.
psql_db <<'SQL'
create table bench_job_claims (job_id bigint not null, lease_owner text, attempts bigint not null,
                               claimed_at bigint not null, previous_status text not null);
create function bench_job_claimed() returns trigger language plpgsql as $$
begin
    if new.status = 'running' and (old.status <> 'running' or old.lease_owner is distinct from new.lease_owner) then
        insert into bench_job_claims values (new.job_id, new.lease_owner, new.attempts, new.updated_at, old.status);
    end if;
    return new;
end $$;
create trigger bench_job_claimed after update on jobs for each row execute function bench_job_claimed();

create table bench_render_starts (report_version_id bigint not null, at bigint not null);
create function bench_render_started() returns trigger language plpgsql as $$
begin
    if new.progress = 10 then
        insert into bench_render_starts values (new.report_version_id, new.updated_at);
    end if;
    return new;
end $$;
create trigger bench_render_started after update on report_versions for each row execute function bench_render_started();
SQL

start() {
    local name=$1 cmd
    shift
    command_for "$name"
    "${cmd[@]}" "$@" >"$scratch/$name.log" 2>&1 &
    pids[$name]=$!
}
start scaleout-serve-a serve --addr "127.0.0.1:$port_a"
start scaleout-serve-b serve --addr "127.0.0.1:$port_b"
start scaleout-worker worker
wait_ready "http://127.0.0.1:$port_a" scaleout-serve-a
wait_ready "http://127.0.0.1:$port_b" scaleout-serve-b
sleep 1
kill -0 "${pids[scaleout-worker]}" 2>/dev/null || { log "the worker stopped:"; tail -n 30 "$scratch/scaleout-worker.log" >&2; exit 2; }

mkdir -p "$scratch/nginx"
user_line=""
[[ $(id -u) == 0 ]] && user_line="user root;"
sed -e "s|@SCRATCH@|$scratch|g" -e "s|@PORT@|$port|g" -e "s|@PORT_A@|$port_a|g" \
    -e "s|@PORT_B@|$port_b|g" -e "s|@USER_LINE@|$user_line|" \
    "$script_dir/scale-out/nginx.conf.in" >"$scratch/nginx/nginx.conf"
"$nginx_bin" -t -q -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf" 2>"$scratch/nginx/check.log" ||
    { cat "$scratch/nginx/check.log" >&2; exit 2; }
"$nginx_bin" -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf" >"$scratch/nginx/stdout.log" 2>&1 &
pids[nginx]=$!
tries=0
until curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; do
    tries=$((tries + 1))
    ((tries < 100)) || { log "nginx did not answer"; cat "$scratch/nginx/error.log" >&2; exit 2; }
    sleep 0.1
done
log "serve a :$port_a, serve b :$port_b, worker, nginx :$port (scratch $scratch)"

# ---------------------------------------------------------------------------------------------
# Seed: an account, a session over HTTP, a token, engagements

printf '%s\n' "$password" | plumbline scaleout-cli user create --email "$email" --password-stdin \
    --firm "Scale-out Firm" >"$scratch/seed.log" 2>&1 || { cat "$scratch/seed.log" >&2; exit 2; }
jar=$scratch/cookies.txt
login_status=$(curl -sS -o "$scratch/login.out" -w '%{http_code}' -c "$jar" -A scale-out-check \
    -H "Origin: $base" --data-urlencode "email=$email" --data-urlencode "password=$password" \
    "$base/fn/log_in")
cookie_value=$(awk '$6 == "plumbline_session" { print $7 }' "$jar")
if [[ -z $cookie_value ]]; then
    log "log-in gave no session cookie (status $login_status):"
    cat "$scratch/login.out" >&2
    exit 2
fi
cookie="plumbline_session=$cookie_value"
token=$(plumbline scaleout-cli token create --email "$email" --name scale-out 2>>"$scratch/seed.log")
auth="Authorization: Bearer $token"

engagement_ids=()
for ((n = 1; n <= (enqueuers * 2 > 4 ? enqueuers * 2 : 4); n++)); do
    id=$(curl -fsS -A scale-out-check -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"client_name\": \"Client $n\", \"system_name\": \"System $n\"}" \
        "$base/api/v1/engagements" | jq -r .data.engagement_id)
    engagement_ids+=("$id")
done
# Engagements for the issues sent at the moment of the kill, one each (see below).
kill_ids=()
for n in 1 2 3 4; do
    id=$(curl -fsS -A scale-out-check -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"client_name\": \"Kill-time client $n\", \"system_name\": \"Kill-time $n\"}" \
        "$base/api/v1/engagements" | jq -r .data.engagement_id)
    kill_ids+=("$id")
done
log "seeded: account, session cookie, token, engagements ${engagement_ids[*]} (and ${kill_ids[*]} for the kill)"

# The session lives in the database: both instances must know it, each asked directly.
page_status() { # URL: the status of a page read with the cookie, following nothing
    curl -sS -o /dev/null -w '%{http_code}' -A scale-out-check -H "Cookie: $cookie" "$1/engagements" || echo 000
}
for p in "$port_a" "$port_b"; do
    s=$(page_status "http://127.0.0.1:$p")
    [[ $s == 200 ]] || { log "the session cookie reads /engagements on :$p as $s, not 200"; exit 2; }
done

# ---------------------------------------------------------------------------------------------
# Load, issues, the kill

lua=$scratch/mix.lua
{
    echo "-- Generated by bench/scale-out.sh: pages with the session cookie, REST reads with the token."
    echo "local cookie = '$cookie'"
    echo "local token = '$token'"
    echo "local ids = { $(IFS=,; echo "${engagement_ids[*]}") }"
    echo "local host = '127.0.0.1:$port'"
    # shellcheck disable=SC2016
    cat <<'LUA'
local requests = {}
local function add(path, headers) requests[#requests + 1] = wrk.format("GET", path, headers) end
for _, id in ipairs(ids) do
    local page = { ["Host"] = host, ["Cookie"] = cookie, ["User-Agent"] = "scale-out-page" }
    local api = { ["Host"] = host, ["Authorization"] = "Bearer " .. token, ["User-Agent"] = "scale-out-api" }
    add("/engagements", page)
    add("/engagements/" .. id, page)
    add("/engagements/" .. id .. "/findings", page)
    add("/api/v1/engagements", api)
    add("/api/v1/engagements/" .. id, api)
    add("/api/v1/engagements/" .. id .. "/reports", api)
    add("/api/v1/engagements/" .. id .. "/findings", api)
end
local next_request = 0
function init(args)
    next_request = math.random(#requests)
end
function request()
    next_request = next_request % #requests + 1
    return requests[next_request]
end
LUA
} >"$lua"

# Client K issues report versions one at a time on engagements K, K+n, ... (so two clients
# never race for one engagement's next number) until the load ends. Each line: start, end,
# status, engagement, version number (empty unless 202).
issue_once() { # ENGAGEMENT_ID TAG
    local id=$1 tag=$2 t0 code number=""
    t0=$(now)
    code=$(curl -sS -o "$scratch/issue-$tag.json" -w '%{http_code}' -m 30 -X POST -A scale-out-enqueue \
        -H "$auth" "$base/api/v1/engagements/$id/reports" 2>>"$scratch/enqueue.err") || code=000
    [[ $code == 202 ]] && number=$(jq -r '.data.number' "$scratch/issue-$tag.json" 2>/dev/null || true)
    echo "$t0 $(now) $code $id $number" >>"$scratch/enqueue.log"
}
enqueue_loop() {
    local k=$1 until=$2 i=0 mine=()
    for ((j = k; j < ${#engagement_ids[@]}; j += enqueuers)); do mine+=("${engagement_ids[$j]}"); done
    while [[ $(date +%s) -lt $until ]]; do
        issue_once "${mine[$((i % ${#mine[@]}))]}" "$k"
        i=$((i + 1))
        sleep "$enqueue_every"
    done
}
: >"$scratch/enqueue.log"

log "load for ${duration}s through nginx ($connections connections), $enqueuers clients issuing reports (pause ${enqueue_every}s); kill at ${kill_at}s"
load_before=$(cut -d' ' -f1 /proc/loadavg)
load_start=$(now)
wrk -t2 -c"$connections" -d"${duration}s" --timeout 10s --latency -s "$lua" "$base" >"$scratch/wrk.out" 2>&1 &
pids[wrk]=$!
for ((k = 0; k < enqueuers; k++)); do
    enqueue_loop "$k" $(($(date +%s) + duration)) &
    pids[enqueue-$k]=$!
done

sleep "$(calc "$load_start + $kill_at - $(now)")"
# Kill a serve instance while it runs a job (its in-process worker), so the lease path is
# exercised: wait up to 5 s for one to hold a job; serve a if neither does by then.
holder=""
for _ in $(seq 50); do
    holder=$(psql_db -c "select lease_owner from jobs where status = 'running' and lease_owner like 'scaleout-serve-%' order by random() limit 1")
    [[ -n $holder ]] && break
    sleep 0.1
done
case $holder in
    scaleout-serve-b-*) victim=scaleout-serve-b victim_port=$port_b ;;
    *) victim=scaleout-serve-a victim_port=$port_a ;;
esac
# Four issues at once, round-robin over both instances, still building their report when the
# kill lands (building takes a few hundred ms): POSTs certainly in flight on the dead instance.
kill_posts=()
for n in "${!kill_ids[@]}"; do
    issue_once "${kill_ids[$n]}" "kill-$n" &
    kill_posts+=($!)
done
sleep 0.15
kill_time=$(now)
# (Braces and redirection keep bash's "Killed" notice out of the output.)
{ kill -KILL "${pids[$victim]}"; wait "${pids[$victim]}" || true; } 2>/dev/null
unset "pids[$victim]"
log "killed $victim (:$victim_port) with SIGKILL at +$(calc "$kill_time - $load_start")s"
# What the dead instance held: rows it left running (it can no longer complete them).
held=$(psql_db -c "select coalesce(json_agg(job_id order by job_id), '[]') from jobs where status = 'running' and lease_owner like '$victim-%'")
log "jobs the dead instance held: $held"

sleep 3
session_during=$(page_status "$base")
who_during=$(curl -sS -A scale-out-check -H "Cookie: $cookie" -H "Origin: $base" -d '' "$base/fn/who_am_i" || true)

wait "${pids[wrk]}" || true
wrk_end=$(now)
unset "pids[wrk]"
if grep -q '\.lua:' "$scratch/wrk.out" || ! grep -q 'requests in' "$scratch/wrk.out"; then
    log "wrk failed:"
    cat "$scratch/wrk.out" >&2
    exit 2
fi
for ((k = 0; k < enqueuers; k++)); do
    wait "${pids[enqueue-$k]}" || true
    unset "pids[enqueue-$k]"
done
for pid in "${kill_posts[@]}"; do wait "$pid" || true; done
load_end=$(now)
session_after=$(page_status "$base")
log "load done; pre-kill session cookie reads /engagements as $session_during (3 s after the kill), $session_after (after the load)"

# ---------------------------------------------------------------------------------------------
# Drain: every render job reaches done (or gives up); the one the dead instance held waits for
# its lease to run out.

log "waiting up to ${drain_secs}s for the queue to drain"
drain_start=$(date +%s)
while true; do
    pending=$(psql_db -c "select count(*) from jobs where kind = 'render_report' and status in ('queued', 'running', 'failed')")
    ((pending == 0)) && break
    waited=$(($(date +%s) - drain_start))
    if ((waited >= drain_secs)); then
        log "still $pending render jobs pending after ${drain_secs}s"
        break
    fi
    ((waited % 30 == 0)) && log "$pending render jobs pending (${waited}s)"
    sleep 1
done
drained_after=$(($(date +%s) - drain_start))

# Let nginx write out its access log.
kill -USR1 "${pids[nginx]}" 2>/dev/null || true
sleep 1.5

# ---------------------------------------------------------------------------------------------
# Results

http=$(jq -s --argjson kill "$kill_time" --arg victim "127.0.0.1:$victim_port" \
    --argjson start "$load_start" --argjson end "$load_end" --argjson wrk_end "$wrk_end" '
    # 499 is nginx saying the client went away: wrk closes its connections when the load ends,
    # cutting what was in flight then. Those are not failures of the service.
    def cut_by_end: .s == 499 and .t >= ($wrk_end - 0.5);
    def failed: (.s >= 400 or .s == 0) and (cut_by_end | not);
    # In flight on the killed instance: sent to it, and not over when it died. nginx times are in
    # ms, and the process takes a moment to die after the signal: a request sent within 0.5 s
    # of the kill counts as in flight (later ones find the port closed and go elsewhere).
    def in_kill_window: (.up | contains($victim)) and (.t - .rt) <= ($kill + 0.5) and .t >= ($kill - 0.005);
    map(select(.src | startswith("scale-out-page") or startswith("scale-out-api") or startswith("scale-out-enqueue")))
    | {
        total: length,
        by_source: (group_by(.src) | map({key: .[0].src, value: length}) | from_entries),
        by_status: (group_by(.s) | map({key: (.[0].s | tostring), value: length}) | from_entries),
        failed: (map(select(failed)) | length),
        failed_in_kill_window: (map(select(failed and in_kill_window)) | length),
        failed_outside_kill_window: (map(select(failed and (in_kill_window | not))) | length),
        failures_outside: (map(select(failed and (in_kill_window | not)))
            | map({at: ((.t - $start) * 1000 | round / 1000), method: .m, uri: .u, status: .s,
                   upstreams: .up, upstream_status: .us}) | .[:20]),
        failures_in_kill_window: (map(select(failed and in_kill_window))
            | map({method: .m, uri: .u, status: .s, upstreams: .up, upstream_status: .us})),
        in_flight_on_killed: (map(select(in_kill_window)) | length),
        posts_in_flight_on_killed: (map(select(in_kill_window and .m == "POST")) | map({uri: .u, status: .s, upstreams: .up, upstream_status: .us})),
        retried_by_nginx: (map(select(.up | contains(","))) | length),
        retried_posts: (map(select((.up | contains(",")) and .m == "POST")) | length),
        page_login_redirects: (map(select(.src == "scale-out-page" and (.loc | contains("/login")))) | length),
        cut_by_end_of_load: (map(select(cut_by_end)) | length),
        after_kill: (map(select(.t > $kill + 0.2)) | length),
        after_kill_failed: (map(select(.t > $kill + 0.2 and failed)) | length)
      }' "$scratch/nginx/access.log")

wrk_requests=$(awk '/requests in/ { print $1 }' "$scratch/wrk.out")
wrk_rps=$(awk '/Requests\/sec/ { print $2 }' "$scratch/wrk.out")
wrk_socket=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$scratch/wrk.out")
wrk_non_2xx=$(awk '/Non-2xx or 3xx/ { print $5 }' "$scratch/wrk.out")
wrk_p50=$(awk '/^ +50%/ { print $2 }' "$scratch/wrk.out")
wrk_p99=$(awk '/^ +99%/ { print $2 }' "$scratch/wrk.out")

issues=$(jq -R -s --argjson kill "$kill_time" '
    split("\n") | map(select(length > 0) | split(" "))
    | map({t0: (.[0] | tonumber), t1: (.[1] | tonumber), status: .[2],
           engagement_id: (.[3] | tonumber), number: (if .[4] == "" or .[4] == null then null else (.[4] | tonumber) end)})
    | {
        sent: length,
        accepted: (map(select(.status == "202")) | length),
        not_accepted: (map(select(.status != "202")) | map({status, engagement_id, in_kill_window: (.t0 <= $kill + 0.2 and .t1 >= $kill - 0.2)})),
        acknowledged: (map(select(.status == "202")) | map({engagement_id, number}))
      }' "$scratch/enqueue.log")

jobs=$(psql_db -c "
    with render as (
        select j.job_id, j.status, j.attempts, (j.payload::json ->> 'report_version_id')::bigint as report_version_id
        from jobs j where j.kind = 'render_report'),
    claims as (
        select job_id, count(*) as n, array_agg(coalesce(lease_owner, '') order by claimed_at, attempts) as owners
        from bench_job_claims group by job_id),
    starts as (select report_version_id, count(*) as n from bench_render_starts group by report_version_id),
    joined as (
        select r.job_id, r.status, r.attempts, coalesce(c.n, 0) as claims, coalesce(c.owners, '{}') as owners,
               v.status as version_status, v.engagement_id, v.number, coalesce(s.n, 0) as render_starts
        from render r
        left join claims c on c.job_id = r.job_id
        left join report_versions v on v.report_version_id = r.report_version_id
        left join starts s on s.report_version_id = r.report_version_id)
    select json_build_object(
        'render_jobs', (select count(*) from joined),
        'by_status', (select coalesce(json_object_agg(status, n), '{}') from (select status, count(*) as n from joined group by status) x),
        'done', (select count(*) from joined where status = 'done'),
        'versions_issued', (select count(*) from joined where version_status = 'issued'),
        'claims_by_job', (select coalesce(json_object_agg(claims, n), '{}') from (select claims, count(*) as n from joined group by claims) x),
        'claimed_more_than_once', (select coalesce(json_agg(json_build_object('job_id', job_id, 'claims', claims,
            'owners', owners, 'render_starts', render_starts, 'status', status) order by job_id), '[]')
            from joined where claims > 1),
        'render_starts_beyond_claims', (select coalesce(json_agg(job_id order by job_id), '[]') from joined where render_starts > claims),
        'versions', (select coalesce(json_agg(json_build_object('engagement_id', engagement_id, 'number', number, 'status', version_status)), '[]') from joined),
        'all_jobs_by_kind_status', (select coalesce(json_object_agg(kind || ':' || status, n), '{}') from (select kind, status, count(*) as n from jobs group by kind, status) x),
        'claims_by_process', (select coalesce(json_object_agg(owner, n), '{}') from (
            select regexp_replace(coalesce(c.lease_owner, ''), '-[^-]*$', '') as owner, count(*) as n
            from bench_job_claims c join jobs j on j.job_id = c.job_id where j.kind = 'render_report' group by 1) x)
    )")

sessions=$(jq -n --arg during "$session_during" --arg after "$session_after" --arg who "$who_during" --arg email "$email" '
    {page_3s_after_kill: ($during | tonumber), page_after_load: ($after | tonumber),
     who_am_i_after_kill: ($who | contains($email))}')

results=$(jq -n \
    --argjson http "$http" --argjson issues "$issues" --argjson jobs "$jobs" --argjson sessions "$sessions" \
    --argjson held "$held" --arg victim "$victim" --argjson duration "$duration" \
    --arg kill_at "$(calc "$kill_time - $load_start")" --arg drained "$drained_after" \
    --arg wrk_requests "${wrk_requests:-0}" --arg wrk_rps "${wrk_rps:-0}" --arg wrk_socket "${wrk_socket:-0}" \
    --arg wrk_non_2xx "${wrk_non_2xx:-0}" --arg wrk_p50 "${wrk_p50:-}" --arg wrk_p99 "${wrk_p99:-}" \
    --arg connections "$connections" --arg cores "$(nproc)" --arg load_before "$load_before" \
    --arg load_after "$(cut -d' ' -f1 /proc/loadavg)" '
    ($jobs.claimed_more_than_once) as $multi
    | ($multi | map(select(.claims == 2 and (.owners[0] | startswith($victim + "-")) and ([.job_id] | inside($held))))) as $retried
    | ($multi | map(select([.job_id] | inside($retried | map(.job_id)) | not))) as $double
    | ($issues.acknowledged | map(. as $a | select(any($jobs.versions[]; .engagement_id == $a.engagement_id and .number == $a.number and .status == "issued") | not))) as $ack_lost
    # Versions the database has but no client was told of: an issue whose response was lost.
    | ($jobs.versions | map(. as $v | select(any($issues.acknowledged[]; .engagement_id == $v.engagement_id and .number == $v.number) | not))
       | map({engagement_id, number})) as $unacknowledged
    | {
        setup: {serve_instances: 2, workers: 1, load_seconds: $duration, connections: ($connections | tonumber),
                killed: $victim, killed_at_seconds: ($kill_at | tonumber | . * 10 | round / 10),
                # Other work on the machine skews latencies: the load average before and after.
                cores: ($cores | tonumber), load_average: [($load_before | tonumber), ($load_after | tonumber)]},
        http: ($http + {wrk: {requests: ($wrk_requests | tonumber), requests_per_second: ($wrk_rps | tonumber),
                              socket_errors: ($wrk_socket | tonumber), non_2xx_3xx: ($wrk_non_2xx | tonumber),
                              latency_p50: $wrk_p50, latency_p99: $wrk_p99}}),
        sessions: $sessions,
        issues: ($issues | del(.acknowledged) + {created_without_acknowledgement: $unacknowledged}),
        jobs: ($jobs | del(.versions) + {
            held_by_killed_instance: $held,
            retried_after_lease_expiry: ($retried | map(.job_id)),
            run_twice: $double,
            acknowledged_but_not_issued: $ack_lost,
            not_done: ($jobs.render_jobs - $jobs.done),
            drained_after_seconds: ($drained | tonumber)}),
        checks: {
            # wrk sees socket errors when nginx cuts a response the dead instance had begun: only
            # requests in flight on it can be cut.
            no_failures_outside_kill_window: ($http.failed_outside_kill_window == 0
                                              and ($wrk_socket | tonumber) <= $http.in_flight_on_killed),
            session_survives_kill: ($sessions.page_3s_after_kill == 200 and $sessions.page_after_load == 200
                                    and $sessions.who_am_i_after_kill and $http.page_login_redirects == 0),
            no_job_lost: ($jobs.done == $jobs.render_jobs and $jobs.versions_issued == $jobs.render_jobs
                          and ($ack_lost | length) == 0 and $jobs.render_jobs >= $issues.accepted),
            no_job_run_twice: (($double | length) == 0 and ($jobs.render_starts_beyond_claims | length) == 0),
            held_jobs_retried_once: (($held | length) == ($retried | length))
        }
      }
    | .passed = (.checks | all)')

if [[ -n $out ]]; then
    mkdir -p "$(dirname "$out")"
    printf '%s\n' "$results" >"$out"
fi

jq -r '
    "",
    "Scale-out run: 2 serve + 1 worker on PostgreSQL behind nginx, \(.setup.load_seconds) s of load, \(.setup.connections) connections",
    "  killed \(.setup.killed) with SIGKILL at +\(.setup.killed_at_seconds) s; \(.setup.cores) cores, load average \(.setup.load_average | map(tostring) | join(" before, ")) after",
    "HTTP (nginx log, load and issues)",
    "  requests            \(.http.total)  (wrk: \(.http.wrk.requests), \(.http.wrk.requests_per_second)/s, p50 \(.http.wrk.latency_p50), p99 \(.http.wrk.latency_p99))",
    "  by status           \(.http.by_status | to_entries | map("\(.key): \(.value)") | join(", "))",
    "  in flight on killed \(.http.in_flight_on_killed)  (requests sent to the killed instance and not over when it died), of them POST \(.http.posts_in_flight_on_killed | length): \(.http.posts_in_flight_on_killed | map("\(.status) (\(.upstream_status))") | join(", "))",
    "  failed              \(.http.failed)  (in flight on the killed instance: \(.http.failed_in_kill_window), outside: \(.http.failed_outside_kill_window); wrk socket errors: \(.http.wrk.socket_errors); cut off by the end of the load, not counted: \(.http.cut_by_end_of_load))",
    "  retried by nginx    \(.http.retried_by_nginx)  (of them POST: \(.http.retried_posts))",
    (.http.failures_in_kill_window[] | "    in kill window: \(.method) \(.uri) -> \(.status) (upstreams \(.upstreams), \(.upstream_status))"),
    (.http.failures_outside[] | "    OUTSIDE: +\(.at)s \(.method) \(.uri) -> \(.status) (upstreams \(.upstreams), \(.upstream_status))"),
    "Sessions",
    "  pre-kill cookie     /engagements \(.sessions.page_3s_after_kill) 3 s after the kill, \(.sessions.page_after_load) after the load; who_am_i knows it: \(.sessions.who_am_i_after_kill); page redirects to /login under load: \(.http.page_login_redirects)",
    "Jobs (render_report)",
    "  issues sent         \(.issues.sent), accepted (202) \(.issues.accepted), not accepted: \(.issues.not_accepted | map("\(.status)\(if .in_kill_window then " in kill window" else "" end)") | join(", ") | if . == "" then "none" else . end); created although the client got no 202: \(.issues.created_without_acknowledgement | length)",
    "  enqueued            \(.jobs.render_jobs)  (by status: \(.jobs.by_status | to_entries | map("\(.key) \(.value)") | join(", ")))",
    "  completed           \(.jobs.done), versions issued \(.jobs.versions_issued), drained \(.jobs.drained_after_seconds) s after the load",
    "  claims per job      \(.jobs.claims_by_job | to_entries | map("\(.key) claim(s): \(.value) jobs") | join(", ")); by process: \(.jobs.claims_by_process | to_entries | map("\(.key) \(.value)") | join(", "))",
    "  held by the killed  \(.jobs.held_by_killed_instance), retried after lease expiry: \(.jobs.retried_after_lease_expiry)",
    "  run twice           \(.jobs.run_twice | length)  (renders started more often than claimed: \(.jobs.render_starts_beyond_claims | length))",
    "Checks",
    (.checks | to_entries[] | "  \(if .value then "ok  " else "FAIL" end) \(.key)"),
    "",
    (if .passed then "PASSED" else "FAILED" end)
    ' <<<"$results"

if [[ $(jq -r .passed <<<"$results") == true ]]; then
    passed=true
    exit 0
fi
exit 1
