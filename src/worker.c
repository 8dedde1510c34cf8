/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Audit rows that must outlive their transaction: a queue in shared
 *	  memory, and one background worker per database that writes it.
 *
 * A blocked change aborts its transaction, so its audit row cannot be
 * inserted there.  The backend puts the row (JSON text) into a slot of a
 * fixed array in shared memory, then wakes, or starts, the writer of its
 * database: a dynamic background worker connected to that database, which
 * inserts the rows into migsafe.audit_log in its own transactions, in the
 * order they were queued.  A slot is freed only after the row committed.
 * When every slot is taken the backend waits for room (up to
 * MIGSAFE_QUEUE_WAIT_MS); a row that still does not fit is written to the
 * server log with a WARNING, never dropped silently.  A writer drains the
 * queue before it exits on SIGTERM (server shutdown or restart) and exits
 * on its own after MIGSAFE_WORKER_IDLE_MS without work.
 *
 * Shared state is protected by one LWLock (tranche "migsafe").  Slots live
 * in shared memory only: a crash restart or an immediate shutdown loses
 * the rows still queued, so audit.c puts each row in the server log before
 * queueing it, whatever migsafe.log_audit says.
 *
 * Calls only internal.c, which inserts the rows.
 *
 * Copyright (c) 2026, migsafe developers
 *
 * src/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "migsafe.h"
#include "internal.h"
#include "worker.h"

/* One queued row; the whole slot is a fixed size */

/* At most this many databases have a writer at the same time */
#define MIGSAFE_MAX_WRITERS		16

/* How long a backend waits for a free slot before giving up on a row */
#define MIGSAFE_QUEUE_WAIT_MS	5000

/* A writer with nothing to do for this long exits, freeing its slot */
#define MIGSAFE_WORKER_IDLE_MS	10000

/* A batch that failed is retried after this long */
#define MIGSAFE_WORKER_RETRY_MS 1000

/* A row that keeps failing is reported every this many tries */
#define MIGSAFE_WORKER_TRIES	10

/* A writer registered this long ago that never attached is presumed dead */
#define MIGSAFE_WORKER_START_MS 10000

/* Rows a writer inserts per transaction */
#define MIGSAFE_WORKER_BATCH	64

typedef enum MigsafeSlotState
{
	MIGSAFE_SLOT_FREE = 0,
	MIGSAFE_SLOT_QUEUED,
	MIGSAFE_SLOT_WRITING
} MigsafeSlotState;

typedef struct MigsafeSlot
{
	uint64		seq;			/* queue order */
	Oid			dbid;
	uint16		state;			/* MigsafeSlotState */
	uint16		len;
	int			tries;			/* failed attempts to write it */
	char		data[MIGSAFE_SLOT_DATA];
} MigsafeSlot;

typedef struct MigsafeWriter
{
	Oid			dbid;			/* InvalidOid: unused */
	pid_t		pid;			/* 0 while starting */
	bool		stop;			/* asked to drain and exit */
	Latch	   *latch;
	TimestampTz registered;
} MigsafeWriter;

typedef struct MigsafeQueue
{
	LWLock	   *lock;
	ConditionVariable room;		/* signalled when slots are freed */
	uint64		next_seq;
	uint64		lost;			/* rows that found no room */
	Latch	   *launcher;		/* the launcher's latch, when it runs */
	int			nslots;
	MigsafeWriter writers[MIGSAFE_MAX_WRITERS];
	MigsafeSlot slots[FLEXIBLE_ARRAY_MEMBER];
} MigsafeQueue;

static MigsafeQueue *queue = NULL;
static volatile sig_atomic_t got_sigterm = false;

static Size
queue_size(void)
{
	return add_size(offsetof(MigsafeQueue, slots),
					mul_size(migsafe_audit_queue_size, sizeof(MigsafeSlot)));
}

/*
 * migsafe_worker_shmem_request
 *
 * From the shmem_request_hook: reserve the queue and its lock.
 */
void
migsafe_worker_shmem_request(void)
{
	RequestAddinShmemSpace(queue_size());
	RequestNamedLWLockTranche("migsafe", 1);
}

/*
 * migsafe_worker_shmem_startup
 *
 * From the shmem_startup_hook: attach to (or create) the queue.
 */
void
migsafe_worker_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	queue = ShmemInitStruct("migsafe audit queue", queue_size(), &found);
	if (!found)
	{
		memset(queue, 0, queue_size());
		queue->lock = &(GetNamedLWLockTranche("migsafe"))->lock;
		ConditionVariableInit(&queue->room);
		queue->nslots = migsafe_audit_queue_size;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Start a writer for dbid, whose writer slot the caller claimed; on failure
 * release the slot.  Returns whether it was registered.
 */
static bool
start_writer_quietly(Oid dbid)
{
	BackgroundWorker bgw;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "migsafe");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "migsafe_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "migsafe audit writer for database %u",
			 dbid);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "migsafe audit writer");
	bgw.bgw_main_arg = ObjectIdGetDatum(dbid);
	bgw.bgw_notify_pid = 0;

	if (!RegisterDynamicBackgroundWorker(&bgw, NULL))
	{
		int			i;

		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		for (i = 0; i < MIGSAFE_MAX_WRITERS; i++)
			if (queue->writers[i].dbid == dbid && queue->writers[i].pid == 0)
				queue->writers[i].dbid = InvalidOid;
		LWLockRelease(queue->lock);
		return false;
	}
	return true;
}

/* The same, telling the session when it failed */
static bool
start_writer(Oid dbid)
{
	if (start_writer_quietly(dbid))
		return true;
	ereport(WARNING,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("could not start the migsafe audit writer"),
			 errdetail("Queued audit rows wait in shared memory until a worker slot is free."),
			 errhint("Raise max_worker_processes.")));
	return false;
}

/* Ask the launcher to start writers for rows that wait without one */
static void
wake_launcher(void)
{
	Latch	   *latch;

	LWLockAcquire(queue->lock, LW_SHARED);
	latch = queue->launcher;
	LWLockRelease(queue->lock);
	if (latch != NULL)
		SetLatch(latch);
}

/*
 * Whether rows of a database other than dbid wait without a writer.  Called
 * with queue->lock held.
 */
static bool
others_waiting(Oid dbid)
{
	int			i;
	int			j;

	for (i = 0; i < queue->nslots; i++)
	{
		MigsafeSlot *slot = &queue->slots[i];
		bool		has_writer = false;

		if (slot->state != MIGSAFE_SLOT_QUEUED || slot->dbid == dbid)
			continue;
		for (j = 0; j < MIGSAFE_MAX_WRITERS; j++)
			if (queue->writers[j].dbid == slot->dbid)
				has_writer = true;
		if (!has_writer)
			return true;
	}
	return false;
}

/*
 * wake_writer
 *
 * Make sure the writer of dbid runs: set its latch, or claim a writer slot
 * and start one.  Called with queue->lock held exclusively; returns whether
 * a writer must be started (after releasing the lock).
 */
static bool
wake_writer(Oid dbid)
{
	TimestampTz now = GetCurrentTimestamp();
	int			free_slot = -1;
	int			i;

	for (i = 0; i < MIGSAFE_MAX_WRITERS; i++)
	{
		MigsafeWriter *w = &queue->writers[i];

		/*
		 * A writer told to stop may be past its last look at the queue: count
		 * it as absent (two writers of one database never write a row twice,
		 * each takes its own slots).
		 */
		if (w->dbid == dbid && w->stop)
			continue;
		if (w->dbid == dbid)
		{
			if (w->pid != 0)
			{
				SetLatch(w->latch);
				return false;
			}
			if (!TimestampDifferenceExceeds(w->registered, now,
											MIGSAFE_WORKER_START_MS))
				return false;	/* starting */
			w->dbid = InvalidOid;	/* never attached: start another */
		}
		if (w->dbid == InvalidOid && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;			/* all busy; rows wait for a slot */
	queue->writers[free_slot].dbid = dbid;
	queue->writers[free_slot].pid = 0;
	queue->writers[free_slot].stop = false;
	queue->writers[free_slot].latch = NULL;
	queue->writers[free_slot].registered = now;
	return true;
}

/*
 * migsafe_worker_enqueue
 *
 * Queue one audit row (JSON text) for database dbid.  Waits for room when
 * the queue is full; returns false, after a WARNING that carries the row,
 * when there is still none (or the row is too long for a slot).  Never
 * raises an error: the caller is about to raise its own.
 */
bool
migsafe_worker_enqueue(Oid dbid, const char *row)
{
	size_t		len = strlen(row);
	TimestampTz start = GetCurrentTimestamp();
	bool		start_needed = false;
	bool		queued = false;
	bool		sleeping = false;

	if (queue == NULL || len >= MIGSAFE_SLOT_DATA)
		goto lost;

	for (;;)
	{
		int			i;

		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		for (i = 0; i < queue->nslots; i++)
		{
			MigsafeSlot *s = &queue->slots[i];

			if (s->state != MIGSAFE_SLOT_FREE)
				continue;
			s->seq = queue->next_seq++;
			s->dbid = dbid;
			s->tries = 0;
			s->len = (uint16) len;
			memcpy(s->data, row, len + 1);
			s->state = MIGSAFE_SLOT_QUEUED;
			queued = true;
			break;
		}
		start_needed = wake_writer(dbid);
		LWLockRelease(queue->lock);
		if (start_needed && !start_writer(dbid) && queued)
		{
			wake_launcher();

			/*
			 * No writer for now (max_worker_processes): the row waits in the
			 * queue for the next writer of this database, and is in the
			 * server log meanwhile, in case the server stops first.
			 */
			ereport(LOG,
					(errmsg("migsafe audit row queued without a writer"),
					 errdetail_log("Audit row: %s.", row)));
		}
		if (queued)
		{
			if (sleeping)
				ConditionVariableCancelSleep();
			return true;
		}

		/*
		 * Full: wait for the writers to free slots.  No CHECK_FOR_INTERRUPTS:
		 * a cancel here would lose the row silently, and the wait is bounded.
		 */
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
									   MIGSAFE_QUEUE_WAIT_MS))
			break;
		if (!sleeping)
		{
			ConditionVariablePrepareToSleep(&queue->room);
			sleeping = true;
		}
		(void) ConditionVariableTimedSleep(&queue->room, 100,
										   PG_WAIT_EXTENSION);
	}
	if (sleeping)
		ConditionVariableCancelSleep();

lost:
	if (queue != NULL)
	{
		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		queue->lost++;
		LWLockRelease(queue->lock);
	}
	ereport(WARNING,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("migsafe could not queue an audit row; it is written to the server log instead"),
			 errdetail_log("Audit row: %s.", row),
			 errhint("Raise migsafe.audit_queue_size, or check that the migsafe audit writer runs.")));
	return false;
}

/* SIGTERM: finish the rows at hand, then exit */
static void
writer_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* at exit: give up the writer slot and hand back rows being written */
static void
writer_detach(int code, Datum arg)
{
	Oid			dbid = DatumGetObjectId(arg);
	int			i;

	if (queue == NULL)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (i = 0; i < MIGSAFE_MAX_WRITERS; i++)
		if (queue->writers[i].dbid == dbid && queue->writers[i].pid == MyProcPid)
			queue->writers[i].dbid = InvalidOid;
	for (i = 0; i < queue->nslots; i++)
		if (queue->slots[i].dbid == dbid &&
			queue->slots[i].state == MIGSAFE_SLOT_WRITING)
			queue->slots[i].state = MIGSAFE_SLOT_QUEUED;
	LWLockRelease(queue->lock);
}

/* Whether this writer was asked to let go of its database */
static bool
my_writer_stopping(Oid dbid)
{
	bool		stop = false;
	int			i;

	LWLockAcquire(queue->lock, LW_SHARED);
	for (i = 0; i < MIGSAFE_MAX_WRITERS; i++)
		if (queue->writers[i].dbid == dbid && queue->writers[i].pid == MyProcPid)
			stop = queue->writers[i].stop;
	LWLockRelease(queue->lock);
	return stop;
}

/*
 * migsafe_worker_release
 *
 * Ask the writer connected to dbid (if any) to write what is queued and
 * exit, and wait for it (up to MIGSAFE_QUEUE_WAIT_MS): DROP DATABASE,
 * CREATE DATABASE ... TEMPLATE and ALTER DATABASE refuse to run while
 * another process is connected.  Rows queued for dbid afterwards start a
 * new writer.
 */
void
migsafe_worker_release(Oid dbid)
{
	TimestampTz start = GetCurrentTimestamp();
	int			i;

	if (queue == NULL || !OidIsValid(dbid))
		return;
	for (;;)
	{
		bool		found = false;

		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		for (i = 0; i < MIGSAFE_MAX_WRITERS; i++)
		{
			MigsafeWriter *w = &queue->writers[i];

			if (w->dbid != dbid)
				continue;
			found = true;
			w->stop = true;
			if (w->pid != 0)
				SetLatch(w->latch);
		}
		LWLockRelease(queue->lock);
		if (!found ||
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
									   MIGSAFE_QUEUE_WAIT_MS))
			return;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
}

/*
 * migsafe_worker_forget
 *
 * After DROP DATABASE: rows still queued for that database can never be
 * written; put them in the server log and free their slots.
 */
void
migsafe_worker_forget(Oid dbid)
{
	int			i;

	if (queue == NULL)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (i = 0; i < queue->nslots; i++)
	{
		MigsafeSlot *slot = &queue->slots[i];

		if (slot->dbid != dbid || slot->state != MIGSAFE_SLOT_QUEUED)
			continue;
		ereport(LOG,
				(errmsg("migsafe audit row of dropped database %u not recorded",
						dbid),
				 errdetail_log("Audit row: %s.", slot->data)));
		slot->state = MIGSAFE_SLOT_FREE;
	}
	LWLockRelease(queue->lock);
	ConditionVariableBroadcast(&queue->room);
}

/* Take up to MIGSAFE_WORKER_BATCH queued rows of dbid, oldest first */
static int
take_batch(Oid dbid, int *idx)
{
	int			n = 0;
	int			i;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (;;)
	{
		int			best = -1;

		for (i = 0; i < queue->nslots; i++)
		{
			MigsafeSlot *s = &queue->slots[i];

			if (s->state == MIGSAFE_SLOT_QUEUED && s->dbid == dbid &&
				(best < 0 || s->seq < queue->slots[best].seq))
				best = i;
		}
		if (best < 0 || n == MIGSAFE_WORKER_BATCH)
			break;
		queue->slots[best].state = MIGSAFE_SLOT_WRITING;
		idx[n++] = best;
	}
	LWLockRelease(queue->lock);
	return n;
}

/* Free written slots (or put them back) and tell waiting backends */
static void
finish_batch(int *idx, int n, bool written)
{
	int			i;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (i = 0; i < n; i++)
		queue->slots[idx[i]].state = written ?
			MIGSAFE_SLOT_FREE : MIGSAFE_SLOT_QUEUED;
	LWLockRelease(queue->lock);
	ConditionVariableBroadcast(&queue->room);
}

/* Whether this database's audit log counts repeated attempts (1.1 on) */
static bool
log_counts_repeats(void)
{
	Oid			nsp = get_namespace_oid(MIGSAFE_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ?
		get_relname_relid("audit_log", nsp) : InvalidOid;

	return OidIsValid(relid) &&
		get_attnum(relid, "repeat_count") != InvalidAttrNumber;
}

/* Whether a queued row is a blocked attempt's */
static bool
blocked_row(const char *row)
{
	return strstr(row, "\"decision\":\"blocked\"") != NULL;
}

/* Insert rows[from..to) as they are, in one statement */
static void
insert_plain(char **rows, int from, int to)
{
	StringInfoData array;
	int			i;

	if (from >= to)
		return;
	initStringInfo(&array);
	appendStringInfoChar(&array, '[');
	for (i = from; i < to; i++)
	{
		if (i > from)
			appendStringInfoChar(&array, ',');
		appendStringInfoString(&array, rows[i]);
	}
	appendStringInfoChar(&array, ']');
	migsafe_internal_insert_log(array.data, false);
}

/*
 * write_rows
 *
 * Write rows in order in the current transaction.  With
 * migsafe.audit_repeat_window, a blocked attempt that repeats one made
 * within the window counts on that attempt's row (the server log says so
 * at the 10th, 100th... attempt) instead of adding one.
 */
static void
write_rows(char **rows, int n)
{
	int			from = 0;
	int			i;

	if (migsafe_audit_repeat_window <= 0 || !log_counts_repeats())
	{
		insert_plain(rows, 0, n);
		return;
	}
	for (i = 0; i < n; i++)
	{
		int64		count;

		if (!blocked_row(rows[i]))
			continue;
		insert_plain(rows, from, i);
		from = i + 1;
		count = migsafe_internal_repeat_log(rows[i], migsafe_audit_repeat_window);
		if (count >= 10 && count % 10 == 0 &&
			(count == 10 || count == 100 || count == 1000 || count % 10000 == 0))
			ereport(LOG,
					(errmsg("migsafe audit row repeats: the same blocked attempt was made " INT64_FORMAT " times",
							count),
					 errdetail_log("Audit row: %s.", rows[i])));
	}
	insert_plain(rows, from, n);
}

/* Write rows in one transaction; returns false (nothing written) on error */
static bool
insert_rows(char **rows, int n, char **error, int *sqlerrcode)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "writing migsafe audit rows");
		write_rows(rows, n);
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		*error = pstrdup(edata->message);
		*sqlerrcode = edata->sqlerrcode;
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	return ok;
}

/*
 * write_batch
 *
 * Insert the rows of slots idx[] in one transaction.  When that fails (a
 * lock held on the log, say), each row is tried alone, so that one bad row
 * does not hold up the others.  A row that fails stays queued, to be
 * retried after MIGSAFE_WORKER_RETRY_MS (and is reported in the server log
 * every MIGSAFE_WORKER_TRIES tries), unless the log is gone from the
 * database: then it goes to the server log and leaves the queue.  Returns
 * whether anything is left to retry.
 */
static bool
write_batch(int *idx, int n)
{
	char	  **rows = palloc(sizeof(char *) * n);
	char	   *error = NULL;
	int			sqlerrcode = 0;
	bool		retry = false;
	int			i;

	/* the slots are ours while WRITING: copy the rows out */
	for (i = 0; i < n; i++)
		rows[i] = pstrdup(queue->slots[idx[i]].data);

	if (insert_rows(rows, n, &error, &sqlerrcode))
	{
		finish_batch(idx, n, true);
		return false;
	}

	for (i = 0; i < n; i++)
	{
		if (insert_rows(&rows[i], 1, &error, &sqlerrcode))
		{
			finish_batch(&idx[i], 1, true);
			continue;
		}

		/*
		 * Only a log that is gone (migsafe dropped from this database) makes
		 * a row unwritable for good.  Anything else (a lock, a sequence set
		 * out of range by hand) may pass: keep the row and retry, saying so
		 * in the server log now and then.
		 */
		if (sqlerrcode == ERRCODE_UNDEFINED_TABLE ||
			sqlerrcode == ERRCODE_UNDEFINED_OBJECT)
		{
			ereport(WARNING,
					(errmsg("migsafe audit writer could not record a row: %s",
							error),
					 errdetail_log("Audit row: %s.", rows[i])));
			finish_batch(&idx[i], 1, true);
		}
		else
		{
			if (queue->slots[idx[i]].tries++ % MIGSAFE_WORKER_TRIES == 0)
				ereport(WARNING,
						(errmsg("migsafe audit writer could not record a row yet, retrying: %s",
								error),
						 errdetail_log("Audit row: %s.", rows[i])));
			finish_batch(&idx[i], 1, false);
			retry = true;
		}
	}
	for (i = 0; i < n; i++)
		pfree(rows[i]);
	pfree(rows);
	return retry;
}

/*
 * log_orphans
 *
 * At server shutdown, rows queued for databases that have no writer (its
 * start failed for want of a worker slot) would vanish with shared memory:
 * put them in the server log.  They were logged when queued too.
 */
static void
log_orphans(void)
{
	int			i;
	int			j;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (i = 0; i < queue->nslots; i++)
	{
		MigsafeSlot *slot = &queue->slots[i];
		bool		has_writer = false;

		if (slot->state != MIGSAFE_SLOT_QUEUED)
			continue;
		for (j = 0; j < MIGSAFE_MAX_WRITERS; j++)
			if (queue->writers[j].dbid == slot->dbid &&
				queue->writers[j].pid != 0 &&
				queue->writers[j].pid != MyProcPid)
				has_writer = true;
		if (has_writer)
			continue;
		ereport(LOG,
				(errmsg("migsafe audit row of database %u not recorded at shutdown",
						slot->dbid),
				 errdetail_log("Audit row: %s.", slot->data)));
		slot->state = MIGSAFE_SLOT_FREE;
	}
	LWLockRelease(queue->lock);
}

/*
 * migsafe_worker_main
 *
 * Entry point of a writer.  main_arg is the database OID.  Connects as the
 * bootstrap superuser, registers in its writer slot, then writes queued
 * rows of its database until idle for MIGSAFE_WORKER_IDLE_MS or told to
 * stop; on SIGTERM it drains the queue before exiting.
 */
void
migsafe_worker_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	int		   *idx = palloc(sizeof(int) * MIGSAFE_WORKER_BATCH);
	TimestampTz last_work = GetCurrentTimestamp();
	int			i;
	bool		attached = false;
	bool		yield;

	pqsignal(SIGTERM, writer_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	pgstat_report_appname("migsafe audit writer");

	/* database and role settings must not make the writer give up rows */
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET,
					PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET,
					PGC_S_OVERRIDE);

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (i = 0; i < MIGSAFE_MAX_WRITERS; i++)
	{
		MigsafeWriter *w = &queue->writers[i];

		if (w->dbid == dbid && w->pid == 0)
		{
			w->pid = MyProcPid;
			w->latch = MyLatch;
			attached = true;
			break;
		}
	}
	LWLockRelease(queue->lock);
	if (!attached)
		proc_exit(0);			/* another writer took over */
	before_shmem_exit(writer_detach, ObjectIdGetDatum(dbid));

	for (;;)
	{
		int			n;

		/* migsafe.audit_repeat_window may change with a reload */
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		n = take_batch(dbid, idx);

		if (n > 0)
		{
			last_work = GetCurrentTimestamp();
			if (!write_batch(idx, n))
				continue;
			/* something failed for now: wait a little before retrying */
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 MIGSAFE_WORKER_RETRY_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (got_sigterm || my_writer_stopping(dbid))
			break;

		/*
		 * Nothing left here, but rows of another database wait for a worker
		 * slot (max_worker_processes): give ours up, the launcher starts
		 * their writer.
		 */
		LWLockAcquire(queue->lock, LW_SHARED);
		yield = others_waiting(dbid);
		LWLockRelease(queue->lock);
		if (yield)
			break;

		/* idle: exit, unless a row arrives while we decide */
		if (TimestampDifferenceExceeds(last_work, GetCurrentTimestamp(),
									   MIGSAFE_WORKER_IDLE_MS))
		{
			bool		idle = true;

			LWLockAcquire(queue->lock, LW_EXCLUSIVE);
			for (i = 0; i < queue->nslots && idle; i++)
				if (queue->slots[i].dbid == dbid &&
					queue->slots[i].state == MIGSAFE_SLOT_QUEUED)
					idle = false;
			if (idle)
				for (i = 0; i < MIGSAFE_MAX_WRITERS; i++)
					if (queue->writers[i].pid == MyProcPid)
						queue->writers[i].dbid = InvalidOid;
			LWLockRelease(queue->lock);
			if (idle)
				break;
		}

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	if (got_sigterm)
		log_orphans();
	else
		wake_launcher();
	proc_exit(0);
}

/* launcher: clear the latch pointer at exit */
static void
launcher_detach(int code, Datum arg)
{
	if (queue == NULL)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	queue->launcher = NULL;
	LWLockRelease(queue->lock);
}

/*
 * migsafe_worker_launcher_main
 *
 * Entry point of the launcher, a background worker without a database
 * connection, registered at server start.  Backends start the writer of
 * their database themselves; the launcher only starts writers for rows
 * that wait without one because no worker slot was free when they were
 * queued.  It wakes when asked (a failed start, a writer leaving) and once
 * a second.
 */
void
migsafe_worker_launcher_main(Datum main_arg)
{
	pqsignal(SIGTERM, writer_sigterm);
	BackgroundWorkerUnblockSignals();

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	queue->launcher = MyLatch;
	LWLockRelease(queue->lock);
	before_shmem_exit(launcher_detach, (Datum) 0);

	while (!got_sigterm)
	{
		Oid			waiting = InvalidOid;
		int			i;

		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		for (i = 0; i < queue->nslots && !OidIsValid(waiting); i++)
		{
			MigsafeSlot *slot = &queue->slots[i];

			if (slot->state == MIGSAFE_SLOT_QUEUED && wake_writer(slot->dbid))
				waiting = slot->dbid;
		}
		LWLockRelease(queue->lock);

		/* one at a time: a failed start leaves the others for next turn */
		if (OidIsValid(waiting) && start_writer_quietly(waiting))
			continue;

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}

/*
 * migsafe_worker_register_launcher
 *
 * From _PG_init: register the launcher (it takes one of
 * max_worker_processes for good).
 */
void
migsafe_worker_register_launcher(void)
{
	BackgroundWorker bgw;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 10;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "migsafe");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "migsafe_worker_launcher_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "migsafe audit launcher");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "migsafe audit launcher");
	RegisterBackgroundWorker(&bgw);
}
