"""The reference CRI runtime: servicer.py answers ImageStatus and ListImages over images.py (the catalogue and
the reference grammar); faults.py declares every fault with its probe; probe.py is the gRPC client probes use.
Starting it: conformance/reference/cri_server.py.
"""
