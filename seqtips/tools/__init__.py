"""Commands that are not lesson code: the benchmark and the evidence sweep.

``python -m seqtips.bench`` and ``python -m seqtips.evidence``; nothing in the core imports them. They
need the ``tools`` extra (``pip install seqtips[tools]``: nbclient, nbformat, ipykernel).
"""
