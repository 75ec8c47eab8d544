"""``python -m seqtips.bench``: wall time and peak memory of each notebook (see seqtips/tools/bench.py)."""

if __name__ == "__main__":
    from seqtips.tools.bench import main

    raise SystemExit(main())
