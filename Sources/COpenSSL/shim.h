#ifndef WHISPER_COPENSSL_SHIM_H
#define WHISPER_COPENSSL_SHIM_H
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
// XN_FLAG_RFC2253 is a macro expression Swift cannot import.
static inline unsigned long wc_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }
// EVP_EC_gen and EVP_RSA_gen are variadic macros.
static inline EVP_PKEY *wc_ec_key_generate(const char *curve) { return EVP_EC_gen(curve); }
static inline EVP_PKEY *wc_rsa_key_generate(unsigned int bits) { return EVP_RSA_gen(bits); }
// SSL_set_tlsext_host_name is a macro over SSL_ctrl.
static inline long wc_ssl_set_server_name(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }
// A passphrase for PEM_read_bio_PrivateKey: NULL means "fail on an encrypted key" (no prompt).
static inline int wc_no_passphrase(char *buf, int size, int rwflag, void *u) { (void)buf; (void)size; (void)rwflag; (void)u; return -1; }
static inline pem_password_cb *wc_no_passphrase_callback(void) { return wc_no_passphrase; }
// SSL_CTX_set_min/max_proto_version are macros over SSL_CTX_ctrl.
static inline int wc_ssl_ctx_set_protocol_range(SSL_CTX *ctx, int min, int max) {
    return SSL_CTX_set_min_proto_version(ctx, min) == 1 && SSL_CTX_set_max_proto_version(ctx, max) == 1;
}
#endif
