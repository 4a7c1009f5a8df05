#!/usr/bin/env bash
# Tresor's import beside listmonk's, in one run (issue [2.6], "Peers, side by side").
#
# Optional and not part of .ci/run. It needs Go, psql, curl, sqlite3 (with dbstat),
# GNU time at /usr/bin/time and a PostgreSQL server reachable without a password.
#
#   bench/listmonk.sh LISTMONK_CHECKOUT [ROWS]
#
# LISTMONK_CHECKOUT is a source checkout of listmonk (https://github.com/knadh/listmonk);
# it is built with `go build ./cmd` and read, never changed. ROWS defaults to 100000.
#
# What it does, each import on a fresh database or data directory:
#   1. builds tresor (this repository) and listmonk into a temporary directory;
#   2. writes ROWS people, one distinct person each, in two shapes of the same data:
#      a LinkedIn export for Tresor (First Name, Last Name, URL, Email Address, Company,
#      Position, Connected On; the e-mail filled as p-N@example.org, because listmonk
#      needs one) and listmonk's CSV (email, name, attributes as JSON with the URL,
#      company, position and connection date);
#   3. tresor import linkedin on SQLite and on PostgreSQL — the ingestion gate drops a
#      LinkedIn e-mail address (visible only to connections, rule R9), so it also runs
#      tresor import csv of the same rows with a column mapping that keeps the e-mail;
#   4. listmonk: --install into its own database, started on a loopback port, one list
#      created, the file POSTed to /api/import/subscribers and the import polled until
#      it reports "finished" (the time is from the upload to that answer);
#   5. prints seconds, rows/s, bytes per person, peak RSS and CPU time for each, the ratios
#      Tresor / listmonk, and the bytes per person of each table.
#
# Bytes per person: what the import added, divided by ROWS — on PostgreSQL the sum of
# pg_total_relation_size over every table of the system's database (indexes and TOAST
# included), on SQLite the sum of dbstat's pages; both measured before and after the
# import. Peak RSS: GNU time's maximum resident set size for tresor, VmHWM of the
# listmonk process (its whole life: start-up and the import).
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres); TRESOR_BENCH_DB
# (tresor_bench) and LISTMONK_BENCH_DB (lm_bench) are the databases it creates and drops;
# LISTMONK_BENCH_PORT (19000); LISTMONK_COMMIT names the listmonk commit in the output when
# the checkout has no .git. The listmonk process and both databases are removed on exit.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "$1/cmd/main.go" ] || [ ! -f "$1/schema.sql" ]; then
	echo "usage: $0 LISTMONK_CHECKOUT [ROWS]  (a listmonk source checkout: cmd/main.go, schema.sql, queries/, static/, i18n/)" >&2
	exit 2
fi
LM_SRC=$(cd "$1" && pwd)
ROWS=${2:-100000}
REPO=$(cd "$(dirname "$0")/.." && pwd)

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
TDB=${TRESOR_BENCH_DB:-tresor_bench}
LDB=${LISTMONK_BENCH_DB:-lm_bench}
LPORT=${LISTMONK_BENCH_PORT:-19000}
LURL=http://127.0.0.1:$LPORT

for tool in go psql curl sqlite3 /usr/bin/time awk; do
	command -v "$tool" >/dev/null || { echo "$0: $tool is needed" >&2; exit 2; }
done

W=$(mktemp -d)
LM_PID=
cleanup() {
	if [ -n "$LM_PID" ]; then
		kill "$LM_PID" 2>/dev/null || true
		wait "$LM_PID" 2>/dev/null || true
	fi
	psql -q -d postgres -c "DROP DATABASE IF EXISTS $LDB" >/dev/null 2>&1 || true
	psql -q -d postgres -c "DROP DATABASE IF EXISTS $TDB" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
fresh_db() {
	PGOPTIONS='-c client_min_messages=warning' psql -q -d postgres -c "DROP DATABASE IF EXISTS $1" >/dev/null
	psql -q -d postgres -c "CREATE DATABASE $1" >/dev/null
}
# pg_bytes DB: every table of the database with its indexes and TOAST.
pg_bytes() {
	psql -d "$1" -Atc "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'm')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg_toast%'"
}
sqlite_bytes() { sqlite3 "$1" "SELECT sum(pgsize) FROM dbstat"; }
# pg_tables DB LABEL, sqlite_tables FILE LABEL: bytes of each table (with its indexes and
# TOAST on PostgreSQL; table and indexes apart on SQLite), one "LABEL name bytes" a line.
pg_tables() {
	psql -d "$1" -Atc "SELECT '$2', c.relname, pg_total_relation_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'm')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg_toast%'" -F ' '
}
sqlite_tables() { sqlite3 -separator ' ' "$1" "SELECT '$2', name, sum(pgsize) FROM dbstat GROUP BY name"; }
# maxrss FILE: GNU time -v's maximum resident set size, in kB.
maxrss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
# cputime FILE: GNU time -v's user + system seconds.
cputime() { awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$1"; }
# proc_ticks PID: the process's user + system time in clock ticks.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

TABLES=$W/tables
: >"$TABLES"
# Results: one line per system, "label seconds bytes rss_kb cpu_seconds".
RESULTS=$W/results
: >"$RESULTS"

say "== building tresor and listmonk"
(cd "$REPO" && go build -o "$W/tresor" ./cmd/tresor)
(cd "$LM_SRC" && go build -o "$W/listmonk" ./cmd)
# The commit: LISTMONK_COMMIT if given, else git's, else the first word of VERSION (which
# `git archive` fills with the abbreviated commit).
LM_VERSION=${LISTMONK_COMMIT:-$(git -C "$LM_SRC" rev-parse --short=12 HEAD 2>/dev/null ||
	awk 'NR == 1 {print $1}' "$LM_SRC/VERSION" 2>/dev/null || echo unknown)}
TRESOR_VERSION=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

say "== writing $ROWS people"
awk -v n="$ROWS" 'BEGIN {
	print "Notes:"; print "\"Exported.\""; print ""
	print "First Name,Last Name,URL,Email Address,Company,Position,Connected On"
	for (i = 1; i <= n; i++)
		printf "Erika,Mustermann-%d,https://www.linkedin.com/in/erika-%d,p-%d@example.org,Muster GmbH,Head of Purchasing,12 Mar 2024\n", i, i, i
}' >"$W/linkedin.csv"
tail -n +4 "$W/linkedin.csv" >"$W/plain.csv"
awk -v n="$ROWS" 'BEGIN {
	print "email,name,attributes"
	for (i = 1; i <= n; i++)
		printf "p-%d@example.org,Erika Mustermann-%d,\"{\"\"url\"\": \"\"https://www.linkedin.com/in/erika-%d\"\", \"\"company\"\": \"\"Muster GmbH\"\", \"\"position\"\": \"\"Head of Purchasing\"\", \"\"connected_on\"\": \"\"12 Mar 2024\"\"}\"\n", i, i, i
}' >"$W/listmonk.csv"
cat >"$W/mapping.json" <<'EOF'
{"columns": {"given_name": "First Name", "family_name": "Last Name", "email": "Email Address",
 "organization": "Company", "position": "Position", "profile_url": "URL"}}
EOF

# tresor_run LABEL BACKEND FORMAT FILE [ARGS…]: one import on a fresh SQLite data
# directory or PostgreSQL database.
tresor_run() {
	local label=$1 backend=$2 format=$3 file=$4
	shift 4
	local dir=$W/data-$label before after t0 t1
	mkdir -p "$dir"
	say "== tresor import $format on $backend"
	if [ "$backend" = postgres ]; then
		fresh_db "$TDB"
		export TRESOR_DB="postgres://$PGUSER@$PGHOST:$PGPORT/$TDB?sslmode=disable"
	else
		unset TRESOR_DB
	fi
	export TRESOR_DATA_DIR=$dir
	"$W/tresor" migrate >/dev/null
	if [ "$backend" = postgres ]; then before=$(pg_bytes "$TDB"); else before=$(sqlite_bytes "$dir/tresor.db"); fi
	t0=$(now)
	/usr/bin/time -v -o "$W/time-$label" "$W/tresor" import "$format" "$file" --purpose sales \
		--legal-basis legitimate_interest --balancing-note "B2B prospects; public profiles" "$@" >"$W/out-$label" 2>&1 ||
		{ cat "$W/out-$label" "$W/time-$label" >&2; exit 1; }
	t1=$(now)
	grep -E '^(import|created|refused)' "$W/out-$label" >&2 || true
	if [ "$backend" = postgres ]; then
		after=$(pg_bytes "$TDB")
		pg_tables "$TDB" "$label" >>"$TABLES"
	else
		after=$(sqlite_bytes "$dir/tresor.db")
		sqlite_tables "$dir/tresor.db" "$label" >>"$TABLES"
	fi
	echo "$label $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') $((after - before)) $(maxrss "$W/time-$label") $(cputime "$W/time-$label")" >>"$RESULTS"
	unset TRESOR_DB TRESOR_DATA_DIR
	rm -rf "$dir"
	if [ "$backend" = postgres ]; then psql -q -d postgres -c "DROP DATABASE $TDB" >/dev/null; fi
}

tresor_run tresor-sqlite-linkedin sqlite linkedin "$W/linkedin.csv"
tresor_run tresor-postgres-linkedin postgres linkedin "$W/linkedin.csv"
tresor_run tresor-sqlite-csv sqlite csv "$W/plain.csv" --mapping "$W/mapping.json"
tresor_run tresor-postgres-csv postgres csv "$W/plain.csv" --mapping "$W/mapping.json"

say "== listmonk $LM_VERSION: install"
fresh_db "$LDB"
LM=$W/lm
mkdir -p "$LM/frontend/dist" # no built admin frontend: the API does not need it
for f in queries schema.sql permissions.json config.toml.sample static i18n; do
	cp -R "$LM_SRC/$f" "$LM/$f" # copied: listmonk's file loader does not follow symbolic links
done
cat >"$LM/config.toml" <<EOF
[app]
address = "127.0.0.1:$LPORT"
[db]
host = "$PGHOST"
port = $PGPORT
user = "$PGUSER"
password = ""
database = "$LDB"
ssl_mode = "disable"
max_open = 25
max_idle = 25
max_lifetime = "300s"
EOF
(cd "$LM" && LISTMONK_ADMIN_USER=admin LISTMONK_ADMIN_PASSWORD=bench-$$-password LISTMONK_ADMIN_API_USER=bench \
	./../listmonk --install --idempotent --yes >install.log 2>&1) || { cat "$LM/install.log" >&2; exit 1; }
TOKEN=$(sed -n 's/^export LISTMONK_ADMIN_API_TOKEN="\(.*\)"$/\1/p' "$LM/install.log")
[ -n "$TOKEN" ] || { say "listmonk printed no API token:"; cat "$LM/install.log" >&2; exit 1; }
AUTH="Authorization: token bench:$TOKEN"

(cd "$LM" && exec ../listmonk >listmonk.log 2>&1) &
LM_PID=$!
for _ in $(seq 1 300); do
	curl -sf -H "$AUTH" "$LURL/api/health" >/dev/null 2>&1 && break
	kill -0 "$LM_PID" 2>/dev/null || { cat "$LM/listmonk.log" >&2; exit 1; }
	sleep 0.2
done
curl -sf -H "$AUTH" "$LURL/api/health" >/dev/null || { say "listmonk did not answer"; cat "$LM/listmonk.log" >&2; exit 1; }
LIST=$(curl -sf -H "$AUTH" -H 'Content-Type: application/json' \
	-d '{"name": "bench", "type": "private", "optin": "single"}' "$LURL/api/lists" |
	sed -n 's/^{"data":{"id":\([0-9]*\),.*/\1/p')
[ -n "$LIST" ] || { say "listmonk created no list"; exit 1; }

say "== listmonk import through /api/import/subscribers"
before=$(pg_bytes "$LDB")
ticks0=$(proc_ticks "$LM_PID")
t0=$(now)
curl -sf -H "$AUTH" -F "params={\"mode\":\"subscribe\",\"delim\":\",\",\"lists\":[$LIST],\"overwrite\":true}" \
	-F "file=@$W/listmonk.csv" "$LURL/api/import/subscribers" >"$W/lm-upload" ||
	{ say "listmonk refused the upload"; cat "$W/lm-upload" >&2; exit 1; }
status=
while :; do
	stats=$(curl -sf -H "$AUTH" "$LURL/api/import/subscribers")
	status=$(printf '%s' "$stats" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
	case $status in finished | failed | none) break ;; esac
	sleep 0.1
done
t1=$(now)
ticks1=$(proc_ticks "$LM_PID")
say "$stats"
[ "$status" = finished ] || { say "listmonk's import ended $status"; tail -20 "$LM/listmonk.log" >&2; exit 1; }
LM_RSS=$(awk '/^VmHWM:/ {print $2}' "/proc/$LM_PID/status")
after=$(pg_bytes "$LDB")
pg_tables "$LDB" listmonk-postgres >>"$TABLES"
imported=$(psql -d "$LDB" -Atc "SELECT count(*) FROM subscriber_lists WHERE list_id = $LIST")
[ "$imported" = "$ROWS" ] || { say "listmonk's list holds $imported subscribers, not $ROWS"; exit 1; }
echo "listmonk-postgres $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') $((after - before)) $LM_RSS $(awk -v a="$ticks0" -v b="$ticks1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz}')" >>"$RESULTS"

echo
echo "$ROWS people; tresor $TRESOR_VERSION, listmonk $LM_VERSION; $(date -u '+%Y-%m-%d %H:%M UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk -v n="$ROWS" '
	{ label[NR] = $1; sec[NR] = $2; bytes[NR] = $3; rss[NR] = $4; cpu[NR] = $5
	  if ($1 == "listmonk-postgres") { lsec = $2; lbytes = $3; lrss = $4 } }
	END {
		printf "%-26s %9s %9s %13s %10s %8s\n", "system", "seconds", "rows/s", "bytes/person", "peak RSS", "CPU s"
		for (i = 1; i <= NR; i++)
			printf "%-26s %9.2f %9.0f %13.0f %7.0f MB %8.2f\n", label[i], sec[i], n / sec[i], bytes[i] / n, rss[i] / 1024, cpu[i]
		print "(CPU s: the importing process only, user + system; the PostgreSQL server'"'"'s work is not in it)"
		print ""
		print "Tresor / listmonk (rows/s: above 1 is faster; bytes and RSS: below 1 is smaller)"
		printf "%-26s %9s %13s %10s\n", "", "rows/s", "bytes/person", "peak RSS"
		for (i = 1; i <= NR; i++) if (label[i] != "listmonk-postgres")
			printf "%-26s %9.2f %13.2f %10.2f\n", label[i], lsec / sec[i], bytes[i] / lbytes, rss[i] / lrss
	}' "$RESULTS"

echo
echo "Bytes per person by table (after the import; 10 or more)"
awk -v n="$ROWS" '$3 / n >= 10 {printf "%-26s %-32s %8.0f\n", $1, $2, $3 / n}' "$TABLES" | sort -k1,1 -k3,3nr
