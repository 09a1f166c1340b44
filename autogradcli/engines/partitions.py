"""`Plan.map_partitions`: a compiled plan over every partition of a Dask DataFrame."""

from __future__ import annotations

import numpy as np


class PlanPartition:
    """A compiled plan on one partition of a Dask DataFrame."""

    def __init__(self, plan):
        self.plan = plan

    def __call__(self, frame):
        import pandas as pd

        columns = [np.ascontiguousarray(frame[n].to_numpy(np.float64)) for n in self.plan.inputs]
        flat = self.plan.run_batch(columns, len(frame))
        names = self.plan.columns()
        return pd.DataFrame(dict(zip(names, flat, strict=True)), index=frame.index)


def map_plan(plan, ddf):
    """`Plan.map_partitions`: the plan over every partition; every input must be a column."""
    import pandas as pd

    missing = [n for n in plan.inputs if n not in ddf.columns]
    if missing:
        raise ValueError(
            f"no column for {', '.join(missing)}; the plan's inputs are: {', '.join(plan.inputs)}"
        )
    meta = pd.DataFrame({c: np.zeros(0) for c in plan.columns()})
    return ddf.map_partitions(PlanPartition(plan), meta=meta)
