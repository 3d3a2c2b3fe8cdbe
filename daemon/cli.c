/*
 * The dispatcher of clarion(1). Each command is a group (cli_*.c) with a
 * table of subcommands; each subcommand names the group's options it
 * takes, so getopt_long refuses any other by name. --json and --help are
 * handled here, once, for every subcommand.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static void
synopses(FILE *f, const struct cli_group *g)
{
	size_t	 i;

	for (i = 0; i < g->nsubs; i++)
		fprintf(f, "%s clarion %s\n", i == 0 ? "usage:" : "      ",
		    g->subs[i].synopsis);
}

/* The group's usage; to stdout for --help (exit 0), else to stderr. */
static int
group_usage(const struct cli_group *g, const char *why)
{
	FILE	*f = why == NULL ? stdout : stderr;

	if (why != NULL)
		fprintf(f, "clarion: %s\n", why);
	synopses(f, g);
	if (g->text != NULL)
		fprintf(f, "\n%s", g->text);
	return why == NULL ? EX_OK : EX_USAGE;
}

/* A subcommand's own usage: its synopsis and what explains it. */
static int
sub_usage(const struct cli_group *g, const struct cli_sub *s)
{
	const char	*text = s->text != NULL ? s->text : g->text;

	printf("usage: clarion %s\n", s->synopsis);
	if (text != NULL)
		printf("\n%s", text);
	return EX_OK;
}

/* Prints JSON for --json, the same way for every command. */
void
cli_json_print(json_t *o)
{
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
}

/*
 * A show command's object as "key      value" lines: strings, numbers,
 * and true/false as yes/no; nested objects and arrays are the caller's.
 */
void
cli_print_fields(json_t *o)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(o, k, v) {
		if (json_is_string(v))
			printf("%-9s %s\n", k, json_string_value(v));
		else if (json_is_integer(v))
			printf("%-9s %lld\n", k,
			    (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			printf("%-9s %s\n", k, json_is_true(v) ? "yes" : "no");
	}
}

/* Sets an option's string field when the option was given. */
void
cli_set_str(char **field, const char *v)
{
	if (v == NULL)
		return;
	free(*field);
	*field = xstrdup(v);
}

/* A misused subcommand: why, then its synopsis; EX_USAGE. */
int
cli_misuse(struct cli *cli, const char *fmt, ...)
{
	va_list	 ap;
	char	*why;

	va_start(ap, fmt);
	xvasprintf(&why, fmt, ap);
	va_end(ap);
	cli_error(EX_USAGE, "%s", why);
	free(why);
	if (cli->sub != NULL)
		fprintf(stderr, "usage: clarion %s\n", cli->sub->synopsis);
	return EX_USAGE;
}

static const struct cli_sub *
sub_find(const struct cli_group *g, const char *word)
{
	const struct cli_sub	*s;
	size_t			 i;

	for (i = 0; i < g->nsubs; i++) {
		s = &g->subs[i];
		if (word == NULL ? s->name == NULL : s->name != NULL &&
		    (strcmp(s->name, word) == 0 || (s->alias != NULL &&
		    strcmp(s->alias, word) == 0)))
			return s;
	}
	return NULL;
}

/*
 * The getopt_long table of one subcommand: the group's options whose key
 * it lists, --json if it prints JSON, and --help. The short options are
 * the group's shorts that it takes, and -h.
 */
static struct option *
sub_options(const struct cli_group *g, const struct cli_sub *s,
    char **shorts)
{
	static const struct option json = { "json", no_argument, NULL,
	    CLI_OPT_JSON }, help = { "help", no_argument, NULL, CLI_OPT_HELP };
	const struct cli_option	*go;
	struct option		*lo;
	size_t			 n = 0, ns = 0, all = 0;
	int			 has_arg;

	for (go = g->opts; go != NULL && go->name != NULL; go++)
		all++;
	lo = xcalloc(all + 3, sizeof *lo);
	*shorts = xcalloc(2 * all + 2, 1);
	(*shorts)[ns++] = 'h';
	for (go = g->opts; go != NULL && go->name != NULL; go++) {
		if (strchr(s->opts, go->key) == NULL)
			continue;
		has_arg = go->kind == CLI_FLAG ? no_argument :
		    required_argument;
		lo[n].name = go->name;
		lo[n].has_arg = has_arg;
		lo[n++].val = go->key;
		if (g->shorts != NULL && strchr(g->shorts, go->key) != NULL &&
		    strchr(*shorts, go->key) == NULL) {
			(*shorts)[ns++] = (char)go->key;
			if (has_arg == required_argument)
				(*shorts)[ns++] = ':';
		}
	}
	if (s->json)
		lo[n++] = json;
	lo[n++] = help;
	return lo;
}

/* Stores one option where its table row says; EX_OK, or EX_USAGE. */
static int
opt_store(struct cli *cli, const struct cli_group *g, void *o, int key,
    const char *arg)
{
	const struct cli_option	*go;
	struct cli_list		*l;
	char			*field, *end;
	long long		 n;

	for (go = g->opts; go->key != key; go++)
		;
	field = (char *)o + go->at;
	switch (go->kind) {
	case CLI_STR:
		*(const char **)(void *)field = arg;
		break;
	case CLI_FLAG:
		*(int *)(void *)field = go->value;
		break;
	case CLI_NUM:
		n = strtoll(arg, &end, 10);
		if (end == arg || *end != '\0' || n < go->value)
			return cli_misuse(cli, "--%s needs a whole number, %d "
			    "or more", go->name, go->value);
		*(long long *)(void *)field = n;
		break;
	case CLI_ADD:
		l = (struct cli_list *)(void *)field;
		l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
		l->v[l->n++] = arg;
		break;
	}
	return EX_OK;
}

/* Frees what repeated options added. */
static void
opt_free(const struct cli_group *g, void *o)
{
	const struct cli_option	*go;

	for (go = g->opts; go != NULL && go->name != NULL; go++)
		if (go->kind == CLI_ADD)
			free(((struct cli_list *)(void *)((char *)o +
			    go->at))->v);
}

/*
 * Parses the subcommand's options into a fresh copy of the group's option
 * struct and runs it with its operands. argv[0] is the word before the
 * options; getopt_long names the subcommand in its complaints.
 */
static int
sub_run(struct cli *cli, const struct cli_group *g, const struct cli_sub *s,
    int argc, char **argv)
{
	struct option	*lo;
	char		*shorts, *name, *word = argv[0];
	void		*o;
	int		 ch, n, rc = -1;

	lo = sub_options(g, s, &shorts);
	xasprintf(&name, "clarion %s%s%s", g->name, s->name != NULL ? " " :
	    "", s->name != NULL ? s->name : "");
	o = xcalloc(1, g->size > 0 ? g->size : 1);
	if (g->init != NULL)
		g->init(o);
	cli->group = g;
	cli->sub = s;
	argv[0] = name;
	optind = 0;
	while (rc == -1 &&
	    (ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (ch == CLI_OPT_HELP || ch == 'h')
			rc = sub_usage(g, s);
		else if (ch == CLI_OPT_JSON)
			cli->json = 1;
		else if (ch == '?' || ch == ':') {
			fprintf(stderr, "usage: clarion %s\n", s->synopsis);
			rc = EX_USAGE;
		} else if (opt_store(cli, g, o, ch, optarg) != EX_OK)
			rc = EX_USAGE;
	}
	n = argc - optind;
	if (rc == -1 && (n < s->min || (s->max >= 0 && n > s->max)))
		rc = cli_misuse(cli, "%s: wrong number of arguments",
		    name + strlen("clarion "));
	if (rc == -1)
		rc = s->fn(cli, o, n, argv + optind);
	argv[0] = word;
	opt_free(g, o);
	free(o);
	free(name);
	free(shorts);
	free(lo);
	return rc;
}

/*
 * argv[0] is the group's name, argv[1] the subcommand's (or, for a group
 * with a command of its own, perhaps its first option or operand).
 */
int
cli_dispatch(struct cli *cli, const struct cli_group *g, int argc,
    char **argv)
{
	const struct cli_sub	*s;
	const char		*word = argc > 1 ? argv[1] : NULL;
	char			*why;
	int			 rc;

	if (word != NULL && (strcmp(word, "--help") == 0 ||
	    strcmp(word, "-h") == 0 || strcmp(word, "help") == 0))
		return group_usage(g, NULL);
	if (word != NULL && (s = sub_find(g, word)) != NULL)
		return sub_run(cli, g, s, argc - 1, argv + 1);
	s = sub_find(g, NULL);
	if (s != NULL && (word == NULL || *word == '-' || s->max != 0))
		return sub_run(cli, g, s, argc, argv);
	if (word == NULL)
		return group_usage(g, "give a subcommand");
	if (g->nsubs == 1)
		xasprintf(&why, "%s: unexpected argument '%s'", g->name, word);
	else
		xasprintf(&why, "%s: '%s' is not a subcommand", g->name, word);
	rc = group_usage(g, why);
	free(why);
	return rc;
}
