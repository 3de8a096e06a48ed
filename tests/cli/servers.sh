# servers.sh - real git servers on 127.0.0.1 for the sync tests and the
# scenario (sourced after lib.sh, or on its own by tests/scenario/).
#
# bare_repo DIR             an empty bare repository that accepts pushes over
#                           git:// and http:// (the caller pushes a first commit)
# start_git_daemon BASE [PORT]
#                           `git daemon --enable=receive-pack --export-all
#                           --base-path=BASE` on 127.0.0.1 (a free port, or
#                           PORT to come back on the same one); sets
#                           GIT_DAEMON_PID, GIT_DAEMON_PORT and GIT_URL
#                           (git://127.0.0.1:PORT); waits until it answers
# stop_git_daemon           stop it (the port stays in GIT_DAEMON_PORT)
# start_git_http BASE [USER:PASSWORD]
#                           tests/cli/git-http.py: `git http-backend` as CGI;
#                           sets GIT_HTTP_PID, GIT_HTTP_PORT and HTTP_URL
#                           (http://127.0.0.1:PORT); with USER:PASSWORD every
#                           request without those Basic credentials gets 401
# stop_git_http             stop it
# stop_servers              stop both (installed as an EXIT trap by the starts)
#
# Server logs go to $SERVER_LOGS (default ./server-logs), so test output
# captured with $(...) is never held open by a server.

SERVERS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVER_LOGS=${SERVER_LOGS:-$PWD/server-logs}
GIT_DAEMON_PID= GIT_HTTP_PID= GIT_HTTP_WRAPPER=

bare_repo() {
	git init -q --bare "$1" &&
		git -C "$1" config http.receivepack true &&
		git -C "$1" config receive.denyNonFastForwards true
}

# A free TCP port on 127.0.0.1 (the kernel picks one; a daemon started on it
# right after may still lose a race, which start_git_daemon retries).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# port_answers PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_answers() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PID PORT: up to 10 s for PORT to answer while PID lives.
wait_port() {
	local i
	for i in $(seq 1 200); do
		port_answers "$2" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

servers_trap() {
	trap stop_servers EXIT
}

start_git_daemon() {
	local base port try
	base=$(cd "$1" && pwd)
	mkdir -p "$SERVER_LOGS"
	for try in 1 2 3 4 5; do
		port=${2:-$(free_port)}
		git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --base-path="$base" \
			--export-all --enable=receive-pack --informative-errors \
			</dev/null >>"$SERVER_LOGS/git-daemon.log" 2>&1 &
		GIT_DAEMON_PID=$!
		servers_trap
		if wait_port "$GIT_DAEMON_PID" "$port"; then
			GIT_DAEMON_PORT=$port
			GIT_URL="git://127.0.0.1:$port"
			return 0
		fi
		kill "$GIT_DAEMON_PID" 2>/dev/null || true
		wait "$GIT_DAEMON_PID" 2>/dev/null || true
		GIT_DAEMON_PID=
		if [ -n "${2:-}" ]; then sleep 0.2; fi
	done
	echo "servers.sh: git daemon did not start (log: $SERVER_LOGS/git-daemon.log)" >&2
	return 1
}

stop_git_daemon() {
	if [ -n "$GIT_DAEMON_PID" ]; then
		kill "$GIT_DAEMON_PID" 2>/dev/null || true
		wait "$GIT_DAEMON_PID" 2>/dev/null || true
		GIT_DAEMON_PID=
	fi
	return 0
}

start_git_http() {
	local base portfile i
	base=$(cd "$1" && pwd)
	mkdir -p "$SERVER_LOGS"
	portfile="$SERVER_LOGS/git-http.port.$$.$RANDOM"
	rm -f "$portfile"
	python3 "$SERVERS_HERE/git-http.py" "$portfile" "$base" ${2:+--auth "$2"} \
		</dev/null >>"$SERVER_LOGS/git-http.log" 2>&1 &
	GIT_HTTP_WRAPPER=$! GIT_HTTP_PID=$!
	servers_trap
	for i in $(seq 1 200); do
		[ -s "$portfile" ] && break
		kill -0 "$GIT_HTTP_WRAPPER" 2>/dev/null || break
		sleep 0.05
	done
	# The port file holds "PORT PID": python3 may be a wrapper (pyenv) whose
	# pid is not the server's.
	if [ -s "$portfile" ] && read -r GIT_HTTP_PORT GIT_HTTP_PID <"$portfile" &&
		wait_port "$GIT_HTTP_PID" "$GIT_HTTP_PORT"; then
		rm -f "$portfile"
		HTTP_URL="http://127.0.0.1:$GIT_HTTP_PORT"
		return 0
	fi
	echo "servers.sh: git-http.py did not start (log: $SERVER_LOGS/git-http.log)" >&2
	stop_git_http
	return 1
}

stop_git_http() {
	if [ -n "$GIT_HTTP_PID" ]; then
		kill "$GIT_HTTP_PID" 2>/dev/null || true
		wait "$GIT_HTTP_WRAPPER" 2>/dev/null || true
		GIT_HTTP_PID= GIT_HTTP_WRAPPER=
	fi
	return 0
}

stop_servers() {
	stop_git_daemon
	stop_git_http
}
