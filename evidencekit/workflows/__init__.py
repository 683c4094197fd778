"""The use cases: each workflow ties acquisition, hashing, sealing and custody together.

`acquire` and `chain` never import each other; the workflows turn an acquisition result into a
custody event.
"""
