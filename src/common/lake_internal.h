/* SPDX-License-Identifier: Apache-2.0 */
/* lake_internal.h - included last by every library source file: poisons
 * the C functions we never use (curl CODE_STYLE "Banned functions"). */
#ifndef LAKE_INTERNAL_H
#define LAKE_INTERNAL_H
#if defined(__GNUC__) && !defined(__cplusplus)
#pragma GCC poison sprintf strcpy strcat strtok atoi gets vsprintf
#endif
#endif
