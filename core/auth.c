/*
 * core/auth.c: HMAC-SHA-256 and BLAKE2b from libsodium.  These functions are
 * pure computations (no randomness, no I/O), so core/ stays deterministic;
 * challenges come from the environment's random source.
 */
#include "auth.h"

#include <sodium.h>
#include <string.h>

void cs_auth_key(const char *secret, uint8_t key[CS_AUTH_KEY_LEN])
{
    crypto_generichash(key, CS_AUTH_KEY_LEN, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

static void proof_message(crypto_auth_hmacsha256_state *st, const uint8_t key[CS_AUTH_KEY_LEN],
                          const char *tag, uint64_t challenge, const char *self, const char *peer)
{
    uint8_t chal[8];
    for (int i = 0; i < 8; i++)
        chal[i] = (uint8_t)(challenge >> (8 * i));
    crypto_auth_hmacsha256_init(st, key, CS_AUTH_KEY_LEN);
    /* Each field is NUL-terminated so that field boundaries are unambiguous. */
    crypto_auth_hmacsha256_update(st, (const unsigned char *)tag, strlen(tag) + 1);
    crypto_auth_hmacsha256_update(st, chal, sizeof chal);
    crypto_auth_hmacsha256_update(st, (const unsigned char *)self, strlen(self) + 1);
    crypto_auth_hmacsha256_update(st, (const unsigned char *)peer, strlen(peer) + 1);
}

void cs_auth_proof(const uint8_t key[CS_AUTH_KEY_LEN], const char *tag, uint64_t challenge,
                   const char *self, const char *peer, uint8_t out[CS_AUTH_MAC_LEN])
{
    crypto_auth_hmacsha256_state st;
    proof_message(&st, key, tag, challenge, self, peer);
    crypto_auth_hmacsha256_final(&st, out);
}

bool cs_auth_proof_ok(const uint8_t key[CS_AUTH_KEY_LEN], const char *tag, uint64_t challenge,
                      const char *self, const char *peer, const uint8_t proof[CS_AUTH_MAC_LEN])
{
    uint8_t want[CS_AUTH_MAC_LEN];
    cs_auth_proof(key, tag, challenge, self, peer, want);
    return crypto_verify_32(want, proof) == 0;
}

void cs_auth_mac(const uint8_t key[CS_AUTH_KEY_LEN], const uint8_t *data, size_t len,
                 uint8_t out[CS_AUTH_MAC_LEN])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, CS_AUTH_KEY_LEN);
    crypto_auth_hmacsha256_update(&st, data, len);
    crypto_auth_hmacsha256_final(&st, out);
}

bool cs_auth_mac_ok(const uint8_t key[CS_AUTH_KEY_LEN], const uint8_t *data, size_t len,
                    const uint8_t mac[CS_AUTH_MAC_LEN])
{
    uint8_t want[CS_AUTH_MAC_LEN];
    cs_auth_mac(key, data, len, want);
    return crypto_verify_32(want, mac) == 0;
}
