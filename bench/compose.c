/*
 * bench/compose [-n COUNT] DESCRIPTION.json: renders the description's
 * templates (text and HTML, parsed once) for COUNT synthetic members
 * (default 100000), each with their own name, address and tokens, and
 * builds each message with mime_build into memory. Prints messages per
 * second, megabytes per second and the peak resident set size.
 */
#include "config.h"

#include <sys/resource.h>

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"

struct bench {
	struct tmpl		*text, *html;
	struct tmpl_partials	*ps;
	json_t			*data;
	struct buf		 t, h, msg;
	size_t			 bytes;
};

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct tmpl *
load(const char *dir, const char *name, const char *ext)
{
	struct tmpl	*t;
	char		*path, *cause;

	xasprintf(&path, "%s/%s.%s.mustache", dir, name, ext);
	if ((t = tmpl_parse_file(path, &cause)) == NULL)
		fatalx("%s", cause);
	free(path);
	return t;
}

/* The run's shared data, with the Markdown rendered as compose does. */
static void
setup(struct bench *b, const char *path)
{
	json_error_t	 err;
	json_t		*d;
	const char	*md, *dir, *name;
	char		*copy, *full;

	if ((d = json_load_file(path, 0, &err)) == NULL)
		fatalx("%s:%d: %s", path, err.line, err.text);
	dir = json_string_value(json_object_get(d, "templates"));
	name = json_string_value(json_object_get(d, "template"));
	if (dir == NULL || name == NULL)
		fatalx("%s: needs templates and template", path);
	copy = xstrdup(path);
	if (dir[0] == '/')
		full = xstrdup(dir);
	else
		xasprintf(&full, "%s/%s", dirname(copy), dir);
	b->text = load(full, name, "txt");
	b->html = load(full, name, "html");
	b->ps = tmpl_partials_new(full);
	b->data = json_incref(json_object_get(d, "data"));
	if ((md = json_string_value(json_object_get(d, "markdown"))) != NULL) {
		buf_init(&b->t);
		md_to_html(md, &b->t);
		json_object_set_new(b->data, "content_html",
		    json_string(b->t.data));
		buf_reset(&b->t);
		md_to_text(md, &b->t);
		json_object_set_new(b->data, "content_text",
		    json_string(b->t.data));
	}
	free(full);
	free(copy);
	json_decref(d);
}

static void
one(struct bench *b, long i)
{
	struct message	 m;
	char		 name[64], first[32], addr[64], mid[64], unsub[160];
	char		 url[128], lu[320], *cause;
	json_t		*sub;

	snprintf(first, sizeof first, "Member%ld", i);
	snprintf(name, sizeof name, "%s Ødegård", first);
	snprintf(addr, sizeof addr, "member%ld@example.net", i);
	snprintf(mid, sizeof mid, "clarion.1.%ld@example.org", i);
	snprintf(unsub, sizeof unsub, "mailto:unsubscribe+u%08lxqz@example.org"
	    "?subject=unsubscribe", i);
	snprintf(url, sizeof url, "https://example.org/unsubscribe?t=u%08lxqz",
	    i);
	snprintf(lu, sizeof lu, "<%s>, <%s>", url, unsub);
	sub = json_pack("{s:s, s:s, s:s, s:{}}", "name", name, "first_name",
	    first, "address", addr, "attrs");
	json_object_set_new(b->data, "subscriber", sub);
	json_object_set_new(b->data, "unsubscribe_mailto", json_string(unsub));
	json_object_set_new(b->data, "unsubscribe_url", json_string(url));
	buf_reset(&b->t);
	buf_reset(&b->h);
	buf_reset(&b->msg);
	if (tmpl_render(b->text, b->data, b->ps, 0, &b->t, &cause) == -1 ||
	    tmpl_render(b->html, b->data, b->ps, 1, &b->h, &cause) == -1)
		fatalx("render: %s", cause);
	memset(&m, 0, sizeof m);
	m.from_name = "Hillside CLP";
	m.from_addr = "news@example.org";
	m.to_name = name;
	m.to_addr = addr;
	m.reply_to = "reply+r0000000000@example.org";
	m.subject = "Strikes, ballots and pickets: week of 7 December";
	m.message_id = mid;
	m.date = 1765094400;
	m.list_id = "Hillside Members <members.example.org>";
	m.list_unsubscribe = lu;
	m.one_click = m.bulk = 1;
	m.text = b->t.data;
	m.html = b->h.data;
	m.boundary_seed = mid;
	if (mime_build(&m, &b->msg, &cause) == -1)
		fatalx("mime_build: %s", cause);
	b->bytes += b->msg.len;
}

int
main(int argc, char **argv)
{
	struct bench	 b;
	struct rusage	 ru;
	long		 n = 100000, i;
	double		 t0, dt;
	int		 c;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n' || (n = strtol(optarg, NULL, 10)) <= 0) {
			fprintf(stderr, "usage: compose [-n COUNT] "
			    "DESCRIPTION.json\n");
			return 64;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: compose [-n COUNT] DESCRIPTION.json\n");
		return 64;
	}
	memset(&b, 0, sizeof b);
	setup(&b, argv[optind]);
	t0 = now();
	for (i = 0; i < n; i++)
		one(&b, i);
	dt = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("messages: %ld\nseconds: %.2f\nmsgs/s: %.0f\n"
	    "MB/s: %.1f\nmean message: %zu bytes\npeak RSS: %ld KiB\n", n, dt,
	    (double)n / dt, (double)b.bytes / dt / 1e6, b.bytes / (size_t)n,
	    ru.ru_maxrss);
	buf_free(&b.t);
	buf_free(&b.h);
	buf_free(&b.msg);
	tmpl_free(b.text);
	tmpl_free(b.html);
	tmpl_partials_free(b.ps);
	json_decref(b.data);
	return 0;
}
