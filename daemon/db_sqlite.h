/*
 * The SQLite backend's private header: only db*.c (and white-box tests)
 * include it. Everything above the seam sees struct db as opaque and
 * calls the db_* functions of clarion.h.
 */
#ifndef DB_SQLITE_H
#define DB_SQLITE_H

#include <sqlite3.h>

struct token_keys;

struct db {
	sqlite3		*sql;
	char		*path;
	struct token_keys *keys;	/* for SQL's clarion_address_hash() */
};

/* Transactions: above the seam only db_atomic() and db_trial() run one. */
int	 db_begin(struct db *);	/* BEGIN IMMEDIATE */
int	 db_commit(struct db *);
void	 db_rollback(struct db *);
int	 db_exec(struct db *, const char *, char **);
const char *db_errmsg(struct db *);
void	 db_cause(struct db *, char **);

/*
 * Statements. Two error styles: the _log ones log and return NULL/-1;
 * the others fill cause (when given).
 */
sqlite3_stmt *db_prep(struct db *, const char *);
int	 db_step_log(struct db *, sqlite3_stmt *);
int	 db_prepare(struct db *, const char *, sqlite3_stmt **, char **);
int	 db_step_done(struct db *, sqlite3_stmt *, char **);

/*
 * One set of bind and column helpers, named for what a NULL or an empty
 * value becomes, so each call site says which it means.
 */
void	 db_bind_text_or_empty(sqlite3_stmt *, int, const char *);
void	 db_bind_text_or_null(sqlite3_stmt *, int, const char *);
void	 db_bind_text_null_if_empty(sqlite3_stmt *, int, const char *);
void	 db_bind_int_or_null(sqlite3_stmt *, int, int64_t);	/* 0: NULL */
void	 db_bind_id_or_null(sqlite3_stmt *, int, int64_t);	/* <= 0: NULL */
char	*db_col_text_or_empty(sqlite3_stmt *, int);
char	*db_col_text_or_null(sqlite3_stmt *, int);

#endif
