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

/* s[0:n] as a number; the caller has checked that they are digits */
static int
number(const Py_UCS1 *s, int n)
{
    int value = 0;
    for (int k = 0; k < n; k++)
        value = value * 10 + (s[k] - '0');
    return value;
}

static int
days_in_month(int year, int month)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return DAYS[month - 1] + (month == 2 && leap);
}

/* Days from 1970-01-01 to year-month-day in the proleptic Gregorian calendar (Howard
 * Hinnant's days_from_civil): the year counted from March, so that Feb 29 ends it. */
static long long
days_from_civil(int year, int month, int day)
{
    int y = year - (month <= 2); /* >= 0 for year >= 1: no negative division */
    int era = y / 400, year_of_era = y % 400; /* an era: 400 years, 146097 days */
    int day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return (long long)era * 146097 + day_of_era - 719468; /* 0000-03-01 to 1970-01-01 */
}

/* The UTC seconds of "YYYY-MM-DDTHH:MM:SS" (s[0:19]) as TimestampParser._learn has them,
 * without a call into Python for each new second: datetime(...).timestamp() is a whole number
 * of seconds, exact in a double. 0 for what datetime refuses (month 13, Feb 29 of 2023,
 * second 60, ...) and for the shapes _learn also takes ("/", " "): Python answers those. */
static int
utc_seconds(const Py_UCS1 *s, double *utc)
{
    static const char SHAPE[] = "dddd-dd-ddTdd:dd:dd";
    for (int k = 0; k < 19; k++)
        if (SHAPE[k] == 'd' ? s[k] < '0' || s[k] > '9' : s[k] != SHAPE[k])
            return 0;
    int year = number(s, 4), month = number(s + 5, 2), day = number(s + 8, 2);
    int hour = number(s + 11, 2), minute = number(s + 14, 2), second = number(s + 17, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)
        || hour > 23 || minute > 59 || second > 59)
        return 0;
    *utc = (double)(days_from_civil(year, month, day) * 86400
                    + hour * 3600 + minute * 60 + second);
    return 1;
}

/* Make stamps->key the second of s (at `at` in text) if it can be had without Python: it is
 * the last one, or in `seconds`, or computed here. 1: it is; 0: not; -1: error. */
static int
know_second(Stamps *stamps, PyObject *text, Py_ssize_t at, const Py_UCS1 *s)
{
    if (stamps->known && memcmp(stamps->key, s, 19) == 0)
        return 1;
    PyObject *key = PyUnicode_Substring(text, at, at + 19);
    if (key == NULL)
        return -1;
    PyObject *seconds = PyDict_GetItemWithError(stamps->seconds, key);
    Py_DECREF(key);
    if (seconds == NULL && PyErr_Occurred())
        return -1;
    double utc;
    if (seconds == NULL) {
        if (!utc_seconds(s, &utc))
            return 0;
    }
    else if (PyTuple_Check(seconds) && PyTuple_GET_SIZE(seconds) == 2
             && PyFloat_CheckExact(PyTuple_GET_ITEM(seconds, 0)))
        utc = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(seconds, 0));
    else
        return 0;
    memcpy(stamps->key, s, 19);
    stamps->utc = utc;
    stamps->known = 1;
    return 1;
}

/* The time of a kubectl stamp s[0:n] ("...Z"): TimestampParser.parse_rfc3339's fast path when
 * its second can be had in C (know_second), else the Python method.
 * 1: *ts is the time; 0: not a time; -1: error. */
int
stamp_time(Stamps *stamps, PyObject *text, Py_ssize_t at, Py_ssize_t n, double *ts)
{
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(text) + at;
    Py_ssize_t digits = n - 21; /* "YYYY-MM-DDTHH:MM:SS" "." digits "Z" */
    if (digits >= 1 && digits <= 9 && s[19] == '.' && all_digits(s + 20, digits)) {
        int known = know_second(stamps, text, at, s);
        if (known < 0)
            return -1;
        if (known) {
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
