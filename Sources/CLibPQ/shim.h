#ifndef WHISPER_CLIBPQ_SHIM_H
#define WHISPER_CLIBPQ_SHIM_H
#include <libpq-fe.h>

// postgres_ext.h defines the diagnostic field codes as character literals, which Swift does not import.
static const int WC_PG_DIAG_SEVERITY = PG_DIAG_SEVERITY_NONLOCALIZED;
static const int WC_PG_DIAG_SQLSTATE = PG_DIAG_SQLSTATE;
static const int WC_PG_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY;
static const int WC_PG_DIAG_MESSAGE_DETAIL = PG_DIAG_MESSAGE_DETAIL;
static const int WC_PG_DIAG_MESSAGE_HINT = PG_DIAG_MESSAGE_HINT;
static const int WC_PG_DIAG_STATEMENT_POSITION = PG_DIAG_STATEMENT_POSITION;
#endif
