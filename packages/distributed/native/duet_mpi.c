// Thin N-API binding to MPI for @duet/distributed's `mpi` ProcessGroup.
//
// Every MPI call happens on one dedicated communication thread (it calls MPI_Init_thread, so MPI_THREAD_FUNNELED
// suffices): JS submits operations in program order, the thread starts them as non-blocking MPI operations in that
// same order (MPI requires collectives to start in the same order on every rank), polls them with MPI_Test* with a
// short back-off, and resolves each operation's promise through a thread-safe function. The JS event loop is never
// blocked and compute on the main thread overlaps communication.
//
// Communicators (all dups of MPI_COMM_WORLD, errors returned instead of aborting):
//   c_main   single-phase collectives and the length exchange of two-phase ones (allGather, broadcast),
//   c_phase2 the payload of two-phase collectives, posted in submission order,
//   c_p2p    sendRecv messages (lengths from MPI_Improbe),
//   c_ctl    status queries used to name the rank that has not joined when an operation times out.
#define NAPI_VERSION 8
#include <node_api.h>
#include <mpi.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { K_INIT, K_ALLREDUCE, K_ALLGATHERV, K_BCAST, K_SENDRECV, K_BARRIER, K_REDUCE_SCATTER };
static const char *KIND_NAMES[] = {"init", "allReduce", "allGather", "broadcast", "sendRecv", "barrier", "reduceScatter"};
enum { TAG_DATA = 1, TAG_QUERY = 2, TAG_REPLY = 3 };
#define HOST_LEN 64

typedef struct Op {
  int kind;
  long seq;
  float *in;
  int in_len;
  int root, to, from;
  int *counts;  // allGather: every rank's length; reduceScatter: recvcounts
  int *displs;
  int len_buf;  // broadcast: the root's length
  int phase;    // 0 = not started, 1 = first phase posted, 2 = second phase posted (two-phase ops)
  long ticket;  // two-phase ops: order in which their second phase must be posted
  MPI_Request req[2];
  int nreq;
  int matched;  // sendRecv: incoming message matched and receive posted
  float *out;
  int out_len;
  double deadline;
  int failed;
  int blamed;
  char msg[1536];
  // init results
  int init_rank, init_size, init_provided;
  int *pids;
  char *hosts;
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  napi_deferred deferred;
  struct Op *next;
} Op;

// --- shared between the JS thread and the comm thread (guarded by g_mu) ---
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static Op *g_in_head = NULL, *g_in_tail = NULL;
static int g_stop = 0;  // 1 = finalize, 2 = leave without finalizing
static int g_thread_started = 0, g_thread_done = 0;
static pthread_t g_thread;
static napi_threadsafe_function g_tsfn = NULL;
static double g_timeout_s = 120;
static int g_requested_level = MPI_THREAD_FUNNELED;

// --- JS thread only ---
static long g_next_seq = 0;
static int g_js_pending = 0;
static int g_rank = -1, g_size = 0;

// --- comm thread only ---
static MPI_Comm c_main, c_phase2, c_p2p, c_ctl;
static Op *a_head = NULL, *a_tail = NULL;  // active operations in submission order
static long g_next_ticket = 0, g_posted_ticket = 0;
static volatile long g_started_seq = -1;  // highest seq started (answers status queries)
static volatile int g_started_kind = K_INIT;
static int g_broken = 0;
static char g_broken_msg[1536];
static int g_broken_blamed = -1;
static MPI_Request g_ctl_req = MPI_REQUEST_NULL;
static int g_ctl_buf[2];
static char *g_probe_busy = NULL;
static long g_max_sleep_us = 200;  // per source: an earlier sendRecv is still waiting for its message

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

static void op_fail(Op *op, int blamed, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(op->msg, sizeof op->msg, fmt, ap);
  va_end(ap);
  op->failed = 1;
  op->blamed = blamed;
}

static void mpi_fail(Op *op, int rc, const char *what) {
  char s[MPI_MAX_ERROR_STRING];
  int n = 0;
  if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS) snprintf(s, sizeof s, "error code %d", rc);
  op_fail(op, -1, "mpi group: rank %d: %s failed in %s #%ld: %s", g_rank, what, KIND_NAMES[op->kind], op->seq, s);
}

static void complete(Op *op) {
  // Hand the finished operation to the JS thread (the queue is unbounded, so this never blocks).
  napi_call_threadsafe_function(g_tsfn, op, napi_tsfn_blocking);
}

// ---------------------------------------------------------------- status queries (diagnosing timeouts)

static void serve_ctl(void) {
  if (g_ctl_req == MPI_REQUEST_NULL) return;
  int flag = 0;
  MPI_Status st;
  if (MPI_Test(&g_ctl_req, &flag, &st) != MPI_SUCCESS || !flag) return;
  int rep[2] = {(int)g_started_seq, g_started_kind};
  MPI_Send(rep, 2, MPI_INT, st.MPI_SOURCE, TAG_REPLY, c_ctl);
  MPI_Irecv(g_ctl_buf, 1, MPI_INT, MPI_ANY_SOURCE, TAG_QUERY, c_ctl, &g_ctl_req);
}

// Asks every peer which operation it last started; names the ranks that are behind or do not answer.
static void diagnose_timeout(Op *op) {
  int size = g_size;
  int *rep = calloc((size_t)size * 2, sizeof(int));
  MPI_Request *rr = malloc(sizeof(MPI_Request) * (size_t)size);
  int q = (int)op->seq;
  for (int p = 0; p < size; p++) {
    rr[p] = MPI_REQUEST_NULL;
    if (p == g_rank) continue;
    MPI_Irecv(&rep[2 * p], 2, MPI_INT, p, TAG_REPLY, c_ctl, &rr[p]);
    MPI_Send(&q, 1, MPI_INT, p, TAG_QUERY, c_ctl);
  }
  double until = now_s() + 2.0;
  int left = size - 1;
  while (left > 0 && now_s() < until) {
    serve_ctl();
    for (int p = 0; p < size; p++) {
      if (rr[p] == MPI_REQUEST_NULL) continue;
      int flag = 0;
      MPI_Test(&rr[p], &flag, MPI_STATUS_IGNORE);
      if (flag) left--;  // MPI_Test sets the request to MPI_REQUEST_NULL
      else continue;
      rep[2 * p] = rep[2 * p] < -1 ? -1 : rep[2 * p];
    }
    if (left > 0) sleep_us(1000);
  }
  char *m = op->msg;
  size_t cap = sizeof op->msg;
  int n = snprintf(m, cap, "mpi group: timed out after %g ms: rank %d waited in %s #%ld;", g_timeout_s * 1000, g_rank,
                   KIND_NAMES[op->kind], op->seq);
  int blamed = -1;
  long blamed_seq = 0;
  for (int p = 0; p < size && n < (int)cap; p++) {
    if (p == g_rank) continue;
    if (rr[p] != MPI_REQUEST_NULL) {
      MPI_Cancel(&rr[p]);
      MPI_Request_free(&rr[p]);
      n += snprintf(m + n, cap - n, " rank %d did not answer (dead, or not progressing MPI);", p);
      if (blamed < 0 || blamed_seq >= 0) blamed = p, blamed_seq = -2;
    } else if (rep[2 * p] < op->seq) {
      int k = rep[2 * p + 1];
      n += snprintf(m + n, cap - n, " rank %d has not joined it (its last call: %s #%d);", p,
                    k >= 0 && k <= K_REDUCE_SCATTER ? KIND_NAMES[k] : "?", rep[2 * p]);
      if (blamed < 0 || (blamed_seq >= 0 && rep[2 * p] < blamed_seq)) blamed = p, blamed_seq = rep[2 * p];
    }
  }
  if (blamed < 0 && n < (int)cap) snprintf(m + n, cap - n, " every rank has joined it (network stalled?)");
  size_t len = strlen(m);
  if (len && m[len - 1] == ';') m[len - 1] = '\0';
  op->failed = 1;
  op->blamed = blamed;
  free(rep);
  free(rr);
}

// ---------------------------------------------------------------- operations

static void start(Op *op) {
  int rc = MPI_SUCCESS;
  op->deadline = now_s() + g_timeout_s;
  g_started_seq = op->seq;
  g_started_kind = op->kind;
  if (g_broken) {
    op_fail(op, g_broken_blamed, "%s (rank %d's %s #%ld was not started)", g_broken_msg, g_rank, KIND_NAMES[op->kind], op->seq);
    return;
  }
  switch (op->kind) {
    case K_ALLREDUCE:
      op->out_len = op->in_len;
      op->out = malloc(sizeof(float) * (op->in_len ? op->in_len : 1));
      rc = MPI_Iallreduce(op->in, op->out, op->in_len, MPI_FLOAT, MPI_SUM, c_main, &op->req[0]);
      op->nreq = 1;
      break;
    case K_REDUCE_SCATTER:
      op->out_len = op->counts[g_rank];
      op->out = malloc(sizeof(float) * (op->out_len ? op->out_len : 1));
      rc = MPI_Ireduce_scatter(op->in, op->out, op->counts, MPI_FLOAT, MPI_SUM, c_main, &op->req[0]);
      op->nreq = 1;
      break;
    case K_ALLGATHERV:
      op->counts = malloc(sizeof(int) * g_size);
      op->ticket = g_next_ticket++;
      rc = MPI_Iallgather(&op->in_len, 1, MPI_INT, op->counts, 1, MPI_INT, c_main, &op->req[0]);
      op->nreq = 1;
      break;
    case K_BCAST:
      op->len_buf = g_rank == op->root ? op->in_len : 0;
      op->ticket = g_next_ticket++;
      rc = MPI_Ibcast(&op->len_buf, 1, MPI_INT, op->root, c_main, &op->req[0]);
      op->nreq = 1;
      break;
    case K_SENDRECV:
      rc = MPI_Isend(op->in, op->in_len, MPI_FLOAT, op->to, TAG_DATA, c_p2p, &op->req[0]);
      op->req[1] = MPI_REQUEST_NULL;
      op->nreq = 2;
      break;
    case K_BARRIER:
      rc = MPI_Ibarrier(c_main, &op->req[0]);
      op->nreq = 1;
      break;
  }
  op->phase = 1;
  if (rc != MPI_SUCCESS) mpi_fail(op, rc, "starting");
}

// Returns 1 when the operation finished (successfully or not).
static int advance(Op *op) {
  int flag = 0, rc;
  if (op->failed) return 1;
  if (op->kind == K_SENDRECV && !op->matched) {
    if (g_probe_busy[op->from]) return 0;  // an older sendRecv from the same rank gets the next message
    MPI_Message msg;
    MPI_Status st;
    rc = MPI_Improbe(op->from, TAG_DATA, c_p2p, &flag, &msg, &st);
    if (rc != MPI_SUCCESS) return mpi_fail(op, rc, "probing"), 1;
    if (!flag) {
      g_probe_busy[op->from] = 1;
      return 0;
    }
    int count = 0;
    MPI_Get_count(&st, MPI_FLOAT, &count);
    op->out_len = count;
    op->out = malloc(sizeof(float) * (count ? count : 1));
    rc = MPI_Imrecv(op->out, count, MPI_FLOAT, &msg, &op->req[1]);
    if (rc != MPI_SUCCESS) return mpi_fail(op, rc, "receiving"), 1;
    op->matched = 1;
  }
  rc = MPI_Testall(op->nreq, op->req, &flag, MPI_STATUSES_IGNORE);
  if (rc != MPI_SUCCESS) return mpi_fail(op, rc, "waiting"), 1;
  if (!flag) return 0;
  if (op->phase == 2 || (op->kind != K_ALLGATHERV && op->kind != K_BCAST)) return 1;
  // Two-phase operations: the lengths are known; post the payload once every earlier two-phase op has posted its own.
  if (op->ticket != g_posted_ticket) {
    op->nreq = 0;  // nothing outstanding while it waits for its turn
    return 0;
  }
  if (op->kind == K_ALLGATHERV) {
    op->displs = malloc(sizeof(int) * g_size);
    long total = 0;
    for (int p = 0; p < g_size; p++) op->displs[p] = (int)total, total += op->counts[p];
    if (total > 0x7fffffff) return op_fail(op, -1, "mpi group: allGather #%ld: %ld values in all exceed MPI's int count", op->seq, total), 1;
    op->out_len = (int)total;
    op->out = malloc(sizeof(float) * (total ? total : 1));
    rc = MPI_Iallgatherv(op->in, op->in_len, MPI_FLOAT, op->out, op->counts, op->displs, MPI_FLOAT, c_phase2, &op->req[0]);
  } else {
    op->out_len = op->len_buf;
    op->out = malloc(sizeof(float) * (op->len_buf ? op->len_buf : 1));
    if (g_rank == op->root && op->len_buf) memcpy(op->out, op->in, sizeof(float) * op->len_buf);
    rc = MPI_Ibcast(op->out, op->len_buf, MPI_FLOAT, op->root, c_phase2, &op->req[0]);
  }
  op->nreq = 1;
  op->phase = 2;
  g_posted_ticket++;
  if (rc != MPI_SUCCESS) return mpi_fail(op, rc, "starting the payload of"), 1;
  return 0;
}

static void break_group(Op *cause) {
  g_broken = 1;
  g_broken_blamed = cause->blamed;
  snprintf(g_broken_msg, sizeof g_broken_msg, "%s", cause->msg);
}

static int init_mpi(Op *op) {
  int provided = 0;
  int rc = MPI_Init_thread(NULL, NULL, g_requested_level, &provided);
  if (rc != MPI_SUCCESS) return mpi_fail(op, rc, "MPI_Init_thread"), 0;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm *comms[] = {&c_main, &c_phase2, &c_p2p, &c_ctl};
  for (int i = 0; i < 4; i++) {
    MPI_Comm_dup(MPI_COMM_WORLD, comms[i]);
    MPI_Comm_set_errhandler(*comms[i], MPI_ERRORS_RETURN);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &op->init_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &op->init_size);
  op->init_provided = provided;
  int vlen = 0;
  MPI_Get_library_version(op->version, &vlen);
  g_rank = op->init_rank;
  g_size = op->init_size;
  g_probe_busy = calloc((size_t)g_size, 1);
  // Every rank's pid and host, so a rank stopped by the launcher can say which local peer died.
  char host[HOST_LEN] = {0};
  gethostname(host, HOST_LEN - 1);
  op->hosts = calloc((size_t)g_size, HOST_LEN);
  op->pids = calloc((size_t)g_size, sizeof(int));
  int pid = (int)getpid();
  rc = MPI_Allgather(&pid, 1, MPI_INT, op->pids, 1, MPI_INT, c_ctl);
  if (rc == MPI_SUCCESS) rc = MPI_Allgather(host, HOST_LEN, MPI_CHAR, op->hosts, HOST_LEN, MPI_CHAR, c_ctl);
  if (rc != MPI_SUCCESS) return mpi_fail(op, rc, "exchanging pids"), 0;
  MPI_Irecv(g_ctl_buf, 1, MPI_INT, MPI_ANY_SOURCE, TAG_QUERY, c_ctl, &g_ctl_req);
  return 1;
}

static void *comm_main(void *arg) {
  Op *init = arg;
  const char *ms = getenv("DUET_MPI_POLL_MAX_SLEEP_US");
  if (ms && *ms) g_max_sleep_us = atol(ms) < 0 ? 0 : atol(ms);
  int ok = init_mpi(init);
  complete(init);
  int stop = 0;
  long idle_us = 0;
  while (ok) {
    pthread_mutex_lock(&g_mu);
    if (!a_head && !g_in_head && !g_stop) {
      // Idle: wake up now and then to answer status queries from peers that timed out.
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 5 * 1000000;
      if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
      pthread_cond_timedwait(&g_cv, &g_mu, &ts);
    }
    Op *fresh = g_in_head;
    g_in_head = g_in_tail = NULL;
    stop = g_stop;
    pthread_mutex_unlock(&g_mu);
    for (Op *op = fresh; op;) {
      Op *next = op->next;
      op->next = NULL;
      start(op);
      if (a_tail) a_tail->next = op; else a_head = op;
      a_tail = op;
      op = next;
    }
    if (stop) break;
    serve_ctl();
    int progressed = fresh != NULL;
    memset(g_probe_busy, 0, (size_t)g_size);
    double t = now_s();
    Op *prev = NULL;
    for (Op *op = a_head; op;) {
      Op *next = op->next;
      int done = advance(op);
      if (!done && t > op->deadline) {
        diagnose_timeout(op);
        done = 1;
      }
      if (done) {
        if (op->failed) break_group(op);
        if (prev) prev->next = next; else a_head = next;
        if (a_tail == op) a_tail = prev;
        op->next = NULL;
        complete(op);
        progressed = 1;
      } else {
        prev = op;
      }
      op = next;
    }
    if (g_broken) {
      // Operations cannot be cancelled; fail everything still waiting so no promise hangs.
      for (Op *op = a_head; op;) {
        Op *next = op->next;
        if (!op->failed) op_fail(op, g_broken_blamed, "%s (rank %d's %s #%ld abandoned)", g_broken_msg, g_rank, KIND_NAMES[op->kind], op->seq);
        op->nreq = 0;
        complete(op);
        op = next;
      }
      a_head = a_tail = NULL;
    }
    // Back off while nothing moves: MPI progresses only inside MPI calls, but busy polling would steal the
    // core that the JS thread computes on.
    if (progressed) idle_us = 0;
    else if (a_head) {
      idle_us = idle_us < 10 ? idle_us + 1 : (idle_us * 3 / 2 > g_max_sleep_us ? g_max_sleep_us : idle_us * 3 / 2);
      if (idle_us > 4) sleep_us(idle_us);
      else sched_yield();
    }
  }
  if (ok && stop == 1 && !a_head && !g_broken) {
    if (g_ctl_req != MPI_REQUEST_NULL) {
      MPI_Cancel(&g_ctl_req);
      MPI_Wait(&g_ctl_req, MPI_STATUS_IGNORE);
    }
    MPI_Finalize();
  }
  pthread_mutex_lock(&g_mu);
  g_thread_done = 1;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  return NULL;
}

// ---------------------------------------------------------------- JS side

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "duet_mpi: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value make_f32(napi_env env, const float *data, int len) {
  void *buf = NULL;
  napi_value ab, arr;
  if (napi_create_arraybuffer(env, sizeof(float) * (size_t)len, &buf, &ab) != napi_ok) return NULL;
  if (len) memcpy(buf, data, sizeof(float) * (size_t)len);
  if (napi_create_typedarray(env, napi_float32_array, (size_t)len, ab, 0, &arr) != napi_ok) return NULL;
  return arr;
}

static napi_value make_i32(napi_env env, const int *data, int len) {
  void *buf = NULL;
  napi_value ab, arr;
  if (napi_create_arraybuffer(env, sizeof(int) * (size_t)len, &buf, &ab) != napi_ok) return NULL;
  if (len) memcpy(buf, data, sizeof(int) * (size_t)len);
  if (napi_create_typedarray(env, napi_int32_array, (size_t)len, ab, 0, &arr) != napi_ok) return NULL;
  return arr;
}

static void set_int(napi_env env, napi_value obj, const char *key, int v) {
  napi_value x;
  napi_create_int32(env, v, &x);
  napi_set_named_property(env, obj, key, x);
}

static void free_op(Op *op) {
  free(op->in);
  free(op->out);
  free(op->counts);
  free(op->displs);
  free(op->pids);
  free(op->hosts);
  free(op);
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  Op *op = data;
  if (env == NULL) return free_op(op);
  napi_value result = NULL;
  if (op->failed) {
    napi_value msg, err;
    napi_create_string_utf8(env, op->msg, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    set_int(env, err, "blamedRank", op->blamed);
    napi_value seq;
    napi_create_int64(env, op->seq, &seq);
    napi_set_named_property(env, err, "seq", seq);
    napi_reject_deferred(env, op->deferred, err);
  } else {
    if (op->kind == K_INIT) {
      napi_create_object(env, &result);
      set_int(env, result, "rank", op->init_rank);
      set_int(env, result, "size", op->init_size);
      set_int(env, result, "threadLevel", op->init_provided);
      napi_value v, pids, hosts;
      napi_create_string_utf8(env, op->version, NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, result, "libraryVersion", v);
      pids = make_i32(env, op->pids, op->init_size);
      napi_set_named_property(env, result, "pids", pids);
      napi_create_array_with_length(env, (size_t)op->init_size, &hosts);
      for (int p = 0; p < op->init_size; p++) {
        napi_value h;
        napi_create_string_utf8(env, op->hosts + (size_t)p * HOST_LEN, NAPI_AUTO_LENGTH, &h);
        napi_set_element(env, hosts, (uint32_t)p, h);
      }
      napi_set_named_property(env, result, "hosts", hosts);
      g_rank = op->init_rank;
      g_size = op->init_size;
    } else if (op->kind == K_BARRIER) {
      napi_get_undefined(env, &result);
    } else if (op->kind == K_ALLGATHERV) {
      napi_create_object(env, &result);
      napi_set_named_property(env, result, "data", make_f32(env, op->out, op->out_len));
      napi_set_named_property(env, result, "counts", make_i32(env, op->counts, g_size));
    } else {
      result = make_f32(env, op->out, op->out_len);
    }
    napi_resolve_deferred(env, op->deferred, result);
  }
  free_op(op);
  // Keep the process alive only while operations are in flight.
  if (--g_js_pending == 0 && g_tsfn) napi_unref_threadsafe_function(env, g_tsfn);
}

static napi_value submit(napi_env env, Op *op) {
  napi_value promise;
  if (napi_create_promise(env, &op->deferred, &promise) != napi_ok) {
    free_op(op);
    napi_throw_error(env, NULL, "duet_mpi: could not create a promise");
    return NULL;
  }
  op->seq = g_next_seq++;
  if (g_js_pending++ == 0) napi_ref_threadsafe_function(env, g_tsfn);
  pthread_mutex_lock(&g_mu);
  if (g_in_tail) g_in_tail->next = op; else g_in_head = op;
  g_in_tail = op;
  pthread_cond_signal(&g_cv);
  pthread_mutex_unlock(&g_mu);
  return promise;
}

static int get_f32(napi_env env, napi_value v, const char *what, float **copy, int *len) {
  napi_typedarray_type type;
  size_t n = 0, offset = 0;
  void *data = NULL;
  napi_value ab;
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta || napi_get_typedarray_info(env, v, &type, &n, &data, &ab, &offset) != napi_ok || type != napi_float32_array) {
    char m[160];
    snprintf(m, sizeof m, "duet_mpi: %s expects a Float32Array", what);
    napi_throw_type_error(env, NULL, m);
    return 0;
  }
  if (n > 0x7fffffff) {
    napi_throw_range_error(env, NULL, "duet_mpi: buffers are limited to 2^31-1 values (MPI int counts)");
    return 0;
  }
  *len = (int)n;
  *copy = malloc(sizeof(float) * (n ? n : 1));
  if (n) memcpy(*copy, data, sizeof(float) * n);
  return 1;
}

static int get_int(napi_env env, napi_value v, const char *what, int *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    char m[160];
    snprintf(m, sizeof m, "duet_mpi: %s must be an integer", what);
    napi_throw_type_error(env, NULL, m);
    return 0;
  }
  return 1;
}

static int ready(napi_env env) {
  if (!g_thread_started || g_rank < 0) {
    napi_throw_error(env, NULL, "duet_mpi: call init() and await it first");
    return 0;
  }
  pthread_mutex_lock(&g_mu);
  int stopped = g_stop || g_thread_done;
  pthread_mutex_unlock(&g_mu);
  if (stopped) {
    napi_throw_error(env, NULL, "duet_mpi: MPI has been shut down in this process");
    return 0;
  }
  return 1;
}

static int check_rank(napi_env env, int r, const char *what) {
  if (r < 0 || r >= g_size) {
    char m[160];
    snprintf(m, sizeof m, "duet_mpi: %s must be a rank in [0, %d), got %d", what, g_size, r);
    napi_throw_range_error(env, NULL, m);
    return 0;
  }
  return 1;
}

// init(threadLevel: 0..3, timeoutMs) -> Promise<{ rank, size, threadLevel, libraryVersion, pids, hosts }>
static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int level = MPI_THREAD_FUNNELED, timeout_ms = 120000;
  if (argc > 0 && !get_int(env, argv[0], "threadLevel", &level)) return NULL;
  if (argc > 1 && !get_int(env, argv[1], "timeoutMs", &timeout_ms)) return NULL;
  if (g_thread_started) {
    napi_throw_error(env, NULL, "duet_mpi: MPI is initialised once per process (init() was already called)");
    return NULL;
  }
  const int levels[] = {MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, MPI_THREAD_SERIALIZED, MPI_THREAD_MULTIPLE};
  g_requested_level = levels[level < 0 ? 0 : level > 3 ? 3 : level];
  g_timeout_s = timeout_ms / 1000.0;
  // Open MPI's components are plugins that need libmpi's symbols global; Node loads addons RTLD_LOCAL.
  const char *libs[] = {"libmpi.so.40", "libmpi.so.12", "libmpi.so"};
  for (int i = 0; i < 3; i++)
    if (dlopen(libs[i], RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) break;
  // Open MPI's backtrace handlers would replace V8's (WebAssembly relies on SIGSEGV/SIGBUS handling).
  setenv("OMPI_MCA_opal_signal", "", 0);
  napi_value name;
  napi_create_string_utf8(env, "duet_mpi", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, call_js, &g_tsfn));
  Op *op = calloc(1, sizeof(Op));
  op->kind = K_INIT;
  op->seq = -1;
  napi_value promise;
  CHECK(napi_create_promise(env, &op->deferred, &promise));
  g_js_pending++;
  if (pthread_create(&g_thread, NULL, comm_main, op) != 0) {
    napi_throw_error(env, NULL, "duet_mpi: could not start the communication thread");
    return NULL;
  }
  g_thread_started = 1;
  return promise;
}

static Op *new_op(int kind) {
  Op *op = calloc(1, sizeof(Op));
  op->kind = kind;
  op->blamed = -1;
  return op;
}

static napi_value js_allreduce(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!ready(env)) return NULL;
  Op *op = new_op(K_ALLREDUCE);
  if (!get_f32(env, argv[0], "allreduce", &op->in, &op->in_len)) return free_op(op), NULL;
  return submit(env, op);
}

static napi_value js_reduce_scatter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!ready(env)) return NULL;
  Op *op = new_op(K_REDUCE_SCATTER);
  if (!get_f32(env, argv[0], "reduceScatter", &op->in, &op->in_len)) return free_op(op), NULL;
  op->counts = malloc(sizeof(int) * g_size);
  long total = 0;
  for (int p = 0; p < g_size; p++) {
    napi_value c;
    if (napi_get_element(env, argv[1], (uint32_t)p, &c) != napi_ok || !get_int(env, c, "reduceScatter counts[i]", &op->counts[p])) return free_op(op), NULL;
    if (op->counts[p] < 0) {
      free_op(op);
      napi_throw_range_error(env, NULL, "duet_mpi: reduceScatter counts must be non-negative integers");
      return NULL;
    }
    total += op->counts[p];
  }
  if (total != op->in_len) {
    free_op(op);
    napi_throw_range_error(env, NULL, "duet_mpi: reduceScatter counts must sum to the buffer length");
    return NULL;
  }
  return submit(env, op);
}

static napi_value js_allgatherv(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!ready(env)) return NULL;
  Op *op = new_op(K_ALLGATHERV);
  if (!get_f32(env, argv[0], "allgatherv", &op->in, &op->in_len)) return free_op(op), NULL;
  return submit(env, op);
}

static napi_value js_bcast(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!ready(env)) return NULL;
  Op *op = new_op(K_BCAST);
  if (!get_f32(env, argv[0], "bcast", &op->in, &op->in_len) || !get_int(env, argv[1], "root", &op->root) || !check_rank(env, op->root, "bcast root"))
    return free_op(op), NULL;
  return submit(env, op);
}

static napi_value js_sendrecv(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!ready(env)) return NULL;
  Op *op = new_op(K_SENDRECV);
  if (!get_f32(env, argv[0], "sendrecv", &op->in, &op->in_len) || !get_int(env, argv[1], "to", &op->to) || !get_int(env, argv[2], "from", &op->from) ||
      !check_rank(env, op->to, "sendrecv to") || !check_rank(env, op->from, "sendrecv from"))
    return free_op(op), NULL;
  return submit(env, op);
}

static napi_value js_barrier(napi_env env, napi_callback_info info) {
  (void)info;
  if (!ready(env)) return NULL;
  return submit(env, new_op(K_BARRIER));
}

// setTimeout(ms): operations started afterwards fail after ms without completing.
static napi_value js_set_timeout(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int ms = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_int(env, argv[0], "timeoutMs", &ms)) return NULL;
  pthread_mutex_lock(&g_mu);
  g_timeout_s = ms / 1000.0;
  pthread_mutex_unlock(&g_mu);
  return NULL;
}

// shutdown(finalize: boolean, waitMs) -> boolean: stops the comm thread (MPI_Finalize when finalize is true and
// nothing is in flight) and waits up to waitMs for it. Synchronous: meant for process exit.
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool finalize = true;
  int wait_ms = 10000;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc > 0) napi_get_value_bool(env, argv[0], &finalize);
  if (argc > 1 && !get_int(env, argv[1], "waitMs", &wait_ms)) return NULL;
  napi_value res;
  if (!g_thread_started) {
    napi_get_boolean(env, true, &res);
    return res;
  }
  pthread_mutex_lock(&g_mu);
  if (!g_stop) g_stop = finalize ? 1 : 2;
  pthread_cond_signal(&g_cv);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += wait_ms / 1000;
  ts.tv_nsec += (long)(wait_ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  int rc = 0;
  while (!g_thread_done && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&g_cv, &g_mu, &ts);
  int done = g_thread_done;
  pthread_mutex_unlock(&g_mu);
  if (done) pthread_join(g_thread, NULL);
  napi_get_boolean(env, done, &res);
  return res;
}

static napi_value js_pending(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, g_js_pending, &v);
  return v;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, NULL},
      {"allreduce", NULL, js_allreduce, NULL, NULL, NULL, napi_default, NULL},
      {"reduceScatter", NULL, js_reduce_scatter, NULL, NULL, NULL, napi_default, NULL},
      {"allgatherv", NULL, js_allgatherv, NULL, NULL, NULL, napi_default, NULL},
      {"bcast", NULL, js_bcast, NULL, NULL, NULL, napi_default, NULL},
      {"sendrecv", NULL, js_sendrecv, NULL, NULL, NULL, napi_default, NULL},
      {"barrier", NULL, js_barrier, NULL, NULL, NULL, napi_default, NULL},
      {"setTimeout", NULL, js_set_timeout, NULL, NULL, NULL, napi_default, NULL},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_default, NULL},
      {"pending", NULL, js_pending, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
