# t_audit.sh - `kb audit`: coverage, health, risk (with --leaving), activity
# on the sample KB as tables, JSON and CSV; bad input and usage errors.

test_audit_risk_names_single_person_knowledge() {
	sample_kb kb
	kbrun --kb kb audit risk
	expect_rc 0
	printf '%s\n' "$OUT" | grep -qE '^fire alarm panel +\(all\) +8 +1 +single person +刘强 \(8\)$' ||
		fail "fire alarm panel row: $OUT"
	printf '%s\n' "$OUT" | grep -qE '^cooling tower +\(all\) +8 +1 +single person +Tom Baker \(8\)$' ||
		fail "cooling tower row: $OUT"
	printf '%s\n' "$OUT" | grep -qE '^chiller +\(all\) +7 +2 +' || fail "chiller row: $OUT"
}

test_audit_risk_leaving() {
	sample_kb kb
	kbrun --kb kb audit risk --leaving "tom baker"
	expect_rc 0
	expect_out "cooling tower"
	expect_out "only author"
	expect_no_out "fire alarm panel"
	kbrun --kb kb audit risk --leaving liu.qiang@example.com --json
	expect_rc 0
	json_check 'd["leaving"] == "刘强" and any(a["equipment"] == "fire alarm panel" and a["failure_mode"] is None and a["leaving_role"] == "only" for a in d["areas"])'
	kbrun --kb kb audit risk --leaving "Nobody Here"
	expect_rc 1
	expect_err "no author matches 'Nobody Here'"
}

test_audit_risk_json_and_csv() {
	sample_kb kb
	kbrun --kb kb audit risk --json
	expect_rc 0
	json_check 'd["schema_version"] == 1 and d["audit"] == "risk"'
	json_check '[a["sole_author"] for a in d["areas"] if a["failure_mode"] is None and a["sole_author"]] == ["Tom Baker", "刘强"]'
	kbrun --kb kb audit risk --csv
	expect_rc 0
	[ "$(printf '%s\n' "$OUT" | head -n 1 | tr -d '\r')" = "equipment,failure_mode,validated,bus_factor,risk,authors" ] ||
		fail "csv header: $OUT"
	printf '%s\n' "$OUT" | grep -q '^fire alarm panel,(all),8,1,single person,刘强 (8)' ||
		fail "csv row: $OUT"
}

test_audit_coverage() {
	sample_kb kb
	kbrun --kb kb audit coverage
	expect_rc 0
	printf '%s\n' "$OUT" | head -n 1 | grep -qE '^equipment +failure_mode +validated +draft' || fail "header: $OUT"
	expect_out "empty combinations"
	kbrun --kb kb audit coverage --by equipment --json
	expect_rc 0
	json_check 'd["fields"] == ["equipment"] and len(d["cells"]) == 10 and sum(c["total"] for c in d["cells"]) == 90'
	json_check '[c["validated"] for c in d["cells"] if c["values"] == ["cooling tower"]] == [8]'
	kbrun --kb kb audit coverage --by site,equipment --csv
	expect_rc 0
	printf '%s\n' "$OUT" | head -n 1 | tr -d '\r' | grep -qx 'site,equipment,validated,draft,archived,obsolete,unknown,total,note' ||
		fail "csv header: $OUT"
}

test_audit_health() {
	sample_kb kb
	kbrun --kb kb audit health
	expect_rc 0
	expect_out "mean quality score"
	printf '%s\n' "$OUT" | grep -qE '^AHU-0001 +validated +[0-9]+ ' || fail "row: $OUT"
	kbrun --kb kb audit health --json --months 1000 --days 10000
	expect_rc 0
	json_check 'd["audit"] == "health" and len(d["cases"]) == 90 and d["summary"]["stale"] == 0 and d["summary"]["old-draft"] == 0'
	json_check 'all(0 <= c["score"] <= 100 for c in d["cases"])'
	kbrun --kb kb audit health --csv
	expect_rc 0
	printf '%s\n' "$OUT" | head -n 1 | tr -d '\r' | grep -qx 'id,status,score,age_days,findings,detail' || fail "csv header"
}

test_audit_health_bad_input() {
	sample_kb kb
	write_case kb/cases/PMP-0900.md PMP-0900 "Pump odd" validatd "updated: 2999-01-01" "links: [NOPE-0001]"
	write_case kb/cases/PMP-0901.md PMP-0901 "CHILLER TRIPS ON HIGH HEAD PRESSURE AFTER RESTART"
	printf -- '---\nid: X-1\ntitle: a\n\ttags: b\n---\n' >kb/cases/X-1.md
	kbrun --kb kb audit health --json
	expect_rc 0
	expect_err "cases/X-1.md:4:"
	json_check '[sorted(c["findings"]) for c in d["cases"] if c["id"] == "PMP-0900"] == [["bad-date", "broken-link", "unknown-status"]]'
	json_check '[(c["findings"], c["detail"]) for c in d["cases"] if c["id"] == "PMP-0901"] == [(["old-draft", "duplicate"], "same title as %cCHL-0001%c" % (39, 39))]'
}

test_audit_misspelt_fields_and_bad_dates() {
	make_kb kb
	write_case kb/cases/PMP-0001.md PMP-0001 "Pump one" draft "failure-mode: seal leak"
	sed -i 's/^equipment:/equipmnet:/; s/^status:/satus:/; s/^created: .*/created: last week/' kb/cases/PMP-0001.md
	write_case kb/cases/PMP-0002.md PMP-0002 "Pump two" validated "updated: 2024-02-30" "sites: Plant 3" "site: Plant 3"
	kbrun --kb kb audit coverage --json
	expect_rc 0
	expect_err "cases/PMP-0001.md:4: warning: unknown field 'equipmnet': did you mean 'equipment'? (counted as missing 'equipment')"
	expect_err "cases/PMP-0001.md:8: warning: unknown field 'failure-mode': did you mean 'failure_mode'?"
	expect_err "cases/PMP-0001.md:5: warning: unknown field 'satus': did you mean 'status'?"
	case "$ERR" in *sites*) fail "warned about 'sites' beside 'site': $ERR";; esac
	json_check 'sorted((c["values"][0], c["total"]) for c in d["cells"] if c["total"]) == [("", 1), ("pump", 1)]'
	kbrun --kb kb audit health --json
	expect_rc 0
	json_check '[c["detail"] for c in d["cases"] if c["id"] == "PMP-0001"] == ["no status; created %clast week%c is not a date (YYYY-MM-DD)" % (39, 39)]'
	json_check '[c["findings"] for c in d["cases"] if c["id"] == "PMP-0002"] == [["stale", "bad-date", "duplicate"]] and all(c["age_days"] is None for c in d["cases"] if c["id"] == "PMP-0001")'
}

test_audit_follows_renamed_cases() {
	make_kb kb
	write_case c1.md PMP-0001 "Pump trips on overload" validated "reviewer: R <r@example.com>"
	sed -i '/^author:/d' c1.md
	kbrun --kb kb --author "Ann Lee <ann@example.com>" add c1.md
	expect_rc 0
	mkdir kb/cases/pump
	git -C kb mv cases/PMP-0001.md cases/pump/PMP-0001.md
	git -C kb -c user.name="Mover Max" -c user.email=max@example.com commit -q -m "Move pump cases"
	kbrun --kb kb audit risk --json
	expect_rc 0
	json_check 'd["areas"][0]["sole_author"] == "Ann Lee"'
	kbrun --kb kb audit activity --json
	expect_rc 0
	json_check '[(c["person"], c["created"], c["edited"]) for c in d["contributions"] if c["created"] or c["edited"]] == [("Ann Lee", 1, 0)]'
}

test_audit_activity() {
	sample_kb kb
	kbrun --kb kb audit activity
	expect_rc 0
	printf '%s\n' "$OUT" | head -n 1 | grep -qE '^month +person +created +edited +reviewed$' || fail "header: $OUT"
	expect_out "participation"
	expect_out "new cases per month"
	kbrun --kb kb audit activity --json
	expect_rc 0
	json_check 'sum(c["created"] for c in d["contributions"]) == 90 and sum(n["created"] for n in d["new_cases"]) == 90'
	kbrun --kb kb audit activity --csv
	expect_rc 0
	printf '%s\n' "$OUT" | head -n 1 | tr -d '\r' | grep -qx 'month,person,created,edited,reviewed' || fail "csv header"
}

test_audit_mailmap_and_edits() {
	make_kb kb
	write_case c1.md PMP-0001 "Pump trips on overload" validated "reviewer: R <r@example.com>"
	sed -i '/^author:/d' c1.md
	kbrun --kb kb --author "Ann Lee <ann@example.com>" add c1.md
	expect_rc 0
	write_case c2.md PMP-0002 "Pump seal leaks" validated "reviewer: R <r@example.com>"
	sed -i '/^author:/d' c2.md
	kbrun --kb kb --author "ann l <ann@old.example>" add c2.md
	expect_rc 0
	kbrun --kb kb audit risk --json
	json_check '[a["bus_factor"] for a in d["areas"] if a["failure_mode"] is None] == [2] and len(d["areas"][0]["authors"]) == 2'
	printf 'Ann Lee <ann@example.com> ann l <ann@old.example>\n' >kb/.mailmap
	kbrun --kb kb audit risk --json
	expect_rc 0
	json_check 'd["areas"][0]["sole_author"] == "Ann Lee" and d["areas"][0]["validated"] == 2'
}

test_audit_empty_kb_and_usage() {
	make_kb kb
	for a in coverage health risk activity; do
		kbrun --kb kb audit $a
		expect_rc 0
		kbrun --kb kb audit $a --json
		expect_rc 0
		json_check 'd["schema_version"] == 1'
	done
	kbrun --kb kb audit
	expect_rc 2
	kbrun --kb kb audit nonsense
	expect_rc 2
	expect_err "unknown audit 'nonsense'"
	kbrun --kb kb audit coverage --by a,b,c
	expect_rc 2
	kbrun --kb kb audit health --leaving x
	expect_rc 2
	kbrun --kb kb audit risk --json --csv
	expect_rc 2
	kbrun --kb kb audit health --days 0
	expect_rc 2
	kbrun --kb kb audit --help
	expect_rc 0
	expect_out "usage: kb audit coverage"
}

test_audit_shallow_clone() {
	sample_kb kb
	write_case kb/cases/PMP-0901.md PMP-0901
	kbrun --kb kb add kb/cases/PMP-0901.md
	git clone -q --depth 1 "file://$PWD/kb" shallow 2>/dev/null || skip "git cannot make a shallow clone"
	kbrun --kb shallow audit risk
	expect_rc 0
	expect_out "fire alarm panel"
	expect_err "history is incomplete (shallow clone or missing objects): authorship may be partial"
}

test_audit_report_html() {
	unset KB_NO_GAPS_LOG
	sample_kb kb
	kbrun --kb kb search flux capacitor overheating
	expect_rc 1
	kbrun --kb kb audit report --html report.html
	expect_rc 0
	[ -s report.html ] || fail "no report"
	grep -q '<h2>Gaps: lookups that found nothing useful</h2>' report.html || fail "no gaps section"
	grep -q '<td>flux capacitor overheating</td>' report.html || fail "gaps lack the wording"
	grep -q '<svg' report.html || fail "no chart"
	grep -q 'aria-label="coverage heat map"' report.html || fail "no heat map"
	# 90 failure modes: tiles per equipment, labelled with the validated count
	grep -q '>basin freezing (1)</text>' report.html || fail "heat map tiles lack labels"
	grep -q '>reviewed</text>' report.html || fail "activity chart lacks its legend"
	grep -q '@page{size:A4' report.html || fail "no print CSS"
	grep -q '刘强' report.html || fail "risk lacks 刘强"
	if grep -qiE '<script|<link|https?:|url\(' report.html; then fail "external reference"; fi
	python3 -c "import html.parser,sys; html.parser.HTMLParser().feed(open('report.html', encoding='utf-8').read())" ||
		fail "html does not parse"
	kbrun --kb kb audit report
	expect_rc 2
	kbrun --kb kb audit risk --html x.html
	expect_rc 2
	command -v chromium >/dev/null ||
		skip "chromium is not installed (scripts/install-deps.sh could not install it): report checked without a browser"
	# the report and, as a yardstick, an empty page, rendered the same way
	printf '<!DOCTYPE html><html><body></body></html>\n' >blank.html
	for p in report blank; do
		chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
			--screenshot="$PWD/$p.png" --window-size=1240,1754 "file://$PWD/$p.html" \
			>/dev/null 2>"$p.log" || fail "chromium failed on $p.html: $(tail -3 "$p.log")"
		[ -s "$p.png" ] || fail "no screenshot of $p.html"
	done
	# loaded without errors: no console message, no failed request
	if grep -E 'CONSOLE|net::ERR_|Failed to load|Not allowed to load' report.log; then
		fail "the page logged errors"
	fi
	# not blank: a PNG of charts and tables is far larger than one of an empty page
	[ "$(stat -c %s report.png)" -gt $((5 * $(stat -c %s blank.png))) ] ||
		fail "blank screenshot: $(stat -c %s report.png) bytes, empty page $(stat -c %s blank.png)"
	chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$PWD/report.html" 2>/dev/null >dom.html ||
		fail "chromium could not load the report"
	grep -q 'Knowledge audit' dom.html && grep -q '<svg' dom.html || fail "page did not load: $(head -c 300 dom.html)"
}

# ---- gaps ----------------------------------------------------------------

test_audit_gaps_groups_failed_lookups() {
	unset KB_NO_GAPS_LOG
	sample_kb kb
	kbrun --kb kb search flux capacitor overheating
	expect_rc 1
	kbrun --kb kb search overheating of the flux capacitor
	expect_rc 1
	kbrun --kb kb search chiller high head pressure trip
	expect_rc 0
	kbrun --kb kb similar zyxxy quorbl fnord wibble
	kbrun --kb kb similar zyxxy quorbl fnord
	kbrun --kb kb similar --case CHL-0001
	[ -f kb/.git/kb/gaps.log ] || fail "no log under .git"
	[ "$(wc -l <kb/.git/kb/gaps.log)" -eq 4 ] || fail "log: $(cat kb/.git/kb/gaps.log)"
	[ -z "$(git -C kb status --porcelain)" ] || fail "git status: $(git -C kb status --porcelain)"
	kbrun --kb kb audit gaps
	expect_rc 0
	printf '%s\n' "$OUT" | grep -qE '^ +2 +[0-9T:Z-]+ +[0-9T:Z-]+ +flux capacitor overheating +overheating of the flux capacitor$' ||
		fail "search group: $OUT"
	printf '%s\n' "$OUT" | grep -qE '^ +2 .* zyxxy quorbl fnord wibble +zyxxy quorbl fnord$' ||
		fail "similar group: $OUT"
	expect_out "4 lookups without a useful answer, 2 groups of wording"
	kbrun --kb kb audit gaps --json
	expect_rc 0
	json_check 'd["schema_version"] == 1 and d["audit"] == "gaps" and d["events"] == 4'
	json_check '[g["count"] for g in d["groups"]] == [2, 2] and [g["other_wordings"] for g in d["groups"] if g["wording"] == "flux capacitor overheating"] == [["overheating of the flux capacitor"]]'
	kbrun --kb kb audit gaps --csv
	expect_rc 0
	[ "$(printf '%s\n' "$OUT" | head -n 1 | tr -d '\r')" = "count,first_seen,last_seen,wording,other_wordings" ] ||
		fail "csv header: $OUT"
	kbrun --kb kb audit gaps --since 2999-01-01
	expect_rc 0
	expect_out "no gaps logged"
}

test_audit_gaps_export_and_opt_out() {
	unset KB_NO_GAPS_LOG
	make_kb kb
	kbrun --kb kb search 冷机 高压 跳闸
	expect_rc 1
	kbrun --kb kb audit gaps --export gaps.jsonl
	expect_rc 0
	expect_err "wrote 1 gap events to 'gaps.jsonl'"
	python3 -c "import json,sys
rows = [json.loads(l) for l in open('gaps.jsonl', encoding='utf-8')]
assert len(rows) == 1 and rows[0]['query'] == '冷机 高压 跳闸' and rows[0]['command'] == 'search', rows" ||
		fail "export: $(cat gaps.jsonl)"
	KB_NO_GAPS_LOG=1 "$KB" --kb kb search nothing like this >/dev/null 2>&1
	[ "$(wc -l <kb/.git/kb/gaps.log)" -eq 1 ] || fail "KB_NO_GAPS_LOG ignored"
	printf 'garbage line\n' >>kb/.git/kb/gaps.log
	kbrun --kb kb audit gaps
	expect_rc 0
	expect_err "malformed line skipped"
	expect_out "冷机 高压 跳闸"
	kbrun --kb kb audit gaps --since 2024-13-40
	expect_rc 2
	kbrun --kb kb audit risk --export x
	expect_rc 2
}

test_audit_gaps_unwritable_log_never_fails_search() {
	unset KB_NO_GAPS_LOG
	make_kb kb
	kbrun --kb kb search warmup
	expect_rc 1
	rm -f kb/.git/kb/gaps.log
	mkdir kb/.git/kb/gaps.log   # cannot be opened for writing, even by root
	kbrun --kb kb search something absent
	expect_rc 1
	expect_err "no cases match 'something absent'"
	kbrun --kb kb similar something absent
	expect_rc 1
}

# all four audits as JSON, with their warnings
all_audits() {
	local a
	for a in coverage health risk activity; do
		"$KB" --kb "$1" audit $a --json 2>&1 || echo "rc=$?"
	done
}

test_audit_case_cache_same_output() {
	sample_kb kb
	# back-dated files: their stat data in the cache is not racy
	find kb/cases -name '*.md' -exec touch -d 2024-01-01 {} +
	rm -f kb/.git/kb/audit-cases
	cold=$(all_audits kb)
	[ -s kb/.git/kb/audit-cases ] || fail "no case cache written"
	warm=$(all_audits kb)
	[ "$warm" = "$cold" ] || fail "warm output differs from cold"
	# an uncommitted edit is seen
	f=$(find kb/cases -name '*.md' | sort | head -n 1)
	sed -i 's/^status: .*/status: bogus/; s/^equipment:/equipmnet:/' "$f"
	edited=$(all_audits kb)
	[ "$edited" != "$cold" ] || fail "the edit of $f was not seen"
	case "$edited" in *"status 'bogus'"*) ;; *) fail "no bogus status: $edited";; esac
	case "$edited" in *"unknown field 'equipmnet'"*) ;; *) fail "no misspelt field warning";; esac
	rm kb/.git/kb/audit-cases
	[ "$(all_audits kb)" = "$edited" ] || fail "cold output after the edit differs"
	# a corrupt cache is ignored and rewritten
	printf 'kb-audit-cases 9\tgarbage\n\\' > kb/.git/kb/audit-cases
	[ "$(all_audits kb)" = "$edited" ] || fail "output with a corrupt cache differs"
	! grep -q garbage kb/.git/kb/audit-cases || fail "cache not rewritten"
	[ "$(all_audits kb)" = "$edited" ] || fail "output with the rewritten cache differs"
}
