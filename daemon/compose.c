/*
 * Composition: a due run becomes one delivery row per recipient, and each
 * delivery becomes the exact bytes of one message when it is sent.
 *
 * The shared part of a run (its events, its newsletter text, a meeting's
 * invite) is built once and frozen into the run as JSON before any
 * delivery exists, by run_context_freeze() (the call a preview makes
 * too), so every member gets the same content, however long the run
 * takes and across restarts. The message
 * itself is not stored: it is rendered again from the frozen context,
 * which gives the same bytes (and the same Message-ID) on a resend.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"

#define RUN_CACHE 4

struct cached_template {
	char		*name;
	struct tmpl	*text;
	struct tmpl	*html;	/* NULL when there is no HTML variant */
};

struct cached_run {
	int64_t		 id;
	json_t		*context;
	enum run_purpose purpose;
	struct item	 item;
	struct list_info list;
	struct tmpl	*subject;
	struct cached_template *tmpl;
};

struct composer {
	struct db		*db;
	const struct config	*conf;
	const struct token_keys	*keys;
	struct tmpl_partials	*partials;
	struct cached_template	*templates;
	size_t			 ntemplates;
	struct cached_run	 runs[RUN_CACHE];
	size_t			 next;
};

struct composer *
composer_new(struct db *db, const struct config *conf,
    const struct token_keys *keys)
{
	struct composer	*c;

	c = xcalloc(1, sizeof *c);
	c->db = db;
	c->conf = conf;
	c->keys = keys;
	c->partials = tmpl_partials_new(conf->templates_dir);
	return c;
}

static void
cached_run_clear(struct cached_run *r)
{
	if (r->id == 0)
		return;
	json_decref(r->context);
	item_clear(&r->item);
	list_info_free(&r->list);
	tmpl_free(r->subject);
	memset(r, 0, sizeof *r);
}

void
composer_free(struct composer *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < RUN_CACHE; i++)
		cached_run_clear(&c->runs[i]);
	for (i = 0; i < c->ntemplates; i++) {
		free(c->templates[i].name);
		tmpl_free(c->templates[i].text);
		tmpl_free(c->templates[i].html);
	}
	free(c->templates);
	tmpl_partials_free(c->partials);
	free(c);
}

/* A template name is a plain word: it must not walk out of the directory. */
static int
template_name_ok(const char *name)
{
	const char	*p;

	if (*name == '\0' || *name == '.')
		return 0;
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return 0;
	}
	return 1;
}

static struct cached_template *
template_get(struct composer *c, const char *name, char **cause)
{
	struct cached_template	 t;
	char			*path;
	size_t			 i;

	for (i = 0; i < c->ntemplates; i++) {
		if (strcmp(c->templates[i].name, name) == 0)
			return &c->templates[i];
	}
	if (!template_name_ok(name)) {
		xasprintf(cause, "'%s' is not a template name", name);
		return NULL;
	}
	memset(&t, 0, sizeof t);
	xasprintf(&path, "%s/%s.txt.mustache", c->conf->templates_dir, name);
	t.text = tmpl_parse_file(path, cause);
	free(path);
	if (t.text == NULL)
		return NULL;
	xasprintf(&path, "%s/%s.html.mustache", c->conf->templates_dir, name);
	if (access(path, F_OK) == 0 &&
	    (t.html = tmpl_parse_file(path, cause)) == NULL) {
		free(path);
		tmpl_free(t.text);
		return NULL;
	}
	free(path);
	t.name = xstrdup(name);
	c->templates = xreallocarray(c->templates, c->ntemplates + 1,
	    sizeof *c->templates);
	c->templates[c->ntemplates] = t;
	return &c->templates[c->ntemplates++];
}

static int
run_load(struct composer *c, struct cached_run *r, int64_t id, char **cause)
{
	struct run	 run;
	json_error_t	 err;
	const char	*tname;
	char		*text;
	int64_t		 item_id;

	memset(&run, 0, sizeof run);
	if (db_run_get(c->db, id, &run) == -1) {
		xasprintf(cause, "run %lld: not found", (long long)id);
		return -1;
	}
	r->purpose = run.purpose;
	item_id = run.item_id;
	run_clear(&run);
	if (db_item_get(c->db, item_id, &r->item) == -1 ||
	    db_list_get(c->db, r->item.list_id, &r->list) == -1) {
		xasprintf(cause, "run %lld: its item or list is gone",
		    (long long)id);
		return -1;
	}
	if ((text = db_run_context(c->db, id)) == NULL) {
		xasprintf(cause, "run %lld: not composed yet", (long long)id);
		return -1;
	}
	r->context = json_loads(text, 0, &err);
	free(text);
	if (r->context == NULL) {
		xasprintf(cause, "run %lld: bad context: %s", (long long)id,
		    err.text);
		return -1;
	}
	if ((r->subject = tmpl_parse(r->item.subject, strlen(r->item.subject),
	    cause)) == NULL)
		return -1;
	/* A run may name its own template: a notice's reminder uses "reminder". */
	tname = json_string_value(json_object_get(json_object_get(r->context,
	    "run"), "template"));
	if ((r->tmpl = template_get(c, tname != NULL ? tname :
	    r->item.template, cause)) == NULL)
		return -1;
	r->id = id;
	return 0;
}

static struct cached_run *
run_get(struct composer *c, int64_t id, char **cause)
{
	struct cached_run	*r;
	size_t			 i;

	for (i = 0; i < RUN_CACHE; i++) {
		if (c->runs[i].id == id)
			return &c->runs[i];
	}
	r = &c->runs[c->next];
	c->next = (c->next + 1) % RUN_CACHE;
	cached_run_clear(r);
	if (run_load(c, r, id, cause) == -1) {
		/* security (ASan): cached_run_clear skips id 0, which would
		 * leak what run_load got before failing. */
		r->id = -1;
		cached_run_clear(r);
		r->id = 0;
		return NULL;
	}
	return r;
}

/* The database nonce frozen with the run; NULL for runs made before. */
static const char *
run_nonce(const struct cached_run *r)
{
	const char	*n;

	n = json_string_value(json_object_get(r->context, "nonce"));
	return n != NULL && *n != '\0' ? n : NULL;
}

/* local+TOKEN@domain */
static char *
token_address(const struct config *conf, const struct token_keys *keys,
    const char *local, enum token_purpose purpose, int64_t delivery,
    const char *nonce)
{
	char	 tok[TOKEN_MAX], *s;

	token_make_nonce(keys, purpose, delivery, nonce, tok, sizeof tok);
	xasprintf(&s, "%s%c%s@%s", local, conf->delimiter, tok, conf->domain);
	return s;
}

static char *
first_name(const char *name)
{
	size_t	 n = strcspn(name, " \t");

	return xstrndup(name, n);
}

struct personal {
	char	*unsub_mailto;
	char	*unsub_url;
	char	*reply;
	char	*bounce;
	char	*list_unsubscribe;
	char	*list_id;
	char	*message_id;
	char	*feedback_id;
	char	*ics;		/* the invite with this member in it */
};

static void
personal_free(struct personal *p)
{
	free(p->unsub_mailto);
	free(p->unsub_url);
	free(p->reply);
	free(p->bounce);
	free(p->list_unsubscribe);
	free(p->list_id);
	free(p->message_id);
	free(p->feedback_id);
	free(p->ics);
}

/*
 * Feedback-ID (Gmail's feedback loop): KIND:LIST:SENDER, the sender our
 * domain, so complaint rates are reported per list and kind of mail.
 */
static char *
feedback_id(const struct cached_run *r, const char *domain)
{
	char	*s, *p;

	xasprintf(&s, "%s:%s:%s", r->item.kind, r->list.name, domain);
	for (p = s; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-_:", *p) == NULL)
			*p = '-';
	return s;
}

static void
personal_make(struct composer *c, const struct cached_run *r,
    int64_t delivery, struct personal *p)
{
	const struct config	*conf = c->conf;
	const char		*nonce = run_nonce(r);
	char			*unsub, tok[TOKEN_MAX];

	memset(p, 0, sizeof *p);
	unsub = token_address(conf, c->keys, conf->unsubscribe_local,
	    TOKEN_UNSUBSCRIBE, delivery, nonce);
	xasprintf(&p->unsub_mailto, "mailto:%s?subject=unsubscribe", unsub);
	if (conf->unsubscribe_url != NULL) {
		token_make_nonce(c->keys, TOKEN_UNSUBSCRIBE, delivery, nonce,
		    tok, sizeof tok);
		xasprintf(&p->unsub_url, "%s%st=%s", conf->unsubscribe_url,
		    strchr(conf->unsubscribe_url, '?') ? "&" : "?", tok);
		xasprintf(&p->list_unsubscribe, "<%s>, <%s>", p->unsub_url,
		    p->unsub_mailto);
	} else
		xasprintf(&p->list_unsubscribe, "<%s>", p->unsub_mailto);
	free(unsub);
	p->reply = token_address(conf, c->keys, conf->reply_local, TOKEN_REPLY,
	    delivery, nonce);
	p->bounce = token_address(conf, c->keys, conf->bounce_local,
	    TOKEN_BOUNCE, delivery, nonce);
	xasprintf(&p->list_id, "%s <%s.%s>", r->list.display_name[0] != '\0' ?
	    r->list.display_name : r->list.name, r->list.name, conf->domain);
	/*
	 * Derived from the delivery and the run's frozen nonce: a resend
	 * carries the same Message-ID, a restored database's new run does not.
	 */
	p->feedback_id = feedback_id(r, conf->domain);
	if (nonce != NULL)
		xasprintf(&p->message_id, "clarion.%lld.%lld.%s@%s",
		    (long long)r->id, (long long)delivery, nonce, conf->domain);
	else
		xasprintf(&p->message_id, "clarion.%lld.%lld@%s",
		    (long long)r->id, (long long)delivery, conf->domain);
}

/* A meeting's invite names the member and Clarion's reply address. */
static void
personal_invite(const struct cached_run *r, const struct recipient *rcpt,
    struct personal *p)
{
	const char	*ics, *method;

	if ((ics = json_string_value(json_object_get(r->context,
	    "ics"))) == NULL)
		return;
	method = json_string_value(json_object_get(r->context, "ics_method"));
	p->ics = ical_personal(ics, p->reply, r->list.display_name[0] !=
	    '\0' ? r->list.display_name : r->list.name, rcpt->address,
	    rcpt->name, method == NULL || strcmp(method, "CANCEL") != 0);
}

/*
 * Only plain variable tags ({{subscriber.first_name}}) may be merged into
 * an officer's Markdown: no sections, partials or unescaped {{{ }}}, which
 * would put a member's own name into the HTML raw.
 */
static int
content_merge_ok(const char *s)
{
	const char	*p;
	size_t		 n;

	for (p = s; (p = strstr(p, "{{")) != NULL; p += n) {
		p += 2;
		p += strspn(p, " ");
		if ((n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
		    "OPQRSTUVWXYZ0123456789_.")) == 0)
			return 0;
		n += strspn(p + n, " ");
		if (strncmp(p + n, "}}", 2) != 0)
			return 0;
	}
	return 1;
}

/* Merge fields in the item's content, rendered (escaped) like templates. */
static void
content_merge(json_t *d, const char *key, int html)
{
	const char	*src;
	struct tmpl	*t;
	struct buf	 b;
	char		*cause = NULL;

	if ((src = json_string_value(json_object_get(d, key))) == NULL ||
	    strstr(src, "{{") == NULL || !content_merge_ok(src))
		return;
	if ((t = tmpl_parse(src, strlen(src), &cause)) == NULL) {
		free(cause);
		return;
	}
	buf_init(&b);
	if (tmpl_render(t, d, NULL, html, &b, &cause) == 0 && b.data != NULL)
		json_object_set_new(d, key, json_string(b.data));
	free(cause);
	buf_free(&b);
	tmpl_free(t);
}

/* The per-recipient data layered over a copy of the run's context. */
static json_t *
data_make(const struct cached_run *r, const struct recipient *rcpt,
    const struct personal *p, int test)
{
	json_t	*d, *sub, *attrs;
	char	*first;

	d = json_deep_copy(r->context);
	attrs = rcpt->attrs != NULL ? json_incref(rcpt->attrs) : json_object();
	first = first_name(rcpt->name != NULL ? rcpt->name : "");
	sub = json_pack("{s:s, s:s, s:s, s:o}", "name",
	    rcpt->name != NULL ? rcpt->name : "", "first_name", first,
	    "address", rcpt->address, "attrs", attrs);
	free(first);
	json_object_set_new(d, "subscriber", sub);
	json_object_set_new(d, "list", json_pack("{s:s, s:s, s:s, s:s}",
	    "name", r->list.name, "display_name", r->list.display_name,
	    "from_addr", r->list.from_addr, "footer", r->list.footer));
	json_object_set_new(d, "unsubscribe_mailto",
	    json_string(p->unsub_mailto));
	json_object_set_new(d, "unsubscribe_url",
	    json_string(p->unsub_url != NULL ? p->unsub_url : ""));
	json_object_set_new(d, "reply_address", json_string(p->reply));
	json_object_set_new(d, "test", json_boolean(test));
	content_merge(d, "content_html", 1);
	content_merge(d, "content_text", 0);
	content_merge(d, "preheader", 0);
	return d;
}

static int
render_parts(struct composer *c, const struct cached_run *r, json_t *data,
    struct buf *subject, struct buf *text, struct buf *html, char **cause)
{
	if (tmpl_render(r->subject, data, c->partials, 0, subject,
	    cause) == -1 || tmpl_render(r->tmpl->text, data, c->partials, 0,
	    text, cause) == -1)
		return -1;
	if (r->tmpl->html != NULL && tmpl_render(r->tmpl->html, data,
	    c->partials, 1, html, cause) == -1)
		return -1;
	return 0;
}

static void
message_fill(struct message *m, const struct cached_run *r,
    const struct recipient *rcpt, const struct personal *p, time_t date)
{
	json_t	*ics;

	memset(m, 0, sizeof *m);
	m->from_name = r->list.display_name[0] != '\0' ?
	    r->list.display_name : r->list.name;
	m->from_addr = r->list.from_addr;
	m->to_name = rcpt->name;
	m->to_addr = rcpt->address;
	m->reply_to = p->reply;
	m->message_id = p->message_id;
	m->date = date;
	m->list_id = p->list_id;
	m->list_unsubscribe = p->list_unsubscribe;
	m->one_click = p->unsub_url != NULL;
	m->feedback_id = p->feedback_id;
	m->bulk = 1;
	m->boundary_seed = p->message_id;
	if ((ics = json_object_get(r->context, "ics")) != NULL &&
	    json_is_string(ics)) {
		m->ics = p->ics != NULL ? p->ics : json_string_value(ics);
		m->ics_method = json_string_value(json_object_get(r->context,
		    "ics_method"));
		if (m->ics_method == NULL)
			m->ics_method = "REQUEST";
	}
}

/* The rendered subject, text and HTML, as a preview shows them. */
int
composer_render_parts(struct composer *c, int64_t run, int64_t delivery,
    const struct recipient *rcpt, int test, struct buf *subject,
    struct buf *text, struct buf *html, char **cause)
{
	struct cached_run	*r;
	struct personal		 p;
	json_t			*data;
	int			 rc;

	if ((r = run_get(c, run, cause)) == NULL)
		return -1;
	personal_make(c, r, delivery, &p);
	data = data_make(r, rcpt, &p, test);
	rc = render_parts(c, r, data, subject, text, html, cause);
	json_decref(data);
	personal_free(&p);
	return rc;
}

/*
 * The message for one recipient of a run. delivery names the tokens and
 * the Message-ID; rcpt may be a real member or, for a preview, anyone.
 */
int
composer_render(struct composer *c, int64_t run, int64_t delivery,
    const struct recipient *rcpt, int test, struct outmsg *out, char **cause)
{
	struct cached_run	*r;
	struct personal		 p;
	struct message		 m;
	struct buf		 subject, text, html;
	json_t			*data;
	char			*tsubject = NULL;
	int			 rc = -1;

	if ((r = run_get(c, run, cause)) == NULL)
		return -1;
	personal_make(c, r, delivery, &p);
	personal_invite(r, rcpt, &p);
	data = data_make(r, rcpt, &p, test);
	buf_init(&subject);
	buf_init(&text);
	buf_init(&html);
	if (render_parts(c, r, data, &subject, &text, &html, cause) == 0) {
		message_fill(&m, r, rcpt, &p, clock_now());
		m.subject = subject.data != NULL ? subject.data : "";
		if (test) {
			/*
			 * A test goes to an officer: marked in the subject, and
			 * To: without the name of the member it was rendered for.
			 */
			xasprintf(&tsubject, "[TEST] %s", m.subject);
			m.subject = tsubject;
			m.to_name = NULL;
		}
		m.text = text.data != NULL ? text.data : "";
		m.html = html.data;
		m.test = test;
		memset(out, 0, sizeof *out);
		buf_init(&out->data);
		if (mime_build(&m, &out->data, cause) == 0) {
			out->delivery_id = delivery;
			out->envelope_from = xstrdup(p.bounce);
			out->rcpt = xstrdup(c->conf->test_address != NULL ?
			    c->conf->test_address : rcpt->address);
			rc = 0;
		} else
			buf_free(&out->data);
	}
	json_decref(data);
	free(tsubject);
	buf_free(&subject);
	buf_free(&text);
	buf_free(&html);
	personal_free(&p);
	return rc;
}

int
composer_message(struct composer *c, int64_t delivery, struct outmsg *out,
    char **cause)
{
	struct recipient rcpt;
	int64_t		 run, sub;
	char		*address, *name = NULL;
	json_t		*attrs = NULL;
	int		 rc;

	if (db_delivery_row(c->db, delivery, &run, &sub, &address) == -1) {
		xasprintf(cause, "delivery %lld: not found or erased",
		    (long long)delivery);
		return -1;
	}
	memset(&rcpt, 0, sizeof rcpt);
	rcpt.subscriber_id = sub;
	rcpt.address = address;
	if (sub != 0 && subscriber_get(c->db, sub, NULL, &name,
	    &attrs) == 0) {
		rcpt.name = name;
		rcpt.attrs = attrs;
	}
	rc = composer_render(c, run, delivery, &rcpt, 0, out, cause);
	free(address);
	free(name);
	json_decref(attrs);
	return rc;
}

int
compose_message(struct daemon_ctx *ctx, int64_t delivery, struct outmsg *out,
    char **cause)
{
	if (ctx->composer == NULL)
		ctx->composer = composer_new(ctx->db, ctx->conf, &ctx->keys);
	return composer_message(ctx->composer, delivery, out, cause);
}

void
outmsg_free(struct outmsg *m)
{
	if (m == NULL)
		return;
	free(m->envelope_from);
	free(m->rcpt);
	buf_free(&m->data);
	m->envelope_from = m->rcpt = NULL;
}

/* Composing a run: the shared context, then one delivery per recipient. */

struct adder {
	struct daemon_ctx	*ctx;
	struct db_delivery_batch *batch;
	long			 suppressed;
};

static int
add_member(void *arg, const struct recipient *r)
{
	struct adder	*a = arg;

	a->suppressed += r->suppressed != 0;
	return db_delivery_batch_add(a->batch, r->subscriber_id, r->address,
	    r->suppressed);
}

static int
add_notified(void *arg, int64_t sub, const char *address)
{
	struct adder	*a = arg;
	char		*reason = NULL;
	int		 suppressed;

	/* Leaving the list is no bar to this mail: the claim decides. */
	suppressed = subscriber_suppression_reason(a->ctx->db, &a->ctx->keys,
	    address, &reason) == 1 && (reason == NULL ||
	    strcmp(reason, "unsubscribed") != 0);
	free(reason);
	a->suppressed += suppressed;
	return db_delivery_batch_add(a->batch, sub, address, suppressed);
}

/*
 * Freezes the run's context. Returns 1 if the run was skipped (an empty
 * bulletin), 0 to go on, -1 on error (the run stays planned: next tick).
 */
static int
freeze_context(struct daemon_ctx *ctx, const struct run *run,
    const struct item *item, time_t now)
{
	char	*cause = NULL;
	int	 empty;

	switch (run_context_freeze(ctx->db, ctx->conf, item, run->id, 1, now,
	    &empty, &cause)) {
	case RCTX_FROZEN:
		return 0;
	case RCTX_EMPTY:
		log_info("run %lld (%s): skipped: nothing to send",
		    (long long)run->id, item->name);
		return db_run_set_state(ctx->db, run->id, RUN_SKIPPED,
		    "no events", now) == 0 ? 1 : -1;
	case RCTX_UNBUILT:
		log_warnx("run %lld (%s): %s", (long long)run->id, item->name,
		    cause);
		break;
	case RCTX_UNSTORED:
		break;
	}
	free(cause);
	return -1;
}

static int
add_deliveries(struct daemon_ctx *ctx, const struct run *run,
    const struct item *item, time_t now, long *added, long *suppressed)
{
	struct adder	 a;
	char		*cause = NULL;
	int		 prio, rc;

	/* Meeting mail first: a notice must not wait behind a newsletter. */
	prio = item->priority + (run->purpose != PURPOSE_ISSUE ? 10 : 0);
	memset(&a, 0, sizeof a);
	a.ctx = ctx;
	if ((a.batch = db_delivery_batch_new(ctx->db, run->id, prio,
	    now)) == NULL)
		return -1;
	if (run->purpose == PURPOSE_UPDATE || run->purpose == PURPOSE_CANCEL)
		rc = db_notice_recipients(ctx->db, item->id, item->list_id,
		    add_notified, &a, &cause);
	else
		rc = subscriber_recipients(ctx->db, &ctx->keys, item->list_id,
		    item->segment, add_member, &a, &cause);
	if (rc == -1) {
		log_warnx("run %lld (%s): recipients: %s", (long long)run->id,
		    item->name, cause);
		free(cause);
	}
	*added = db_delivery_batch_finish(a.batch, rc == 0);
	*suppressed = a.suppressed;
	return rc == 0 && *added >= 0 ? 0 : -1;
}

/*
 * A run whose segment selects none of the list's members is not quietly
 * "done" with nothing sent: it is skipped with the reason, and logged at
 * warning. Returns 1 if so, 0 if the run has no segment to blame.
 */
static int
segment_empty(struct daemon_ctx *ctx, const struct run *run,
    const struct item *item, time_t now)
{
	struct list_counts	 lc;
	char			*reason;
	int			 rc;

	if (*item->segment == '\0' || run->purpose != PURPOSE_ISSUE ||
	    db_list_counts(ctx->db, item->list_id, &lc) == -1 ||
	    lc.subscribed == 0)
		return 0;
	xasprintf(&reason, "its segment %s matches none of the list's %ld "
	    "members", item->segment, lc.subscribed);
	log_warnx("run %lld (%s): skipped: %s", (long long)run->id,
	    item->name, reason);
	rc = db_run_set_state(ctx->db, run->id, RUN_SKIPPED, reason, now);
	free(reason);
	return rc == 0 ? 1 : -1;
}

static int
compose_run(struct daemon_ctx *ctx, int64_t id, time_t now)
{
	struct run	 run;
	struct item	 item;
	long		 added = 0, suppressed = 0;
	int		 rc = -1;

	memset(&run, 0, sizeof run);
	item_init(&item);
	if (db_run_get(ctx->db, id, &run) == -1 ||
	    db_item_get(ctx->db, run.item_id, &item) == -1)
		goto out;
	if ((rc = freeze_context(ctx, &run, &item, now)) != 0) {
		rc = rc == 1 ? 0 : -1;
		goto out;
	}
	if ((rc = add_deliveries(ctx, &run, &item, now, &added,
	    &suppressed)) == -1)
		goto out;
	if (added == 0 && (rc = segment_empty(ctx, &run, &item, now)) != 0) {
		rc = rc == 1 ? 0 : -1;
		goto out;
	}
	rc = db_run_set_sending(ctx->db, id);
	log_info("run %lld (%s, %s) started: %ld deliveries queued, %ld "
	    "suppressed", (long long)id, item.name, run_purpose_name(run.purpose),
	    added - suppressed, suppressed);
out:
	run_clear(&run);
	item_clear(&item);
	return rc;
}

/* One line per finished run with what became of its deliveries. */
static void
log_run_done(struct daemon_ctx *ctx, int64_t id)
{
	struct delivery_counts	 c;
	struct run		 run;

	memset(&run, 0, sizeof run);
	memset(&c, 0, sizeof c);
	if (db_run_get(ctx->db, id, &run) == -1 ||
	    db_run_delivery_counts(ctx->db, id, &c, NULL) == -1) {
		log_info("run %lld done", (long long)id);
		run_clear(&run);
		return;
	}
	log_info("run %lld (%s, %s) done: %ld sent, %ld failed, %ld "
	    "suppressed, %ld cancelled, %ld held", (long long)id, run.item_name,
	    run_purpose_name(run.purpose), c.sent, c.failed, c.suppressed, c.cancelled, c.held);
	run_clear(&run);
}

/* Once per stuck run, not per delivery: why, and the way out. */
static void
log_run_held(struct daemon_ctx *ctx, int64_t id)
{
	struct delivery_counts	 c;
	struct run		 run;

	memset(&run, 0, sizeof run);
	memset(&c, 0, sizeof c);
	if (db_run_get(ctx->db, id, &run) == -1 ||
	    db_run_delivery_counts(ctx->db, id, &c, NULL) == -1) {
		log_warnx("run %lld held", (long long)id);
		run_clear(&run);
		return;
	}
	log_warnx("run %lld (%s, %s) held: %ld sent, %ld deliveries held: %s; "
	    "fix the cause, then clarion run release %lld (or clarion run "
	    "cancel %lld)", (long long)id, run.item_name,
	    run_purpose_name(run.purpose), c.sent,
	    c.held, run.reason, (long long)id, (long long)id);
	run_clear(&run);
}

int
compose_step(struct daemon_ctx *ctx)
{
	int64_t	*ids;
	size_t	 n, i;
	time_t	 now = clock_now();
	int	 rc = 0;

	if (db_compose_pending(ctx->db, now, &ids, &n) == -1)
		return -1;
	for (i = 0; i < n && !daemon_stopping(ctx); i++) {
		if (compose_run(ctx, ids[i], now) == -1)
			rc = -1;
	}
	free(ids);
	if (db_runs_finish(ctx->db, now, &ids, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		log_run_done(ctx, ids[i]);
	free(ids);
	if (db_runs_hold(ctx->db, now, &ids, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		log_run_held(ctx, ids[i]);
	free(ids);
	return rc;
}
