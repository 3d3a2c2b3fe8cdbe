/*
 * Mustache templates (template.c). The input is a template, then
 * optionally a NUL and a JSON data document, then optionally a NUL and
 * the text of a partial named "p" (so partials, and partials that include
 * themselves, are reached too). Rendered both HTML-escaped and not.
 */
#include "config.h"

#include <jansson.h>

#include "clarion.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz", 0, LOG_LEVEL_ERROR);
	return 0;
}

static json_t *
fuzz_data(const char *s, size_t len)
{
	json_t	*j;

	if (len > 0 && (j = json_loadb(s, len, JSON_DECODE_ANY, NULL)) != NULL)
		return j;
	return json_pack("{s:s, s:[{s:s},{s:s}], s:b, s:{s:s}}", "name",
	    "<b>Jo</b> & co", "events", "title", "Strike", "title", "Picket",
	    "ok", 1, "list", "display_name", "Members");
}

static void
fuzz_render(const struct tmpl *t, json_t *j, struct tmpl_partials *ps,
    int escape)
{
	struct buf	 out;
	char		*cause = NULL;

	buf_init(&out);
	if (tmpl_render(t, j, ps, escape, &out, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
	}
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*src = (const char *)data, *nul, *jsrc;
	const char		*psrc = NULL;
	size_t			 tlen, jlen = 0, plen = 0;
	struct tmpl		*t;
	struct tmpl_partials	*ps;
	json_t			*j;
	char			*cause = NULL;

	nul = memchr(src, '\0', size);
	tlen = nul != NULL ? (size_t)(nul - src) : size;
	jsrc = nul != NULL ? nul + 1 : src + size;
	if (nul != NULL) {
		jlen = size - tlen - 1;
		if ((nul = memchr(jsrc, '\0', jlen)) != NULL) {
			psrc = nul + 1;
			plen = jlen - (size_t)(psrc - jsrc);
			jlen = (size_t)(nul - jsrc);
		}
	}
	if ((t = tmpl_parse(src, tlen, &cause)) == NULL) {
		if (cause == NULL)
			abort();
		free(cause);
		return 0;
	}
	ps = tmpl_partials_new(NULL);
	if (psrc != NULL && tmpl_partials_add(ps, "p", psrc, plen, &cause) == -1)
		free(cause);
	j = fuzz_data(jsrc, jlen);
	fuzz_render(t, j, ps, 1);
	fuzz_render(t, j, ps, 0);
	json_decref(j);
	tmpl_partials_free(ps);
	tmpl_free(t);
	return 0;
}
