"""Files and links: checkpoints (written for ``torch.load``, read without it), the run as a
PyTorch script or modules, and the link that holds a run's settings and schedule."""
