/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - the sparkify command: a thin layer over lake.h. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lake.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sparkify <command> [options]\n"
            "\n"
            "commands:\n"
            "  etl        raw JSON (songs + event logs) to the star schema "
            "lake\n"
            "  generate   write eventsim-faithful sample data\n"
            "\n"
            "  sparkify --version\n"
            "  sparkify <command> --help\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SPARKIFY_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("sparkify %s\n", lake_version());
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sparkify_n_commands; i++)
        if (!strcmp(cmd, sparkify_commands[i].name))
            return sparkify_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sparkify: unknown command '%s'\n", cmd);
    usage(stderr);
    return SPARKIFY_EXIT_USAGE;
}
