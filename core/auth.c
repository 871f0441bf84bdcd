/*
 * core/auth.c: message authentication under the cluster secret, on
 * libsodium's keyed BLAKE2b (a MAC by construction), and short tags and
 * handshake proofs on SipHash-2-4 with a 128-bit output under keys derived
 * from it.  The keyed BLAKE2b state is set up once per key and copied for
 * each message; a MAC of a short message costs two BLAKE2b compressions
 * (the key block and the message block), about 250 ns, where SipHash takes
 * 30.  Every node checks every gossip heartbeat it hears, and every link
 * set-up computes four proofs: on BLAKE2b these were a tenth of a fuzz
 * run's time.  Copies of the keyed state are as good as the key: each is
 * wiped after use.  These functions are pure computations (no randomness,
 * no I/O), so core/ stays deterministic; challenges come from the
 * environment's random source.
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

/* Compares two 16-byte tags in constant time: the differences of both
 * halves are ORed, then tested once (libsodium's crypto_verify_16 does the
 * same through a call and volatile loads: a tenth of a heartbeat's
 * checking). */
static bool tags_equal(const uint8_t a[CS_AUTH_TAG_LEN], const uint8_t b[CS_AUTH_TAG_LEN])
{
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

bool cs_auth_proof(const struct cs_tag_key *key, const char *tag, uint64_t challenge, const char *self,
                   const char *peer, uint8_t out[CS_AUTH_PROOF_LEN])
{
    /* tag NUL, the challenge little-endian, self NUL, peer NUL. */
    uint8_t input[CS_AUTH_PROOF_INPUT_MAX];
    size_t tag_len = strlen(tag) + 1, self_len = strlen(self) + 1, peer_len = strlen(peer) + 1;
    memset(out, 0, CS_AUTH_PROOF_LEN);
    if (tag_len + 8 + self_len + peer_len > sizeof input)
        return false;
    size_t n = 0;
    memcpy(input, tag, tag_len);
    n += tag_len;
    for (int i = 0; i < 8; i++)
        input[n++] = (uint8_t)(challenge >> (8 * i));
    memcpy(input + n, self, self_len);
    n += self_len;
    memcpy(input + n, peer, peer_len);
    n += peer_len;
    crypto_shorthash_siphashx24(out, input, n, key->bytes);
    return true;
}

bool cs_auth_proof_ok(const struct cs_tag_key *key, const char *tag, uint64_t challenge, const char *self,
                      const char *peer, const uint8_t proof[CS_AUTH_PROOF_LEN])
{
    uint8_t want[CS_AUTH_PROOF_LEN];
    return cs_auth_proof(key, tag, challenge, self, peer, want) && tags_equal(want, proof);
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
    return tags_equal(want, tag);
}
