"""Looking at a run: the numbers and views computed from its networks and history (metrics,
the optimal discriminator and JSD, forces, the D map, events)."""
