"""T-sample voting: the RACA core's prediction."""

from amaranth.hdl import Array, Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ...params.raca import RacaParams


class VoteTally(wiring.Component):
    """Counts each sample's winner; the prediction is the class with the most votes, the
    lowest such class on a tie (a running first-maximum, as `golden.raca` takes it).

    A vote takes two cycles (read the count and add one, then write it back and compare);
    the sequencer spends them in its NEXT and VOTE states, so votes never overlap.

    Parameters: `params` (`RacaParams`).

    Attributes:
    * `clear` (in): every count, the top count and the prediction to zero;
    * `vote`, `winner` (in): a sample's winner;
    * `counts`, `prediction` (out): the COUNT and PREDICTION registers.
    """

    def __init__(self, params: RacaParams):
        self.params = params
        super().__init__({
            "clear": In(1),
            "vote": In(1),
            "winner": In(range(params.max_classes)),
            "counts": Out(data.ArrayLayout(params.count_width, params.max_classes)),
            "prediction": Out(range(params.max_classes)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        counts = Array(self.counts[c] for c in range(p.max_classes))
        top_count = Signal(p.count_width)
        winner = Signal.like(self.winner)
        votes = Signal(p.count_width)               # the winner's count after this vote
        adding = Signal()
        m.d.sync += adding.eq(self.vote)
        with m.If(self.vote):
            m.d.sync += [winner.eq(self.winner), votes.eq(counts[self.winner] + 1)]
        with m.If(adding):
            m.d.sync += counts[winner].eq(votes)
            with m.If((votes > top_count) | ((votes == top_count) & (winner < self.prediction))):
                m.d.sync += [top_count.eq(votes), self.prediction.eq(winner)]
        with m.If(self.clear):
            m.d.sync += [self.counts.eq(0), top_count.eq(0), self.prediction.eq(0)]
        return m
