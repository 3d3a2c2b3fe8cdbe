/*
 * What the daemon's steps share with clariond.c's loop, in the library so
 * the steps can also run from tests and the CLI: the stop request.
 */
#include "config.h"

#include <signal.h>

#include "clarion.h"

volatile sig_atomic_t daemon_got_term;

/* Lets a step that runs long notice a stop request between messages. */
int
daemon_stopping(struct daemon_ctx *ctx)
{
	sigset_t	 pending;

	if (daemon_got_term)
		ctx->stopping = 1;
	if (!ctx->stopping && sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)))
		ctx->stopping = 1;
	return ctx->stopping;
}
