/* logscan._native, the quiet request: Core.process_all's requests counted in C.
 *
 * weigh(records, start, lanes, watermark, calm_until) takes the request tuples of `records`
 * (a list; access.py's Request) from `start` on, and does for each what Core._request and
 * Correlator.observe_quiet do when all it changes is counts: the record and match counts,
 * event time, the end of a cold start (a track's last_anchor), and its second's bucket in
 * each ratio window it adds to. It stops, having changed nothing for it, at the first record
 * that might do more, which Python then takes:
 *   - not a request tuple, or no lane for its (group, method/path/status) in `lanes` (Python
 *     makes one, for a quiet plan, when it weighs such a request itself: see Core._request);
 *   - it moves event time to or past `calm_until` (an incident may be due to resolve);
 *   - in a ratio window it counts in: a bucket due to leave the window, a second before the
 *     newest bucket's, or the rule would hold after it (rejections >= min_count and >=
 *     min_ratio of the requests). A request in a new second gets a new bucket here.
 * A lane is (ends, counts): the tracks whose last_anchor it clears, and for each ratio
 * window (window, window length, min_count, min_ratio). The window's slots are
 * window.RatioWindow's (_buckets: a deque of [second, requests, rejections...] lists,
 * _denominator, _rejected, _selectors). Returns (end, watermark, counted, earliest, latest): the first
 * record not weighed, event time after those that were, and how many there were and the
 * times they span. tests/test_access.py compares with the Python path record by record.
 */
#include "_native.h"

#define MAX_COUNTS 8

static PyObject *LAST_ANCHOR, *BUCKETS, *DENOMINATOR, *REJECTED, *SELECTORS, *APPEND, *NEVER, *ONE;

int
weigh_ready(void)
{
    LAST_ANCHOR = PyUnicode_InternFromString("last_anchor");
    BUCKETS = PyUnicode_InternFromString("_buckets");
    DENOMINATOR = PyUnicode_InternFromString("_denominator");
    REJECTED = PyUnicode_InternFromString("_rejected");
    SELECTORS = PyUnicode_InternFromString("_selectors");
    APPEND = PyUnicode_InternFromString("append");
    NEVER = PyFloat_FromDouble(-Py_HUGE_VAL);
    ONE = PyLong_FromLong(1);
    return LAST_ANCHOR && BUCKETS && DENOMINATOR && REJECTED && SELECTORS && APPEND && NEVER && ONE
               ? 0 : -1;
}

static int
long_attr(PyObject *object, PyObject *name, long long *value)
{
    PyObject *found = PyObject_GetAttr(object, name);
    if (found == NULL)
        return -1;
    *value = PyLong_AsLongLong(found);
    Py_DECREF(found);
    return *value == -1 && PyErr_Occurred() ? -1 : 0;
}

static int
bucket_second(PyObject *bucket, long long *second)
{
    if (!PyList_CheckExact(bucket) || PyList_GET_SIZE(bucket) < 2) {
        PyErr_SetString(PyExc_TypeError, "weigh(): a bucket is a list [second, requests, ...]");
        return -1;
    }
    *second = PyLong_AsLongLong(PyList_GET_ITEM(bucket, 0));
    return *second == -1 && PyErr_Occurred() ? -1 : 0;
}

/* Where one count entry adds a request: the bucket (a new reference; NULL when the request
 * is too late for the window), and whether it is a new one, to be appended first. */
typedef struct {
    PyObject *bucket;
    int fresh;
} Count;

/* What one count entry would do with a request at `ts`, event time `now`: 1 and where it
 * adds it, 0: decline, -1: error. RatioWindow.request's steps, checked before any is done. */
static int
can_count(PyObject *entry, double ts, double now, Count *count)
{
    count->bucket = NULL;
    count->fresh = 0;
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 4) {
        PyErr_SetString(PyExc_TypeError, "weigh(): a count is (window, length, min, ratio)");
        return -1;
    }
    PyObject *window = PyTuple_GET_ITEM(entry, 0);
    double length = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 1));
    long long min_count = PyLong_AsLongLong(PyTuple_GET_ITEM(entry, 2));
    double min_ratio = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 3));
    if (PyErr_Occurred())
        return -1;
    double horizon = now - length;
    if (ts < horizon)
        return 1; /* too late to count: Python skips it too */
    PyObject *buckets = PyObject_GetAttr(window, BUCKETS);
    if (buckets == NULL)
        return -1;
    Py_ssize_t size = PyObject_Length(buckets);
    PyObject *first = size > 0 ? PySequence_GetItem(buckets, 0) : NULL;
    PyObject *last = size > 0 ? PySequence_GetItem(buckets, size - 1) : NULL;
    Py_DECREF(buckets);
    int result = -1;
    long long second = (long long)ts; /* int(ts): towards zero */
    long long oldest = 0, newest = second - 1, rejected, denominator, selectors;
    if (size < 0 || (size > 0 && (first == NULL || last == NULL)))
        goto done;
    if ((size > 0 && (bucket_second(first, &oldest) < 0 || bucket_second(last, &newest) < 0))
        || long_attr(window, REJECTED, &rejected) < 0
        || long_attr(window, DENOMINATOR, &denominator) < 0
        || long_attr(window, SELECTORS, &selectors) < 0)
        goto done;
    result = 0;
    if ((size > 0 && (double)(oldest + 1) <= horizon) || newest > second)
        goto done; /* a bucket leaves the window (Python prunes), or an earlier second's */
    long long requests = denominator + 1 > rejected ? denominator + 1 : rejected;
    if (rejected >= min_count && (double)rejected >= min_ratio * (double)requests)
        goto done; /* the rule would hold: Python works out what that does */
    if (newest == second)
        count->bucket = Py_NewRef(last);
    else { /* [second, requests, rejections per selector...], as RatioWindow._bucket makes */
        count->fresh = 1;
        count->bucket = PyList_New(2 + (Py_ssize_t)selectors);
        for (Py_ssize_t k = 0; count->bucket != NULL && k < 2 + selectors; k++) {
            PyObject *value = k == 0 ? PyLong_FromLongLong(second) : PyLong_FromLong(0);
            if (value == NULL)
                Py_CLEAR(count->bucket);
            else
                PyList_SET_ITEM(count->bucket, k, value);
        }
        if (count->bucket == NULL) {
            result = -1;
            goto done;
        }
    }
    result = 1;
done:
    Py_XDECREF(first);
    Py_XDECREF(last);
    return result;
}

static int
add_one(PyObject *window, Count *count)
{
    if (count->fresh) {
        PyObject *buckets = PyObject_GetAttr(window, BUCKETS);
        PyObject *done = buckets ? PyObject_CallMethodOneArg(buckets, APPEND, count->bucket) : NULL;
        Py_XDECREF(buckets);
        if (done == NULL)
            return -1;
        Py_DECREF(done);
    }
    PyObject *bucket = count->bucket;
    PyObject *requests = PyNumber_Add(PyList_GET_ITEM(bucket, 1), ONE);
    if (requests == NULL)
        return -1;
    PyList_SetItem(bucket, 1, requests); /* steals the reference */
    PyObject *denominator = PyObject_GetAttr(window, DENOMINATOR);
    if (denominator == NULL)
        return -1;
    PyObject *more = PyNumber_Add(denominator, ONE);
    Py_DECREF(denominator);
    int failed = more == NULL || PyObject_SetAttr(window, DENOMINATOR, more) < 0;
    Py_XDECREF(more);
    return failed ? -1 : 0;
}

PyObject *
weigh(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyList_CheckExact(args[0]) || !PyDict_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "weigh(records, start, lanes, watermark, calm_until)");
        return NULL;
    }
    PyObject *records = args[0], *lanes = args[2];
    Py_ssize_t at = PyLong_AsSsize_t(args[1]);
    double watermark = PyFloat_AsDouble(args[3]), calm_until = PyFloat_AsDouble(args[4]);
    if (PyErr_Occurred())
        return NULL;
    long long counted = 0;
    double earliest = Py_HUGE_VAL, latest = -Py_HUGE_VAL;
    for (; at >= 0 && at < PyList_GET_SIZE(records); at++) {
        PyObject *record = PyList_GET_ITEM(records, at);
        if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 6
            || !PyFloat_CheckExact(PyTuple_GET_ITEM(record, 2)))
            break;
        PyObject *group = PyTuple_GET_ITEM(record, 4);
        PyObject *key = PyUnicode_Check(group) && PyUnicode_GET_LENGTH(group) > 0
                            ? group : PyTuple_GET_ITEM(record, 0);
        PyObject *by_values = PyDict_GetItemWithError(lanes, key);
        PyObject *lane = by_values != NULL && PyDict_CheckExact(by_values)
                             ? PyDict_GetItemWithError(by_values, PyTuple_GET_ITEM(record, 5))
                             : NULL;
        if (PyErr_Occurred())
            return NULL;
        if (lane == NULL || lane == Py_None)
            break;
        double ts = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(record, 2));
        double now = watermark;
        if (ts > watermark) {
            if (ts >= calm_until)
                break; /* an incident may resolve: Python's advance */
            now = ts;
        }
        if (!PyTuple_CheckExact(lane) || PyTuple_GET_SIZE(lane) != 2
            || !PyTuple_CheckExact(PyTuple_GET_ITEM(lane, 0))
            || !PyTuple_CheckExact(PyTuple_GET_ITEM(lane, 1))) {
            PyErr_SetString(PyExc_TypeError, "weigh(): a lane is (ends, counts)");
            return NULL;
        }
        PyObject *ends = PyTuple_GET_ITEM(lane, 0), *counts = PyTuple_GET_ITEM(lane, 1);
        Py_ssize_t ncounts = PyTuple_GET_SIZE(counts);
        if (ncounts > MAX_COUNTS)
            break; /* a pack with that many ratio rules on requests: Python weighs them */
        Count where[MAX_COUNTS] = {{NULL, 0}};
        int taken = 1, failed = 0;
        for (Py_ssize_t k = 0; k < ncounts && taken; k++) {
            int can = can_count(PyTuple_GET_ITEM(counts, k), ts, now, &where[k]);
            failed = can < 0;
            taken = can > 0;
        }
        for (Py_ssize_t k = 0; taken && k < PyTuple_GET_SIZE(ends) && !failed; k++)
            failed = PyObject_SetAttr(PyTuple_GET_ITEM(ends, k), LAST_ANCHOR, NEVER) < 0;
        for (Py_ssize_t k = 0; taken && k < ncounts && !failed; k++)
            if (where[k].bucket != NULL)
                failed = add_one(PyTuple_GET_ITEM(PyTuple_GET_ITEM(counts, k), 0), &where[k]) < 0;
        for (Py_ssize_t k = 0; k < ncounts; k++)
            Py_XDECREF(where[k].bucket);
        if (failed)
            return NULL;
        if (!taken)
            break;
        watermark = now;
        counted++;
        earliest = ts < earliest ? ts : earliest;
        latest = ts > latest ? ts : latest;
    }
    return Py_BuildValue("(ndLdd)", at, watermark, counted, earliest, latest);
}
