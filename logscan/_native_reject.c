/* logscan._native, the rejection: a match that ratio rules count as a rejection, counted in C.
 *
 * reject(lane, match, ts, now, cap) does for a match at `ts` what Correlator._feed does for
 * each entry of its plan, event time being `now` (advance has moved it there), when all that
 * changes is counts and evidence: its second's bucket and the window's totals and evidence,
 * and the open incident's causes, signals, evidence, views, count and last_seen. Returns True
 * having done it all, or False having changed nothing Python would not change the same way
 * first (it may prune a window, as _feed does before it counts), when the match might do
 * more, which Python then does:
 *   - in a ratio window: a bucket of an earlier second than the newest (RatioWindow._find),
 *     or the rule holds after it and opens an incident, raises its severity or reports it
 *     (its count doubled: Correlator._open_or_update);
 *   - an "after" rule counts it: its period (a start) is on.
 * A lane (lanes.Lanes.rejection) is a tuple of entries, one per rule of the plan:
 *   - (window, length, min_count, min_ratio, track, critical_ratio, severities, critical
 *     severities, numerator, denominator): a ratio rule (the first eight as track.weighing
 *     gives them: _native_weigh.c reads the same); numerator: the indices of the selectors
 *     that count it; denominator: it counts among the requests too;
 *   - (window, length, anchor_within, track): an "after" rule, which a match long after the
 *     start it waits for (the usual case) leaves alone.
 * Within the window: RatioWindow's slots (_buckets, a deque of [second, requests,
 * rejections...] lists; _denominator, _rejected, _selectors, _views, evidence); in the
 * incident: OpenIncident's (causes, signals, evidence, views, count, reported_count,
 * severity, last_seen). `cap`: window.EVIDENCE_CAP. tests/test_reject.py compares with the
 * Python path match by match, and tests/test_access.py whole runs through weigh.
 */
#include "_native.h"

#define MAX_ENTRIES 8 /* rules one match counts for */

static PyObject *BUCKETS, *DENOMINATOR, *REJECTED, *SELECTORS, *VIEWS, *EVIDENCE, *APPEND,
    *PRUNE, *ENTRIES, *LAST_ANCHOR, *INCIDENT, *COUNT, *CAUSES, *SIGNALS, *INCIDENT_VIEWS,
    *SIGNAL, *FIELDS, *CAUSE, *STATUS, *HTTP, *MATCH_SIGNATURE, *MATCH_LINE;

int
reject_ready(void)
{
    PyObject **names[] = {&BUCKETS, &DENOMINATOR, &REJECTED, &SELECTORS, &VIEWS, &EVIDENCE,
                          &APPEND, &PRUNE, &ENTRIES, &LAST_ANCHOR, &INCIDENT, &COUNT, &CAUSES,
                          &SIGNALS, &INCIDENT_VIEWS, &SIGNAL, &FIELDS, &CAUSE, &STATUS, &HTTP,
                          &MATCH_SIGNATURE, &MATCH_LINE};
    const char *texts[] = {"_buckets", "_denominator", "_rejected", "_selectors", "_views",
                           "evidence", "append", "prune", "_entries", "last_anchor",
                           "incident", "count", "causes", "signals", "views", "signal",
                           "fields", "cause", "status", "http_", "signature", "line"};
    return interned(names, texts, sizeof names / sizeof names[0]);
}

/* What one entry will do, worked out before anything is changed. */
typedef struct {
    PyObject *window;    /* a new reference; NULL: the match is too late for the entry, or
                          * the entry is an "after" rule's, which it leaves alone */
    PyObject *incident;  /* a new reference to the open incident, or NULL */
    PyObject *numerator; /* borrowed: the lane holds it */
    PyObject *buckets;   /* a new reference to the window's deque: read once, added to */
    Py_ssize_t size;     /* its buckets, after the prune */
    long long newest;    /* the newest one's second, when size > 0 */
    long long second;    /* int(ts) */
    int denominator;
    int holds;           /* the rule holds after the match */
} Counting;

/* The largest item of a list of ints after 1 is added to those `numerator` names (none
 * when it is NULL). */
static int
most(PyObject *list, PyObject *numerator, long long *largest)
{
    if (!PyList_CheckExact(list)) {
        PyErr_SetString(PyExc_TypeError, "reject(): views are a list");
        return -1;
    }
    *largest = 0;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(list); k++) {
        long long value = PyLong_AsLongLong(PyList_GET_ITEM(list, k));
        for (Py_ssize_t n = 0; numerator != NULL && n < PyTuple_GET_SIZE(numerator); n++)
            value += PyLong_AsSsize_t(PyTuple_GET_ITEM(numerator, n)) == k;
        *largest = k == 0 || value > *largest ? value : *largest;
    }
    return PyErr_Occurred() ? -1 : 0;
}

/* views[index] += 1 for each index `numerator` names; then object.total = max(views) */
static int
add_views(PyObject *object, PyObject *name, PyObject *numerator, PyObject *total)
{
    PyObject *views = PyObject_GetAttr(object, name);
    if (views == NULL)
        return -1;
    long long largest = 0;
    int failed = 0;
    for (Py_ssize_t n = 0; !failed && n < PyTuple_GET_SIZE(numerator); n++)
        failed = list_add(views, PyLong_AsSsize_t(PyTuple_GET_ITEM(numerator, n)), 1) < 0;
    failed = failed || most(views, NULL, &largest) < 0 /* (they include this match now) */
             || set_long(object, total, largest) < 0;
    Py_DECREF(views);
    return failed ? -1 : 0;
}

/* counter[key] += 1, for a collections.Counter (a dict whose missing keys count 0) */
static int
tally(PyObject *object, PyObject *name, PyObject *key)
{
    PyObject *counter = PyObject_GetAttr(object, name);
    if (counter == NULL)
        return -1;
    int failed = !PyDict_Check(counter);
    if (failed)
        PyErr_SetString(PyExc_TypeError, "reject(): a Counter is a dict");
    PyObject *known = failed ? NULL : PyDict_GetItemWithError(counter, key);
    long long value = known != NULL ? PyLong_AsLongLong(known) : 0;
    PyObject *sum = failed || PyErr_Occurred() ? NULL : PyLong_FromLongLong(value + 1);
    failed = sum == NULL || PyDict_SetItem(counter, key, sum) < 0;
    Py_XDECREF(sum);
    Py_DECREF(counter);
    return failed ? -1 : 0;
}

/* window.cause_of(match): its "cause" field, else "http_" and its "status" field, else "" */
static PyObject *
cause_of(PyObject *match)
{
    PyObject *fields = PyObject_GetAttr(match, FIELDS);
    if (fields == NULL)
        return NULL;
    PyObject *cause = NULL, *status = NULL;
    for (Py_ssize_t k = 0; PyTuple_Check(fields) && k < PyTuple_GET_SIZE(fields); k++) {
        PyObject *pair = PyTuple_GET_ITEM(fields, k);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2)
            continue;
        PyObject *name = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1);
        if (cause == NULL && PyUnicode_Check(name) && PyUnicode_Compare(name, CAUSE) == 0)
            cause = value; /* field_of: the first of that name */
        else if (status == NULL && PyUnicode_Check(name) && PyUnicode_Compare(name, STATUS) == 0)
            status = value;
    }
    PyObject *found;
    if (cause != NULL && PyObject_IsTrue(cause))
        found = Py_NewRef(cause);
    else if (status != NULL && PyObject_IsTrue(status))
        found = PyUnicode_Concat(HTTP, status);
    else
        found = cause != NULL ? Py_NewRef(cause) : PyUnicode_FromString("");
    Py_DECREF(fields);
    return found;
}

/* window.prune(now) when something is due to leave it: a call to Python is dear, and most
 * matches find nothing to prune. `horizon`: now - the window's length. */
static int
prune(PyObject *window, PyObject *now, double horizon, int ratio)
{
    PyObject *held = PyObject_GetAttr(window, ratio ? BUCKETS : ENTRIES);
    if (held == NULL)
        return -1;
    Py_ssize_t size = PyObject_Length(held);
    int due = size > 0 && !ratio; /* a count window: Python finds its oldest */
    if (size > 0 && ratio) {
        PyObject *first = PySequence_GetItem(held, 0);
        long long second = first != NULL && PyList_CheckExact(first) && PyList_GET_SIZE(first)
                               ? PyLong_AsLongLong(PyList_GET_ITEM(first, 0)) : -1;
        Py_XDECREF(first);
        due = (double)(second + 1) <= horizon;
    }
    Py_DECREF(held);
    if (size < 0 || PyErr_Occurred())
        return -1;
    PyObject *done = due ? PyObject_CallMethodOneArg(window, PRUNE, now) : Py_None;
    if (done == NULL)
        return -1;
    if (due)
        Py_DECREF(done);
    return 0;
}

/* The window's buckets (a new reference) and how many; *newest: the last one's second. */
static Py_ssize_t
newest_of(PyObject *window, PyObject **buckets, long long *newest)
{
    *buckets = PyObject_GetAttr(window, BUCKETS);
    Py_ssize_t size = *buckets ? PyObject_Length(*buckets) : -1;
    if (size <= 0)
        return size;
    PyObject *last = PySequence_GetItem(*buckets, size - 1);
    int shaped = last != NULL && PyList_CheckExact(last) && PyList_GET_SIZE(last) > 0;
    *newest = shaped ? PyLong_AsLongLong(PyList_GET_ITEM(last, 0)) : 0;
    Py_XDECREF(last);
    if (last != NULL && !shaped)
        PyErr_SetString(PyExc_TypeError, "reject(): a bucket is [second, requests, ...]");
    return PyErr_Occurred() ? -1 : size;
}

/* What a ratio entry will do with the match (Correlator._count_ratio, _severity and
 * _open_or_update): 1 and *counting says, 0: decline, -1: error. It may prune the window. */
static int
plan_ratio(PyObject *entry, double ts, PyObject *now, double horizon, Counting *counting)
{
    PyObject *window = PyTuple_GET_ITEM(entry, 0), *track = PyTuple_GET_ITEM(entry, 4);
    long long min_count = PyLong_AsLongLong(PyTuple_GET_ITEM(entry, 2));
    double min_ratio = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 3));
    counting->numerator = PyTuple_GET_ITEM(entry, 8);
    counting->denominator = PyObject_IsTrue(PyTuple_GET_ITEM(entry, 9));
    counting->second = (long long)ts; /* int(ts): towards zero */
    if (PyErr_Occurred() || !PyTuple_CheckExact(counting->numerator)
        || prune(window, now, horizon, 1) < 0)
        return -1;
    PyObject *buckets;
    long long newest = 0, denominator = 0, rejected = 0;
    Py_ssize_t size = newest_of(window, &buckets, &newest);
    if (size > 0 && newest > counting->second) {
        Py_DECREF(buckets);
        return 0; /* an earlier second's bucket: Python finds it */
    }
    PyObject *views = size < 0 ? NULL : PyObject_GetAttr(window, VIEWS);
    int failed = views == NULL || most(views, counting->numerator, &rejected) < 0
                 || long_attr(window, DENOMINATOR, &denominator) < 0;
    Py_XDECREF(views);
    if (failed) {
        Py_XDECREF(buckets);
        return -1;
    }
    counting->buckets = buckets; /* window_add appends to it, or adds to its newest */
    counting->size = size;
    counting->newest = newest;
    denominator += counting->denominator;
    double requests = (double)(denominator > rejected ? denominator : rejected);
    counting->holds = rejected >= min_count && (double)rejected >= min_ratio * requests;
    counting->incident = PyObject_GetAttr(track, INCIDENT);
    if (counting->incident == NULL)
        return -1;
    if (counting->incident == Py_None)
        Py_CLEAR(counting->incident);
    if (counting->holds) {
        if (counting->incident == NULL)
            return 0; /* the rule opens an incident */
        /* the incident's count after the match: its views' largest (Correlator._count_ratio) */
        PyObject *seen = PyObject_GetAttr(counting->incident, INCIDENT_VIEWS);
        long long count = 0;
        int touches = seen == NULL || most(seen, counting->numerator, &count) < 0
                          ? -1
                          : only_touches(entry, counting->incident, count, (double)rejected,
                                         requests);
        Py_XDECREF(seen);
        if (touches <= 0)
            return touches;
    }
    counting->window = Py_NewRef(window);
    return 1;
}

/* Whether an "after" rule leaves the match alone: its period is off (Correlator._suppressed)
 * at `ts`. 1, 0 (Python counts it), -1 on error. Its window is pruned, as _feed does. */
static int
plan_after(PyObject *entry, double ts, PyObject *now, double horizon)
{
    PyObject *anchor = PyObject_GetAttr(PyTuple_GET_ITEM(entry, 3), LAST_ANCHOR);
    double last_anchor = anchor ? PyFloat_AsDouble(anchor) : -1.0;
    double within = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 2));
    Py_XDECREF(anchor);
    if (PyErr_Occurred())
        return -1;
    if (!(ts - last_anchor > within))
        return 0;
    return prune(PyTuple_GET_ITEM(entry, 0), now, horizon, 0) < 0 ? -1 : 1;
}

/* RatioWindow.add(match, numerator, denominator): the match's second's bucket (a new one,
 * new_bucket, when the newest is an earlier second's), the totals and the evidence. */
static int
window_add(const Counting *counting, PyObject *match)
{
    PyObject *window = counting->window, *buckets = counting->buckets, *bucket = NULL;
    long long selectors = 0;
    if (long_attr(window, SELECTORS, &selectors) < 0)
        return -1;
    if (counting->size == 0 || counting->newest < counting->second)
        bucket = new_bucket(buckets, counting->second, selectors);
    else
        bucket = PySequence_GetItem(buckets, counting->size - 1);
    int failed = bucket == NULL || list_add(bucket, 1, counting->denominator) < 0;
    for (Py_ssize_t n = 0; !failed && n < PyTuple_GET_SIZE(counting->numerator); n++)
        failed = list_add(bucket, 2 + PyLong_AsSsize_t(PyTuple_GET_ITEM(counting->numerator, n)),
                          1) < 0;
    Py_XDECREF(bucket);
    long long denominator = 0;
    if (failed || long_attr(window, DENOMINATOR, &denominator) < 0
        || (counting->denominator
            && set_long(window, DENOMINATOR, denominator + counting->denominator) < 0)
        || add_views(window, VIEWS, counting->numerator, REJECTED) < 0)
        return -1;
    PyObject *evidence = PyObject_GetAttr(window, EVIDENCE);
    PyObject *done = evidence ? PyObject_CallMethodOneArg(evidence, APPEND, match) : NULL;
    Py_XDECREF(evidence);
    Py_XDECREF(done);
    return done == NULL ? -1 : 0;
}

/* OpenIncident.note(match, cause), its views and count (Correlator._count_ratio), and
 * last_seen when the rule holds (Correlator._open_or_update). */
static int
incident_note(const Counting *counting, PyObject *match, PyObject *cause, PyObject *signal,
              double ts, Py_ssize_t cap)
{
    PyObject *incident = counting->incident;
    if (tally(incident, CAUSES, cause) < 0 || tally(incident, SIGNALS, signal) < 0)
        return -1;
    PyObject *evidence = PyObject_GetAttr(incident, EVIDENCE);
    int failed = evidence == NULL || !PyList_CheckExact(evidence);
    if (!failed && PyList_GET_SIZE(evidence) >= cap) /* keep how it began; roll the rest */
        failed = PySequence_DelItem(evidence, cap / 2) < 0;
    failed = failed || PyList_Append(evidence, match) < 0;
    Py_XDECREF(evidence);
    if (failed && !PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "reject(): an incident's evidence is a list");
    if (failed || add_views(incident, INCIDENT_VIEWS, counting->numerator, COUNT) < 0)
        return -1;
    return counting->holds ? touch(incident, ts) : 0;
}

/* reject() on its arguments: 1 taken, 0 declined, -1 on error. */
int
rejected(PyObject *lane, PyObject *match, double ts, PyObject *now, Py_ssize_t cap)
{
    double when = PyFloat_AsDouble(now);
    if (when == -1.0 && PyErr_Occurred())
        return -1;
    if (!PyTuple_CheckExact(lane) || PyTuple_GET_SIZE(lane) > MAX_ENTRIES) {
        PyErr_SetString(PyExc_TypeError, "reject(): a lane is a tuple of at most 8 entries");
        return -1;
    }
    Counting counting[MAX_ENTRIES] = {{NULL}};
    Py_ssize_t size = PyTuple_GET_SIZE(lane);
    int taken = 1;
    for (Py_ssize_t k = 0; k < size && taken == 1; k++) {
        PyObject *entry = PyTuple_GET_ITEM(lane, k);
        Py_ssize_t items = PyTuple_CheckExact(entry) ? PyTuple_GET_SIZE(entry) : 0;
        double length = items ? PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 1)) : 0.0;
        if (items != 10 && items != 4) {
            PyErr_SetString(PyExc_TypeError, "reject(): an entry is a ratio rule's or an "
                                             "\"after\" rule's (see _native_reject.c)");
            taken = -1;
        } else if (length == -1.0 && PyErr_Occurred()) {
            taken = -1;
        } else if (ts < when - length) {
            continue; /* too late to count: Python skips it too */
        } else if (items == 10) {
            taken = plan_ratio(entry, ts, now, when - length, &counting[k]);
        } else {
            taken = plan_after(entry, ts, now, when - length);
        }
    }
    PyObject *cause = taken == 1 ? cause_of(match) : NULL;
    PyObject *signal = cause ? PyObject_GetAttr(match, SIGNAL) : NULL;
    if (taken == 1 && signal == NULL)
        taken = -1;
    for (Py_ssize_t k = 0; k < size && taken == 1; k++)
        if (counting[k].window != NULL
            && (window_add(&counting[k], match) < 0
                || (counting[k].incident != NULL
                    && incident_note(&counting[k], match, cause, signal, ts, cap) < 0)))
            taken = -1;
    Py_XDECREF(cause);
    Py_XDECREF(signal);
    for (Py_ssize_t k = 0; k < size; k++) {
        Py_XDECREF(counting[k].buckets);
        Py_XDECREF(counting[k].window);
        Py_XDECREF(counting[k].incident);
    }
    return taken;
}

PyObject *
reject(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "reject(lane, match, ts, now, cap)");
        return NULL;
    }
    double ts = PyFloat_AsDouble(args[2]);
    Py_ssize_t cap = PyLong_AsSsize_t(args[4]);
    if (PyErr_Occurred())
        return NULL;
    int taken = rejected(args[0], args[1], ts, args[3], cap);
    return taken < 0 ? NULL : PyBool_FromLong(taken);
}

/* Match(signature=..., signal=..., fields=..., line=...), as its __init__ makes it. */
PyObject *
new_match(PyTypeObject *type, PyObject *signature, PyObject *signal, PyObject *fields,
          PyObject *line)
{
    PyObject *names[4] = {MATCH_SIGNATURE, SIGNAL, FIELDS, MATCH_LINE};
    PyObject *values[4] = {signature, signal, fields, line};
    return filled(type, names, values, 4);
}
