"""TimestampParser: every format a model-server log carries, as exact POSIX seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logscan.timestamps import TimestampParser


def epoch(*fields: int, tz: timezone = UTC) -> float:
    return datetime(*fields, tzinfo=tz).timestamp()  # type: ignore[misc]


class TestParseText:
    def test_gunicorn(self) -> None:
        """gunicorn's error log: "[%Y-%m-%d %H:%M:%S %z]" with a space before the offset."""
        line = "[2021-05-25 01:09:08 +0000] [182] [CRITICAL] WORKER TIMEOUT (pid:183)"
        assert epoch(2021, 5, 25, 1, 9, 8) == TimestampParser().parse_text(line)

    def test_gunicorn_offset_is_applied(self) -> None:
        """A non-zero %z offset moves the time to UTC."""
        line = "[2021-05-25 03:09:08 +0200] [182] [INFO] Booting worker with pid: 183"
        assert epoch(2021, 5, 25, 1, 9, 8) == TimestampParser().parse_text(line)

    def test_old_gunicorn(self) -> None:
        """gunicorn before 19 wrote no brackets and no offset: a naive time."""
        line = "2013-09-05 11:26:58 [7127] [INFO] Booting worker with pid: 7127"
        assert epoch(2013, 9, 5, 11, 26, 58) == TimestampParser().parse_text(line)

    def test_python_logging_default(self) -> None:
        """Python logging's asctime puts milliseconds after a comma."""
        line = "2021-05-25 01:09:08,123 INFO bentoml.serve: started"
        assert epoch(2021, 5, 25, 1, 9, 8) + 0.123 == TimestampParser().parse_text(line)

    def test_flask(self) -> None:
        """Flask's default handler: "[asctime] LEVEL in module: message"."""
        line = "[2020-12-02 19:06:13,092] ERROR in app: Exception on /predict [POST]"
        assert epoch(2020, 12, 2, 19, 6, 13) + 0.092 == TimestampParser().parse_text(line)

    def test_bentoml(self) -> None:
        """BentoML writes ISO 8601 with a colon-less offset."""
        line = "2023-07-12T11:15:06+0000 [INFO] [cli] Starting production HTTP BentoServer"
        assert epoch(2023, 7, 12, 11, 15, 6) == TimestampParser().parse_text(line)

    def test_common_log_format_inside_the_line(self) -> None:
        """An access-log line has its time after host, ident and user."""
        line = '127.0.0.1 - - [25/May/2021:01:09:08 +0000] "POST /predict HTTP/1.1" 503 19'
        assert epoch(2021, 5, 25, 1, 9, 8) == TimestampParser().parse_text(line)

    def test_common_log_format_with_offset(self) -> None:
        """nginx writes the server's local offset in the CLF time."""
        line = '10.0.0.7 - - [24/May/2021:18:09:08 -0700] "GET /readyz HTTP/1.1" 200 2'
        assert epoch(2021, 5, 25, 1, 9, 8) == TimestampParser().parse_text(line)

    def test_werkzeug_dev_server(self) -> None:
        """werkzeug's request log uses a CLF-like time with a space and no offset."""
        line = '127.0.0.1 - - [02/Dec/2020 19:06:13] "POST /predict HTTP/1.1" 500 -'
        assert epoch(2020, 12, 2, 19, 6, 13) == TimestampParser().parse_text(line)

    def test_nginx_error_log(self) -> None:
        """nginx's error_log writes slashes in the date and no offset."""
        line = (
            "2023/04/17 20:24:55 [error] 31#31: *1 upstream timed out (110: Connection timed out)"
        )
        assert epoch(2023, 4, 17, 20, 24, 55) == TimestampParser().parse_text(line)

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("2021-05-25T01:09:08Z boot", epoch(2021, 5, 25, 1, 9, 8)),
            ("2021-05-25T01:09:08.5Z boot", epoch(2021, 5, 25, 1, 9, 8) + 0.5),
            ("2021-05-25T01:09:08.123456+00:00 x", epoch(2021, 5, 25, 1, 9, 8) + 0.123456),
            ("2021-05-25 01:09:08.123456789+0000 x", epoch(2021, 5, 25, 1, 9, 8) + 0.123456789),
            ("2021-05-25T03:09:08.25+02:00 x", epoch(2021, 5, 25, 1, 9, 8) + 0.25),
            ("2021-05-24T20:09:08-05:00 x", epoch(2021, 5, 25, 1, 9, 8)),
        ],
    )
    def test_iso_8601(self, line: str, expected: float) -> None:
        """ISO 8601 / RFC 3339: any fraction up to nanoseconds, Z, ±hh:mm or ±hhmm, T or space."""
        assert expected == pytest.approx(TimestampParser().parse_text(line), abs=1e-6)

    def test_syslog_zero_padded_day(self) -> None:
        """journalctl's short format pads the day with a zero."""
        parser = TimestampParser(year=2023)
        assert epoch(2023, 7, 5, 9, 13, 44) == parser.parse_text("Jul 05 09:13:44 host bento[1]: x")

    def test_syslog_space_padded_day(self) -> None:
        """RFC 3164 syslog pads the day with a space."""
        parser = TimestampParser(year=2023)
        assert epoch(2023, 7, 5, 9, 13, 44) == parser.parse_text("Jul  5 09:13:44 host kernel: x")

    def test_naive_times_are_in_tz(self) -> None:
        """A time without an offset is read in the parser's zone."""
        parser = TimestampParser(tz=ZoneInfo("Europe/Berlin"))
        line = "2021-05-25 03:09:08,000 ERROR boom"
        assert epoch(2021, 5, 25, 1, 9, 8) == parser.parse_text(line)

    def test_offset_wins_over_tz(self) -> None:
        """An explicit offset is used even when the parser has another zone."""
        parser = TimestampParser(tz=timezone(timedelta(hours=5)))
        assert epoch(2021, 5, 25, 1, 9, 8) == parser.parse_text("2021-05-25T01:09:08Z x")

    @pytest.mark.parametrize(
        "line",
        [
            'INFO:     127.0.0.1:52310 - "POST /predict HTTP/1.1" 200 OK',
            "",
            "2021-13-25 01:09:08 month thirteen",
            "2021-05-25 not a time",
            '  File "/app/service.py", line 12, in predict',
            "[pod/bento-0/app] hello",
            "Julius 05 09:13:44",
        ],
    )
    def test_no_timestamp(self, line: str) -> None:
        """Lines without a time (uvicorn's default format, frames, garbage) give None."""
        assert TimestampParser().parse_text(line) is None

    def test_cache_returns_the_same_value(self) -> None:
        """A second line in the same second is served from the cache with its own fraction."""
        parser = TimestampParser()
        parser.parse_text("2021-05-25 01:09:08,100 INFO a")
        assert epoch(2021, 5, 25, 1, 9, 8) + 0.9 == parser.parse_text("2021-05-25 01:09:08,900 I b")

    def test_cache_stays_bounded(self) -> None:
        """Distinct seconds do not grow the cache without bound."""
        parser = TimestampParser()
        start = datetime(2021, 5, 25, tzinfo=UTC)
        for second in range(10_000):
            stamp = (start + timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")
            assert (start + timedelta(seconds=second)).timestamp() == parser.parse_text(stamp)
        assert len(parser._seconds) <= 4096


class TestSyslogYear:
    def test_fixed_year(self) -> None:
        """`year` pins the year of stamps that carry none."""
        assert epoch(2019, 1, 2, 3, 4, 5) == TimestampParser(year=2019).parse_text(
            "Jan  2 03:04:05"
        )

    def test_year_of_last_dated_line(self) -> None:
        """Without a year or reference, the year of the last fully-dated time is used."""
        parser = TimestampParser()
        parser.parse_text("2021-05-25 01:09:08 +0000 x")
        assert epoch(2021, 7, 5, 9, 13, 44) == parser.parse_text("Jul 05 09:13:44 host x")

    def test_nothing_known_is_1970(self) -> None:
        """With nothing to go by, the year is 1970, so the output stays deterministic."""
        assert epoch(1970, 7, 5, 9, 13, 44) == TimestampParser().parse_text("Jul 05 09:13:44 h x")

    def test_new_year_rolls_over(self) -> None:
        """A stream of syslog stamps crossing New Year moves to the next year."""
        parser = TimestampParser()
        parser.parse_text("2022-12-31T23:00:00Z x")
        assert epoch(2022, 12, 31, 23, 59, 59) == parser.parse_text("Dec 31 23:59:59 h x")
        assert epoch(2023, 1, 1, 0, 0, 1) == parser.parse_text("Jan  1 00:00:01 h x")
        assert epoch(2023, 1, 1, 0, 0, 2) == parser.parse_text("Jan  1 00:00:02 h x")

    def test_slightly_earlier_stamp_keeps_the_year(self) -> None:
        """A stamp a few hours before the last one (merged sources) is not moved a year on."""
        parser = TimestampParser()
        parser.parse_text("2023-03-01T12:00:00Z x")
        assert epoch(2023, 3, 1, 9, 0, 0) == parser.parse_text("Mar  1 09:00:00 h x")

    def test_months_later_stays_in_the_year(self) -> None:
        """Half a year after the last dated line is the same year, not the previous one."""
        parser = TimestampParser()
        parser.parse_text("2023-01-01T00:00:00Z x")
        assert epoch(2023, 7, 5, 9, 13, 44) == parser.parse_text("Jul 05 09:13:44 h x")

    def test_reference_picks_the_year_not_in_the_future(self) -> None:
        """With a reference in early January, a Dec 31 stamp is last year's."""
        parser = TimestampParser()
        parser.set_reference(epoch(2024, 1, 1, 0, 30, 0))
        assert epoch(2023, 12, 31, 23, 0, 0) == parser.parse_text("Dec 31 23:00:00 h x")

    def test_reference_allows_a_day_of_skew(self) -> None:
        """A stamp up to a day after the reference is still this year (clock skew)."""
        parser = TimestampParser()
        parser.set_reference(epoch(2023, 12, 31, 23, 0, 0))
        assert epoch(2024, 1, 1, 1, 0, 0) == parser.parse_text("Jan  1 01:00:00 h x")

    def test_reference_with_a_summer_stamp(self) -> None:
        """A June stamp read in January belongs to the previous June."""
        parser = TimestampParser()
        parser.set_reference(epoch(2024, 1, 10, 0, 0, 0))
        assert epoch(2023, 6, 1, 12, 0, 0) == parser.parse_text("Jun  1 12:00:00 h x")

    def test_leap_day(self) -> None:
        """Feb 29 lands in the nearest leap year, never fails."""
        parser = TimestampParser()
        parser.set_reference(epoch(2025, 3, 1, 0, 0, 0))
        assert epoch(2024, 2, 29, 12, 0, 0) == parser.parse_text("Feb 29 12:00:00 h x")

    def test_fraction(self) -> None:
        """journalctl -o short-precise adds microseconds."""
        parser = TimestampParser(year=2023)
        expected = epoch(2023, 7, 5, 9, 13, 44) + 0.123456
        assert expected == parser.parse_text("Jul 05 09:13:44.123456 host bento[1]: x")


class TestParseRfc3339:
    @pytest.mark.parametrize(
        ("stamp", "expected"),
        [
            ("2021-05-25T01:09:08.123456789Z", epoch(2021, 5, 25, 1, 9, 8) + 0.123456789),
            ("2021-05-25T01:09:08Z", epoch(2021, 5, 25, 1, 9, 8)),
            ("2021-05-25T01:09:08.123+00:00", epoch(2021, 5, 25, 1, 9, 8) + 0.123),
            ("2021-05-25T04:09:08.5+03:00", epoch(2021, 5, 25, 1, 9, 8) + 0.5),
        ],
    )
    def test_envelope_stamps(self, stamp: str, expected: float) -> None:
        """kubectl, CRI and docker stamps, nanoseconds included."""
        assert expected == pytest.approx(TimestampParser().parse_rfc3339(stamp), abs=1e-6)

    @pytest.mark.parametrize(
        "stamp", ["2021-05-25T01:09:08Z x", "2021-05-25", "stdout", "", "2021-05-25T01:09:08Zulu"]
    )
    def test_anything_else_is_none(self, stamp: str) -> None:
        """Only a whole stamp is accepted."""
        assert TimestampParser().parse_rfc3339(stamp) is None


@given(
    st.integers(min_value=0, max_value=4_000_000_000),
    st.text(alphabet="0123456789", min_size=1, max_size=12),
)
def test_a_kubectl_stamp_reads_the_same_as_its_offset_form(second: int, digits: str) -> None:
    """ "...T01:09:08.123Z" (the common envelope shape, read without a regex) gives exactly the
    time "...T01:09:08.123+00:00" gives through the general parser."""
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    parser = TimestampParser()
    for _ in range(2):  # the first call learns the second, the next reads it from the cache
        fast = parser.parse_rfc3339(f"{base}.{digits}Z")
        assert fast == TimestampParser().parse_rfc3339(f"{base}.{digits}+00:00")
