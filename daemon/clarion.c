/*
 * clarion(1): the tool officers use. Commands are a table of groups,
 * dispatched by cli.c; each group lives in its own cli_*.c file. The
 * daemon need not be running: everything here works on the database
 * directly.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"


int
cli_error(int code, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "clarion: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return code;
}

/* cli_error() with a cause from below, which it frees. */
int
cli_fail(int code, char **cause)
{
	cli_error(code, "%s", *cause != NULL ? *cause : "unknown error");
	free(*cause);
	*cause = NULL;
	return code;
}

struct config *
cli_config(struct cli *cli)
{
	char	*cause;

	if (cli->conf != NULL)
		return cli->conf;
	if ((cli->conf = config_load(cli->config_path, &cause)) == NULL) {
		lines_print(stderr, "clarion: ", cause);
		free(cause);
		exit(EX_CONFIG);
	}
	log_set_level(cli->conf->log_level < LOG_LEVEL_WARN ?
	    cli->conf->log_level : LOG_LEVEL_WARN);
	return cli->conf;
}

struct db *
cli_db(struct cli *cli)
{
	struct config	*conf = cli_config(cli);
	char		*cause;

	if (cli->db != NULL)
		return cli->db;
	if ((cli->db = db_open(conf->database, 0, &cause)) == NULL) {
		fprintf(stderr, "clarion: %s\n", cause);
		free(cause);
		exit(db_open_code());
	}
	return cli->db;
}

int
cli_keys(struct cli *cli, struct token_keys *keys)
{
	char	*cause;

	if (!cli->keys_loaded) {
		if (token_keys_load(cli_config(cli), &cli->keys, &cause) ==
		    -1) {
			fprintf(stderr, "clarion: %s\n", cause);
			free(cause);
			exit(EX_CONFIG);
		}
		log_set_hash_key(cli->keys.key, sizeof cli->keys.key);
		cli->keys_loaded = 1;
	}
	*keys = cli->keys;
	return 0;
}

/* A new 256-bit token secret, hex, in a file only this user can read. */
static int
init_secret(const char *path)
{
	unsigned char	 raw[32];
	char		 hex[65];
	char		*cause;
	size_t		 i;

	if (access(path, F_OK) == 0) {
		if (file_private_check(path, &cause) == -1)
			return cli_error(EX_CONFIG, "%s", cause);
		printf("token secret: %s (kept)\n", path);
		return EX_OK;
	}
	if (crypto_random(raw, sizeof raw) == -1)
		return cli_error(EX_SOFTWARE, "cannot get random bytes");
	for (i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	hex[64] = '\n';
	explicit_zero(raw, sizeof raw);
	if (file_write_atomic(path, hex, sizeof hex, 0600, &cause) == -1) {
		explicit_zero(hex, sizeof hex);
		return cli_error(EX_CANTCREAT, "%s", cause);
	}
	explicit_zero(hex, sizeof hex);
	printf("token secret: %s (new, mode 0600)\n", path);
	return EX_OK;
}

static int
init_outbox(const char *dir)
{
	static const char *subs[] = { "", "/tmp", "/new", "/cur" };
	char		*p;
	size_t		 i;

	for (i = 0; i < nitems(subs); i++) {
		xasprintf(&p, "%s%s", dir, subs[i]);
		if (mkdir(p, 0700) == -1 && errno != EEXIST) {
			cli_error(EX_CANTCREAT, "%s: %s", p, strerror(errno));
			free(p);
			return EX_CANTCREAT;
		}
		free(p);
	}
	return EX_OK;
}

static int
init_all(struct cli *cli, void *vo, int argc, char **argv)
{
	struct config	*conf;
	struct db	*db;
	char		*cause;
	int		 rc, existed;

	conf = cli_config(cli);
	existed = access(conf->database, F_OK) == 0;
	if ((db = db_open(conf->database, 1, &cause)) == NULL) {
		rc = cli_error(EX_CANTCREAT, "%s", cause);
		free(cause);
		return rc;
	}
	printf("database: %s (%s, schema version %d)\n", conf->database,
	    existed ? "existing" : "new", db_user_version(db));
	db_close(db);
	if ((rc = init_secret(conf->token_secret_file)) != EX_OK)
		return rc;
	if (conf->transport == TRANSPORT_OUTBOX) {
		if ((rc = init_outbox(conf->outbox)) != EX_OK)
			return rc;
		printf("outbox: %s\n", conf->outbox);
	}
	return EX_OK;
}

struct check_opts {
	int		 dns;
};

static int
check_config(struct cli *cli, void *vo, int argc, char **argv)
{
	struct check_opts *o = vo;
	struct config	*conf;
	struct db	*db = NULL;
	unsigned char	*secret;
	size_t		 len;
	char		*cause;
	int		 bad = 0;

	conf = cli_config(cli);
	if (access(conf->token_secret_file, F_OK) == 0) {
		if (config_load_secret(conf, &secret, &len, &cause) == -1) {
			lines_print(stderr, "clarion: ", cause);
			free(cause);
			bad = 1;
		} else {
			explicit_zero(secret, len);
			free(secret);
		}
	}
	/* Without a database yet, the shipped templates are still checked. */
	if (access(conf->database, F_OK) == 0)
		db = cli_db(cli);
	if (check_setup(conf, db, &cause) == -1) {
		lines_print(stderr, "clarion: ", cause);
		free(cause);
		bad = 1;
	}
	if ((cause = check_warnings(conf, db)) != NULL) {
		lines_print(stderr, "clarion: warning: ", cause);
		free(cause);
	}
	if (bad)
		return EX_CONFIG;
	printf("%s: OK\n", conf->path);
	if (o->dns && dns_check(conf, db, stdout) == 1)
		return 1;
	return EX_OK;
}

static const struct cli_sub init_subs[] = {
	{ NULL, NULL, "", 0, 0, 0, init_all, "init", NULL },
};

static const struct cli_group init_group = {
	"init", "create the database and the token secret",
	"Creates the database (mode 0600), the token secret and, for the\n"
	"outbox transport, the outbox Maildir. Safe to run again.\n", NULL,
	NULL, 0, NULL, init_subs, nitems(init_subs)
};

static const struct cli_option check_options[] = {
	{ "dns", 'D', CLI_FLAG, offsetof(struct check_opts, dns), 1 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct cli_sub check_subs[] = {
	{ NULL, NULL, "D", 0, 0, 0, check_config, "check-config [--dns]",
	    NULL },
};

static const struct cli_group check_group = {
	"check-config", "validate the configuration",
	"Reads and validates the configuration, the templates every item\n"
	"kind needs, the items' segments and the lists' From addresses;\n"
	"exits 0 if all is good, 78 (EX_CONFIG) with every error, each with\n"
	"the file, line and key, if not. A list From outside the domain is\n"
	"a warning; one at a free-mail provider is an error.\n"
	"--dns also looks up SPF for the domain, the DKIM key for\n"
	"dkim.selector and DMARC for each From domain, and exits 1 if one is\n"
	"missing; offline, it says it skipped them.\n", check_options, "",
	sizeof(struct check_opts), NULL, check_subs, nitems(check_subs)
};

static const struct cli_group *const commands[] = {
	&init_group, &check_group, &cli_group_status, &cli_group_backup,
	&cli_group_restore, &cli_group_list, &cli_group_sub,
	&cli_group_template, &cli_group_event, &cli_group_item,
	&cli_group_notice, &cli_group_run, &cli_group_queue,
	&cli_group_bounces, &cli_group_inbound, &cli_group_dkim,
};

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: clarion [-c FILE] [--json] COMMAND [ARGS]\n"
	    "       clarion COMMAND --help\n\ncommands:\n");
	for (i = 0; i < nitems(commands); i++)
		fprintf(f, "  %-14s %s\n", commands[i]->name,
		    commands[i]->summary);
	fprintf(f, "\nThe configuration is read from -c FILE, else "
	    "$CLARION_CONFIG, else %s.\n", CONFIG_DEFAULT_PATH);
}

static const struct cli_group *
command_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(commands); i++) {
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_group *cmd;
	struct cli	 cli;
	int		 ch, rc;

	memset(&cli, 0, sizeof cli);
	log_init("clarion", 0, LOG_LEVEL_WARN);
	if ((cli.config_path = getenv("CLARION_CONFIG")) == NULL)
		cli.config_path = CONFIG_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cli.config_path = optarg;
			break;
		case 'j':
			cli.json = 1;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("clarion %s\n", CLARION_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EX_USAGE;
	}
	if ((cmd = command_find(argv[0])) == NULL) {
		fprintf(stderr, "clarion: %s: unknown command\n", argv[0]);
		usage(stderr);
		return EX_USAGE;
	}
	rc = cli_dispatch(&cli, cmd, argc, argv);
	if (cli.db != NULL && db_damaged(cli.db)) {
		fprintf(stderr, "clarion: %s: the database is damaged (%s); "
		    "restore the last backup with 'clarion restore BACKUP'\n",
		    cli.conf->database, db_damage_reason());
		rc = EX_DATAERR;
	}
	db_close(cli.db);
	config_free(cli.conf);
	explicit_zero(&cli.keys, sizeof cli.keys);
	return rc;
}
