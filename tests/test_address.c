/* addr_normalize(): what spreadsheets hold, what mail servers accept. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clarion.h"
#include "tap.h"

static void
good(const char *in, const char *want)
{
	char	*out = NULL, *cause = NULL;
	int	 rc;

	rc = addr_normalize(in, &out, &cause);
	is_int(rc, 0, "'%s' is accepted%s%s", in, cause ? ": " : "",
	    cause ? cause : "");
	is_str(out, want, "'%s' normalises to '%s'", in, want);
	free(out);
	free(cause);
}

static void
bad(const char *in, const char *why)
{
	char	*out = NULL, *cause = NULL;
	int	 rc;

	rc = addr_normalize(in, &out, &cause);
	is_int(rc, -1, "'%s' is refused", in);
	is_str(cause, why, "'%s': the reason", in);
	ok(out == NULL, "'%s': no output", in);
	free(out);
	free(cause);
}

int
main(void)
{
	char	 local[80], domain[300], addr[400];

	good("alice@example.org", "alice@example.org");
	good("  Alice.Smith@Example.ORG \t", "Alice.Smith@example.org");
	good("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk");
	good("o'brien@example.ie", "o'brien@example.ie");
	good("x!#$%&*/=?^_`{|}~-@example.org", "x!#$%&*/=?^_`{|}~-@example.org");
	good("\"john doe\"@example.org", "\"john doe\"@example.org");
	good("\"a@b\"@example.org", "\"a@b\"@example.org");
	good("\"quote\\\"d\"@example.org", "\"quote\\\"d\"@example.org");
	/* IDN: Unicode domains become punycode, lower-cased first. */
	good("jose@bücher.example", "jose@xn--bcher-kva.example");
	good("jose@BÜCHER.example", "jose@xn--bcher-kva.example");
	good("info@münchen.de", "info@xn--mnchen-3ya.de");
	good("a@xn--bcher-kva.example", "a@xn--bcher-kva.example");
	good("a@1.example.org", "a@1.example.org");

	bad("", "empty address");
	bad("   ", "empty address");
	bad("alice", "no @");
	bad("alice.example.org", "no @");
	bad("@example.org", "nothing before the @");
	bad("alice@", "no domain after the @");
	bad("alice@localhost", "the domain has no dot");
	bad("alice@@example.org", "'@' is not allowed in the local part "
	    "unless it is quoted");
	bad("a@b@example.org", "'@' is not allowed in the local part "
	    "unless it is quoted");
	bad("alice smith@example.org", "contains a space");
	bad("alice@exa mple.org", "contains a space");
	bad("ali\tce@example.org", "contains a control character");
	bad("al\x01ice@example.org", "contains a control character");
	bad("\"a\\\x01b\"@example.org", "contains a control character");
	bad("alice..smith@example.org", "two dots in a row in the local part");
	bad(".alice@example.org", "the local part starts or ends with a dot");
	bad("alice.@example.org", "the local part starts or ends with a dot");
	bad("alice@example..org", "empty label in the domain (two dots in a "
	    "row, or a dot at an end)");
	bad("alice@example.org.", "empty label in the domain (two dots in a "
	    "row, or a dot at an end)");
	bad("alice@.example.org", "empty label in the domain (two dots in a "
	    "row, or a dot at an end)");
	bad("alice@-example.org", "a domain label starts or ends with '-'");
	bad("alice@example_x.org", "'_' is not allowed in the domain");
	bad("alice@[192.0.2.1]", "address literals ([1.2.3.4]) are not "
	    "accepted");
	bad("alice@192.0.2.1", "the top-level domain is all digits");
	bad("<alice@example.org>", "'<' is not allowed in the local part "
	    "unless it is quoted");
	bad("alice(comment)@example.org", "'(' is not allowed in the local "
	    "part unless it is quoted");
	bad("\"unclosed@example.org", "unbalanced quote in the local part");
	bad("\"a\"b@example.org", "text between the quoted local part and "
	    "the @");
	bad("jösé@example.org", "non-ASCII characters in the local part are "
	    "not supported");
	bad("a@b\xff\xfe.org", "the domain is not a valid international "
	    "domain name (string encoding error)");

	/* Length limits: 64 local, 63 a label, 254 in all. */
	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(addr, sizeof addr, "%s@example.org", local);
	good(addr, addr);
	snprintf(addr, sizeof addr, "%sb@example.org", local);
	bad(addr, "the local part is longer than 64 characters");
	memset(domain, 'd', 63);
	strcpy(domain + 63, ".org");
	snprintf(addr, sizeof addr, "a@%s", domain);
	good(addr, addr);
	snprintf(addr, sizeof addr, "a@d%s", domain);
	bad(addr, "a domain label is longer than 63 characters");
	/* 4 labels of 60 + dots + ".org": 247 of domain, 251 in all: fine */
	snprintf(domain, sizeof domain, "%.60s.%.60s.%.60s.%.60s.org",
	    local, local, local, local);
	snprintf(addr, sizeof addr, "abc@%s", domain);
	good(addr, addr);
	snprintf(addr, sizeof addr, "abcdefgh@%s", domain);
	bad(addr, "the address is longer than 254 characters");
	return tap_done();
}
