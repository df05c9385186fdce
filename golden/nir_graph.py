"""How cimforge reads a NIR graph, shared by the compiler (`cimforge.nirbridge`) and the float
simulator (`cimforge.golden.nir_reference`): the options that fix NIR's discretisation, the
graph's structure as a chain of nodes, and the settings cimforge keeps in node metadata.
docs/nir.md states the conventions."""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

FIRINGS = (">=", ">")
RESETS = ("zero", "subtract")
OVERFLOWS = ("wrap", "saturate")
LIF_MODES = ("error", "if")
SUPPORTED = ("Input", "Output", "Identity", "Affine", "Linear", "Conv2d", "SumPool2d",
             "AvgPool2d", "Flatten", "IF", "LIF (with lif='if')", "NIRGraph (nested)")
METADATA = "cimforge_"


class NirError(ValueError):
    """A NIR graph cimforge cannot compile; the message names the node and the problem."""


@dataclass(frozen=True)
class CompileOptions:
    """How to read a NIR graph onto the hardware (docs/nir.md). `b_w`/`b_v`: weight and
    membrane bits, one for every layer or a list with one per weighted layer."""
    b_w: int | tuple = 8
    b_v: int | tuple = 16
    reset: str = "zero"
    firing: str = ">="
    overflow: str = "saturate"
    dt: float = 1.0
    lif: str = "error"

    def __post_init__(self):
        for name, choices in (("reset", RESETS), ("firing", FIRINGS),
                              ("overflow", OVERFLOWS), ("lif", LIF_MODES)):
            if getattr(self, name) not in choices:
                raise NirError(f"{name} = {getattr(self, name)!r}: must be one of "
                               f"{', '.join(choices)}")
        if not (isinstance(self.dt, (int, float)) and np.isfinite(self.dt) and self.dt > 0):
            raise NirError(f"dt = {self.dt!r}: must be a positive number")
        for name, lo, hi in (("b_w", 1, 32), ("b_v", 2, 64)):
            for value in np.atleast_1d(getattr(self, name)):
                if int(value) != value or not lo <= value <= hi:
                    raise NirError(f"{name} = {value}: must be an integer in {lo}..{hi}")

    def bits(self, name: str, layer: int, layers: int) -> int:
        values = np.atleast_1d(getattr(self, name))
        if len(values) not in (1, layers):
            raise NirError(f"{name}: {len(values)} values for {layers} weighted layers")
        return int(values[0] if len(values) == 1 else values[layer])


def _flat(graph, prefix=""):
    """Nested subgraphs inlined: (nodes by qualified name, edges). A subgraph's Input and
    Output nodes stay as pass-throughs; an edge to (from) a subgraph's name goes to its only
    Input (from its only Output)."""
    import nir
    nodes, edges = {}, []

    def port(name: str, kind) -> str:
        node = graph.nodes.get(name)
        if not isinstance(node, nir.NIRGraph):
            return prefix + name
        ends = [n for n, sub in node.nodes.items() if isinstance(sub, kind)]
        if len(ends) != 1:
            raise NirError(f"node {prefix + name!r}: a subgraph with {len(ends)} "
                           f"{kind.__name__} nodes; cimforge runs chains (one in, one out)")
        return f"{prefix}{name}.{ends[0]}"

    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            inner_nodes, inner_edges = _flat(node, f"{prefix}{name}.")
            nodes.update(inner_nodes)
            edges += inner_edges
        else:
            nodes[prefix + name] = node
    for src, dst in graph.edges:
        src = prefix + src if "." in src else port(src, nir.Output)
        dst = prefix + dst if "." in dst else port(dst, nir.Input)
        edges.append((src, dst))
    return nodes, edges


def _cycle(nodes, successors) -> str | None:
    """A node on a cycle, if the graph has one (depth-first search, iterative)."""
    state = {}                                   # 1: on the current path, 2: done
    for root in nodes:
        if root in state:
            continue
        stack = [(root, iter(successors[root]))]
        state[root] = 1
        while stack:
            name, nexts = stack[-1]
            for nxt in nexts:
                if state.get(nxt) == 1:
                    return nxt
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(successors[nxt])))
                    break
            else:
                state[name] = 2
                stack.pop()
    return None


def chain(graph) -> list:
    """The graph's nodes from its Input to its Output as one path of (name, node), pass-
    throughs (Identity, a subgraph's Input/Output) dropped."""
    import nir
    nodes, edges = _flat(graph)
    for src, dst in edges:
        for end in (src, dst):
            if end not in nodes:
                raise NirError(f"edge {src!r} -> {dst!r}: no node {end!r}")
    successors, predecessors = defaultdict(list), defaultdict(list)
    for src, dst in edges:
        successors[src].append(dst)
        predecessors[dst].append(src)
    top_inputs = [n for n, node in graph.nodes.items() if isinstance(node, nir.Input)]
    top_outputs = [n for n, node in graph.nodes.items() if isinstance(node, nir.Output)]
    if len(top_inputs) != 1 or len(top_outputs) != 1:
        raise NirError(f"the graph has {len(top_inputs)} Input and {len(top_outputs)} Output "
                       f"nodes; cimforge runs chains with one of each")
    looped = _cycle(nodes, successors)
    if looped:
        raise NirError(f"node {looped!r}: the graph has a cycle through it (recurrent "
                       f"connections are not supported: the hardware runs layer after layer, "
                       f"each once per timestep)")
    path, seen, name = [], set(), top_inputs[0]
    while True:
        seen.add(name)
        if len(predecessors[name]) > 1:
            raise NirError(f"node {name!r}: {len(predecessors[name])} inputs "
                           f"({', '.join(predecessors[name])}); cimforge runs chains of layers")
        path.append((name, nodes[name]))
        if name == top_outputs[0]:
            break
        nexts = successors[name]
        if len(nexts) != 1:
            raise NirError(f"node {name!r}: feeds {len(nexts)} nodes"
                           + (f" ({', '.join(nexts)})" if nexts else ", so the output is "
                              "not reached from the input")
                           + "; cimforge runs chains of layers")
        name = nexts[0]
    stray = sorted(set(nodes) - seen)
    if stray:
        raise NirError(f"node {stray[0]!r}: not on the path from the input to the output")
    passthrough = (nir.ir.graph.Identity, nir.Input, nir.Output)
    return [path[0]] + [(n, node) for n, node in path[1:-1]
                        if not isinstance(node, passthrough)] + [path[-1]]


def setting(node, key: str, default):
    """A cimforge setting from the node's metadata (as written by `to_nir`), or `default`."""
    value = (getattr(node, "metadata", None) or {}).get(METADATA + key, default)
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    return value.decode() if isinstance(value, bytes) else value



def input_shape(name: str, node) -> tuple:
    """The shape an Input node gives: (n,) or (C, H, W), a leading batch dimension of 1
    dropped."""
    shape = tuple(int(n) for n in np.atleast_1d(node.input_type["input"]))
    if len(shape) in (2, 4) and shape[0] == 1:       # a leading batch dimension of 1
        shape = shape[1:]
    if len(shape) not in (1, 3):
        raise NirError(f"node {name!r}: input shape {shape}; cimforge takes (n,) or "
                       f"(channels, height, width)")
    return shape


def sequence(input_shape, *named):
    """A chain graph: Input, the (name, node) pairs in order, Output (shaped like the last
    node's output)."""
    import nir
    nodes = {"input": nir.Input(input_type={"input": np.array(input_shape)})}
    nodes.update(named)
    last = named[-1][1]
    shape = last.r.shape if hasattr(last, "r") else last.output_type["output"]
    nodes["output"] = nir.Output(output_type={"output": np.array(shape)})
    names = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(names, names[1:])), type_check=False)
