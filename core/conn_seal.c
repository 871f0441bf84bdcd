/*
 * core/conn_seal.c: encrypted links.  After the handshake proved the
 * secret, each direction of a link gets its own key, keyed BLAKE2b under the
 * cluster key of ("seal", dialler's challenge, acceptor's challenge,
 * direction); every frame then travels as CONN_FRAME_SEALED || ChaCha20-Poly1305
 * (IETF) of the inner frame, the nonce being the direction's frame counter.
 * Links are FIFO, so the receiver expects exactly the next counter: a
 * replayed, dropped, reordered or forged frame fails to open and the link
 * is closed (counted as bad_mac).  Pure computation (libsodium), no I/O.
 */
#include "conn_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void derive(struct conn *c, uint64_t dialler, uint64_t acceptor, char direction, uint8_t out[32])
{
    uint8_t msg[4 + 8 + 8 + 1];
    memcpy(msg, "seal", 4);
    for (int i = 0; i < 8; i++) {
        msg[4 + i] = (uint8_t)(dialler >> (8 * i));
        msg[12 + i] = (uint8_t)(acceptor >> (8 * i));
    }
    msg[20] = (uint8_t)direction;
    cs_auth_mac(&c->key, msg, sizeof msg, out);
}

bool conn_seal_keys(struct conn *c, struct conn_link *l)
{
    struct conn_seal_state *s = l->seal ? l->seal : malloc(sizeof *s);
    if (!s)
        return false;
    uint64_t dialler = l->outbound ? l->my_challenge : l->their_challenge;
    uint64_t acceptor = l->outbound ? l->their_challenge : l->my_challenge;
    derive(c, dialler, acceptor, l->outbound ? 'D' : 'A', s->key_out);
    derive(c, dialler, acceptor, l->outbound ? 'A' : 'D', s->key_in);
    s->out = s->in = 0;
    l->seal = s;
    return true;
}

static void nonce_of(uint64_t counter, uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES])
{
    memset(nonce, 0, crypto_aead_chacha20poly1305_IETF_NPUBBYTES);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

size_t conn_seal(struct conn_link *l, const uint8_t *frame, size_t len, uint8_t *out)
{
    uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
    nonce_of(l->seal->out++, nonce);
    out[0] = CONN_FRAME_SEALED;
    unsigned long long clen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out + 1, &clen, frame, len, NULL, 0, NULL, nonce, l->seal->key_out);
    return 1 + (size_t)clen;
}

bool conn_open(struct conn_link *l, const uint8_t *sealed, size_t len, uint8_t *out, size_t *out_len)
{
    if (len < CONN_SEAL_OVERHEAD || sealed[0] != CONN_FRAME_SEALED)
        return false;
    uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
    nonce_of(l->seal->in, nonce);
    unsigned long long plen = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL, sealed + 1, len - 1, NULL, 0, nonce,
                                                  l->seal->key_in) != 0)
        return false;
    l->seal->in++;
    *out_len = (size_t)plen;
    return true;
}
