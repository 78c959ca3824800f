/* SPDX-License-Identifier: Apache-2.0 */
/* commands.c - the table of sub-commands. */
#include "cli.h"

int sparkify_cmd_etl(int argc, char **argv);
int sparkify_cmd_generate(int argc, char **argv);

const sparkify_command sparkify_commands[] = {
    {"etl", sparkify_cmd_etl},
    {"generate", sparkify_cmd_generate},
};
const size_t sparkify_n_commands =
    sizeof(sparkify_commands) / sizeof(sparkify_commands[0]);
