/*
 * The drift test for clarion.conf(5): every key config.c knows is
 * documented, and nothing else is. The convention, checked exactly: a key
 * is an item ".It Cm KEY Ar TYPE" (a group: ".It Cm GROUP" alone) whose
 * text, up to the next item, says "Default" (a group's need not).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clarion.h"
#include "tap.h"

struct doc_item {
	char	*key;
	char	*type;	/* NULL when the item line has no "Ar TYPE" */
	int	 has_default;
};

static const char *const types[] = {
	"string", "path", "integer", "boolean", "duration", "time", "date",
	"keyword", "character", NULL
};

/* Parses ".It Cm KEY [Ar TYPE]"; returns 0 if the line is not an item. */
static int
item_parse(const char *line, struct doc_item *it)
{
	char	 key[128], ar[8], type[32];
	int	 n;

	if (strncmp(line, ".It Cm ", 7) != 0)
		return 0;
	n = sscanf(line + 7, "%127s %7s %31s", key, ar, type);
	if (n < 1)
		return 0;
	memset(it, 0, sizeof *it);
	it->key = xstrdup(key);
	if (n == 3 && strcmp(ar, "Ar") == 0)
		it->type = xstrdup(type);
	return 1;
}

static struct doc_item *
page_items(const char *text, size_t *np)
{
	struct doc_item	*items = NULL;
	char		*copy, *line, *next;
	size_t		 n = 0;
	int		 in_item = 0;

	copy = xstrdup(text);
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, ".It ", 4) == 0 ||
		    strncmp(line, ".El", 3) == 0 || strncmp(line, ".Sh", 3) == 0)
			in_item = 0;
		items = xreallocarray(items, n + 1, sizeof *items);
		if (item_parse(line, &items[n])) {
			in_item = 1;
			n++;
		} else if (in_item && strstr(line, "Default") != NULL)
			items[n - 1].has_default = 1;
	}
	free(copy);
	*np = n;
	return items;
}

static const struct doc_item *
item_find(const struct doc_item *items, size_t n, const char *key)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strcmp(items[i].key, key) == 0)
			return &items[i];
	}
	return NULL;
}

static int
is_group(const char *const *keys, const char *key)
{
	size_t	 len = strlen(key);

	for (; *keys != NULL; keys++) {
		if (strncmp(*keys, key, len) == 0 && (*keys)[len] == '.')
			return 1;
	}
	return 0;
}

static int
type_known(const char *type)
{
	size_t	 i;

	for (i = 0; type != NULL && types[i] != NULL; i++) {
		if (strcmp(types[i], type) == 0)
			return 1;
	}
	return 0;
}

static void
check_key(const char *const *keys, const struct doc_item *items, size_t n,
    const char *key)
{
	const struct doc_item *it;

	if (!ok((it = item_find(items, n, key)) != NULL,
	    "clarion.conf.5 documents %s", key))
		return;
	if (is_group(keys, key)) {
		ok(it->type == NULL, "%s is a group: no type given", key);
		return;
	}
	ok(type_known(it->type), "%s: its type (%s) is one of the page's "
	    "types", key, it->type != NULL ? it->type : "none");
	ok(it->has_default, "%s: its default is given", key);
}

static int
key_known(const char *const *keys, const char *key)
{
	for (; *keys != NULL; keys++) {
		if (strcmp(*keys, key) == 0)
			return 1;
	}
	return 0;
}

int
main(void)
{
	const char *const *keys = config_known_keys();
	const char	*srcdir;
	struct doc_item	*items;
	char		*path, *text, *cause;
	size_t		 n, i, len;

	if ((srcdir = getenv("top_srcdir")) == NULL)
		srcdir = ".";
	xasprintf(&path, "%s/doc/clarion.conf.5", srcdir);
	if ((text = file_read(path, &len, &cause)) == NULL) {
		ok(0, "read %s: %s", path, cause);
		return tap_done();
	}
	items = page_items(text, &n);
	ok(n > 0, "clarion.conf.5 has key items");
	for (i = 0; keys[i] != NULL; i++)
		check_key(keys, items, n, keys[i]);
	for (i = 0; i < n; i++)
		ok(key_known(keys, items[i].key), "documented key %s is one "
		    "config.c knows", items[i].key);
	for (i = 0; i < n; i++) {
		free(items[i].key);
		free(items[i].type);
	}
	free(items);
	free(text);
	free(path);
	return tap_done();
}
