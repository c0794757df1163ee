"""The pure core: embedding, clustering, GP bandit, ROI and stopping. No I/O."""
