"""Log-depth scans across the columns of a row, segmented by run-time lanes.

Lanes are set per column at run time, so a lane may span up to `span` columns (the macro's
`max_lane`, up to the whole row): a ripple through its columns would make the widest lane the
critical path. These Kogge-Stone scans take ceil(log2(span)) levels whatever the lane shape:
after k levels every column has combined the 2**k columns next to it, which covers its whole
segment when no segment is longer than 2**k.

Carries are functions x -> G | (P & x) ("generate", "propagate"); composing two of them is again
one: (G2, P2) after (G1, P1) = (G2 | P2 & G1, P2 & P1).

Each level is registered in signals of its own (combinationally), which keeps the expressions
shallow for the simulator and the netlist readable.
"""

from amaranth.hdl import Signal


def named_signals(m, name: str, values: list, domain: str = "comb", *,
                  reset_less: bool = False) -> list:
    """One 1-bit signal `<name>_<i>` per value, driven in `domain`."""
    out = []
    for i, value in enumerate(values):
        sig = Signal(name=f"{name}_{i}", reset_less=reset_less)
        m.d[domain] += sig.eq(value)
        out.append(sig)
    return out


def carry_prefix(m, name: str, leaves: list[tuple], span: int) -> list:
    """G of the composition of leaves[0..i], for every i (leaves[i] is applied after
    leaves[i-1]). Segments start where a leaf has P = 0: its G is the segment's start value.
    Segments are at most `span` leaves long."""
    g = [leaf[0] for leaf in leaves]
    p = [leaf[1] for leaf in leaves]
    distance = 1
    while distance < min(span, len(leaves)):
        g, p = (named_signals(m, f"{name}_g{distance}", [g[i] | (p[i] & g[i - distance])
                                                  if i >= distance else g[i]
                                                  for i in range(len(leaves))]),
                named_signals(m, f"{name}_p{distance}", [p[i] & p[i - distance]
                                                  if i >= distance else p[i]
                                                  for i in range(len(leaves))]))
        distance *= 2
    return g


def carry_suffix(m, name: str, leaves: list[tuple], ends: list, span: int) -> list[tuple]:
    """For every i, (G, P) of leaves[i], leaves[i+1], ... up to and including the first j >= i
    with ends[j] set, composed in that order (leaves[i] applied first); j - i < `span`."""
    n = len(leaves)
    g = [leaf[0] for leaf in leaves]
    p = [leaf[1] for leaf in leaves]
    closed = list(ends)
    distance = 1
    while distance < min(span, n):
        ng, np_, nc = [], [], []
        for i in range(n):
            if i + distance < n:
                j = i + distance         # the range above, applied after ours unless we closed
                ng.append(closed[i] & g[i] | ~closed[i] & (g[j] | (p[j] & g[i])))
                np_.append(closed[i] & p[i] | ~closed[i] & p[j] & p[i])
                nc.append(closed[i] | closed[j])
            else:
                ng.append(g[i])
                np_.append(p[i])
                nc.append(closed[i])
        g = named_signals(m, f"{name}_g{distance}", ng)
        p = named_signals(m, f"{name}_p{distance}", np_)
        closed = named_signals(m, f"{name}_c{distance}", nc)
        distance *= 2
    return list(zip(g, p))


def broadcast_down(m, name: str, values: list[tuple], ends: list, span: int) -> list[tuple]:
    """For every i, the tuple values[j] at the first j >= i with ends[j] set, if j - i < `span`
    (a lane's MSB values, at every column of the lane); zeros where there is none. The tuple
    members share one scan of `ends`."""
    n = len(values)
    width = len(values[0])
    closed = list(ends)
    value = [tuple(closed[i] & v for v in values[i]) for i in range(n)]   # 0 unless closed
    distance = 1
    while distance < min(span, n):
        value = list(zip(*(
            named_signals(m, f"{name}{k}_v{distance}",
                   [value[i][k] | (~closed[i] & value[i + distance][k])
                    if i + distance < n else value[i][k] for i in range(n)])
            for k in range(width))))
        closed = named_signals(m, f"{name}_c{distance}", [closed[i] | closed[i + distance]
                                                   if i + distance < n else closed[i]
                                                   for i in range(n)])
        distance *= 2
    return value
