/*
 * clarion dkim keygen: a new DKIM key and the DNS record to publish. It
 * reads no configuration: the key is made before dkim = { ... } can name
 * it (the configuration refuses a key file that is not there).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char dkim_usage[] =
    "usage: clarion dkim keygen [--type rsa|ed25519] --selector SELECTOR\n"
    "                           --domain DOMAIN FILE\n\n"
    "Makes a DKIM private key in FILE (mode 0600; an existing file is never\n"
    "replaced): RSA 2048 bits (the default) or Ed25519. Prints the DNS TXT\n"
    "record to publish at SELECTOR._domainkey.DOMAIN and the dkim section\n"
    "for clarion.conf. Publish the record before setting dkim: receivers\n"
    "treat a signature whose key they cannot find as a failure.\n";

struct keygen_opts {
	const char	*type;
	const char	*selector;
	const char	*domain;
};

#define DKIM_HELP	(-1)

static int
keygen_opts_parse(int argc, char **argv, struct keygen_opts *o)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "selector", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+t:s:d:h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			o->type = optarg;
			break;
		case 's':
			o->selector = optarg;
			break;
		case 'd':
			o->domain = optarg;
			break;
		case 'h':
			cli_usage(dkim_usage, NULL);
			return DKIM_HELP;
		default:
			return cli_usage(dkim_usage, "unknown option");
		}
	}
	return EX_OK;
}

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
dkim_keygen_cmd(int argc, char **argv)
{
	struct keygen_opts o = { "rsa", NULL, NULL };
	char		*record, *cause;
	int		 rc;

	if ((rc = keygen_opts_parse(argc, argv, &o)) != EX_OK)
		return rc == DKIM_HELP ? EX_OK : rc;
	if (optind + 1 != argc)
		return cli_usage(dkim_usage, "give one key file");
	if (!dns_name_ok(o.selector) || !dns_name_ok(o.domain))
		return cli_usage(dkim_usage, "--selector and --domain are "
		    "required, as DNS names");
	if (strcmp(o.type, "rsa") != 0 && strcmp(o.type, "ed25519") != 0)
		return cli_usage(dkim_usage, "--type is rsa or ed25519");
	if (dkim_keygen(argv[optind], o.type, o.selector, o.domain, &record,
	    &cause) == -1) {
		rc = cli_error(EX_CANTCREAT, "%s", cause);
		free(cause);
		return rc;
	}
	printf("; publish in DNS:\n%s\n", record);
	printf("# then in clarion.conf:\ndkim = {\n  selector = \"%s\";\n"
	    "  domain = \"%s\";\n  key_file = \"%s\";\n};\n", o.selector,
	    o.domain, argv[optind]);
	free(record);
	return EX_OK;
}

int
cmd_dkim(struct cli *cli, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "keygen") == 0)
		return dkim_keygen_cmd(argc - 1, argv + 1);
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return cli_usage(dkim_usage, NULL);
	return cli_unknown(dkim_usage, "dkim", argc > 1 ? argv[1] : NULL);
}
