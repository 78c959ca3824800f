/* SPDX-License-Identifier: Apache-2.0 */
/* model_sha256.h - the model stage's private SHA-256 helper. */
#ifndef LAKE_MODEL_SHA256_H
#define LAKE_MODEL_SHA256_H
#include <stddef.h>
#include <stdint.h>

#define LAKE_SHA256_BYTES 32

/* SHA-256 of @p n bytes at @p p into @p out. Infallible and allocation-free
 * (libcrypto's block functions, no EVP fetch). */
void lake_model_sha256(const void *p, size_t n,
                       uint8_t out[LAKE_SHA256_BYTES]);
#endif
