"""The Display objects, one module each, and what they share.

Private: the public import path is :mod:`skweighting.plotting`. Nothing
here imports matplotlib at import time; :mod:`._ticks` does, and is
imported only while plotting.
"""
