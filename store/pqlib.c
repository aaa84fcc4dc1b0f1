/* pqlib.c - libpq opened when first needed (store/pqlib.h). */
#include "pqlib.h"
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

static struct pqlib lib;
static int loaded;	/* 0 not tried, 1 loaded, -1 failed */
static char failure[512];

/* dlsym's object pointer as the function pointer it is (POSIX requires
 * the two to convert; ISO C leaves it to the platform). */
#define BIND(h, field, name)                                                   \
	do {                                                                   \
		void *sym_ = dlsym(h, name);                                   \
		if (!sym_) {                                                   \
			snprintf(failure, sizeof failure, "%s has no %s",        \
				 PQLIB_SONAME, name);                          \
			return false;                                          \
		}                                                              \
		lib.field = (__typeof__(lib.field))sym_;                       \
	} while (0)

static bool bind_all(void *h)
{
	BIND(h, connectdb, "PQconnectdb");
	BIND(h, status, "PQstatus");
	BIND(h, errorMessage, "PQerrorMessage");
	BIND(h, finish, "PQfinish");
	BIND(h, exec, "PQexec");
	BIND(h, execParams, "PQexecParams");
	BIND(h, resultStatus, "PQresultStatus");
	BIND(h, resultErrorField, "PQresultErrorField");
	BIND(h, clear, "PQclear");
	BIND(h, ntuples, "PQntuples");
	BIND(h, getvalue, "PQgetvalue");
	BIND(h, getisnull, "PQgetisnull");
	BIND(h, putCopyData, "PQputCopyData");
	BIND(h, putCopyEnd, "PQputCopyEnd");
	BIND(h, getResult, "PQgetResult");
	return true;
}

const struct pqlib *pqlib_load(char *why, size_t whylen)
{
	if (!loaded) {
		/* kept open for the rest of the run: its pointers are used
		 * until the process ends */
		void *h = dlopen(PQLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			const char *e = dlerror();
			snprintf(failure, sizeof failure, "cannot load %s (Debian's libpq5): %s",
				 PQLIB_SONAME, e ? e : "?");
			loaded = -1;
		} else {
			loaded = bind_all(h) ? 1 : -1;
		}
	}
	if (loaded < 0) {
		snprintf(why, whylen, "%s", failure);
		return NULL;
	}
	return &lib;
}
