"""What a page draws of a run: which curves, and the Vega-Lite specs and data of its charts."""
