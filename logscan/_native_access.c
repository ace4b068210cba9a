/* logscan._native, the request lines: two signatures' regexes, as C.
 *
 * access.py turns the fast path on for a signature only when its regex is exactly one of
 * these (and only where each class means below U+0100 what the C code takes it to).
 *
 * SHAPE_HTTP, http.access:
 *
 *     "(?P<method>[A-Z]+) (?P<path>[^ "?]*)[^"]* HTTP/[0-9.]+" (?P<status>\d{3})\b
 *
 * access_match finds what that regex's search finds, in a 1-byte (Latin-1) text: the
 * leftmost match and its three groups. Each part of it can match one way only:
 *   - [A-Z]+ must be followed by a space, which it cannot hold: it is the longest run;
 *   - a shorter path only gives [^"]* more to take, which it could take anyway: the path is
 *     the longest run of [^ "?];
 *   - [^"]* and [0-9.]+ cannot pass a quote, so the pattern's next quote is the text's first
 *     quote after the path; [0-9.]+ is the whole run of digits and dots before it (the
 *     character before it must be the "/" of " HTTP/"), and " HTTP/" must start at or after
 *     the path (a space cannot be inside it);
 *   - \d{3} is three ASCII digits (the only \d below U+0100; access.py checks), and \b holds
 *     when the next character is not a word character: its table says which are not
 *     (access.py works it out with the pattern itself).
 * A failed start moves on to the next quote, as the regex search does.
 *
 * SHAPE_BENTO, bentoml.access:
 *
 *   \(scheme=\w+,method=(?P<method>[A-Z]+),path=(?P<path>[^,)]*)[^)]*\) \(status=(?P<status>\d{3})
 *
 * bento_match likewise: a match starts at a "(scheme="; \w+ (its table: \w's characters)
 * and [A-Z]+ are the longest runs (neither holds the "," after it); the path is the longest
 * run of [^,)], since a shorter one leaves [^)]* to end at the same ")", the first after
 * "path=", which ") (status=" must follow. A failed start moves on to the next "(scheme=".
 * tests/test_access.py compares both with their regexes on generated lines.
 */
#include "_native.h"

static int
is_version(Py_UCS1 c)
{
    return (c >= '0' && c <= '9') || c == '.';
}

/* 1 and the spans [method, path, status] (start, end pairs) of the match in s[0:n], else 0. */
int
access_match(const Py_UCS1 *s, Py_ssize_t n, const unsigned char *ends, Py_ssize_t spans[6])
{
    const Py_UCS1 *quote = memchr(s, '"', (size_t)n);
    while (quote != NULL) {
        Py_ssize_t open = quote - s;
        Py_ssize_t k = open + 1;
        while (k < n && s[k] >= 'A' && s[k] <= 'Z')
            k++;
        if (k > open + 1 && k < n && s[k] == ' ') {
            Py_ssize_t path = k + 1, path_end = k + 1;
            while (path_end < n && s[path_end] != ' ' && s[path_end] != '"'
                   && s[path_end] != '?')
                path_end++;
            const Py_UCS1 *close = memchr(s + path_end, '"', (size_t)(n - path_end));
            if (close != NULL) {
                Py_ssize_t q = close - s, version = q;
                while (version > path && is_version(s[version - 1]))
                    version--;
                Py_ssize_t status = q + 2;
                if (version < q && version - 6 >= path && memcmp(s + version - 6, " HTTP/", 6) == 0
                    && status + 3 <= n && s[q + 1] == ' ' && s[status] >= '0' && s[status] <= '9'
                    && s[status + 1] >= '0' && s[status + 1] <= '9' && s[status + 2] >= '0'
                    && s[status + 2] <= '9' && (status + 3 == n || ends[s[status + 3]])) {
                    spans[0] = open + 1;
                    spans[1] = k;
                    spans[2] = path;
                    spans[3] = path_end;
                    spans[4] = status;
                    spans[5] = status + 3;
                    return 1;
                }
            }
        }
        quote = open + 1 < n ? memchr(s + open + 1, '"', (size_t)(n - open - 1)) : NULL;
    }
    return 0;
}

static int
is_digit(Py_UCS1 c)
{
    return c >= '0' && c <= '9';
}

/* SHAPE_BENTO's match in s[0:n]: 1 and the spans [method, path, status], else 0. */
static int
bento_match(const Py_UCS1 *s, Py_ssize_t n, const unsigned char *word, Py_ssize_t spans[6])
{
    static const char SCHEME[] = "(scheme=", METHOD[] = ",method=", PATH[] = ",path=",
                      STATUS[] = ") (status=";
    const Py_ssize_t scheme = 8, method = 8, path = 6, status = 10;
    for (Py_ssize_t at = 0; at + scheme <= n; at++) {
        const Py_UCS1 *open = memchr(s + at, '(', (size_t)(n - at));
        if (open == NULL)
            return 0;
        at = open - s;
        if (at + scheme > n || memcmp(open, SCHEME, (size_t)scheme) != 0)
            continue;
        Py_ssize_t k = at + scheme, from = k;
        while (k < n && word[s[k]])
            k++;
        if (k == from || k + method > n || memcmp(s + k, METHOD, (size_t)method) != 0)
            continue;
        Py_ssize_t verb = k + method;
        k = verb;
        while (k < n && s[k] >= 'A' && s[k] <= 'Z')
            k++;
        if (k == verb || k + path > n || memcmp(s + k, PATH, (size_t)path) != 0)
            continue;
        Py_ssize_t route = k + path;
        k = route;
        while (k < n && s[k] != ',' && s[k] != ')')
            k++;
        Py_ssize_t route_end = k;
        const Py_UCS1 *close = memchr(s + k, ')', (size_t)(n - k));
        if (close == NULL)
            continue;
        Py_ssize_t code = (close - s) + status;
        if (code + 3 > n || memcmp(close, STATUS, (size_t)status) != 0 || !is_digit(s[code])
            || !is_digit(s[code + 1]) || !is_digit(s[code + 2]))
            continue;
        spans[0] = verb;
        spans[1] = route - path;
        spans[2] = route;
        spans[3] = route_end;
        spans[4] = code;
        spans[5] = code + 3;
        return 1;
    }
    return 0;
}

/* The slot of strings->values for the characters of the three spans (method, path, status)
 * of 1-byte text `data`: by their lengths and two characters of each. */
static size_t
values_slot(const Py_UCS1 *data, const Py_ssize_t spans[6])
{
    size_t mix = 0;
    for (int k = 0; k < 3; k++) {
        Py_ssize_t from = spans[2 * k], n = spans[2 * k + 1] - from;
        mix = mix * 31u + (size_t)n;
        if (n > 0)
            mix = mix * 31u + data[from + n - 1] * 7u + data[from + n / 2];
    }
    return mix % STRING_SLOTS;
}

/* Whether the (method, path, status) tuple `values` holds the characters of the spans. */
static int
same_values(PyObject *values, const Py_UCS1 *data, const Py_ssize_t spans[6])
{
    for (int k = 0; k < 3; k++) {
        PyObject *part = PyTuple_GET_ITEM(values, k);
        Py_ssize_t n = spans[2 * k + 1] - spans[2 * k];
        if (PyUnicode_KIND(part) != PyUnicode_1BYTE_KIND || PyUnicode_GET_LENGTH(part) != n
            || memcmp(PyUnicode_1BYTE_DATA(part), data + spans[2 * k], (size_t)n) != 0)
            return 0;
    }
    return 1;
}

/* The groups (method, path, status) of `shape`'s match in text[start:end] (a 1-byte str),
 * or None; with `strings`, the tuple of the three is given out again while its slot last
 * held the same characters (most requests: without making three strs to look it up), and
 * each group's str likewise. */
PyObject *
request_values(const Shape *shape, PyObject *text, Py_ssize_t start, Py_ssize_t end,
               Strings *strings)
{
    Py_ssize_t spans[6];
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = end - start;
    int found = shape->shape == SHAPE_HTTP ? access_match(data + start, n, shape->table, spans)
                                           : bento_match(data + start, n, shape->table, spans);
    if (!found)
        Py_RETURN_NONE;
    for (int k = 0; k < 6; k++)
        spans[k] += start;
    PyObject **slot = strings != NULL ? &strings->values[values_slot(data, spans)] : NULL;
    if (slot != NULL && *slot != NULL && same_values(*slot, data, spans))
        return Py_NewRef(*slot);
    PyObject *values = PyTuple_New(3);
    for (int k = 0; values != NULL && k < 3; k++) {
        PyObject *part = strings != NULL
                             ? cached_substring(strings, text, spans[2 * k], spans[2 * k + 1])
                             : PyUnicode_Substring(text, spans[2 * k], spans[2 * k + 1]);
        if (part == NULL)
            Py_CLEAR(values);
        else
            PyTuple_SET_ITEM(values, k, part); /* steals the reference */
    }
    if (values != NULL && slot != NULL)
        Py_XSETREF(*slot, Py_NewRef(values));
    return values;
}

/* One shape from access.py's (literal, shape, table); -1 with an error set. */
static int
shape_of(PyObject *item, Shape *shape)
{
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3
        || !PyUnicode_Check(PyTuple_GET_ITEM(item, 0)) || !PyBytes_Check(PyTuple_GET_ITEM(item, 2))
        || PyBytes_GET_SIZE(PyTuple_GET_ITEM(item, 2)) != 256) {
        PyErr_SetString(PyExc_TypeError, "a request shape is (literal, shape, 256-byte table)");
        return -1;
    }
    long kind = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
    if (kind == -1 && PyErr_Occurred())
        return -1;
    if (kind != SHAPE_HTTP && kind != SHAPE_BENTO) {
        PyErr_SetString(PyExc_ValueError, "unknown request shape");
        return -1;
    }
    shape->literal = PyTuple_GET_ITEM(item, 0);
    shape->shape = (int)kind;
    shape->table = (const unsigned char *)PyBytes_AS_STRING(PyTuple_GET_ITEM(item, 2));
    return 0;
}

/* The shapes of Block.run's access argument: None (none), or a tuple of shapes. */
int
shapes_of(PyObject *access, Shapes *shapes)
{
    shapes->size = 0;
    if (access == Py_None)
        return 0;
    if (!PyTuple_Check(access) || PyTuple_GET_SIZE(access) > MAX_SHAPES) {
        PyErr_SetString(PyExc_TypeError, "access is None or a tuple of request shapes");
        return -1;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(access); k++)
        if (shape_of(PyTuple_GET_ITEM(access, k), &shapes->items[shapes->size++]) < 0)
            return -1;
    return 0;
}

/* match_access(text, (literal, shape, table)): the module function tests compare with the
 * shape's regex. */
PyObject *
match_access(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Shape shape;
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "match_access(text, shape)");
        return NULL;
    }
    if (shape_of(args[1], &shape) < 0)
        return NULL;
    if (PyUnicode_KIND(args[0]) != PyUnicode_1BYTE_KIND) {
        PyErr_SetString(PyExc_ValueError, "match_access takes 1-byte text only");
        return NULL;
    }
    return request_values(&shape, args[0], 0, PyUnicode_GET_LENGTH(args[0]), NULL);
}
