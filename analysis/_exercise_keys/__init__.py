"""Answer keys of the notebook exercises (one module per notebook: nbNN.py with EXERCISES)."""
