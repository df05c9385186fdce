"""Host library for the UART bridge: the same code talks to a board (pyserial) and to the RTL in
simulation (a port object with the same `write`/`read` methods, see
`cimforge.verif.host.uart_port`).

    from cimforge.fpga.host import Bridge, open_serial
    bridge = Bridge(open_serial("/dev/ttyUSB1", 115200))
    bridge.info()                      # stream ports and their widths
    bridge.write(0, word)              # one transfer into input stream 0 (s_axis_*, name order)
    bridge.read(0)                     # one transfer from output stream 0 (m_axis_*), or None

A port is anything with `write(data: bytes)` and `read(n: int) -> bytes` (which may return
fewer bytes when its timeout expires), like `serial.Serial`.
"""

from dataclasses import dataclass

from ..params import uart_protocol as proto


class BridgeError(RuntimeError):
    """The device answered with an error status, or not at all."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


@dataclass
class PortInfo:
    in_bytes: list[int]
    out_bytes: list[int]


def open_serial(device: str, baud: int = 115_200, timeout: float = 1.0):
    """A pyserial port; raises BridgeError with the reason if it cannot be opened."""
    try:
        import serial
    except ImportError:
        raise BridgeError("pyserial is not installed: pip install pyserial") from None
    try:
        return serial.Serial(device, baud, timeout=timeout)
    except (serial.SerialException, OSError) as error:
        raise BridgeError(f"cannot open {device}: {error}") from None


class Bridge:
    def __init__(self, port):
        self.port = port
        self._info = None

    def transact(self, op: int, payload: bytes = b"") -> tuple[int, bytes]:
        """Send one request, return (status, payload) of its reply."""
        self.port.write(proto.request(op, payload))
        return self.receive()

    def receive(self) -> tuple[int, bytes]:
        head = self.port.read(3)
        if len(head) < 3:
            raise BridgeError(f"no reply (got {head.hex() or 'nothing'})")
        if head[0] != proto.REPLY_SYNC:
            raise BridgeError(f"bad reply start byte {head[0]:#04x}")
        status, length = head[1], head[2]
        rest = self.port.read(length + 1)
        if len(rest) < length + 1:
            raise BridgeError(f"truncated reply ({len(rest)} of {length + 1} bytes)")
        payload, crc = rest[:length], rest[length]
        if crc != proto.crc8(head[1:] + payload):
            raise BridgeError("reply checksum mismatch")
        return status, payload

    def _check(self, status: int, what: str):
        if status != proto.OK:
            raise BridgeError(f"{what}: device answered {proto.STATUS_NAMES.get(status, status)}",
                              status)

    def info(self) -> PortInfo:
        if self._info is None:
            status, payload = self.transact(proto.INFO)
            self._check(status, "INFO")
            n_in, n_out = payload[0], payload[1]
            self._info = PortInfo(list(payload[2:2 + n_in]),
                                  list(payload[2 + n_in:2 + n_in + n_out]))
        return self._info

    def write(self, port: int, value: int) -> None:
        """One transfer into input stream `port`; BridgeError(TIMEOUT) if it was not taken."""
        width = self.info().in_bytes[port]
        status, _ = self.transact(proto.WRITE, bytes([port]) + value.to_bytes(width, "little"))
        self._check(status, f"WRITE to port {port}")

    def read(self, port: int) -> int | None:
        """One transfer from output stream `port`, or None if none came before the timeout."""
        status, payload = self.transact(proto.READ, bytes([port]))
        if status == proto.TIMEOUT:
            return None
        self._check(status, f"READ from port {port}")
        return int.from_bytes(payload, "little")

    def status(self) -> dict[str, int]:
        status, payload = self.transact(proto.STATUS)
        self._check(status, "STATUS")
        return {name: int.from_bytes(payload[2 * i:2 * i + 2], "little")
                for i, name in enumerate(proto.COUNTERS)}
