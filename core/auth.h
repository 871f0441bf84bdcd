/*
 * core/auth.h: proofs of the shared cluster secret, on libsodium's
 * HMAC-SHA-256.  The secret itself never leaves the node: the handshake
 * exchanges random challenges and proves knowledge of the key by a MAC over
 * the challenge, a direction tag and both node names (so a proof cannot be
 * reflected back or replayed to another pair), and gossip heartbeats carry a
 * MAC over their whole body.
 */
#ifndef CS_AUTH_H
#define CS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_AUTH_KEY_LEN 32
#define CS_AUTH_MAC_LEN 32

/* Derives the MAC key from the secret text (BLAKE2b of the secret). */
void cs_auth_key(const char *secret, uint8_t key[CS_AUTH_KEY_LEN]);

/* The proof that the holder of `key` answers `challenge` as `self` talking
 * to `peer`; `tag` distinguishes the dialling and the accepting side. */
void cs_auth_proof(const uint8_t key[CS_AUTH_KEY_LEN], const char *tag, uint64_t challenge,
                   const char *self, const char *peer, uint8_t out[CS_AUTH_MAC_LEN]);

/* Checks a proof in constant time. */
bool cs_auth_proof_ok(const uint8_t key[CS_AUTH_KEY_LEN], const char *tag, uint64_t challenge,
                      const char *self, const char *peer, const uint8_t proof[CS_AUTH_MAC_LEN]);

/* MAC of an arbitrary message (gossip heartbeats). */
void cs_auth_mac(const uint8_t key[CS_AUTH_KEY_LEN], const uint8_t *data, size_t len,
                 uint8_t out[CS_AUTH_MAC_LEN]);

/* Checks a message MAC in constant time. */
bool cs_auth_mac_ok(const uint8_t key[CS_AUTH_KEY_LEN], const uint8_t *data, size_t len,
                    const uint8_t mac[CS_AUTH_MAC_LEN]);

#endif
