/* logscan._native, the stamps: a kubectl stamp's time, as TimestampParser.parse_rfc3339
 * gives it (for the quick lane, _native_lane.c).
 */
#include "_native.h"

static int
all_digits(const Py_UCS1 *s, Py_ssize_t n)
{
    for (Py_ssize_t k = 0; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return 0;
    return 1;
}

static const double POW10[10] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

/* The time of a kubectl stamp s[0:n] ("...Z"): TimestampParser.parse_rfc3339's fast path when
 * its second is known (`seconds`, or the last one looked up), else the Python method.
 * 1: *ts is the time; 0: not a time; -1: error. */
int
stamp_time(Stamps *stamps, PyObject *text, Py_ssize_t at, Py_ssize_t n, double *ts)
{
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(text) + at;
    Py_ssize_t digits = n - 21; /* "YYYY-MM-DDTHH:MM:SS" "." digits "Z" */
    if (digits >= 1 && digits <= 9 && s[19] == '.' && all_digits(s + 20, digits)) {
        if (!(stamps->known && memcmp(stamps->key, s, 19) == 0)) {
            PyObject *key = PyUnicode_Substring(text, at, at + 19);
            if (key == NULL)
                return -1;
            PyObject *seconds = PyDict_GetItemWithError(stamps->seconds, key);
            Py_DECREF(key);
            if (seconds == NULL && PyErr_Occurred())
                return -1;
            if (seconds != NULL && PyTuple_Check(seconds) && PyTuple_GET_SIZE(seconds) == 2
                && PyFloat_CheckExact(PyTuple_GET_ITEM(seconds, 0))) {
                memcpy(stamps->key, s, 19);
                stamps->utc = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(seconds, 0));
                stamps->known = 1;
            }
        }
        if (stamps->known && memcmp(stamps->key, s, 19) == 0) {
            long long fraction = 0;
            for (Py_ssize_t k = 0; k < digits; k++)
                fraction = fraction * 10 + (s[20 + k] - '0');
            /* int / int in Python: both exact in a double, so one correctly rounded division */
            *ts = stamps->utc + (double)fraction / POW10[digits];
            return 1;
        }
    }
    PyObject *stamp = PyUnicode_Substring(text, at, at + n);
    if (stamp == NULL)
        return -1;
    PyObject *found = PyObject_CallOneArg(stamps->parse, stamp);
    Py_DECREF(stamp);
    if (found == NULL)
        return -1;
    int result = 0;
    if (found != Py_None) {
        *ts = PyFloat_AsDouble(found);
        result = (*ts == -1.0 && PyErr_Occurred()) ? -1 : 1;
    }
    Py_DECREF(found);
    return result;
}
