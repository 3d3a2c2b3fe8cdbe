/*
 * Email addresses as officers type them into spreadsheets: trimmed, the
 * domain lower-cased and in punycode, checked against the practical subset
 * of RFC 5321/5322 that mail servers accept. The local part keeps its
 * case: it belongs to the receiving server, which may care.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "clarion.h"

#define ADDR_LOCAL_MAX	64
#define ADDR_DOMAIN_MAX	255
#define ADDR_MAX	254
#define ADDR_LABEL_MAX	63

/* RFC 5322 atext, without the ALPHA and DIGIT ranges. */
static int
addr_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
addr_local_dotatom(const char *s, size_t len, char **cause)
{
	size_t	 i;

	if (s[0] == '.' || s[len - 1] == '.') {
		xasprintf(cause, "the local part starts or ends with a dot");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.') {
				xasprintf(cause, "two dots in a row in the "
				    "local part");
				return -1;
			}
			continue;
		}
		if ((unsigned char)s[i] >= 0x80) {
			xasprintf(cause, "non-ASCII characters in the local "
			    "part are not supported");
			return -1;
		}
		if (!addr_atext(s[i])) {
			xasprintf(cause, "'%c' is not allowed in the local part "
			    "unless it is quoted", s[i]);
			return -1;
		}
	}
	return 0;
}

/* A quoted local part: "..." with \-escapes, printable ASCII inside. */
static int
addr_local_quoted(const char *s, size_t len, char **cause)
{
	size_t	 i;

	if (len < 2 || s[len - 1] != '"') {
		xasprintf(cause, "unbalanced quote in the local part");
		return -1;
	}
	for (i = 1; i < len - 1; i++) {
		if ((unsigned char)s[i] >= 0x80) {
			xasprintf(cause, "non-ASCII characters in the local "
			    "part are not supported");
			return -1;
		}
		if (s[i] == '\\') {
			if (++i == len - 1) {
				xasprintf(cause, "unbalanced quote in the "
				    "local part");
				return -1;
			}
			continue;
		}
		if (s[i] == '"') {
			xasprintf(cause, "unbalanced quote in the local part");
			return -1;
		}
	}
	return 0;
}

/* Finds the @ that separates local part and domain, skipping quotes. */
static const char *
addr_find_at(const char *s, char **cause)
{
	const char	*p = s;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
		}
		if (*p == '\0') {
			xasprintf(cause, "unbalanced quote in the local part");
			return NULL;
		}
		p++;
		if (*p != '@') {
			xasprintf(cause, *p == '\0' ? "no @" :
			    "text between the quoted local part and the @");
			return NULL;
		}
		return p;
	}
	if ((p = strrchr(s, '@')) == NULL)
		xasprintf(cause, "no @");
	return p;
}

static int
addr_label(const char *l, size_t len, char **cause)
{
	size_t	 i;

	if (len == 0) {
		xasprintf(cause, "empty label in the domain (two dots in a "
		    "row, or a dot at an end)");
		return -1;
	}
	if (len > ADDR_LABEL_MAX) {
		xasprintf(cause, "a domain label is longer than %d characters",
		    ADDR_LABEL_MAX);
		return -1;
	}
	if (l[0] == '-' || l[len - 1] == '-') {
		xasprintf(cause, "a domain label starts or ends with '-'");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!((l[i] >= 'a' && l[i] <= 'z') ||
		    (l[i] >= '0' && l[i] <= '9') || l[i] == '-')) {
			xasprintf(cause, "'%c' is not allowed in the domain",
			    l[i]);
			return -1;
		}
	}
	return 0;
}

/* d is ASCII and lower-case here. */
static int
addr_domain_check(const char *d, char **cause)
{
	const char	*p, *dot;

	if (*d == '\0') {
		xasprintf(cause, "no domain after the @");
		return -1;
	}
	if (*d == '[') {
		xasprintf(cause, "address literals ([1.2.3.4]) are not "
		    "accepted");
		return -1;
	}
	if (strlen(d) > ADDR_DOMAIN_MAX) {
		xasprintf(cause, "the domain is longer than %d characters",
		    ADDR_DOMAIN_MAX);
		return -1;
	}
	if (strchr(d, '.') == NULL) {
		xasprintf(cause, "the domain has no dot");
		return -1;
	}
	for (p = d;; p = dot + 1) {
		dot = strchr(p, '.');
		if (addr_label(p, dot != NULL ? (size_t)(dot - p) : strlen(p),
		    cause) == -1)
			return -1;
		if (dot == NULL)
			break;
	}
	if (strspn(p, "0123456789") == strlen(p)) {
		xasprintf(cause, "the top-level domain is all digits");
		return -1;
	}
	return 0;
}

static int
addr_has_8bit(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return 1;
	}
	return 0;
}

/* Lower-cases the domain; an IDN becomes its punycode (A-label) form. */
static int
addr_domain(const char *in, char **out, char **cause)
{
	char	*ascii, *p;
	int	 rc;

	if (addr_has_8bit(in)) {
		rc = idn2_to_ascii_8z(in, &ascii,
		    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			xasprintf(cause, "the domain is not a valid "
			    "international domain name (%s)",
			    idn2_strerror(rc));
			return -1;
		}
		*out = xstrdup(ascii);
		idn2_free(ascii);
	} else
		*out = xstrdup(in);
	for (p = *out; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	}
	if (addr_domain_check(*out, cause) == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
addr_check_chars(const char *s, char **cause)
{
	int	 quoted = 0;

	/* Every byte, escaped or not: a quoted "\^A" must not pass. */
	if (str_has_ctl(s)) {
		xasprintf(cause, "contains a control character");
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '\\' && quoted && s[1] != '\0' &&
		    (unsigned char)s[1] >= 0x20 && s[1] != 0x7f)
			s++;	/* security (fuzz_address): an escaped CR or
				 * LF is still a control character */
		else if (*s == ' ' && !quoted) {
			xasprintf(cause, "contains a space");
			return -1;
		}
	}
	return 0;
}

/*
 * Normalises an address: trims white space, lower-cases the domain (and
 * converts an IDN to punycode), and validates. On failure *cause says why,
 * without repeating the address.
 */
int
addr_normalize(const char *in, char **out, char **cause)
{
	char		*copy, *s, *domain;
	const char	*at;
	size_t		 llen;
	int		 rc;

	*out = NULL;
	copy = xstrdup(in);
	s = str_trim(copy);
	rc = -1;
	if (*s == '\0') {
		xasprintf(cause, "empty address");
		goto out;
	}
	if (addr_check_chars(s, cause) == -1 ||
	    (at = addr_find_at(s, cause)) == NULL)
		goto out;
	llen = at - s;
	if (llen == 0) {
		xasprintf(cause, "nothing before the @");
		goto out;
	}
	if (llen > ADDR_LOCAL_MAX) {
		xasprintf(cause, "the local part is longer than %d characters",
		    ADDR_LOCAL_MAX);
		goto out;
	}
	if ((*s == '"' ? addr_local_quoted(s, llen, cause) :
	    addr_local_dotatom(s, llen, cause)) == -1)
		goto out;
	if (addr_domain(at + 1, &domain, cause) == -1)
		goto out;
	xasprintf(out, "%.*s@%s", (int)llen, s, domain);
	free(domain);
	if (strlen(*out) > ADDR_MAX) {
		xasprintf(cause, "the address is longer than %d characters",
		    ADDR_MAX);
		free(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}
