"""Demo company simulator: stands in for the four source systems. The pipeline never imports it."""
