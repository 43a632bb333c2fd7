"""The local edge: serves each distribution in the emulator on loopback as CloudFront would.

Cache semantics are reported in response headers, not simulated: every request
goes to its origin.
"""
