/*
 * tests/test_auth.c: the MACs, proofs and short tags of core/auth.h.  Each
 * is checked against libsodium called directly (so the definitions in
 * auth.h are pinned, not just self-consistent), and each check refuses a
 * flipped bit, a wrong key and a truncated message.
 */
#include "tests.h"

#include "../core/auth.h"

#include <string.h>

/* The documented key: BLAKE2b-256 of the secret text. */
static void raw_key(const char *secret, uint8_t out[CS_AUTH_KEY_LEN])
{
    crypto_generichash(out, CS_AUTH_KEY_LEN, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

static void test_auth_mac_is_keyed_blake2b(void **state)
{
    (void)state;
    struct cs_mac_key key;
    cs_auth_key("cookie-3f1a", &key);
    uint8_t raw[CS_AUTH_KEY_LEN], want[CS_AUTH_MAC_LEN], got[CS_AUTH_MAC_LEN];
    raw_key("cookie-3f1a", raw);
    const uint8_t msg[] = "heartbeat::example body";
    crypto_generichash(want, sizeof want, msg, sizeof msg, raw, sizeof raw);
    cs_auth_mac(&key, msg, sizeof msg, got);
    assert_memory_equal(got, want, sizeof want);
    /* The key state is reused: a second MAC of the same message is equal. */
    cs_auth_mac(&key, msg, sizeof msg, got);
    assert_memory_equal(got, want, sizeof want);

    assert_true(cs_auth_mac_ok(&key, msg, sizeof msg, want));
    assert_false(cs_auth_mac_ok(&key, msg, sizeof msg - 1, want));
    uint8_t flipped[sizeof msg];
    memcpy(flipped, msg, sizeof msg);
    flipped[3] ^= 0x10;
    assert_false(cs_auth_mac_ok(&key, flipped, sizeof msg, want));
    struct cs_mac_key other;
    cs_auth_key("cookie-3f1b", &other);
    assert_false(cs_auth_mac_ok(&other, msg, sizeof msg, want));
}

/* A proof is SipHash-2-4-128 (libsodium's siphashx24), under the first 16
 * bytes of the keyed-BLAKE2b MAC of "handshake proof", of tag NUL,
 * challenge little-endian, self NUL, peer NUL: computed here from
 * libsodium alone. */
static void test_auth_proof_binds_every_field(void **state)
{
    (void)state;
    struct cs_mac_key key;
    cs_auth_key("s", &key);
    uint8_t raw[CS_AUTH_KEY_LEN], mac[CS_AUTH_MAC_LEN], want[CS_AUTH_PROOF_LEN], got[CS_AUTH_PROOF_LEN];
    raw_key("s", raw);
    const char *purpose = "handshake proof";
    crypto_generichash(mac, sizeof mac, (const uint8_t *)purpose, strlen(purpose), raw, sizeof raw);
    const uint8_t input[] = {'d', 'i', 'a', 'l', 0, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                             'a', '@', 'x', 0, 'b', '@', 'y', 0};
    crypto_shorthash_siphashx24(want, input, sizeof input, mac); /* the key: mac's first 16 bytes */
    struct cs_tag_key proof_key;
    cs_auth_tag_key(&key, CS_AUTH_PROOF_PURPOSE, &proof_key);
    assert_true(cs_auth_proof(&proof_key, "dial", UINT64_C(0x0102030405060708), "a@x", "b@y", got));
    assert_memory_equal(got, want, sizeof want);
    assert_true(cs_auth_proof_ok(&proof_key, "dial", UINT64_C(0x0102030405060708), "a@x", "b@y", want));
    assert_false(cs_auth_proof_ok(&proof_key, "accept", UINT64_C(0x0102030405060708), "a@x", "b@y", want));
    assert_false(cs_auth_proof_ok(&proof_key, "dial", UINT64_C(0x0102030405060709), "a@x", "b@y", want));
    assert_false(cs_auth_proof_ok(&proof_key, "dial", UINT64_C(0x0102030405060708), "b@y", "a@x", want));
    assert_false(cs_auth_proof_ok(&proof_key, "dial", UINT64_C(0x0102030405060708), "a@x", "b@", want));
    struct cs_mac_key other;
    struct cs_tag_key other_proof;
    cs_auth_key("t", &other);
    cs_auth_tag_key(&other, CS_AUTH_PROOF_PURPOSE, &other_proof);
    assert_false(cs_auth_proof_ok(&other_proof, "dial", UINT64_C(0x0102030405060708), "a@x", "b@y", want));
    for (size_t i = 0; i < sizeof want; i++) { /* a flipped bit anywhere */
        want[i] ^= 1;
        assert_false(cs_auth_proof_ok(&proof_key, "dial", UINT64_C(0x0102030405060708), "a@x", "b@y", want));
        want[i] ^= 1;
    }
    /* Fields beyond CS_AUTH_PROOF_INPUT_MAX bytes: no proof, nothing accepted. */
    char long_name[CS_AUTH_PROOF_INPUT_MAX];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_false(cs_auth_proof(&proof_key, "dial", 1, long_name, "b@y", got));
    const uint8_t zeros[CS_AUTH_PROOF_LEN] = {0};
    assert_memory_equal(got, zeros, sizeof zeros);
    assert_false(cs_auth_proof_ok(&proof_key, "dial", 1, long_name, "b@y", zeros));
}

static void test_auth_tags_are_siphash_under_derived_keys(void **state)
{
    (void)state;
    struct cs_mac_key key;
    cs_auth_key("cookie", &key);
    struct cs_tag_key gossip, other;
    cs_auth_tag_key(&key, "libcluster gossip heartbeat", &gossip);
    cs_auth_tag_key(&key, "something else", &other);
    assert_memory_not_equal(gossip.bytes, other.bytes, sizeof gossip.bytes);
    /* The derived key is the first 16 bytes of the purpose's MAC. */
    uint8_t mac[CS_AUTH_MAC_LEN];
    const char *purpose = "libcluster gossip heartbeat";
    cs_auth_mac(&key, (const uint8_t *)purpose, strlen(purpose), mac);
    assert_memory_equal(gossip.bytes, mac, sizeof gossip.bytes);

    const uint8_t msg[] = "heartbeat::\x01\x02\x03\x04 app@10.0.0.1";
    uint8_t want[CS_AUTH_TAG_LEN], got[CS_AUTH_TAG_LEN];
    crypto_shorthash_siphashx24(want, msg, sizeof msg, gossip.bytes);
    cs_auth_tag(&gossip, msg, sizeof msg, got);
    assert_memory_equal(got, want, sizeof want);
    assert_true(cs_auth_tag_ok(&gossip, msg, sizeof msg, want));
    assert_false(cs_auth_tag_ok(&other, msg, sizeof msg, want));
    assert_false(cs_auth_tag_ok(&gossip, msg, sizeof msg - 1, want));
    for (size_t i = 0; i < sizeof want; i++) { /* a flipped bit anywhere */
        want[i] ^= 0x80;
        assert_false(cs_auth_tag_ok(&gossip, msg, sizeof msg, want));
        want[i] ^= 0x80;
    }
    assert_true(cs_auth_tag_ok(&gossip, msg, sizeof msg, want));
}

int test_auth_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_mac_is_keyed_blake2b),
        cmocka_unit_test(test_auth_proof_binds_every_field),
        cmocka_unit_test(test_auth_tags_are_siphash_under_derived_keys),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
