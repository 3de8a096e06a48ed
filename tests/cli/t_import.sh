# t_import.sh - `kb import notes`, `kb import csv` and `kb import mail`: one
# commit per run, output lines and summary, idempotent re-runs, duplicates
# linked, dry runs, redaction, mail threads, and bad input (binary, invalid
# UTF-8, empty, missing, broken MIME) leaving the KB as it was.

fixture() { echo "$KB_SRCDIR/tests/fixtures/import/$1"; }

test_import_notes_one_commit() {
	make_kb kb
	cp "$(fixture notebook.txt)" notes.txt
	kbrun --kb kb --author "Ana Silva <ana@example.com>" import notes notes.txt
	expect_rc 0
	expect_out "created CHL-0001 notes.txt:1"
	expect_out "created CHL-0002 notes.txt:3"
	expect_out "created AHU-0001 notes.txt:5"
	expect_err "3 created, 0 duplicates linked, 0 skipped"
	[ "$(ncommits kb)" -eq 2 ] || fail "expected exactly one new commit"
	[ "$(commits kb | head -1)" = "Ana Silva <ana@example.com>|Import 3 notes from notes.txt" ] ||
		fail "$(commits kb)"
	grep -q '^status: draft' kb/$(case_path CHL-0001) || fail "not a draft"
	grep -q '^source: notes.txt' kb/$(case_path CHL-0001) || fail "no provenance"
	git -C kb status --porcelain | grep -q . && fail "work tree not clean" || true
}

test_import_rerun_adds_nothing() {
	make_kb kb
	cp "$(fixture notebook.txt)" notes.txt
	kbrun --kb kb import notes notes.txt
	expect_rc 0
	before=$(kb_state kb)
	kbrun --kb kb import notes notes.txt
	expect_rc 0
	expect_out "skipped notes.txt:1: already imported as CHL-0001"
	expect_err "0 created, 0 duplicates linked, 3 skipped"
	same_state kb "$before"
}

test_import_links_duplicate() {
	make_kb kb
	kbrun --kb kb import notes "$(fixture notebook.txt)"
	cp "$(fixture again.txt)" again.txt
	kbrun --kb kb import notes again.txt
	expect_rc 0
	expect_out "duplicate of CHL-0001 again.txt:1"
	expect_out "created BLR-0001 again.txt:3"
	grep -q '^duplicate_of: CHL-0001' kb/$(case_path CHL-0003) || fail "not linked"
	[ "$(ncommits kb)" -eq 3 ] || fail "expected one commit per run"
}

test_import_threshold_option() {
	make_kb kb
	kbrun --kb kb import notes "$(fixture notebook.txt)"
	cp "$(fixture again.txt)" again.txt
	kbrun --kb kb import notes --threshold 5 again.txt
	expect_rc 0
	expect_out "created CHL-0003 again.txt:1"
	kbrun --kb kb import notes --threshold nope again.txt
	expect_rc 2
}

test_import_dry_run_and_json() {
	make_kb kb
	before=$(kb_state kb)
	kbrun --kb kb import notes --dry-run "$(fixture notebook.txt)"
	expect_rc 0
	expect_out "would create CHL-0001"
	expect_err "nothing written"
	same_state kb "$before"
	kbrun --kb kb import notes --dry-run --json "$(fixture notebook.txt)"
	expect_rc 0
	json_check 'd["created"] == 3 and d["records"][2]["id"] == "AHU-0001" and d["commit"] is None'
	same_state kb "$before"
}

test_import_directory() {
	make_kb kb
	mkdir in
	cp "$(fixture notebook.txt)" in/a.txt
	cp "$(fixture again.txt)" in/b.md
	echo "not a note" >in/c.csv
	kbrun --kb kb import notes in
	expect_rc 0
	expect_out "in/a.txt:1"
	expect_out "in/b.md:3"
	expect_no_out "c.csv"
	commits kb | head -1 | grep -q "|Import 5 notes from 2 files$" || fail "$(commits kb)"
}

test_import_redacts() {
	make_kb kb
	git -C kb config -f kb.conf --add redact.customer "Acme Foods"
	git -C kb commit -qam "customers"
	kbrun --kb kb import notes "$(fixture personal.txt)"
	expect_rc 0
	git -C kb log -p -1 | grep -E '13812345678|li.ming@example.com|11010519491231002X|Acme Foods' &&
		fail "personal data reached the commit" || true
	grep -qF '[customer]' kb/$(case_path PMP-0001) || fail "customer not masked"
	kbrun --kb kb import notes --no-redact --split whole "$(fixture personal.txt)"
	expect_rc 0
}

test_import_bad_input_writes_nothing() {
	make_kb kb
	before=$(kb_state kb)
	printf 'ok\nPK\0\3\4\n' >bin.txt
	kbrun --kb kb import notes "$(fixture notebook.txt)" bin.txt
	expect_rc 2
	expect_err "bin.txt:2"
	expect_err "binary"
	same_state kb "$before"
	printf 'line one\ncaf\xe9\n' >latin1.txt
	kbrun --kb kb import notes latin1.txt
	expect_rc 2
	expect_err "latin1.txt:2"
	same_state kb "$before"
	: >empty.txt
	kbrun --kb kb import notes empty.txt
	expect_rc 1
	expect_out "skipped empty.txt:0: empty"
	same_state kb "$before"
	kbrun --kb kb import notes missing.txt
	expect_rc 1
	expect_err "missing.txt"
	kbrun --kb kb import nonsense x
	expect_rc 2
	kbrun --kb kb import notes --split sideways x
	expect_rc 2
	same_state kb "$before"
}

# ---- kb import csv ------------------------------------------------------

CSV_MAP=title=Summary,symptom=Problem,resolution=Fix,equipment=Asset

test_import_csv_rows_one_commit() {
	make_kb kb
	cp "$(fixture workorders.csv)" wo.csv
	kbrun --kb kb import csv --map "$CSV_MAP" wo.csv
	expect_rc 0
	expect_out "created CHL-0001 wo.csv:2"
	expect_out "created PMP-0001 wo.csv:3"
	expect_out "skipped wo.csv:4: ragged row: 2 fields, the header has 5"
	grep -q '^second line' kb/$(case_path CHL-0001) || fail "embedded newline lost"
	grep -q '13812345678' kb/$(case_path PMP-0001) && fail "phone not masked" || true
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Import 2 records from wo.csv" ] ||
		fail "$(commits kb)"
	before=$(kb_state kb)
	kbrun --kb kb import csv --map "$CSV_MAP" wo.csv
	expect_rc 1   # the ragged row still cannot be imported
	expect_out "already imported as CHL-0001"
	same_state kb "$before"
}

test_import_csv_bom_semicolon_gbk() {
	make_kb kb
	printf '\xEF\xBB\xBFSummary;Problem;Asset\nPump noise;"Bearing noise; vibration";Pump\n' >bom.csv
	kbrun --kb kb import csv --map title=Summary,symptom=Problem,equipment=Asset bom.csv
	expect_rc 0
	grep -q '^title: Pump noise' kb/$(case_path PMP-0001) || fail "BOM or ';' not handled"
	grep -q 'Bearing noise; vibration' kb/$(case_path PMP-0001) || fail "quoted ';' split"
	printf '标题\t现象\n冷机跳闸\t高压报警，冷凝风机停转\n' | iconv -f UTF-8 -t GBK >gbk.csv
	kbrun --kb kb import csv --map title=标题,symptom=现象 gbk.csv
	expect_rc 0
	grep -rq '高压报警，冷凝风机停转' kb/cases || fail "GBK not converted"
}

test_import_csv_config_map() {
	make_kb kb
	git -C kb config -f kb.conf import.csvMap "$CSV_MAP"
	git -C kb commit -qam "csv map"
	kbrun --kb kb import csv "$(fixture workorders.csv)"
	expect_rc 0
	expect_out "created CHL-0001"
}

test_import_csv_bad_input_writes_nothing() {
	make_kb kb
	before=$(kb_state kb)
	kbrun --kb kb import csv --map title=Summary,symptom=Nope "$(fixture workorders.csv)"
	expect_rc 2
	expect_err "no column 'Nope'"
	expect_err "workorders.csv"
	same_state kb "$before"
	printf 'Summary,Problem\nPump,"never closed\n' >open.csv
	kbrun --kb kb import csv --map title=Summary,symptom=Problem open.csv
	expect_rc 2
	expect_err "open.csv"
	expect_err "quote"
	same_state kb "$before"
	printf 'Summary,Problem\n\xff\xfe\xff,x\n' >bad.csv
	kbrun --kb kb import csv --map title=Summary bad.csv
	expect_rc 2
	expect_err "bad.csv"
	kbrun --kb kb import csv wo.csv
	expect_rc 2
	expect_err "no column map"
	kbrun --kb kb import csv --map bogus=Summary "$(fixture workorders.csv)"
	expect_rc 2
	expect_err "unknown case field 'bogus'"
	same_state kb "$before"
}

# A GBK export with a bad byte far into it (after the first 64 KiB chunk
# decided GB18030), and one cut inside a two-byte character.
test_import_csv_gbk_invalid_byte_writes_nothing() {
	command -v iconv >/dev/null || skip "no iconv(1) to write GBK"
	make_kb kb
	before=$(kb_state kb)
	{ printf 'Summary,Problem\n'; for i in $(seq 1 3000); do printf '水泵%d号跳闸,过载保护动作\n' "$i"; done; } |
		iconv -f UTF-8 -t GBK > gbk.csv
	printf 'bad \201\040 byte,x\nafter,row\n' >> gbk.csv
	kbrun --kb kb import csv --map title=Summary,symptom=Problem gbk.csv
	expect_rc 2
	expect_err "gbk.csv:3002: neither UTF-8 nor GB18030 (bad byte at offset "
	same_state kb "$before"
	{ printf 'Summary,Problem\n'; printf '水泵跳闸,过载\n' | iconv -f UTF-8 -t GBK; printf 'cut \201'; } > cut.csv
	kbrun --kb kb import csv --map title=Summary,symptom=Problem cut.csv
	expect_rc 2
	expect_err "cut.csv:3: neither UTF-8 nor GB18030"
	same_state kb "$before"
}

# ---- kb import mail -----------------------------------------------------

MBOX_HEAD='From a@x Mon Mar  4 08:00:00 2024
From: a@x
Subject: pump seal
Date: Mon, 04 Mar 2024 08:00:00 +0800
Message-ID: <m1@x>'

# A message cut inside its multipart body, an mbox with no message: refused.
# Bytes that are not UTF-8 in a part labelled UTF-8 (and a Latin-1 subject)
# are converted or dropped by GMime: the draft is valid UTF-8.  A message
# with a 2 MB line imports.
test_import_mail_truncated_invalid_utf8_huge() {
	make_kb kb
	before=$(kb_state kb)
	printf '%s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nseal repl' \
		"$MBOX_HEAD" > trunc.mbox
	kbrun --kb kb import mail trunc.mbox
	expect_rc 2
	expect_err "trunc.mbox:1: broken MIME structure in message 1"
	printf 'just text\nno mail\n' > nomail.mbox
	kbrun --kb kb import mail nomail.mbox
	expect_rc 2
	expect_err "nomail.mbox"
	same_state kb "$before"
	printf 'From a@x Mon Mar  4 08:00:00 2024\nFrom: a@x\nSubject: pump caf\351\nDate: Mon, 04 Mar 2024 08:00:00 +0800\nMessage-ID: <u1@x>\nContent-Type: text/plain; charset=utf-8\n\nPump bad \377\376 bytes, replaced seal.\n' > badutf8.mbox
	kbrun --kb kb import mail badutf8.mbox
	expect_rc 0
	find kb/cases -name '*.md' -exec iconv -f UTF-8 -t UTF-8 {} + >/dev/null || fail "a draft is not UTF-8"
	grep -rq 'replaced seal' kb/cases || fail "text lost"
	kbrun --kb kb validate
	expect_rc 0
	{ printf '%s\n\n' "$MBOX_HEAD" | sed 's/m1@x/h1@x/; s/pump seal/boiler log/'; head -c 2000000 /dev/zero | tr '\0' x; printf '\n'; } > huge.mbox
	kbrun --kb kb import mail huge.mbox
	expect_rc 0
	expect_err "1 created"
}


test_import_mail_threads_one_commit() {
	make_kb kb
	cp -r "$(fixture mail)" mail
	kbrun --kb kb import mail --dry-run mail
	expect_rc 0
	expect_out "would create CHL-0001 mail/thread/b-start.eml:1"
	[ "$(ncommits kb)" -eq 1 ] || fail "dry run wrote"
	kbrun --kb kb import mail mail
	expect_rc 0
	expect_out "created CHL-0001 mail/thread/b-start.eml:1"
	expect_out "created AHU-0001 mail/threads.mbox:1"
	expect_out "mail/threads.mbox:11"
	expect_out "mail/threads.mbox:49"
	expect_out "created CHL-0002 mail/zh-gb2312.eml:1"
	expect_err "5 created, 0 duplicates linked, 0 skipped"
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Import 5 threads from 5 files" ] ||
		fail "$(commits kb)"
	# the 3-message thread: one case, oldest first, quotes and HTML copy dropped
	f=kb/$(case_path CHL-0001)
	grep -q '^status: draft' $f || fail "not a draft"
	grep -q '^source: mail/thread/b-start.eml' $f || fail "no provenance"
	[ "$(grep -n 'tripped on HP again' $f | cut -d: -f1)" -lt \
	  "$(grep -n 'fan 2 motor burnt out\.' $f | cut -d: -f1)" ] || fail "not oldest first"
	grep -q 'running normally since — no trip' $f || fail "quoted-printable not decoded"
	grep -q '^>' $f && fail "quoted reply kept"
	grep -q 'HTML copy' $f && fail "text/html used beside text/plain"
	grep -q 'zhang@plant3' $f && fail "address not redacted"
	# GB2312 base64 body and RFC 2047 subject
	grep -q '2号风机电机烧毁，更换后正常' kb/$(case_path CHL-0002) || fail "GB2312 body not converted"
	grep -q '^3号楼2号冷机高压跳闸' kb/$(case_path CHL-0002) || fail "encoded subject lost"
	# mbox: GBK quoted-printable, 回复: joins by subject, HTML stripped
	grep -rq '轴承异响' kb/cases || fail "GBK quoted-printable not converted"
	grep -rq '复查：振动值正常' kb/cases || fail "回复: reply not in its thread"
	grep -rq 'low water alarm & burner lockout' kb/cases || fail "HTML not stripped"
	grep -rq 'color:red' kb/cases && fail "style kept"
	before=$(kb_state kb)
	kbrun --kb kb import mail mail
	expect_rc 0
	expect_out "already imported as CHL-0001"
	same_state kb "$before"
}

test_import_mail_bad_input_writes_nothing() {
	make_kb kb
	before=$(kb_state kb)
	cp "$(fixture mail-bad/broken-boundary.mbox)" broken.mbox
	kbrun --kb kb import mail "$(fixture mail/zh-gb2312.eml)" broken.mbox
	expect_rc 2
	expect_err "broken.mbox:9: broken MIME structure in message 2"
	expect_err "nothing imported"
	same_state kb "$before"
	: >empty.eml
	kbrun --kb kb import mail empty.eml
	expect_rc 2
	expect_err "empty.eml: empty file"
	printf 'From: a\n\001\000\002' >bin.eml
	kbrun --kb kb import mail bin.eml
	expect_rc 2
	expect_err "bin.eml: binary file"
	echo "no headers here" >plain.eml
	kbrun --kb kb import mail plain.eml
	expect_rc 2
	expect_err "plain.eml"
	kbrun --kb kb import mail missing.eml
	expect_rc 1
	same_state kb "$before"
}

# ---- kb import http -----------------------------------------------------

HTTP_MAP=title=summary,symptom=description,resolution=fix,equipment=asset

# Start tests/fixtures/import/http/server.py on a free 127.0.0.1 port for at
# most 40 s; sets PORT and SERVER_PID.
start_server() {
	command -v python3 >/dev/null || skip "no python3 for the test HTTP server"
	python3 "$(fixture http/server.py)" "$PWD/port" 40 &
	SERVER_PID=$!
	for _ in $(seq 50); do [ -f port ] && break; sleep 0.1; done
	[ -f port ] || fail "test HTTP server did not start"
	PORT=$(cat port)
}

test_import_http_pages_token_one_commit() {
	make_kb kb
	start_server
	url="http://127.0.0.1:$PORT/orders"
	kbrun --kb kb import http --map "$HTTP_MAP" --page-param page "$url"
	expect_rc 2
	expect_err "HTTP status 401"
	export KB_TEST_TOKEN=s3cret
	kbrun --kb kb import http --map "$HTTP_MAP" --token-env KB_TEST_TOKEN --page-param page --dry-run "$url"
	expect_rc 0
	[ "$(ncommits kb)" -eq 1 ] || fail "dry run wrote"
	kbrun --kb kb import http --map "$HTTP_MAP" --token-env KB_TEST_TOKEN --page-param page "$url"
	expect_rc 0
	expect_out "created CHL-0001 $url:1"
	expect_out "created PMP-0001 $url:2"
	expect_out "created AHU-0001 $url:3"
	[ "$(commits kb | head -1)" = "Test User <test@example.com>|Import 3 records from $url" ] ||
		fail "$(commits kb)"
	grep -q '^title: Chiller 2 high pressure trip' kb/$(case_path CHL-0001) || fail "title not mapped"
	grep -q '更换轴承' kb/$(case_path PMP-0001) || fail "UTF-8 lost"
	grep -rq 'zhang@plant3' kb/cases && fail "address not redacted"
	before=$(kb_state kb)
	kbrun --kb kb import http --map "$HTTP_MAP" --token-env KB_TEST_TOKEN --page-param page "$url"
	expect_rc 0
	expect_out "already imported as CHL-0001"
	same_state kb "$before"
	kbrun --kb kb import http --map "$HTTP_MAP" --token-env KB_NO_SUCH_VAR "$url"
	expect_rc 2
	expect_err "'KB_NO_SUCH_VAR'"
	kill "$SERVER_PID" 2>/dev/null || true
}

test_import_http_bad_sources_write_nothing() {
	make_kb kb
	start_server
	before=$(kb_state kb)
	base="http://127.0.0.1:$PORT"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/500"
	expect_rc 2
	expect_err "$base/500: HTTP status 500 (after retries)"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/html"
	expect_rc 2
	expect_err "not JSON"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/truncated"
	expect_rc 2
	expect_err "$base/truncated: request failed"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/loop"
	expect_rc 2
	expect_err "redirects"
	kbrun --kb kb import http --map "$HTTP_MAP" --timeout 0.5 "$base/slow"
	expect_rc 2
	expect_err "timed out"
	kbrun --kb kb import http --map bogus=x "$base/orders"
	expect_rc 2
	expect_err "unknown case field 'bogus'"
	same_state kb "$before"
	kill "$SERVER_PID" 2>/dev/null || true
}

# More bad sources (issue 4's list): a body that stalls, empty, binary and
# non-UTF-8 bodies, JSON without records, a refused connection, a
# connection closed without a response, a body over the 64 MiB cap, and a
# 500 on page 2 after page 1 was read: each a message naming the URL,
# exit 2, no commit.
test_import_http_more_bad_sources_write_nothing() {
	make_kb kb
	start_server
	before=$(kb_state kb)
	base="http://127.0.0.1:$PORT"
	kbrun --kb kb import http --map "$HTTP_MAP" --timeout 0.5 "$base/stall"
	expect_rc 2
	expect_err "$base/stall: request failed: Operation timed out"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/empty"
	expect_rc 2
	expect_err "$base/empty: not JSON"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/binary"
	expect_rc 2
	expect_err "$base/binary: not JSON"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/badutf8"
	expect_rc 2
	expect_err "$base/badutf8: not JSON (unable to decode byte 0xe9"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/object"
	expect_rc 2
	expect_err "$base/object: no array of records"
	kbrun --kb kb import http --map "$HTTP_MAP" "http://127.0.0.1:1/orders"
	expect_rc 2
	expect_err "http://127.0.0.1:1/orders: request failed: "
	expect_err "(after retries)"
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/close"
	expect_rc 2
	expect_err "$base/close: request failed: "
	kbrun --kb kb import http --map "$HTTP_MAP" "$base/huge"
	expect_rc 2
	expect_err "$base/huge: response too large (over 67108864 bytes)"
	kbrun --kb kb import http --map "$HTTP_MAP" --page-param page "$base/flaky"
	expect_rc 2
	expect_err "$base/flaky?page=2: HTTP status 500 (after retries)"
	expect_err "nothing imported"
	same_state kb "$before"
	kill "$SERVER_PID" 2>/dev/null || true
}
