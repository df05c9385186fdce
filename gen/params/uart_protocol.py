"""The UART host-bridge protocol (shared by the gateware, the host library and the tests).

Request (host -> device):  0x55, op, len, payload[len], crc
Reply   (device -> host):  0xAA, status, len, payload[len], crc

`crc` is CRC-8 (polynomial x^8 + x^2 + x + 1, initial value 0, no reflection, no final XOR)
over op/status, len and the payload. Multi-byte values are little-endian. The bridge answers
every request it receives completely, and every broken one it can detect:

| op | name | request payload | reply payload (status OK) |
|---|---|---|---|
| 1 | WRITE | port, then the port's tdata in ceil(width / 8) bytes | none |
| 2 | READ | port | the port's tdata in ceil(width / 8) bytes |
| 3 | STATUS | none | the counters below, 2 bytes each |
| 4 | INFO | none | number of input ports, of output ports, then each port's tdata bytes |

WRITE puts one transfer on input stream `port` (the core's `s_axis_*` ports in name order) and
answers TIMEOUT if the core does not take it within `timeout` cycles (the transfer is then
withdrawn). READ takes one transfer from output stream `port` (`m_axis_*`, name order), or
answers TIMEOUT with no payload if none comes within `timeout` cycles.

Status codes: 0 OK, 1 BAD_CRC, 2 BAD_REQUEST (unknown op, port out of range, or a length that
does not match the op and port), 3 TIMEOUT, 4 TRUNCATED (the request stopped for more than
`byte_timeout` bit times between bytes; the bridge drops it and waits for a new 0x55).

Counters (STATUS, 16 bits each, wrapping): requests answered OK, BAD_CRC, BAD_REQUEST, TIMEOUT,
TRUNCATED, framing errors on the line, bytes that arrived while a request was being executed
or answered (ignored), bytes ignored while waiting for 0x55.
"""

REQUEST_SYNC = 0x55
REPLY_SYNC = 0xAA

WRITE, READ, STATUS, INFO = 1, 2, 3, 4
OK, BAD_CRC, BAD_REQUEST, TIMEOUT, TRUNCATED = 0, 1, 2, 3, 4
STATUS_NAMES = {OK: "OK", BAD_CRC: "BAD_CRC", BAD_REQUEST: "BAD_REQUEST", TIMEOUT: "TIMEOUT",
                TRUNCATED: "TRUNCATED"}
COUNTERS = ("ok", "bad_crc", "bad_request", "timeout", "truncated", "framing_errors",
            "busy_bytes", "junk_bytes")
CRC_POLY = 0x07


def crc8(data: bytes, crc: int = 0) -> int:
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ CRC_POLY) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def request(op: int, payload: bytes = b"") -> bytes:
    body = bytes([op, len(payload)]) + bytes(payload)
    return bytes([REQUEST_SYNC]) + body + bytes([crc8(body)])


def reply(status: int, payload: bytes = b"") -> bytes:
    body = bytes([status, len(payload)]) + bytes(payload)
    return bytes([REPLY_SYNC]) + body + bytes([crc8(body)])


def nbytes(width: int) -> int:
    return (width + 7) // 8


class ParserModel:
    """What the bridge answers to a byte stream, and its counters: the reference the fuzzing
    test holds the gateware to. `execute(op, port, payload)` gives (status, reply length) of a
    well-formed WRITE or READ (the core decides those)."""

    def __init__(self, in_bytes, out_bytes, execute):
        self.in_bytes, self.out_bytes, self.execute = list(in_bytes), list(out_bytes), execute
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.state, self.body = "sync", []

    def _answer(self, status, length=0):
        name = {OK: "ok", BAD_CRC: "bad_crc", BAD_REQUEST: "bad_request", TIMEOUT: "timeout",
                TRUNCATED: "truncated"}[status]
        self.counters[name] += 1
        self.state, self.body = "sync", []
        return status, length

    def feed(self, byte: int):
        """One received byte; returns (status, reply length) when a request completes."""
        if self.state == "sync":
            if byte == REQUEST_SYNC:
                self.state, self.body = "frame", []
            else:
                self.counters["junk_bytes"] += 1
            return None
        self.body.append(byte)
        if len(self.body) < 2 or len(self.body) < self.body[1] + 3:
            return None
        op, length, payload, crc = self.body[0], self.body[1], self.body[2:-1], self.body[-1]
        if crc != crc8(bytes(self.body[:-1])):
            return self._answer(BAD_CRC)
        if op == WRITE and length >= 1 and payload[0] < len(self.in_bytes) \
                and length == self.in_bytes[payload[0]] + 1:
            return self._answer(*self.execute(op, payload[0], bytes(payload[1:])))
        if op == READ and length == 1 and payload[0] < len(self.out_bytes):
            return self._answer(*self.execute(op, payload[0], b""))
        if op == STATUS and length == 0:
            return self._answer(OK, 2 * len(COUNTERS))
        if op == INFO and length == 0:
            return self._answer(OK, 2 + len(self.in_bytes) + len(self.out_bytes))
        return self._answer(BAD_REQUEST)

    def pause(self):
        """The line stayed idle past the byte timeout."""
        if self.state != "sync":
            return self._answer(TRUNCATED)
        return None
