#!/bin/sh
# PEOPLE: lists, subscribers, the CSV import, segments, suppression and
# the GDPR duties, driven through the real clarion binary.
. "$top_srcdir/tests/lib/common.sh"
command -v sqlite3 >/dev/null 2>&1 || skip "the sqlite3 shell is needed to inspect the database"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "python3 is needed to read JSON output"
D="$top_srcdir/tests/data/people"
DB="$T/clarion.db"
make_config "$T/c.conf"
C() { "$CLARION" -c "$T/c.conf" "$@"; }
q() { sqlite3 "$DB" "$1"; }
# addrs: the addresses in `sub ls --json` output on stdin, comma-separated
addrs() { "$PY" -c 'import json,sys; print(",".join(r["address"] for r in json.load(sys.stdin)))'; }
C init >/dev/null || { fail "init"; done_testing; exit 1; }
cd "$T" || exit 1

# --- lists -------------------------------------------------------------
out=$(C list create members --from Sec@Example.ORG --owner chair@example.org \
    --display-name "Leeds North CLP" --footer "Leeds North Labour Party"); rc=$?
expect_eq "list create exits 0" "$rc" 0
expect_eq "and says so" "$out" "list members created"
out=$(C list create members --from a@example.org --owner b@example.org 2>&1); rc=$?
expect_eq "a second list of the same name: 65" "$rc" 65
expect_eq "and why" "$out" "clarion: a list named 'members' already exists"
out=$(C list create "Big List" --from a@example.org --owner b@example.org 2>&1); rc=$?
expect_eq "a bad list name: 65" "$rc" 65
expect_eq "and why" "$out" "clarion: 'Big List': a list name is 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
out=$(C list create other --from nope --owner b@example.org 2>&1); rc=$?
expect_eq "a bad From address: 65" "$rc" 65
expect_eq "and why" "$out" "clarion: from address 'nope': no @"
out=$(C list create other --from a@example.org 2>&1); rc=$?
expect_eq "create without --owner: 64" "$rc" 64
out=$(C list show members); rc=$?
expect_eq "list show exits 0" "$rc" 0
expect_eq "list show" "$out" "name:          members
display name:  Leeds North CLP
from:          Sec@example.org
owner:         chair@example.org
members:       0 subscribed, 0 unsubscribed, 0 held
footer:
Leeds North Labour Party"
C list create temp --from a@example.org --owner b@example.org >/dev/null
out=$(C list rename temp branch); rc=$?
expect_eq "rename exits 0" "$rc" 0
expect_eq "and says so" "$out" "list temp renamed to branch"
out=$(C list show temp 2>&1); rc=$?
expect_eq "the old name is gone (65)" "$rc" 65
expect_eq "and why" "$out" "clarion: no list named 'temp' (see clarion list ls)"
out=$(C list edit branch --display-name "GMB Branch 12" --owner sec@gmb.example); rc=$?
expect_eq "edit exits 0" "$rc" 0
expect_eq "edit kept" "$(C --json list show branch | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["display_name"], d["owner"])')" "GMB Branch 12 sec@gmb.example"
out=$(C list ls); rc=$?
expect_eq "list ls" "$out" "NAME                 SUBSCRIBED UNSUBSCRIBED  FROM                           DISPLAY NAME
branch                        0            0  a@example.org                  GMB Branch 12
members                       0            0  Sec@example.org                Leeds North CLP"
q "INSERT INTO items (name, list_id, kind, template, subject, created, updated) VALUES ('picket-alert', (SELECT id FROM lists WHERE name = 'branch'), 'notice', 'notice', 'Picket', 0, 0)"
out=$(C list delete branch 2>&1); rc=$?
expect_eq "delete refused while an item uses the list (65)" "$rc" 65
expect_eq "and why" "$out" "clarion: branch: the list is used by 1 item (picket-alert); delete them or move them to another list first"
q "DELETE FROM items WHERE name = 'picket-alert'"
C sub add x@example.org --list branch >/dev/null
out=$(C list delete branch 2>&1); rc=$?
expect_eq "delete refused while it has members (65)" "$rc" 65
expect_eq "and why" "$out" "clarion: branch: the list has 1 member (with their consent records); add --force to delete them too"
out=$(C list delete branch --force); rc=$?
expect_eq "delete --force exits 0" "$rc" 0
expect_eq "and says so" "$out" "list branch deleted"
expect_eq "its memberships went with it" "$(q 'SELECT count(*) FROM memberships')" 0

# --- the messy CSV -------------------------------------------------------
# Harry unsubscribed from members earlier; Ivy's address is suppressed.
C sub add harry@example.org --list members >/dev/null
C sub unsubscribe harry@example.org --list members >/dev/null
out=$(C sub suppress ivy@example.org --reason "asked by phone"); rc=$?
expect_eq "suppress exits 0" "$rc" 0
expect_eq "and says so" "$out" "suppressed ivy@example.org"
cp "$D/members.csv" "$D/members-semicolon.csv" .
report="members.csv:6: invalid address \"not-an-address\": no @
members.csv:7: invalid address \"eve@@example.org\": '@' is not allowed in the local part unless it is quoted
members.csv:8: missing address
members.csv:9: duplicate of line 2, merged
members.csv:11: wrong number of fields: expected 6, found 4
members.csv:12: refused: harry@example.org unsubscribed from members earlier
members.csv:13: refused: ivy@example.org is suppressed (manual)
members.csv:14: invalid UTF-8 in field 2 (save the file as \"CSV UTF-8\")
members.csv:17: a NUL byte (is this really a CSV file?)
members.csv:18: a quoted field is never closed
members.csv: 15 rows
  added:      5
  updated:    0
  unchanged:  0
  merged:     1 (duplicates within the file)
  refused:    2 (1 unsubscribed earlier, 1 suppressed)
  invalid:    7"
counts() { q "SELECT (SELECT count(*) FROM subscribers) || '/' || (SELECT count(*) FROM memberships) || '/' || (SELECT count(*) FROM subscriber_attrs)"; }
before=$(counts)
out=$(C sub import --list members members.csv --dry-run --consent "membership form 2026"); rc=$?
expect_eq "dry run exits 1 (some rows would be refused, the rest would go in)" "$rc" 1
expect_eq "dry run: the report a user sees" "$out" "$report
dry run: nothing was written"
expect_eq "dry run wrote nothing" "$(counts)" "$before"
out=$(C sub import --list members members.csv --strict); rc=$?
expect_eq "strict with bad rows exits 65" "$rc" 65
expect_eq "strict: the report" "$out" "$report
strict: nothing was imported (9 bad rows)"
expect_eq "strict wrote nothing" "$(counts)" "$before"
out=$(C sub import --list members members.csv --consent "membership form 2026" 2>"$T/err"); rc=$?
expect_eq "import with some rows refused exits 1 (the rest are in)" "$rc" 1
expect_eq "import: the report a user sees" "$out" "$report
imported into members"
expect_eq "nothing on stderr for a small file" "$(cat "$T/err")" ""
expect_eq "the good rows are in" "$(q "SELECT group_concat(address, ' ') FROM (SELECT s.address FROM subscribers s JOIN memberships m ON m.subscriber_id = s.id WHERE m.status = 'subscribed' ORDER BY s.id)")" \
    "ann@example.org Bob@example.org carol@example.org jose@xn--bcher-kva.example kate@example.org"
expect_eq "trimmed, domain lower-cased, local part kept" "$(q "SELECT name FROM subscribers WHERE address = 'Bob@example.org'")" "Bob Vale, Jr"
expect_eq "IDN domain in punycode, UTF-8 name" "$(q "SELECT name FROM subscribers WHERE address = 'jose@xn--bcher-kva.example'")" "José García"
expect_eq "a line break inside a quoted field is kept (as LF)" "$(q "SELECT value = 'Lives at' || char(10) || '12 High St, Leeds' FROM subscriber_attrs a JOIN subscribers s ON s.id = a.subscriber_id WHERE s.address = 'carol@example.org' AND key = 'notes'")" 1
expect_eq "the duplicate (ANN@) merged into one person, later row's name" "$(q "SELECT count(*) || ' ' || max(name) FROM subscribers WHERE lower(address) = 'ann@example.org'")" "1 Ann Hill-Smith"
expect_eq "doubled quotes" "$(q "SELECT name FROM subscribers WHERE address = 'kate@example.org'")" 'Kate O"Neil'
expect_eq "source, consent and time recorded" "$(q "SELECT source || '|' || consent || '|' || (consent_at > 0) FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.address = 'carol@example.org'")" "import members.csv|membership form 2026|1"
expect_eq "Harry stays unsubscribed" "$(q "SELECT status FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.address = 'harry@example.org'")" unsubscribed
expect_eq "Ivy was not added" "$(q "SELECT count(*) FROM subscribers WHERE address = 'ivy@example.org'")" 0
out=$(C sub import --list members members.csv); rc=$?
expect_contains "importing again doubles nobody" "$out" "  added:      0
  updated:    1
  unchanged:  4
  merged:     1 (duplicates within the file)"
expect_eq "still five members" "$(q "SELECT count(*) FROM memberships WHERE status = 'subscribed'")" 5
out=$(C sub import --list members members-semicolon.csv); rc=$?
expect_eq "';' file with one bad row: 1 (the rest are in)" "$rc" 1
expect_eq "';' separated: the report" "$out" "members-semicolon.csv:5: invalid address \"bad address\": contains a space
members-semicolon.csv: 4 rows
  added:      2
  updated:    1
  unchanged:  0
  merged:     0 (duplicates within the file)
  refused:    0 (0 unsubscribed earlier, 0 suppressed)
  invalid:    1
imported into members"
expect_eq "';' file: a quoted comma and semicolon kept" "$(q "SELECT s.name || '|' || a.value FROM subscribers s JOIN subscriber_attrs a ON a.subscriber_id = s.id WHERE s.address IN ('liz@example.org', 'max@example.org') AND a.key = 'ward' ORDER BY s.id")" "Park, Liz|Hillside
Max Hall|St Mark's; East"
expect_eq "an existing person updated, attributes merged" "$(C --json sub show ann@example.org | "$PY" -c 'import json,sys; d=json.load(sys.stdin); a=d["attributes"]; print(a["union"], a["branch"], a["ward"])')" "Unison North Hillside"
printf 'email,name\nfresh@example.org,Fresh\n' > clean.csv
out=$(C sub import --list members clean.csv); rc=$?
expect_eq "a clean file exits 0" "$rc" 0
out=$(C sub import --list members --map "mail=email,who=name,ward=-,Branch Name=branch" /dev/null 2>&1); rc=$?
expect_eq "an empty file: 65" "$rc" 65
expect_eq "and why" "$out" "clarion: /dev/null:1: the file is empty"
printf 'mail;who;ward;Branch Name\nmapped@example.org;Map Ped;Hillside;East\n' > mapped.csv
out=$(C sub import --list members --map "mail=email,who=name,ward=-,Branch Name=branch" mapped.csv); rc=$?
expect_eq "--map: exits 0" "$rc" 0
expect_eq "--map renames and ignores columns" "$(C --json sub show mapped@example.org | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["subscriber"]["name"], sorted(d["attributes"].items()))')" "Map Ped [('branch', 'East')]"
out=$(C sub import --list members --map "nosuch=email" mapped.csv 2>&1); rc=$?
expect_eq "--map of a missing column: 64" "$rc" 64
expect_eq "and why" "$out" "clarion: --map: mapped.csv has no column 'nosuch'"
printf 'who,ward\nA,B\n' > noemail.csv
out=$(C sub import --list members noemail.csv 2>&1); rc=$?
expect_eq "no email column: 65" "$rc" 65
expect_eq "and why" "$out" "clarion: noemail.csv: no email column in the header line; name one 'email' or use --map COLUMN=email"
out=$(C sub import --list members missing.csv 2>&1); rc=$?
expect_eq "a missing file: 66" "$rc" 66

# --- export-all: a CSV that is safe in a spreadsheet ----------------------
out=$(C sub export-all --list members -o "$T/out.csv"); rc=$?
expect_eq "export-all exits 0" "$rc" 0
expect_eq "and says how many" "$out" "$T/out.csv: 9 members of members"
expect_eq "written mode 600" "$(stat -c %a "$T/out.csv")" 600
expect_eq "header: email, name, then the attributes" "$(head -1 "$T/out.csv" | tr -d '\r')" "email,name,branch,notes,union,ward"
expect_eq "a formula is defused with a quote" "$(grep -a '^kate@' "$T/out.csv" | tr -d '\r')" "kate@example.org,\"Kate O\"\"Neil\",North,\"'=HYPERLINK(\"\"http://evil.example\"\")\",,Riverside"
expect_eq "it reads back as CSV, line breaks and all" "$("$PY" -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=""))); print(len(r), [x[3] for x in r if x[0]=="carol@example.org"][0] == "Lives at\n12 High St, Leeds")' "$T/out.csv")" "10 True"

# --- segments --------------------------------------------------------------
seg() { C --json sub ls --list members --segment "$1" | addrs; }
expect_eq "segment: ward" "$(seg "ward = 'Hillside'")" "ann@example.org,Bob@example.org,liz@example.org"
expect_eq "segment: and, !=, a missing attribute counts as ''" "$(seg "ward = 'Hillside' and branch != 'North'")" "Bob@example.org,liz@example.org"
expect_eq "segment: in" "$(seg "union in ('GMB', \"Unite\")")" "liz@example.org,max@example.org"
expect_eq "segment: not, has, parentheses" "$(seg "not has branch and not (ward = 'Hillside')")" "max@example.org,fresh@example.org"
expect_eq "segment: name, with a double quote inside single quotes" "$(seg "name = 'Kate O\"Neil'")" "kate@example.org"
expect_eq "segment: address" "$(seg "address = 'JOSE@xn--bcher-kva.example'")" "jose@xn--bcher-kva.example"
expect_eq "segment: an unsubscribed person is never selected" "$(seg "address = 'harry@example.org'")" ""
out=$(C sub ls --list members --segment "ward = 'Riverside'"); rc=$?
expect_eq "sub ls --segment: the table" "$out" "ADDRESS                          NAME                     STATUS       ATTRIBUTES
carol@example.org                Carol Lee                subscribed   branch=North notes=Lives at\\n12 High St, Leeds ward=Riverside
jose@xn--bcher-kva.example       José García              subscribed   branch=South ward=Riverside
kate@example.org                 Kate O\"Neil              subscribed   branch=North notes==HYPERLINK(\"http://evil.example\") ward=Riverside
3 subscribers"
snapshot() { q "SELECT count(*) FROM subscribers"; q "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name" | tr '\n' ' '; }
snap=$(snapshot)
bad_seg() { # bad_seg EXPR MESSAGE
	out=$(C sub ls --list members --segment "$1" 2>&1); rc=$?
	expect_eq "refused segment: $1" "$rc:$out" "65:clarion: $2"
}
bad_seg "ward = 'x' or 1=1; DROP TABLE subscribers; --" "segment: 1:17: expected a quoted value, found '1'"
bad_seg "ward = 'x'; DROP TABLE subscribers; --" "segment: 1:11: unexpected ';'"
bad_seg "ward = 'x' OR '1'='1'" "segment: 1:15: expected a field name, found the value '1'"
bad_seg "ward = 'Hillside" "segment: 1:8: a quoted value is not closed (missing ')"
bad_seg "ward = Hillside" "segment: 1:8: expected a quoted value, found 'Hillside'"
bad_seg "ward == 'x'" "segment: 1:7: expected a quoted value, found '='"
bad_seg "ward LIKE '%'" "segment: 1:6: expected '=', '!=' or 'in', found 'LIKE'"
bad_seg "(ward = 'x'" "segment: 1:12: expected ')', found the end"
bad_seg "ward = 'x') or (1" "segment: 1:11: expected 'and', 'or' or the end, found ')'"
expect_eq "no state change after refused segments" "$(snapshot)" "$snap"

# --- subscribers ---------------------------------------------------------------
out=$(C sub add "a b@example.org" --list members 2>&1); rc=$?
expect_eq "an invalid address: 65" "$rc:$out" "65:clarion: invalid address 'a b@example.org': contains a space"
out=$(C sub add "  New.Person@Example.ORG " --list members --name "New Person" --attr "Ward Name=Hillside" --consent "stall, 2026-11-21"); rc=$?
expect_eq "sub add" "$rc:$out" "0:added New.Person@example.org to members"
out=$(C sub add new.person@example.org --list members); rc=$?
expect_eq "sub add again, another case: the same person" "$rc:$out" "0:new.person@example.org is already on members"
out=$(C sub add harry@example.org --list members 2>&1); rc=$?
expect_eq "sub add of someone who unsubscribed: refused" "$rc:$out" "65:clarion: harry@example.org unsubscribed from members earlier; only 'clarion sub resubscribe harry@example.org --list members --consent TEXT' brings them back"
out=$(C sub add ivy@example.org --list members 2>&1); rc=$?
expect_eq "sub add of a suppressed address: refused" "$rc:$out" "65:clarion: ivy@example.org is suppressed (manual); see 'clarion sub unsuppress'"
out=$(C sub show new.person@example.org); rc=$?
expect_contains "sub show" "$out" "address:     New.Person@example.org
name:        New Person
attributes:  ward_name=Hillside
suppressed:  no
memberships:
  members          subscribed   since "
expect_contains "sub show: consent" "$out" "source: cli, consent: stall, 2026-11-21"
out=$(C sub edit carol@example.org --name "Carol Lee-Ray" --attr ward= --attr union=GMB); rc=$?
expect_eq "sub edit" "$rc:$out" "0:carol@example.org updated"
expect_eq "sub edit: name set, attribute removed and added" "$(C --json sub show carol@example.org | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["subscriber"]["name"], sorted(d["attributes"]))')" "Carol Lee-Ray ['branch', 'notes', 'union']"
out=$(C sub edit carol@example.org --address carol.ray@example.org); rc=$?
expect_eq "sub edit --address" "$rc:$out" "0:carol@example.org is now carol.ray@example.org"
out=$(C sub edit carol.ray@example.org --address ann@example.org 2>&1); rc=$?
expect_eq "sub edit --address to someone else's: refused" "$rc:$out" "65:clarion: ann@example.org is already a subscriber"
expect_eq "sub search: name" "$(C --json sub search Vale | addrs)" "Bob@example.org"
expect_eq "sub search: address part" "$(C --json sub search XN--BCHER | addrs)" "jose@xn--bcher-kva.example"
expect_eq "sub search: attribute value" "$(C --json sub search "St Mark" | addrs)" "max@example.org"
expect_eq "sub search --attr (case-insensitive value)" "$(C --json sub search --attr union=gmb | addrs)" "carol.ray@example.org,liz@example.org"
expect_eq "sub search: % and _ are literal" "$(C --json sub search "100%_" | addrs)" ""
out=$(C sub remove max@example.org --list members); rc=$?
expect_eq "sub remove" "$rc:$out" "0:removed max@example.org from members"
out=$(C sub remove max@example.org --list members 2>&1); rc=$?
expect_eq "sub remove again" "$rc:$out" "65:clarion: max@example.org is not on members"
out=$(C sub show nobody@example.org 2>&1); rc=$?
expect_eq "sub show of a stranger" "$rc:$out" "65:clarion: nobody@example.org is not a subscriber"

# --- unsubscribe, resubscribe, suppression ---------------------------------------
out=$(C sub resubscribe harry@example.org --list members 2>&1); rc=$?
expect_eq "resubscribe without consent: 64" "$rc" 64
out=$(C sub resubscribe harry@example.org --list members --consent "email of 2026-11-20: wants back in"); rc=$?
expect_eq "resubscribe with consent" "$rc:$out" "0:resubscribed harry@example.org to members"
expect_eq "resubscribe records the consent" "$(q "SELECT status || '|' || consent FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.address = 'harry@example.org'")" "subscribed|email of 2026-11-20: wants back in"
out=$(C sub unsubscribe fresh@example.org --list members 2>&1); rc=$?
expect_eq "unsubscribe from one list" "$rc:$out" "0:unsubscribed fresh@example.org from members"
out=$(C sub unsubscribe fresh@example.org --list members 2>&1); rc=$?
expect_eq "unsubscribe twice from a list" "$rc:$out" "65:clarion: fresh@example.org already unsubscribed from members"
expect_eq "unsubscribing from one list does not suppress" "$(C --json sub show fresh@example.org | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["suppression"])')" "None"
out=$(C sub unsubscribe max@example.org --list members 2>&1); rc=$?
expect_eq "unsubscribe from a list one is not on" "$rc:$out" "65:clarion: max@example.org is not on members"
out=$(C sub unsubscribe kate@example.org); rc=$?
expect_eq "unsubscribe everywhere" "$rc:$out" "0:unsubscribed kate@example.org from every list and suppressed the address"
expect_contains "and she is suppressed" "$(C sub show kate@example.org)" "suppressed:  yes (unsubscribed, since "
out=$(C sub resubscribe kate@example.org --list members --consent "phone" 2>&1); rc=$?
expect_eq "resubscribe of a suppressed address: refused" "$rc:$out" "65:clarion: kate@example.org is suppressed (unsubscribed); lift that first with 'clarion sub unsuppress kate@example.org --consent TEXT'"
printf 'email\nKATE@example.org\n' > kate.csv
out=$(C sub import --list members kate.csv); rc=$?
expect_contains "an import cannot bring her back, whatever the case" "$rc:$out" "65:kate.csv:2: refused: KATE@example.org is suppressed (unsubscribed)"
C sub suppress ann@example.org >/dev/null
expect_eq "sub ls marks suppressed people, members or not" "$(C --json sub ls --list members | "$PY" -c 'import json,sys; print([(r["address"], r["status"]) for r in json.load(sys.stdin) if r["suppressed"]])')" "[('ann@example.org', 'subscribed'), ('kate@example.org', 'unsubscribed')]"
out=$(C sub unsuppress ivy@example.org 2>&1); rc=$?
expect_eq "unsuppress without consent: 64" "$rc" 64
out=$(C sub unsuppress IVY@example.org --consent "letter of 2026-11-19"); rc=$?
expect_eq "unsuppress with consent" "$rc:$out" "0:IVY@example.org is no longer suppressed (consent: letter of 2026-11-19)"
out=$(C sub add ivy@example.org --list members); rc=$?
expect_eq "and she can be added" "$rc:$out" "0:added ivy@example.org to members"
expect_eq "the consent for lifting it is recorded" "$(C sub export ivy@example.org | "$PY" -c 'import json,sys; print([(c["action"], c["consent"]) for c in json.load(sys.stdin)["consent_log"]])')" "[('unsuppressed', 'letter of 2026-11-19')]"

# --- GDPR: export and erasure --------------------------------------------------
Z=zoe.erase@example.org
C sub add $Z --list members --name "Zoe Erase" --attr ward=Riverside --consent "form" >/dev/null
q "INSERT INTO items (name, list_id, kind, template, subject, created, updated) VALUES ('bulletin', (SELECT id FROM lists WHERE name = 'members'), 'bulletin', 'bulletin', 'News', 0, 0);
INSERT INTO runs (item_id, due_at, state, created) VALUES ((SELECT id FROM items WHERE name = 'bulletin'), 1790000000, 'done', 0);
INSERT INTO deliveries (run_id, subscriber_id, address, state, last_code, last_reply, created) VALUES ((SELECT max(id) FROM runs), (SELECT id FROM subscribers WHERE address = '$Z'), '$Z', 'failed', 550, '550 5.1.1 <$Z>: user unknown', 0);
INSERT INTO inbound (mailbox, uidvalidity, uid, received_at, class, delivery_id, subscriber_id, reason, folder) VALUES ('INBOX', 1, 7, 0, 'bounce-hard', (SELECT max(id) FROM deliveries), (SELECT id FROM subscribers WHERE address = '$Z'), '<$Z>: user unknown', 'Clarion/Bounces');
INSERT INTO bounces (subscriber_id, delivery_id, at, hard, status, reason, source) VALUES ((SELECT id FROM subscribers WHERE address = '$Z'), (SELECT max(id) FROM deliveries), 0, 1, '5.1.1', 'user unknown', 'dsn');
INSERT INTO sysmail (kind, to_addr, message, state, created) VALUES ('unsubscribed', '$Z', CAST('To: $Z' AS BLOB), 'sent', 0);
INSERT INTO sysmail (kind, to_addr, message, state, created) VALUES ('forward', 'chair@example.org', CAST('From: Zoe <$Z>' AS BLOB), 'queued', 0);"
out=$(C sub export $Z); rc=$?
expect_eq "sub export exits 0" "$rc" 0
expect_eq "sub export: everything held, as JSON" "$(printf '%s' "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["subscriber"]["name"], d["attributes"], d["memberships"][0]["list"], d["memberships"][0]["consent"], d["deliveries"][0]["item"], d["deliveries"][0]["state"], d["deliveries"][0]["last_reply"], len(d["inbound"]), d["inbound"][0]["class"], len(d["bounces"]), [(m["kind"], m["message"]) for m in d["sysmail"]], d["suppression"])')" \
    "Zoe Erase {'ward': 'Riverside'} members form bulletin failed 550 5.1.1 <$Z>: user unknown 1 bounce-hard 1 [('unsubscribed', 'To: $Z'), ('forward', 'From: Zoe <$Z>')] None"
held() { cat "$DB" "$DB-wal" 2>/dev/null | grep -a -c "zoe.erase"; }
check "before erasure the address is in the database files" [ "$(held)" -gt 0 ]
out=$(C sub erase $Z); rc=$?
expect_eq "sub erase" "$rc:$out" "0:erased $Z: subscriber deleted; 1 deliveries, 1 inbound records and 2 system messages anonymised, 1 bounces deleted; a keyed hash is kept so they cannot be imported again"
expect_eq "after erasure and the checkpoint, the address is in neither the database nor its -wal" "$(held)" 0
expect_eq "the -wal is empty" "$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)" 0
expect_eq "delivery kept, personal fields gone" "$(q "SELECT state || '|' || quote(address) || '|' || quote(last_reply) || '|' || quote(subscriber_id) FROM deliveries")" "failed|NULL|NULL|NULL"
expect_eq "inbound record kept, unlinked" "$(q "SELECT class || '|' || quote(subscriber_id) || '|' || quote(reason) FROM inbound")" "bounce-hard|NULL|NULL"
expect_eq "system mail: addressee and message gone; the queued forward withdrawn" "$(q "SELECT kind || '|' || quote(to_addr) || '|' || quote(message) || '|' || state FROM sysmail ORDER BY id")" "unsubscribed|NULL|NULL|sent
forward|'chair@example.org'|NULL|failed"
expect_eq "only a keyed hash remains" "$(q "SELECT reason || '|' || quote(address) || '|' || length(address_hash) FROM suppressions WHERE reason = 'erased'")" "erased|NULL|64"
expect_eq "attributes and bounces gone" "$(q "SELECT (SELECT count(*) FROM subscriber_attrs WHERE value = 'Riverside' AND subscriber_id NOT IN (SELECT id FROM subscribers)) + (SELECT count(*) FROM bounces)")" 0
printf 'email,name\nZoe.Erase@Example.org,Zoe\n' > zoe.csv
out=$(C sub import --list members zoe.csv); rc=$?
expect_contains "an erased person cannot be re-imported" "$rc:$out" "65:zoe.csv:2: refused: Zoe.Erase@example.org is suppressed (erased)"
out=$(C sub add $Z --list members 2>&1); rc=$?
expect_eq "nor added by hand" "$rc:$out" "65:clarion: $Z is suppressed (erased); see 'clarion sub unsuppress'"
expect_eq "sub export after erasure: only the suppression" "$(C sub export $Z | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["subscriber"], d["deliveries"], d["suppression"]["reason"])')" "None [] erased"

# --- a big file: progress on stderr -----------------------------------------
C list create bulk --from sec@example.org --owner chair@example.org >/dev/null
awk 'BEGIN { print "email,ward"; for (i = 1; i <= 10001; i++) printf "bulk%d@example.org,W%d\n", i, i % 7 }' > big.csv
out=$(C sub import --list bulk big.csv --progress 2>"$T/err"); rc=$?
expect_eq "a big file imports" "$rc" 0
expect_eq "with --progress, the last progress line on stderr" "$(tail -n 1 "$T/err")" "big.csv: 10001 rows read, 10001 added, 0 refused"
expect_contains "and the counts" "$out" "big.csv: 10001 rows
  added:      10001"
expect_eq "segment over the big list" "$(C --json sub ls --list bulk --segment "ward in ('W3')" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1429

out=$(C sub --help); rc=$?
expect_contains "sub --help" "$rc:$out" "0:usage: clarion sub add ADDRESS --list NAME"
out=$(C sub frob 2>&1); rc=$?
expect_eq "an unknown subcommand: 64" "$rc" 64
done_testing
