/*
 * core/auth.c: message authentication under the cluster secret, on
 * libsodium's keyed BLAKE2b (a MAC by construction).  The keyed state is
 * set up once per key and copied for each message; a MAC of a short message
 * costs two BLAKE2b compressions (the key block and the message block)
 * where HMAC-SHA-256 took four SHA-256 ones.  Every node checks every
 * gossip heartbeat it hears, which made HMAC a third of a fuzz run's time;
 * heartbeats now carry the cheaper SipHash tags below.  Copies of the keyed
 * state are as good as the key: each is wiped after use.  These functions are pure
 * computations (no randomness, no I/O), so core/ stays deterministic;
 * challenges come from the environment's random source.
 */
#include "auth.h"

#include <string.h>

void cs_auth_key(const char *secret, struct cs_mac_key *key)
{
    uint8_t raw[CS_AUTH_KEY_LEN];
    crypto_generichash(raw, sizeof raw, (const unsigned char *)secret, strlen(secret), NULL, 0);
    crypto_generichash_state st;
    crypto_generichash_init(&st, raw, sizeof raw, CS_AUTH_MAC_LEN);
    memcpy(key->keyed, &st, sizeof key->keyed);
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(&st, sizeof st);
}

void cs_auth_proof(const struct cs_mac_key *key, const char *tag, uint64_t challenge, const char *self,
                   const char *peer, uint8_t out[CS_AUTH_MAC_LEN])
{
    uint8_t chal[8];
    for (int i = 0; i < 8; i++)
        chal[i] = (uint8_t)(challenge >> (8 * i));
    crypto_generichash_state st;
    memcpy(&st, key->keyed, sizeof st);
    /* Each field is NUL-terminated so that field boundaries are unambiguous. */
    crypto_generichash_update(&st, (const unsigned char *)tag, strlen(tag) + 1);
    crypto_generichash_update(&st, chal, sizeof chal);
    crypto_generichash_update(&st, (const unsigned char *)self, strlen(self) + 1);
    crypto_generichash_update(&st, (const unsigned char *)peer, strlen(peer) + 1);
    crypto_generichash_final(&st, out, CS_AUTH_MAC_LEN);
    sodium_memzero(&st, sizeof st);
}

bool cs_auth_proof_ok(const struct cs_mac_key *key, const char *tag, uint64_t challenge, const char *self,
                      const char *peer, const uint8_t proof[CS_AUTH_MAC_LEN])
{
    uint8_t want[CS_AUTH_MAC_LEN];
    cs_auth_proof(key, tag, challenge, self, peer, want);
    return crypto_verify_32(want, proof) == 0;
}

void cs_auth_mac(const struct cs_mac_key *key, const uint8_t *data, size_t len, uint8_t out[CS_AUTH_MAC_LEN])
{
    crypto_generichash_state st;
    memcpy(&st, key->keyed, sizeof st);
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, CS_AUTH_MAC_LEN);
    sodium_memzero(&st, sizeof st);
}

bool cs_auth_mac_ok(const struct cs_mac_key *key, const uint8_t *data, size_t len,
                    const uint8_t mac[CS_AUTH_MAC_LEN])
{
    uint8_t want[CS_AUTH_MAC_LEN];
    cs_auth_mac(key, data, len, want);
    return crypto_verify_32(want, mac) == 0;
}

void cs_auth_tag_key(const struct cs_mac_key *key, const char *purpose, struct cs_tag_key *out)
{
    uint8_t mac[CS_AUTH_MAC_LEN];
    cs_auth_mac(key, (const uint8_t *)purpose, strlen(purpose), mac);
    memcpy(out->bytes, mac, sizeof out->bytes);
    sodium_memzero(mac, sizeof mac);
}

void cs_auth_tag(const struct cs_tag_key *key, const uint8_t *data, size_t len, uint8_t out[CS_AUTH_TAG_LEN])
{
    crypto_shorthash_siphashx24(out, data, len, key->bytes);
}

bool cs_auth_tag_ok(const struct cs_tag_key *key, const uint8_t *data, size_t len,
                    const uint8_t tag[CS_AUTH_TAG_LEN])
{
    uint8_t want[CS_AUTH_TAG_LEN];
    cs_auth_tag(key, data, len, want);
    return crypto_verify_16(want, tag) == 0;
}
