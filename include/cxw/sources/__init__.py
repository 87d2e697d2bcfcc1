"""One extractor module per source system: what to read and how to page through it.

Where the rows go (validation, the lake) is ``cxw.landing``'s job.
"""
