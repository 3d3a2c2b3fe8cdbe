/*
 * System mail: what Clarion writes outside runs, in answer to inbound
 * mail and for owners: the unsubscribe confirmation, a member's reply
 * forwarded to the list owner, the bounce digest and the quarantine
 * report. It is outbound mail (send.c delivers it from the sysmail
 * table), whoever asks for it (inbound_apply.c, bounce.c). Each is rendered from a template in templates_dir
 * (NAME.txt.mustache, and NAME.html.mustache when present) and queued in
 * sysmail with a dedupe key, so a crash and a retry cannot queue it twice.
 * When a template file is missing, a short built-in text is used instead,
 * so the answer is never lost to a packaging mistake.
 *
 * Template data (JSON):
 *   unsubscribed: list {name, display_name, from}, member {name, address}
 *   forward:      list, member {name, address} (from the delivery when the
 *                 token was valid, else the From header), from {name,
 *                 address} (the reply's From, also its Reply-To), item
 *                 {name, subject}, reply {subject, text, message_id,
 *                 verified}
 *   digest:       list, count, disabled [{address, name, reason, when}],
 *                 any_disabled, complaints and unfiled [{address, name,
 *                 class, folder, action, message_id, when}]
 *   quarantined:  list, mailbox, prefix, folder, uid, uidvalidity, size,
 *                 attempts
 */
#include "config.h"

#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "clarion.h"

static const char fallback_unsubscribed[] =
    "You have been unsubscribed from {{list.display_name}}.\n\n"
    "You will get no more mail from this list. If this was a mistake,\n"
    "reply to this message and a person will put it right.\n";

static const char fallback_forward[] =
    "{{member.name}} <{{member.address}}> (writing as {{from.address}}) "
    "replied to "
    "\"{{item.subject}}\" ({{item.name}}, list {{list.name}})"
    "{{^reply.verified}} (unverified: matched by In-Reply-To only){{/reply.verified}}:\n\n"
    "Subject: {{reply.subject}}\n\n{{reply.text}}\n\n"
    "-- \nReply to this message to answer {{member.name}} directly.\n";

static const char fallback_digest[] =
    "Addresses on {{list.display_name}} disabled since the last digest "
    "({{count}}):\n\n"
    "{{#disabled}}- {{address}} {{#name}}({{name}}) {{/name}}on {{when}}: "
    "{{reason}}\n{{/disabled}}\n"
    "They get no more mail. `clarion bounces --list {{list.name}}` shows "
    "more.\n"
    "{{#complaints}}Complaint: {{address}} {{#name}}({{name}}) {{/name}}"
    "on {{when}}: {{action}}\n{{/complaints}}"
    "{{#unfiled}}Filed without an effect: {{address}} on {{when}}, "
    "{{class}} in {{folder}} ({{message_id}}): {{action}}\n{{/unfiled}}";

static const char fallback_quarantined[] =
    "A message in the mailbox {{mailbox}} stopped Clarion's inbound process "
    "{{attempts}} times while it was being read, so it was moved, unread, "
    "to the folder {{folder}} under {{prefix}} (IMAP UID {{uid}}, UIDVALIDITY "
    "{{uidvalidity}}, {{size}} bytes).\n\n"
    "Nothing in it was acted on. The mail behind it is read as usual.\n"
    "If it is an unsubscribe or a bounce, apply it by hand; moving it back\n"
    "to {{mailbox}} has it read again. `clarion status` counts quarantined\n"
    "messages.\n";

static const char fallback_unsubscribe_request[] =
    "Someone asked, from {{member.address}}, to unsubscribe this address\n"
    "from {{list.display_name}}.\n\n"
    "Mail sent to our plain address can come from anyone, so nothing has\n"
    "been changed yet. To unsubscribe, reply to this message (it goes to\n"
    "{{unsubscribe}}). If you did not ask, ignore it: you stay subscribed.\n";

static const char *
fallback_for(const char *name)
{
	if (strcmp(name, "unsubscribe-request") == 0)
		return fallback_unsubscribe_request;
	if (strcmp(name, "quarantined") == 0)
		return fallback_quarantined;
	if (strcmp(name, "unsubscribed") == 0)
		return fallback_unsubscribed;
	if (strcmp(name, "forward") == 0)
		return fallback_forward;
	return fallback_digest;
}

static int
render_one(const struct config *conf, struct tmpl_partials *ps,
    const char *name, const char *ext, json_t *data, int html,
    struct buf *out, char **cause)
{
	struct tmpl	*t;
	const char	*fb;
	char		*path;
	int		 rc;

	xasprintf(&path, "%s/%s.%s.mustache", conf->templates_dir, name, ext);
	if (access(path, F_OK) == 0)
		t = tmpl_parse_file(path, cause);
	else if (html) {
		free(path);
		return 1;
	} else {
		fb = fallback_for(name);
		t = tmpl_parse(fb, strlen(fb), cause);
	}
	free(path);
	if (t == NULL)
		return -1;
	rc = tmpl_render(t, data, ps, html, out, cause);
	tmpl_free(t);
	return rc;
}

/* Renders the template and builds the whole message. */
static int
build(const struct config *conf, const char *name, json_t *data,
    struct message *m, struct buf *out, char **cause)
{
	struct tmpl_partials *ps;
	struct buf	 text, html;
	int		 rc, hrc;

	ps = tmpl_partials_new(conf->templates_dir);
	buf_init(&text);
	buf_init(&html);
	rc = render_one(conf, ps, name, "txt", data, 0, &text, cause);
	if (rc == 0 && (hrc = render_one(conf, ps, name, "html", data, 1,
	    &html, cause)) == -1)
		rc = -1;
	if (rc == 0) {
		m->text = text.data != NULL ? text.data : "";
		m->html = html.data;
		m->date = clock_now();
		m->boundary_seed = m->message_id;
		buf_init(out);
		if ((rc = mime_build(m, out, cause)) == -1)
			buf_free(out);
	}
	buf_free(&text);
	buf_free(&html);
	tmpl_partials_free(ps);
	return rc;
}

static char *
sys_message_id(const struct config *conf, const char *kind)
{
	static unsigned int	 n;
	char			*s;

	xasprintf(&s, "clarion.sys.%s.%lld.%ld.%u@%s", kind,
	    (long long)clock_now(), (long)getpid(), ++n, conf->domain);
	return s;
}

static json_t *
list_json(const struct list_info *l)
{
	return json_pack("{s:s, s:s, s:s}", "name", l->name, "display_name",
	    l->display_name[0] != '\0' ? l->display_name : l->name, "from",
	    l->from_addr);
}

static int
queue(struct db *db, const char *kind, int64_t list_id, const char *to,
    struct buf *msg, const char *dedupe, char **cause)
{
	char	*why = NULL;
	int	 rc;

	rc = db_sysmail_add(db, kind, list_id, to, msg->data, msg->len,
	    dedupe, &why);
	if (rc == -1)
		xasprintf(cause, "cannot queue the %s message: %s", kind, why);
	free(why);
	return rc;
}

/*
 * The confirmation to a member who unsubscribed by mail. 0 queued, 1 one
 * with this dedupe key was queued before, -1 on error.
 */
int
sysmail_unsubscribed(struct db *db, const struct config *conf,
    int64_t subscriber_id, int64_t list_id, const char *in_reply_to,
    const char *dedupe, char **cause)
{
	struct list_info l;
	struct message	 m;
	struct buf	 out;
	json_t		*data, *attrs = NULL;
	char		*addr = NULL, *name = NULL, *subject, *mid;
	int		 rc = -1;

	if (db_list_get(db, list_id, &l) == -1) {
		xasprintf(cause, "list %lld not found", (long long)list_id);
		return -1;
	}
	if (subscriber_get(db, subscriber_id, &addr, &name, &attrs) == -1) {
		list_info_free(&l);
		xasprintf(cause, "subscriber %lld not found",
		    (long long)subscriber_id);
		return -1;
	}
	data = json_pack("{s:o, s:{s:s, s:s}}", "list", list_json(&l),
	    "member", "name", name, "address", addr);
	xasprintf(&subject, "Unsubscribed from %s", l.display_name[0] != '\0' ?
	    l.display_name : l.name);
	mid = sys_message_id(conf, "unsubscribed");
	memset(&m, 0, sizeof m);
	m.from_name = l.display_name[0] != '\0' ? l.display_name : l.name;
	m.from_addr = l.from_addr;
	m.to_name = name;
	m.to_addr = addr;
	m.subject = subject;
	m.message_id = mid;
	m.in_reply_to = in_reply_to;
	/* It says a person will put a mistake right: a reply reaches one. */
	m.reply_to = l.owner_addr;
	m.auto_submitted = "auto-replied";
	if (build(conf, "unsubscribed", data, &m, &out, cause) == 0) {
		rc = queue(db, "unsubscribed", list_id, addr, &out, dedupe,
		    cause);
		buf_free(&out);
	}
	json_decref(data);
	json_decref(attrs);
	free(subject);
	free(mid);
	free(addr);
	free(name);
	list_info_free(&l);
	return rc;
}

/*
 * The subject the member saw: the item's subject rendered with the run's
 * frozen context (not "week of {{run.date}}"); the item's own if the run
 * has none.
 */
static char *
forward_subject(struct db *db, const struct sysmail_forward *f)
{
	struct tmpl	*t;
	struct buf	 b;
	json_t		*ctx = NULL;
	char		*text, *cause = NULL;
	const char	*raw = f->ref->item_subject != NULL ?
			    f->ref->item_subject : "";

	if ((text = db_run_context(db, f->ref->run_id)) != NULL) {
		ctx = json_loads(text, 0, NULL);
		free(text);
	}
	buf_init(&b);
	if (ctx != NULL && (t = tmpl_parse(raw, strlen(raw), &cause)) !=
	    NULL) {
		if (tmpl_render(t, ctx, NULL, 0, &b, &cause) == -1)
			buf_reset(&b);
		tmpl_free(t);
	}
	free(cause);
	json_decref(ctx);
	if (b.len == 0) {
		buf_free(&b);
		return xstrdup(raw);
	}
	return buf_steal(&b);
}

static json_t *
forward_data(const struct list_info *l, const struct sysmail_forward *f,
    const char *name, const char *addr, const char *subject)
{
	const struct classify_result *cr = f->cr;

	return json_pack("{s:o, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}, "
	    "s:{s:s, s:s, s:s, s:b}}", "list", list_json(l),
	    "member", "name", name, "address", addr,
	    "from", "name", cr->from_name != NULL ? cr->from_name : "",
	    "address", cr->from != NULL ? cr->from : "",
	    "item", "name", f->ref->item_name != NULL ? f->ref->item_name : "",
	    "subject", subject,
	    "reply", "subject", cr->subject != NULL ? cr->subject : "",
	    "text", cr->new_text != NULL ? cr->new_text : "",
	    "message_id", cr->message_id != NULL ? cr->message_id : "",
	    "verified", f->verified);
}

/*
 * Who the reply is about: the delivery's member when the token was good
 * (name and address as stored), else whoever the From header names.
 */
static void
forward_who(struct db *db, const struct sysmail_forward *f, char **name,
    char **addr)
{
	json_t	*attrs = NULL;

	*name = *addr = NULL;
	if (f->verified && f->ref->subscriber_id > 0 &&
	    subscriber_get(db, f->ref->subscriber_id, addr, name,
	    &attrs) == 0) {
		json_decref(attrs);
		if (**name == '\0' && f->cr->from_name != NULL) {
			free(*name);
			*name = xstrdup(f->cr->from_name);
		}
		return;
	}
	*name = xstrdup(f->cr->from_name != NULL ? f->cr->from_name : "");
	*addr = xstrdup(f->cr->from != NULL ? f->cr->from : "");
}

/* A member's reply, forwarded to the list owner with Reply-To the member. */
int
sysmail_forward(struct db *db, const struct config *conf,
    const struct sysmail_forward *f, const char *dedupe, char **cause)
{
	struct list_info l;
	struct message	 m;
	struct buf	 out;
	json_t		*data;
	char		*addr, *name, *subject, *mid, *isubject;
	int		 rc = -1;

	if (db_list_get(db, f->ref->list_id, &l) == -1) {
		xasprintf(cause, "list %lld not found",
		    (long long)f->ref->list_id);
		return -1;
	}
	forward_who(db, f, &name, &addr);
	isubject = forward_subject(db, f);
	data = forward_data(&l, f, *name != '\0' ? name : addr, addr,
	    isubject);
	free(isubject);
	xasprintf(&subject, "[%s] Reply from %s: %s", l.name,
	    *name != '\0' ? name : addr, f->cr->subject != NULL ?
	    f->cr->subject : "(no subject)");
	mid = sys_message_id(conf, "forward");
	memset(&m, 0, sizeof m);
	m.from_name = "Clarion";
	m.from_addr = l.from_addr;
	m.to_addr = l.owner_addr;
	/* Answers go to whoever wrote, which may be another address of theirs. */
	m.reply_to = f->cr->from != NULL ? f->cr->from : *addr != '\0' ?
	    addr : NULL;
	m.subject = subject;
	m.message_id = mid;
	m.auto_submitted = "auto-generated";
	if (build(conf, "forward", data, &m, &out, cause) == 0) {
		rc = queue(db, "forward", l.id, l.owner_addr, &out, dedupe,
		    cause);
		buf_free(&out);
	}
	json_decref(data);
	free(subject);
	free(mid);
	free(addr);
	free(name);
	list_info_free(&l);
	return rc;
}

/*
 * A message from a person that names no delivery of ours (no token, or
 * not one that checks): forwarded, unverified, to every list owner once,
 * since nothing in it says which list it is about. Returns the number
 * queued now (0 if all were queued before), -1 on error.
 */
int
sysmail_forward_owners(struct db *db, const struct config *conf,
    const struct classify_result *cr, const char *dedupe, char **cause)
{
	struct sysmail_forward f;
	struct delivery_ref ref;
	struct list_info *v;
	size_t		 n, i, j;
	char		*key;
	int		 rc, queued = 0, failed = 0;

	if (db_list_all(db, &v, &n, cause) == -1)
		return -1;
	for (i = 0; i < n && failed == 0; i++) {
		for (j = 0; j < i; j++)
			if (strcasecmp(v[j].owner_addr, v[i].owner_addr) == 0)
				break;
		if (j < i)
			continue;
		memset(&ref, 0, sizeof ref);
		ref.list_id = v[i].id;
		ref.item_name = "none";
		ref.item_subject = "(it names no message of ours)";
		memset(&f, 0, sizeof f);
		f.cr = cr;
		f.ref = &ref;
		xasprintf(&key, "%s:%s", dedupe, v[i].owner_addr);
		rc = sysmail_forward(db, conf, &f, key, cause);
		free(key);
		if (rc == -1)
			failed++;
		else if (rc == 0)
			queued++;
	}
	for (i = 0; i < n; i++)
		list_info_free(&v[i]);
	free(v);
	return failed > 0 ? -1 : queued;
}

/*
 * "Unsubscribe" sent to the plain address from a member's address: the
 * From header can be forged, so nothing is done; the member's own
 * address is asked to confirm by replying to a signed unsubscribe
 * address (the token of their latest delivery, for that list). 0 queued,
 * 1 queued before, 2 the member has had no mail to make a token from,
 * -1 on error.
 */
int
sysmail_unsubscribe_request(struct db *db, const struct config *conf,
    const struct token_keys *keys, int64_t subscriber_id,
    const char *in_reply_to, const char *dedupe, char **cause)
{
	struct list_info l;
	struct message	 m;
	struct buf	 out;
	json_t		*data, *attrs = NULL;
	char		 tok[TOKEN_MAX];
	char		*addr = NULL, *name = NULL, *subject, *mid, *unsub, *nonce;
	int64_t		 delivery, list_id;
	int		 rc = -1;

	if (db_subscriber_last_delivery(db, subscriber_id, &delivery,
	    &list_id) == -1)
		return 2;
	if (db_list_get(db, list_id, &l) == -1) {
		xasprintf(cause, "list %lld not found", (long long)list_id);
		return -1;
	}
	if (subscriber_get(db, subscriber_id, &addr, &name, &attrs) == -1) {
		list_info_free(&l);
		xasprintf(cause, "subscriber %lld not found",
		    (long long)subscriber_id);
		return -1;
	}
	nonce = db_delivery_nonce(db, delivery);
	token_make_nonce(keys, TOKEN_UNSUBSCRIBE, delivery, nonce, tok,
	    sizeof tok);
	free(nonce);
	xasprintf(&unsub, "%s%c%s@%s", conf->unsubscribe_local,
	    conf->delimiter, tok, conf->domain);
	data = json_pack("{s:o, s:{s:s, s:s}, s:s}", "list", list_json(&l),
	    "member", "name", name, "address", addr, "unsubscribe", unsub);
	xasprintf(&subject, "Confirm: unsubscribe from %s",
	    l.display_name[0] != '\0' ? l.display_name : l.name);
	mid = sys_message_id(conf, "unsubscribe-request");
	memset(&m, 0, sizeof m);
	m.from_name = l.display_name[0] != '\0' ? l.display_name : l.name;
	m.from_addr = l.from_addr;
	m.to_name = name;
	m.to_addr = addr;
	m.subject = subject;
	m.message_id = mid;
	m.in_reply_to = in_reply_to;
	/* Only a reply from the real mailbox brings the token back. */
	m.reply_to = unsub;
	m.auto_submitted = "auto-replied";
	if (build(conf, "unsubscribe-request", data, &m, &out, cause) == 0) {
		/* The kind of unsubscribe mail (sysmail.kind's CHECK). */
		rc = queue(db, "unsubscribed", list_id, addr, &out,
		    dedupe, cause);
		buf_free(&out);
	}
	json_decref(data);
	json_decref(attrs);
	free(subject);
	free(mid);
	free(unsub);
	free(addr);
	free(name);
	list_info_free(&l);
	return rc;
}

static json_t *
digest_rows(const struct bounce_row *rows, size_t n, const char *tz)
{
	json_t	*a = json_array();
	char	*when;
	size_t	 i;

	for (i = 0; i < n; i++) {
		when = time_format_local(rows[i].disabled_at, tz,
		    "%Y-%m-%d %H:%M");
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}",
		    "address", rows[i].address, "name", rows[i].name,
		    "reason", rows[i].reason, "when", when));
		free(when);
	}
	return a;
}

/* Complaints (complaint set) or messages filed without an effect. */
static json_t *
digest_inbound(const struct inbound_digest_row *v, size_t n, int complaint,
    const char *tz)
{
	json_t	*a = json_array();
	char	*when;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (v[i].complaint != complaint)
			continue;
		when = time_format_local(v[i].received_at, tz,
		    "%Y-%m-%d %H:%M");
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, "
		    "s:s, s:s}", "address", v[i].address[0] != '\0' ?
		    v[i].address : "no member known", "name", v[i].name,
		    "class", v[i].class, "folder", v[i].folder, "action",
		    v[i].action, "message_id", v[i].message_id, "when", when));
		free(when);
	}
	return a;
}

/*
 * The owner's digest of one list's disabled members, complaints and
 * messages filed without an effect (in), and how many
 * deliveries were not sent because their member left after the run was
 * composed (refused).
 */
int
sysmail_digest(struct db *db, const struct config *conf,
    const struct list_info *l, const struct bounce_row *rows, size_t n,
    const struct inbound_digest_row *in, size_t nin,
    long refused, const char *dedupe, char **cause)
{
	struct message	 m;
	struct buf	 out;
	json_t		*data, *complaints, *unfiled;
	char		*subject, *mid;
	size_t		 nc, nu;
	int		 rc = -1;

	complaints = digest_inbound(in, nin, 1, conf->timezone);
	unfiled = digest_inbound(in, nin, 0, conf->timezone);
	nc = json_array_size(complaints);
	nu = json_array_size(unfiled);
	data = json_pack("{s:o, s:i, s:o, s:b, s:o, s:o}", "list",
	    list_json(l), "count", (int)n, "disabled",
	    digest_rows(rows, n, conf->timezone), "any_disabled", n > 0,
	    "complaints", complaints, "unfiled", unfiled);
	json_object_set_new(data, "any_complaints", json_boolean(nc > 0));
	json_object_set_new(data, "any_unfiled", json_boolean(nu > 0));
	if (refused > 0)
		json_object_set_new(data, "suppressed", json_integer(refused));
	if (n > 0)
		xasprintf(&subject, "[%s] %zu address%s disabled after bounces"
		    "%s", l->name, n, n == 1 ? "" : "es", nc + nu > 0 ?
		    ", and inbound mail for a person" : "");
	else
		xasprintf(&subject, "[%s] %zu complaint%s, %zu message%s "
		    "filed without an effect", l->name, nc, nc == 1 ? "" : "s",
		    nu, nu == 1 ? "" : "s");
	mid = sys_message_id(conf, "digest");
	memset(&m, 0, sizeof m);
	m.from_name = "Clarion";
	m.from_addr = l->from_addr;
	m.to_addr = l->owner_addr;
	m.subject = subject;
	m.message_id = mid;
	m.auto_submitted = "auto-generated";
	if (build(conf, "digest", data, &m, &out, cause) == 0) {
		rc = queue(db, "digest", l->id, l->owner_addr, &out, dedupe,
		    cause);
		buf_free(&out);
	}
	json_decref(data);
	free(subject);
	free(mid);
	return rc;
}

/* One owner's report of a quarantined message. 0 queued, 1 queued before. */
static int
quarantined_one(struct db *db, const struct config *conf,
    const struct list_info *l, const struct sysmail_quarantine *q,
    char **cause)
{
	struct message	 m;
	struct buf	 out;
	json_t		*data;
	char		*mid, *dedupe;
	int		 rc = -1;

	data = json_pack("{s:o, s:s, s:s, s:s, s:I, s:I, s:I, s:i}", "list",
	    list_json(l), "mailbox", q->mailbox, "prefix",
	    conf->imap.folder_prefix, "folder", q->folder, "uid",
	    (json_int_t)q->uid, "uidvalidity", (json_int_t)q->uidvalidity,
	    "size", (json_int_t)q->size, "attempts", q->attempts);
	mid = sys_message_id(conf, "quarantined");
	xasprintf(&dedupe, "quarantined:%s/%u/%u:%s", q->mailbox,
	    q->uidvalidity, q->uid, l->owner_addr);
	memset(&m, 0, sizeof m);
	m.from_name = "Clarion";
	m.from_addr = l->from_addr;
	m.to_addr = l->owner_addr;
	m.subject = "A message was quarantined: it stopped the inbound process";
	m.message_id = mid;
	m.auto_submitted = "auto-generated";
	if (build(conf, "quarantined", data, &m, &out, cause) == 0) {
		/* An owner's report, as the digest is (sysmail's kinds). */
		rc = queue(db, "digest", l->id, l->owner_addr, &out, dedupe,
		    cause);
		buf_free(&out);
	}
	json_decref(data);
	free(dedupe);
	free(mid);
	return rc;
}

/*
 * Tells the owners that a message was quarantined: nothing in it was
 * read, so it may concern any list, and each owner address is told once.
 * One owner that cannot be written to does not stop the others. Returns
 * the number of reports queued now (cause set if any failed), or -1 when
 * none could be.
 */
int
sysmail_quarantined(struct db *db, const struct config *conf,
    const struct sysmail_quarantine *q, char **cause)
{
	struct list_info *v;
	size_t		 n, i, j;
	char		*why;
	int		 queued = 0, failed = 0;

	if (db_list_all(db, &v, &n, cause) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcasecmp(v[j].owner_addr, v[i].owner_addr) == 0)
				break;
		if (j < i)
			continue;
		why = NULL;
		switch (quarantined_one(db, conf, &v[i], q, &why)) {
		case 0:
			queued++;
			break;
		case -1:
			if (failed++ == 0 && *cause == NULL)
				*cause = why;
			else
				free(why);
			break;
		}
	}
	for (i = 0; i < n; i++)
		list_info_free(&v[i]);
	free(v);
	return failed > 0 && queued == 0 ? -1 : queued;
}
