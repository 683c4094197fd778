"""The use cases: each workflow ties acquisition, hashing, sealing and custody together.

`acquire` and `chain` never import each other; the workflows turn an acquisition result into a
custody event.

This package is the Python API: each evidence-producing use case takes one frozen request and
returns one frozen result (`acquire_disk`, `collect`, `seal`, `convert`, `verify`, `hashing`;
the table is in docs/interfaces.md, "workflows — requests and results"), and reports progress
through `progress.Progress`. Nothing here imports click or the command line.
"""
