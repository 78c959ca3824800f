/* SPDX-License-Identifier: Apache-2.0 */
/* commands.c - the table of sub-commands. */
#include "cli.h"

const sparkify_command sparkify_commands[] = {
    {"", 0}, /* placeholder until the first command lands */
};
const size_t sparkify_n_commands = 0;
