"""``python -m seqtips.evidence``: run notebooks under many seeds and report how often each verdict held.

The code is in seqtips/tools/evidence.py; see ``python -m seqtips.evidence --help``.
"""

if __name__ == "__main__":
    from seqtips.tools.evidence import main

    raise SystemExit(main())
