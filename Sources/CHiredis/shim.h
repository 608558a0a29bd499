#ifndef WHISPER_CHIREDIS_SHIM_H
#define WHISPER_CHIREDIS_SHIM_H
// Debian 12 ships hiredis 0.14: no redisConnectWithOptions, no RESP3, no TLS.
#include <hiredis.h>
#endif
