"""A run over time: the ``Trainer`` a notebook or the page holds, its snapshots and ghosts, and
grids of runs trained together (``BatchedTrainer``)."""
