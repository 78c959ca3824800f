/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h - the sub-commands of sparkify and the exit codes they share. */
#ifndef SPARKIFY_CLI_H
#define SPARKIFY_CLI_H
#include <stddef.h>

enum {
    SPARKIFY_EXIT_OK = 0,
    SPARKIFY_EXIT_FAILURE = 1, /* the job failed; the lake is unchanged */
    SPARKIFY_EXIT_USAGE = 2,   /* bad command line */
    SPARKIFY_EXIT_BADDATA = 3  /* --fail-on-bad and records were rejected */
};

typedef struct sparkify_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} sparkify_command;

extern const sparkify_command sparkify_commands[];
extern const size_t sparkify_n_commands;
#endif
