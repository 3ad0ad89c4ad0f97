"""Two-illegals (两非) detectors: small pure functions with configurable thresholds.

Each returns whether (or where) its pattern holds; the application layer turns a hit
into a signal carrying the ids of the events it rests on.
"""
