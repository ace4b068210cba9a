"""The event timestamps model-server logs carry, parsed to POSIX seconds without a clock.

Most lines of a log share their second with the line before, so the expensive part (turning
"2021-05-25 01:09:08" into seconds) is cached on the text up to the seconds, and the fraction
and UTC offset are added arithmetically. `datetime.strptime` (~5 µs) is never on the hot path.
"""

from __future__ import annotations

import datetime as dt
import re

_CACHE_LIMIT = 4096  # distinct seconds remembered; cleared when full so memory stays bounded
_DAY = 86400.0
_YEAR = 365 * _DAY
_POW10: tuple[int, ...] = tuple(10**n for n in range(10))
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_MONTH_INITIALS = frozenset(name[0] for name in _MONTHS)

# "YYYY-MM-DD HH:MM:SS" as written by ISO 8601 / RFC 3339 ("T" or " "), Python logging
# (`%(asctime)s`), gunicorn (glogging.py datefmt "[%Y-%m-%d %H:%M:%S %z]"), BentoML, and with
# "/" by nginx's error_log (ngx_log.c: "%4d/%02d/%02d %02d:%02d:%02d").
_DATETIME = re.compile(r"\d{4}([-/])\d\d\1\d\d[T ]\d\d:\d\d:\d\d", re.ASCII)
# What may follow the seconds: a fraction ("." ISO, "," Python logging; up to 9 digits for
# RFC 3339 nanoseconds, more are ignored), then an offset "Z", "+00:00" or "+0000" (gunicorn
# and BentoML write %z without a colon; gunicorn puts a space before it).
_TAIL = re.compile(r"(?:[.,](\d{1,9})\d*)?(?: ?(Z|[+-]\d\d:?\d\d)(?![\w:]))?", re.ASCII)
# Common Log Format "[25/May/2021:01:09:08 +0000]" (gunicorn access log, nginx access_log),
# and werkzeug's dev server "[02/Dec/2020 19:06:13]" (local time, no offset).
_CLF = re.compile(
    r"\[(\d\d)/([A-Z][a-z]{2})/(\d{4})[: ](\d\d):(\d\d):(\d\d)(?: ([+-]\d\d\d\d))?\]", re.ASCII
)
_CLF_SEARCH_LIMIT = 512  # host, ident and user come before it; do not scan a whole long line
# BSD syslog / journalctl short "Jul  5 09:13:44" (RFC 3164 §4.1.2), short-precise adds µs.
_SYSLOG = re.compile(r"([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9})\d*)?(?![\d:])")


class TimestampParser:
    """Finds the event time a log message carries, as POSIX seconds (UTC).

    Times without an offset are taken to be in `tz`. Syslog stamps have no year: `year` fixes
    it; otherwise, after `set_reference(now)`, the latest year that puts the stamp at most one
    day after `now` is used (live tailing); otherwise the earliest year that puts it at most
    one day before the last timestamp this parser returned (replay: the year of the last
    fully-dated line, and Dec 31 -> Jan 1 rolls over); with neither, 1970.
    """

    __slots__ = (
        "_clf", "_last", "_offsets", "_reference", "_seconds", "_syslog", "_tz", "_year",
        "_year_hint",
    )  # fmt: skip

    def __init__(self, *, tz: dt.tzinfo = dt.UTC, year: int | None = None) -> None:
        self._tz = tz
        self._year = year
        self._reference: float | None = None
        self._last: float | None = None
        self._year_hint = 1970 if year is None else year
        # "YYYY-MM-DD HH:MM:SS" -> (seconds if the text is UTC, seconds if it is in `tz`)
        self._seconds: dict[str, tuple[float, float]] = {}
        self._offsets: dict[str, float] = {"Z": 0.0}
        self._clf: dict[str, float] = {}
        self._syslog: dict[tuple[int, str], float] = {}

    def set_reference(self, epoch_seconds: float) -> None:
        """Give the current time, so a syslog stamp gets the year that is not in the future."""
        self._reference = epoch_seconds

    @property
    def known_seconds(self) -> dict[str, tuple[float, float]]:
        """The seconds learnt so far, "YYYY-MM-DDTHH:MM:SS" -> (as UTC, in the zone): what
        parse_rfc3339's fast path reads (the C quick lane reads it too)."""
        return self._seconds

    def saw(self, stamp: float) -> None:
        """A stamp was read without this parser (the C quick lane): it is now the last one."""
        self._last = stamp

    def parse_text(self, text: str) -> float | None:
        """Return the timestamp at the start of `text` (or a CLF one inside it), else None."""
        head = text[:1]
        if "0" <= head <= "9":
            stamp = self._iso(text, 0, whole=False)
        elif head == "[" and "0" <= text[1:2] <= "9":
            stamp = self._iso(text, 1, whole=False)
        elif head in _MONTH_INITIALS and text[3:4] == " ":
            stamp = self._syslog_stamp(text)
        else:
            stamp = None
        if stamp is None:
            stamp = self._clf_stamp(text)
            if stamp is None:
                return None
        self._last = stamp
        return stamp

    def parse_rfc3339(self, text: str) -> float | None:
        """Return the time of an envelope stamp that is all of `text`, e.g. kubectl's
        "2021-05-25T01:09:08.123456789Z"; None when `text` is anything else."""
        digits = text[20:-1]
        if text[-1:] == "Z" and text[19:20] == "." and 0 < len(digits) <= 9 and digits.isdigit():
            # The usual shape (kubectl, CRI): the same result as _iso, without its regex.
            seconds = self._seconds.get(text[:19])
            if seconds is not None and digits.isascii():
                fast = seconds[0] + int(digits) / _POW10[len(digits)]
                self._last = fast
                return fast
        stamp = self._iso(text, 0, whole=True)
        if stamp is not None:
            self._last = stamp
        return stamp

    def _iso(self, text: str, start: int, *, whole: bool) -> float | None:
        key = text[start : start + 19]
        seconds = self._seconds.get(key)
        if seconds is None:
            seconds = self._learn(key)
            if seconds is None:
                return None
        tail = _TAIL.match(text, start + 19)
        if tail is None or (whole and tail.end() != len(text)):
            return None
        fraction, offset = tail.group(1, 2)
        stamp = seconds[1] if offset is None else seconds[0] - self._offset(offset)
        if fraction:
            stamp += int(fraction) / _POW10[len(fraction)]
        return stamp

    def _learn(self, key: str) -> tuple[float, float] | None:
        if not _DATETIME.fullmatch(key):
            return None
        try:
            naive = dt.datetime(
                int(key[0:4]), int(key[5:7]), int(key[8:10]),
                int(key[11:13]), int(key[14:16]), int(key[17:19]),
            )  # fmt: skip
        except ValueError:  # month 13, second 60, ...: not a time
            return None
        seconds = (
            naive.replace(tzinfo=dt.UTC).timestamp(),
            naive.replace(tzinfo=self._tz).timestamp(),
        )
        if len(self._seconds) >= _CACHE_LIMIT:
            self._seconds.clear()
        self._seconds[key] = seconds
        return seconds

    def _offset(self, offset: str) -> float:
        seconds = self._offsets.get(offset)
        if seconds is None:
            sign = -1 if offset[0] == "-" else 1
            seconds = sign * (int(offset[1:3]) * 3600 + int(offset[-2:]) * 60.0)
            self._offsets[offset] = seconds  # bounded: at most 2 * 100 * 100 * 2 shapes
        return seconds

    def _clf_stamp(self, text: str) -> float | None:
        found = _CLF.search(text, 0, _CLF_SEARCH_LIMIT)
        if found is None:
            return None
        key = found.group(0)
        stamp = self._clf.get(key)
        if stamp is None:
            day, month_name, year, hour, minute, second, offset = found.groups()
            month = _MONTHS.get(month_name)
            if month is None:
                return None
            try:
                naive = dt.datetime(int(year), month, int(day), int(hour), int(minute), int(second))
            except ValueError:
                return None
            if offset is None:
                stamp = naive.replace(tzinfo=self._tz).timestamp()
            else:
                stamp = naive.replace(tzinfo=dt.UTC).timestamp() - self._offset(offset)
            if len(self._clf) >= _CACHE_LIMIT:
                self._clf.clear()
            self._clf[key] = stamp
        return stamp

    def _syslog_stamp(self, text: str) -> float | None:
        found = _SYSLOG.match(text)
        if found is None or found.group(1) not in _MONTHS:
            return None
        stamp = self._place(text[:15])
        if stamp is None:
            return None
        fraction = found.group(6)
        if fraction:
            stamp += int(fraction) / _POW10[len(fraction)]
        return stamp

    def _place(self, key: str) -> float | None:
        """Give a year-less "Mon dd HH:MM:SS" its year (see the class docstring)."""
        if self._year is not None:
            return self._in_year(self._year, key)
        hint = self._in_year(self._year_hint, key)  # usually the year of the previous stamp
        if self._reference is not None:  # live: stamps are not after now (give or take a day)
            limit = self._reference + _DAY
            if hint is not None and 0 <= limit - hint < _YEAR:
                return hint  # a year later would be after `limit`
            return self._search(limit, after=False, key=key)
        if self._last is None:
            return hint
        floor = self._last - _DAY  # a stream moves forward (a day of disorder is tolerated)
        if hint is not None and 0 <= hint - floor < _YEAR:
            return hint  # a year earlier would be before `floor`
        return self._search(floor, after=True, key=key)

    def _search(self, bound: float, *, after: bool, key: str) -> float | None:
        """The earliest placement of `key` at or after `bound`, or the latest at or before it."""
        year = dt.datetime.fromtimestamp(bound, dt.UTC).year
        candidates = range(year - 1, year + 3) if after else range(year + 1, year - 3, -1)
        for candidate in candidates:
            stamp = self._in_year(candidate, key)
            if stamp is not None and (stamp >= bound if after else stamp <= bound):
                self._year_hint = candidate
                return stamp
        return None

    def _in_year(self, year: int, key: str) -> float | None:
        stamp = self._syslog.get((year, key))
        if stamp is None:
            try:
                naive = dt.datetime(
                    year, _MONTHS[key[0:3]], int(key[4:6]),
                    int(key[7:9]), int(key[10:12]), int(key[13:15]),
                )  # fmt: skip
            except ValueError:  # Feb 29 outside a leap year, hour 25, ...
                return None
            stamp = naive.replace(tzinfo=self._tz).timestamp()
            if len(self._syslog) >= _CACHE_LIMIT:
                self._syslog.clear()
            self._syslog[(year, key)] = stamp
        return stamp
