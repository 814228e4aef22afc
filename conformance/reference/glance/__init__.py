"""The Glance-style reference app, one module per API.

app.py routing and versions · v2_read.py show, list, schemas · v2_write.py create, upload, update, delete ·
v1_head.py v1 HEAD · v1_1_detail.py v1.1 detail and its filter engine · v2_list.py v2 list ·
v2_show_faults.py, v1_head_faults.py, v1_1_detail_faults.py, v2_list_faults.py the faults of each API with their
probes (fault_probes.py what the probes share) · faults.py the table of every fault ·
images.py the catalogue · state.py one app's records · paging.py, responses.py shared helpers ·
probe.py the raw HTTP client the fault probes use · image_schema.json what /v2/schemas/image serves.
"""
