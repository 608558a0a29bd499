#ifndef WHISPER_COPENSSL_SHIM_H
#define WHISPER_COPENSSL_SHIM_H
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
// XN_FLAG_RFC2253 is a macro expression Swift cannot import.
static inline unsigned long wc_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }
// EVP_EC_gen is a variadic macro.
static inline EVP_PKEY *wc_ec_key_generate(const char *curve) { return EVP_EC_gen(curve); }
#endif
