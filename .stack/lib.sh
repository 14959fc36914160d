# shellcheck shell=bash
# shellcheck disable=SC2034 # variables set here are used by the sourcing scripts
# Shared functions of the .stack scripts (deps, up, down, test). Sourced, never run.
#
# The stack is three kinds of process, all started directly (no systemd) and
# all recorded by pid file under one state directory, $DLCS_VAR:
#   MariaDB   a private server on a unix socket   run/mysqld.pid
#   FastCGI   pools started by spawn-fcgi          run/<name>.pid (the pool's supervisor)
#   nginx     a private master on 127.0.0.1:PORT   nginx/nginx.pid
#
# What each needs of the others: the API workers (dlcs-api) need the
# database and storage only, never nginx; one runner (dlcs-runner) of the
# host at a time renders nginx/custom-headers.conf after changes of the
# customers' custom headers, so the runners (and dlcs-admin render-headers)
# must be able to write nginx/, run nginx_test_command (nginx -t of
# nginx/nginx.conf) and signal the nginx master (nginx_pid_file); here they
# all run as root.
#
# Layout of $DLCS_VAR (default: <repo>/var):
#   dlcs.conf     configuration read by every program ($DLCS_CONFIG)
#   admin.key     key:secret of the admin customer (mode 0600)
#   mysql/        MariaDB data directory
#   run/          sockets and pid files
#   log/          every log: mysqld.log, admin.log, <pool>.log, nginx-*.log
#   storage/      originals and derivatives (storage_root); storage/public/ holds
#                 the links of open assets that nginx serves itself
#   nginx/        rendered nginx.conf, custom-headers.conf (written by a runner after
#                 changes, and by dlcs-admin render-headers; with its .lock and
#                 .renderer lock files), its pid file and temp directories
#
# Knobs (environment): DLCS_VAR, DLCS_PORT (8080), DLCS_BUILD (build; relative
# names are under the repository), DLCS_WORKERS (4), DLCS_IMAGE_WORKERS (2),
# DLCS_RUNNERS (2), DLCS_TLS (0; 1: https with a self-signed certificate), DLCS_SKIP_BUILD=1,
# DLCS_SKIP_DEPS=1, DLCS_CONFIGURE_FLAGS (--enable-werror), DLCS_JOBS (2).

STACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$STACK_DIR/.." && pwd)

# ---------------------------------------------------------------- messages

say() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die() {
	printf '[stack] ERROR: %s\n' "$*" >&2
	exit 1
}

# Prints the last lines of a log file, framed, to stderr (for failure reports).
show_log() {
	local file=$1 lines=${2:-40}
	[[ -s $file ]] || return 0
	printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
	tail -n "$lines" -- "$file" >&2
	printf -- '----- end of %s -----\n' "$file" >&2
}

# ---------------------------------------------------------------- settings

# Sets the paths every script uses from the knobs. Call once, first.
stack_env() {
	DLCS_VAR=$(realpath -m -- "${DLCS_VAR:-$REPO/var}")
	DLCS_PORT=${DLCS_PORT:-8080}
	DLCS_WORKERS=${DLCS_WORKERS:-4}
	DLCS_RUNNERS=${DLCS_RUNNERS:-2}
	DLCS_IMAGE_WORKERS=${DLCS_IMAGE_WORKERS:-2}
	local build=${DLCS_BUILD:-build}
	[[ $build == /* ]] || build=$REPO/$build
	BUILD_DIR=$(realpath -m -- "$build")

	# DLCS_TLS=1: nginx listens with TLS (a self-signed certificate in
	# nginx/tls/), so links, Locations and redirects are https://.
	DLCS_TLS=${DLCS_TLS:-0}
	[[ $DLCS_TLS == 0 || $DLCS_TLS == 1 ]] || die "DLCS_TLS must be 0 or 1, not '$DLCS_TLS'"
	SCHEME=http
	[[ $DLCS_TLS == 1 ]] && SCHEME=https
	[[ $DLCS_PORT =~ ^[0-9]+$ ]] || die "DLCS_PORT must be a number, not '$DLCS_PORT'"
	[[ $DLCS_WORKERS =~ ^[1-9][0-9]*$ ]] || die "DLCS_WORKERS must be a positive number"

	RUN_DIR=$DLCS_VAR/run
	LOG_DIR=$DLCS_VAR/log
	NGINX_DIR=$DLCS_VAR/nginx
	MYSQL_DIR=$DLCS_VAR/mysql
	STORAGE_DIR=$DLCS_VAR/storage
	CONF_FILE=$DLCS_VAR/dlcs.conf
	ADMIN_KEY=$DLCS_VAR/admin.key
	MYSQL_SOCK=$RUN_DIR/mysqld.sock
	MYSQL_PID=$RUN_DIR/mysqld.pid
	NGINX_PID=$NGINX_DIR/nginx.pid
	NGINX_CONF=$NGINX_DIR/nginx.conf
	CUSTOM_HEADERS=$NGINX_DIR/custom-headers.conf
	TLS_CERT=$NGINX_DIR/tls/cert.pem
	TLS_KEY=$NGINX_DIR/tls/key.pem
	[[ $DLCS_RUNNERS =~ ^[1-9][0-9]*$ ]] || die "DLCS_RUNNERS must be a positive number"
	[[ $DLCS_IMAGE_WORKERS =~ ^[1-9][0-9]*$ ]] || die "DLCS_IMAGE_WORKERS must be a positive number"
	export DLCS_VAR DLCS_PORT DLCS_WORKERS DLCS_RUNNERS DLCS_IMAGE_WORKERS DLCS_TLS
	export DLCS_CONFIG=$CONF_FILE
}

make_dirs() {
	mkdir -p -- "$RUN_DIR" "$LOG_DIR" "$STORAGE_DIR" "$NGINX_DIR/tmp"
}

# ---------------------------------------------------------------- processes

# True when pid is a live process. A zombie counts as dead: on machines whose
# init does not reap orphans, an exited daemon stays a zombie and kill -0
# would still succeed on it.
pid_alive() {
	local pid=$1 stat state
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	state=${stat##*) } # the field after "(comm)"
	state=${state%% *}
	[[ $state != Z && $state != X ]]
}

# True when pid is alive and its command line contains the given text, so a
# stale pid file (after a reboot, say) never makes us signal a stranger.
pid_is() {
	local pid=$1 text=$2 cmdline
	pid_alive "$pid" || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"$text"* ]]
}

# Pids listed in a pid file, one per line (nothing when the file is absent).
pids_in() {
	[[ -f $1 ]] || return 0
	grep -E '^[0-9]+$' -- "$1" || true
}

# Waits until none of the pids is alive; sends SIGKILL to survivors after
# the timeout (seconds). Returns 1 if anything had to be killed.
wait_gone() {
	local timeout=$1 what=$2 pid left i
	shift 2
	for ((i = 0; i < timeout * 10; i++)); do
		left=()
		for pid in "$@"; do pid_alive "$pid" && left+=("$pid"); done
		((${#left[@]} == 0)) && return 0
		sleep 0.1
	done
	warn "$what did not stop within ${timeout}s; sending SIGKILL to ${left[*]}"
	kill -KILL "${left[@]}" 2>/dev/null || true
	return 1
}

# Runs a command repeatedly until it succeeds or timeout seconds pass.
retry_for() {
	local timeout=$1 i
	shift
	for ((i = 0; i < timeout * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------- build

# Runs autogen.sh when configure is missing or older than its inputs.
autogen_if_needed() {
	if [[ ! -x $REPO/configure || $REPO/configure.ac -nt $REPO/configure ||
		$REPO/Makefile.am -nt $REPO/configure ]]; then
		say "autogen: generating configure"
		(cd "$REPO" && ./autogen.sh) || die "autogen.sh failed"
	fi
}

# build_tree DIR CONFIGURE-FLAGS...: an out-of-tree build in DIR (configured
# when new, or when configure changed), then make.
build_tree() {
	local dir=$1
	shift
	autogen_if_needed
	mkdir -p -- "$dir"
	if [[ ! -f $dir/Makefile || ! -f $dir/config.status || $REPO/configure -nt $dir/config.status ]]; then
		say "configure: $dir ($*)"
		(cd "$dir" && "$REPO/configure" "$@") || die "configure failed in $dir (see $dir/config.log)"
	fi
	say "make: $dir"
	make -C "$dir" -j"${DLCS_JOBS:-2}" || die "make failed in $dir"
}

# ---------------------------------------------------------------- configuration

# Writes $CONF_FILE unless it exists (it is the user's to edit afterwards).
write_config() {
	[[ -f $CONF_FILE ]] && return 0
	local salt
	salt=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	say "writing $CONF_FILE"
	(
		umask 077
		cat >"$CONF_FILE" <<EOF
# DLCS configuration, written by .stack/up (edit freely; it is not rewritten).
# Format: key = value; '#' starts a comment.

# MariaDB over its unix socket (the private server .stack/up runs).
db_socket = $MYSQL_SOCK
db_name = dlcs
db_user = root
# db_password =

# Public base URL for @id links, e.g. https://iiif.example.org (no trailing
# slash). Empty: derived from each request's scheme and Host.
base_url =

# Request bodies above this many bytes are refused with 413 (nginx refuses
# above client_max_body_size in nginx/dlcs.conf, also 16 MiB).
max_body_bytes = 16777216

schema_dir = $REPO/schema
storage_root = $STORAGE_DIR

# Mixed into stored API key hashes; changing it invalidates every key.
api_key_salt = $salt

# Origins are fetched only from public addresses unless a range is opened
# here (CIDRs, IPv4 and IPv6). This development stack opens loopback so that
# images served from this machine can be ingested; on a shared or public
# host remove the line: a customer could otherwise make the runners fetch
# any service on 127.0.0.0/8 and publish the answer at /file.
origin_allow_networks = 127.0.0.0/8

# A PDF or ZIP that could not be made answers its error this many seconds,
# then the next request tries again (the default is 300; short here, and
# tests/e2e/test_projections.py waits for it).
projection_error_retry_seconds = 10
EOF
	)
}

# config_value KEY DEFAULT: the value of KEY in $CONF_FILE (the last
# "KEY = value" line), or DEFAULT when absent or empty.
config_value() {
	local v
	v=$(sed -n -e 's/#.*//' -e "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" -- "$CONF_FILE" 2>/dev/null |
		sed -e 's/[[:space:]]*$//' | tail -n1)
	printf '%s' "${v:-$2}"
}

# Adds the settings that later versions introduced to an existing
# $CONF_FILE, each only when its key is absent (the file is the user's).
update_config() {
	local added=""
	if ! grep -qE '^[[:space:]]*nginx_custom_headers[[:space:]]*=' -- "$CONF_FILE"; then
		added+="
# The nginx include of the customers' custom headers, rendered by one runner
# after changes through the API, and by dlcs-admin render-headers; nginx.conf
# includes it. Empty: not written.
nginx_custom_headers = $CUSTOM_HEADERS
"
	fi
	if ! grep -qE '^[[:space:]]*nginx_pid_file[[:space:]]*=' -- "$CONF_FILE"; then
		added+="
# The nginx master that gets SIGHUP after the include is rewritten (the
# runners and dlcs-admin must be allowed to signal it). Empty: none.
nginx_pid_file = $NGINX_PID
"
	fi
	if ! grep -qE '^[[:space:]]*nginx_test_command[[:space:]]*=' -- "$CONF_FILE"; then
		added+="
# Run by /bin/sh with a new include in place, before nginx is told to
# reload: nginx -t of the configuration that includes it. A failure keeps
# the previous include. Empty: not tested.
nginx_test_command = nginx -t -q -c $(printf '%q' "$NGINX_CONF") -p $(printf '%q' "$NGINX_DIR/") -e $(printf '%q' "$LOG_DIR/nginx-error.log")
"
	fi
	if ! grep -qE '^[[:space:]]*origin_allow_networks[[:space:]]*=' -- "$CONF_FILE"; then
		added+="
# Origins are fetched only from public addresses unless a range is opened
# here. This development stack opens loopback (see write_config); on a
# shared or public host remove the line.
origin_allow_networks = 127.0.0.0/8
"
	fi
	if ! grep -qE '^[[:space:]]*projection_error_retry_seconds[[:space:]]*=' -- "$CONF_FILE"; then
		added+="
# A PDF or ZIP that could not be made answers its error this many seconds,
# then the next request tries again (the default is 300; short here).
projection_error_retry_seconds = 10
"
	fi
	[[ -n $added ]] || return 0
	say "adding settings of newer versions to $CONF_FILE"
	printf '%s' "$added" >>"$CONF_FILE"
}

# Every program refuses a configuration with an unknown key or a value its
# type does not take (exit 78, naming the line; README "Configuration"):
# say so before anything starts, with the program's own words.
check_config() {
	local out rc=0
	out=$("$BUILD_DIR/dlcs-admin" -c "$CONF_FILE" config 2>&1 >/dev/null) || rc=$?
	((rc == 0)) && return 0
	printf '%s\n' "$out" >&2
	die "the programs refuse $CONF_FILE (exit $rc): fix the line named above (dlcs-admin config lists the settings)"
}

# ---------------------------------------------------------------- MariaDB

mysql_cli() {
	mariadb --no-defaults -S "$MYSQL_SOCK" -uroot "$@"
}

mariadb_running() {
	local pid
	pid=$(pids_in "$MYSQL_PID" | head -n1)
	[[ -n $pid ]] && pid_is "$pid" "$MYSQL_DIR"
}

# Initialises the data directory (once), starts mariadbd unless it runs,
# waits for it to answer and creates the database.
start_mariadb() {
	local marker=$MYSQL_DIR/.dlcs-initialised pid log=$LOG_DIR/mysqld.log
	if mariadb_running; then
		say "mariadb: already running (pid $(head -n1 "$MYSQL_PID"))"
	else
		if [[ ! -f $marker ]]; then
			# No marker: never initialised, or initialisation was interrupted.
			rm -rf -- "$MYSQL_DIR"
			say "mariadb: initialising $MYSQL_DIR"
			mariadb-install-db --no-defaults --datadir="$MYSQL_DIR" --user=root \
				--auth-root-authentication-method=normal --skip-test-db \
				>"$LOG_DIR/mysql-install.log" 2>&1 ||
				{
					show_log "$LOG_DIR/mysql-install.log"
					die "mariadb-install-db failed"
				}
			touch -- "$marker"
		fi
		rm -f -- "$MYSQL_SOCK" "$MYSQL_PID"
		say "mariadb: starting"
		# setsid: its own session, so a Ctrl-C in this terminal never reaches it.
		setsid mariadbd --no-defaults --datadir="$MYSQL_DIR" --socket="$MYSQL_SOCK" \
			--skip-networking --user=root --pid-file="$MYSQL_PID" --log-error="$log" \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
			--innodb-buffer-pool-size="${DLCS_DB_BUFFER_POOL:-512M}" \
			</dev/null >>"$log" 2>&1 &
		pid=$!
		local i
		for ((i = 0; i < 300; i++)); do
			mysql_cli -e 'select 1' >/dev/null 2>&1 && break
			if ! pid_alive "$pid"; then
				show_log "$log"
				die "mariadbd exited during start-up (log: $log)"
			fi
			sleep 0.2
		done
		mysql_cli -e 'select 1' >/dev/null 2>&1 || {
			show_log "$log"
			die "mariadbd did not answer on $MYSQL_SOCK within 60s"
		}
		# mariadbd writes the pid file itself; make sure it is there.
		[[ -s $MYSQL_PID ]] || echo "$pid" >"$MYSQL_PID"
	fi
	mysql_cli -e 'CREATE DATABASE IF NOT EXISTS dlcs CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci' ||
		die "could not create the database dlcs"
}

stop_mariadb() {
	local pid
	pid=$(pids_in "$MYSQL_PID" | head -n1)
	if [[ -n $pid ]] && pid_is "$pid" "$MYSQL_DIR"; then
		say "mariadb: stopping (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		# A clean InnoDB shutdown can take a while on a busy server.
		wait_gone 60 mariadbd "$pid" || return 1
	fi
	rm -f -- "$MYSQL_PID" "$MYSQL_SOCK"
}

# ---------------------------------------------------------------- dlcs-admin

# Runs dlcs-admin with its output appended to log/admin.log; shows it on failure.
run_admin() {
	local log=$LOG_DIR/admin.log
	printf '=== %s dlcs-admin %s\n' "$(date '+%F %T')" "$*" >>"$log"
	if ! "$BUILD_DIR/dlcs-admin" "$@" >>"$log" 2>&1; then
		show_log "$log"
		die "dlcs-admin $* failed (log: $log)"
	fi
}

# ---------------------------------------------------------------- FastCGI pools

# The pools the stack runs, as NAME:PROGRAM (PROGRAM is in the build directory).
# up starts them in this order, down stops them in reverse. The runners
# answer no FastCGI requests (see handlers/ingest/main.c); they are
# spawned the same way so one mechanism starts, tracks and stops everything.
FCGI_POOLS=(api:dlcs-api image:dlcs-image runner:dlcs-runner)

# pool_count NAME: how many processes pool NAME runs.
pool_count() {
	case $1 in
	runner) printf '%s' "$DLCS_RUNNERS" ;;
	image) printf '%s' "$DLCS_IMAGE_WORKERS" ;;
	*) printf '%s' "$DLCS_WORKERS" ;;
	esac
}

# The pool NAME has its socket at run/NAME.sock and its stdout/stderr in
# log/NAME.log. spawn-fcgi starts ONE process of the pool's program with
# -w COUNT: the supervisor (fcgi/supervise.h), whose pid is in run/NAME.pid.
# It forks the COUNT workers, which share its listening socket, and replaces
# any that dies within a moment, logging one line per death:
#   ... supervisor: worker 4242 died (killed by signal 9, KILL); replaced by 4250
# The workers are the supervisor's children; nothing records their pids
# (pool_live_pids finds them).
pool_sock() { printf '%s/%s.sock' "$RUN_DIR" "$1"; }
pool_pidfile() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# True when pid runs BINARY with this stack's DLCS_CONFIG in its
# environment (so that a recycled pid, or a process of another stack, is
# never taken for ours).
pool_process_is() {
	local pid=$1 binary=$2
	pid_is "$pid" "$(basename -- "$binary")" || return 1
	tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF -- "DLCS_CONFIG=$CONF_FILE"
}

# The live children of pid (from the kernel's list, or pgrep without it).
child_pids() {
	local parent=$1 kids kid
	if [[ -r /proc/$parent/task/$parent/children ]]; then
		kids=$(cat /proc/"$parent"/task/*/children 2>/dev/null) || kids=
	else
		kids=$(pgrep -P "$parent" 2>/dev/null) || kids=
	fi
	for kid in $kids; do
		pid_alive "$kid" && printf '%s\n' "$kid"
	done
	return 0
}

# Prints the pid of pool NAME's live supervisor (nothing when it is not running).
pool_supervisor() {
	local name=$1 binary=$2 pid
	for pid in $(pids_in "$(pool_pidfile "$name")"); do
		if pool_process_is "$pid" "$binary"; then
			printf '%s\n' "$pid"
			return 0
		fi
	done
	return 0
}

# Prints the live worker pids of pool NAME: the supervisor's children that
# run BINARY.
pool_live_pids() {
	local name=$1 binary=$2 sup pid
	sup=$(pool_supervisor "$name" "$binary")
	[[ -n $sup ]] || return 0
	for pid in $(child_pids "$sup"); do
		pool_process_is "$pid" "$binary" && printf '%s\n' "$pid"
	done
	return 0
}

# The worker count a running supervisor was started with (its -w argument).
supervisor_workers() {
	tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | awk 'prev == "-w" { print; exit } { prev = $0 }'
}

# start_fcgi_pool NAME BINARY COUNT: a supervisor of COUNT workers of BINARY
# accepting FastCGI on run/NAME.sock, with DLCS_CONFIG in their environment.
# A pool already running is left alone (its supervisor keeps it complete),
# unless BINARY was rebuilt since it started or it runs another number of
# workers, in which case the pool is restarted.
start_fcgi_pool() {
	local name=$1 binary=$2 count=$3
	local sock pidfile log sup running i n=0
	sock=$(pool_sock "$name")
	pidfile=$(pool_pidfile "$name")
	log=$LOG_DIR/$name.log
	[[ -x $binary ]] || die "$binary is missing; build it first"

	sup=$(pool_supervisor "$name" "$binary")
	if [[ -n $sup ]]; then
		running=$(supervisor_workers "$sup")
		if [[ $binary -nt $pidfile ]]; then
			say "$name: $binary is newer than the running pool; restarting"
		elif [[ $running != "$count" ]]; then
			say "$name: the pool runs ${running:-?} workers, $count wanted; restarting"
		else
			say "$name: already running (supervisor $sup, workers $(pool_live_pids "$name" "$binary" | paste -sd ' '))"
			return 0
		fi
	fi
	# Also whatever an earlier layout left (one pid a worker, no supervisor).
	stop_fcgi_pool "$name" "$binary" || true

	rm -f -- "$sock" "$pidfile"
	say "$name: starting $binary -w $count on $sock"
	printf '=== %s starting %s -w %s\n' "$(date '+%F %T')" "$binary" "$count" >>"$log"
	# spawn-fcgi points the child's stdout/stderr at /dev/null, so the child
	# is a shell that redirects them to the log and then execs the program
	# (keeping the pid spawn-fcgi recorded); its workers inherit them.
	# shellcheck disable=SC2016,SC2094 # $0..$2 are the inner shell's; the log is only appended to
	DLCS_CONFIG=$CONF_FILE OMP_NUM_THREADS=1 \
		spawn-fcgi -s "$sock" -M 0660 -F 1 -P "$pidfile" -- \
		/bin/sh -c 'exec "$0" -w "$2" >>"$1" 2>&1' "$binary" "$log" "$count" >>"$log" 2>&1 ||
		{
			show_log "$log"
			die "spawn-fcgi failed for $name"
		}
	# Wait for the whole pool, then check it is still whole a moment later
	# (a worker that finds its configuration unusable makes the supervisor
	# stop the pool and exit).
	sup=$(pids_in "$pidfile" | head -n1)
	[[ -n $sup ]] || die "$name: spawn-fcgi wrote no pid to $pidfile"
	for ((i = 0; i < 100; i++)); do
		pid_alive "$sup" || break
		n=$(pool_live_pids "$name" "$binary" | wc -l)
		((n == count)) && break
		sleep 0.1
	done
	sleep 0.5
	if ! pool_process_is "$sup" "$binary"; then
		show_log "$log"
		die "$name: the supervisor ($sup) exited right after start (log: $log)"
	fi
	n=$(pool_live_pids "$name" "$binary" | wc -l)
	if ((n != count)); then
		show_log "$log"
		die "$name: $n of $count workers running after start (log: $log)"
	fi
}

# stop_fcgi_pool NAME BINARY: SIGTERM to the supervisor, which passes it to
# the workers (each finishes the request in hand) and exits when they are
# gone, killing any still there after 10 s; SIGKILL after 15 s. Returns 1 if
# anything had to be killed.
stop_fcgi_pool() {
	local name=$1 binary=$2 rc=0 pid pids=() kids=() log
	log=$LOG_DIR/$name.log
	for pid in $(pids_in "$(pool_pidfile "$name")"); do
		pool_process_is "$pid" "$binary" || continue
		pids+=("$pid")
		mapfile -t -O "${#kids[@]}" kids < <(child_pids "$pid")
	done
	if ((${#pids[@]} > 0)); then
		say "$name: stopping pid ${pids[*]} (workers ${kids[*]})"
		kill -TERM "${pids[@]}" 2>/dev/null || true
		wait_gone 15 "$name" "${pids[@]}" "${kids[@]}" || rc=1
		for pid in "${pids[@]}"; do
			if grep -qE "\[$pid\] warn supervisor: worker [0-9]+ did not stop" -- "$log" 2>/dev/null; then
				warn "$name: a worker ignored SIGTERM and was killed (see $log)"
				rc=1
			fi
		done
	fi
	rm -f -- "$(pool_sock "$name")" "$(pool_pidfile "$name")"
	return "$rc"
}

# ---------------------------------------------------------------- nginx

# Upstream keepalive connections per nginx worker: none unless
# DLCS_UPSTREAM_KEEPALIVE=K asks for K. A libfcgi worker serves one
# connection at a time and, on a kept connection, blocks reading it until
# nginx closes it: idle kept connections hold workers while requests queue
# for the others. Measured with tests/bench/api-bench (4 dlcs-api workers,
# wrk -c16): keepalive 1 gave even the trivial floor no gain, and put the p99
# of the cached 96 KB query at 15 ms and of the uncached one near 200 ms;
# without it, 6 ms and 27 ms. K is capped so that the 2K kept connections
# stay below the worker count, leaving a worker free for a fresh one.
NGINX_WORKERS=2
# A value made safe for the replacement side of sed "s|...|...|".
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

# nginx_keepalive [WORKERS]: for a pool of WORKERS (default DLCS_WORKERS).
nginx_keepalive() {
	local want=${DLCS_UPSTREAM_KEEPALIVE:-0}
	[[ $want =~ ^[0-9]+$ ]] || die "DLCS_UPSTREAM_KEEPALIVE must be a number"
	local k=$(((${1:-$DLCS_WORKERS} - 1) / NGINX_WORKERS))
	((k > want)) && k=$want
	((k > 8)) && k=8
	printf '%s' "$k"
}

# A keepalive line for the upstream of a pool of N workers.
keepalive_line() {
	local n=$1 k
	k=$(nginx_keepalive "$n")
	if ((k > 0)); then
		printf 'keepalive %s;' "$k"
	else
		printf '# no keepalive to the %s FastCGI workers (DLCS_UPSTREAM_KEEPALIVE, .stack/lib.sh)' "$n"
	fi
}

# A self-signed certificate for localhost and 127.0.0.1 (DLCS_TLS=1), made
# once; clients trust it with curl --cacert nginx/tls/cert.pem.
make_tls_cert() {
	[[ -s $TLS_CERT && -s $TLS_KEY ]] && return 0
	mkdir -p -- "$(dirname -- "$TLS_CERT")"
	say "nginx: a self-signed certificate in $TLS_CERT"
	(
		umask 077
		openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj /CN=localhost \
			-addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
			-keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null
	) || die "openssl could not make $TLS_CERT"
	chmod 0644 -- "$TLS_CERT"
}

# Renders nginx/dev.conf.in into $NGINX_CONF (to a temporary file first).
render_nginx_conf() {
	local out=$1
	local ka_line image_ka_line storage listen_ssl="" ssl_lines="# plain HTTP (DLCS_TLS=0)"
	if [[ $DLCS_TLS == 1 ]]; then
		make_tls_cert
		listen_ssl="ssl "
		ssl_lines="ssl_certificate \"$TLS_CERT\"; ssl_certificate_key \"$TLS_KEY\";"
	fi
	ka_line=$(keepalive_line "$DLCS_WORKERS")
	image_ka_line=$(keepalive_line "$DLCS_IMAGE_WORKERS")
	storage=$(config_value storage_root "$STORAGE_DIR")
	ensure_custom_headers
	# The admin's extra headers (nginx/dlcs.conf, "Your own headers"), next
	# to nginx.conf; the tests look for this one on every response.
	[[ -e $NGINX_DIR/dlcs-extra-headers.conf ]] ||
		printf '%s\n' '# Headers for every response, DLCS'"'"'s too (nginx/dlcs.conf, "Your own headers").' \
			'add_header X-Admin-Extra "stack" always;' >"$NGINX_DIR/dlcs-extra-headers.conf"
	mkdir -p -- "$NGINX_DIR/admin-static"
	[[ -e $NGINX_DIR/admin-static/hello.txt ]] || echo hello >"$NGINX_DIR/admin-static/hello.txt"
	sed -e "s|@REPO@|$(esc "$REPO")|g" \
		-e "s|@DLCS_VAR@|$(esc "$DLCS_VAR")|g" \
		-e "s|@NGINX_DIR@|$(esc "$NGINX_DIR")|g" \
		-e "s|@LOG_DIR@|$(esc "$LOG_DIR")|g" \
		-e "s|@API_SOCK@|$(esc "$(pool_sock api)")|g" \
		-e "s|@IMAGE_SOCK@|$(esc "$(pool_sock image)")|g" \
		-e "s|@IMAGE_KEEPALIVE@|$(esc "$image_ka_line")|g" \
		-e "s|@STORAGE_ROOT@|$(esc "$storage")|g" \
		-e "s|@CUSTOM_HEADERS@|$(esc "$CUSTOM_HEADERS")|g" \
		-e "s|@PORT@|$(esc "$DLCS_PORT")|g" \
		-e "s|@NGINX_WORKERS@|$NGINX_WORKERS|g" \
		-e "s|@LISTEN_SSL@|$listen_ssl|g" \
		-e "s|@SSL_LINES@|$(esc "$ssl_lines")|g" \
		-e "s|@KEEPALIVE@|$(esc "$ka_line")|g" \
		"$REPO/nginx/dev.conf.in" >"$out"
	if grep -n '@[A-Z_]*@' -- "$out" >&2; then
		die "unsubstituted @VARIABLES@ left in $out"
	fi
}

# The custom-headers include, empty when there is none yet: nginx refuses
# to start without the included file. Made before the runners start, so
# that a runner's first rendering, refused by nginx -t while nginx.conf is
# not written yet, puts this file back instead of removing the path under
# start_nginx (what the runner had found there).
ensure_custom_headers() {
	CUSTOM_HEADERS=$(config_value nginx_custom_headers "$NGINX_DIR/custom-headers.conf")
	[[ -e $CUSTOM_HEADERS ]] || : >"$CUSTOM_HEADERS"
}

nginx_cmd() {
	nginx -c "$NGINX_CONF" -p "$NGINX_DIR/" -e "$LOG_DIR/nginx-error.log" "$@"
}

nginx_running() {
	local pid
	pid=$(pids_in "$NGINX_PID" | head -n1)
	[[ -n $pid ]] && pid_is "$pid" "$NGINX_CONF"
}

# Renders the config, tests it, and starts nginx, or reloads a running
# nginx whose config (or nginx/dlcs.conf) changed since it started.
start_nginx() {
	local new=$NGINX_CONF.new
	render_nginx_conf "$new"
	if nginx_running; then
		if cmp -s -- "$new" "$NGINX_CONF" && ! [[ $REPO/nginx/dlcs.conf -nt $NGINX_PID ]]; then
			rm -f -- "$new"
			say "nginx: already running (pid $(head -n1 "$NGINX_PID"))"
			return 0
		fi
		mv -f -- "$new" "$NGINX_CONF"
		nginx_cmd -t -q || die "nginx configuration test failed ($NGINX_CONF)"
		say "nginx: configuration changed; reloading"
		nginx_cmd -s reload || die "nginx reload failed"
		touch -- "$NGINX_PID"
		return 0
	fi
	mv -f -- "$new" "$NGINX_CONF"
	rm -f -- "$NGINX_PID"
	nginx_cmd -t -q || die "nginx configuration test failed ($NGINX_CONF)"
	say "nginx: starting on 127.0.0.1:$DLCS_PORT"
	nginx_cmd || {
		show_log "$LOG_DIR/nginx-error.log"
		die "nginx failed to start (is port $DLCS_PORT taken?)"
	}
	retry_for 5 test -s "$NGINX_PID" || die "nginx wrote no pid file ($NGINX_PID)"
}

stop_nginx() {
	local pid
	pid=$(pids_in "$NGINX_PID" | head -n1)
	if [[ -n $pid ]] && pid_is "$pid" "$NGINX_CONF"; then
		say "nginx: stopping (pid $pid)"
		# QUIT: graceful; the master waits for its workers' requests to end.
		kill -QUIT "$pid" 2>/dev/null || true
		wait_gone 10 nginx "$pid" || return 1
	fi
	rm -f -- "$NGINX_PID"
}

# ---------------------------------------------------------------- health

# Waits up to timeout seconds for GET /ping to answer 200.
wait_for_ping() {
	local timeout=$1 url="$SCHEME://127.0.0.1:$DLCS_PORT/ping" tls=()
	[[ $DLCS_TLS == 1 ]] && tls=(--cacert "$TLS_CERT")
	retry_for "$timeout" curl -fsS -o /dev/null --max-time 5 "${tls[@]}" "$url" 2>/dev/null
}
