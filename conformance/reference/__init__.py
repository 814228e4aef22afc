"""The embedded reference targets: what the suite runs against when no --target is given.

Where things live:
  http_server.py   start_http_server(): the Glance-style app on loopback, in a thread
  cri_server.py    start_cri_server(): the CRI ImageService on a unix socket
  glance/          the Glance-style app, one module per API (app.py routes; v2_read, v2_write, v1_head,
                   v1_1_detail with its own filter rules and their faults in v1_1_filters), its catalogue
                   (images.py) and its other faults (one module per API, tabled in faults.py)
  cri/             the CRI servicer (servicer.py), its catalogue and reference grammar (images.py), its faults
  fault.py         the Fault object: name, operation, requirement broken, also_breaks, and its probe
  faults.py        ALL_FAULTS, GLANCE_FAULTS, CRI_FAULTS by name
  __main__.py      python -m conformance.reference (--list-faults, --http-port, --cri-socket, --fault)
"""
