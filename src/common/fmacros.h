/* SPDX-License-Identifier: Apache-2.0 */
/* fmacros.h - feature-test macros; included first by every source file. */
#ifndef LAKE_FMACROS_H
#define LAKE_FMACROS_H
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1 /* renameat2 needs _GNU_SOURCE; see local.c */
#endif
#endif
