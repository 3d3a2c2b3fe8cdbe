/*
 * clarion dkim keygen: a new DKIM key and the DNS record to publish. It
 * reads no configuration: the key is made before dkim = { ... } can name
 * it (the configuration refuses a key file that is not there).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char dkim_text[] =
    "keygen makes a DKIM private key in FILE (mode 0600; an existing file\n"
    "is never replaced): RSA 2048 bits (the default) or Ed25519. It prints\n"
    "the DNS TXT record to publish at SELECTOR._domainkey.DOMAIN and the\n"
    "dkim section for clarion.conf. Publish the record before setting\n"
    "dkim: receivers treat a signature whose key they cannot find as a\n"
    "failure.\n";

struct dkim_opts {
	const char	*type;
	const char	*selector;
	const char	*domain;
};

/* A selector or domain goes into a DNS name and the config: labels only. */
static int
dns_name_ok(const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0' || *s == '.')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '.' &&
		    *p != '_')
			return 0;
	return 1;
}

static int
dkim_keygen_cmd(struct cli *cli, void *vo, int argc, char **argv)
{
	struct dkim_opts *o = vo;
	const char	*type = o->type != NULL ? o->type : "rsa";
	char		*record, *cause;
	int		 rc;

	if (!dns_name_ok(o->selector) || !dns_name_ok(o->domain))
		return cli_misuse(cli, "--selector and --domain are required, "
		    "as DNS names");
	if (strcmp(type, "rsa") != 0 && strcmp(type, "ed25519") != 0)
		return cli_misuse(cli, "--type is rsa or ed25519");
	if (dkim_keygen(argv[0], type, o->selector, o->domain, &record,
	    &cause) == -1) {
		rc = cli_error(EX_CANTCREAT, "%s", cause);
		free(cause);
		return rc;
	}
	printf("; publish in DNS:\n%s\n", record);
	printf("# then in clarion.conf:\ndkim = {\n  selector = \"%s\";\n"
	    "  domain = \"%s\";\n  key_file = \"%s\";\n};\n", o->selector,
	    o->domain, argv[0]);
	free(record);
	return EX_OK;
}

static const struct cli_option dkim_options[] = {
	{ "type", 't', CLI_STR, offsetof(struct dkim_opts, type), 0 },
	{ "selector", 's', CLI_STR, offsetof(struct dkim_opts, selector), 0 },
	{ "domain", 'd', CLI_STR, offsetof(struct dkim_opts, domain), 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct cli_sub dkim_subs[] = {
	{ "keygen", NULL, "tsd", 0, 1, 1, dkim_keygen_cmd,
	    "dkim keygen [--type rsa|ed25519] --selector SELECTOR\n"
	    "    --domain DOMAIN FILE", NULL },
};

const struct cli_group cli_group_dkim = {
	"dkim", "make a DKIM key and the DNS record to publish", dkim_text,
	dkim_options, "", sizeof(struct dkim_opts), NULL, dkim_subs,
	nitems(dkim_subs)
};
