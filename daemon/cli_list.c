/* clarion list: the mailing lists (who they are from, who owns them). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char list_help[] =
    "A list has a short NAME (lower-case letters, digits, '.', '_', '-'),\n"
    "a display name and From address for its mail, an owner address that\n"
    "gets forwarded replies and digests, and a footer added to each message.\n"
    "delete is refused while items use the list; a list with members needs\n"
    "--force (their memberships and consent records go with it).\n";

#define LIST_ONE_FOOTER	"give --footer or --footer-file, not both"

struct list_opts {
	const char	*from, *owner, *display, *footer, *footer_file;
	int		 force;
};

/* The list called name, or an error printed and -1. */
int
cli_list_lookup(struct cli *cli, const char *name, struct list_info *l)
{
	if (db_list_by_name(cli_db(cli), name, l) == -1) {
		cli_error(EX_DATAERR, "no list named '%s' (see clarion list "
		    "ls)", name);
		return -1;
	}
	return 0;
}

static int
list_name_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") != n || s[0] == '.' || s[0] == '-' ||
	    s[0] == '_') {
		cli_error(EX_DATAERR, "'%s': a list name is 1 to 64 lower-case "
		    "letters, digits, '.', '_' or '-', starting with a letter "
		    "or digit", s);
		return 0;
	}
	return 1;
}

/* Replaces *field by the normalised address; 0, or -1 (printed). */
static int
list_addr(const char *what, const char *in, char **field)
{
	char	*out, *cause;

	if (addr_normalize(in, &out, &cause) == -1) {
		cli_error(EX_DATAERR, "%s address '%s': %s", what, in, cause);
		free(cause);
		return -1;
	}
	free(*field);
	*field = out;
	return 0;
}

static int
list_text(const char *what, const char *in, char **field)
{
	if (str_has_ctl(in)) {
		cli_error(EX_DATAERR, "the %s may not hold control characters",
		    what);
		return -1;
	}
	free(*field);
	*field = xstrdup(in);
	return 0;
}

static int
list_apply(const struct list_opts *o, struct list_info *l)
{
	char	*text, *cause;

	if ((o->from != NULL && list_addr("from", o->from, &l->from_addr) ==
	    -1) || (o->owner != NULL && list_addr("owner", o->owner,
	    &l->owner_addr) == -1) || (o->display != NULL &&
	    list_text("display name", o->display, &l->display_name) == -1))
		return -1;
	if (o->footer != NULL) {
		free(l->footer);
		l->footer = xstrdup(o->footer);
	}
	if (o->footer_file != NULL) {
		if ((text = file_read(o->footer_file, NULL, &cause)) == NULL) {
			cli_error(EX_NOINPUT, "%s", cause);
			free(cause);
			return -1;
		}
		free(l->footer);
		l->footer = text;
	}
	if (l->footer != NULL && !utf8_valid(l->footer, strlen(l->footer))) {
		cli_error(EX_DATAERR, "the footer is not valid UTF-8");
		return -1;
	}
	return 0;
}

static const struct cli_option list_options[] = {
	{ "from", 'f', CLI_STR, offsetof(struct list_opts, from), 0 },
	{ "owner", 'o', CLI_STR, offsetof(struct list_opts, owner), 0 },
	{ "display-name", 'd', CLI_STR, offsetof(struct list_opts, display), 0 },
	{ "footer", 'F', CLI_STR, offsetof(struct list_opts, footer), 0 },
	{ "footer-file", 'G', CLI_STR, offsetof(struct list_opts, footer_file), 0 },
	{ "force", 'x', CLI_FLAG, offsetof(struct list_opts, force), 1 },
	{ NULL, 0, 0, 0, 0 },
};

/*
 * The From address against DMARC alignment (align.c): a free-mail one
 * is refused, one outside the domain is accepted with a warning.
 */
static int
list_from_ok(struct cli *cli, const char *from)
{
	char	*cause = NULL;
	int	 rc;

	rc = align_from_check(cli_config(cli), from, &cause);
	if (rc == -1)
		cli_error(EX_DATAERR, "%s", cause);
	else if (rc == 1)
		fprintf(stderr, "clarion: warning: %s\n", cause);
	free(cause);
	return rc == -1 ? -1 : 0;
}

static int
list_create(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *name = argv[0];
	const struct list_opts *o = vo;
	struct list_info	 l;
	char			*cause;
	int			 rc = EX_DATAERR;

	if (o->footer != NULL && o->footer_file != NULL)
		return cli_misuse(cli, LIST_ONE_FOOTER);
	if (!list_name_ok(name))
		return EX_DATAERR;
	if (o->from == NULL || o->owner == NULL)
		return cli_misuse(cli, "create needs --from and --owner");
	memset(&l, 0, sizeof l);
	l.name = xstrdup(name);
	if (list_apply(o, &l) == 0 && list_from_ok(cli, l.from_addr) == 0) {
		if (db_list_create(cli_db(cli), &l, &cause) == -1) {
			cli_error(EX_DATAERR, "%s", cause);
			free(cause);
		} else {
			printf("list %s created\n", l.name);
			rc = EX_OK;
		}
	}
	list_info_free(&l);
	return rc;
}

/* list edit NAME, and list rename NAME NEW-NAME. */
static int
list_edit(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct list_opts	*o = vo;
	const char		*name = argv[0];
	const char		*newname = argc > 1 ? argv[1] : NULL;
	struct list_info	 l;
	char			*cause;
	int			 rc = EX_DATAERR;

	if (o->footer != NULL && o->footer_file != NULL)
		return cli_misuse(cli, LIST_ONE_FOOTER);
	if (newname != NULL && !list_name_ok(newname))
		return EX_DATAERR;
	if (cli_list_lookup(cli, name, &l) == -1)
		return EX_DATAERR;
	if (newname != NULL) {
		free(l.name);
		l.name = xstrdup(newname);
	}
	if (list_apply(o, &l) == 0 && (o->from == NULL ||
	    list_from_ok(cli, l.from_addr) == 0)) {
		if (db_list_update(cli_db(cli), &l, &cause) == -1) {
			cli_error(EX_DATAERR, "%s", cause);
			free(cause);
		} else {
			if (newname != NULL)
				printf("list %s renamed to %s\n", name,
				    newname);
			else
				printf("list %s updated\n", name);
			rc = EX_OK;
		}
	}
	list_info_free(&l);
	return rc;
}

static int
list_delete(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct list_opts	*o = vo;
	const char		*name = argv[0];
	struct list_info	 l;
	char			*cause;

	if (cli_list_lookup(cli, name, &l) == -1)
		return EX_DATAERR;
	if (db_list_delete(cli_db(cli), l.id, o->force, &cause) == -1) {
		cli_error(EX_DATAERR, "%s: %s", name, cause);
		free(cause);
		list_info_free(&l);
		return EX_DATAERR;
	}
	printf("list %s deleted\n", name);
	list_info_free(&l);
	return EX_OK;
}

static json_t *
list_json(struct db *db, const struct list_info *l)
{
	struct list_counts	 c;

	db_list_counts(db, l->id, &c);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I}}",
	    "name", l->name, "display_name", l->display_name, "from",
	    l->from_addr, "owner", l->owner_addr, "footer", l->footer,
	    "members", "subscribed", (json_int_t)c.subscribed, "unsubscribed",
	    (json_int_t)c.unsubscribed, "held", (json_int_t)c.held);
}

static void
json_print(json_t *o)
{
	cli_json_print(o);
	json_decref(o);
}

static int
list_show(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *name = argv[0];
	struct list_info	 l;
	struct list_counts	 c;

	if (cli_list_lookup(cli, name, &l) == -1)
		return EX_DATAERR;
	if (cli->json)
		json_print(list_json(cli_db(cli), &l));
	else {
		db_list_counts(cli_db(cli), l.id, &c);
		printf("name:          %s\ndisplay name:  %s\nfrom:          "
		    "%s\nowner:         %s\nmembers:       %ld subscribed, %ld "
		    "unsubscribed, %ld held\nfooter:\n%s%s", l.name,
		    l.display_name, l.from_addr, l.owner_addr, c.subscribed,
		    c.unsubscribed, c.held, l.footer, *l.footer != '\0' &&
		    l.footer[strlen(l.footer) - 1] != '\n' ? "\n" : "");
	}
	list_info_free(&l);
	return EX_OK;
}

static int
list_ls(struct cli *cli, void *vo, int argc, char **argv)
{
	char		*cause = NULL;
	struct list_info	*v;
	struct list_counts	 c;
	json_t			*arr;
	size_t			 i, n;

	if (db_list_all(cli_db(cli), &v, &n, &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	arr = json_array();
	if (!cli->json)
		printf("%-20s %10s %12s  %-30s %s\n", "NAME", "SUBSCRIBED",
		    "UNSUBSCRIBED", "FROM", "DISPLAY NAME");
	for (i = 0; i < n; i++) {
		if (cli->json)
			json_array_append_new(arr, list_json(cli_db(cli),
			    &v[i]));
		else {
			db_list_counts(cli_db(cli), v[i].id, &c);
			printf("%-20s %10ld %12ld  %-30s %s\n", v[i].name,
			    c.subscribed, c.unsubscribed, v[i].from_addr,
			    v[i].display_name);
		}
		list_info_free(&v[i]);
	}
	free(v);
	if (cli->json)
		json_print(arr);
	else
		json_decref(arr);
	return EX_OK;
}

#define LIST_FIELDS	"fodFG"

static const struct cli_sub list_subs[] = {
	{ "create", NULL, LIST_FIELDS, 0, 1, 1, list_create,
	    "list create NAME --from ADDRESS --owner ADDRESS\n"
	    "           [--display-name TEXT] [--footer TEXT | --footer-file FILE]",
	    NULL },
	{ "edit", NULL, LIST_FIELDS, 0, 1, 1, list_edit,
	    "list edit NAME [--from ADDRESS] [--owner ADDRESS]\n"
	    "           [--display-name TEXT] [--footer TEXT | --footer-file FILE]",
	    NULL },
	{ "show", NULL, "", 1, 1, 1, list_show, "list show NAME [--json]",
	    NULL },
	{ "rename", NULL, "", 0, 2, 2, list_edit, "list rename NAME NEW-NAME",
	    NULL },
	{ "delete", NULL, "x", 0, 1, 1, list_delete,
	    "list delete NAME [--force]", NULL },
	{ "ls", NULL, "", 1, 0, 0, list_ls, "list ls [--json]", NULL },
};

const struct cli_group cli_group_list = {
	"list", "create, show, rename and delete mailing lists", list_help,
	list_options, NULL, sizeof(struct list_opts), NULL, list_subs,
	nitems(list_subs)
};
