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

/* Put what was added to the newest bucket into it, and the denominator into the window. */
static int
held_write(Held *held)
{
    long long added = held->added;
    held->added = 0;
    if (added != 0 && list_add(held->last, 1, added) < 0)
        return -1;
    if (!held->changed)
        return 0;
    held->changed = 0;
    return set_long(held->window, DENOMINATOR, held->denominator);
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

/* RatioWindow._bucket's new bucket for `second`, [second, 0, 0 per selector...], appended to
 * the window's `buckets`: a new reference to it, or NULL on error. */
PyObject *
new_bucket(PyObject *buckets, long long second, long long selectors)
{
    PyObject *bucket = PyList_New(2 + (Py_ssize_t)selectors);
    for (Py_ssize_t k = 0; bucket != NULL && k < PyList_GET_SIZE(bucket); k++) {
        PyObject *value = PyLong_FromLongLong(k == 0 ? second : 0);
        if (value == NULL)
            Py_CLEAR(bucket);
        else
            PyList_SET_ITEM(bucket, k, value);
    }
    PyObject *done = bucket ? PyObject_CallMethodOneArg(buckets, APPEND, bucket) : NULL;
    if (done == NULL) {
        Py_XDECREF(bucket);
        return NULL;
    }
    Py_DECREF(done);
    return bucket;
}

/* Add a request in `second` to a held window: a new bucket when the newest is an earlier
 * second's (or there is none). */
int
add_one(Held *held, long long second)
{
    if (held->size == 0 || held->newest < second) {
        if (held_write(held) < 0)
            return -1;
        PyObject *bucket = new_bucket(held->buckets, second, held->selectors);
        if (bucket == NULL)
            return -1;
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
