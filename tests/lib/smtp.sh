# Helpers for the SEND tests (sourced after common.sh): an aiosmtpd sink,
# a database filled with deliveries, the send driver, and counts.
DRIVE="$top_builddir/tests/smtp_drive"
SINK_PY="$top_srcdir/tests/lib/smtp-sink.py"
NOW=1782900000		# 2026-07-01 10:00 UTC, 11:00 in London: not quiet
CLOCK="$T/clock"
echo $NOW > "$CLOCK"
export CLARION_CLOCK_FILE="$CLOCK"

smtp_require() {
	[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
		skip "python3-aiosmtpd is not installed"
	command -v sqlite3 >/dev/null || skip "no sqlite3 command"
	command -v openssl >/dev/null || skip "no openssl command"
	[ -x "$DRIVE" ] || skip "tests/smtp_drive is not built"
	sh "$top_srcdir/tests/lib/gen-certs.sh" "$T/certs" ||
		skip "cannot make test certificates"
}

# sink_start NAME [sink options...]: a sink with STARTTLS on $SMTP_PORT and
# SMTPS on $SMTPS_PORT, AUTH alice:secret; mail lands in $T/NAME/Maildir.
sink_start() {
	name=$1; shift
	mkdir -p "$T/$name"
	SINK_DIR="$T/$name"
	base=${SMTP_BASE:-32500}
	tries=0
	# Tests run in parallel: another may take a port between free_port
	# and the bind, so a sink that lost that race tries further on.
	while :; do
		SMTP_PORT=$(free_port "$base")
		SMTPS_PORT=$(free_port $((SMTP_PORT + 1)))
		rm -f "$SINK_DIR/ready"
		/usr/bin/python3 "$SINK_PY" --port "$SMTP_PORT" --starttls \
			--tls-port "$SMTPS_PORT" --cert "$T/certs/server.pem" \
			--key "$T/certs/server.key" --auth alice:secret \
			--maildir "$SINK_DIR/Maildir" --ready-file "$SINK_DIR/ready" \
			--max-seconds 600 "$@" 2>"$SINK_DIR/sink.log" &
		SINK_PID=$!
		sink_wait && return 0
		tries=$((tries + 1))
		if grep -q "address already in use" "$SINK_DIR/sink.log" &&
		    [ $tries -lt 5 ]; then
			base=$((SMTPS_PORT + 1 + tries * 37))
			continue
		fi
		cat "$SINK_DIR/sink.log" >&2
		skip "the aiosmtpd sink did not start"
	done
}
# sink_wait: up to ~10 s for the sink to be ready; 1 at once if it died.
sink_wait() {
	i=0
	while [ $i -lt 200 ]; do
		test -e "$SINK_DIR/ready" && return 0
		kill -0 "$SINK_PID" 2>/dev/null || return 1
		sleep 0.05; i=$((i+1))
	done
	return 1
}
sink_stop() {
	[ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	SINK_PID=
	return 0
}
on_exit sink_stop

# smtp_config FILE [extra lines]: the smtp transport to the sink over SMTPS.
smtp_config() {
	f=$1; shift
	make_config "$f" 'transport = "smtp";' 'inbound = "external";' \
		"smtp = { url = \"smtps://localhost:$SMTPS_PORT\"; user = \"alice\"; password = \"secret\"; ca_file = \"$T/certs/ca.pem\"; connections = ${CONNS:-4}; timeout = 10; };" \
		"$@"
}

db_init() { # db_init CONF
	"$CLARION" -c "$1" init >/dev/null || { fail "clarion init"; exit 1; }
	sqlite3 "$T/clarion.db" "
INSERT INTO lists(id,name,from_addr,owner_addr,created,updated)
  VALUES (1,'members','members@example.org','owner@example.org',0,0);
INSERT INTO items(id,name,list_id,kind,template,subject,created,updated)
  VALUES (1,'news',1,'newsletter','t','s',0,0);"
}

# add_run RUN COUNT [PREFIX [PRIORITY]]: a run with COUNT deliveries to
# PREFIX1@example.net ... (subscribers made as needed, members of the list:
# the claim sends only to members).
add_run() {
	run=$1; count=$2; prefix=${3:-m$1-}; prio=${4:-0}
	sqlite3 -cmd '.timeout 5000' "$T/clarion.db" "
INSERT INTO runs(id,item_id,due_at,state,created) VALUES ($run,1,$run,'sending',0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
INSERT INTO subscribers(address,created,updated)
  SELECT '$prefix' || i || '@example.net', 0, 0 FROM n;
INSERT OR IGNORE INTO memberships(subscriber_id,list_id,created,updated)
  SELECT id, 1, 0, 0 FROM subscribers WHERE address LIKE '$prefix%';
INSERT INTO deliveries(run_id,subscriber_id,address,priority,created)
  SELECT $run, id, address, $prio, $NOW FROM subscribers
  WHERE address LIKE '$prefix%' ORDER BY id;"
}

q() { sqlite3 -cmd '.timeout 5000' "$T/clarion.db" "$@"; }

# Envelope recipients stored at the sink, one line each.
sink_rcpts() {
	find "$SINK_DIR/Maildir/new" -type f -exec grep -h -m1 '^X-Envelope-To:' {} + 2>/dev/null |
		sed 's/^X-Envelope-To: <\(.*\)>.*/\1/' | tr -d '\r'
}
sink_count() { sink_rcpts | wc -l | tr -d ' '; }
sink_dups() { sink_rcpts | sort | uniq -d | wc -l | tr -d ' '; }
sink_extra() { sink_rcpts | sort | uniq -c | awk '$1 > 1 { n += $1 - 1 } END { print n + 0 }'; }

drive() { # drive CONF [--once]: the send step, as clariond runs it
	"$DRIVE" -c "$@" >>"$T/drive.out" 2>>"$T/drive.log"
}
