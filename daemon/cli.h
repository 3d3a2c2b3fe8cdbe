/* The command-line tool's shared pieces: each command group is in cli_*.c. */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>

#include "clarion.h"

struct cli_group;
struct cli_sub;

struct cli {
	const char	*config_path;
	struct config	*conf;	/* loaded on first use by cli_config() */
	struct db	*db;	/* opened on first use by cli_db() */
	int		 json;	/* --json: machine-readable output */
	int		 keys_loaded;
	struct token_keys keys;
	const struct cli_group *group;	/* the command running, for usage */
	const struct cli_sub *sub;
};

/* The keys of --json and --help, beyond any character a group uses. */
#define CLI_OPT_JSON	0x100
#define CLI_OPT_HELP	0x101

/*
 * One subcommand: its name (NULL for a group's own command, such as
 * "clarion status"), the keys of the group's options it takes (any other
 * is refused), whether it takes --json, how many operands, its synopsis
 * ("run cancel RUN", continuation lines indented) and, if the group's
 * does not explain it, its own text for --help. fn gets the group's
 * option struct, filled in, and the operands.
 */
struct cli_sub {
	const char	*name;
	const char	*alias;
	const char	*opts;
	int		 json;
	int		 min, max;	/* max -1: no limit */
	int		(*fn)(struct cli *, void *, int, char **);
	const char	*synopsis;
	const char	*text;
};

/*
 * One option of a group, and where the dispatcher stores it in the
 * group's option struct (at = offsetof the field): CLI_STR the argument
 * (const char *), CLI_FLAG value (int), CLI_NUM the argument as a whole
 * number no less than value (long long), CLI_ADD the argument appended
 * to a struct cli_list (a repeated option). Synonyms share a key.
 */
enum cli_kind { CLI_STR, CLI_FLAG, CLI_NUM, CLI_ADD };

struct cli_option {
	const char	*name;
	int		 key;
	enum cli_kind	 kind;
	size_t		 at;
	int		 value;
};

struct cli_list {
	const char	**v;
	size_t		  n;
};

/*
 * A command group: its options, those that are short options too, the
 * struct they are stored in (its size, and init for what is not zero
 * by default) and its subcommands.
 */
struct cli_group {
	const char		*name;
	const char		*summary;
	const char		*text;
	const struct cli_option	*opts;
	const char		*shorts;
	size_t			 size;
	void			(*init)(void *);
	const struct cli_sub	*subs;
	size_t			 nsubs;
};

int		 cli_dispatch(struct cli *, const struct cli_group *, int,
		     char **);
void		 cli_json_print(struct json_t *);
void		 cli_print_fields(struct json_t *);
void		 cli_set_str(char **, const char *);
int		 cli_misuse(struct cli *, const char *, ...) PRINTFLIKE(2, 3);

struct config	*cli_config(struct cli *);
struct db	*cli_db(struct cli *);
int		 cli_keys(struct cli *, struct token_keys *);
int		 cli_error(int, const char *, ...) PRINTFLIKE(2, 3);
int		 cli_fail(int, char **);

extern const struct cli_group cli_group_status;
extern const struct cli_group cli_group_backup;
extern const struct cli_group cli_group_restore;
/* cli_preview.c: item preview and item test */
struct preview_opts {
	const char	*subscriber;
	const char	*to;
	int		 mode;	/* 't' text, 'h' html, 'r' raw */
};
extern const char cli_preview_text[];
int	cli_item_preview(struct cli *, const char *,
	    const struct preview_opts *, int);
extern const struct cli_group cli_group_template;
extern const struct cli_group cli_group_bounces;
extern const char cli_inbound_run_text[];
int	cli_inbound_run(struct cli *, int);
extern const struct cli_group cli_group_inbound;

/* cli_list.c, cli_sub.c, cli_import.c: lists and subscribers */
struct sub_opts {
	const char	*list, *name, *consent, *address, *segment, *status;
	const char	*map, *reason, *output;
	struct cli_list	 attrs;		/* --attr KEY=VALUE, repeated */
	int		 dry_run, strict, progress;
};
extern const struct cli_group cli_group_list;
extern const struct cli_group cli_group_sub;
int	cli_list_lookup(struct cli *, const char *, struct list_info *);
char	*cli_sub_address(const char *);
int	cli_sub_import(struct cli *, void *, int, char **);

/* schedule: cli_event.c, cli_item.c, cli_notice.c, cli_run.c */
extern const struct cli_group cli_group_event;
extern const struct cli_group cli_group_item;
extern const struct cli_group cli_group_notice;
extern const struct cli_group cli_group_run;
int	cli_when(struct cli *, const char *, time_t *);
char	*cli_local(struct cli *, time_t);
time_t	 cli_item_next(struct cli *, const struct item *);

/* send: cli_queue.c */
extern const struct cli_group cli_group_queue;

/* cli_dkim.c */
extern const struct cli_group cli_group_dkim;

#endif
