#!/bin/sh
# Every HTML part Clarion sends, in a real browser engine (issue 20):
# headless Chromium renders each at 375 px (a phone) and 800 px wide;
# nothing may be wider than the viewport (scrollWidth, and every element's
# right edge). The newsletter's photo is a real 1600x1200 image, as a
# phone takes. Screenshots are kept in tests/render-screenshots/.
. "$top_srcdir/tests/lib/common.sh"
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] ||
	skip "chromium and chromium-driver are not installed"
/usr/bin/python3 -c 'import selenium' 2>/dev/null ||
	skip "python3-selenium is not installed"
SHOTS="$top_builddir/tests/render-screenshots"
mkdir -p "$SHOTS"
# A phone photo, 1600x1200, PNG.
/usr/bin/python3 - "$T/photo.png" <<'PY'
import struct, sys, zlib
w, h = 1600, 1200
row = b"\0" + bytes([200, 60, 60]) * w
data = zlib.compress(row * h, 9)
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", data) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY
files=
for n in bulletin bulletin-15 message newsletter newsletter-image notice reminder; do
	"$top_builddir/tests/mime_dump" "$top_srcdir/tests/data/compose/$n.json" > "$T/$n.eml" ||
		{ fail "$n: message built"; continue; }
	/usr/bin/python3 - "$T/$n.eml" "$T/$n.html" "$T/photo.png" <<'PY'
import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
h = m.get_body(("html",)).get_content()
h = re.sub(r'src="https://[^"]*"', 'src="file://%s"' % sys.argv[3], h)
open(sys.argv[2], "w").write(h)
PY
	files="$files $T/$n.html"
done
/usr/bin/python3 "$top_srcdir/tests/lib/render-check.py" "$SHOTS" $files > "$T/render.out" 2>"$T/render.err" ||
	skip "chromium could not run: $(tail -1 "$T/render.err")"
while read -r line; do
	case "$line" in
	*": ok") pass "$line" ;;
	*) fail "$line" ;;
	esac
done < "$T/render.out"
expect_eq "every part at both widths" "$(wc -l < "$T/render.out")" 14
echo "# screenshots: $SHOTS"
done_testing
