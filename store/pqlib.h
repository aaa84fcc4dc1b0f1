/* pqlib.h - libpq, loaded when the evidence store is used (ARCHITECTURE.md
 * "The evidence store").  Linked in, libpq brings twenty libraries with it
 * (GnuTLS, Kerberos, LDAP, p11-kit) whose start-up costs every run about
 * 4 MiB of memory, though only `tlswitness load` talks to PostgreSQL; so
 * it is opened with dlopen by its soname, the first time it is needed.
 * The pointers have libpq-fe.h's own types (__typeof__), so a call is
 * checked as a direct one would be. */
#ifndef TW_PQLIB_H
#define TW_PQLIB_H
#include <libpq-fe.h>
#include <stddef.h>

#define PQLIB_SONAME "libpq.so.5"	/* Debian's libpq5 */

struct pqlib {
	__typeof__(PQconnectdb) *connectdb;
	__typeof__(PQstatus) *status;
	__typeof__(PQerrorMessage) *errorMessage;
	__typeof__(PQfinish) *finish;
	__typeof__(PQexec) *exec;
	__typeof__(PQexecParams) *execParams;
	__typeof__(PQresultStatus) *resultStatus;
	__typeof__(PQresultErrorField) *resultErrorField;
	__typeof__(PQclear) *clear;
	__typeof__(PQntuples) *ntuples;
	__typeof__(PQgetvalue) *getvalue;
	__typeof__(PQgetisnull) *getisnull;
	__typeof__(PQputCopyData) *putCopyData;
	__typeof__(PQputCopyEnd) *putCopyEnd;
	__typeof__(PQgetResult) *getResult;
};

/* The library, loaded once (later calls return the same table); NULL
 * with why filled in when it or one of its functions cannot be found. */
const struct pqlib *pqlib_load(char *why, size_t whylen);

#endif
