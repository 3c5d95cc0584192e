"""Serving many visitors from one process: a visitor's session, the pacing of its ticks, the
crowd that shares the server's time, and stability-map runs sliced into ticks."""
