"""Envelopes that log collectors wrap around an application's line, and how to take them off.

Each unwrapper is pure and stateless: it takes one decoded physical line and returns the
message inside, the envelope's time and its pod / unit / service, or None when the line does
not have that envelope (the caller then treats it as a plain record: garbage is data).
Joining docker/CRI partials and tracebacks is the framer's job.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from logscan.timestamps import TimestampParser


class InputFormat(enum.StrEnum):
    """How the input is wrapped; AUTO recognises each line's envelope on its own."""

    AUTO = "auto"
    PLAIN = "plain"
    KUBECTL = "kubectl"
    JOURNALD = "journald"
    DOCKER = "docker"
    CRI = "cri"
    COMPOSE = "compose"
    SYSLOG = "syslog"


class Unwrapped(NamedTuple):
    """The message inside an envelope.

    `key` says which records may be joined with each other (a kubectl pod's container, a
    docker stream); `group` is what `Line.group` reports. `partial` marks a docker/CRI piece
    that the next piece of the same key continues.
    """

    key: str
    group: str
    ts: float | None
    text: str
    partial: bool = False


Unwrapper = Callable[[str], "Unwrapped | None"]

# journalctl short / short-iso (and RFC 3164 syslog): "Jul 05 09:13:44 host bento[1234]: msg",
# "2023-07-05T09:13:44+0000 host bento[1234]: msg"; short-precise adds ".123456".
_SYSLOG_LINE = re.compile(
    r"(?P<stamp>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) "
    r"\S+ (?P<ident>[^\s\[\]:]+)(?P<pid>\[\d+\])?: ?",
)
# docker compose: "bento-1  | msg" (v2: service-N), "proj_bento_1  | msg" (v1), padded to the
# widest name. Without the -N replica suffix (container_name:) only when forced.
_COMPOSE = re.compile(r"([A-Za-z0-9][\w.-]*?)[-_]\d+ +\|(?: |$)")
_COMPOSE_LOOSE = re.compile(r"([A-Za-z0-9][\w.-]*?)(?:[-_]\d+)? +\|(?: |$)")
_CRI_STREAMS = ("stdout ", "stderr ")
# ECMA-48 CSI sequences (colours "\x1b[31m", cursor moves): ESC [ parameters intermediates final.
ANSI_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


class Unwrappers:
    """The envelope functions, bound to one timestamp parser; `select` picks one per format."""

    __slots__ = ("_ts",)

    def __init__(self, timestamps: TimestampParser) -> None:
        self._ts = timestamps

    def select(self, input_format: InputFormat) -> Unwrapper | None:
        """The unwrapper for `input_format`; None for PLAIN."""
        table: dict[InputFormat, Unwrapper | None] = {
            InputFormat.AUTO: self.auto,
            InputFormat.PLAIN: None,
            InputFormat.KUBECTL: lambda text: self.kubectl(text, strict=False),
            InputFormat.JOURNALD: self.journald,
            InputFormat.DOCKER: lambda text: self.json(text, journald=False, docker=True),
            InputFormat.CRI: self.cri,
            InputFormat.COMPOSE: lambda text: self.compose(text, strict=False),
            InputFormat.SYSLOG: lambda text: self.syslog(text, strict=False),
        }
        return table[input_format]

    def auto(self, text: str) -> Unwrapped | None:
        """Recognise any envelope by its first character, so plain lines cost one compare."""
        head = text[:1]
        if head == "[":
            return self.kubectl(text, strict=True) if text.startswith("[pod/") else None
        if head == "{":
            return self.json(text, journald=True, docker=True)
        if "0" <= head <= "9":
            return self._auto_stamped(text) if text[10:11] == "T" else None
        return self._auto_named(text) if head.isalnum() else None

    def _auto_stamped(self, text: str) -> Unwrapped | None:
        # CRI, kubectl --timestamps and journalctl -o short-iso all start with an RFC 3339 stamp
        if text[4:5] != "-":
            return None
        # the journald shape ("ident[pid]: ") is the most specific, so it goes before kubectl's
        # bare stamp; the substring test spares kubectl lines the regex
        journald = self.syslog(text, strict=True) if "]: " in text else None
        return self.cri(text) or journald or self.kubectl(text, strict=True)

    def _auto_named(self, text: str) -> Unwrapped | None:
        # journalctl short starts with a month name, docker compose with the service name
        found = self.syslog(text, strict=True) if text[3:4] == " " else None
        return found or self.compose(text, strict=True)

    def kubectl(self, text: str, *, strict: bool) -> Unwrapped | None:
        """`kubectl logs --prefix --timestamps`: "[pod/NAME/CONTAINER] RFC3339 message".

        Either part may be missing. In AUTO (`strict`) a bare leading stamp needs "Z" or
        "±hh:mm" so BentoML's own "2023-07-12T11:15:06+0000 [INFO]" stays in the message.
        """
        key = group = ""
        rest = text
        if text.startswith("[pod/"):
            end = text.find("]")
            if end < 0 or text[end + 1 : end + 2] not in (" ", ""):
                return None
            key = text[: end + 1]  # pod and container: containers of a pod are not joined
            group = text[5:end].partition("/")[0]
            rest = text[end + 2 :]
        stamp, message = self._leading_stamp(rest, strict=strict)
        if stamp is None and not key:
            return None
        return Unwrapped(key, group, stamp, message)

    def cri(self, text: str) -> Unwrapped | None:
        """CRI log file (kubelet, containerd, cri-o): "RFC3339 stderr F message", P = partial."""
        space = text.find(" ")
        after = text[space + 1 :]
        stream = after[:7]
        tag = after[7:9]
        if space < 0 or stream not in _CRI_STREAMS or tag not in ("F ", "P ", "F", "P"):
            return None
        stamp = self._ts.parse_rfc3339(text[:space])
        if stamp is None:
            return None
        return Unwrapped("\0" + stream, "", stamp, after[9:], partial=tag[0] == "P")

    def journald(self, text: str) -> Unwrapped | None:
        """`journalctl -o json`, or its default short / short-iso text when forced."""
        if text[:1] == "{":
            return self.json(text, journald=True, docker=False)
        return self.syslog(text, strict=False)

    def json(self, text: str, *, journald: bool, docker: bool) -> Unwrapped | None:
        """A journald export (`journalctl -o json`) or docker json-file object."""
        try:
            record = json.loads(text)
        except (ValueError, RecursionError):  # not JSON after all: a plain line
            return None
        if not isinstance(record, dict):
            return None
        if docker and isinstance(record.get("log"), str):
            found = self._docker(record)
        elif journald and ("MESSAGE" in record or "__REALTIME_TIMESTAMP" in record):
            found = _journald(record)
        else:
            return None
        if "\x1b" in found.text:  # escaped as \u001b inside JSON, so not stripped before
            return found._replace(text=ANSI_CSI.sub("", found.text))
        return found

    def _docker(self, record: dict[str, Any]) -> Unwrapped:
        # moby daemon/logger/jsonfilelog: "log" keeps the "\n"; a line longer than 16 KiB is
        # written as pieces without it, the last piece ending the line.
        log: str = record["log"]
        partial = not log.endswith("\n")
        message = log if partial else log[:-1].removesuffix("\r")
        stamp = record.get("time")
        ts = self._ts.parse_rfc3339(stamp) if isinstance(stamp, str) else None
        stream = record.get("stream")
        key = "\0" + (stream if isinstance(stream, str) else "")
        return Unwrapped(key, "", ts, message, partial=partial)

    def syslog(self, text: str, *, strict: bool) -> Unwrapped | None:
        """journalctl short format: "Jul 05 09:13:44 host bento[1234]: message".

        In AUTO (`strict`) only the full "host ident[pid]: " shape counts; the identifier
        becomes the group.
        """
        found = _SYSLOG_LINE.match(text)
        if found is None or (strict and found.group("pid") is None):
            return None
        ident = found.group("ident")
        stamp = self._ts.parse_text(found.group("stamp"))
        return Unwrapped(ident, ident, stamp, text[found.end() :])

    def compose(self, text: str, *, strict: bool) -> Unwrapped | None:
        """`docker compose logs`: "bento-1  | message", with `-t` a stamp after the bar."""
        if text.find("|", 0, 120) < 0:
            return None
        found = (_COMPOSE if strict else _COMPOSE_LOOSE).match(text)
        if found is None:
            return None
        service = found.group(1)
        stamp, message = self._leading_stamp(text[found.end() :], strict=True)
        return Unwrapped(service, service, stamp, message)

    def _leading_stamp(self, text: str, *, strict: bool) -> tuple[float | None, str]:
        """Split "RFC3339 message" (kubectl --timestamps); (None, text) when there is none."""
        if text[10:11] != "T" or text[4:5] != "-":
            return None, text
        space = text.find(" ")
        token = text if space < 0 else text[:space]
        if strict and token[-1:] != "Z" and (token[-3:-2] != ":" or token[-6:-5] not in "+-"):
            return None, text
        stamp = self._ts.parse_rfc3339(token)
        if stamp is None:
            return None, text
        return stamp, ("" if space < 0 else text[space + 1 :])


def _journald(record: dict[str, Any]) -> Unwrapped:
    # systemd JSON export format: MESSAGE is a string, an array of bytes when it is not valid
    # UTF-8, or null; __REALTIME_TIMESTAMP is a decimal string of µs since the epoch.
    message = record.get("MESSAGE")
    if isinstance(message, list):
        try:
            message = bytes(message).decode("utf-8", "replace")
        except (TypeError, ValueError):  # not byte values: keep what can be read
            message = str(message)
    elif not isinstance(message, str):
        message = "" if message is None else str(message)
    try:
        ts: float | None = int(record["__REALTIME_TIMESTAMP"]) / 1e6
    except (KeyError, TypeError, ValueError):
        ts = None
    group = ""
    for field in ("_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER", "_COMM"):
        value = record.get(field)
        if isinstance(value, str) and value:
            group = value
            break
    return Unwrapped(group, group, ts, message)
