/* clarion template: render a Mustache template against JSON data. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static const char template_text[] =
    "render prints TEMPLATE filled in from DATA.json exactly, with no newline\n"
    "added. {{name}} is HTML-escaped unless --text is given; {{{name}}} and\n"
    "{{&name}} never are. A partial {{>name}} is read from DIR/name.mustache\n"
    "(none when --partials is not given).\n"
    "check only parses TEMPLATE and reports the first syntax error.\n";

static int
load_data(const char *path, json_t **data)
{
	json_error_t	 err;

	if (access(path, R_OK) == -1)
		return cli_error(errno == ENOENT ? EX_NOINPUT : EX_NOPERM,
		    "%s: %s", path, strerror(errno));
	*data = json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (*data == NULL)
		return cli_error(EX_DATAERR, "%s:%d:%d: %s", path, err.line,
		    err.column, err.text);
	return EX_OK;
}

static int
load_template(const char *path, struct tmpl **t)
{
	char	*cause;
	int	 rc;

	if (access(path, R_OK) == -1)
		return cli_error(errno == ENOENT ? EX_NOINPUT : EX_NOPERM,
		    "%s: %s", path, strerror(errno));
	if ((*t = tmpl_parse_file(path, &cause)) == NULL) {
		rc = cli_error(EX_DATAERR, "%s", cause);
		free(cause);
		return rc;
	}
	return EX_OK;
}

struct template_opts {
	const char	*dir;	/* --partials */
	int		 text;
};

static const struct cli_option template_options[] = {
	{ "partials", 'p', CLI_STR, offsetof(struct template_opts, dir), 0 },
	{ "text", 't', CLI_FLAG, offsetof(struct template_opts, text), 1 },
	{ NULL, 0, 0, 0, 0 },
};

static int
template_render(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct template_opts *o = vo;
	struct tmpl_partials	*ps = NULL;
	struct tmpl		*t = NULL;
	json_t			*data = NULL;
	struct buf		 out;
	const char		*dir = o->dir;
	char			*cause;
	int			 rc;

	if (dir != NULL && access(dir, X_OK) == -1)
		return cli_error(EX_NOINPUT, "%s: %s", dir, strerror(errno));
	if ((rc = load_template(argv[0], &t)) != EX_OK)
		return rc;
	if ((rc = load_data(argv[1], &data)) != EX_OK) {
		tmpl_free(t);
		return rc;
	}
	ps = tmpl_partials_new(dir);
	buf_init(&out);
	if (tmpl_render(t, data, ps, !o->text, &out, &cause) == -1) {
		rc = cli_error(EX_DATAERR, "%s: %s", argv[0], cause);
		free(cause);
	} else if (fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) == EOF)
		rc = cli_error(EX_IOERR, "stdout: %s", strerror(errno));
	buf_free(&out);
	tmpl_partials_free(ps);
	json_decref(data);
	tmpl_free(t);
	return rc;
}

static int
template_check(struct cli *cli, void *vo, int argc, char **argv)
{
	struct tmpl	*t;
	int		 rc;

	if ((rc = load_template(argv[0], &t)) != EX_OK)
		return rc;
	tmpl_free(t);
	return EX_OK;
}

static const struct cli_sub template_subs[] = {
	{ "render", NULL, "pt", 0, 2, 2, template_render,
	    "template render TEMPLATE DATA.json [--partials DIR] [--text]",
	    NULL },
	{ "check", NULL, "", 0, 1, 1, template_check,
	    "template check TEMPLATE", NULL },
};

const struct cli_group cli_group_template = {
	"template", "render a Mustache template", template_text,
	template_options, NULL, sizeof(struct template_opts), NULL,
	template_subs, nitems(template_subs)
};
