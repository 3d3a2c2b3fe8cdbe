/*
 * mime_dump DESCRIPTION.json: builds one message with mime_build() and
 * prints it. The description holds the fields of struct message (date as
 * seconds since the epoch, booleans as true/false). Instead of "text" and
 * "html" it may name templates to render:
 *   "templates": DIR, "template": "bulletin", "data": {...}
 * renders DIR/bulletin.txt.mustache (not escaped) and
 * DIR/bulletin.html.mustache (escaped), partials from DIR; "markdown":
 * "..." is rendered first into data.content_text and data.content_html.
 * Relative "templates" paths are taken from the description's directory.
 * Exit 0, or 65 with the reason on stderr.
 */
#include "config.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clarion.h"

static const char *
str(json_t *d, const char *key)
{
	json_t	*v = json_object_get(d, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
render_file(const char *dir, const char *name, const char *ext,
    json_t *data, int escape, char **res)
{
	struct tmpl_partials	*ps;
	struct tmpl		*t;
	struct buf		 out;
	char			*path, *cause;
	int			 rc;

	xasprintf(&path, "%s/%s.%s.mustache", dir, name, ext);
	t = tmpl_parse_file(path, &cause);
	free(path);
	if (t == NULL) {
		fprintf(stderr, "mime_dump: %s\n", cause);
		free(cause);
		return -1;
	}
	ps = tmpl_partials_new(dir);
	buf_init(&out);
	rc = tmpl_render(t, data, ps, escape, &out, &cause);
	if (rc == -1) {
		fprintf(stderr, "mime_dump: %s: %s\n", name, cause);
		free(cause);
	}
	*res = buf_steal(&out);
	tmpl_partials_free(ps);
	tmpl_free(t);
	return rc;
}

static int
add_markdown(json_t *data, const char *md)
{
	struct buf	 b;

	buf_init(&b);
	if (md_to_html(md, &b) == -1)
		return -1;
	json_object_set_new(data, "content_html", json_string(b.data));
	buf_reset(&b);
	if (md_to_text(md, &b) == -1)
		return -1;
	json_object_set_new(data, "content_text", json_string(b.data));
	buf_free(&b);
	return 0;
}

static int
render_templates(json_t *d, const char *base, char **text, char **html)
{
	json_t		*data = json_object_get(d, "data");
	const char	*dir = str(d, "templates"), *name = str(d, "template");
	char		*full;
	int		 rc;

	if (dir == NULL || name == NULL || !json_is_object(data)) {
		fprintf(stderr, "mime_dump: templates, template and data "
		    "go together\n");
		return -1;
	}
	if (str(d, "markdown") != NULL &&
	    add_markdown(data, str(d, "markdown")) == -1)
		return -1;
	if (dir[0] == '/')
		full = xstrdup(dir);
	else
		xasprintf(&full, "%s/%s", base, dir);
	rc = render_file(full, name, "txt", data, 0, text);
	if (rc == 0)
		rc = render_file(full, name, "html", data, 1, html);
	free(full);
	return rc;
}

int
main(int argc, char **argv)
{
	struct message	 m;
	json_error_t	 err;
	json_t		*d;
	struct buf	 out;
	char		*cause, *text = NULL, *html = NULL, *copy;

	if (argc != 2) {
		fprintf(stderr, "usage: mime_dump DESCRIPTION.json\n");
		return 64;
	}
	if ((d = json_load_file(argv[1], 0, &err)) == NULL) {
		fprintf(stderr, "mime_dump: %s:%d:%d: %s\n", argv[1], err.line,
		    err.column, err.text);
		return 65;
	}
	memset(&m, 0, sizeof m);
	copy = xstrdup(argv[1]);
	if (str(d, "template") != NULL &&
	    render_templates(d, dirname(copy), &text, &html) == -1) {
		free(copy);
		json_decref(d);
		return 65;
	}
	free(copy);
	m.from_name = str(d, "from_name");
	m.from_addr = str(d, "from_addr");
	m.to_name = str(d, "to_name");
	m.to_addr = str(d, "to_addr");
	m.reply_to = str(d, "reply_to");
	m.subject = str(d, "subject");
	m.message_id = str(d, "message_id");
	m.date = (time_t)json_integer_value(json_object_get(d, "date"));
	m.list_id = str(d, "list_id");
	m.list_unsubscribe = str(d, "list_unsubscribe");
	m.one_click = json_is_true(json_object_get(d, "one_click"));
	m.bulk = json_is_true(json_object_get(d, "bulk"));
	m.auto_submitted = str(d, "auto_submitted");
	m.in_reply_to = str(d, "in_reply_to");
	m.references = str(d, "references");
	m.test = json_is_true(json_object_get(d, "test"));
	m.text = text != NULL ? text : str(d, "text");
	m.html = html != NULL ? html : str(d, "html");
	m.ics = str(d, "ics");
	m.ics_method = str(d, "ics_method");
	m.boundary_seed = str(d, "boundary_seed");
	buf_init(&out);
	if (mime_build(&m, &out, &cause) == -1) {
		fprintf(stderr, "mime_dump: %s\n", cause);
		free(cause);
		free(text);
		free(html);
		json_decref(d);
		return 65;
	}
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	free(text);
	free(html);
	json_decref(d);
	return 0;
}
