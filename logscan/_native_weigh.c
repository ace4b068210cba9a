/* logscan._native, the weighed request: Core.process_all's requests counted in C.
 *
 * weigh(records, start, lanes, watermark, calm_until) takes the requests of `records` (a
 * list of records, whose request tuples it takes: access.py's Request; or a run of requests,
 * Requests) of any request signature (one lane serves them all) from `start` on, and does
 * for each what Core._request and the correlator do when all it changes is counts: the
 * record and match counts, event time, and
 *   - for a quiet request (Correlator.observe_quiet): the end of a cold start (a track's
 *     last_anchor), and its second's bucket in each ratio window it adds to, with the
 *     buckets that leave the window;
 *   - for a rejection (a plan that ratio rules count as one): its Line and Match, counted
 *     by rejected() (_native_reject.c) as Correlator.observe_fields would.
 * It stops, having changed nothing Python would not change the same way for it, at the first
 * record that might do more, which Python then takes:
 *   - not a request tuple, or no lane for its (group, method/path/status) in `lanes` (Python
 *     makes one when it weighs such a request itself: see Core._lane_of);
 *   - it moves event time to or past `calm_until` (an incident may be due to resolve);
 *   - a rejection that rejected() declines;
 *   - for a quiet request, in a ratio window it counts in: a bucket with rejections due to
 *     leave the window, a second before the newest bucket's, or the rule would hold after it
 *     (rejections >= min_count and >= min_ratio of the requests) and do more than move the
 *     last_seen of its open incident: open one, change its severity, or report it (its count
 *     doubled). A request in a new second gets a new bucket here, and buckets without
 *     rejections leave the window here. (Buckets leave at a time set by event time alone, so
 *     those it took out are the ones Python would.)
 * A quiet lane is (ends, counts): the tracks whose last_anchor it clears, and for each ratio
 * window (window, window length, min_count, min_ratio, track, critical_ratio, and the
 * severities that the rule's severity, then critical, does not rise above): see
 * Core._weighable and track.weighing. A rejection's lane: see rejection(). The window's
 * slots are window.RatioWindow's (_buckets: a deque of [second, requests, rejections...]
 * lists, _denominator, _rejected, _selectors); within a call they are read once and written
 * back before it returns or counts a rejection (Held). Returns (end, watermark, counted,
 * earliest, latest, by_kind): the first record not weighed, event time after those that
 * were, how many there were and the times they span, and how many of each request
 * signature (MAX_SHAPES counts). tests/test_access.py compares with the Python path record
 * by record.
 */
#include "_native.h"

#define MAX_COUNTS 8 /* ratio rules one request adds to */
#define REJECTION_ITEMS 8 /* a rejection's lane: see rejection() */

static PyObject *LAST_ANCHOR, *NEVER, *INCIDENT, *SEVERITY, *COUNT, *REPORTED_COUNT, *LAST_SEEN;

int
weigh_ready(void)
{
    PyObject **names[] = {&LAST_ANCHOR, &INCIDENT, &SEVERITY, &COUNT, &REPORTED_COUNT,
                          &LAST_SEEN};
    const char *texts[] = {"last_anchor", "incident", "severity", "count", "reported_count",
                           "last_seen"};
    NEVER = PyFloat_FromDouble(-Py_HUGE_VAL);
    return NEVER != NULL && interned(names, texts, sizeof names / sizeof names[0]) == 0
                   && held_ready() == 0
               ? 0 : -1;
}

/* Where one count entry adds a request: its window (NULL when the request is too late for
 * it), and the open incident whose last_seen it moves (a new reference, or NULL). */
typedef struct {
    Held *held;
    PyObject *incident;
} Count;

/* Whether the rule of a ratio entry (track.weighing), holding with `rejected` of `requests`
 * and its open `incident` at `count`, does nothing but move the incident's last_seen
 * (Correlator._severity, _open_or_update): its severity does not rise and its count does not
 * reach twice the count last reported. 1, 0 (Python raises or reports), -1 on error. */
int
only_touches(PyObject *entry, PyObject *incident, long long count, double rejected,
             double requests)
{
    double critical_ratio = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 5));
    PyObject *calm = PyTuple_GET_ITEM(entry, 6); /* the severities the rule's does not rise above */
    if (critical_ratio == -1.0 && PyErr_Occurred())
        return -1;
    if (critical_ratio != 0.0 && rejected >= critical_ratio * requests)
        calm = PyTuple_GET_ITEM(entry, 7); /* those critical does not rise above */
    if (!PyTuple_CheckExact(calm)) {
        PyErr_SetString(PyExc_TypeError, "severities not risen above are a tuple");
        return -1;
    }
    long long reported = 0;
    PyObject *severity = PyObject_GetAttr(incident, SEVERITY);
    int stays = 0;
    for (Py_ssize_t k = 0; severity != NULL && k < PyTuple_GET_SIZE(calm); k++)
        stays |= PyTuple_GET_ITEM(calm, k) == severity;
    Py_XDECREF(severity);
    if (severity == NULL || long_attr(incident, REPORTED_COUNT, &reported) < 0)
        return -1;
    return stays && count < 2 * reported;
}

/* only_touches for a quiet request, which leaves the count as it is. 1: *incident is the
 * rule's open incident; 0: decline (Python opens one, or reports); -1: error. */
static int
can_update(PyObject *entry, long long rejected, long long requests, PyObject **incident)
{
    PyObject *open = PyObject_GetAttr(PyTuple_GET_ITEM(entry, 4), INCIDENT);
    if (open == NULL || open == Py_None) {
        Py_XDECREF(open);
        return open == NULL ? -1 : 0; /* the rule opens an incident */
    }
    long long count = 0;
    int touches = long_attr(open, COUNT, &count) < 0
                      ? -1 : only_touches(entry, open, count, (double)rejected, (double)requests);
    if (touches <= 0) {
        Py_DECREF(open);
        return touches;
    }
    *incident = open;
    return 1;
}

/* What one count entry does with a request at `ts`, event time `now`: RatioWindow.request's
 * steps, then Correlator.observe_quiet's. 1: it can take the request (*where says where),
 * 0: decline, -1: error. It may prune the window: see held_prune. */
static int
can_count(Holding *holding, PyObject *entry, double ts, double now, Count *where)
{
    where->held = NULL;
    where->incident = NULL;
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 8) {
        PyErr_SetString(PyExc_TypeError, "weigh(): a count is (window, length, min, ratio, "
                                         "track, critical ratio, severity, critical)");
        return -1;
    }
    double length = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 1));
    long long min_count = PyLong_AsLongLong(PyTuple_GET_ITEM(entry, 2));
    double min_ratio = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 3));
    if (PyErr_Occurred())
        return -1;
    double horizon = now - length;
    if (ts < horizon)
        return 1; /* too late to count: Python skips it too */
    Held *held = held_of(holding, PyTuple_GET_ITEM(entry, 0));
    if (held == NULL)
        return -1;
    int pruned = held_prune(held, horizon);
    if (pruned <= 0)
        return pruned;
    long long second = (long long)ts; /* int(ts): towards zero */
    if (held->size > 0 && held->newest > second)
        return 0; /* an earlier second's bucket: Python finds it */
    long long rejected = held->rejected;
    long long requests = held->denominator + 1 > rejected ? held->denominator + 1 : rejected;
    if (rejected >= min_count && (double)rejected >= min_ratio * (double)requests) {
        int update = can_update(entry, rejected, requests, &where->incident);
        if (update <= 0)
            return update; /* the rule holds and does more than update last_seen */
    }
    where->held = held;
    return 1;
}

/* incident.last_seen = max(incident.last_seen, ts) */
int
touch(PyObject *incident, double ts)
{
    PyObject *seen = PyObject_GetAttr(incident, LAST_SEEN);
    double last = seen ? PyFloat_AsDouble(seen) : -1.0;
    Py_XDECREF(seen);
    if (seen == NULL || (last == -1.0 && PyErr_Occurred()))
        return -1;
    if (!(ts > last))
        return 0;
    PyObject *later = PyFloat_FromDouble(ts);
    int failed = later == NULL || PyObject_SetAttr(incident, LAST_SEEN, later) < 0;
    Py_XDECREF(later);
    return failed ? -1 : 0;
}

/* Tracks whose last_anchor this call set: none sets it back before the call returns. */
typedef struct {
    PyObject *items[MAX_HELD];
    int size;
} Ended;

static int
end_anchor(Ended *ended, PyObject *track)
{
    for (int k = 0; k < ended->size; k++)
        if (ended->items[k] == track)
            return 0;
    if (PyObject_SetAttr(track, LAST_ANCHOR, NEVER) < 0)
        return -1;
    if (ended->size < MAX_HELD)
        ended->items[ended->size++] = track; /* borrowed: the lanes hold it */
    return 0;
}

/* The lanes a call of weigh has looked up, by the objects of the group key and the three
 * values: the C lane gives out the same str for the same text, so a run of requests finds
 * most of its lanes here, without hashing the values tuple and two dict lookups. */
#define KNOWN_SLOTS 64
typedef struct {
    PyObject *key, *values[3], *lane; /* borrowed: the record and `lanes` hold them */
} Known;

/* A request as weigh reads it: from a request tuple, or from a run (Requests). */
typedef struct {
    double ts;
    PyObject *key, *values; /* the group key (its group, else its source), the values tuple */
    long kind;
    PyObject *records; /* where it is: records[at] */
    Py_ssize_t at;
} Ask;

/* The request at records[at] (a list of records, or a run): 1, 0 when it is not a request
 * tuple (Python takes it), -1 on error. */
static int
ask_at(PyObject *records, Py_ssize_t at, Ask *ask)
{
    ask->records = records;
    ask->at = at;
    if (Py_IS_TYPE(records, &RequestsType)) {
        Requests *run = (Requests *)records;
        const Item *item = &run->items[at];
        ask->ts = item->ts;
        ask->key = PyUnicode_GET_LENGTH(item->group) > 0 ? item->group : run->source;
        ask->values = item->values;
        ask->kind = item->kind;
        return 1;
    }
    PyObject *record = PyList_GET_ITEM(records, at);
    if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 7
        || !PyFloat_CheckExact(PyTuple_GET_ITEM(record, 2)))
        return 0;
    PyObject *group = PyTuple_GET_ITEM(record, 4);
    ask->ts = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(record, 2));
    ask->key = PyUnicode_Check(group) && PyUnicode_GET_LENGTH(group) > 0
                   ? group : PyTuple_GET_ITEM(record, 0);
    ask->values = PyTuple_GET_ITEM(record, 5);
    ask->kind = PyLong_AsLong(PyTuple_GET_ITEM(record, 6));
    if (ask->kind == -1 && PyErr_Occurred())
        return -1;
    return 1;
}

/* The lane of a request, or NULL (no error set) when it has none. */
static PyObject *
lane_of(const Ask *ask, PyObject *lanes, Known known[KNOWN_SLOTS])
{
    PyObject *key = ask->key, *values = ask->values;
    Known *slot = NULL;
    if (PyTuple_CheckExact(values) && PyTuple_GET_SIZE(values) == 3) {
        PyObject *const *parts = &PyTuple_GET_ITEM(values, 0);
        size_t mix = (size_t)key >> 4 ^ (size_t)parts[0] >> 5 ^ (size_t)parts[1] >> 3
                     ^ (size_t)parts[2] >> 6;
        slot = &known[mix % KNOWN_SLOTS];
        if (slot->lane != NULL && slot->key == key && slot->values[0] == parts[0]
            && slot->values[1] == parts[1] && slot->values[2] == parts[2])
            return slot->lane;
    }
    PyObject *by_values = PyDict_GetItemWithError(lanes, key);
    PyObject *lane = by_values != NULL && PyDict_CheckExact(by_values)
                         ? PyDict_GetItemWithError(by_values, values)
                         : NULL;
    if (lane == NULL || lane == Py_None)
        return NULL;
    if (slot != NULL)
        *slot = (Known){key, {PyTuple_GET_ITEM(values, 0), PyTuple_GET_ITEM(values, 1),
                              PyTuple_GET_ITEM(values, 2)}, lane};
    return lane;
}

/* A request of a quiet lane (ends, counts): what Correlator.observe_quiet does with it at
 * event time `now`. 1: done, 0: decline (nothing changed that Python would not change the
 * same way), -1: error. */
static int
quiet(Holding *holding, Ended *ended, PyObject *lane, double ts, double now)
{
    if (!PyTuple_CheckExact(lane) || PyTuple_GET_SIZE(lane) != 2
        || !PyTuple_CheckExact(PyTuple_GET_ITEM(lane, 0))
        || !PyTuple_CheckExact(PyTuple_GET_ITEM(lane, 1))) {
        PyErr_SetString(PyExc_TypeError, "weigh(): a lane is (ends, counts) or a rejection's");
        return -1;
    }
    PyObject *ends = PyTuple_GET_ITEM(lane, 0), *counts = PyTuple_GET_ITEM(lane, 1);
    Py_ssize_t ncounts = PyTuple_GET_SIZE(counts);
    if (ncounts > MAX_COUNTS)
        return 0; /* a pack with that many ratio rules on requests: Python weighs them */
    if (holding->size + ncounts > MAX_HELD && holding_release(holding) < 0)
        return -1; /* (here: no window goes while a request needs it) */
    Count where[MAX_COUNTS] = {{NULL, NULL}};
    int taken = 1;
    for (Py_ssize_t k = 0; k < ncounts && taken == 1; k++)
        taken = can_count(holding, PyTuple_GET_ITEM(counts, k), ts, now, &where[k]);
    for (Py_ssize_t k = 0; taken == 1 && k < PyTuple_GET_SIZE(ends); k++)
        taken = end_anchor(ended, PyTuple_GET_ITEM(ends, k)) < 0 ? -1 : 1;
    for (Py_ssize_t k = 0; taken == 1 && k < ncounts; k++)
        if ((where[k].held != NULL && add_one(where[k].held, (long long)ts) < 0)
            || (where[k].incident != NULL && touch(where[k].incident, ts) < 0))
            taken = -1;
    for (Py_ssize_t k = 0; k < ncounts; k++)
        Py_XDECREF(where[k].incident);
    return taken;
}

/* The Line of a request (Core._request makes the same), its message being the request's. */
static PyObject *
ask_line(const Ask *ask, PyTypeObject *type, PyObject *literals)
{
    if (Py_IS_TYPE(ask->records, &RequestsType)) {
        Requests *run = (Requests *)ask->records;
        const Item *item = &run->items[ask->at];
        PyObject *text = PyUnicode_Substring(run->text, item->start, item->end);
        PyObject *line = text == NULL ? NULL
                         : request_line(type, run->source, item->number, text, item->ts,
                                        item->group, literals);
        Py_XDECREF(text);
        return line;
    }
    PyObject *record = PyList_GET_ITEM(ask->records, ask->at); /* (source, number, ts, text, */
    long long number = PyLong_AsLongLong(PyTuple_GET_ITEM(record, 1)); /* group, ...) */
    if (number == -1 && PyErr_Occurred())
        return NULL;
    return request_line(type, PyTuple_GET_ITEM(record, 0), number, PyTuple_GET_ITEM(record, 3),
                        ask->ts, PyTuple_GET_ITEM(record, 4), literals);
}

/* A request of a rejection's lane (entries, Line, Match, signal, fields, signature ids by
 * kind, literals by kind, evidence cap: Core._lane_of): its Line and Match, counted by
 * rejected() (_native_reject.c) at event time `now`, as Correlator.observe_fields would.
 * 1: done, 0: decline, -1: error. No window may be held (see Holding): rejected() reads and
 * writes them. */
static int
rejection(const Ask *ask, PyObject *lane, double now)
{
    PyObject *const *parts = &PyTuple_GET_ITEM(lane, 0);
    PyObject *ids = parts[5], *literals = parts[6];
    Py_ssize_t cap = PyLong_AsSsize_t(parts[7]);
    if ((cap == -1 && PyErr_Occurred()) || !PyType_Check(parts[1]) || !PyType_Check(parts[2])
        || !PyTuple_CheckExact(ids) || !PyTuple_CheckExact(literals)
        || ask->kind >= PyTuple_GET_SIZE(ids) || ask->kind >= PyTuple_GET_SIZE(literals)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "weigh(): a rejection's lane is (entries, Line, "
                                             "Match, signal, fields, ids, literals, cap)");
        return -1;
    }
    PyObject *line = ask_line(ask, (PyTypeObject *)parts[1],
                              PyTuple_GET_ITEM(literals, ask->kind));
    PyObject *match = line == NULL ? NULL
                      : new_match((PyTypeObject *)parts[2], PyTuple_GET_ITEM(ids, ask->kind),
                                  parts[3], parts[4], line);
    PyObject *when = match == NULL ? NULL : PyFloat_FromDouble(now);
    int taken = when == NULL ? -1 : rejected(parts[0], match, ask->ts, when, cap);
    Py_XDECREF(when);
    Py_XDECREF(match);
    Py_XDECREF(line);
    return taken;
}

PyObject *
weigh(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !(PyList_CheckExact(args[0]) || Py_IS_TYPE(args[0], &RequestsType))
        || !PyDict_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "weigh(records, start, lanes, watermark, calm_until)");
        return NULL;
    }
    PyObject *records = args[0], *lanes = args[2];
    Py_ssize_t at = PyLong_AsSsize_t(args[1]);
    double watermark = PyFloat_AsDouble(args[3]), calm_until = PyFloat_AsDouble(args[4]);
    if (PyErr_Occurred())
        return NULL;
    long long counted = 0, by_kind[MAX_SHAPES] = {0};
    double earliest = Py_HUGE_VAL, latest = -Py_HUGE_VAL;
    Holding holding = {.size = 0};
    Ended ended = {.size = 0};
    Known known[KNOWN_SLOTS] = {{NULL}};
    int failed = 0;
    Py_ssize_t size = Py_IS_TYPE(records, &RequestsType) ? ((Requests *)records)->size
                                                         : PyList_GET_SIZE(records);
    for (; at >= 0 && at < size; at++) {
        Ask ask;
        int asked = ask_at(records, at, &ask);
        PyObject *lane = asked == 1 ? lane_of(&ask, lanes, known) : NULL;
        if (lane == NULL) {
            failed = PyErr_Occurred() != NULL;
            break;
        }
        long kind = ask.kind;
        if (kind < 0 || kind >= MAX_SHAPES)
            break; /* not a request shape's kind: Python's (it raises) */
        double ts = ask.ts;
        double now = watermark;
        if (ts > watermark) {
            if (ts >= calm_until)
                break; /* an incident may resolve: Python's advance */
            now = ts;
        }
        int taken;
        if (PyTuple_CheckExact(lane) && PyTuple_GET_SIZE(lane) == REJECTION_ITEMS)
            taken = holding_release(&holding) < 0 ? -1 : rejection(&ask, lane, now);
        else
            taken = quiet(&holding, &ended, lane, ts, now);
        if (taken != 1) {
            failed = taken < 0;
            break;
        }
        watermark = now;
        counted++;
        by_kind[kind]++;
        earliest = ts < earliest ? ts : earliest;
        latest = ts > latest ? ts : latest;
    }
    if (holding_release(&holding) < 0 || failed)
        return NULL;
    return Py_BuildValue("(ndLdd(LLLL))", at, watermark, counted, earliest, latest, by_kind[0],
                         by_kind[1], by_kind[2], by_kind[3]);
}
