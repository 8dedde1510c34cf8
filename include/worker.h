/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The queue of audit rows that must outlive their transaction, and the
 *	  background workers that write them.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * include/worker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGSAFE_WORKER_H
#define MIGSAFE_WORKER_H

#include "postgres.h"

#include "fmgr.h"

extern void migsafe_worker_shmem_request(void);
extern void migsafe_worker_shmem_startup(void);
extern bool migsafe_worker_enqueue(Oid dbid, const char *row);
extern void migsafe_worker_release(Oid dbid);
extern void migsafe_worker_forget(Oid dbid);
extern PGDLLEXPORT void migsafe_worker_main(Datum main_arg);
extern PGDLLEXPORT void migsafe_worker_launcher_main(Datum main_arg);
extern void migsafe_worker_register_launcher(void);

#endif							/* MIGSAFE_WORKER_H */
