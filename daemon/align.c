/*
 * DMARC alignment of a list's From address. The envelope sender is
 * bounces+TOKEN@domain and the DKIM signature is for dkim.domain (or
 * domain), so a From in another organisational domain fails DMARC, and
 * Gmail, Yahoo and Outlook.com reject or junk bulk mail that fails it.
 * A From at a free-mail provider can never pass: those publish
 * p=reject or p=quarantine and nobody else may sign for them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clarion.h"

/* Mailbox providers: a From there is refused. "yahoo." matches any TLD. */
static const char *freemail[] = {
	"gmail.com", "googlemail.com", "yahoo.", "ymail.com", "rocketmail.com",
	"outlook.com", "outlook.", "hotmail.", "live.", "msn.com",
	"aol.com", "aol.co.uk", "aim.com", "icloud.com", "me.com", "mac.com",
	"gmx.", "web.de", "proton.me", "protonmail.com", "protonmail.ch",
	"pm.me", "zoho.com", "yandex.", "mail.com", "mail.ru", "btinternet.com",
	"sky.com", "virginmedia.com", "talktalk.net", "tutanota.com",
	"tuta.io", "fastmail.com", "fastmail.fm", "gmx.co.uk",
};

/*
 * Public suffixes of more than one label that lists here are likely to
 * use (the Public Suffix List in brief: libpsl is not a dependency).
 */
static const char *suffix2[] = {
	"co.uk", "org.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "ac.uk",
	"gov.uk", "sch.uk", "nhs.uk", "police.uk", "com.au", "org.au",
	"net.au", "co.nz", "org.nz", "co.za", "org.za", "co.ie", "com.br",
	"co.jp", "co.in", "org.in",
};

/* The domain part of an address (the whole string if it has no @). */
const char *
align_domain(const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return at != NULL ? at + 1 : addr;
}

int
align_freemail(const char *domain)
{
	size_t	 i, n;

	for (i = 0; i < nitems(freemail); i++) {
		n = strlen(freemail[i]);
		if (freemail[i][n - 1] == '.' ?
		    strncasecmp(domain, freemail[i], n) == 0 &&
		    strchr(domain + n, '.') == NULL :
		    strcasecmp(domain, freemail[i]) == 0)
			return 1;
	}
	/* yahoo.co.uk, hotmail.co.uk: the provider under a two-label suffix */
	for (i = 0; i < nitems(freemail); i++) {
		n = strlen(freemail[i]);
		if (freemail[i][n - 1] == '.' &&
		    strncasecmp(domain, freemail[i], n) == 0 &&
		    align_org_domain(domain) == domain)
			return 1;
	}
	return 0;
}

/* The last n labels of domain, or all of it if it has no more. */
static const char *
last_labels(const char *domain, int n)
{
	const char	*p = domain + strlen(domain);

	for (; p > domain; p--)
		if (p[-1] == '.' && --n == 0)
			return p;
	return domain;
}

/* The organisational domain: a pointer into domain. */
const char *
align_org_domain(const char *domain)
{
	const char	*two = last_labels(domain, 2);
	size_t		 i;

	for (i = 0; i < nitems(suffix2); i++)
		if (strcasecmp(two, suffix2[i]) == 0)
			return last_labels(domain, 3);
	return two;
}

/*
 * Checks a list's From address against the configured domain: 0 fine,
 * 1 a warning in *cause (not aligned), -1 refused in *cause (free-mail).
 */
int
align_from_check(const struct config *conf, const char *from, char **cause)
{
	const char	*fd = align_domain(from);
	const char	*sign = conf->dkim.domain != NULL ? conf->dkim.domain :
			    conf->domain;

	if (align_freemail(fd)) {
		xasprintf(cause, "From %s: %s is a free-mail provider; its "
		    "DMARC policy makes Gmail, Yahoo and Outlook.com reject "
		    "bulk mail from it sent by anyone else: use an address "
		    "at %s", from, fd, conf->domain);
		return -1;
	}
	if (strcasecmp(align_org_domain(fd), align_org_domain(sign)) != 0 ||
	    strcasecmp(align_org_domain(fd),
	    align_org_domain(conf->domain)) != 0) {
		xasprintf(cause, "From %s is not in %s, the domain of the "
		    "bounce address%s: DMARC fails unless another signature "
		    "aligns with it", from, align_org_domain(conf->domain),
		    conf->dkim.key_file != NULL ? " and the DKIM signature" :
		    "");
		return 1;
	}
	return 0;
}
