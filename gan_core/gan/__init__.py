"""The GAN: its settings, networks, losses and curve families, how one step trains, and the
plain data of a run (history, schedule, state). Everything else in ``gan_core`` builds on this."""
