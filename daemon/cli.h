/* The command-line tool's shared pieces: each command group is in cli_*.c. */
#ifndef CLI_H
#define CLI_H

#include "clarion.h"

struct cli {
	const char	*config_path;
	struct config	*conf;	/* loaded on first use by cli_config() */
	struct db	*db;	/* opened on first use by cli_db() */
	int		 json;	/* --json: machine-readable output */
	int		 keys_loaded;
	struct token_keys keys;
};

struct cli_command {
	const char	*name;
	int		(*fn)(struct cli *, int, char **);
	const char	*summary;
};

struct config	*cli_config(struct cli *);
struct db	*cli_db(struct cli *);
int		 cli_keys(struct cli *, struct token_keys *);
int		 cli_usage(const char *, const char *);
int		 cli_unknown(const char *, const char *, const char *);
int		 cli_error(int, const char *, ...) PRINTFLIKE(2, 3);

int	cmd_init(struct cli *, int, char **);
int	cmd_check_config(struct cli *, int, char **);
int	cmd_status(struct cli *, int, char **);
int	cmd_backup(struct cli *, int, char **);
int	cmd_restore(struct cli *, int, char **);
int	cli_item_preview(struct cli *, int, char **);
int	cmd_template(struct cli *, int, char **);
int	cmd_bounces(struct cli *, int, char **);
int	cmd_inbound_run(struct cli *, int, char **);
int	cmd_inbound(struct cli *, int, char **);

/* cli_list.c, cli_sub.c, cli_import.c: lists and subscribers */
struct sub_opts {
	const char	*list, *name, *consent, *address, *segment, *status;
	const char	*map, *reason, *output;
	const char	**attrs;	/* --attr KEY=VALUE, repeated */
	size_t		 nattrs;
	int		 dry_run, strict;
};
int	cmd_list(struct cli *, int, char **);
int	cmd_sub(struct cli *, int, char **);
int	cli_list_lookup(struct cli *, const char *, struct list_info *);
char	*cli_sub_address(const char *);
int	cli_sub_import(struct cli *, const char *, const struct sub_opts *);

/* schedule: cli_event.c, cli_item.c, cli_notice.c, cli_run.c */
int	cmd_event(struct cli *, int, char **);
int	cmd_item(struct cli *, int, char **);
int	cmd_notice(struct cli *, int, char **);
int	cmd_run(struct cli *, int, char **);
int	cli_when(struct cli *, const char *, time_t *);
char	*cli_local(struct cli *, time_t);
time_t	 cli_item_next(struct cli *, const struct item *);

/* send: cli_queue.c */
int	cmd_queue(struct cli *, int, char **);

/* cli_dkim.c */
int	cmd_dkim(struct cli *, int, char **);

#endif
