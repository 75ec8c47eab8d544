"""One companion module per notebook: the helpers only that notebook needs (they import the core)."""
