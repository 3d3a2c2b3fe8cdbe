/*
 * Fetching by HTTP(S) (and file://, for local calendars and tests): the
 * one door to libcurl besides smtp.c. A conditional GET with
 * If-None-Match / If-Modified-Since, redirects followed (to http and
 * https only), the body capped, the final response's validators kept.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clarion.h"

/* One transfer: the caller's request and the result being filled. */
struct fetch {
	const struct http_get	*req;
	struct http_result	*res;
	int			 too_big;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct fetch	*f = arg;

	if (f->res->body.len + size * n > (size_t)f->req->max_size) {
		f->too_big = 1;
		return 0;
	}
	buf_add(&f->res->body, p, size * n);
	return size * n;
}

/* Keeps the validators of the final response (after any redirect). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_result *f = ((struct fetch *)arg)->res;
	size_t		 len = size * n;
	char		*line, *v, **slot = NULL;

	line = xstrndup(p, len);
	if (str_casecmp_prefix(line, "HTTP/")) {
		free(f->etag);
		free(f->last_modified);
		f->etag = f->last_modified = NULL;
	} else if (str_casecmp_prefix(line, "ETag:"))
		slot = &f->etag;
	else if (str_casecmp_prefix(line, "Last-Modified:"))
		slot = &f->last_modified;
	if (slot != NULL) {
		v = str_trim(strchr(line, ':') + 1);
		free(*slot);
		*slot = *v != '\0' && !str_has_ctl(v) ? xstrdup(v) : NULL;
	}
	free(line);
	return len;
}

static struct curl_slist *
validators(const struct http_get *fd)
{
	struct curl_slist *h = NULL;
	char		*s;

	if (fd->etag != NULL) {
		xasprintf(&s, "If-None-Match: %s", fd->etag);
		h = curl_slist_append(h, s);
		free(s);
	}
	if (fd->last_modified != NULL) {
		xasprintf(&s, "If-Modified-Since: %s", fd->last_modified);
		h = curl_slist_append(h, s);
		free(s);
	}
	return h;
}

static void
fetch_setup(CURL *c, const struct http_get *fd, struct fetch *f,
    struct curl_slist *h, char *err)
{
	curl_easy_setopt(c, CURLOPT_URL, fd->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, fd->timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE, fd->max_size);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "Clarion/" CLARION_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
}

/*
 * GET url with the validators given, at most max_size bytes. 0 with the
 * body and the new validators, or with not_modified set (304); -1 with
 * a cause. res is always to be freed with http_result_free().
 */
int
http_fetch(const struct http_get *fd, struct http_result *res, char **cause)
{
	struct curl_slist *h;
	struct fetch	 f;
	CURL		*c;
	CURLcode	 rc;
	char		 err[CURL_ERROR_SIZE] = "";
	long		 code = 0;

	memset(res, 0, sizeof *res);
	buf_init(&res->body);
	memset(&f, 0, sizeof f);
	f.req = fd;
	f.res = res;
	if ((c = curl_easy_init()) == NULL) {
		xasprintf(cause, "%s: cannot start libcurl", fd->url);
		return -1;
	}
	h = validators(fd);
	fetch_setup(c, fd, &f, h, err);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		if (f.too_big)
			xasprintf(cause, "%s: larger than %ld MB", fd->url,
			    fd->max_size / (1024 * 1024));
		else
			xasprintf(cause, "%s: %s", fd->url, *err != '\0' ?
			    err : curl_easy_strerror(rc));
		return -1;
	}
	if (code == 304) {
		res->not_modified = 1;
		return 0;
	}
	/* file:// has no status; HTTP must say 200. */
	if (code != 0 && code != 200) {
		xasprintf(cause, "%s: the server answered %ld", fd->url, code);
		return -1;
	}
	return 0;
}

void
http_result_free(struct http_result *res)
{
	buf_free(&res->body);
	free(res->etag);
	free(res->last_modified);
}
