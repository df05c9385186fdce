"""The valid/ready stream rules, checked cycle by cycle, for cocotb and Amaranth testbenches.

AXI4-Stream (and `amaranth.lib.stream`) require of a source: once valid is high it stays high
until the cycle the sink is ready (the transfer), and the payload does not change meanwhile.
"""


class StreamProtocolError(AssertionError):
    """A source broke the valid/ready rules."""


class ProtocolChecker:
    """Feed it every cycle's (valid, ready, payload) of one stream; it raises
    `StreamProtocolError` when the source withdraws valid or changes the payload before the
    transfer."""

    def __init__(self, name: str):
        self.name = name
        self._pending = None             # payload offered last cycle and not taken

    def cycle(self, valid: bool, ready: bool, payload, when="") -> None:
        at = f" at {when}" if when else ""
        if self._pending is not None:
            if not valid:
                raise StreamProtocolError(f"{self.name}: valid dropped{at} before the "
                                          f"transfer of {self._pending:#x}")
            if payload != self._pending:
                raise StreamProtocolError(f"{self.name}: payload changed from "
                                          f"{self._pending:#x} to {payload:#x}{at} while "
                                          f"stalled")
        self._pending = payload if valid and not ready else None


def checked(port, name: str, domain: str = "sync"):
    """An Amaranth testbench (add it with `background=True`) that checks `port`, an
    `amaranth.lib.stream` interface, at every clock edge of `domain`."""
    checker = ProtocolChecker(name)
    payload = port.payload.as_value() if hasattr(port.payload, "as_value") else port.payload

    async def testbench(ctx):
        cycle = 0
        async for _, _, valid, ready, data in ctx.tick(domain).sample(port.valid, port.ready,
                                                                      payload):
            checker.cycle(bool(valid), bool(ready), int(data), f"cycle {cycle}")
            cycle += 1
    return testbench
