"""Customer-experience warehouse."""
