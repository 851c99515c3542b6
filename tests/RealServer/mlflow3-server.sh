#!/usr/bin/env bash
# Start/stop a REAL MLflow 3.x tracking server (REST API + artifact proxy, no UI build) on loopback,
# modelled on mlflow-server.sh (the 2.12.2 harness). Recipe: SETUP.md beside this file ('MLflow 3.11.1'), after the 2.12.2 harness.
#
#   mlflow3-server.sh start DIR PORT [sqlite|file|postgres]   # prints the PID, waits for /health
#   mlflow3-server.sh stop DIR                        # stops the server started in DIR
#   mlflow3-server.sh status DIR
#
# DIR holds everything: server.pid, server.log, mlflow.db (sqlite) or mlruns/ (file: deprecated in MLflow 3)
# or pg/ (a private PostgreSQL cluster on port PORT+10000), and mlartifacts/ (--artifacts-destination).
# Env: MLFLOW_SRC (default $HOME/mlflow-harness/mlflow3-src): an MLflow 3.x source tree (tag v3.11.1);
#      MLFLOW_SHIMS (default $HOME/mlflow-harness/shims3): pure-python deps from GitHub + the documented
#        pydantic/fastapi STUBS (pydantic 2 needs compiled pydantic-core, which Debian 12 lacks);
#      MLFLOW_WORKERS (default 2): gunicorn workers;  MLFLOW_PYTHON (default /usr/bin/python3);
#      MLFLOW_SERVER_ENABLE_JOB_EXECUTION (MLflow's own; MLflow's default is true, THIS SCRIPT's default is false):
#        true starts MLflow 3's job runner (6 huey consumer processes, GenAI jobs only). Off because on 2 cores
#        they load for seconds after /health answers, and the SDK's drain-kill test then failed 2 of 4 times.
# MLflow 3 serves with uvicorn+FastAPI by default; that needs real pydantic 2, so this script always runs
# MLflow's Flask app under gunicorn (--gunicorn-opts). FastAPI-only routes (OTLP /v1/traces, jobs API,
# AI gateway, assistant) are therefore absent. The server binds 127.0.0.1 only.
set -euo pipefail

MLFLOW_SRC="${MLFLOW_SRC:-$HOME/mlflow-harness/mlflow3-src}"
MLFLOW_SHIMS="${MLFLOW_SHIMS:-$HOME/mlflow-harness/shims3}"
MLFLOW_WORKERS="${MLFLOW_WORKERS:-2}"
PY="${MLFLOW_PYTHON:-/usr/bin/python3}"   # Debian's python: the python3-* packages live there

die() { echo "mlflow3-server.sh: $*" >&2; exit 1; }
usage() { sed -n '5,7p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; }

check_prereqs() {
  [ -x "$PY" ] || die "$PY not found. Install Debian's python3 (apt-get install python3)."
  command -v curl >/dev/null || die "curl not found (used to poll /health): apt-get install -y curl"
  command -v setsid >/dev/null || die "setsid not found: apt-get install -y util-linux"
  [ -f "$MLFLOW_SRC/mlflow/version.py" ] || die "no MLflow source at MLFLOW_SRC=$MLFLOW_SRC (see SETUP.md beside this file, "MLflow 3.11.1")"
  local ver; ver=$(sed -n 's/^VERSION = "\(.*\)"/\1/p' "$MLFLOW_SRC/mlflow/version.py")
  case "$ver" in 3.*) ;; *) die "MLFLOW_SRC=$MLFLOW_SRC is MLflow '$ver', not 3.x (use mlflow-server.sh for 2.12.2)" ;; esac
  [ "$ver" = "3.11.1" ] || echo "mlflow3-server.sh: warning: MLflow source is $ver; the harness was verified with 3.11.1" >&2
  local missing
  missing=$("$PY" - <<'EOF'
import importlib.util
mods = {
    "flask": "python3-flask", "werkzeug": "python3-werkzeug", "sqlalchemy": "python3-sqlalchemy",
    "alembic": "python3-alembic", "yaml": "python3-yaml", "google.protobuf": "python3-protobuf",
    "click": "python3-click", "requests": "python3-requests", "packaging": "python3-packaging",
    "cloudpickle": "python3-cloudpickle", "git": "python3-git", "sqlparse": "python3-sqlparse",
    "pandas": "python3-pandas", "numpy": "python3-numpy", "gunicorn": "python3-gunicorn",
    "markdown": "python3-markdown", "jinja2": "python3-jinja2", "scipy": "python3-scipy",
    "importlib_metadata": "python3-importlib-metadata", "cachetools": "python3-cachetools",
    "pytz": "python3-tz", "six": "python3-six", "flask_cors": "python3-flask-cors",
    "dotenv": "python3-dotenv", "typing_extensions": "python3-typing-extensions",
    "deprecated": "python3-deprecated", "wrapt": "python3-wrapt", "aniso8601": "python3-aniso8601",
    "cryptography": "python3-cryptography", "docker": "python3-docker",
}
out = []
for m, pkg in mods.items():
    try:
        ok = importlib.util.find_spec(m) is not None
    except ModuleNotFoundError:
        ok = False
    if not ok:
        out.append(pkg)
print(" ".join(sorted(set(out))))
EOF
)
  [ -z "$missing" ] || die "missing Debian packages for $PY: $missing
  Install them:  apt-get install -y --no-install-recommends $missing"
  local m
  for m in querystring_parser.parser opentelemetry.sdk.trace opentelemetry.proto.trace.v1.trace_pb2 pydantic fastapi \
           cachetools.func huey graphene graphql_relay databricks; do
    PYTHONPATH="$MLFLOW_SHIMS" "$PY" -c "import $m" 2>/dev/null \
      || die "$m not importable from MLFLOW_SHIMS=$MLFLOW_SHIMS: recreate it as described in SETUP.md beside this file ('MLflow 3.11.1')"
  done
  PYTHONPATH="$MLFLOW_SHIMS" "$PY" -c 'import importlib.metadata as m; m.version("mlflow")' 2>/dev/null \
    || die "no mlflow-*.dist-info in $MLFLOW_SHIMS (MLflow 3 then runs as the tracing-only SDK): see SETUP.md beside this file ('MLflow 3.11.1')"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {  # DIR PGPORT -> prints the backend store URI; the cluster lives in DIR/pg
  local dir="$1" pgport="$2" bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || die "PostgreSQL not found: apt-get install -y --no-install-recommends postgresql python3-psycopg2"
  "$PY" -c 'import psycopg2' 2>/dev/null || die "python3-psycopg2 missing: apt-get install -y --no-install-recommends python3-psycopg2"
  mkdir -p "$dir/pg"; [ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
  if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir/pg/data" -A trust -U postgres >"$dir/pg/initdb.log" 2>&1 || die "initdb failed: see $dir/pg/initdb.log"
  fi
  as_pg "$bin/pg_ctl" -D "$dir/pg/data" -o "-p $pgport -k $dir/pg -c listen_addresses=127.0.0.1" -l "$dir/pg/postgres.log" -w start >/dev/null \
    || die "PostgreSQL did not start on port $pgport: see $dir/pg/postgres.log"
  echo "$bin" >"$dir/pg.bin"
  as_pg "$bin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -tAc "select 1 from pg_database where datname='mlflow'" | grep -q 1 \
    || as_pg "$bin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres mlflow
  echo "postgresql://postgres@127.0.0.1:$pgport/mlflow"
}

stop_postgres() {
  [ -f "$1/pg.bin" ] || return 0
  as_pg "$(cat "$1/pg.bin")/pg_ctl" -D "$1/pg/data" -m fast stop >/dev/null 2>&1 || true
}

health_ok() { curl -fsS --max-time 2 "http://127.0.0.1:$1/health" 2>/dev/null | grep -q OK; }

is_our_server() {  # PID -> true if it is still an 'mlflow server' process
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "-m mlflow server"
}

group_members() { ps -eo pgid=,pid= | awk -v g="$1" '$1 == g { print $2 }'; }

is_our_group() {  # PGID -> true if a process of that group is still MLflow's (gunicorn mlflow.server:app, job runner)
  local p
  for p in $(group_members "$1"); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "mlflow" && return 0
  done
  return 1
}

cmd_start() {
  [ $# -ge 2 ] || usage
  local dir="$1" port="$2" backend="${3:-sqlite}"
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
  check_prereqs
  mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
  if [ -f "$dir/server.pid" ] && { is_our_server "$(cat "$dir/server.pid")" || is_our_group "$(cat "$dir/server.pid")"; }; then
    die "a server from $dir is already running (process group $(cat "$dir/server.pid")); stop it first"
  fi
  if health_ok "$port" || ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
    die "port $port on 127.0.0.1 is already in use"
  fi
  local store
  case "$backend" in
    sqlite) store="sqlite:///$dir/mlflow.db" ;;
    file)   store="$dir/mlruns" ;;
    postgres) store=$(start_postgres "$dir" "$((port + 10000))") || exit 1 ;;
    *) die "backend must be 'sqlite', 'file' or 'postgres', got '$backend'" ;;
  esac
  mkdir -p "$dir/mlartifacts"
  (
    cd "$dir"
    export PYTHONPATH="$MLFLOW_SRC:$MLFLOW_SHIMS${PYTHONPATH:+:$PYTHONPATH}"
    export GIT_PYTHON_REFRESH=quiet MLFLOW_CONFIGURE_LOGGING=true
    export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"
    # setsid: own process group (PGID == PID) = mlflow CLI + gunicorn master/workers + job runner/huey
    # consumers, so `stop` ends exactly these. --gunicorn-opts selects gunicorn + the Flask app.
    exec setsid "$PY" -m mlflow server \
      --host 127.0.0.1 --port "$port" \
      --backend-store-uri "$store" \
      --serve-artifacts --artifacts-destination "$dir/mlartifacts" \
      --workers "$MLFLOW_WORKERS" \
      --gunicorn-opts "--timeout 120" \
      </dev/null >"$dir/server.log" 2>&1
  ) &
  local pid=$!
  echo "$pid" >"$dir/server.pid"
  echo "$backend" >"$dir/server.backend"
  echo "$port" >"$dir/server.port"
  local i
  for i in $(seq 1 180); do
    if health_ok "$port"; then
      echo "$pid"
      echo "mlflow3-server.sh: MLflow $(curl -fsS --max-time 2 "http://127.0.0.1:$port/version") ($backend store) ready at http://127.0.0.1:$port  (PID $pid, log $dir/server.log)" >&2
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "mlflow3-server.sh: server exited during start-up; last lines of $dir/server.log:" >&2
      tail -n 30 "$dir/server.log" >&2 || true
      rm -f "$dir/server.pid"
      stop_postgres "$dir"
      exit 1
    fi
    sleep 0.5
  done
  echo "mlflow3-server.sh: /health did not answer within 90 s; stopping PID $pid. Log: $dir/server.log" >&2
  cmd_stop "$dir" >/dev/null || true
  exit 1
}

cmd_stop() {
  [ $# -ge 1 ] || usage
  local dir="$1"
  [ -f "$dir/server.pid" ] || die "no $dir/server.pid: nothing to stop"
  local pid; pid="$(cat "$dir/server.pid")"
  if ! is_our_server "$pid"; then
    if is_our_group "$pid"; then
      # Seen with the file backend after the tests' SIGSTOP/SIGCONT of the group: the 'mlflow server' CLI is gone
      # while the gunicorn it started still serves the port. The group is still ours: stop it.
      echo "mlflow3-server.sh: the mlflow CLI (PID $pid) is gone but its process group still runs; stopping the group" >&2
    else
      echo "mlflow3-server.sh: PID $pid is not running (or is not an mlflow server); removing stale pid file" >&2
      rm -f "$dir/server.pid"; stop_postgres "$dir"; return 0
    fi
  fi
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 80); do   # the huey consumers take a few seconds to drain
    if ! kill -0 -- "-$pid" 2>/dev/null; then break; fi
    sleep 0.25
  done
  if kill -0 -- "-$pid" 2>/dev/null; then
    echo "mlflow3-server.sh: process group $pid still alive after 20 s; sending KILL" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$dir/server.pid"
  stop_postgres "$dir"
  echo "stopped $pid"
}

cmd_status() {
  [ $# -ge 1 ] || usage
  local dir="$1"
  if [ -f "$dir/server.pid" ] && { is_our_server "$(cat "$dir/server.pid")" || is_our_group "$(cat "$dir/server.pid")"; }; then
    local port; port="$(cat "$dir/server.port" 2>/dev/null || echo '?')"
    is_our_server "$(cat "$dir/server.pid")" || echo "(the mlflow CLI is gone; its process group still runs)"
    echo "running PID $(cat "$dir/server.pid") port $port backend $(cat "$dir/server.backend" 2>/dev/null)"
    health_ok "$port" && echo "health OK" || echo "health NOT answering"
  else
    echo "not running"; return 1
  fi
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) usage ;;
esac
