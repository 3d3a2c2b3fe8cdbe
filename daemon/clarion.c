/*
 * clarion(1): the tool officers use. Commands are dispatched from one
 * table; each group lives in its own cli_*.c file. The daemon need not be
 * running: everything here works on the database directly.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_command commands[] = {
	{ "init", cmd_init, "create the database and the token secret" },
	{ "check-config", cmd_check_config, "validate the configuration" },
	{ "status", cmd_status, "show the daemon's health and the counts" },
	{ "backup", cmd_backup, "write a consistent copy of the database" },
	{ "restore", cmd_restore, "replace the database with a backup" },
	{ "list", cmd_list, "create, show, rename and delete mailing lists" },
	{ "sub", cmd_sub, "subscribers: add, import, segments, GDPR export/erase" },
	{ "template", cmd_template, "render a Mustache template" },
	{ "event", cmd_event, "strikes, ballots, pickets, meetings; feeds" },
	{ "item", cmd_item, "bulletins, newsletters, messages and when" },
	{ "notice", cmd_notice, "meeting notices, moves and cancellations" },
	{ "run", cmd_run, "issues of items: list, show, cancel, resend" },
	{ "queue", cmd_queue, "what is waiting to be sent, and why" },
	{ "bounces", cmd_bounces, "addresses disabled by bounces, and scores" },
	{ "inbound", cmd_inbound, "classify saved mail; read the mailbox" },
};

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: clarion [-c FILE] [--json] COMMAND [ARGS]\n"
	    "       clarion COMMAND --help\n\ncommands:\n");
	for (i = 0; i < nitems(commands); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f, "\nThe configuration is read from -c FILE, else "
	    "$CLARION_CONFIG, else %s.\n", CONFIG_DEFAULT_PATH);
}

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

/* Prints a usage text; to stdout for --help (exit 0), else to stderr. */
int
cli_usage(const char *text, const char *why)
{
	if (why == NULL) {
		fputs(text, stdout);
		return EX_OK;
	}
	fprintf(stderr, "clarion: %s\n%s", why, text);
	return EX_USAGE;
}

/* Whether usage lists "clarion CMD SUB" (SUB may be one of "a|b|c"). */
static int
usage_has(const char *usage, const char *cmd, const char *sub)
{
	const char	*p = usage, *w, *e;
	size_t		 lc = strlen(cmd), ls = strlen(sub);

	while ((p = strstr(p, "clarion ")) != NULL) {
		p += 8;
		if (strncmp(p, cmd, lc) != 0 || p[lc] != ' ')
			continue;
		for (w = p + lc + 1; *w != '\0' && *w != ' ' && *w != '\n';
		    w = *e == '|' ? e + 1 : e) {
			e = w + strcspn(w, "| \n");
			if ((size_t)(e - w) == ls && strncmp(w, sub, ls) == 0)
				return 1;
			if (*e != '|')
				break;
		}
	}
	return 0;
}

/*
 * A subcommand that did not match: name the word, and tell a wrong word
 * from a right one given the wrong number of arguments.
 */
int
cli_unknown(const char *usage, const char *cmd, const char *sub)
{
	char	*why;
	int	 rc;

	if (sub != NULL && usage_has(usage, cmd, sub))
		xasprintf(&why, "%s %s: wrong number of arguments", cmd, sub);
	else
		xasprintf(&why, "%s: '%s' is not a subcommand", cmd,
		    sub != NULL ? sub : "");
	rc = cli_usage(usage, why);
	free(why);
	return rc;
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
	struct config	*conf = cli_config(cli);
	unsigned char	*secret, *old;
	size_t		 len, oldlen;
	char		*cause, *olds;
	int		 rc;

	if (!cli->keys_loaded) {
		if (config_load_secret(conf, &secret, &len, &cause) == -1) {
			fprintf(stderr, "clarion: %s\n", cause);
			free(cause);
			exit(EX_CONFIG);
		}
		/*
		 * security (key rotation): the old secret too, during its
		 * grace period, as clariond does: tokens in mail already sent
		 * and suppressions hashed before the rotation still count.
		 */
		old = NULL;
		oldlen = 0;
		if (conf->token_old_secret_file != NULL &&
		    clock_now() < conf->token_old_until) {
			if (secret_file_read(conf->token_old_secret_file,
			    &olds, &oldlen, &cause) == -1) {
				fprintf(stderr, "clarion: %s\n", cause);
				exit(EX_CONFIG);
			}
			old = (unsigned char *)olds;
		}
		rc = token_keys_init(&cli->keys, secret, len, old, oldlen);
		token_keys_old_until(&cli->keys, conf->token_old_until);
		if (old != NULL) {
			explicit_zero(old, oldlen);
			free(old);
		}
		if (rc == -1) {
			explicit_zero(secret, len);
			free(secret);
			fprintf(stderr, "clarion: %s: the token secret is too "
			    "short (at least 16 bytes)\n",
			    conf->token_secret_file);
			exit(EX_CONFIG);
		}
		explicit_zero(secret, len);
		free(secret);
		log_set_hash_key(cli->keys.key, sizeof cli->keys.key);
		cli->keys_loaded = 1;
	}
	*keys = cli->keys;
	return 0;
}

static int
want_help(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	}
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

int
cmd_init(struct cli *cli, int argc, char **argv)
{
	struct config	*conf;
	struct db	*db;
	char		*cause;
	int		 rc, existed;

	if (want_help(argc, argv))
		return cli_usage("usage: clarion init\n\nCreates the database "
		    "(mode 0600), the token secret and, for the outbox\n"
		    "transport, the outbox Maildir. Safe to run again.\n", NULL);
	if (argc != 1)
		return cli_usage("usage: clarion init\n", "too many arguments");
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

int
cmd_check_config(struct cli *cli, int argc, char **argv)
{
	struct config	*conf;
	struct db	*db = NULL;
	unsigned char	*secret;
	size_t		 len;
	char		*cause;
	int		 bad = 0;

	if (want_help(argc, argv))
		return cli_usage("usage: clarion check-config\n\nReads and "
		    "validates the configuration, the templates every item\n"
		    "kind needs and the items' segments; exits 0 if all is "
		    "good,\n78 (EX_CONFIG) with every error, each with the "
		    "file, line and key,\nif not.\n", NULL);
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
	if (bad)
		return EX_CONFIG;
	printf("%s: OK\n", conf->path);
	return EX_OK;
}

static const struct cli_command *
command_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(commands); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
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
	const struct cli_command *cmd;
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
	optind = 0;	/* each command parses its own options */
	rc = cmd->fn(&cli, argc, argv);
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
