/*
 * core/auth.h: proofs of the shared cluster secret, on libsodium.  The
 * secret itself never leaves the node.  Its MAC key is keyed BLAKE2b under
 * BLAKE2b of the secret; from it, per purpose, 128-bit SipHash keys.  The
 * handshake exchanges random 64-bit challenges and proves knowledge of the
 * secret by a SipHash-2-4 tag (128-bit output) over the challenge, a
 * direction tag and both node names (so a proof cannot be reflected back or
 * replayed to another pair); gossip heartbeats carry a SipHash tag over
 * their whole body.  A proof's strength is bounded by its 64-bit challenge
 * whatever the MAC (an attacker waits for a challenge it saw answered), so
 * a 128-bit SipHash tag under a 128-bit key loses nothing against a 256-bit
 * BLAKE2b one, and costs an eighth (Erlang's own handshake sends
 * MD5(cookie, challenge)).
 */
#ifndef CS_AUTH_H
#define CS_AUTH_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_AUTH_KEY_LEN 32
#define CS_AUTH_MAC_LEN 32

/* A MAC key, kept as BLAKE2b's state set up with it, so that each MAC
 * starts from a copy instead of setting the key up again.  Stored as bytes: the
 * state type asks for 64-byte alignment, which malloc does not give the
 * structures that hold a key; each use copies it into an aligned local. */
struct cs_mac_key {
    unsigned char keyed[sizeof(crypto_generichash_state)];
};

/* Derives the MAC key from the secret text (BLAKE2b of the secret). */
void cs_auth_key(const char *secret, struct cs_mac_key *key);

/* MAC of an arbitrary message (gossip heartbeats, link key derivation). */
void cs_auth_mac(const struct cs_mac_key *key, const uint8_t *data, size_t len, uint8_t out[CS_AUTH_MAC_LEN]);

/* Checks a message MAC in constant time. */
bool cs_auth_mac_ok(const struct cs_mac_key *key, const uint8_t *data, size_t len,
                    const uint8_t mac[CS_AUTH_MAC_LEN]);

/* Short tags and proofs: SipHash-2-4 with a 128-bit output (libsodium's siphashx24),
 * for high-rate messages whose forgery gains little (gossip heartbeats
 * only make a node dial, and the dial must still pass the handshake).
 * Every node checks every heartbeat it hears, so the tag's cost is paid
 * cluster size times per heartbeat: SipHash takes about 30 ns where keyed
 * BLAKE2b takes 200. */
#define CS_AUTH_TAG_LEN 16

struct cs_tag_key {
    uint8_t bytes[16];
};

/* Derives a tag key for one purpose (a short label) from the MAC key: the
 * first 16 bytes of the MAC of the label. */
void cs_auth_tag_key(const struct cs_mac_key *key, const char *purpose, struct cs_tag_key *out);

/* The tag of a message. */
void cs_auth_tag(const struct cs_tag_key *key, const uint8_t *data, size_t len, uint8_t out[CS_AUTH_TAG_LEN]);

/* Checks a tag in constant time. */
bool cs_auth_tag_ok(const struct cs_tag_key *key, const uint8_t *data, size_t len,
                    const uint8_t tag[CS_AUTH_TAG_LEN]);

/* Handshake proofs: the SipHash tag, under the key derived for
 * "handshake proof", of: tag NUL, challenge (8 bytes, little-endian), self
 * NUL, peer NUL.  `tag` distinguishes the dialling and the accepting side.
 * Writes the proof that the holder of the key answers `challenge` as
 * `self` talking to `peer`; false (and zeros) when the fields exceed
 * CS_AUTH_PROOF_INPUT_MAX bytes (names that long never reach a handshake). */
#define CS_AUTH_PROOF_LEN CS_AUTH_TAG_LEN
#define CS_AUTH_PROOF_INPUT_MAX 512
#define CS_AUTH_PROOF_PURPOSE "handshake proof"
bool cs_auth_proof(const struct cs_tag_key *key, const char *tag, uint64_t challenge, const char *self,
                   const char *peer, uint8_t out[CS_AUTH_PROOF_LEN]);

/* Checks a proof in constant time (false for oversized fields). */
bool cs_auth_proof_ok(const struct cs_tag_key *key, const char *tag, uint64_t challenge, const char *self,
                      const char *peer, const uint8_t proof[CS_AUTH_PROOF_LEN]);

#endif
