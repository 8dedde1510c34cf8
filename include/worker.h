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

/* A queue slot's bytes, and the longest row (JSON) one holds */
#define MIGSAFE_SLOT_SIZE		4096
#define MIGSAFE_SLOT_DATA		(MIGSAFE_SLOT_SIZE - 24)
#define MIGSAFE_QUEUE_ROW_MAX	(MIGSAFE_SLOT_DATA - 1)

extern void migsafe_worker_shmem_request(void);
extern void migsafe_worker_shmem_startup(void);
extern bool migsafe_worker_enqueue(Oid dbid, const char *row);
extern void migsafe_worker_release(Oid dbid);
extern void migsafe_worker_forget(Oid dbid);
extern PGDLLEXPORT void migsafe_worker_main(Datum main_arg);
extern PGDLLEXPORT void migsafe_worker_launcher_main(Datum main_arg);
extern void migsafe_worker_register_launcher(void);

#endif							/* MIGSAFE_WORKER_H */
