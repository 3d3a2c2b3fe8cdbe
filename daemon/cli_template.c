/* clarion template: render a Mustache template against JSON data. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static const char template_usage[] =
    "usage: clarion template render TEMPLATE DATA.json [--partials DIR] "
    "[--text]\n"
    "       clarion template check TEMPLATE\n\n"
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

static int
template_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "partials", required_argument, NULL, 'p' },
		{ "text", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct tmpl_partials	*ps = NULL;
	struct tmpl		*t = NULL;
	json_t			*data = NULL;
	struct buf		 out;
	const char		*dir = NULL;
	char			*cause;
	int			 c, text = 0, rc;

	optind = 0;	/* glibc: start afresh for this argv */
	while ((c = getopt_long(argc, argv, "p:t", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			dir = optarg;
			break;
		case 't':
			text = 1;
			break;
		default:
			return cli_usage(template_usage, "bad option");
		}
	}
	if (argc - optind != 2)
		return cli_usage(template_usage, "render needs TEMPLATE and "
		    "DATA.json");
	if (dir != NULL && access(dir, X_OK) == -1)
		return cli_error(EX_NOINPUT, "%s: %s", dir, strerror(errno));
	if ((rc = load_template(argv[optind], &t)) != EX_OK)
		return rc;
	if ((rc = load_data(argv[optind + 1], &data)) != EX_OK) {
		tmpl_free(t);
		return rc;
	}
	ps = tmpl_partials_new(dir);
	buf_init(&out);
	if (tmpl_render(t, data, ps, !text, &out, &cause) == -1) {
		rc = cli_error(EX_DATAERR, "%s: %s", argv[optind], cause);
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
template_check(int argc, char **argv)
{
	struct tmpl	*t;
	int		 rc;

	if (argc != 2)
		return cli_usage(template_usage, "check needs TEMPLATE");
	if ((rc = load_template(argv[1], &t)) != EX_OK)
		return rc;
	tmpl_free(t);
	return EX_OK;
}

int
cmd_template(struct cli *cli, int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") ==
		    0)
			return cli_usage(template_usage, NULL);
	if (argc < 2)
		return cli_usage(template_usage, "missing subcommand");
	if (strcmp(argv[1], "render") == 0)
		return template_render(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return template_check(argc - 1, argv + 1);
	return cli_unknown(template_usage, "template", argv[1]);
}
