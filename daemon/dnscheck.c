/*
 * clarion check-config --dns: the records receivers look up before they
 * accept bulk mail: SPF for the envelope domain, the DKIM key for the
 * configured selector, DMARC for each From domain's organisational
 * domain. Only reports: DNS is for the domain's owner to change. When
 * the resolver cannot even give the root's name servers, the machine is
 * offline and the check is skipped, not failed.
 */
#include "config.h"

#include <sys/types.h>

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clarion.h"

/* The TXT record at name starting with prefix, joined; NULL if none. */
static char *
dns_txt(const char *name, const char *prefix)
{
	unsigned char	 ans[8192];
	const unsigned char *rd;
	ns_msg		 msg;
	ns_rr		 rr;
	struct buf	 b;
	int		 len, i, n;
	size_t		 off;

	if ((len = res_query(name, ns_c_in, ns_t_txt, ans, sizeof ans)) < 0 ||
	    ns_initparse(ans, len, &msg) < 0)
		return NULL;
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 ||
		    ns_rr_type(rr) != ns_t_txt)
			continue;
		buf_init(&b);
		rd = ns_rr_rdata(rr);
		for (off = 0; off < ns_rr_rdlen(rr); off += 1 + rd[off])
			buf_add(&b, rd + off + 1, off + 1 + rd[off] <=
			    ns_rr_rdlen(rr) ? rd[off] : 0);
		if (b.data != NULL && strncasecmp(b.data, prefix,
		    strlen(prefix)) == 0)
			return buf_steal(&b);
		buf_free(&b);
	}
	return NULL;
}

static int
dns_online(void)
{
	unsigned char	 ans[4096];

	if (res_init() != 0)
		return 0;
	_res.retrans = 2;
	_res.retry = 1;
	return res_query(".", ns_c_in, ns_t_ns, ans, sizeof ans) > 0;
}

/* One record: prints what was found or missing; 1 if missing. */
static int
dns_want(FILE *f, const char *what, const char *name, const char *prefix,
    const char *why)
{
	char	*v;

	if ((v = dns_txt(name, prefix)) == NULL) {
		fprintf(f, "dns: %s: MISSING: no %s record at %s: %s\n", what,
		    prefix, name, why);
		return 1;
	}
	fprintf(f, "dns: %s: %s: %s\n", what, name, v);
	free(v);
	return 0;
}

/* 0 all found, 1 something missing, 2 skipped (offline). */
int
dns_check(const struct config *conf, struct db *db, FILE *f)
{
	struct list_info	*v = NULL;
	size_t			 n = 0, i, j;
	char			*name;
	int			 missing = 0, seen;

	if (!dns_online()) {
		fprintf(f, "dns: skipped: the resolver cannot look up the root "
		    "name servers (offline?)\n");
		return 2;
	}
	missing |= dns_want(f, "SPF", conf->domain, "v=spf1", "receivers "
	    "cannot tell the relay may send for the bounce address");
	if (conf->dkim.selector != NULL) {
		xasprintf(&name, "%s._domainkey.%s", conf->dkim.selector,
		    conf->dkim.domain != NULL ? conf->dkim.domain :
		    conf->domain);
		missing |= dns_want(f, "DKIM", name, "v=DKIM1", "publish "
		    "what clarion dkim keygen printed");
		free(name);
	} else
		fprintf(f, "dns: DKIM: not signing (no dkim section): the "
		    "relay must sign for %s\n", conf->domain);
	if (db != NULL && db_list_all(db, &v, &n, NULL) == -1)
		n = 0;
	for (i = 0; i <= n; i++) {
		const char *d = align_org_domain(i < n ?
		    align_domain(v[i].from_addr) : conf->domain);

		for (seen = 0, j = 0; j < i && !seen; j++)
			seen = strcasecmp(d, align_org_domain(j < n ?
			    align_domain(v[j].from_addr) : conf->domain)) == 0;
		if (seen)
			continue;
		xasprintf(&name, "_dmarc.%s", d);
		missing |= dns_want(f, "DMARC", name, "v=DMARC1", "Gmail and "
		    "Yahoo require one for bulk senders");
		free(name);
	}
	for (i = 0; i < n; i++)
		list_info_free(&v[i]);
	free(v);
	return missing;
}
