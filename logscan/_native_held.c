/* logscan._native, the held window: a ratio window (window.RatioWindow) as weigh holds it
 * within one call (_native_weigh.c): its slots read once, the requests it adds to the newest
 * bucket and to the denominator kept here and written back by held_write, the buckets
 * without rejections that leave it taken out, a request's second's bucket made.
 */
#include "_native.h"

static PyObject *BUCKETS, *DENOMINATOR, *REJECTED, *SELECTORS, *APPEND, *POPLEFT;

int
held_ready(void)
{
    PyObject **names[] = {&BUCKETS, &DENOMINATOR, &REJECTED, &SELECTORS, &APPEND, &POPLEFT};
    const char *texts[] = {"_buckets", "_denominator", "_rejected", "_selectors", "append",
                           "popleft"};
    return interned(names, texts, sizeof names / sizeof names[0]);
}

/* buckets[index]: a new reference to a [second, requests, ...] list, and its second. */
static PyObject *
bucket_at(PyObject *buckets, Py_ssize_t index, long long *second)
{
    PyObject *bucket = PySequence_GetItem(buckets, index);
    if (bucket == NULL)
        return NULL;
    if (!PyList_CheckExact(bucket) || PyList_GET_SIZE(bucket) < 2) {
        Py_DECREF(bucket);
        PyErr_SetString(PyExc_TypeError, "weigh(): a bucket is a list [second, requests, ...]");
        return NULL;
    }
    *second = PyLong_AsLongLong(PyList_GET_ITEM(bucket, 0));
    if (*second == -1 && PyErr_Occurred()) {
        Py_DECREF(bucket);
        return NULL;
    }
    return bucket;
}

/* bucket[1] += by */
static int
bucket_add(PyObject *bucket, long long by)
{
    PyObject *amount = PyLong_FromLongLong(by);
    PyObject *sum = amount ? PyNumber_Add(PyList_GET_ITEM(bucket, 1), amount) : NULL;
    Py_XDECREF(amount);
    if (sum == NULL)
        return -1;
    PyList_SetItem(bucket, 1, sum); /* steals the reference */
    return 0;
}

/* Put what was added to the newest bucket into it, and the denominator into the window. */
static int
held_write(Held *held)
{
    long long added = held->added;
    held->added = 0;
    if (added != 0 && bucket_add(held->last, added) < 0)
        return -1;
    if (!held->changed)
        return 0;
    held->changed = 0;
    PyObject *denominator = PyLong_FromLongLong(held->denominator);
    int failed = denominator == NULL
                 || PyObject_SetAttr(held->window, DENOMINATOR, denominator) < 0;
    Py_XDECREF(denominator);
    return failed ? -1 : 0;
}

/* Write every held window back and let them go; -1 if a write failed. */
int
holding_release(Holding *holding)
{
    int failed = 0;
    for (int k = 0; k < holding->size; k++) {
        Held *held = &holding->items[k];
        failed |= held_write(held) < 0;
        Py_XDECREF(held->last);
        Py_DECREF(held->buckets);
    }
    holding->size = 0;
    return failed ? -1 : 0;
}

/* The held state of `window`, read now if it is not held yet; NULL on error. */
Held *
held_of(Holding *holding, PyObject *window)
{
    for (int k = 0; k < holding->size; k++)
        if (holding->items[k].window == window)
            return &holding->items[k];
    if (holding->size == MAX_HELD) { /* weigh lets them go before a request needs more */
        PyErr_SetString(PyExc_SystemError, "weigh(): too many windows held");
        return NULL;
    }
    Held *held = &holding->items[holding->size];
    held->window = window;
    held->added = 0;
    held->changed = 0;
    held->last = NULL;
    held->buckets = PyObject_GetAttr(window, BUCKETS);
    if (held->buckets == NULL)
        return NULL;
    held->size = PyObject_Length(held->buckets);
    PyObject *first = NULL;
    int failed = held->size < 0;
    if (!failed && held->size > 0) {
        first = bucket_at(held->buckets, 0, &held->oldest);
        held->last = first ? bucket_at(held->buckets, held->size - 1, &held->newest) : NULL;
        failed = held->last == NULL;
    }
    Py_XDECREF(first);
    failed = failed || long_attr(window, REJECTED, &held->rejected) < 0
             || long_attr(window, DENOMINATOR, &held->denominator) < 0
             || long_attr(window, SELECTORS, &held->selectors) < 0;
    if (failed) {
        Py_XDECREF(held->last);
        Py_DECREF(held->buckets);
        return NULL;
    }
    holding->size++;
    return held;
}

/* RatioWindow.prune(now) for buckets without rejections: 1 when none is left that is due to
 * leave the window, 0 when one with rejections is (Python prunes it), -1 on error. */
int
held_prune(Held *held, double horizon)
{
    while (held->size > 0 && (double)(held->oldest + 1) <= horizon) {
        if (held_write(held) < 0)
            return -1;
        PyObject *first = bucket_at(held->buckets, 0, &held->oldest);
        if (first == NULL)
            return -1;
        long long rejections = PyList_GET_SIZE(first) != 2 + held->selectors;
        for (Py_ssize_t k = 2; !rejections && k < PyList_GET_SIZE(first); k++)
            rejections = PyLong_AsLongLong(PyList_GET_ITEM(first, k));
        long long requests = rejections ? 0 : PyLong_AsLongLong(PyList_GET_ITEM(first, 1));
        Py_DECREF(first);
        if (PyErr_Occurred())
            return -1;
        if (rejections)
            return 0;
        PyObject *gone = PyObject_CallMethodNoArgs(held->buckets, POPLEFT);
        if (gone == NULL)
            return -1;
        Py_DECREF(gone);
        held->denominator -= requests;
        held->size--;
        PyObject *next = NULL;
        if (held->size > 0 && (next = bucket_at(held->buckets, 0, &held->oldest)) == NULL)
            return -1;
        Py_XDECREF(next);
        if (held->size == 0)
            Py_CLEAR(held->last);
        held->changed = 1;
    }
    return 1;
}

/* Add a request in `second` to a held window: a new bucket, as RatioWindow._bucket makes it,
 * when the newest is an earlier second's (or there is none). */
int
add_one(Held *held, long long second)
{
    if (held->size == 0 || held->newest < second) {
        if (held_write(held) < 0)
            return -1;
        PyObject *bucket = PyList_New(2 + (Py_ssize_t)held->selectors);
        for (Py_ssize_t k = 0; bucket != NULL && k < 2 + held->selectors; k++) {
            PyObject *value = k == 0 ? PyLong_FromLongLong(second) : PyLong_FromLong(0);
            if (value == NULL)
                Py_CLEAR(bucket);
            else
                PyList_SET_ITEM(bucket, k, value);
        }
        PyObject *done = bucket ? PyObject_CallMethodOneArg(held->buckets, APPEND, bucket) : NULL;
        if (done == NULL) {
            Py_XDECREF(bucket);
            return -1;
        }
        Py_DECREF(done);
        Py_XSETREF(held->last, bucket);
        if (held->size++ == 0)
            held->oldest = second;
        held->newest = second;
    }
    held->added++;
    held->denominator++;
    held->changed = 1;
    return 0;
}
