/*
 * Clarion: mailing for a CLP and the union and community groups around it.
 * One header for the project's types and prototypes, as in tmux.
 * Each section names the file that implements it.
 */
#ifndef CLARION_H
#define CLARION_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sysexits.h>
#include <time.h>

#define CLARION_VERSION PACKAGE_VERSION

#ifndef nitems
#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define PRINTFLIKE(a, b) __attribute__((format(printf, a, b)))
#define NORETURN __attribute__((noreturn))

/* util.c */
struct buf {
	char	*data;	/* always NUL-terminated when not NULL */
	size_t	 len;
	size_t	 cap;
};

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) PRINTFLIKE(2, 3);
int	 xvasprintf(char **, const char *, va_list) PRINTFLIKE(2, 0);
void	 buf_init(struct buf *);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addc(struct buf *, char);
void	 buf_addf(struct buf *, const char *, ...) PRINTFLIKE(2, 3);
void	 buf_reset(struct buf *);
char	*buf_steal(struct buf *);
void	 buf_free(struct buf *);
char	*file_read(const char *, size_t *, char **);
int	 file_write_atomic(const char *, const void *, size_t, mode_t, char **);
int	 secret_file_read(const char *, char **, size_t *, char **);
int	 file_private_check(const char *, char **);
char	*path_resolve(const char *, const char *);
void	 explicit_zero(void *, size_t);
time_t	 clock_now(void);
int	 tz_known(const char *, char **);
void	 lines_print(FILE *, const char *, const char *);
int	 time_parse_local(const char *, const char *, time_t *, char **);
char	*time_format_local(time_t, const char *, const char *);
char	*time_format_rfc5322(time_t);
char	*time_format_iso(time_t);
int	 duration_parse(const char *, long *, char **);
char	*str_trim(char *);
int	 str_has_ctl(const char *);
int	 str_casecmp_prefix(const char *, const char *);
const char *str_casemem(const char *, size_t, const char *);
const char *str_casefind(const char *, const char *);
const char *str_casefind_any(const char *, const char *const *);
int	 str_caseprefix_any(const char *, const char *const *);

/* crypto.c: GnuTLS's door (HMAC, random bytes, certificate chains, keys) */
#define CRYPTO_HMAC_LEN	32	/* SHA-256 */
struct crypto_der {		/* one certificate as the server sent it */
	const unsigned char	*data;
	size_t			 len;
};
void	 crypto_hmac_sha256(const void *, size_t, const void *, size_t,
	     unsigned char *);
int	 crypto_random(void *, size_t);
int	 crypto_nonce(void *, size_t);
int	 crypto_verify_chain(const struct crypto_der *, size_t, const char *,
	     const char *, char **);
enum crypto_key_type {
	CRYPTO_KEY_NONE,	/* not an unencrypted PEM private key */
	CRYPTO_KEY_OTHER,	/* a key of some other algorithm */
	CRYPTO_KEY_RSA,
	CRYPTO_KEY_ED25519
};
int	 crypto_key_inspect(const char *, size_t, enum crypto_key_type *,
	     unsigned int *, char **);
int	 crypto_key_generate(enum crypto_key_type, char **, size_t *, char **,
	     char **);

/* log.c */
enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};
void	 log_init(const char *, int, enum log_level);
void	 log_set_level(enum log_level);
enum log_level log_get_level(void);
int	 log_level_parse(const char *, enum log_level *);
void	 log_set_hash_key(const unsigned char *, size_t);
const char *log_addr(const char *);
void	 log_warn(const char *, ...) PRINTFLIKE(1, 2);
void	 log_warnx(const char *, ...) PRINTFLIKE(1, 2);
void	 log_info(const char *, ...) PRINTFLIKE(1, 2);
void	 log_debug(const char *, ...) PRINTFLIKE(1, 2);
void	 fatal(const char *, ...) PRINTFLIKE(1, 2) NORETURN;
void	 fatalx(const char *, ...) PRINTFLIKE(1, 2) NORETURN;

/* config.c */
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/clarion/clarion.conf"

enum transport {
	TRANSPORT_OUTBOX,
	TRANSPORT_SMTP,
};

enum inbound_mode {
	INBOUND_IMAP,		/* replies, bounces, unsubscribes read over IMAP */
	INBOUND_EXTERNAL,	/* something else reads them (inbound = ...) */
};

enum resend_policy {
	RESEND_RESEND,	/* deliveries left in "sending" by a crash are resent */
	RESEND_HOLD,	/* ... are held for the owner: clarion run resend */
};

struct smtp_config {
	char	*url;		/* smtps://host:465 or smtp://host:587 */
	char	*user;
	char	*password_file;
	char	*password;	/* inline: only in a private config file */
	char	*ca_file;
	int	 tls_verify;	/* verify chain and host name */
	int	 require_tls;	/* STARTTLS mandatory on smtp:// */
	int	 connections;
	int	 timeout;	/* seconds */
	char	*helo;
};

struct imap_config {
	int	 enabled;
	char	*url;		/* imaps://host:993 or imap://host:143 */
	char	*user;
	char	*password_file;
	char	*password;
	char	*ca_file;
	int	 tls_verify;
	int	 starttls;
	char	*mailbox;	/* INBOX */
	char	*folder_prefix;	/* Clarion */
	int	 poll_interval;	/* seconds */
	int	 idle;
	int	 timeout;	/* seconds */
	long	 max_message_size;
};

/* dkim = { ... }: signing for relays that do not sign for the domain */
struct dkim_config {
	char	*selector;
	char	*domain;	/* d=; the config's domain when unset */
	char	*key_file;	/* PEM, private like a password file */
};

struct config {
	char	*path;		/* the file read */
	char	*database;
	char	*domain;
	char	*token_secret_file;
	char	*token_old_secret_file;	/* accepted until token_old_until */
	time_t	 token_old_until;
	char	*templates_dir;
	int	 templates_dir_line;	/* where the file sets it; 0 = default */
	char	*timezone;
	enum log_level log_level;
	char	*pid_file;
	int	 tick;		/* seconds between loop ticks */
	enum transport transport;
	char	*outbox;	/* Maildir for the outbox transport */
	char	*test_address;	/* when set, every message goes here */
	enum inbound_mode inbound;

	struct smtp_config smtp;
	struct imap_config imap;
	struct dkim_config dkim;

	int	 rate_per_minute;	/* 0 = unlimited */
	int	 rate_per_hour;
	int	 rate_per_day;
	int	 quiet_start;	/* minutes after local midnight, -1 = none */
	int	 quiet_end;

	char	*bounce_local;	/* envelope sender local part (VERP) */
	char	*reply_local;
	char	*unsubscribe_local;
	char	 delimiter;	/* detail delimiter: bounces+TOKEN */
	char	*unsubscribe_url;	/* https one-click endpoint base, optional */

	int	 retry_initial;	/* seconds before the first retry */
	int	 retry_max_interval;
	int	 retry_max_age;	/* give up (failed) after this many seconds */
	enum resend_policy resend_in_flight;
	int	 claim_batch;

	int	 missed_grace;	/* seconds: a run missed by more is skipped */
	int	 notice_days;	/* minimum notice for meetings */
	int	 reminder_before;	/* seconds before a meeting */
	int	 meeting_length;	/* seconds: DTEND of a meeting without end */

	int	 bounce_threshold;	/* soft-bounce points that disable */
	int	 bounce_window;	/* seconds over which points decay */
	int	 digest_interval;	/* seconds between owner digests */
};

struct config *config_load(const char *, char **);
void	 config_free(struct config *);
int	 config_load_secret(const struct config *, unsigned char **, size_t *,
	     char **);
int	 config_password(const char *, const char *, char **, char **);
const char *const *config_known_keys(void);

/* dkim.c: DKIM signing (libopendkim) and keys (through crypto.c) */
struct dkim_signer;
int	 dkim_signer_new(const struct config *, struct dkim_signer **,
	     char **);
void	 dkim_signer_free(struct dkim_signer *);
int	 dkim_sign_message(struct dkim_signer *, struct buf *, char **);
int	 dkim_keygen(const char *, const char *, const char *, const char *,
	     char **, char **);

/* align.c: the lists' From domains against DMARC alignment */
const char *align_domain(const char *);
const char *align_org_domain(const char *);
int	 align_freemail(const char *);
int	 align_from_check(const struct config *, const char *, char **);

/* dnscheck.c: check-config --dns */
#include <stdio.h>
struct db;
int	 dns_check(const struct config *, struct db *, FILE *);

/* check.c: templates and items against the setup (check-config) */
struct db;
int	 check_setup(const struct config *, struct db *, char **);
int	 check_template(const struct config *, const char *, char **);
char	*check_warnings(const struct config *, struct db *);

/*
 * db.c: the store behind one seam. struct db is opaque; the SQLite backend
 * (db*.c, db_sqlite.h) holds the SQL. db_*.c hold the queries of each
 * area. Every transaction is one unit of work: db_atomic() runs fn in one
 * (a savepoint when nested) and commits unless fn returns < 0;
 * db_trial() always rolls back.
 */
struct db;
struct token_keys;
#define DB_SCHEMA_VERSION db_schema_version()
#define DB_BUSY_TIMEOUT	10000	/* ms a write waits for another's lock */
struct db *db_open(const char *, int, char **);
int	 db_open_code(void);	/* sysexits code of the last failed open */
void	 db_library_init(void);
int	 db_damaged(struct db *);
const char *db_damage_reason(void);
void	 db_damaged_clear(void);
void	 db_busy_timeout(struct db *, int);
void	 db_close(struct db *);
int	 db_schema_version(void);
int	 db_user_version(struct db *);
int	 db_atomic(struct db *, int (*)(struct db *, void *), void *,
	     char **);
int	 db_trial(struct db *, int (*)(struct db *, void *), void *, char **);
#define DB_UNDO	(-3)	/* from fn: roll back, and it is not an error */
int	 db_state_set(struct db *, const char *, const char *, char **);
char	*db_state_get(struct db *, const char *);
char	*db_nonce(struct db *);
int	 db_nonce_renew(struct db *);
char	*db_delivery_nonce(struct db *, int64_t);
int	 db_checkpoint(struct db *);
int	 db_backup(struct db *, const char *, char **);
int	 db_use_keys(struct db *, const struct token_keys *);

struct db_count {
	char	*name;
	long	 count;
};
struct db_status {
	int	 version;
	long	 lists, subscribers, events, items;
	struct db_count *runs;
	size_t	 nruns;
	struct db_count *deliveries;
	size_t	 ndeliveries;
};
int	 db_status_get(struct db *, struct db_status *, char **);
void	 db_status_free(struct db_status *);

/* state.c: states and kinds as enums, each with its table of names */
enum run_state {
	RUN_PLANNED, RUN_COMPOSING, RUN_SENDING, RUN_HELD, RUN_DONE,
	RUN_SKIPPED, RUN_CANCELLED
};
enum run_purpose {
	PURPOSE_ISSUE, PURPOSE_NOTICE, PURPOSE_REMINDER, PURPOSE_UPDATE,
	PURPOSE_CANCEL, PURPOSE_TEST
};
enum item_status { ITEM_ACTIVE, ITEM_PAUSED, ITEM_CANCELLED, ITEM_DONE };
enum event_status { EVENT_CONFIRMED, EVENT_CANCELLED };
enum member_status { MEMBER_SUBSCRIBED, MEMBER_UNSUBSCRIBED, MEMBER_HELD };
enum delivery_state {
	DSTATE_QUEUED, DSTATE_SENDING, DSTATE_SENT, DSTATE_DEFERRED,
	DSTATE_FAILED, DSTATE_SUPPRESSED, DSTATE_HELD, DSTATE_CANCELLED
};
/* _name() of an unknown value is "unknown"; _parse() of an unknown is -1 */
const char *run_state_name(enum run_state);
int	 run_state_parse(const char *);
const char *run_purpose_name(enum run_purpose);
int	 run_purpose_parse(const char *);
const char *item_status_name(enum item_status);
int	 item_status_parse(const char *);
const char *event_status_name(enum event_status);
int	 event_status_parse(const char *);
const char *member_status_name(enum member_status);
int	 member_status_parse(const char *);
const char *delivery_state_name(enum delivery_state);
int	 delivery_state_parse(const char *);

/* token.c */
enum token_purpose {
	TOKEN_BOUNCE = 'b',
	TOKEN_REPLY = 'r',
	TOKEN_UNSUBSCRIBE = 'u',
};
#define TOKEN_MAX 64
struct token_keys {
	unsigned char	 key[32];
	int		 has_old;
	unsigned char	 old_key[32];
	time_t		 old_until;	/* old key's tokens refused from then */
};
/* A token that passed its check: what it may do, for which delivery. */
struct token_ref {
	enum token_purpose purpose;
	int64_t		 delivery_id;
	int		 old_key;	/* signed with the previous secret */
};
#define TOKEN_BAD	-1
#define TOKEN_EXPIRED	-2	/* old secret, after token_old_until */
int	 token_keys_init(struct token_keys *, const unsigned char *, size_t,
	     const unsigned char *, size_t);
void	 token_keys_old_until(struct token_keys *, time_t);
int	 token_keys_load(const struct config *, struct token_keys *,
	     char **);
void	 token_make(const struct token_keys *, enum token_purpose, int64_t,
	     char *, size_t);
int	 token_check(const struct token_keys *, enum token_purpose,
	     const char *, int64_t *);
int	 token_verify(const struct token_keys *, enum token_purpose,
	     const char *, struct token_ref *);
#define TOKEN_NONCE_MAX	32	/* the database nonce, as text */
void	 token_make_nonce(const struct token_keys *, enum token_purpose,
	     int64_t, const char *, char *, size_t);
int	 token_verify_nonce(const struct token_keys *, enum token_purpose,
	     const char *, const char *, struct token_ref *);
int	 token_parse(const char *, uint64_t *);
void	 token_nonce_new(char *, size_t);
const char *token_purpose_name(enum token_purpose);
void	 token_hash_address(const struct token_keys *, const char *, char *,
	     size_t);

/*
 * clariond.c: the daemon loop. Its steps, in order, and their files:
 * housekeeping (clariond.c), schedule_step (schedule.c), compose_step
 * (compose.c), send_step (send.c), bounce_digest_step (bounce.c),
 * inbound_step (inbound_child.c). daemon.c: what the steps share.
 */
struct daemon_ctx {
	struct config	*conf;
	struct db	*db;
	struct token_keys keys;
	volatile int	 stopping;
	struct composer	*composer;	/* compose.c's template and run cache */
	struct dkim_signer *dkim;	/* NULL unless dkim is configured */
};
#include <signal.h>
extern volatile sig_atomic_t daemon_got_term;
int	 daemon_stopping(struct daemon_ctx *);
int	 daemon_lock(const char *, long *, char **);
long	 daemon_lock_holder(const char *);
void	 daemon_lock_note(const char *);
char	*daemon_lock_note_get(const char *);

/* template.c: Mustache (spec core modules) over jansson data */
struct json_t;
struct tmpl;
struct tmpl_partials;
struct tmpl *tmpl_parse(const char *, size_t, char **);
struct tmpl *tmpl_parse_file(const char *, char **);
void	 tmpl_free(struct tmpl *);
size_t	 tmpl_partial_names(const struct tmpl *, char ***);
struct tmpl_partials *tmpl_partials_new(const char *);
int	 tmpl_partials_add(struct tmpl_partials *, const char *, const char *,
	     size_t, char **);
void	 tmpl_partials_free(struct tmpl_partials *);
int	 tmpl_render(const struct tmpl *, struct json_t *,
	     struct tmpl_partials *, int, struct buf *, char **);

/* event.c, db_event.c: strikes, ballots, pickets, meetings (times in UTC) */
struct event {
	int64_t	 id;
	char	*uid;
	char	*kind;		/* strike ballot picket demo meeting other */
	char	*title;
	char	*union_name;
	char	*employer;
	char	*location;
	char	*link;
	char	*notes;
	time_t	 starts_at;
	time_t	 ends_at;	/* 0 = no end given */
	int	 all_day;
	char	*status;	/* confirmed, cancelled */
	int	 sequence;	/* RFC 5545 SEQUENCE: bumped on each change */
	int64_t	 feed_id;	/* 0 = not from a feed */
};
struct event_list {
	struct event	*v;
	size_t		 n;
};
void	 event_init(struct event *);
void	 event_clear(struct event *);
void	 event_list_free(struct event_list *);
int	 event_kind_valid(const char *);
const char *event_kind_label(const char *);
char	*event_uid_new(void);
int	 event_check(const struct event *, char **);
int	 event_same(const struct event *, const struct event *);
int	 event_csv_import(struct db *, const char *, const char *, int *, int *,
	     char **);
int	 event_import_list(struct db *, struct event_list *, int *, int *,
	     char **);
int	 db_event_insert(struct db *, struct event *, time_t, char **);
int	 db_event_update(struct db *, const struct event *, time_t, char **);
int	 db_event_get(struct db *, int64_t, struct event *);
int	 db_event_by_uid(struct db *, const char *, struct event *);
int	 db_event_range(struct db *, time_t, time_t, const char *,
	     const char *, int, struct event_list *, char **);
int	 db_event_feed_uids(struct db *, int64_t, char ***, size_t *);

struct feed {
	int64_t	 id;
	char	*url;
	char	*etag;
	char	*last_modified;
	time_t	 last_fetch;
	char	*last_error;
};
void	 feed_clear(struct feed *);
int	 db_feed_add(struct db *, const char *, int64_t *, char **);
int	 db_feed_get(struct db *, int64_t, struct feed *);
int	 db_feed_ids(struct db *, int64_t **, size_t *, char **);
int	 db_feed_update(struct db *, int64_t, const char *, const char *,
	     time_t, const char *);
int	 db_feed_remove(struct db *, int64_t, int, time_t, long *);

/* item.c, db_item.c: items (what to send, when): rules, then rows */
struct item {
	int64_t	 id;
	char	*name;
	int64_t	 list_id;
	char	*segment;
	int	 segment_forced;	/* kept with unknown attributes */
	char	*kind;		/* bulletin newsletter notice message */
	char	*template;
	char	*subject;	/* a Mustache template */
	char	*content_file;	/* Markdown, or NULL */
	char	*event_kinds;	/* "strike,ballot"; "" = every kind */
	int	 days_ahead;
	char	*union_filter;
	time_t	 send_at;	/* one-off; 0 = none */
	char	*rrule;		/* RFC 5545, in local time; NULL = none */
	time_t	 dtstart;
	int	 skip_empty;
	time_t	 expires_at;	/* 0 = never */
	int64_t	 event_id;	/* the meeting of a notice; 0 = none */
	int	 notice_days;
	long	 reminder_before;	/* seconds; 0 = no reminder */
	int	 priority;
	char	*status;	/* active paused cancelled done */
	time_t	 created;
};
void	 item_init(struct item *);
void	 item_clear(struct item *);
void	 item_new(struct item *, const char *);
int	 item_is_notice(const struct item *);
void	 item_defaults(struct item *, int);
int	 item_edit_check(const struct item *, int, char **);
int	 item_name_check(const char *, char **);
int	 item_kind_check(const char *, char **);
int	 item_kinds_check(const char *, char **);
int	 item_subject_check(const char *, char **);
int	 item_at_too_old(const struct config *, time_t, int);
int	 item_segment_check(struct db *, struct item *, int, char **,
	     char **);
int	 item_complete(const struct item *, char **);
int	 item_template_check(const struct config *, const struct item *,
	     char **);
int	 item_store(struct db *, struct item *, int, char **);
int	 item_set_status(struct db *, const struct item *, enum item_status,
	     int *, char **);
time_t	 item_next(struct db *, const struct config *, const struct item *);
int	 db_item_insert(struct db *, struct item *, time_t, char **);
int	 db_item_update(struct db *, const struct item *, time_t, char **);
int	 db_item_get(struct db *, int64_t, struct item *);
int	 db_item_find(struct db *, const char *, struct item *, char **);
int	 db_item_list(struct db *, int, struct item **, size_t *, char **);
int	 db_item_set_status(struct db *, int64_t, enum item_status, time_t);
int	 db_list_id(struct db *, const char *, int64_t *);

/* run.c, db_run.c: runs (one issue of an item): rules, then rows */
struct run {
	int64_t	 id;
	int64_t	 item_id;
	time_t	 due_at;
	enum run_purpose purpose;
	enum run_state	 state;	/* held is derived, never stored */
	char	*reason;
	int	 sequence;	/* the invite's SEQUENCE for meeting runs */
	time_t	 created;
	time_t	 started;
	time_t	 finished;
	char	*item_name;
};
struct run_release_env {	/* what composing a held delivery needs */
	const struct config *conf;
	const struct token_keys *(*keys)(void *);	/* loaded if needed */
	void		*arg;
};
void	 run_clear(struct run *);
void	 runs_free(struct run *, size_t);
char	*run_held_why(struct db *, const struct run *);
int	 run_cancel(struct db *, const struct run *, long *, char **);
int	 run_release(struct db *, const struct run_release_env *,
	     const struct run *, int, long *, char **);
int	 run_resend(struct db *, const struct run *, long *, char **);
int	 run_held_release(struct db *, int64_t, int, long *, char **);
int	 db_run_insert(struct db *, int64_t, time_t, enum run_purpose,
	     enum run_state, const char *, int, int64_t *, char **);
int	 db_run_get(struct db *, int64_t, struct run *);
int	 db_run_list(struct db *, int64_t, const char *, int, struct run **,
	     size_t *, char **);
int	 db_run_last_due(struct db *, int64_t, const char *, time_t *, char **);
int	 db_run_set_state(struct db *, int64_t, enum run_state, const char *,
	     time_t);
int	 db_run_cancel_pending(struct db *, int64_t, const char *,
	     const char *, time_t);
int	 db_run_counts(struct db *, int64_t, struct db_count **, size_t *);
int	 db_run_cancel(struct db *, int64_t, time_t, long *);
int	 db_run_resend_missed(struct db *, int64_t, time_t, long *);
char	*db_run_context(struct db *, int64_t);
int	 db_run_freeze(struct db *, int64_t, const char *, char **);
int	 db_run_set_sending(struct db *, int64_t);
int	 db_runs_finish(struct db *, time_t, int64_t **, size_t *);
int	 db_runs_hold(struct db *, time_t, int64_t **, size_t *);
char	*db_run_hold_reason(struct db *, int64_t);
int64_t	 db_run_held_one(struct db *, int64_t);
int	 db_run_thaw_test(struct db *, int64_t, char **);
int	 db_compose_pending(struct db *, time_t, int64_t **, size_t *);
int	 db_compose_begin(struct db *, int64_t, const char *, time_t);

/* ical.c: RFC 5545 recurrence, parsing feeds, writing invites (libical) */
int	 ical_rrule_check(const char *, char **);
int	 ical_zone_check(const char *, char **);
int	 ical_rrule_expand(const char *, time_t, const char *, time_t, time_t,
	     size_t, time_t **, size_t *, char **);
int	 ical_parse_events(const char *, const char *, struct event_list *,
	     char **);
char	*ical_invite(const struct event *, const char *, const char *, int,
	     const char *, const char *, const char *, time_t);
char	*ical_personal(const char *, const char *, const char *, const char *,
	     const char *, int);
struct ical_reply {		/* a meeting reply, METHOD:REPLY */
	char		*uid;
	char		*organizer;	/* address it answers (our reply+T) */
	char		*attendee;	/* as the client wrote it: proves nothing */
	const char	*answer;	/* "accepted", "declined", "tentative" */
};
int	 ical_reply_parse(const char *, struct ical_reply *);
void	 ical_reply_free(struct ical_reply *);

/* feed.c: iCalendar feeds fetched over HTTP(S) or file:// (http.c) */
int	 feed_add(struct db *, const char *, int64_t *, char **);
int	 feed_remove(struct db *, int64_t, int, time_t, long *, char **);
int	 feed_refresh(struct db *, const struct config *, int64_t, int *,
	     int *, int *, char **);

/* http.c: fetching by HTTP(S) (libcurl's other door, with smtp.c) */
struct http_get {
	const char	*url;
	const char	*etag;		/* If-None-Match, or NULL */
	const char	*last_modified;	/* If-Modified-Since, or NULL */
	long		 max_size;	/* bytes */
	long		 timeout;	/* seconds */
};
struct http_result {
	struct buf	 body;
	char		*etag;		/* of the final response */
	char		*last_modified;
	int		 not_modified;	/* 304 */
};
int	 http_fetch(const struct http_get *, struct http_result *, char **);
void	 http_result_free(struct http_result *);

/* schedule.c: items -> runs */
int	 schedule_step(struct daemon_ctx *);
int	 schedule_plan(struct db *, const struct config *, time_t, int *,
	     char **);
int	 schedule_expire(struct db *, const struct config *, time_t, int *,
	     char **);
int	 schedule_events(struct db *, const struct item *, time_t, time_t,
	     struct event_list *, char **);

/* run_context.c: the shared data of a run, built once and frozen */
struct json_t;
int	 run_context_build(struct db *, const struct config *, int64_t,
	     struct json_t **, int *, char **);
enum rctx_freeze { RCTX_FROZEN, RCTX_EMPTY, RCTX_UNBUILT, RCTX_UNSTORED };
enum rctx_freeze run_context_freeze(struct db *, const struct config *,
	     const struct item *, int64_t, int, time_t, int *, char **);

/* notice.c: meeting notices, reminders, moves and cancellations */
struct notice_req {
	const char	*list;
	const char	*segment;
	const char	*title;
	time_t		 meeting;
	time_t		 meeting_end;	/* 0 = none */
	const char	*venue;
	const char	*agenda_file;
	const char	*template;	/* NULL = "notice" */
	const char	*subject;	/* NULL = a default */
	int		 notice_days;	/* -1 = schedule.notice_days */
	long		 reminder;	/* -1 = schedule.reminder_before */
	time_t		 send_at;	/* 0 = at once */
	int		 force;
};
enum notice_result {
	NOTICE_OK = 0,
	NOTICE_ERROR = -1,
	NOTICE_TOO_SHORT = -2,
};
enum notice_result notice_add(struct db *, const struct config *,
	     const struct notice_req *, time_t, int64_t *, char **);
enum notice_result notice_move(struct db *, const struct config *, int64_t,
	     time_t, time_t, int, time_t, char **);
int	 notice_cancel(struct db *, const struct config *, int64_t, time_t,
	     char **);

/* imap.c: the IMAP client (libetpan), its TLS chain checked by crypto.c */
enum imap_folder {
	IMAP_BOUNCES,
	IMAP_COMPLAINTS,
	IMAP_UNSUBSCRIBED,
	IMAP_REPLIES,
	IMAP_AUTOREPLIES,
	IMAP_UNKNOWN,
	IMAP_QUARANTINE,	/* its processing stopped the inbound process */
	IMAP_RSVP,		/* meeting replies */
	IMAP_NFOLDERS,
};
extern const char *const imap_folder_names[IMAP_NFOLDERS];
struct imap_conn;
struct imap_msg {
	uint32_t	 uid;
	size_t		 size;	/* RFC822.SIZE */
};
int	 imap_url_parse(const char *, char **, uint16_t *, int *, char **);
struct imap_conn *imap_open(const struct imap_config *, char **);
void	 imap_close(struct imap_conn *);
uint32_t imap_uidvalidity(const struct imap_conn *);
int	 imap_has_idle(const struct imap_conn *);
int	 imap_list_new(struct imap_conn *, uint32_t, struct imap_msg **,
	     size_t *, char **);
int	 imap_fetch(struct imap_conn *, uint32_t, char **, size_t *, char **);
int	 imap_file(struct imap_conn *, uint32_t, const char *, char **);
int	 imap_wait(struct imap_conn *, int, char **);

/* db_inbound.c: what was read over IMAP, and what it answered */
struct inbound_rec {
	const char	*mailbox;
	uint32_t	 uidvalidity;
	uint32_t	 uid;
	const char	*message_id;
	const char	*class;
	int64_t		 delivery_id;	/* 0 = none */
	int64_t		 subscriber_id;
	int64_t		 list_id;
	const char	*status_code;
	const char	*reason;
	const char	*action;
	const char	*folder;
};
struct inbound_seen {
	int64_t		 id;
	char		*folder;
	int		 filed;
	int		 same_uid;	/* 0: matched by Message-ID only */
};
struct inbound_pending {
	int64_t		 id;
	uint32_t	 uid;
	char		*folder;
};
struct delivery_ref {
	int64_t		 delivery_id;
	int64_t		 subscriber_id;
	int64_t		 list_id;
	int64_t		 run_id;
	char		*item_name;
	char		*item_subject;
	time_t		 due_at;
};
int	 db_imap_state_get(struct db *, const char *, uint32_t *, uint32_t *, char **);
int	 db_imap_state_set(struct db *, const char *, uint32_t, uint32_t, char **);
int	 db_inbound_seen(struct db *, const char *, uint32_t, uint32_t,
	     const char *, struct inbound_seen *, char **);
int	 db_inbound_insert(struct db *, const struct inbound_rec *, int64_t *);
int	 db_inbound_set_filed(struct db *, int64_t, char **);
int	 db_inbound_unfiled(struct db *, const char *, uint32_t,
	     struct inbound_pending **, size_t *, char **);
void	 inbound_pending_free(struct inbound_pending *, size_t);
int	 db_inbound_delivery(struct db *, int64_t, struct delivery_ref *);
struct rsvp_row {
	char		*address, *name;
	char		*answer;	/* "": no answer */
};
struct inbound_row {		/* clarion inbound run's report */
	uint32_t	 uid;
	char		*class, *folder, *action;
};
int64_t	 db_inbound_last_id(struct db *);
int	 db_inbound_since(struct db *, int64_t, struct inbound_row **,
	     size_t *);
struct inbound_digest_row {	/* the owners' digest (bounce.c) */
	int		 complaint;	/* else filed without an effect */
	char		*address, *name;	/* NULL: no member known */
	char		*class, *folder, *action, *message_id;
	time_t		 received_at;
};
int	 db_inbound_digest(struct db *, int64_t, int64_t, time_t, int64_t, int,
	     struct inbound_digest_row **, size_t *);
void	 inbound_digest_free(struct inbound_digest_row *, size_t);
int	 db_rsvp_record(struct db *, int64_t, const char *, const char *,
	     const char *, int64_t *);
int	 db_rsvp_list(struct db *, int64_t, struct rsvp_row **, size_t *, char **);
int	 db_rsvp_counts(struct db *, int64_t, long[3]);
void	 delivery_ref_free(struct delivery_ref *);
int	 db_inbound_mark(struct db *, const char *, uint32_t, uint32_t, int, char **);
int	 db_inbound_marked(struct db *, const char *, uint32_t, uint32_t);
int	 db_inbound_unmark(struct db *, char **);
int	 db_inbound_quarantined(struct db *, long *, time_t *);
int	 db_sysmail_add(struct db *, const char *, int64_t, const char *,
	     const char *, size_t, const char *, char **);

/* compose.c, db_compose.c: runs -> deliveries -> the bytes of each message */
struct recipient;
struct outmsg {
	int64_t		 delivery_id;
	char		*envelope_from;
	char		*rcpt;
	struct buf	 data;
};
struct composer;
struct db_delivery_batch;
struct composer *composer_new(struct db *, const struct config *,
	     const struct token_keys *);
void	 composer_free(struct composer *);
int	 composer_render(struct composer *, int64_t, int64_t,
	     const struct recipient *, int, struct outmsg *, char **);
int	 composer_render_parts(struct composer *, int64_t, int64_t,
	     const struct recipient *, int, struct buf *, struct buf *,
	     struct buf *, char **);
int	 composer_message(struct composer *, int64_t, struct outmsg *,
	     char **);
int	 compose_step(struct daemon_ctx *);
int	 compose_message(struct daemon_ctx *, int64_t, struct outmsg *,
	     char **);
void	 outmsg_free(struct outmsg *);
struct db_delivery_batch *db_delivery_batch_new(struct db *, int64_t, int,
	     time_t);
int	 db_delivery_batch_add(struct db_delivery_batch *, int64_t,
	     const char *, int);
long	 db_delivery_batch_finish(struct db_delivery_batch *, int);
int	 db_notice_recipients(struct db *, int64_t, int64_t,
	     int (*)(void *, int64_t, const char *), void *, char **);
int	 db_delivery_row(struct db *, int64_t, int64_t *, int64_t *, char **);
int	 db_preview_subscriber(struct db *, int64_t, const char *, int64_t *);
int	 db_delivery_test(struct db *, int64_t, const char *, time_t,
	     int64_t *, char **);

/* address.c: normalising and validating email addresses */
int	 addr_normalize(const char *, char **, char **);

/* csv.c: RFC 4180 CSV as spreadsheets write it */
struct csv;
struct csv_row {
	char	**fields;	/* valid until the next csv_next() */
	size_t	  nfields;
	size_t	  line;		/* the physical line the record starts on */
};
struct csv *csv_new(const char *, size_t, char, char **);
int	 csv_next(struct csv *, struct csv_row *, char **);
char	 csv_sep(const struct csv *);
const char *csv_pos(const struct csv *);
void	 csv_free(struct csv *);
void	 csv_quote(struct buf *, const char *, char);
int	 utf8_valid(const char *, size_t);

/* segment.c: expressions selecting members by their attributes */
struct json_t;
struct segment;
struct segment *segment_parse(const char *, char **);
int	 segment_match(const struct segment *, const char *, const char *,
	     struct json_t *);
void	 segment_free(struct segment *);
size_t	 segment_unknown_attrs(const struct segment *, char *const *, size_t,
	     char ***);
int	 segment_check_attrs(const struct segment *, char *const *, size_t,
	     char **);
char	*attr_key_normalize(const char *);

/* db_subscriber.c: lists, subscribers, memberships, suppressions */
struct list_info {
	int64_t	 id;
	char	*name, *display_name, *from_addr, *owner_addr, *footer;
};
struct list_counts {
	long	 subscribed, unsubscribed, held;
};
int	 db_list_get(struct db *, int64_t, struct list_info *);
int	 db_list_by_name(struct db *, const char *, struct list_info *);
void	 list_info_free(struct list_info *);
int	 db_list_create(struct db *, struct list_info *, char **);
int	 db_list_update(struct db *, const struct list_info *, char **);
int	 db_list_delete(struct db *, int64_t, int, char **);
int	 db_list_all(struct db *, struct list_info **, size_t *, char **);
int	 db_list_counts(struct db *, int64_t, struct list_counts *);

/* A subscriber's attributes as the store keeps them: pairs, by key. */
struct attr_pairs {
	char	**key, **value;
	size_t	  n;
};
void	 attr_pairs_free(struct attr_pairs *);
/* A subscriber as the store walks them; status is NULL without a list. */
struct db_sub_row {
	int64_t			 id;
	const char		*address;
	const char		*name;
	const char		*status;
	const struct attr_pairs	*attrs;
	int			 suppressed;
};
int	 db_sub_iter(struct db *, const struct token_keys *, int64_t,
	     const char *, int (*)(void *, const struct db_sub_row *), void *,
	     char **);
int	 db_sub_search(struct db *, const struct token_keys *, int64_t,
	     const char *, const char *, const char *, int (*)(void *,
	     const struct db_sub_row *), void *, char **);
int	 db_attr_keys(struct db *, int64_t, char ***, size_t *);
int	 db_subscriber_get(struct db *, int64_t, char **, char **,
	     struct attr_pairs *);
int	 db_subscriber_find(struct db *, const char *, int64_t *);
int	 db_subscriber_last_delivery(struct db *, int64_t, int64_t *,
	     int64_t *);
int	 db_subscriber_set_address(struct db *, int64_t, const char *,
	     char **);
int	 db_suppression_reason(struct db *, const struct token_keys *,
	     const char *, char **);
int	 db_suppress(struct db *, const char *, const char *, const char *,
	     const char *, char **);
int	 db_unsuppress(struct db *, const char *, const char *, char **);
int	 db_unsubscribe(struct db *, const struct token_keys *, int64_t,
	     int64_t, const char *);
/* subscriber.c: the rules about subscribers, above the store */
int	 subscriber_unsubscribe(struct db *, const struct token_keys *,
	     int64_t, int64_t, const char *, const char *, char **);
#define DB_HASH_HEX 65
char	*subscriber_address_norm(const char *);
void	 subscriber_hash_norm(const struct token_keys *, const char *,
	     char *);
int	 subscriber_address_hash(const struct token_keys *, const char *,
	     int, char *);
struct json_t;
struct recipient {
	int64_t		 subscriber_id;
	const char	*address;
	const char	*name;
	struct json_t	*attrs;
	int		 suppressed;
};
/* A row of `clarion sub ls` and search; status is NULL without a list. */
struct sub_row {
	int64_t		 id;
	const char	*address;
	const char	*name;
	const char	*status;
	struct json_t	*attrs;
	int		 suppressed;
};
int	 subscriber_suppressed(struct db *, const struct token_keys *,
	     const char *);
int	 subscriber_suppression_reason(struct db *,
	     const struct token_keys *, const char *, char **);
int	 subscriber_suppress(struct db *, const struct token_keys *,
	     const char *, const char *, const char *, char **);
int	 subscriber_unsuppress(struct db *, const struct token_keys *,
	     const char *, const char *, char **);
struct json_t *subscriber_attrs_json(const struct attr_pairs *);
int	 subscriber_get(struct db *, int64_t, char **, char **,
	     struct json_t **);
int	 subscriber_search(struct db *, const struct token_keys *, int64_t,
	     const char *, const char *, const char *, int (*)(void *,
	     const struct sub_row *), void *, char **);
int	 subscriber_recipients(struct db *, const struct token_keys *,
	     int64_t, const char *, int (*)(void *, const struct recipient *),
	     void *, char **);
int	 subscriber_each(struct db *, const struct token_keys *, int64_t,
	     const char *, const char *, int (*)(void *,
	     const struct sub_row *), void *, char **);
int	 subscriber_reach(struct db *, int64_t, const char *, long *, long *,
	     char **);
int	 db_resubscribe(struct db *, const struct token_keys *, int64_t,
	     int64_t, const char *, const char *, char **);
int	 db_membership_remove(struct db *, int64_t, int64_t);
int	 db_membership_status(struct db *, int64_t, int64_t, char **, char **);

/* Adding and updating subscribers, one transaction for many (imports). */
enum sub_result {
	SUB_ADDED,
	SUB_UPDATED,
	SUB_UNCHANGED,
	SUB_REFUSED_UNSUBSCRIBED,
	SUB_REFUSED_SUPPRESSED,
};
struct sub_record {
	const char	*address;	/* normalised */
	const char	*name;		/* NULL or "": keep the stored one */
	const char	**keys;		/* normalised attribute keys */
	const char	**values;	/* "": remove the attribute */
	size_t		 nattrs;
};
struct sub_writer;
struct sub_writer *db_sub_writer_new(struct db *, const struct token_keys *,
	     int64_t, const char *, const char *, char **);
int	 db_sub_writer_put(struct sub_writer *, const struct sub_record *,
	     enum sub_result *, char **, char **);
void	 db_sub_writer_free(struct sub_writer *);
int	 db_sub_seen_open(struct db *, char **);
int	 db_sub_seen(struct db *, const char *, size_t, size_t *, char **);

/*
 * journal.c, db_journal.c: the privacy journal beside the database, which
 * `clarion restore` replays (erasures, unsubscribes, suppressions and
 * consents taken since the backup).
 */
enum journal_action {
	JOURNAL_UNSUBSCRIBE,
	JOURNAL_SUPPRESS,
	JOURNAL_ERASE,
	JOURNAL_RESUBSCRIBE,
	JOURNAL_UNSUPPRESS,
};
struct journal_entry {
	int64_t		 seq;
	time_t		 at;
	enum journal_action action;
	char		 hash[DB_HASH_HEX];	/* never the address */
	int64_t		 list;		/* 0: every list, or none */
	const char	*text;		/* reason or source */
	const char	*consent;
};
struct journal_replay {
	long	 n[JOURNAL_UNSUPPRESS + 1];	/* re-applied, by action */
	long	 entries, bad;
	int64_t	 from_seq, last_seq;
};
const char *journal_action_name(enum journal_action);
char	*journal_path(const char *);
int	 journal_append(const char *, const struct journal_entry *, char **);
int	 journal_read(const char *, int (*)(void *,
	     const struct journal_entry *), void *, long *, char **);
void	 journal_entry_clear(struct journal_entry *);
int	 db_journal(struct db *, const struct token_keys *,
	     enum journal_action, const char *, int64_t, const char *,
	     const char *, int);
int	 db_journal_hash(struct db *, enum journal_action, const char *,
	     int64_t, const char *, const char *, int);
int	 db_journal_replay(struct db *, const struct token_keys *,
	     struct journal_replay *, char **);

/* GDPR: everything held on one person; erasure that keeps a keyed hash. */
struct erase_result {
	int	 subscriber;	/* 1 if a subscriber row was deleted */
	long	 deliveries, inbound, sysmail, bounces;
	int	 checkpointed;	/* the WAL was truncated */
};
struct db_value {
	const char	*name;
	enum { DBV_NULL, DBV_INT, DBV_REAL, DBV_TEXT, DBV_BLOB } type;
	int64_t		 i;
	double		 r;
	const char	*text;
	size_t		 len;
};
struct db_export {
	int64_t		 id;		/* 0: no subscriber row */
	const char	*address, *hash;
	int		(*part)(void *, const char *, int);
	int		(*row)(void *, const struct db_value *, int);
	void		(*attrs)(void *, const struct attr_pairs *);
	void		*arg;
};
int	 db_subscriber_export(struct db *, struct db_export *);
struct json_t *subscriber_export(struct db *, const struct token_keys *,
	     const char *);
int	 db_subscriber_erase(struct db *, const char *, const char *,
	     struct erase_result *, char **);
int	 subscriber_erase(struct db *, const struct token_keys *,
	     const char *, struct erase_result *, char **);
int	 db_erase_rows(struct db *, const struct token_keys *, int64_t,
	     const char *, struct erase_result *);

/* mailparse.c: reading mail (headers, charsets, MIME; libetpan's reader) */
#define MAIL_TEXT_MAX	(512 * 1024)	/* decoded text examined */
struct mail_msg;		/* a parsed MIME tree */
struct mail_part;		/* one of its parts */
struct mail_hdr_iter {
	const char	*p;
	const char	*end;
};
char	*mail_copy(const char *, size_t);
size_t	 mail_mbox_line(const char *, size_t);
char	*mail_utf8_clean(const char *, size_t);
char	*mail_to_utf8(const char *, size_t, const char *);
char	*mail_one_line(const char *, size_t);
const char *mail_line_end(const char *, const char *);
int	 mail_blank_line(const char *, const char *);
int	 mail_hdr_next(struct mail_hdr_iter *, const char **, size_t *,
	     const char **, size_t *);
size_t	 mail_hdr_block_len(const char *, size_t, size_t *);
char	*mail_hdr_value(const char *, size_t);
char	*mail_hdr_get(const char *, size_t, const char *);
int	 mail_hdr_has(const char *, size_t, const char *);
char	*mail_strip_comments(char *);
char	*mail_msgid(const char *);
char	*mail_decode_words(const char *);
int	 mail_mailbox(const char *, char **, char **);
int	 mail_depth_bound(const char *, size_t, int);
struct mail_msg *mail_parse(const char *, size_t, const char **);
void	 mail_msg_free(struct mail_msg *);
const struct mail_part *mail_body(const struct mail_msg *);
const struct mail_part *mail_find(const struct mail_msg *, const char *,
	     const char *);
const struct mail_part *mail_text_part(const struct mail_msg *, int);
int	 mail_part_is(const struct mail_part *, const char *, const char *);
const char *mail_part_raw(const struct mail_part *, size_t *);
char	*mail_part_decoded(const struct mail_part *, size_t *);
const char *mail_part_charset(const struct mail_part *);
const char *mail_part_param(const struct mail_part *, const char *);

/* dsn.c: DSN and ARF reports, status codes, the one hard/soft rule */
struct dsn_rcpt {		/* one per-recipient block of a DSN */
	char	*final;
	char	*original;
	char	*action;
	char	*status;
	char	*diag;
};
struct arf_report {		/* the fields of an ARF report we use */
	char	*recipient;	/* Original-Rcpt-To address */
	char	*type;		/* Feedback-Type, comments stripped */
	char	*mail_from;	/* Original-Mail-From, as written */
};
int	 dsn_is_hard(const char *, const char *);
int	 dsn_after_data(const char *);
int	 dsn_status_scan(const char *, char *, size_t);
char	*dsn_addr(const char *);
int	 dsn_parse(const char *, size_t, struct dsn_rcpt *);
void	 dsn_rcpt_free(struct dsn_rcpt *);
int	 dsn_action_is(const struct dsn_rcpt *, const char *);
int	 dsn_action_failed(const struct dsn_rcpt *);
const char *dsn_diag_text(const char *);
char	*dsn_status(const struct dsn_rcpt *);
char	*dsn_diag_line(const char *, size_t);
void	 arf_parse(const char *, size_t, struct arf_report *);
void	 arf_report_free(struct arf_report *);

/* classify.c, classify_text.c: inbound mail classification (pure parsing) */
enum inbound_class {
	INBOUND_BOUNCE_HARD,
	INBOUND_BOUNCE_SOFT,
	INBOUND_COMPLAINT,
	INBOUND_AUTOREPLY,	/* also delay/delivery notices: ignore */
	INBOUND_UNSUBSCRIBE,
	INBOUND_REPLY,
	INBOUND_UNKNOWN,
	INBOUND_RSVP,		/* a meeting reply (iTIP METHOD:REPLY) */
};
struct classify_opts {
	const char	*domain;		/* "example.org" */
	const char	*bounce_local;		/* "bounces" */
	const char	*reply_local;		/* "reply" */
	const char	*unsubscribe_local;	/* "unsubscribe" */
	char		 delimiter;		/* '+' */
	size_t		 max_size;		/* 0: no limit */
};
struct classify_result {
	enum inbound_class class;
	char	*recipient;	/* bounced/complaining address, if known */
	char	*status;	/* enhanced status "5.1.1", if known */
	char	*reason;	/* one line for a person */
	char	*token;		/* as found, NOT verified */
	int	 token_purpose;	/* 'b', 'r', 'u' or 0 */
	char	*message_id;	/* without <> */
	char	*from;
	char	*from_name;
	char	*subject;	/* RFC 2047 decoded, UTF-8 */
	char	*in_reply_to;	/* without <> */
	char	*new_text;	/* replies: the member's own new text */
	char	*original_message_id;	/* bounces/complaints */
	int	 no_reply;	/* never answer: classify_is_loop() */
	char	*rsvp_uid;	/* RSVP: the invite's UID */
	const char *rsvp_answer;	/* RSVP: "accepted", "declined"... */
};
const char *inbound_class_name(enum inbound_class);
int	 inbound_class_parse(const char *, enum inbound_class *);
int	 classify_message(const char *, size_t, const struct classify_opts *,
	     struct classify_result *);
int	 classify_is_loop(const struct classify_result *, const char *);
void	 classify_result_free(struct classify_result *);
char	*classify_html_to_text(const char *, size_t, int);
char	*classify_reply_text(const char *);
int	 classify_unsubscribe_intent(const char *);

/* transport.c: one message now, outside the daemon (clarion item test) */
int	 transport_send_one(const struct config *, const struct outmsg *,
	     char **, char **);

/* mime.c: building outgoing messages (libetpan's MIME writer) */
struct message {
	const char	*from_name, *from_addr;
	const char	*to_name, *to_addr;
	const char	*reply_to;	/* address or NULL */
	const char	*subject;
	const char	*message_id;	/* without <> */
	time_t		 date;
	const char	*list_id;	/* "Members <members.example.org>" */
	const char	*list_unsubscribe;	/* "<mailto:...>, <https://...>" */
	int		 one_click;	/* List-Unsubscribe-Post (RFC 8058) */
	const char	*feedback_id;	/* Gmail's feedback loop, or NULL */
	int		 bulk;		/* Precedence: bulk */
	const char	*auto_submitted;	/* auto-generated, auto-replied */
	const char	*in_reply_to, *references;	/* ids without <> */
	int		 test;		/* X-Clarion-Test: yes */
	const char	*text;		/* text/plain, UTF-8, required */
	const char	*html;		/* text/html or NULL */
	const char	*ics;		/* text/calendar or NULL */
	const char	*ics_method;	/* REQUEST, CANCEL (or PUBLISH) */
	const char	*boundary_seed;	/* same seed, same boundary */
};
int	 mime_build(const struct message *, struct buf *, char **);

/* smtp.c, outbox.c, send.c, db_delivery.c: sending (SEND area) */
enum send_class {
	SEND_OK,
	SEND_TEMPFAIL,	/* 4xx, no reply, TLS, login: try again later */
	SEND_PERMFAIL,	/* 5xx to this recipient: never retried */
};
struct smtp_result {
	int64_t		 id;		/* as submitted */
	enum send_class	 class;
	int		 code;		/* SMTP reply code, 0 = none */
	char		 status[16];	/* enhanced status "5.1.1", or "" */
	char		*reply;		/* the server's text, or curl's */
	int		 server;	/* the server or connection failed */
};
struct smtp_pool;
struct smtp_pool *smtp_pool_new(const struct smtp_config *, char **);
void	 smtp_pool_free(struct smtp_pool *);
int	 smtp_pool_idle(struct smtp_pool *);
int	 smtp_pool_busy(struct smtp_pool *);
int	 smtp_pool_submit(struct smtp_pool *, int64_t, const char *,
	     const char *, char *, size_t, char **);
int	 smtp_pool_run(struct smtp_pool *, int, struct smtp_result **,
	     size_t *);
void	 smtp_results_free(struct smtp_result *, size_t);

int	 outbox_deliver(const char *, const char *, size_t, char **);
int	 outbox_erase(const char *, const char *, long *, char **);
int	 outbox_deliver_env(const char *, const char *, const char *,
	     const char *, size_t, char **);

int	 send_step(struct daemon_ctx *);
int	 send_recover(struct daemon_ctx *);
void	 send_shutdown(void);
void	 send_finish(struct daemon_ctx *);
void	 send_drain(struct daemon_ctx *);
long	 send_backoff(const struct config *, int64_t, int);
int	 send_quiet(const struct config *, time_t);
long	 send_rate_budget(struct db *, const struct config *, time_t);

struct delivery_claim {
	int64_t		 id;		/* deliveries.id or sysmail.id */
	int		 sysmail;
	int64_t		 run_id;
	int64_t		 subscriber_id;
	char		*address;
	char		*kind;		/* sysmail.kind */
	char		*message;	/* sysmail.message */
	size_t		 len;
	int		 attempts;
	time_t		 created;
};
enum delivery_outcome_state {
	DELIVERY_SENT,
	DELIVERY_DEFERRED,
	DELIVERY_FAILED,
	DELIVERY_REQUEUED,	/* not attempted: back to queued */
	DELIVERY_HELD,		/* for the owner (sysmail: failed) */
};
struct delivery_outcome {
	int64_t		 id;
	int		 sysmail;
	enum delivery_outcome_state state;
	int		 code;
	char		*reply;
	time_t		 at;
	time_t		 next_attempt;
};
struct delivery_counts {
	long		 queued, sending, sent, deferred, failed, suppressed;
	long		 held, cancelled;
	time_t		 next_attempt;	/* earliest deferred retry, 0 = none */
};
struct queue_entry {
	int64_t		 id;
	int64_t		 run_id;
	int		 sysmail;
	const char	*state;
	const char	*address;
	int		 attempts;
	time_t		 next_attempt;
	int		 last_code;
	const char	*last_reply;
	int		 priority;
};
int	 db_delivery_due(struct db *, time_t, int, int,
	     struct delivery_claim **, size_t *);
long	 db_delivery_take(struct db *, const struct token_keys *, time_t,
	     const struct delivery_claim *, size_t, int *);
int	 db_delivery_claim(struct db *, const struct token_keys *, time_t, int,
	     int, struct delivery_claim **, size_t *);
void	 delivery_claims_free(struct delivery_claim *, size_t);
void	 delivery_claims_free_one(struct delivery_claim *);
int	 db_delivery_record(struct db *, const struct delivery_outcome *,
	     size_t, char **);
int	 db_delivery_recover(struct db *, enum resend_policy, long *, long *);
long	 db_sent_since(struct db *, time_t);
int	 db_delivery_release_held(struct db *, int64_t, int, long *);
int	 db_run_delivery_counts(struct db *, int64_t, struct delivery_counts *, char **);
int	 db_queue_list(struct db *, int64_t, const char *,
	     int (*)(void *, const struct queue_entry *), void *, char **);
int	 db_sysmail_counts(struct db *, long *, long *, long *, char **);
int	 db_delivery_get(struct db *, int64_t, struct delivery_claim *);
long	 db_delivery_refused_since(struct db *, int64_t, time_t);

/* db_bounce.c, bounce.c: bounce scoring and the owners' digest */
struct bounce_row {
	int64_t		 subscriber_id;
	char		*address;
	char		*name;
	double		 score;		/* as stored at last_bounce_at */
	time_t		 last_bounce_at;
	time_t		 disabled_at;	/* 0 = not disabled */
	char		*reason;
	int		 digested;
	/* What attributed the bounce that disabled it (schema 4). */
	char		*via_source;	/* "smtp", "dsn"; NULL: not recorded */
	char		*via_token;	/* token purpose ("bounce") or NULL */
	int64_t		 via_delivery;
	int64_t		 via_run;
};
int	 db_bounce_insert(struct db *, int64_t, int64_t, time_t, int,
	     const char *, const char *, const char *, const char *,
	     int64_t *);
int	 db_bounce_score_get(struct db *, int64_t, double *, time_t *,
	     time_t *);
int	 db_bounce_score_set(struct db *, int64_t, double, time_t);
int	 db_bounce_disabled(struct db *, int64_t, time_t, const char *,
	     int64_t);
int	 db_bounce_reset(struct db *, int64_t);
int	 db_bounce_report(struct db *, const char *, struct bounce_row **,
	     size_t *, char **);
int	 db_bounce_undigested(struct db *, int64_t, struct bounce_row **,
	     size_t *);
int	 db_bounce_mark_digested(struct db *);
void	 bounce_rows_free(struct bounce_row *, size_t);
double	 bounce_decay(double, time_t, time_t, int);
char	*bounce_row_via(const struct bounce_row *);
double	 bounce_row_score(const struct bounce_row *, const struct config *,
	     time_t);
/* 1: this bounce disabled the member; 0: recorded; -1: error */
int	 bounce_record(struct db *, const struct config *,
	     const struct token_keys *, int64_t, int64_t, int, const char *,
	     const char *, const struct token_ref *);
int	 bounce_complaint(struct db *, const struct token_keys *, int64_t,
	     int64_t, const struct token_ref *, const char *);
int	 bounce_success(struct db *, int64_t);
int	 bounce_digest(struct db *, const struct config *, time_t, char **);
int	 bounce_digest_step(struct daemon_ctx *);

/* sysmail.c: mail Clarion writes outside runs (confirmations, forwards,
 * digests, quarantine reports), rendered and queued in sysmail */
struct sysmail_forward {
	const struct classify_result *cr;
	const struct delivery_ref *ref;
	int		 verified;	/* by token, not only In-Reply-To */
};
struct sysmail_quarantine {
	const char	*mailbox;
	const char	*folder;
	uint32_t	 uidvalidity;
	uint32_t	 uid;
	size_t		 size;
	int		 attempts;	/* processes it stopped */
};
struct list_info;
int	 sysmail_quarantined(struct db *, const struct config *,
	     const struct sysmail_quarantine *, char **);
int	 sysmail_unsubscribed(struct db *, const struct config *, int64_t,
	     int64_t, const char *, const char *, char **);
int	 sysmail_forward(struct db *, const struct config *,
	     const struct sysmail_forward *, const char *, char **);
int	 sysmail_forward_owners(struct db *, const struct config *,
	     const struct classify_result *, const char *, char **);
int	 sysmail_unsubscribe_request(struct db *, const struct config *,
	     const struct token_keys *, int64_t, const char *, const char *,
	     char **);
int	 sysmail_digest(struct db *, const struct config *,
	     const struct list_info *, const struct bounce_row *, size_t,
	     const struct inbound_digest_row *, size_t,
	     long, const char *, char **);

/* inbound_apply.c: the effect of one classified message */
struct inbound_env {		/* what applying needs from the pass */
	const struct config	*conf;
	struct db		*db;
	const struct token_keys	*keys;
	const char		*mailbox;
	uint32_t		 uidvalidity;
};
struct effect {			/* what one message did: its inbound row */
	const struct inbound_env *in;
	uint32_t		 uid;
	struct classify_result	*cr;
	struct inbound_rec	 rec;
	struct delivery_ref	 ref;
	char			*action;
	char			*reason;
	char			*error;		/* why applying failed */
	int			 verified;	/* the token checked out */
	struct token_ref	 tok;		/* when verified */
	const struct sysmail_quarantine *quarantine;	/* report it */
};
void	 effect_init(struct effect *, const struct inbound_env *, uint32_t,
	     struct classify_result *);
void	 effect_free(struct effect *);
int	 effect_apply(struct effect *);
void	 effect_set(struct effect *, enum imap_folder, const char *, ...)
	     PRINTFLIKE(3, 4);
void	 effect_reason(struct effect *, const char *);
void	 effect_quarantine_report(struct effect *);

/* inbound.c: the exactly-once IMAP pass (the inbound child's work) */
#define INBOUND_BACKOFF_MAX	300	/* seconds between reconnects */
int	 inbound_run(const struct config *, struct db *,
	     const struct token_keys *, int, long *, char **);
void	 inbound_signals(void);

/* inbound_child.c: the daemon's inbound step, supervising the child */
int	 inbound_step(struct daemon_ctx *);
void	 inbound_stop(struct daemon_ctx *);

/* markdown.c: Markdown to HTML (cmark, safe) and to wrapped plain text */
int	 md_to_html(const char *, struct buf *);
int	 md_to_text(const char *, struct buf *);

/* db_restore.c: checking a backup and copying it into the database */
int	 db_backup_verify(const char *, int *, char **);
int	 db_restore(struct db *, const char *, char **);

#endif /* CLARION_H */
